import { afterEach, describe, expect, it } from 'vitest';
import { istToMillis } from '../../../src/core/clock.js';
import { candles } from '../../../src/sim/server/candles.js';
import { FakeMarket, NIFTY } from './support/fake-market.js';
import { type Sim, http, login, startFake } from './support/client.js';

const market = new FakeMarket();
const NOW = istToMillis('2024-01-02', '10:00') + 30_000;
const req = (interval: string, fromdate: string, todate: string, o: Record<string, unknown> = {}) =>
  candles(market, { exchange: 'NSE', symboltoken: NIFTY, interval, fromdate, todate, ...o }, NOW);
const rows = (r: ReturnType<typeof candles>) => {
  if (!r.ok) throw new Error(`${r.code} ${r.message}`);
  return r.rows;
};

describe('candles', () => {
  it('aggregates every interval anchored at 09:15 IST with a short last bar', () => {
    const want: Record<string, [number, string]> = {
      ONE_MINUTE: [375, '15:29'],
      THREE_MINUTE: [125, '15:27'],
      FIVE_MINUTE: [75, '15:25'],
      TEN_MINUTE: [38, '15:25'],
      FIFTEEN_MINUTE: [25, '15:15'],
      THIRTY_MINUTE: [13, '15:15'],
      ONE_HOUR: [7, '15:15'],
    };
    for (const [iv, [n, last]] of Object.entries(want)) {
      const r = rows(req(iv, '2023-12-28 09:15', '2023-12-28 15:30'));
      expect([iv, r.length]).toEqual([iv, n]);
      expect(r[0]![0]).toBe('2023-12-28T09:15:00+05:30');
      expect(r.at(-1)![0]).toBe(`2023-12-28T${last}:00+05:30`);
    }
  });

  it('ONE_HOUR: 09:15–10:15 … and 15:15–15:30 with OHLCV from the minutes', () => {
    const r = rows(req('ONE_HOUR', '2023-12-28 09:15', '2023-12-28 15:30'));
    expect(r.map((x) => x[0].slice(11, 16))).toEqual(['09:15', '10:15', '11:15', '12:15', '13:15', '14:15', '15:15']);
    expect(r[0]).toEqual(['2023-12-28T09:15:00+05:30', 20000, 20060, 19999, 20059.5, 60]);
    expect(r[6]).toEqual(['2023-12-28T15:15:00+05:30', 20360, 20375, 20359, 20374.5, 15]);
  });

  it('both ends inclusive on candle start; a candle starting before fromdate is left out', () => {
    expect(rows(req('ONE_MINUTE', '2023-12-28 09:15', '2023-12-28 09:20'))).toHaveLength(6);
    const r = rows(req('FIFTEEN_MINUTE', '2023-12-28 09:20', '2023-12-28 10:00'));
    expect(r.map((x) => x[0].slice(11, 16))).toEqual(['09:30', '09:45', '10:00']);
  });

  it('never returns minutes that have not finished by sim time; the forming candle is returned', () => {
    expect(rows(req('ONE_MINUTE', '2024-01-02 09:15', '2024-01-02 15:30'))).toHaveLength(45);
    const h = rows(req('ONE_HOUR', '2024-01-02 09:15', '2024-01-02 15:30'));
    expect(h).toHaveLength(1);
    expect(h[0]![5]).toBe(45);
  });

  it('ONE_DAY: one candle per session stamped 00:00 IST, today so far included', () => {
    const r = rows(req('ONE_DAY', '2023-12-28 00:00', '2024-01-02 23:59'));
    expect(r.map((x) => x[0])).toEqual(['2023-12-28T00:00:00+05:30', '2023-12-29T00:00:00+05:30', '2024-01-01T00:00:00+05:30', '2024-01-02T00:00:00+05:30']);
    expect(r[0]).toEqual(['2023-12-28T00:00:00+05:30', 20000, 20375, 19999, 20374.5, 375]);
    expect(r[3]![5]).toBe(45);
  });

  it('max days per interval (calendar dates, inclusive), from > to and bad input → AB1004; empty → []', () => {
    expect(req('ONE_MINUTE', '2023-12-01 09:15', '2023-12-30 15:30').ok).toBe(true);
    expect(req('ONE_MINUTE', '2023-12-01 09:15', '2023-12-31 15:30')).toMatchObject({ ok: false, code: 'AB1004' });
    expect(req('THREE_MINUTE', '2023-11-01 09:15', '2023-12-31 15:30')).toMatchObject({ ok: false, code: 'AB1004' });
    expect(req('ONE_HOUR', '2022-12-01 09:15', '2023-12-31 15:30')).toMatchObject({ ok: true });
    expect(req('ONE_MINUTE', '2023-12-28 10:00', '2023-12-28 09:15')).toMatchObject({ ok: false, code: 'AB1004' });
    expect(req('WEEK', '2023-12-28 09:15', '2023-12-28 10:00')).toMatchObject({ ok: false, code: 'AB1004' });
    expect(req('ONE_MINUTE', '2023-12-28', '2023-12-28 10:00')).toMatchObject({ ok: false, code: 'AB1004' });
    expect(req('ONE_MINUTE', '2023-12-28 09:15', '2023-12-28 10:00', { symboltoken: '1' })).toMatchObject({ ok: false, code: 'AB1004' });
    expect(rows(req('ONE_MINUTE', '2023-12-30 09:15', '2023-12-30 15:30'))).toEqual([]);
  });
});

describe('getCandleData over REST', () => {
  let s: Sim | undefined;
  afterEach(async () => s?.sim.close());

  it('returns rows in the envelope and AB1004 past the limit', async () => {
    s = await startFake({ start: '09:20' });
    const t = await login(s.sim);
    const path = '/rest/secure/angelbroking/historical/v1/getCandleData';
    const r = await http(s.sim, 'POST', path, { jwt: t.jwtToken, body: { exchange: 'NSE', symboltoken: NIFTY, interval: 'ONE_MINUTE', fromdate: '2024-01-02 09:15', todate: '2024-01-02 09:30' } });
    expect(r.json).toMatchObject({ status: true, message: 'SUCCESS', errorcode: '' });
    expect(r.json.data).toHaveLength(5);
    expect(r.json.data[0]).toEqual(['2024-01-02T09:15:00+05:30', 21125, 21126, 21124, 21125.5, 1]);
    const big = await http(s.sim, 'POST', path, { jwt: t.jwtToken, body: { exchange: 'NSE', symboltoken: NIFTY, interval: 'ONE_MINUTE', fromdate: '2023-11-01 09:15', todate: '2024-01-02 09:30' } });
    expect(big.json).toMatchObject({ status: false, errorcode: 'AB1004', data: null });
  });
});
