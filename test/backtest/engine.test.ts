/**
 * The backtest is the live pipeline on history: a bundled day backtested
 * equals a paper session of the same day and seed against the simulator,
 * trade for trade; two runs of the same inputs write the same ledger, byte
 * for byte; and the ledger is a normal one (`rustro ledger verify` reads it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimSession } from '../../src/app/sim-session.js';
import { runBacktest } from '../../src/backtest/engine.js';
import { type Config, defaultConfig } from '../../src/core/config.js';
import type { Payload, RustroEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/log.js';
import { playToClose } from '../e2e/support/sim-day.js';
import ledgerCommand from '../../src/cli/ledger.js';
import { runCommand } from '../support/cli.js';

const DAY = '2024-02-21';
const SEED = 9;
const dir = mkdtempSync(join(tmpdir(), 'rustro-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = () => silentLogger();
const withDir = (d: string): Config => {
  const c = defaultConfig();
  return { ...c, app: { ...c.app, data_dir: d } };
};
const closed = (events: RustroEvent[]): Omit<Payload<'PositionClosed'>, 'positionId'>[] =>
  events.flatMap((e) => (e.type === 'PositionClosed' ? [(({ positionId: _, ...rest }) => rest)(e.data)] : []));

async function paperSession(): Promise<RustroEvent[]> {
  const data = join(dir, 'paper');
  const s = await startSimSession({ config: defaultConfig(), dataDir: data, day: DAY, seed: SEED, log: quiet() });
  await playToClose(s);
  return readFileSync(join(data, 'ledger', `${DAY}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RustroEvent);
}

describe('backtest', () => {
  it('a bundled day equals a paper session of the same day against the simulator, trade for trade', async () => {
    const bt = await runBacktest({ config: withDir(join(dir, 'a')), from: DAY, to: DAY, seed: SEED, log: quiet() });
    const paper = closed(await paperSession());
    expect(paper.length).toBeGreaterThanOrEqual(2);
    const ledger = readFileSync(bt.ledgerFiles[0]!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RustroEvent);
    expect(closed(ledger)).toEqual(paper);
    expect(bt.trades.map((t) => t.netPnl)).toEqual(paper.map((t) => t.netPnl));
  }, 180_000);

  it('the same inputs write a byte-identical ledger (same hash); the ledger verifies', async () => {
    const one = await runBacktest({ config: withDir(join(dir, 'b')), from: DAY, to: DAY, seed: SEED, log: quiet() });
    rmSync(join(dir, 'b'), { recursive: true, force: true });
    const two = await runBacktest({ config: withDir(join(dir, 'b')), from: DAY, to: DAY, seed: SEED, log: quiet() });
    expect(two.ledgerHash).toMatch(/^[0-9a-f]{64}$/);
    expect(two.ledgerHash).toBe(one.ledgerHash);
    expect(two.trades.length).toBeGreaterThanOrEqual(2);
    const other = await runBacktest({ config: withDir(join(dir, 'c')), from: DAY, to: DAY, seed: SEED + 1, log: quiet() });
    expect(other.ledgerHash).not.toBe(one.ledgerHash);
    const verify = await runCommand(ledgerCommand, 'verify', '--all', '--data-dir', join(dir, 'b'));
    expect(verify.code, verify.err.join('\n')).toBe(0);
  }, 180_000);
});
