/**
 * The daily rollover: the broker session dies at midnight IST, so every
 * trading morning before the open the daemon logs in afresh, reloads the
 * instrument master and reconnects both sockets on the new tokens (a socket
 * left on yesterday's token is how other bots end up with a mute feed at the
 * open). The morning is a market-calendar event: it runs on the market clock
 * (here the simulator's, replaying Friday and then Monday), not on the I/O
 * clock, and a weekend has none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerLink } from '../../src/app/broker-link.js';
import { SimClock, istDate, istToMillis } from '../../src/core/clock.js';
import { waitFor as until } from '../support/wait.js';
import { closeOvernights, startOvernight } from './support/overnight.js';

const FRIDAY = '2024-01-05';
const MONDAY = '2024-01-08';
afterEach(closeOvernights);

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('morning re-login', () => {
  it('at daily_login_ist of the next trading day (market time) logs in again, reloads instruments and reconnects the feed with the watchlist resubscribed', async () => {
    // Network time (TOTP, heartbeats, rate-limit windows) is a test clock shared with the simulator; it moves only
    // when the test says, so the morning must come from market time. (Set near Monday: the feed drops ticks stamped
    // more than a day ahead of it.)
    const io = new SimClock(istToMillis(MONDAY, '08:40'));
    const { sim, daemon, events } = await startOvernight({ first: FRIDAY, next: MONDAY, io });
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect([count('BrokerLoggedIn'), count('InstrumentsLoaded'), count('FeedConnected')]).toEqual([1, 1, 1]);
    await until(() => sim.state().subscriptions === 3, 'the first subscription');
    // Saturday and Sunday have no session, so no morning: the next one is Monday's.
    expect((daemon.broker as BrokerLink | undefined)?.nextMorningAt).toBe(istToMillis(MONDAY, '08:45'));

    // Through Friday's close, the weekend and Monday's midnight (Friday's tokens die; Monday's master takes over): no login yet.
    await sim.advanceTo(istToMillis(MONDAY, '08:44'));
    expect(sim.state()).toMatchObject({ day: MONDAY, night: true, sessionOver: false });
    expect(count('BrokerLoggedIn')).toBe(1);

    await sim.advanceTo(istToMillis(MONDAY, '08:45:30'));
    // Network time moves on too (the login's rate-limit window from Friday's login hands back on it).
    for (let t = 0; t < 3; t++) {
      io.advanceBy(1000);
      await settle();
    }
    await until(() => count('FeedConnected') === 2 && sim.state().subscriptions === 3, 'the feed to reconnect and resubscribe');
    expect(count('BrokerLoggedIn')).toBe(2);
    expect(count('InstrumentsLoaded')).toBe(2);
    const morning = events.filter((e) => e.type === 'BrokerLoggedIn')[1]!;
    // On market time (this manual advance does not wait for the daemon, so the login lands within the advance).
    expect(morning.ts).toBeGreaterThanOrEqual(istToMillis(MONDAY, '08:45'));
    expect(morning.ts).toBeLessThanOrEqual(istToMillis(MONDAY, '08:45:30'));
    expect(events.filter((e) => e.type === 'FeedDisconnected').map((e) => (e.data as { reason: string }).reason)).toEqual(['stopped']);
    // Monday's master: its weekly expiry (Thursday 2024-01-11) is listed, and nothing happened at the weekend.
    expect(daemon.broker?.broker.instrumentIndex?.nearestExpiry('NIFTY', MONDAY)).toBe('2024-01-11');
    expect(events.filter((e) => ['2024-01-06', '2024-01-07'].includes(istDate(e.ts)))).toEqual([]);
    expect((daemon.broker as BrokerLink | undefined)?.nextMorningAt).toBe(istToMillis('2024-01-09', '08:45'));
    // Ticks flow on the new connection from Monday's open.
    const before = count('Tick');
    await sim.advanceTo(istToMillis(MONDAY, '09:15:05'));
    await until(() => count('Tick') > before, 'ticks after the reconnect');
  });
});
