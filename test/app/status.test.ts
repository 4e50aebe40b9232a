import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoDataDirError, NoLedgerForDateError, buildStatus, type StatusOptions } from '../../src/app/status.js';
import { defaultConfig } from '../../src/core/config.js';
import type { Payload } from '../../src/core/events.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import {
  DAY, NOW, PID, at, bar, halted, killed, lockAsUs, midSession, staleLock, started, stoppedCleanly, tearTail, tempDataDirs, writeLedger,
} from '../fixtures/status/ledgers.js';

type BarData = Payload<'BarClosed'>;

const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
const dataDir = tempDataDirs();
const status = (dir: string, o: Partial<StatusOptions> = {}) => buildStatus({ dataDir: dir, config: defaultConfig(), calendar, now: NOW, ...o });

describe('status report', () => {
  it('not started: an empty data directory has no daemon, no ledger, nothing open', async () => {
    const r = await status(dataDir());
    expect(r.daemon).toMatchObject({ state: 'not_started', running: false, lock: null, lastStart: null });
    expect(r.ledger).toMatchObject({ file: null, records: 0, damaged: null });
    expect(r.lastEvent).toBeNull();
    expect(r.positions.open).toEqual([]);
    expect(r.orders.working).toEqual([]);
    expect(r.risk).toMatchObject({ halted: false, killSwitch: null, realisedToday: 0, dailyLossLimit: 10_000, losingStreak: 0, maxConsecutiveLosses: 3 });
    expect(r.feed).toMatchObject({ connected: null, lastBar: null, warm: [] });
  });

  it('a data directory that does not exist is an error, not an empty report', async () => {
    await expect(status(join(dataDir(), 'nope'))).rejects.toThrow(NoDataDirError);
  });

  it('running mid-session: our pid holds the lock; positions, working orders, P&L, bias, feed and lag from the ledger', async () => {
    const dir = dataDir();
    await writeLedger(dir, midSession(process.pid));
    lockAsUs(dir);
    const r = await status(dir);

    expect(r.daemon.state).toBe('running');
    expect(r.daemon.running).toBe(true);
    expect(r.daemon.lock).toEqual({ pid: process.pid, startedAt: '2024-01-02T09:14:00.000+05:30', alive: true });
    expect(r.daemon.lastStart).toMatchObject({ mode: 'paper', pid: process.pid, at: at('09:14'), file: `${DAY}.jsonl` });
    expect(r.daemon.stopped).toBeNull();

    expect(r.session).toMatchObject({ state: 'open', day: 'trading', window: { open: at('09:15'), close: at('15:30') }, nextOpen: at('09:15', '2024-01-03') });

    expect(r.feed.connected).toBe(true);
    expect(r.feed.stale).toBeNull();
    expect(r.feed.lastBar).toMatchObject({ name: 'NIFTY', tf: '1m', end: at('10:29') });
    expect(r.feed.lagMs).toBe(60_000);
    expect(r.feed.warm.map((w) => `${w.name} ${w.tf}`)).toEqual(['NIFTY 1d', 'NIFTY 1h']);

    expect(r.strategy.bias.map((b) => `${b.underlying} ${b.bias}`)).toEqual(['NIFTY CE', 'BANKNIFTY none']);
    expect(r.strategy).toMatchObject({ signals: 2, entrySignals: 2 });

    // The filled NIFTY position and the BANKNIFTY entry still working (nothing filled).
    expect(r.positions.open).toEqual([
      expect.objectContaining({ positionId: 'P1', symbol: 'NIFTY04JAN2421500CE', qty: 50, entryAvg: 120, lastFillPrice: 120, unrealisedAtLastFill: 0, stop: 96, entryWorking: false, exiting: null }),
      expect.objectContaining({ positionId: 'P2', symbol: 'BANKNIFTY03JAN2447000CE', qty: 0, entryAvg: null, lastFillPrice: null, entryWorking: true }),
    ]);
    expect(r.positions.realisedToday).toBe(-540);
    expect(r.positions.trades).toEqual([expect.objectContaining({ positionId: 'P0', netPnl: -540 })]);
    expect(r.orders.working).toEqual([
      { intentId: 'E-P2', orderId: 'B-E-P2', symbol: 'BANKNIFTY03JAN2447000CE', side: 'BUY', purpose: 'entry', qty: 15, filledQty: 0, orderType: 'LIMIT', price: 200, state: 'open', cancelRequested: null },
    ]);

    expect(r.risk).toMatchObject({ halted: false, halts: [], killSwitch: null, realisedToday: -540, losingStreak: 1, killFilePresent: false });
    expect(r.lastEvent).toEqual({ type: 'BarClosed', seq: r.ledger.lastSeq, at: at('10:29') + 200 });
    expect(r.ledger).toMatchObject({ day: DAY, isToday: true, firstSeq: 1, damaged: null, olderFilesRead: 0 });
    expect(r.notes).toEqual(['open positions are valued at their last fill: ticks are not in the ledger']);
  });

  it('a live lock whose pid is not the ledger\'s last DaemonStarted: running, and the mismatch noted', async () => {
    const dir = dataDir();
    await writeLedger(dir, midSession(PID));
    lockAsUs(dir);
    const r = await status(dir);
    expect(r.daemon.state).toBe('running');
    expect(r.notes).toContain(`the lock's pid ${process.pid} is not the pid of the last DaemonStarted (${PID}): a daemon starting up, or a ledger from elsewhere`);
  });

  it('stopped cleanly: no lock, the stop and its reason, the feed last seen disconnected', async () => {
    const dir = dataDir();
    await writeLedger(dir, stoppedCleanly());
    const r = await status(dir, { now: at('16:00') });
    expect(r.daemon).toMatchObject({ state: 'stopped', running: false, lock: null });
    expect(r.daemon.lastStart?.mode).toBe('paper');
    expect(r.daemon.stopped).toEqual({ at: at('15:31') + 500, reason: 'SIGTERM', uptimeMs: at('15:31') + 500 - at('09:14') });
    expect(r.feed).toMatchObject({ connected: false, disconnectReason: 'stopped', lagAtLastEventMs: 60_500 });
    expect(r.session).toMatchObject({ state: 'closed', nextOpen: at('09:15', '2024-01-03') });
    expect(r.positions.open).toEqual([]);
    expect(r.orders.working).toEqual([]);
    expect(r.positions.realisedToday).toBe(460);
    expect(r.risk.losingStreak).toBe(0);
    expect(r.lastEvent?.type).toBe('DaemonStopped');
    expect(r.notes).toEqual([]);
  });

  it('a stale lock and a run with no DaemonStopped: not running, ended without a stop, the stale lock noted', async () => {
    const dir = dataDir();
    await writeLedger(dir, midSession());
    const pid = staleLock(dir);
    const r = await status(dir);
    expect(r.daemon).toMatchObject({ state: 'ended_without_stop', running: false, lock: { pid, alive: false } });
    expect(r.notes.some((n) => n.startsWith(`stale lock file: pid ${pid}`))).toBe(true);
    expect(r.notes.some((n) => n.startsWith('no daemon is running'))).toBe(true);
    // The books still show what the ledger left open.
    expect(r.positions.open.map((p) => p.positionId)).toEqual(['P1', 'P2']);
  });

  it('halted: RiskHalted with its scope and reason, the losing streak, realised P&L against the limit', async () => {
    const dir = dataDir();
    await writeLedger(dir, halted());
    const r = await status(dir);
    expect(r.risk.halted).toBe(true);
    expect(r.risk.halts).toEqual([{ at: at('10:12'), scope: 'all', reason: 'daily_loss_limit', detail: { realised: -9830, unrealised: -500, total: -10330, limit: -10000 } }]);
    expect(r.risk).toMatchObject({ killSwitch: null, realisedToday: -9830, dailyLossLimit: 10_000, losingStreak: 2 });
    expect(r.positions.trades).toHaveLength(2);
  });

  it('halted, read the next day: the halt is reported as of the file\'s end, and the file is said to be old', async () => {
    const dir = dataDir();
    await writeLedger(dir, halted());
    const r = await status(dir, { now: at('10:00', '2024-01-03') });
    expect(r.ledger.isToday).toBe(false);
    expect(r.risk.halted).toBe(true);
    expect(r.notes).toContain(`the ledger is of ${DAY}, not today (2024-01-03): its state is as of its last event`);
  });

  it('kill switch: on, with its source; the KILL file noticed; the position exiting and its exit order working', async () => {
    const dir = dataDir();
    await writeLedger(dir, killed());
    writeFileSync(join(dir, 'KILL'), '');
    const r = await status(dir);
    expect(r.risk).toMatchObject({ halted: true, killSwitch: { at: at('10:20'), source: 'file', detail: '/srv/rustro/data/KILL exists' }, killFilePresent: true, halts: [] });
    expect(r.positions.open).toEqual([expect.objectContaining({ positionId: 'P1', qty: 50, exiting: 'kill_switch' })]);
    expect(r.orders.working).toEqual([expect.objectContaining({ intentId: 'X-P1', side: 'SELL', purpose: 'exit', price: 117, state: 'open' })]);
  });

  it('torn tail: reports every good record before it and names the damaged line', async () => {
    const dir = dataDir();
    const events = midSession();
    const file = await writeLedger(dir, events);
    tearTail(file);
    const r = await status(dir);
    expect(r.ledger.records).toBe(events.length);
    expect(r.ledger.damaged).toEqual({ line: events.length + 1, problem: expect.stringMatching(/incomplete last line/) });
    expect(r.lastEvent?.seq).toBe(events.length);
    expect(r.positions.open.map((p) => p.positionId)).toEqual(['P1', 'P2']);
    expect(r.notes.some((n) => n.includes(`damaged at line ${events.length + 1}`) && n.includes('.corrupt'))).toBe(true);
  });

  it('torn tail with the daemon running: the note says it may be a line being written', async () => {
    const dir = dataDir();
    tearTail(await writeLedger(dir, midSession(process.pid)));
    lockAsUs(dir);
    const r = await status(dir);
    expect(r.notes.some((n) => n.includes('the daemon may have been writing it'))).toBe(true);
  });

  it('a daemon running since yesterday: its start is found in the older file; the books hold today only', async () => {
    const dir = dataDir();
    await writeLedger(dir, [...started(at('09:14', '2024-01-01')), ...halted().slice(4).map((e) => ({ ...e, ts: e.ts - 86_400_000 }))]);
    await writeLedger(dir, [bar('10:29')]);
    lockAsUs(dir);
    const r = await status(dir);
    expect(r.ledger).toMatchObject({ day: DAY, records: 1, olderFilesRead: 1 });
    expect(r.daemon).toMatchObject({ state: 'running', lastStart: { file: '2024-01-01.jsonl', mode: 'paper' } });
    expect(r.feed.connected).toBe(true);
    expect(r.feed.warm).toHaveLength(2);
    // Yesterday's halt and trades are yesterday's: a new IST day starts clean.
    expect(r.risk).toMatchObject({ halted: false, realisedToday: 0, losingStreak: 0 });
    expect(r.notes).toContain("the daemon's last start is in 2024-01-01.jsonl");
  });

  it('--date picks that day file; a date without one is an error', async () => {
    const dir = dataDir();
    await writeLedger(dir, halted());
    await writeLedger(dir, [bar('10:29', '1m', '2024-01-03')]);
    expect((await status(dir)).ledger.day).toBe('2024-01-03');
    const r = await status(dir, { date: DAY });
    expect(r.ledger.day).toBe(DAY);
    expect(r.risk.halted).toBe(true);
    await expect(status(dir, { date: '2024-01-05' })).rejects.toThrow(NoLedgerForDateError);
  });

  it('session: closed before the open, a holiday, a weekend', async () => {
    const dir = dataDir();
    expect((await status(dir, { now: at('08:00') })).session).toMatchObject({ state: 'closed', window: { open: at('09:15') }, nextOpen: at('09:15') });
    expect((await status(dir, { now: at('10:00', '2024-01-26') })).session).toMatchObject({ state: 'holiday', day: 'holiday', window: null, nextOpen: at('09:15', '2024-01-29') });
    expect((await status(dir, { now: at('10:00', '2024-01-06') })).session).toMatchObject({ state: 'holiday', day: 'weekend', nextOpen: at('09:15', '2024-01-08') });
  });

  it('the feed: stale until resumed, disconnected with its reason; a 1d bar does not count as the latest bar', async () => {
    const dir = dataDir();
    await writeLedger(dir, [
      ...started(),
      bar('10:20'),
      { type: 'FeedStale', ts: at('10:21'), data: { silentMs: 30_000, lastTickAt: at('10:20') } },
      { type: 'FeedDisconnected', ts: at('10:22'), data: { connection: 0, reason: 'socket closed', code: 1006 } },
      // A 1d bar is stamped at midnight and ends at the next one: it says nothing about the feed's lag.
      { type: 'BarClosed', ts: at('10:23'), data: { ...(bar('10:20').data as BarData), tf: '1d', ts: at('00:00'), end: at('00:00', '2024-01-03') } },
    ]);
    lockAsUs(dir);
    const r = await status(dir);
    expect(r.ledger.records).toBe(8);
    expect(r.feed).toMatchObject({ connected: false, disconnectReason: 'socket closed', stale: { since: at('10:21'), silentMs: 30_000 }, lastBar: { tf: '1m', end: at('10:20') }, lagMs: 10 * 60_000 });
  });
});
