/**
 * The multi-day soak: one daemon, never restarted, against the simulator
 * replaying 20 consecutive trading days (2024-01-02 → 2024-01-30: weekends,
 * the Ram Mandir holiday on Monday 22nd, Republic Day on Friday 26th, and the
 * Saturday 20th special session) at full speed in lock-step. Every night the
 * simulator's sessions die at midnight IST and the next day's instrument
 * master takes over; every trading morning the daemon logs in again, reloads
 * the master and reconnects, on market time; each day writes its own ledger
 * file. RSS (after a forced GC) and open handles are read at each day's open
 * and close and printed as a table for CI (support/soak.ts). Paper mode, the
 * default config but for adx-mtf's ADX period (soakConfig: the data starts
 * 2024-01-01, too late for a 14-period daily ADX to warm within the window).
 */
import { describe, expect, it } from 'vitest';
import { SOAK_DAYS as DAYS, SOAK_FIRST, SOAK_SEED, runSoak, soakConfig, soakTable } from './support/soak.js';

describe('multi-day soak', () => {
  it(`runs ${DAYS} consecutive trading days in one daemon: a morning login, master and ledger file each day, flat each evening, memory and handles flat`, async () => {
    const r = await runSoak({ first: SOAK_FIRST, days: DAYS, seed: SOAK_SEED, config: soakConfig() });
    console.log(soakTable(r));
    const { days, counts } = r;
    expect(days).toContain('2024-01-20');
    expect(days).not.toContain('2024-01-22');
    expect(days).not.toContain('2024-01-26');

    // Every trading day: a login that day (the first at start, the rest by the morning routine), its master, a live feed.
    for (const day of days) {
      const c = counts.get(day);
      expect(c?.get('BrokerLoggedIn') ?? 0, `${day}: logged in`).toBe(1);
      expect(c?.get('InstrumentsLoaded') ?? 0, `${day}: the master loaded`).toBe(1);
      expect(c?.get('FeedConnected') ?? 0, `${day}: the feed connected`).toBeGreaterThanOrEqual(1);
    }
    expect([...counts.values()].reduce((n, m) => n + (m.get('DaemonStarted') ?? 0), 0), 'started once, never restarted').toBe(1);
    // Nothing happens on a day without a session: no events, no ledger file.
    expect(r.offDays).toEqual([]);
    expect(r.ledgerFiles).toEqual(days.map((d) => `${d}.jsonl`));
    // Flat after every end-of-day exit, and the strategy did trade.
    expect(r.openAfterExit).toEqual([]);
    expect(r.readings.reduce((n, d) => n + d.trades, 0)).toBeGreaterThan(0);

    // Memory and handles stay flat.
    for (const d of r.readings) expect(d.start !== undefined && d.end !== undefined, `${d.day} measured`).toBe(true);
    expect(r.rssGrowthPct).toBeLessThanOrEqual(10);
    // A few come and go (a closing socket, an fs request in flight at the reading): no trend, a small spread.
    const handles = r.readings.flatMap((d) => [d.start!.handles, d.end!.handles]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(handles.slice(-10)) - mean(handles.slice(0, 10)), `open handles ${handles.join(' ')}`).toBeLessThanOrEqual(2);
    expect(Math.max(...handles) - Math.min(...handles), `open handles ${handles.join(' ')}`).toBeLessThanOrEqual(8);
  }, 900_000);
});
