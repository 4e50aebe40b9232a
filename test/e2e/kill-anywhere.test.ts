/**
 * Kill anywhere (issue 8): a live-mode day against the simulator with the
 * daemon SIGKILLed 30+ times — at random market times, between steps and in
 * the middle of one, and on order requests: between the intent's fsync and
 * the request (the request dropped unread) and between the request and its
 * acknowledgement (booked, never answered) — and restarted each time. It must
 * end where the same day without kills ends: the same trades, the same
 * realised P&L, nothing open, and never two exchange orders for one intent.
 * The harness itself is test/e2e/support/kill-anywhere.ts (also a script:
 * `npm run kill-anywhere`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import { type KillRunResult, runWithKills, tradeList } from './support/kill-anywhere.js';

const dir = mkdtempSync(join(tmpdir(), 'rustro-kill-anywhere-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = '2024-02-15';
const base = defaultConfig();
// The scalper trades often on this day: many orders, so many order requests to kill on.
const config = { ...base, strategy: { ...base.strategy, active: 'supertrend-scalper' as const } };

function intentTags(r: KillRunResult): Set<string> {
  return new Set(r.ledger.flatMap((e) => (e.type === 'OrderIntentRecorded' ? [e.data.tag] : [])));
}

describe('kill anywhere', () => {
  it('30+ SIGKILLs and restarts end with the same trades and P&L as the day without them, each order placed once', async () => {
    const reference = await runWithKills({ day: DAY, seed: 4, kills: 0, orderKills: 0, dataDir: join(dir, 'reference'), config });
    const killed = await runWithKills({ day: DAY, seed: 4, kills: 30, orderKills: 10, dataDir: join(dir, 'killed'), config });

    // The kills happened, of every kind.
    expect(killed.kills.length).toBeGreaterThanOrEqual(30);
    const how = new Set(killed.kills.map((k) => k.how));
    for (const k of ['between steps', 'mid-step', 'placeOrder dropped', 'placeOrder unanswered']) expect(how).toContain(k);
    expect(reference.kills).toEqual([]);

    // The same day: trade for trade, rupee for rupee (the reference run traded: the comparison is not empty).
    expect(reference.closed.length).toBeGreaterThanOrEqual(3);
    expect(tradeList(killed)).toEqual(tradeList(reference));
    expect(killed.realised).toBe(reference.realised);

    // No order placed twice for one intent, checked at the exchange: tags unique, each a recorded intent.
    for (const r of [reference, killed]) {
      const tags = r.exchangeOrders.map((o) => o.ordertag);
      expect(new Set(tags).size).toBe(tags.length);
      const recorded = intentTags(r);
      expect(tags.filter((t) => !recorded.has(t))).toEqual([]);
    }

    // Nothing open after 15:20: flat at the exchange, and no order bought after the end-of-day exit.
    for (const r of [reference, killed]) {
      expect([...r.netAtExchange.values()].filter((q) => q !== 0)).toEqual([]);
      const eod = istToMillis(DAY, '15:20');
      expect(r.exchangeOrders.filter((o) => o.transactiontype === 'BUY' && o.updatedMs > eod && o.filled > 0)).toEqual([]);
    }

    // Every restart says what it recovered: in the ledger and in the log.
    const starts = killed.ledger.filter((e) => e.type === 'DaemonStarted').length;
    expect(starts).toBe(killed.kills.length + 1);
    const restored = killed.ledger.filter((e) => e.type === 'StateRestored').length;
    expect(restored).toBe(killed.kills.length);
    const startRounds = killed.ledger.filter((e) => e.type === 'ReconciliationCompleted' && e.data.trigger === 'start').length;
    expect(startRounds).toBe(starts);
    const logged = (text: string) => killed.log.filter((l) => String(l.msg ?? '').startsWith(text)).length;
    expect(logged("restored today's state from the ledger")).toBe(killed.kills.length);
    expect(logged('reconciled with the broker (start, live)')).toBe(starts);
    // The order kills were recovered from, not skipped: placements found by tag, lost ones resent.
    const recovered = killed.ledger.flatMap((e) => (e.type === 'ReconciliationCompleted' ? [e.data] : []));
    expect(recovered.some((r) => r.foundByTag.length > 0)).toBe(true);
    expect(recovered.some((r) => r.notAtBroker.length > 0)).toBe(true);
    expect(killed.ledger.some((e) => e.type === 'RecoveryResumed' && e.data.entries.length + e.data.exits.length > 0)).toBe(true);
  }, 600_000);
});
