/**
 * The whole market-data chain, end to end over real sockets: simulator →
 * SmartStream frames → adapter feed → bus → aggregator. The 1-minute bars the
 * daemon closes must be exactly the real bars the simulator replays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SimSession, startSimSession } from '../../src/app/sim-session.js';
import { istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { EventOf } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/log.js';
import { createMarket } from '../../src/sim/market/market.js';

const DAY = '2024-02-15';
let session: SimSession | undefined;
const dir = mkdtempSync(join(tmpdir(), 'rustro-demo-e2e-'));
afterAll(async () => {
  await session?.daemon.stop('test over');
  await session?.sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('daemon against the simulator', () => {
  it('closes 1-minute bars equal to the real bars replayed, for both indices, over the first 20 minutes', async () => {
    const bars: EventOf<'BarClosed'>['data'][] = [];
    session = await startSimSession({
      config: defaultConfig(),
      dataDir: dir,
      day: DAY,
      seed: 5,
      log: silentLogger(),
      onEvent: (e) => {
        if (e.type === 'BarClosed' && e.data.tf === '1m') bars.push(e.data);
      },
    });
    const { sim } = session;
    for (let i = 0; i < 500 && sim.state().subscriptions < 3; i++) await new Promise((r) => setTimeout(r, 2));
    const open = istToMillis(DAY, '09:15');
    await sim.advanceTo(open + 21 * 60_000);
    // Minutes 09:15..09:34 close on the next minute's first tick.
    const source = createMarket({ day: DAY, seed: 5 });
    source.advanceTo(open + 21 * 60_000, new Set(), () => {}); // it serves only bars already complete at its time
    const want = (token: string) => source.minuteBars(token, open, open + 20 * 60_000);
    for (let i = 0; i < 500 && bars.filter((b) => b.ts < open + 20 * 60_000).length < 60; i++) await new Promise((r) => setTimeout(r, 5));
    for (const token of ['99926000', '99926009']) {
      const got = bars.filter((b) => b.token === token && b.ts < open + 20 * 60_000).map((b) => ({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close }));
      expect(got).toHaveLength(20);
      expect(got).toEqual(want(token).map((b) => ({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close })));
    }
    expect(session.daemon.broker?.feed.counters.rejected).toBe(0);
  });
});
