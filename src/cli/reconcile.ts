/**
 * `rustro reconcile --adopt|--flatten [--data-dir D]`: an operator's decision
 * about a reconciliation mismatch (a broker position the ledger cannot
 * explain). It leaves a `RECONCILE` file in the data directory; the running
 * daemon acts on it within a second (a stopped one at its next start):
 * `--adopt` takes unknown positions into the books as they are, `--flatten`
 * exits the positions the books disagree on. Either lifts the reduce-only
 * halt; the ledger records the decision (`ReconciliationResolved`).
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isAlive, readLockFile } from '../app/lock.js';
import { RECONCILE_FILE } from '../trading/reconciler.js';
import { EXIT_FAILED, EXIT_OK, type Command, type Io, UsageError } from './command.js';

const usage = `usage: rustro reconcile --adopt|--flatten [--data-dir D]
  --adopt     take broker positions the ledger does not know into the books as they are
  --flatten   exit the positions the broker's and the ledger's books disagree on
  --data-dir  the daemon's data directory (default "data")`;

const command: Command = {
  summary: 'decide about a reconciliation mismatch: --adopt or --flatten',
  usage,
  async main(args: string[], io: Io): Promise<number> {
    let values: { adopt?: boolean | undefined; flatten?: boolean | undefined; 'data-dir'?: string | undefined };
    try {
      ({ values } = parseArgs({ args, options: { adopt: { type: 'boolean' }, flatten: { type: 'boolean' }, 'data-dir': { type: 'string' } }, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.adopt === values.flatten) throw new UsageError('say exactly one of --adopt or --flatten');
    const dir = values['data-dir'] ?? 'data';
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      io.err(`rustro reconcile: ${dir} is not a directory (the daemon's data directory, --data-dir)`);
      return EXIT_FAILED;
    }
    const decision = values.adopt === true ? 'adopt' : 'flatten';
    writeFileSync(join(dir, RECONCILE_FILE), `${decision}\n`, { mode: 0o600 });
    const lock = readLockFile(dir);
    const running = lock !== undefined && isAlive(lock);
    io.out(running
      ? `decision '${decision}' left for the running daemon (pid ${lock.pid}); it acts within a second — see ReconciliationResolved in the ledger`
      : `decision '${decision}' left in ${join(dir, RECONCILE_FILE)}; no daemon is running: it is acted on at the next start, after reconciliation`);
    return EXIT_OK;
  },
};

export default command;
