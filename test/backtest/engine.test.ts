/**
 * The backtest is the live pipeline on history: a bundled day backtested
 * equals a paper session of the same day and seed against the simulator,
 * trade for trade; two runs of the same inputs write the same ledger, byte
 * for byte; and the ledger is a normal one (`rustro ledger verify` reads it).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimSession } from '../../src/app/sim-session.js';
import { runBacktest } from '../../src/backtest/engine.js';
import { istDate, istToMillis } from '../../src/core/clock.js';
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

const readLedger = (files: string[]): RustroEvent[] =>
  files.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RustroEvent));

/** A paper daemon against the simulator from `day` for `days` consecutive trading days, never restarted: its ledger. */
async function paperSession(name: string, day = DAY, days = 1): Promise<RustroEvent[]> {
  const data = join(dir, name);
  const s = await startSimSession({ config: defaultConfig(), dataDir: data, day, days, seed: SEED, log: quiet() });
  await playToClose(s);
  const ledger = join(data, 'ledger');
  return readLedger(readdirSync(ledger).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(ledger, f)));
}

describe('backtest', () => {
  it('a bundled day equals a paper session of the same day against the simulator, trade for trade', async () => {
    const bt = await runBacktest({ config: withDir(join(dir, 'a')), from: DAY, to: DAY, seed: SEED, log: quiet() });
    const paper = closed(await paperSession('paper'));
    expect(paper.length).toBeGreaterThanOrEqual(2);
    expect(closed(readLedger(bt.ledgerFiles))).toEqual(paper);
    expect(bt.trades.map((t) => t.netPnl)).toEqual(paper.map((t) => t.netPnl));
  }, 180_000);

  it('consecutive days are one daemon through nights and mornings, as a paper daemon left running against the simulator', async () => {
    const [first, last] = ['2024-02-12', '2024-02-14'];
    const bt = await runBacktest({ config: withDir(join(dir, 'days')), from: first, to: last, seed: SEED, log: quiet() });
    expect(bt.days.map((d) => d.date)).toEqual(['2024-02-12', '2024-02-13', '2024-02-14']);
    expect(bt.ledgerFiles.map((f) => basename(f))).toEqual(['2024-02-12.jsonl', '2024-02-13.jsonl', '2024-02-14.jsonl']);
    const events = readLedger(bt.ledgerFiles);
    expect(events.filter((e) => e.type === 'DaemonStarted')).toHaveLength(1);
    // Each morning brings that day's instrument master (new expiries), as the live morning routine does.
    expect(events.filter((e) => e.type === 'InstrumentsLoaded').map((e) => istDate(e.ts))).toEqual(bt.days.map((d) => d.date));
    const paperEvents = await paperSession('paper-days', first, 3);
    const paper = closed(paperEvents);
    expect(paper.length).toBeGreaterThanOrEqual(3);
    expect(closed(events)).toEqual(paper);
    const closedOn = (day: string): number => paperEvents.filter((e) => e.type === 'PositionClosed' && istDate(e.ts) === day).length;
    expect(bt.days.map((d) => d.trades)).toEqual(bt.days.map((d) => closedOn(d.date)));
  }, 300_000);

  it('writes the ledger as it goes: a day is on disk by the next close, not held in memory to the end', async () => {
    const sessions = ['2024-01-02', '2024-01-09'];
    const lines = (f: string): number => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').length - 1 : 0);
    const out = join(dir, 'as-it-goes');
    const file = (day: string): string => join(out, 'ledger', `${day}.jsonl`);
    // At each close: how many lines the day before has on disk.
    const seen: { day: string; before: string; lines: number }[] = [];
    let before: string | undefined;
    // NIFTY alone: BANKNIFTY's ticks would fill NIFTY's silences (see the FeedStale check below).
    const config = withDir(out);
    const bt = await runBacktest({
      config: { ...config, strategy: { ...config.strategy, underlyings: ['NIFTY'] } }, from: sessions[0]!, to: sessions[1]!, seed: SEED, ticksPerBar: 4, log: quiet(),
      onDay: ({ day }) => {
        if (before !== undefined) seen.push({ day, before, lines: lines(file(before)) });
        before = day;
      },
    });
    expect(bt.days).toHaveLength(6);
    expect(seen).toHaveLength(5);
    // A day with no trade has no durable record to force a write: the driver drains the ledger at each close.
    const byClose = (day: string): number => readLedger([file(day)]).filter((e) => e.ts < istToMillis(day, '15:30')).length;
    for (const s of seen) expect(s.lines, `${s.before} at the close of ${s.day}`).toBeGreaterThanOrEqual(byClose(s.before));
    // At 4 ticks a bar, up to two 15 s slots pass between index ticks, and each reaches the daemon at the end of its
    // 250 ms step: the generator's pace, which must not read as a silent feed (that pauses entries).
    expect(readLedger(bt.ledgerFiles).filter((e) => e.type === 'FeedStale').map((e) => new Date(e.ts).toISOString())).toEqual([]);
  }, 120_000);

  it('a traded option streams while it is held or ordered, not until it expires', async () => {
    const c = withDir(join(dir, 'streams'));
    const config: Config = { ...c, strategy: { ...c.strategy, active: 'supertrend-scalper', underlyings: ['NIFTY'] } };
    const bt = await runBacktest({ config, from: DAY, to: DAY, seed: SEED, ticksPerBar: 4, log: quiet() });
    const events = readLedger(bt.ledgerFiles);
    // When each option was in use: from its pick (the desk subscribes at the entry) to its position's close.
    const pickedAt = new Map<string, number>();
    const positions = new Map<string, { token: string; from: number; to: number }>();
    for (const e of events) {
      if (e.type === 'OptionPicked') pickedAt.set(e.data.signalId, e.ts);
      if (e.type === 'OrderIntentRecorded' && e.data.purpose === 'entry' && !positions.has(e.data.positionId)) {
        positions.set(e.data.positionId, { token: e.data.token, from: pickedAt.get(e.data.signalId) ?? e.ts, to: Infinity });
      }
      if (e.type === 'PositionClosed') positions.get(e.data.positionId)!.to = e.ts;
    }
    const spans = new Map<string, [number, number][]>();
    for (const p of positions.values()) spans.set(p.token, [...(spans.get(p.token) ?? []), [p.from, p.to]]);
    expect(bt.trades.length).toBeGreaterThanOrEqual(3);
    // Every minute bar of an option started while it was in use (a minute of slack for the bar in progress).
    const optionBars = events.filter((e): e is Extract<RustroEvent, { type: 'BarClosed' }> => e.type === 'BarClosed' && e.data.exchange === 'NFO' && e.data.tf === '1m');
    expect(optionBars.length).toBeGreaterThan(0);
    const outside = optionBars.filter((b) => !(spans.get(b.data.token) ?? []).some(([from, to]) => b.data.ts >= from - 60_000 && b.data.ts <= to));
    expect(outside.map((b) => `${b.data.token} ${new Date(b.data.ts).toISOString()}`)).toEqual([]);
  }, 120_000);

  it('a day of many trades, options subscribed again and again, writes the same ledger every run', async () => {
    // The scalper re-enters contracts it released: each new subscription is answered with a snapshot tick,
    // which must land at the same point among the entry's events whatever the disk's speed.
    const c = withDir(join(dir, 'again'));
    const config: Config = { ...c, strategy: { ...c.strategy, active: 'supertrend-scalper' } };
    const hashes: string[] = [];
    let trades = 0;
    for (let i = 0; i < 3; i++) {
      rmSync(join(dir, 'again'), { recursive: true, force: true });
      const bt = await runBacktest({ config, from: '2024-02-12', to: '2024-02-13', seed: SEED, ticksPerBar: 4, log: quiet() });
      hashes.push(bt.ledgerHash);
      trades = bt.trades.length;
    }
    expect(trades).toBeGreaterThanOrEqual(10);
    expect(new Set(hashes).size).toBe(1);
  }, 120_000);

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
