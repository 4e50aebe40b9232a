/**
 * The option picker: which contract a signal buys. Pure and synchronous — no
 * bus, no clock, no I/O. The caller passes the day's instrument index, the
 * request (underlying, CE/PE, spot, time, offset) and, when it has them, a
 * quote lookup; it emits the event from the result. Every check made, with
 * its value and limit, is in `reasons`, so the event explains the choice —
 * also when there is none (`ok: false` with a named `reason`).
 *
 * Rules, in the order they are checked:
 *
 * 1. Request: `now` finite, `otmSteps` an integer (`bad_request`); settings
 *    sane — cutoff a valid IST "HH:MM", limits finite and ≥ 0, fallback count
 *    a non-negative integer (`bad_settings`). The underlying must have option
 *    expiries in the master (`unknown_underlying`) and a strike step in the
 *    settings (`no_strike_step`); the spot must be finite and > 0 (`bad_spot`).
 * 2. Expiry: the nearest option expiry of the underlying on or after today's
 *    IST date (`InstrumentIndex.nearestExpiry`). A monthly expiry that is the
 *    nearest one is taken, not skipped: that week it *is* the weekly-cycle
 *    contract (NIFTY's last-Thursday weekly is the monthly). On the expiry day
 *    itself at or after `expiryDayCutoff` (IST) the next expiry is taken
 *    (`rolled: true`): a contract bought that late has minutes of life left
 *    and its premium decays to intrinsic before the exit logic can work. No
 *    expiry (or none to roll to) → `no_expiry`.
 * 3. Strike: ATM = spot rounded to the nearest multiple of the step, half-way
 *    rounding up (21725 with step 50 → 21750). `otmSteps` counts strikes out
 *    of the money: CE strike = ATM + otmSteps·step, PE strike = ATM −
 *    otmSteps·step (0 = ATM; the scalper's "CE one above / PE one below ATM"
 *    is otmSteps 1 for both; a negative count would mean in the money).
 * 4. Contract: the exact (underlying, expiry, strike, type) must be in the
 *    master. If it is not, the pick fails with `no_contract`, naming strike
 *    and expiry (and the listed strike range) — never a silent substitute.
 * 5. Liquidity, only when `quote` returns something for the contract:
 *    spread % = (ask − bid) / mid · 100 ≤ `maxSpreadPct` and OI ≥ `minOi`.
 *    A missing (or non-positive) bid or ask records the spread check as
 *    skipped, not failed; so does a missing OI, or `minOi` 0. A crossed book
 *    (ask < bid) fails: it is not a price one can trade at. No quote at all →
 *    one skipped `quote` reason: the strategy's strike is trusted as is.
 * 6. Fallback, only when the chosen contract *fails* a liquidity check: up to
 *    `fallbackStrikes` other strikes are tried, nearest to the chosen strike
 *    first, and at equal distance the one toward ATM before the one away,
 *    because liquidity in index options concentrates at and just outside the
 *    money. Candidates never cross ATM into the money (nor go deeper in the
 *    money than an ITM request): an ITM strike costs more premium per lot
 *    than the strategy sized for and is usually thinner than the OTM strike
 *    at the same distance. So ATM → 1 OTM, 2 OTM; 1 OTM → ATM, 2 OTM; 2 OTM →
 *    1 OTM, 3 OTM, ATM, 4 OTM (exactly `fallbackStrikes` candidates). A
 *    fallback is taken only on evidence: it needs a quote, and the checks the
 *    chosen strike failed must be *measured* and pass on it (if the chosen
 *    strike's spread was too wide, a fallback with no bid/ask is not good
 *    enough); its other checks pass or are skipped as usual. A fallback
 *    missing from the master is recorded and counts as tried. Every
 *    candidate's checks go into `reasons`, tagged with its strike. None
 *    passes → `illiquid`.
 */
import type { Instrument, OptionType } from '../broker/broker.js';
import type { InstrumentIndex } from '../broker/smartapi/instrument-index.js';
import { formatIst, istDate, istToMillis } from '../core/clock.js';

export type PickerSettings = {
  /** IST "HH:MM": on an expiry day at/after this time the next expiry is chosen. */
  expiryDayCutoff: string;
  /** Strike step per underlying (upper-case name), e.g. { NIFTY: 50, BANKNIFTY: 100, SENSEX: 100 }. */
  strikeStep: Readonly<Record<string, number>>;
  /** Max bid-ask spread as % of mid (e.g. 3). */
  maxSpreadPct: number;
  /** Min open interest as the quote reports it (contracts or units); 0 = no check. */
  minOi: number;
  /** How many other strikes to try when the chosen one fails liquidity (default 0); see the header for the order. */
  fallbackStrikes?: number;
};

export type OptionQuote = { bid?: number; ask?: number; oi?: number; ltp?: number };

export type PickRequest = {
  underlying: string;
  optionType: OptionType;
  /** The underlying's spot (index LTP). */
  spot: number;
  /** Epoch ms of the decision (the caller's clock). */
  now: number;
  /** Strikes out of the money: 0 = ATM, 1 = one strike OTM (CE above, PE below). */
  otmSteps: number;
};

export type PickReason = {
  /** underlying | strike_step | spot | nearest_expiry | expiry_day_cutoff | rolled_expiry | contract | quote | spread_pct | oi */
  check: string;
  value: string | number | null;
  limit?: string | number;
  passed: boolean;
  /** The check could not be made (no data, or disabled); `passed` is then true. */
  skipped?: true;
  /** The candidate strike a contract / liquidity check is about. */
  strike?: number;
};

export type PickQuote = OptionQuote & { spreadPct?: number };

export type PickFailure = 'bad_request' | 'bad_settings' | 'unknown_underlying' | 'no_strike_step' | 'bad_spot' | 'no_expiry' | 'no_contract' | 'illiquid';

export type Pick =
  | {
      ok: true;
      instrument: Instrument;
      expiry: string;
      /** The strike taken (differs from `requestedStrike` only after a liquidity fallback). */
      strike: number;
      requestedStrike: number;
      atm: number;
      /** True when the expiry-day cutoff moved the pick to the next expiry. */
      rolled: boolean;
      reasons: PickReason[];
      /** The taken contract's quote, when the lookup had one. */
      quote?: PickQuote;
    }
  | { ok: false; reason: PickFailure; detail: string; reasons: PickReason[] };

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
/** Strikes to 2 decimals, as the instrument index keys them (keeps 0.1 + 0.2 noise out of keys and events). */
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const isNonNeg = (x: number): boolean => Number.isFinite(x) && x >= 0;

/** ATM strike: spot rounded to the nearest multiple of `step`, half-way up. */
export function atmStrike(spot: number, step: number): number {
  return r2(Math.round(spot / step) * step);
}

/**
 * Offsets (in OTM steps) to try after the chosen one: nearest first, toward
 * ATM before away at equal distance, never below min(otmSteps, 0).
 */
export function fallbackOffsets(otmSteps: number, count: number): number[] {
  const floor = Math.min(otmSteps, 0);
  const out: number[] = [];
  for (let d = 1; out.length < count; d++) {
    if (otmSteps - d >= floor) out.push(otmSteps - d);
    if (out.length < count) out.push(otmSteps + d);
  }
  return out;
}

export function pickOption(index: InstrumentIndex, req: PickRequest, settings: PickerSettings, quote?: (i: Instrument) => OptionQuote | undefined): Pick {
  const reasons: PickReason[] = [];
  const fail = (reason: PickFailure, detail: string): Pick => ({ ok: false, reason, detail, reasons });
  const name = req.underlying.trim().toUpperCase();

  if (!Number.isFinite(req.now)) return fail('bad_request', `now must be an epoch ms, got ${req.now}`);
  if (!Number.isInteger(req.otmSteps)) return fail('bad_request', `otmSteps must be an integer, got ${req.otmSteps}`);
  if (req.optionType !== 'CE' && req.optionType !== 'PE') return fail('bad_request', `optionType must be CE or PE, got ${String(req.optionType)}`);
  const fallbacks = settings.fallbackStrikes ?? 0;
  if (!(Number.isInteger(fallbacks) && fallbacks >= 0)) return fail('bad_settings', `fallbackStrikes must be a non-negative integer, got ${fallbacks}`);
  if (!isNonNeg(settings.maxSpreadPct)) return fail('bad_settings', `maxSpreadPct must be a finite number ≥ 0, got ${settings.maxSpreadPct}`);
  if (!isNonNeg(settings.minOi)) return fail('bad_settings', `minOi must be a finite number ≥ 0, got ${settings.minOi}`);
  const today = istDate(req.now);
  let cutoffMs: number;
  try {
    if (!HHMM.test(settings.expiryDayCutoff)) throw new RangeError('not HH:MM');
    cutoffMs = istToMillis(today, settings.expiryDayCutoff);
  } catch {
    return fail('bad_settings', `expiryDayCutoff must be an IST time "HH:MM", got '${settings.expiryDayCutoff}'`);
  }

  // ── underlying, step, spot ─────────────────────────────────────────────
  const expiries = index.expiries(name);
  reasons.push({ check: 'underlying', value: name, passed: expiries.length > 0 });
  if (expiries.length === 0) return fail('unknown_underlying', `no ${name} options in the instrument master`);

  const step = settings.strikeStep[name] ?? settings.strikeStep[req.underlying];
  const stepOk = step !== undefined && Number.isFinite(step) && step > 0;
  reasons.push({ check: 'strike_step', value: step ?? null, passed: stepOk });
  if (!stepOk) return fail('no_strike_step', `no usable strike step for ${name} in the settings (got ${step ?? 'none'})`);

  const spotOk = Number.isFinite(req.spot) && req.spot > 0;
  reasons.push({ check: 'spot', value: Number.isFinite(req.spot) ? req.spot : String(req.spot), passed: spotOk });
  if (!spotOk) return fail('bad_spot', `spot must be a finite price > 0, got ${req.spot}`);

  // ── expiry ─────────────────────────────────────────────────────────────
  const nearest = index.nearestExpiry(name, today);
  reasons.push({ check: 'nearest_expiry', value: nearest ?? null, limit: `on or after ${today}`, passed: nearest !== undefined });
  if (nearest === undefined) return fail('no_expiry', `no ${name} option expiry on or after ${today} (last listed ${expiries.at(-1)})`);
  let expiry = nearest;
  let rolled = false;
  if (nearest === today) {
    const before = req.now < cutoffMs;
    reasons.push({ check: 'expiry_day_cutoff', value: formatIst(req.now), limit: `before ${settings.expiryDayCutoff} IST`, passed: before });
    if (!before) {
      const next = expiries[expiries.indexOf(nearest) + 1];
      reasons.push({ check: 'rolled_expiry', value: next ?? null, limit: `after ${today}`, passed: next !== undefined });
      if (next === undefined) return fail('no_expiry', `${name} expires today (${today}) and it is past the ${settings.expiryDayCutoff} IST cutoff, but no later expiry is listed`);
      expiry = next;
      rolled = true;
    }
  }

  // ── strike and contract ────────────────────────────────────────────────
  const atm = atmStrike(req.spot, step);
  const sign = req.optionType === 'CE' ? 1 : -1;
  const strikeAt = (offset: number): number => r2(atm + sign * offset * step);
  const requestedStrike = strikeAt(req.otmSteps);
  const type = req.optionType;
  const contract = (strike: number): Instrument | undefined => {
    const inst = strike > 0 ? index.option(name, expiry, strike, type) : undefined;
    reasons.push({ check: 'contract', value: inst?.symbol ?? null, limit: `${name} ${expiry} ${strike} ${type}`, passed: inst !== undefined, strike });
    return inst;
  };

  const first = contract(requestedStrike);
  if (first === undefined) {
    const chain = index.chain(name, expiry);
    const range = chain.length > 0 ? `listed strikes ${chain[0]!.strike}–${chain.at(-1)!.strike}` : 'no strikes listed';
    return fail('no_contract', `${name} ${expiry} ${requestedStrike} ${type} (ATM ${atm} from spot ${req.spot}, ${req.otmSteps} step(s) OTM) is not in the instrument master; ${range}`);
  }
  const ok = (instrument: Instrument, strike: number, q: PickQuote | undefined): Pick => ({
    ok: true, instrument, expiry, strike, requestedStrike, atm, rolled, reasons, ...(q === undefined ? {} : { quote: q }),
  });

  const firstQuote = quote === undefined ? undefined : quote(first);
  if (quote === undefined || firstQuote === undefined) {
    reasons.push({ check: 'quote', value: null, passed: true, skipped: true, strike: requestedStrike });
    return ok(first, requestedStrike, undefined);
  }
  const firstLiq = liquidity(firstQuote, requestedStrike, settings, reasons, new Set());
  if (firstLiq.passed) return ok(first, requestedStrike, firstLiq.quote);

  // ── liquidity fallback ─────────────────────────────────────────────────
  const tried: string[] = [`${requestedStrike} (${firstLiq.why})`];
  for (const offset of fallbackOffsets(req.otmSteps, fallbacks)) {
    const strike = strikeAt(offset);
    const inst = contract(strike);
    if (inst === undefined) {
      tried.push(`${strike} (not listed)`);
      continue;
    }
    const q = quote(inst);
    if (q === undefined) {
      reasons.push({ check: 'quote', value: null, passed: false, strike });
      tried.push(`${strike} (no quote)`);
      continue;
    }
    const liq = liquidity(q, strike, settings, reasons, firstLiq.failed);
    if (liq.passed) return ok(inst, strike, liq.quote);
    tried.push(`${strike} (${liq.why})`);
  }
  return fail('illiquid', `no liquid ${name} ${expiry} ${type}: tried ${tried.join(', ')}`);
}

type Liquidity = { passed: boolean; why: string; quote: PickQuote; failed: ReadonlySet<string> };

/**
 * Spread and OI checks of one quote, appended to `reasons`. A check named in
 * `required` fails when it cannot be measured (a fallback must show it does
 * not have the problem the chosen strike had); otherwise it is skipped.
 */
function liquidity(q: OptionQuote, strike: number, s: PickerSettings, reasons: PickReason[], required: ReadonlySet<string>): Liquidity {
  const out: PickQuote = { ...q };
  const why: string[] = [];
  const failed = new Set<string>();
  const has = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x) && x > 0;
  const unmeasured = (check: string, value: number | null, limit: number, what: string): void => {
    if (required.has(check)) {
      reasons.push({ check, value, limit, passed: false, strike });
      failed.add(check);
      why.push(`${what} not quoted`);
    } else {
      reasons.push({ check, value, limit, passed: true, skipped: true, strike });
    }
  };

  if (has(q.bid) && has(q.ask)) {
    const pct = ((q.ask - q.bid) / ((q.bid + q.ask) / 2)) * 100;
    out.spreadPct = r3(pct);
    const passed = q.ask >= q.bid && pct <= s.maxSpreadPct;
    reasons.push({ check: 'spread_pct', value: r3(pct), limit: s.maxSpreadPct, passed, strike });
    if (!passed) {
      failed.add('spread_pct');
      why.push(q.ask < q.bid ? `crossed book bid ${q.bid} > ask ${q.ask}` : `spread ${r3(pct)}% > ${s.maxSpreadPct}%`);
    }
  } else {
    unmeasured('spread_pct', null, s.maxSpreadPct, 'bid/ask');
  }

  const oi = q.oi !== undefined && Number.isFinite(q.oi) ? q.oi : undefined;
  if (s.minOi <= 0) {
    reasons.push({ check: 'oi', value: oi ?? null, limit: s.minOi, passed: true, skipped: true, strike });
  } else if (oi === undefined) {
    unmeasured('oi', null, s.minOi, 'OI');
  } else {
    const passed = oi >= s.minOi;
    reasons.push({ check: 'oi', value: oi, limit: s.minOi, passed, strike });
    if (!passed) {
      failed.add('oi');
      why.push(`OI ${oi} < ${s.minOi}`);
    }
  }
  return { passed: why.length === 0, why: why.join(', '), quote: out, failed };
}
