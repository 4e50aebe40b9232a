/**
 * getCandleData (smartapi-protocol.md §7.2) aggregated from the market's
 * 1-minute source bars.
 *
 * Choices for the doc's unspecified corners:
 * - a candle is returned when its START is within [fromdate, todate] — both
 *   ends inclusive;
 * - "max days" counts calendar dates spanned, inclusive: ONE_MINUTE allows
 *   fromdate 01-Jan … todate 30-Jan; more → AB1004 (so does fromdate > todate);
 * - intraday candles are anchored at 09:15 IST: ONE_HOUR gives 09:15, 10:15 …
 *   14:15 and a short last 15:15–15:30 candle; TEN_MINUTE ends 15:25–15:30;
 * - ONE_DAY candles are stamped 00:00 IST of their date, built from the
 *   session's minutes;
 * - only minutes that have finished by sim time are used, never the future;
 *   the candle in progress IS returned (built from its finished minutes), as
 *   the live service returns a forming candle;
 * - an empty range answers `data: []`.
 */
import type { SimBar, SimMarket } from '../market/types.js';
import { fmtIsoIst, istDayStart, parseIstMinute, r2 } from './util.js';

export const CANDLE_INTERVALS: Record<string, { minutes: number; maxDays: number }> = {
  ONE_MINUTE: { minutes: 1, maxDays: 30 },
  THREE_MINUTE: { minutes: 3, maxDays: 60 },
  FIVE_MINUTE: { minutes: 5, maxDays: 100 },
  TEN_MINUTE: { minutes: 10, maxDays: 100 },
  FIFTEEN_MINUTE: { minutes: 15, maxDays: 200 },
  THIRTY_MINUTE: { minutes: 30, maxDays: 200 },
  ONE_HOUR: { minutes: 60, maxDays: 400 },
  ONE_DAY: { minutes: 1440, maxDays: 2000 },
};

export type CandleRow = [string, number, number, number, number, number];
export type CandleResult = { ok: true; rows: CandleRow[] } | { ok: false; code: string; message: string };

const SESSION_OPEN_MS = (9 * 60 + 15) * 60_000;
const SESSION_CLOSE_MS = (15 * 60 + 30) * 60_000;
const DAY_MS = 86_400_000;

export function candles(market: SimMarket, body: Record<string, unknown>, nowMs: number): CandleResult {
  const fail = (message: string): CandleResult => ({ ok: false, code: 'AB1004', message });
  const iv = CANDLE_INTERVALS[String(body.interval)];
  if (iv === undefined) return fail(`Invalid interval '${String(body.interval)}'`);
  const token = typeof body.symboltoken === 'string' || typeof body.symboltoken === 'number' ? String(body.symboltoken) : '';
  const inst = market.instruments().find((i) => i.token === token);
  if (inst === undefined || inst.segment !== String(body.exchange)) return fail('Invalid symboltoken or exchange');
  const from = parseIstMinute(body.fromdate);
  const to = parseIstMinute(body.todate);
  if (from === undefined || to === undefined) return fail('fromdate and todate must be "yyyy-MM-dd HH:mm"');
  if (from > to) return fail('fromdate is after todate');
  const days = (istDayStart(to) - istDayStart(from)) / DAY_MS + 1;
  if (days > iv.maxDays) return fail(`At most ${iv.maxDays} days per request for ${String(body.interval)}`);

  const rows = candleBars(market, { token, minutes: iv.minutes, from, to }, nowMs)
    .map((b): CandleRow => [fmtIsoIst(b.ts), b.open, b.high, b.low, b.close, b.volume]);
  return { ok: true, rows };
}

/**
 * The candles of `minutes` (1 … 60, or 1440 for days) starting in
 * [from, to], built as the REST endpoint builds them (the choices in the
 * header), prices to the paisa. Also what an in-process backtest asks.
 */
export function candleBars(market: SimMarket, req: { token: string; minutes: number; from: number; to: number }, nowMs: number): SimBar[] {
  const { token, from, to } = req;
  const finished = Math.floor(nowMs / 60_000) * 60_000;
  if (req.minutes === 1440) {
    const lo = istDayStart(from);
    const hi = Math.min(istDayStart(to) + DAY_MS, finished);
    const bars = hi > lo ? market.minuteBars(token, lo, hi) : [];
    return group(bars, (ts) => istDayStart(ts), () => true);
  }
  const span = req.minutes * 60_000;
  const bucket = (ts: number): number => {
    const open = istDayStart(ts) + SESSION_OPEN_MS;
    return open + Math.floor((ts - open) / span) * span;
  };
  const inSession = (ts: number): boolean => {
    const t = ts - istDayStart(ts);
    return t >= SESSION_OPEN_MS && t < SESSION_CLOSE_MS;
  };
  const lo = bucket(from) < from ? bucket(from) + span : bucket(from);
  const hi = Math.min(bucket(to) + span, finished);
  const bars = hi > lo ? market.minuteBars(token, lo, hi) : [];
  return group(bars, bucket, inSession).filter((b) => b.ts >= from && b.ts <= to);
}

function group(bars: readonly SimBar[], key: (ts: number) => number, keep: (ts: number) => boolean): SimBar[] {
  const rows: SimBar[] = [];
  let cur: { k: number; o: number; h: number; l: number; c: number; v: number } | undefined;
  const flush = (): void => {
    if (cur !== undefined) rows.push({ ts: cur.k, open: r2(cur.o), high: r2(cur.h), low: r2(cur.l), close: r2(cur.c), volume: cur.v });
  };
  for (const b of bars) {
    if (!keep(b.ts)) continue;
    const k = key(b.ts);
    if (cur === undefined || k !== cur.k) {
      flush();
      cur = { k, o: b.open, h: b.high, l: b.low, c: b.close, v: b.volume };
    } else {
      cur.h = Math.max(cur.h, b.high);
      cur.l = Math.min(cur.l, b.low);
      cur.c = b.close;
      cur.v += b.volume;
    }
  }
  flush();
  return rows;
}
