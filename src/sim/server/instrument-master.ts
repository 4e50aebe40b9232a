/**
 * The instrument master as the broker serves it (smartapi-protocol.md §10):
 * one JSON array, every value a string, strike and tick ×100 with six
 * decimals, expiry DDMMMYYYY upper case. Built once per server (the day's
 * instruments do not change) and served from a Buffer.
 *
 * `freeze_qty` is an extra key the brief asked for; the doc says the real file
 * has only the nine keys — `includeFreezeQty: false` serves exactly those.
 * Where real 2026 copies have it, it is the first frozen quantity: the
 * exchange limit + 1 (DIXON lot 50: "1501"; index rows "0"), and so it is here.
 */
import type { SimInstrument } from '../market/types.js';
import { fmtExpiry } from './util.js';

export const MASTER_PATH = '/OpenAPI_File/files/OpenAPIScripMaster.json';

export function masterRow(i: SimInstrument, includeFreezeQty = true): Record<string, string> {
  const strike = i.type === 'AMXIDX' ? 0 : i.type === 'OPTIDX' && i.strike !== undefined ? i.strike * 100 : -1;
  const row: Record<string, string> = {
    token: i.token,
    symbol: i.symbol,
    name: i.name,
    expiry: fmtExpiry(i.expiry),
    strike: strike.toFixed(6),
    lotsize: String(i.lotSize),
    instrumenttype: i.type,
    exch_seg: i.segment,
    tick_size: (Math.round(i.tickSize * 100 * 1e6) / 1e6).toFixed(6),
  };
  if (includeFreezeQty) row.freeze_qty = i.freezeQty === undefined ? (i.type === 'AMXIDX' ? '0' : '') : String(i.freezeQty + 1);
  return row;
}

/** Whether two instruments make the same master row: every field `masterRow` reads (keep the two in step). */
export function sameMasterRow(a: SimInstrument, b: SimInstrument): boolean {
  return a.token === b.token && a.symbol === b.symbol && a.name === b.name && a.segment === b.segment && a.type === b.type &&
    a.expiry === b.expiry && a.strike === b.strike && a.lotSize === b.lotSize && a.tickSize === b.tickSize && a.freezeQty === b.freezeQty;
}

export function buildMaster(instruments: readonly SimInstrument[], includeFreezeQty = true): Buffer {
  return Buffer.from(JSON.stringify(instruments.map((i) => masterRow(i, includeFreezeQty))), 'utf8');
}
