/**
 * `npm start`: the demo. Today it shows the daemon skeleton's lifecycle on a
 * simulated clock over one IST session — lock, ledger, start, the session
 * running, a clean stop, and the ledger verified at the end. The simulator
 * (market data, paper fills) plugs into this same narrative when it lands.
 * Ctrl-C at any time stops it cleanly.
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Daemon } from '../app/daemon.js';
import { describe } from '../app/narrator.js';
import { stopOnSignals } from '../app/signals.js';
import { SimClock, formatIst, istToMillis } from '../core/clock.js';
import { loadConfig } from '../core/config.js';
import { ledgerFiles, verify } from '../core/ledger.js';
import { createLogger } from '../core/log.js';
import { EXIT_FAILED, EXIT_OK, type Command, UsageError } from './command.js';

const DEMO_DATE = '2024-01-02';

const demo: Command = {
  summary: 'the paper-trading demo on a simulated session (what `npm start` runs)',
  usage: 'usage: rustro demo [--config FILE] [--pace-ms N]   (default config.example.toml; N real ms per simulated minute, default 8)',
  async main(args, io) {
    let values: { config?: string | undefined; 'pace-ms'?: string | undefined };
    try {
      ({ values } = parseArgs({ args, options: { config: { type: 'string' }, 'pace-ms': { type: 'string' } }, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const pace = Number(values['pace-ms'] ?? 8);
    if (!Number.isFinite(pace) || pace < 0) throw new UsageError(`--pace-ms must be a number ≥ 0, got '${values['pace-ms']}'`);

    // The demo needs no credentials until it talks to the simulator.
    const { config: base } = loadConfig(values.config ?? 'config.example.toml', { requireSecrets: false });
    // Its own directory, emptied each run, so a demo never mixes with a real ledger.
    const dataDir = join(base.app.data_dir, 'demo');
    rmSync(dataDir, { recursive: true, force: true });
    const config = { ...base, app: { ...base.app, data_dir: dataDir } };

    const clock = new SimClock(istToMillis(DEMO_DATE, '09:00'));
    const say = (line: string): void => io.out(`${formatIst(clock.now()).slice(11, 19)}  ${line}`);
    io.out(`Rustro demo — paper mode on a simulated clock, session of ${DEMO_DATE} (IST)`);
    io.out(`data: ${relative(process.cwd(), dataDir) || '.'}   (Ctrl-C stops cleanly at any time)\n`);

    const daemon = await Daemon.start({
      config,
      clock,
      log: createLogger({ level: 'warn', format: config.app.log_format }),
      onEvent: (e) => {
        const text = describe(e);
        if (text !== undefined) say(text);
      },
    });
    let interrupted = false;
    const detach = stopOnSignals(daemon, { timeoutSec: config.app.shutdown_timeout_sec, say, onSignal: () => (interrupted = true) });

    const open = istToMillis(DEMO_DATE, '09:15');
    const close = istToMillis(DEMO_DATE, '15:30');
    clock.setTimer(open, () => say('session open (NSE 09:15–15:30); market data arrives when the simulator lands'));
    for (let t = open + 3_600_000; t < close; t += 3_600_000) {
      clock.setTimer(t, () => say(`session running — ${daemon.bus.deliveredCount} events so far, ledger at seq ${daemon.ledger.lastSeq}`));
    }
    clock.setTimer(close, () => say('session closed'));
    while (!interrupted && clock.now() < close) {
      clock.advanceBy(60_000);
      await sleep(pace);
    }
    if (!interrupted) await daemon.stop('end of the demo session');
    await daemon.stopped;
    detach();

    const files = ledgerFiles(join(dataDir, 'ledger'));
    io.out('');
    for (const f of files) {
      const report = await verify(f);
      io.out(`ledger ${relative(process.cwd(), f)}: ${report.lines} events, seq ${report.firstSeq}–${report.lastSeq}, ${report.ok ? 'hash chain verified' : `${report.problems.length} problem(s)`}`);
    }
    io.out(`inspect it: npm run rustro -- ledger tail --data-dir ${relative(process.cwd(), dataDir)}`);
    return daemon.fatalError === undefined ? EXIT_OK : EXIT_FAILED;
  },
};
export default demo;
