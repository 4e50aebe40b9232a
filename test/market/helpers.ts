import type { Tick } from '../../src/broker/broker.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import { SessionClock } from '../../src/market/timeframes.js';
import type { SimQuote } from '../../src/sim/market/types.js';

export const NIFTY = '99926000';
export const BANKNIFTY = '99926009';
export const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
export const sessions = new SessionClock(calendar);

/** A simulator quote as the feed would decode it. */
export function tickOf(q: SimQuote, exchange: Tick['exchange'] = 'NSE'): Tick {
  return { token: q.token, exchange, mode: 'quote', exchTs: q.ts, ltp: q.ltp, volume: q.volume };
}

export function tick(token: string, exchTs: number, ltp: number, volume?: number): Tick {
  return { token, exchange: 'NSE', mode: 'quote', exchTs, ltp, ...(volume === undefined ? {} : { volume }) };
}
