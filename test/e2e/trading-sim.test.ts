/**
 * The money path end to end: the daemon against the simulator over loopback,
 * whole bundled days at full speed (the replay waits for the daemon's work,
 * as a backtest would), in paper mode and in live mode (orders to the
 * simulated exchange). Checked from the ledger and from the simulator's own
 * order book: entries only inside the window, every order preceded by its
 * durable intent, no tag sent twice (also when the exchange's answer to an
 * accepted order is lost), stops that only rise, everything flat by 15:20,
 * and the risk halts on a crafted fall, a crafted VIX jump and the kill switch.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SimSessionOptions, startSimSession } from '../../src/app/sim-session.js';
import { formatIst, istToMillis } from '../../src/core/clock.js';
import { type Config, defaultConfig } from '../../src/core/config.js';
import type { EventOf, EventType, RustroEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/log.js';
import type { SimOrder } from '../../src/sim/server/orders.js';
import { openQty } from '../../src/trading/positions.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Run = { ledger: RustroEvent[]; orders: readonly SimOrder[]; of<T extends EventType>(t: T): EventOf<T>[] };

/** A whole session: history, the open, the replay at full speed to the close, a clean stop; the ledger read back from disk. */
async function session(day: string, over: (c: Config) => Config = (c) => c, extra: Partial<SimSessionOptions> & { during?: (s: Awaited<ReturnType<typeof startSimSession>>) => Promise<void> } = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-trading-e2e-'));
  dirs.push(dir);
  const { during, ...opts } = extra;
  const s = await startSimSession({
    config: over(defaultConfig()),
    dataDir: dir,
    day,
    seed: 11,
    log: silentLogger(),
    ...opts,
  });
  await s.daemon.marketReady;
  for (let i = 0; i < 500 && s.sim.state().subscriptions < 3; i++) await new Promise((r) => setTimeout(r, 2));
  if (during !== undefined) await during(s);
  else s.sim.setSpeed('max');
  while (!s.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  await s.daemon.stop('test over');
  const orders = [...s.sim.orders()];
  await s.sim.close();
  const ledger = readFileSync(join(dir, 'ledger', `${day}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RustroEvent & { seq: number });
  return { ledger, orders, of: <T extends EventType>(t: T) => ledger.filter((e) => e.type === t) as unknown as EventOf<T>[] };
}

const hhmm = (ms: number): string => formatIst(ms).slice(11, 16);
const live = (c: Config): Config => ({ ...c, trading: { ...c.trading, enable_paper_trading: false } });

function checkInvariants(run: Run, day: string): void {
  const seqOf = new Map<RustroEvent, number>(run.ledger.map((e) => [e, (e as unknown as { seq: number }).seq]));
  const intents = run.of('OrderIntentRecorded');
  const intentSeq = new Map(intents.map((e) => [e.data.intentId, seqOf.get(e)!]));
  // Every placement follows its durable intent; no intent placed twice.
  for (const p of run.of('OrderPlaced')) expect(seqOf.get(p)!).toBeGreaterThan(intentSeq.get(p.data.intentId)!);
  expect(new Set(intents.map((e) => e.data.tag)).size).toBe(intents.length);
  // Entries only inside adx-mtf's window.
  for (const e of intents.filter((i) => i.data.purpose === 'entry')) expect(hhmm(e.ts) >= '10:00' && hhmm(e.ts) <= '15:00').toBe(true);
  // Flat by the end-of-day exit: every position that opened has closed, none after 15:21.
  const opened = new Set(run.of('OrderFilled').map((f) => intents.find((i) => i.data.intentId === f.data.intentId)!.data.positionId));
  const closed = run.of('PositionClosed');
  expect(new Set(closed.map((c) => c.data.positionId))).toEqual(opened);
  for (const c of closed) expect(c.ts).toBeLessThanOrEqual(istToMillis(day, '15:21'));
  // Trailing stops only rise.
  const stops = new Map<string, number>();
  for (const m of run.of('PositionStopMoved')) {
    expect(m.data.stop).toBeGreaterThanOrEqual(stops.get(m.data.positionId) ?? -Infinity);
    stops.set(m.data.positionId, m.data.stop);
  }
}

describe('the money path against the simulator', () => {
  it('paper mode, 2024-02-21: signals become sized orders, fills, stops and closed trades; flat at the end; nothing reaches the exchange', async () => {
    const run = await session('2024-02-21');
    checkInvariants(run, '2024-02-21');
    expect(run.orders).toEqual([]); // paper orders never leave the process
    const closed = run.of('PositionClosed');
    expect(closed.length).toBeGreaterThanOrEqual(2);
    for (const c of closed) {
      expect(c.data.netPnl).toBeCloseTo(c.data.grossPnl - c.data.charges, 2);
      expect(c.data.charges).toBeGreaterThan(40); // ₹20 brokerage on each of two orders, plus taxes
    }
    expect(run.of('OrderUpdated').every((u) => u.data.orderId.startsWith('PAPER'))).toBe(true);
  }, 120_000);

  it.each(['2024-02-13', '2024-02-26'])('paper mode, %s: the same invariants on another real day', async (day) => {
    const run = await session(day);
    checkInvariants(run, day);
  }, 120_000);

  it('supertrend-scalper, live mode, 2024-02-15: many short trades, at most 3 open per index, each with its own tag at the exchange', async () => {
    const scalper = (c: Config): Config => live({ ...c, strategy: { ...c.strategy, active: 'supertrend-scalper' } });
    const run = await session('2024-02-15', scalper);
    const intents = run.of('OrderIntentRecorded');
    expect(intents.filter((i) => i.data.purpose === 'entry').length).toBeGreaterThanOrEqual(3);
    const tags = run.orders.map((o) => o.ordertag);
    expect(new Set(tags).size).toBe(tags.length);
    // Pyramiding cap: never more than 3 positions of one index open at once.
    const open = new Map<string, number>();
    const under = new Map(intents.map((i) => [i.data.positionId, i.data.underlying]));
    let max = 0;
    for (const e of run.ledger) {
      if (e.type === 'OrderFilled') {
        const i = intents.find((x) => x.data.intentId === e.data.intentId)!;
        if (i.data.purpose === 'entry' && !open.has(i.data.positionId + ':seen')) {
          open.set(i.data.positionId + ':seen', 1);
          open.set(i.data.underlying, (open.get(i.data.underlying) ?? 0) + 1);
          max = Math.max(max, open.get(i.data.underlying)!);
        }
      }
      if (e.type === 'PositionClosed') open.set(under.get(e.data.positionId)!, open.get(under.get(e.data.positionId)!)! - 1);
    }
    expect(max).toBeLessThanOrEqual(3);
    expect(run.of('PositionClosed').every((c) => c.ts <= istToMillis('2024-02-15', '15:21'))).toBe(true);
  }, 120_000);

  it('live mode: every exchange order has a durable intent recorded before it arrived, and no tag is sent twice — also when the answer to an accepted order is lost', async () => {
    const run = await session('2024-02-21', live, { faults: { dropOrderResponses: 1 } });
    checkInvariants(run, '2024-02-21');
    const intents = run.of('OrderIntentRecorded');
    expect(run.orders.length).toBeGreaterThanOrEqual(4);
    const tags = run.orders.map((o) => o.ordertag);
    expect(new Set(tags).size).toBe(tags.length);
    for (const o of run.orders) {
      const intent = intents.find((i) => i.data.tag === o.ordertag);
      expect(intent, `exchange order ${o.orderid} (${o.ordertag}) without an intent`).toBeDefined();
      expect(intent!.ts).toBeLessThanOrEqual(o.exchMs);
    }
    // The first placement's answer was dropped: the order was found by its tag, not sent again.
    const first = run.orders[0]!;
    expect(run.of('OrderPlaced').find((p) => p.data.orderId === first.orderid)).toBeDefined();
    expect(run.of('PositionClosed').length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('live mode: an order the exchange rejects is recorded as rejected, opens nothing and is never re-sent', async () => {
    const run = await session('2024-02-21', live, { faults: { rejectNextOrders: { count: 1, code: 'AB2001', message: 'insufficient funds' } } });
    checkInvariants(run, '2024-02-21');
    const failed = run.of('OrderPlaceFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ outcome: 'rejected', code: 'AB2001' });
    const intent = run.of('OrderIntentRecorded').find((i) => i.data.intentId === failed[0]!.data.intentId)!;
    // Refused with an error envelope, so not booked; a re-send would have been (the fault refuses only one).
    expect(run.orders.filter((o) => o.ordertag === intent.data.tag)).toHaveLength(0);
    expect(run.of('OrderFilled').some((f) => f.data.intentId === intent.data.intentId)).toBe(false);
    // The next signal trades normally.
    expect(run.of('PositionClosed').length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('a crafted fall right after the entry: the daily loss limit flattens and halts, and no entry follows', async () => {
    // A smaller account (loss limit ₹2,000), no expiry-day scaling, and no trailing stop to take the trade off before the fall.
    const small = (c: Config): Config => ({
      ...c,
      trading: { ...c.trading, capital: 100_000, dte_scale: 1 },
      strategy: { ...c.strategy, adx_mtf: { ...c.strategy.adx_mtf, trail_activate_pct: 1000 } },
    });
    const run = await session('2024-02-21', small, { market: { shock: { at: '11:19', indexPct: -3 } } });
    checkInvariants(run, '2024-02-21');
    const halt = run.of('RiskHalted').find((h) => h.data.reason === 'daily_loss_limit');
    expect(halt, 'no daily loss halt').toBeDefined();
    expect(halt!.data.scope).toBe('all');
    expect(Number(halt!.data.detail.total)).toBeLessThanOrEqual(-2000);
    const afterHalt = run.of('OrderIntentRecorded').filter((i) => i.ts > halt!.ts && i.data.purpose === 'entry');
    expect(afterHalt).toEqual([]);
    expect(run.of('ExitTriggered').some((x) => x.ts >= halt!.ts - 1)).toBe(true);
  }, 120_000);

  it('a crafted INDIA VIX jump: the breaker exits everything and halts entries for the day', async () => {
    const run = await session('2024-02-21', (c) => c, { market: { shock: { at: '11:25', vixFactor: 1.8 } } });
    checkInvariants(run, '2024-02-21');
    const halt = run.of('RiskHalted')[0]!;
    expect(halt.data.reason).toMatch(/^vix_/);
    // INDIA VIX prints about once a minute: the first print after the jump halts (the replay is in lock-step with the daemon).
    expect(halt.ts).toBeGreaterThanOrEqual(istToMillis('2024-02-21', '11:25'));
    expect(halt.ts).toBeLessThan(istToMillis('2024-02-21', '11:27'));
    expect(run.of('OrderIntentRecorded').filter((i) => i.ts > halt.ts && i.data.purpose === 'entry')).toEqual([]);
    expect(run.of('EntrySkipped').length + run.of('OrderRefused').length + run.of('StrategyEvaluated').filter((e) => e.ts > halt.ts && e.data.failed.includes('risk_not_halted')).length).toBeGreaterThan(0);
  }, 120_000);

  it('the kill switch file: flatten and no more entries', async () => {
    const run = await session('2024-02-21', (c) => c, {
      during: async (s) => {
        s.sim.setSpeed('max');
        // Pause once the first position is open, drop the KILL file, let the daemon see it, go on.
        while (!(s.daemon.trading?.desk.positions.open().some((p) => openQty(p) > 0) ?? false) && !s.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 2));
        s.sim.setSpeed(0);
        writeFileSync(join(s.daemon.dataDir, 'KILL'), 'stop\n');
        while (!(s.daemon.trading?.desk.risk.killed(s.sim.now()) ?? true)) await new Promise((r) => setTimeout(r, 50));
        s.sim.setSpeed('max');
      },
    });
    checkInvariants(run, '2024-02-21');
    const kill = run.of('KillSwitchActivated')[0]!;
    expect(kill.data.source).toBe('file');
    // The position open when the kill came is flattened by it — unless a stop had already begun its exit
    // in the second the file took to be seen.
    const closedAfter = run.of('PositionClosed').filter((c) => c.ts >= kill.ts);
    expect(closedAfter.length).toBeGreaterThanOrEqual(1);
    for (const c of closedAfter) {
      const exit = run.of('ExitTriggered').filter((x) => x.data.positionId === c.data.positionId).at(-1)!;
      expect(exit.data.reason === 'kill_switch' || exit.ts <= kill.ts, `${c.data.positionId} exited by ${exit.data.reason}`).toBe(true);
    }
    expect(run.of('OrderIntentRecorded').filter((i) => i.ts > kill.ts && i.data.purpose === 'entry')).toEqual([]);
  }, 120_000);
});
