/**
 * The strategy in the running daemon, end to end over real sockets: history
 * fetched from the simulator warms adx-mtf before the open, the 09:30 bias is
 * decided from it, the hourly closes built from live ticks are evaluated, and
 * the entry signal gets a real contract from the day's master (with quotes
 * for the liquidity checks) — on 2024-02-21, a day BANKNIFTY signals CE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SimSession, startSimSession } from '../../src/app/sim-session.js';
import { formatIst, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { RustroEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/log.js';

const DAY = '2024-02-21';
let session: SimSession | undefined;
const dir = mkdtempSync(join(tmpdir(), 'rustro-strategy-e2e-'));
afterAll(async () => {
  await session?.daemon.stop('test over');
  await session?.sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('adx-mtf in the daemon against the simulator', () => {
  it('decides the bias at 09:30 from fetched history, signals at the 11:15 close and picks the contract', async () => {
    const events: RustroEvent[] = [];
    session = await startSimSession({
      config: defaultConfig(),
      dataDir: dir,
      day: DAY,
      seed: 3,
      log: silentLogger(),
      onEvent: (e) => {
        if (e.type !== 'Tick' && e.type !== 'BarClosed') events.push(e);
      },
    });
    const { sim, daemon } = session;
    await daemon.marketReady;
    expect(events.filter((e) => e.type === 'StreamWarm').length).toBe(4); // 1d and 1h of both indices, before the open
    for (let i = 0; i < 500 && sim.state().subscriptions < 3; i++) await new Promise((r) => setTimeout(r, 2));
    await sim.advanceTo(istToMillis(DAY, '11:17'));
    for (let i = 0; i < 500 && !events.some((e) => e.type === 'OptionPicked'); i++) await new Promise((r) => setTimeout(r, 10));

    const bias = events.filter((e) => e.type === 'DailyBiasDecided').map((e) => [formatIst(e.ts).slice(11, 16), e.data.underlying, e.data.bias]);
    expect(bias).toEqual([['09:30', 'NIFTY', 'none'], ['09:30', 'BANKNIFTY', 'CE']]);

    const evals = events.flatMap((e) => (e.type === 'StrategyEvaluated' && e.data.underlying === 'BANKNIFTY' ? [e.data] : []));
    expect(evals.map((e) => [formatIst(e.barTs).slice(11, 16), e.outcome])).toEqual([['09:15', 'no_trade'], ['10:15', 'signal']]);
    expect(evals[0]!.failed).toEqual(['hourly_rsi']);

    const signals = events.flatMap((e) => (e.type === 'SignalRaised' ? [e.data] : []));
    expect(signals).toHaveLength(1);
    // The hourly close the daemon built from ticks is the real bar's close.
    expect(signals[0]).toMatchObject({ underlying: 'BANKNIFTY', side: 'CE', action: 'entry', spot: 47_025.55 });

    const picked = events.flatMap((e) => (e.type === 'OptionPicked' ? [e.data] : []));
    expect(picked).toHaveLength(1);
    expect(picked[0]).toMatchObject({ signalId: signals[0]!.signalId, symbol: 'BANKNIFTY21FEB2447000CE', expiry: '2024-02-21', strike: 47_000, lotSize: 15, rolled: false });
    // Quotes came from the simulator: the spread check was made, not skipped.
    const spread = picked[0]!.checks.find((c) => c.name === 'spread_pct@47000')!;
    expect(spread.limit).not.toMatch(/skipped/);
    expect(spread.passed).toBe(true);
  });
});
