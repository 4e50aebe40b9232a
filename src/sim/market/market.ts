/**
 * `createMarket`: the simulator's market for one replayed IST session of the
 * bundled real data (data/market), implementing `SimMarket`.
 *
 * - Index ticks come from the day's real 1-minute bars (ticks.ts): every
 *   minute's ticks pass exactly through its O/H/L/C, so candles rebuilt from
 *   them are the source bars. A minute's path is a pure function of (seed,
 *   index token, minute), generated only when a subscribed token needs it.
 * - Options (NIFTY, BANKNIFTY; no SENSEX — there is no bundled SENSEX data)
 *   are priced by Black–Scholes off their underlying's tick. Cadence: an
 *   option tick accompanies every `optionTickEvery`-th tick of its underlying
 *   (default 1 = every underlying tick), at the same timestamp, right after it.
 *   Time to expiry and IV are fixed per minute (taken at the minute start), so
 *   within a minute a premium is a monotone function of spot and an option's
 *   day high/low and minute bars follow exactly from the index bars.
 * - IV: INDIA VIX proxy (vix.ts) per minute, × a BANKNIFTY/NIFTY realised-vol
 *   ratio for BANKNIFTY, with a per-strike smile (options.ts).
 * - Volume, OI and depth are deterministic functions of (seed, token, time),
 *   so a quote never depends on when a token was subscribed.
 *
 * Pure: no sockets, no timers, no wall clock. Time moves only in `advanceTo`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { istToMillis } from '../../core/clock.js';
import { findRepoPath } from '../../core/repo-path.js';
import { type BarSeries, type DailyRow, loadDailyBars, loadMinuteBars } from './bars.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar, weekday } from '../../market/calendar.js';
import { FnoSpecs, INDICES, type IndexInfo, type Underlying, VIX_INFO, listedExpiries, optionSymbol, optionToken, strikesAround } from './contracts.js';
import { BsFixed, OPTION_TICK, bidAsk, bookAround, ltpOf, moneyness, roundTick, smileIv, yearsToExpiry } from './options.js';
import { hash4, hashString, hashUnit } from './rng.js';
import { DEFAULT_TICKS_PER_SECOND, MinutePath, ticksPerMinute } from './ticks.js';
import type { SimBar, SimInstrument, SimLevel, SimMarket, SimQuote } from './types.js';
import { bankVolRatio, vixBase, vixPerMinute } from './vix.js';

export type MarketOptions = {
  /** IST trading day to replay, YYYY-MM-DD; must be a bundled session. */
  day: string;
  seed: number;
  /** Index ticks per second (default 4; 0.1 … 1000). */
  ticksPerSecond?: number;
  /** Folder with the bundled bars (default: the repo's data/market). */
  dataDir?: string;
  /**
   * A user's 1-minute CSV (`ts,open,high,low,close,volume`, as `rustro data
   * bars` writes) replacing one index's bundled bars (`rustro backtest --bars`).
   * On a day the other index's bundled bars lack, the same bars stand in for it
   * — never traded or streamed in such a backtest, but the generator prices
   * both.
   */
  bars?: { underlying: Underlying; file: string };
  /** Folder with the calendar and F&O spec CSVs (default: the repo's config/calendar). */
  calendarDir?: string;
  /** Strikes listed each side of the ATM (default 10). */
  strikesAround?: number;
  /** Fixed INDIA VIX base level instead of the realised-vol proxy. */
  vixLevel?: number;
  /** An option tick accompanies every Nth underlying tick (default 1). */
  optionTickEvery?: number;
  /**
   * A crafted shock for tests of the risk rules: from minute `at` (IST
   * "HH:MM") every index bar is moved by `indexPct` % (e.g. -3: a sudden
   * fall) and INDIA VIX is multiplied by `vixFactor` (e.g. 1.5: a jump).
   */
  shock?: { at: string; indexPct?: number; vixFactor?: number };
};

type Feed = {
  readonly info: IndexInfo;
  readonly series: BarSeries;
  readonly dayIdx: number;
  readonly bars: readonly SimBar[];
  readonly tokenHash: number;
  readonly prevClose: number;
  readonly dayOpen: number;
  /** prefHi[m] = max high of bars[0..m-1] (-Infinity for m = 0); prefLo likewise. */
  readonly prefHi: Float64Array;
  readonly prefLo: Float64Array;
  readonly hi52Prior: number;
  readonly lo52Prior: number;
  readonly path: MinutePath;
  /** ATM IV (fraction) per minute. */
  readonly atmIv: Float64Array;
  /** Reference spot of the day's smile, OI and activity profile (previous close). */
  readonly refSpot: number;
  readonly step: number;
};

type Opt = {
  readonly inst: SimInstrument;
  readonly order: number;
  readonly feed: Feed;
  readonly strike: number;
  readonly lot: number;
  readonly tokenHash: number;
  readonly expiryCloseMs: number;
  readonly bs: BsFixed;
  /** Minute whose T and IV are loaded in `bs` (-1: none). */
  bsMinute: number;
  iv: number;
  years: number;
  absX: number;
  /** Trades per second, lots per trade, mean lots per depth level. */
  readonly rate: number;
  readonly lotsPerTrade: number;
  readonly depthLots: number;
  readonly oi0Lots: number;
  readonly oiDrift: number;
  prevClose: number;
  upper: number;
  dayOpen: number;
  /** Aggregates over minutes [0, doneTo). */
  doneTo: number;
  hiAgg: number;
  loAgg: number;
  vwNum: number;
  vwDen: number;
  /** Cache of the current minute's extreme prices, keyed by minute and spot extremes. */
  curM: number;
  curHiS: number;
  curLoS: number;
  curHi: number;
  curLo: number;
};

type Loc = { m: number; p: number };
/** Where one feed (undefined: INDIA VIX) stands in an `advanceTo`: its next tick is minute `m`, tick `p`. */
type Cursor = { feed: Feed | undefined; idx: boolean; opts: Opt[]; m: number; p: number };

const UNDERLYINGS: readonly Underlying[] = ['NIFTY', 'BANKNIFTY'];
const FILE_PREFIX: Readonly<Record<Underlying, string>> = { NIFTY: 'nifty50_1m_', BANKNIFTY: 'banknifty_1m_' };

/** Data folders' listings, read once per process as their bar files are (bars.ts): a backtest asked three times a day. */
const listings = new Map<string, string[]>();

function findDataFile(dir: string, prefix: string, required: boolean): string | undefined {
  let names = listings.get(dir);
  if (names === undefined) {
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new Error(`createMarket: cannot read data folder ${dir}: ${(e as Error).message}`);
    }
    listings.set(dir, names);
  }
  const hits = names.filter((n) => n.startsWith(prefix) && /\.csv(\.gz)?$/.test(n)).sort();
  if (hits.length > 1) throw new Error(`createMarket: several '${prefix}*' files in ${dir}: ${hits.join(', ')}`);
  if (hits.length === 0) {
    if (required) throw new Error(`createMarket: no '${prefix}*.csv.gz' file in ${dir}`);
    return undefined;
  }
  return join(dir, hits[0]!);
}

/** An index's (empty) book: shared by every index and VIX quote, which only ever read it. */
const ZERO_LEVELS: readonly SimLevel[] = Object.freeze(Array.from({ length: 5 }, () => Object.freeze({ price: 0, qty: 0, orders: 0 })));

/** Index of the last bar with ts <= t, or -1. */
function lastBarAtOrBefore(bars: readonly SimBar[], t: number): number {
  let lo = -1;
  let hi = bars.length; // bars[lo].ts <= t < bars[hi].ts
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (bars[mid]!.ts <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

type VixDay = { v: Float64Array; hi: number; lo: number };
/**
 * Per-minute INDIA VIX of earlier sessions, by bar series, VIX source and
 * level override: each day's market reads every earlier one (its 52-week
 * range), and a backtest builds one market per day — without this a year
 * cost a year's minutes per day.
 */
const vixDayCache = new WeakMap<BarSeries, WeakMap<readonly DailyRow[], Map<string, VixDay>>>();

function range(v: Float64Array): { hi: number; lo: number } {
  let hi = -Infinity;
  let lo = Infinity;
  for (const x of v) {
    if (x > hi) hi = x;
    if (x < lo) lo = x;
  }
  return { hi, lo };
}

/**
 * High and low of every session of `s` before session `dayIdx`, from running
 * extremes kept per series: each day's market asks, and a year's backtest
 * would otherwise scan all earlier minutes for every day.
 */
const priorRanges = new WeakMap<BarSeries, { hi: Float64Array; lo: Float64Array }>();
function priorRange(s: BarSeries, dayIdx: number): { hi: number; lo: number } {
  let r = priorRanges.get(s);
  if (r === undefined) {
    // hi[i], lo[i]: extremes of sessions 0 … i−1.
    const hi = new Float64Array(s.days.length + 1).fill(-Infinity);
    const lo = new Float64Array(s.days.length + 1).fill(Infinity);
    s.days.forEach((d, i) => {
      let h = hi[i]!;
      let l = lo[i]!;
      for (const b of s.byDay.get(d)!) {
        if (b.high > h) h = b.high;
        if (b.low < l) l = b.low;
      }
      hi[i + 1] = h;
      lo[i + 1] = l;
    });
    priorRanges.set(s, (r = { hi, lo }));
  }
  return { hi: r.hi[dayIdx]!, lo: r.lo[dayIdx]! };
}

/** Calendar and F&O specs per folder, read once per process (like the bar files). */
const calendarCache = new Map<string, { cal: TradingCalendar; specs: FnoSpecs }>();

const round2 = (x: number): number => Math.round(x * 100) / 100;

export class ReplayMarket implements SimMarket {
  readonly day: string;
  readonly openMs: number;
  readonly closeMs: number;
  /** Where the INDIA VIX level comes from (proxy, configured, real file or default), in words. */
  readonly vixSource: string;
  /** The day's base INDIA VIX level (before the intraday leverage adjustment). */
  readonly vixBaseLevel: number;
  /** BANKNIFTY ATM IV / NIFTY ATM IV used today. */
  readonly bankIvRatio: number;
  readonly ticksPerMinute: number;
  readonly optionTickEvery: number;
  /** Expiries listed today per underlying, ascending. */
  readonly expiries: Readonly<Record<Underlying, readonly string[]>>;

  private now: number;
  private emitting = false;
  /**
   * Where the last `advanceTo` left each feed's cursor, for the same token set
   * (by identity): the next call from that time goes on from them instead of
   * finding each feed's minute and tick again. A replay calls every 250 ms of
   * market time, 90,000 times a day, mostly with the same subscriptions.
   */
  private cursors: { tokens: ReadonlySet<string>; at: number; curs: Cursor[]; next: number } | undefined;
  private readonly seedWord: number;
  private readonly feeds: readonly Feed[];
  private readonly feedByToken = new Map<string, Feed>();
  /** Options priced so far (see `opt`), and what each listed one is made from. */
  private readonly optByToken = new Map<string, Opt>();
  private readonly optSpecs = new Map<string, { inst: SimInstrument; order: number; feed: Feed; expiryCloseMs: number; expF: number }>();
  private readonly series: Record<Underlying, BarSeries>;
  private readonly list: readonly SimInstrument[];
  private readonly vixMin: Float64Array;
  private readonly vixPrevClose: number;
  private readonly niftyFeed: Feed;
  private readonly realVix: readonly DailyRow[];
  private readonly vixOverride: number | undefined;

  constructor(opts: MarketOptions) {
    const { day, seed } = opts;
    if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`createMarket: day must be YYYY-MM-DD, got '${String(day)}'`);
    if (!Number.isFinite(seed)) throw new RangeError(`createMarket: seed must be a finite number, got ${seed}`);
    const tps = opts.ticksPerSecond ?? DEFAULT_TICKS_PER_SECOND;
    this.ticksPerMinute = ticksPerMinute(tps);
    const n = opts.strikesAround ?? 10;
    if (!(Number.isInteger(n) && n >= 0 && n <= 200)) throw new RangeError(`createMarket: strikesAround must be an integer in [0, 200], got ${n}`);
    const every = opts.optionTickEvery ?? 1;
    if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`createMarket: optionTickEvery must be a positive integer, got ${every}`);
    this.optionTickEvery = every;
    this.vixOverride = opts.vixLevel;

    const dataDir = opts.dataDir ?? findRepoPath('data/market');
    const calDir = opts.calendarDir ?? DEFAULT_CALENDAR_DIR;
    const series = seriesFor(dataDir, opts.bars, day);
    const vixFile = findDataFile(dataDir, 'indiavix_1d_', false);
    this.realVix = vixFile === undefined ? [] : loadDailyBars(vixFile);
    let cs = calendarCache.get(calDir);
    if (cs === undefined) calendarCache.set(calDir, (cs = { cal: TradingCalendar.load(calDir), specs: FnoSpecs.load(calDir) }));
    const { cal, specs } = cs;

    const days = series.NIFTY.days.filter((d) => series.BANKNIFTY.byDay.has(d));
    if (!days.includes(day)) {
      const why = cal.holidays.has(day) ? ' (an exchange holiday)' : [0, 6].includes(weekday(day)) ? ' (a weekend)' : '';
      throw new RangeError(
        `createMarket: ${day}${why} is not a bundled session; the bundled NIFTY/BANKNIFTY 1-minute data in ${dataDir} covers ` +
        `${days[0]} → ${days[days.length - 1]} (${days.length} sessions; weekends, holidays and sessions missing from the source are absent)`,
      );
    }
    this.day = day;
    this.seedWord = hash4(seed >>> 0, Math.floor(seed / 4294967296) | 0, 0x5eed, 0);

    // VIX: base level, per-minute values, yesterday's close.
    const niftyIdx = series.NIFTY.days.indexOf(day);
    const base = vixBase(series.NIFTY, niftyIdx, this.realVix, this.vixOverride);
    this.vixSource = base.source;
    this.vixBaseLevel = base.level;
    const niftyBars = series.NIFTY.byDay.get(day)!;
    this.vixMin = vixPerMinute(base.level, niftyBars);
    const shockAt = opts.shock === undefined ? -1 : niftyBars.findIndex((b) => b.ts >= istToMillis(day, opts.shock!.at));
    if (opts.shock?.vixFactor !== undefined && shockAt >= 0) {
      for (let m = shockAt; m < this.vixMin.length; m++) this.vixMin[m] = Math.round(this.vixMin[m]! * opts.shock.vixFactor * 100) / 100;
    }
    const bankIdx = series.BANKNIFTY.days.indexOf(day);
    this.bankIvRatio = bankVolRatio(series.NIFTY, niftyIdx, series.BANKNIFTY, bankIdx);
    const prevVix = niftyIdx > 0 ? this.vixDay(series.NIFTY, niftyIdx - 1).v : undefined;
    this.vixPrevClose = prevVix === undefined ? this.vixMin[0]! : prevVix[prevVix.length - 1]!;

    this.openMs = niftyBars[0]!.ts;
    this.closeMs = niftyBars[niftyBars.length - 1]!.ts + 60_000;
    this.now = this.openMs - 1;

    const list: SimInstrument[] = [
      { token: INDICES.NIFTY.token, symbol: INDICES.NIFTY.symbol, name: 'NIFTY', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      { token: INDICES.BANKNIFTY.token, symbol: INDICES.BANKNIFTY.symbol, name: 'BANKNIFTY', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      { token: VIX_INFO.token, symbol: VIX_INFO.symbol, name: VIX_INFO.name, segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
    ];
    const feeds: Feed[] = [];
    const expiries = {} as Record<Underlying, string[]>;
    for (const u of UNDERLYINGS) {
      const s = series[u];
      const dayIdx = s.days.indexOf(day);
      const bars = shifted(s.byDay.get(day)!, shockAt, opts.shock?.indexPct ?? 0);
      const prevBars = dayIdx > 0 ? s.byDay.get(s.days[dayIdx - 1]!)! : undefined;
      const dayOpen = bars[0]!.open;
      const prevClose = prevBars === undefined ? dayOpen : prevBars[prevBars.length - 1]!.close;
      const prefHi = new Float64Array(bars.length + 1);
      const prefLo = new Float64Array(bars.length + 1);
      prefHi[0] = -Infinity;
      prefLo[0] = Infinity;
      for (let m = 0; m < bars.length; m++) {
        prefHi[m + 1] = Math.max(prefHi[m]!, bars[m]!.high);
        prefLo[m + 1] = Math.min(prefLo[m]!, bars[m]!.low);
      }
      const { hi: hi52, lo: lo52 } = priorRange(s, dayIdx);
      const atmIv = new Float64Array(bars.length);
      const ratio = u === 'BANKNIFTY' ? this.bankIvRatio : 1;
      // VIX minutes follow NIFTY's bars; both indices share the session's minutes.
      for (let m = 0; m < bars.length; m++) atmIv[m] = (this.vixMin[Math.min(m, this.vixMin.length - 1)]! / 100) * ratio;
      const feed: Feed = {
        info: INDICES[u], series: s, dayIdx, bars, tokenHash: hashString(INDICES[u].token), prevClose, dayOpen,
        prefHi, prefLo, hi52Prior: hi52, lo52Prior: lo52, path: new MinutePath(this.ticksPerMinute, 0.05), atmIv,
        refSpot: prevClose, step: specs.strikeStep(u),
      };
      feeds.push(feed);
      this.feedByToken.set(feed.info.token, feed);

      // Option chain: strikes around both the previous close and today's open (known at 09:15).
      const ex = listedExpiries(u, day, specs, cal);
      expiries[u] = ex.map((e) => e.date);
      const strikes = strikesAround(Math.min(prevClose, dayOpen), Math.max(prevClose, dayOpen), feed.step, n);
      ex.forEach((e, ei) => {
        const lot = specs.lotSize(u, e.date);
        const expiryCloseMs = istToMillis(e.date, '15:30');
        const expF = ei === 0 ? 1 : ei === 1 ? 0.45 : 0.3;
        for (const k of strikes) {
          for (const type of ['CE', 'PE'] as const) {
            const token = optionToken(u, e.date, k, type);
            const inst: SimInstrument = {
              token, symbol: optionSymbol(u, e.date, k, type), name: u, segment: 'NFO', type: 'OPTIDX', expiry: e.date,
              strike: k, optionType: type, lotSize: lot, tickSize: OPTION_TICK, freezeQty: INDICES[u].freezeQty, underlyingToken: feed.info.token,
            };
            this.optSpecs.set(token, { inst, order: list.length, feed, expiryCloseMs, expF });
            list.push(inst);
          }
        }
      });
    }
    this.feeds = feeds;
    this.niftyFeed = feeds[0]!;
    this.list = list;
    this.expiries = expiries;
    this.series = series;
  }

  /**
   * An option's pricing state, made on first use: a chain lists ~260 contracts a day and a backtest
   * prices a handful, so making them all each morning (two Black–Scholes prices each) was most of a
   * day's market. Everything in it follows from the day's market and the contract alone, so when it
   * is made does not change it.
   */
  private opt(token: string): Opt | undefined {
    const made = this.optByToken.get(token);
    if (made !== undefined) return made;
    const spec = this.optSpecs.get(token);
    if (spec === undefined) return undefined;
    const { inst, feed, expF } = spec;
    const k = inst.strike!;
    const th = hashString(token);
    const d = (k - feed.prevClose) / feed.step; // signed distance in strikes
    const w = Math.exp(-((d / 5) ** 2));
    const otm = inst.optionType === 'CE' ? d : -d;
    const wOi = 0.12 + Math.exp(-(((otm - 2) / 6) ** 2));
    const o: Opt = {
      inst, order: spec.order, feed, strike: k, lot: spec.inst.lotSize, tokenHash: th, expiryCloseMs: spec.expiryCloseMs,
      bs: new BsFixed(inst.optionType === 'CE', k), bsMinute: -1, iv: 0, years: 0, absX: 0,
      rate: (0.25 + 3 * w) * expF,
      lotsPerTrade: 1 + Math.floor(hashUnit(this.seedWord, th, 1) * (1 + 8 * w)),
      depthLots: 2 + 30 * w * expF,
      oi0Lots: Math.max(1, Math.round(4000 * expF * wOi * (0.8 + 0.4 * hashUnit(this.seedWord, th, 2)))),
      oiDrift: -0.3 + 0.8 * hashUnit(this.seedWord, th, 3),
      prevClose: 0, upper: 0, dayOpen: NaN, doneTo: 0, hiAgg: -Infinity, loAgg: Infinity, vwNum: 0, vwDen: 0,
      curM: -1, curHiS: NaN, curLoS: NaN, curHi: 0, curLo: 0,
    };
    this.initOptionRefs(o, this.series);
    this.optByToken.set(token, o);
    return o;
  }

  instruments(): readonly SimInstrument[] {
    return this.list;
  }

  /** Market time: the last `advanceTo` target (openMs − 1 before the first). */
  time(): number {
    return this.now;
  }

  advanceTo(toMs: number, tokens: ReadonlySet<string>, onTick: (q: SimQuote) => void): void {
    if (this.emitting) throw new Error('advanceTo: called from inside onTick');
    if (!(toMs >= this.now)) throw new RangeError(`advanceTo: cannot go back from ${this.now} to ${toMs}`);
    const from = this.now;
    if (toMs === from) return;
    const n = this.ticksPerMinute;
    const every = this.optionTickEvery;

    // Nothing due before `toMs` (most of a coarse replay's steps): time moves, the cursors stay.
    if (this.nextTickAt(tokens) > toMs) {
      this.cursors!.at = toMs;
      this.now = toMs;
      return;
    }
    const curs = this.cursors!.curs;
    this.cursors = undefined;
    // A kept cursor inside a minute reads that minute's tick times: the feed's path must be that minute's.
    for (const c of curs) if (c.feed !== undefined && c.p > 0 && c.m < c.feed.bars.length) this.pathFor(c.feed, c.m);

    this.emitting = true;
    try {
      for (;;) {
        let best: Cursor | undefined;
        let bestTs = Infinity;
        for (const c of curs) {
          const t = this.nextTs(c);
          if (t < bestTs) { bestTs = t; best = c; }
        }
        if (best === undefined || bestTs > toMs) {
          this.cursors = { tokens, at: toMs, curs, next: bestTs };
          break;
        }
        this.now = bestTs;
        const f = best.feed;
        if (f === undefined) {
          onTick(this.vixQuote(best.m));
          best.m++;
          continue;
        }
        const { m, p } = best;
        this.pathFor(f, m);
        if (best.idx) onTick(this.indexQuote(f, m, p));
        const ordinal = m * n + p;
        if (best.opts.length > 0 && ordinal % every === 0) for (const o of best.opts) onTick(this.optionQuote(o, m, p));
        if (++best.p >= n) { best.m++; best.p = 0; }
      }
    } finally {
      this.emitting = false;
      this.now = toMs;
    }
  }

  nextTickAt(tokens: ReadonlySet<string>): number {
    if (this.emitting) throw new Error('nextTickAt: called from inside onTick');
    const kept = this.cursors;
    if (kept !== undefined && kept.tokens === tokens && kept.at === this.now) return kept.next;
    const curs = this.cursorsAt(this.now, tokens);
    let next = Infinity;
    for (const c of curs) {
      // As in advanceTo: a cursor inside a minute reads that minute's tick times.
      if (c.feed !== undefined && c.p > 0 && c.m < c.feed.bars.length) this.pathFor(c.feed, c.m);
      const t = this.nextTs(c);
      if (t < next) next = t;
    }
    this.cursors = { tokens, at: this.now, curs, next };
    return next;
  }

  /** When a cursor's next tick is (Infinity past the day's last bar). */
  private nextTs(c: Cursor): number {
    if (c.feed === undefined) return c.m < this.niftyFeed.bars.length ? this.niftyFeed.bars[c.m]!.ts : Infinity;
    if (c.m >= c.feed.bars.length) return Infinity;
    return c.p === 0 ? c.feed.bars[c.m]!.ts : c.feed.path.ts[c.p]!;
  }

  /** Cursors at `from`: one per index feed that is subscribed or has a subscribed option, plus VIX. */
  private cursorsAt(from: number, tokens: ReadonlySet<string>): Cursor[] {
    const n = this.ticksPerMinute;
    const curs: Cursor[] = [];
    const optsOf = new Map<Feed, Opt[]>();
    for (const t of tokens) {
      const o = this.opt(t);
      if (o === undefined) continue;
      let a = optsOf.get(o.feed);
      if (a === undefined) optsOf.set(o.feed, (a = []));
      a.push(o);
    }
    for (const f of this.feeds) {
      const idx = tokens.has(f.info.token);
      const opts = (optsOf.get(f) ?? []).sort((a, b) => a.order - b.order);
      if (!idx && opts.length === 0) continue;
      let m = lastBarAtOrBefore(f.bars, from);
      let p = 0;
      if (m < 0) m = 0;
      else {
        p = this.pathFor(f, m).lastAtOrBefore(from) + 1;
        if (p >= n) { m++; p = 0; }
      }
      curs.push({ feed: f, idx, opts, m, p });
    }
    if (tokens.has(VIX_INFO.token)) {
      const bars = this.niftyFeed.bars;
      curs.push({ feed: undefined, idx: true, opts: [], m: lastBarAtOrBefore(bars, from) + 1, p: 0 });
    }
    return curs;
  }

  quote(token: string): SimQuote | undefined {
    const f = this.feedByToken.get(token);
    if (f !== undefined) {
      const loc = this.locate(f);
      return loc === undefined ? this.preOpenIndexQuote(f) : this.indexQuote(f, loc.m, loc.p);
    }
    const o = this.opt(token);
    if (o !== undefined) {
      const loc = this.locate(o.feed);
      return loc === undefined ? this.preOpenOptionQuote(o) : this.optionQuote(o, loc.m, loc.p);
    }
    if (token === VIX_INFO.token) return this.vixQuote(lastBarAtOrBefore(this.niftyFeed.bars, this.now));
    return undefined;
  }

  /**
   * Source 1-minute bars with start in [fromMs, toMs): for NIFTY and BANKNIFTY
   * the real bars of every bundled session up to the replayed day; INDIA VIX
   * the proxy's per-minute values (flat bars); an option today's bars as its
   * ticks show them. On the replayed day only completed bars (start + 60 s <=
   * market time) are returned, so nothing from the future leaks. Copies.
   */
  minuteBars(token: string, fromMs: number, toMs: number): SimBar[] {
    const out: SimBar[] = [];
    const f = this.feedByToken.get(token);
    const vix = token === VIX_INFO.token;
    if (f !== undefined || vix) {
      const s = (f ?? this.niftyFeed).series;
      const last = (f ?? this.niftyFeed).dayIdx;
      for (let i = 0; i <= last; i++) {
        // The replayed day as served (a crafted shock included); earlier days as bundled.
        const bars = i === last ? (f ?? this.niftyFeed).bars : s.byDay.get(s.days[i]!)!;
        if (bars[bars.length - 1]!.ts < fromMs || bars[0]!.ts >= toMs) continue;
        const v = vix ? (i === last ? this.vixMin : this.vixDay(s, i).v) : undefined;
        bars.forEach((b, m) => {
          if (b.ts < fromMs || b.ts >= toMs) return;
          if (i === last && b.ts + 60_000 > this.now) return; // only completed bars on the replayed day
          if (v === undefined) out.push({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume });
          else out.push({ ts: b.ts, open: v[m]!, high: v[m]!, low: v[m]!, close: v[m]!, volume: 0 });
        });
      }
      return out;
    }
    const o = this.opt(token);
    if (o === undefined) return out;
    // Options: today's completed minutes, exact given the index bar (premium is monotone in spot within a minute).
    const bars = o.feed.bars;
    for (let m = 0; m < bars.length; m++) {
      const b = bars[m]!;
      if (b.ts + 60_000 > this.now) break;
      if (b.ts < fromMs || b.ts >= toMs) continue;
      this.setMinute(o, m);
      const pH = ltpOf(o.bs.price(b.high));
      const pL = ltpOf(o.bs.price(b.low));
      const v0 = this.volumeAt(o, b.ts);
      const v1 = this.volumeAt(o, b.ts + 60_000); // trades in (start, end]: minute volumes add up to the day's
      out.push({ ts: b.ts, open: ltpOf(o.bs.price(b.open)), high: Math.max(pH, pL), low: Math.min(pH, pL), close: ltpOf(o.bs.price(b.close)), volume: v1 - v0 });
    }
    return out;
  }

  /**
   * The option's theoretical (unrounded) premium now, with its inputs: IV at
   * its strike, ATM IV, underlying spot and years to expiry (T and IV as of
   * the current minute's start). Undefined for non-option tokens.
   */
  theo(token: string): { price: number; iv: number; atmIv: number; spot: number; years: number; ts: number } | undefined {
    const o = this.opt(token);
    if (o === undefined) return undefined;
    const loc = this.locate(o.feed);
    const m = loc?.m ?? 0;
    const spot = loc === undefined ? o.feed.prevClose : o.feed.path.px[loc.p]!;
    this.setMinute(o, m);
    return { price: o.bs.price(spot), iv: o.iv, atmIv: o.feed.atmIv[m]!, spot, years: o.years, ts: loc === undefined ? this.now : o.feed.path.ts[loc.p]! };
  }

  // ---- internals -------------------------------------------------------------

  private pathFor(f: Feed, m: number): MinutePath {
    const b = f.bars[m]!;
    if (f.path.barTs !== b.ts) f.path.fill(b, hash4(this.seedWord, f.tokenHash, b.ts / 60_000, 0));
    return f.path;
  }

  /** The feed's minute and tick at the current time, or undefined before its first tick. */
  private locate(f: Feed): Loc | undefined {
    const m = lastBarAtOrBefore(f.bars, this.now);
    if (m < 0) return undefined;
    return { m, p: this.pathFor(f, m).lastAtOrBefore(this.now) };
  }

  private indexQuote(f: Feed, m: number, p: number): SimQuote {
    const path = f.path;
    const ts = path.ts[p]!;
    const high = Math.max(f.prefHi[m]!, path.hi[p]!);
    const low = Math.min(f.prefLo[m]!, path.lo[p]!);
    return {
      token: f.info.token, ts, ltp: path.px[p]!, lastQty: 0, volume: 0, avgPrice: 0,
      open: f.dayOpen, high, low, prevClose: f.prevClose, oi: 0,
      bids: ZERO_LEVELS, asks: ZERO_LEVELS, totBuyQty: 0, totSellQty: 0,
      upperCircuit: roundTick(f.prevClose * 1.2), lowerCircuit: roundTick(f.prevClose * 0.8),
      high52: Math.max(f.hi52Prior, high), low52: Math.min(f.lo52Prior, low), lastTradeTs: ts,
    };
  }

  private preOpenIndexQuote(f: Feed): SimQuote {
    const c = f.prevClose;
    return {
      token: f.info.token, ts: this.now, ltp: c, lastQty: 0, volume: 0, avgPrice: 0, open: c, high: c, low: c, prevClose: c, oi: 0,
      bids: ZERO_LEVELS, asks: ZERO_LEVELS, totBuyQty: 0, totSellQty: 0,
      upperCircuit: roundTick(c * 1.2), lowerCircuit: roundTick(c * 0.8),
      high52: Math.max(f.hi52Prior, c), low52: Math.min(f.lo52Prior, c), lastTradeTs: this.now,
    };
  }

  private vixQuote(m: number): SimQuote {
    const v = this.vixMin;
    const prev = this.vixPrevClose;
    const hist = this.vixHighLow52();
    if (m < 0) {
      return {
        token: VIX_INFO.token, ts: this.now, ltp: prev, lastQty: 0, volume: 0, avgPrice: 0, open: prev, high: prev, low: prev, prevClose: prev, oi: 0,
        bids: ZERO_LEVELS, asks: ZERO_LEVELS, totBuyQty: 0, totSellQty: 0, upperCircuit: 0, lowerCircuit: 0,
        high52: Math.max(hist.hi, prev), low52: Math.min(hist.lo, prev), lastTradeTs: this.now,
      };
    }
    const { hi, lo } = this.vixRunning();
    const high = hi[m]!;
    const low = lo[m]!;
    const ts = this.niftyFeed.bars[m]!.ts;
    return {
      token: VIX_INFO.token, ts, ltp: v[m]!, lastQty: 0, volume: 0, avgPrice: 0, open: v[0]!, high, low, prevClose: prev, oi: 0,
      bids: ZERO_LEVELS, asks: ZERO_LEVELS, totBuyQty: 0, totSellQty: 0, upperCircuit: 0, lowerCircuit: 0,
      high52: Math.max(hist.hi, high), low52: Math.min(hist.lo, low), lastTradeTs: ts,
    };
  }

  /** Today's VIX high and low up to each minute (every VIX tick reads them). */
  private vixRun: { hi: Float64Array; lo: Float64Array } | undefined;
  private vixRunning(): { hi: Float64Array; lo: Float64Array } {
    if (this.vixRun === undefined) {
      const v = this.vixMin;
      const hi = new Float64Array(v.length);
      const lo = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        hi[i] = Math.max(i > 0 ? hi[i - 1]! : -Infinity, v[i]!);
        lo[i] = Math.min(i > 0 ? lo[i - 1]! : Infinity, v[i]!);
      }
      this.vixRun = { hi, lo };
    }
    return this.vixRun;
  }

  /** Per-minute VIX of bundled session `i` of `s` (NIFTY) with its range; today's is the market's own (shocks included). */
  private vixDay(s: BarSeries, i: number): VixDay {
    const day = s.days[i]!;
    if (day === this.day) return { v: this.vixMin, ...range(this.vixMin) };
    let bySource = vixDayCache.get(s);
    if (bySource === undefined) vixDayCache.set(s, (bySource = new WeakMap()));
    let byDay = bySource.get(this.realVix);
    if (byDay === undefined) bySource.set(this.realVix, (byDay = new Map()));
    const key = `${day}|${this.vixOverride ?? ''}`;
    let d = byDay.get(key);
    if (d === undefined) {
      const v = vixPerMinute(vixBase(s, i, this.realVix, this.vixOverride).level, s.byDay.get(day)!);
      byDay.set(key, (d = { v, ...range(v) }));
    }
    return d;
  }

  private vixHiLo: { hi: number; lo: number } | undefined;
  private vixHighLow52(): { hi: number; lo: number } {
    if (this.vixHiLo === undefined) {
      let hi = -Infinity;
      let lo = Infinity;
      const s = this.niftyFeed.series;
      for (let i = 0; i < this.niftyFeed.dayIdx; i++) {
        const d = this.vixDay(s, i);
        if (d.hi > hi) hi = d.hi;
        if (d.lo < lo) lo = d.lo;
      }
      this.vixHiLo = { hi, lo };
    }
    return this.vixHiLo;
  }

  /** Loads T and IV of minute m into the option's pricer. */
  private setMinute(o: Opt, m: number): void {
    if (o.bsMinute === m) return;
    const f = o.feed;
    const years = yearsToExpiry(f.bars[m]!.ts, o.expiryCloseMs);
    const atm = f.atmIv[m]!;
    o.iv = smileIv(atm, o.strike, f.refSpot, years);
    o.absX = Math.abs(moneyness(o.strike, f.refSpot, atm, years));
    o.years = years;
    o.bs.set(years, o.iv);
    o.bsMinute = m;
  }

  /** Previous close, upper band and day open of an option (once, at build time). */
  private initOptionRefs(o: Opt, series: Record<Underlying, BarSeries>): void {
    const f = o.feed;
    this.setMinute(o, 0);
    o.dayOpen = ltpOf(o.bs.price(f.bars[0]!.open));
    if (f.dayIdx > 0) {
      const s = series[o.inst.name as Underlying];
      const pb = s.byDay.get(s.days[f.dayIdx - 1]!)!;
      const spot = pb[pb.length - 1]!.close;
      const years = yearsToExpiry(pb[pb.length - 1]!.ts + 60_000, o.expiryCloseMs);
      const ratio = o.inst.name === 'BANKNIFTY' ? this.bankIvRatio : 1;
      const atm = (this.vixPrevClose / 100) * ratio;
      o.prevClose = ltpOf(new BsFixed(o.bs.isCall, o.strike).set(years, smileIv(atm, o.strike, spot, years)).price(spot));
    } else o.prevClose = o.dayOpen;
    o.upper = Math.ceil((o.prevClose + 0.1 * f.refSpot) * 20) / 20;
  }

  private tradesAt(o: Opt, t: number): number {
    if (t < this.openMs) return 0;
    return Math.floor((o.rate * (Math.min(t, this.closeMs) - this.openMs)) / 1000);
  }

  private volumeAt(o: Opt, t: number): number {
    return this.tradesAt(o, t) * o.lotsPerTrade * o.lot;
  }

  /** Extends the option's day aggregates over completed minutes before m. */
  private catchUp(o: Opt, m: number): void {
    const bars = o.feed.bars;
    for (let j = o.doneTo; j < m; j++) {
      const b = bars[j]!;
      this.setMinute(o, j);
      const pH = ltpOf(o.bs.price(b.high));
      const pL = ltpOf(o.bs.price(b.low));
      const hi = pH > pL ? pH : pL;
      const lo = pH > pL ? pL : pH;
      if (hi > o.hiAgg) o.hiAgg = hi;
      if (lo < o.loAgg) o.loAgg = lo;
      const w = this.tradesAt(o, b.ts + 60_000) - this.tradesAt(o, b.ts);
      if (w > 0) {
        o.vwNum += ltpOf(o.bs.price(b.close)) * w;
        o.vwDen += w;
      }
    }
    if (m > o.doneTo) o.doneTo = m;
  }

  private optionQuote(o: Opt, m: number, p: number): SimQuote {
    const f = o.feed;
    const path = f.path;
    this.catchUp(o, m);
    this.setMinute(o, m);
    const ts = path.ts[p]!;
    const theo = o.bs.price(path.px[p]!);
    const ltp = ltpOf(theo);
    const hS = path.hi[p]!;
    const lS = path.lo[p]!;
    if (o.curM !== m || o.curHiS !== hS || o.curLoS !== lS) {
      const a = ltpOf(o.bs.price(hS));
      const b = ltpOf(o.bs.price(lS));
      o.curM = m; o.curHiS = hS; o.curLoS = lS;
      o.curHi = a > b ? a : b;
      o.curLo = a > b ? b : a;
    }
    const high = o.hiAgg > o.curHi ? o.hiAgg : o.curHi;
    const low = o.loAgg < o.curLo ? o.loAgg : o.curLo;
    const trades = this.tradesAt(o, ts);
    const { bid, ask } = bidAsk(theo, o.absX);
    const book = bookAround(bid, ask, o.lot, o.depthLots, this.seedWord, o.tokenHash, m * this.ticksPerMinute + p);
    const frac = Math.min(1, Math.max(0, (ts - this.openMs) / (this.closeMs - this.openMs)));
    return {
      token: o.inst.token, ts, ltp, lastQty: trades > 0 ? o.lotsPerTrade * o.lot : 0, volume: trades * o.lotsPerTrade * o.lot,
      avgPrice: o.vwDen > 0 ? round2(o.vwNum / o.vwDen) : ltp,
      open: o.dayOpen, high, low, prevClose: o.prevClose,
      oi: (o.oi0Lots + Math.floor(o.oiDrift * o.oi0Lots * frac)) * o.lot,
      bids: book.bids, asks: book.asks, totBuyQty: book.totBuyQty, totSellQty: book.totSellQty,
      upperCircuit: o.upper, lowerCircuit: OPTION_TICK,
      high52: Math.max(o.prevClose, high), low52: Math.min(o.prevClose, low),
      lastTradeTs: trades > 0 ? Math.floor(this.openMs + (trades * 1000) / o.rate) : ts,
    };
  }

  private preOpenOptionQuote(o: Opt): SimQuote {
    const c = o.prevClose;
    const { bid, ask } = bidAsk(c, 0);
    const book = bookAround(bid, ask, o.lot, o.depthLots, this.seedWord, o.tokenHash, -1);
    return {
      token: o.inst.token, ts: this.now, ltp: c, lastQty: 0, volume: 0, avgPrice: c, open: c, high: c, low: c, prevClose: c,
      oi: o.oi0Lots * o.lot, bids: book.bids, asks: book.asks, totBuyQty: book.totBuyQty, totSellQty: book.totSellQty,
      upperCircuit: o.upper, lowerCircuit: OPTION_TICK, high52: c, low52: c, lastTradeTs: this.now,
    };
  }
}

/** The bundled sessions (YYYY-MM-DD, ascending) that `createMarket` accepts. */
/** The day's bars with every bar from minute `from` on moved by `pct` % (a crafted shock; unchanged when pct is 0). */
function shifted(bars: readonly SimBar[], from: number, pct: number): readonly SimBar[] {
  if (pct === 0 || from < 0) return bars;
  const k = 1 + pct / 100;
  const r = (x: number): number => Math.round(x * k * 100) / 100;
  return bars.map((b, m) => (m < from ? b : { ...b, open: r(b.open), high: r(b.high), low: r(b.low), close: r(b.close) }));
}

/** The sessions the market can replay: bundled days of both indices, or every day of a user's bar file. */
export function bundledSessions(dataDir?: string, bars?: MarketOptions['bars']): string[] {
  if (bars !== undefined) return [...loadMinuteBars(bars.file).days];
  const dir = dataDir ?? findRepoPath('data/market');
  const a = loadMinuteBars(findDataFile(dir, FILE_PREFIX.NIFTY, true)!);
  const b = loadMinuteBars(findDataFile(dir, FILE_PREFIX.BANKNIFTY, true)!);
  return a.days.filter((d) => b.byDay.has(d));
}

/** Both indices' minute bars for `day`: bundled, or a user's file for one with its stand-in where the other lacks the day. */
function seriesFor(dataDir: string, bars: MarketOptions['bars'], day: string): Record<Underlying, ReturnType<typeof loadMinuteBars>> {
  const bundled = (u: Underlying) => loadMinuteBars(findDataFile(dataDir, FILE_PREFIX[u], true)!);
  if (bars === undefined) return { NIFTY: bundled('NIFTY'), BANKNIFTY: bundled('BANKNIFTY') };
  const own = loadMinuteBars(bars.file);
  const otherName: Underlying = bars.underlying === 'NIFTY' ? 'BANKNIFTY' : 'NIFTY';
  const other = bundled(otherName);
  return { [bars.underlying]: own, [otherName]: other.byDay.has(day) ? other : own } as Record<Underlying, ReturnType<typeof loadMinuteBars>>;
}

/**
 * `count` consecutive trading days from `from` on (or every one through `to`),
 * by the exchange calendar: weekends and holidays are skipped, a weekend
 * special session (Saturday 2024-01-20) is included. Every one must be a
 * bundled session — a trading day the data lacks (2024-02-01 is absent from
 * the source) is an error naming it, not a silent gap: a daemon whose
 * calendar expects that session would wait for a day the replay never serves.
 */
export function consecutiveSessions(o: { from: string; count?: number; to?: string; dataDir?: string; calendarDir?: string }): string[] {
  const bundled = bundledSessions(o.dataDir);
  const have = new Set(bundled);
  const calDir = o.calendarDir ?? DEFAULT_CALENDAR_DIR;
  let cs = calendarCache.get(calDir);
  if (cs === undefined) calendarCache.set(calDir, (cs = { cal: TradingCalendar.load(calDir), specs: FnoSpecs.load(calDir) }));
  const cal = cs.cal;
  if (o.count === undefined && o.to === undefined) throw new RangeError('consecutiveSessions: give count or to');
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count >= 1)) throw new RangeError(`consecutiveSessions: count must be an integer ≥ 1, got ${o.count}`);
  if (!have.has(o.from)) throw new RangeError(`consecutiveSessions: ${o.from} is not a bundled session (${bundled[0]} … ${bundled.at(-1)})`);
  const last = bundled.at(-1)!;
  const out: string[] = [];
  for (let d = o.from; d <= last; d = nextDate(d)) {
    if (o.to !== undefined && d > o.to) break;
    if (o.count !== undefined && out.length === o.count) break;
    if (!cal.isTradingDay(d)) continue;
    if (!have.has(d)) throw new RangeError(`consecutiveSessions: ${d} is a trading day the bundled data lacks; choose days that avoid it`);
    out.push(d);
  }
  if (o.count !== undefined && out.length < o.count) {
    throw new RangeError(`consecutiveSessions: only ${out.length} bundled trading days from ${o.from} (the data ends ${last}), ${o.count} asked`);
  }
  return out;
}

const nextDate = (d: string): string => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Builds the market for one bundled session. Throws naming the bundled range if `day` is not one. */
export function createMarket(opts: MarketOptions): ReplayMarket {
  return new ReplayMarket(opts);
}
