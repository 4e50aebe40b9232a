/**
 * The config schema: every key Rustro reads from its TOML file, with its
 * default and what it accepts. One zod schema; every key has a default, so an
 * empty file is a valid config. Keys are snake_case here exactly as in TOML.
 *
 * Each field carries its own "expected …" text (type, allowed values, range
 * with unit), which the loader prints verbatim next to the key path and the
 * value found. A new key is added here, documented in `config.example.toml`,
 * and nowhere else.
 */
import { z } from 'zod';
import { EXCHANGES, TIMEFRAME_NAMES } from './events.js';

/** An integer in [min, max]; `unit` is printed after the range ("ms", "seconds"). */
function intIn(min: number, max: number, unit?: string) {
  const error = `an integer from ${min} to ${max}${unit === undefined ? '' : ` (${unit})`}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}

const bool = () => z.boolean({ error: 'true or false' });

/** A number in [min, max]; `unit` is printed after the range ("%", "points"). */
function numIn(min: number, max: number, unit?: string) {
  const error = `a number from ${min} to ${max}${unit === undefined ? '' : ` (${unit})`}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/** An ascending list of percentages, one per ladder step. */
function pctLadder(dflt: number[]) {
  const error = 'a non-empty ascending list of percentages, e.g. [0.25, 0.5, 0.75, 1.0]';
  return z.array(z.number({ error }).min(0, { error }).max(20, { error }), { error })
    .min(1, { error })
    .refine((l) => l.every((x, i) => i === 0 || x > l[i - 1]!), { error })
    .default(dflt);
}

/** A time of day in IST, "HH:MM". */
function istTime(example: string) {
  const error = `a time HH:MM (IST), e.g. "${example}"`;
  return z.string({ error }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error });
}

/** The index underlyings Rustro trades options on. */
export const UNDERLYINGS = ['NIFTY', 'BANKNIFTY', 'SENSEX'] as const;
export const STRATEGY_NAMES = ['adx-mtf', 'supertrend-scalper'] as const;
export const VALIDATION_MODES = ['conservative', 'balanced', 'aggressive'] as const;

function url(protocols: string[]) {
  const error = `a URL (${protocols.map((p) => p.replace(':', '://')).join(' or ')}…)`;
  return z.string({ error }).refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, { error });
}

/** Requests per [second, minute, hour]; 0 = no cap in that window. */
function caps(dflt: [number, number, number]) {
  const error = 'a list of three integers [per second, per minute, per hour] (0 = no cap)';
  return z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)], { error })
    .refine((c) => c[0] > 0 || c[1] > 0 || c[2] > 0, { error: 'at least one window capped (all three are 0)' })
    .default(dflt);
}

/** A TOML table whose keys all have defaults (so a missing table is `{}`, filled in); unknown keys are errors. */
function table<S extends z.core.$ZodLooseShape>(shape: S) {
  // `{}` is a valid input because every key has a default; TS cannot see that through the generic.
  return z.strictObject(shape, { error: 'a table' }).prefault({} as never);
}

/**
 * A table with pairs of keys that must be in order (a range's low end below
 * its high end); the problem is reported at the high key, naming both.
 */
function orderedTable<S extends z.core.$ZodLooseShape>(shape: S, pairs: readonly (readonly [keyof S & string, keyof S & string])[]) {
  return z.strictObject(shape, { error: 'a table' })
    .superRefine((t, ctx) => {
      const row = t as Record<string, number | string>;
      for (const [lo, hi] of pairs) {
        if (row[lo]! >= row[hi]!) ctx.addIssue({ code: 'custom', path: [hi], params: { value: row[hi] }, message: `a value above ${lo} (${JSON.stringify(row[lo])})` });
      }
    })
    .prefault({} as never);
}


export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export const configSchema = z.strictObject(
  {
    app: table({
      /** ledger/, bars/, instruments/ and the lock file live here; relative → against the config file's dir. */
      data_dir: z.string({ error: 'a directory path (string)' }).min(1, { error: 'a non-empty directory path' }).default('data'),
      log_level: oneOf(LOG_LEVELS).default('info'),
      log_format: oneOf(LOG_FORMATS).default('auto'),
      shutdown_timeout_sec: intIn(1, 300, 'seconds').default(20),
    }),
    trading: table({
      enable_paper_trading: bool().default(true),
      /** Trading capital in rupees: the base of the risk budget, allocation caps and the daily loss limit. */
      capital: numIn(1000, 1_000_000_000, 'rupees').default(500_000),
      risk_per_trade_pct: numIn(0.01, 100, '% of capital').default(1),
      max_lots: intIn(1, 1000, 'lots').default(10),
      /** Premium outlay per underlying, as % of capital. */
      capital_alloc_pct: numIn(0.1, 100, '% of capital').default(25),
      /** Lots are scaled by vix_scale at or above vix_scale_from (INDIA VIX). */
      vix_scale_from: numIn(0, 200).default(20),
      vix_scale: numIn(0, 1, 'factor').default(0.5),
      /** Lots are scaled by dte_scale when the option has at most dte_scale_days days to expiry (0 = expiry day). */
      dte_scale_days: intIn(0, 30, 'days').default(0),
      dte_scale: numIn(0, 1, 'factor').default(0.5),
      product: oneOf(['INTRADAY', 'CARRYFORWARD'] as const).default('INTRADAY'),
      flatten_on_shutdown: bool().default(true),
    }),
    orders: table({
      /** LIMIT entry prices above the last price, one per ladder step (the first is the placement). */
      entry_ladder_pct: pctLadder([0.25, 0.5, 0.75, 1.0]),
      /** LIMIT exit prices below the last price, one per ladder step. */
      exit_ladder_pct: pctLadder([0.25, 0.5, 0.75, 1.0]),
      ladder_step_sec: intIn(1, 600, 'seconds').default(5),
      /** After the exit ladder, the exit becomes a MARKET order (false: it stays at the last step). */
      exit_market_fallback: bool().default(true),
      /** A LIMIT price further than this from the last price is refused as a fat finger. */
      fat_finger_pct: numIn(0.1, 100, '% of the last price').default(5),
      /** The option's last tick must be at most this old to price or place an order. */
      max_quote_age_sec: intIn(1, 600, 'seconds').default(10),
      /**
       * After a restart, an entry decided but never at the broker (the daemon died between the
       * signal and the exchange's receipt of the order) is still made within this many seconds
       * of its signal; 0: never. The pre-trade checks run again, on fresh prices.
       */
      resume_entry_sec: intIn(0, 600, 'seconds').default(60),
    }),
    risk: table({
      daily_loss_limit_pct: numIn(0.01, 100, '% of capital').default(2),
      max_consecutive_losses: intIn(1, 100, 'losses').default(3),
      max_concurrent_positions: intIn(1, 100, 'positions').default(3),
      /** INDIA VIX at or above this level exits everything and halts for the day. */
      vix_halt_level: numIn(1, 200).default(30),
      /** INDIA VIX up this much from the day's first print also halts. */
      vix_jump_pct: numIn(1, 1000, '% above the day\'s first print').default(15),
      /** No new entry on an underlying this soon after a position on it closed. */
      cooldown_after_exit_sec: intIn(0, 86_400, 'seconds').default(300),
      /** IST: positions are exited from this time (SPEC: mandatory exit at 15:20). */
      end_of_day_exit: istTime('15:20').default('15:20'),
    }),
    charges: table({
      /** Rates for index options (NSE/BSE F&O) in force on 2026-11-22 — see config.example.toml for sources. */
      /** Per executed order; with brokerage_pct > 0 the lower of the two (0 = flat per order). */
      brokerage_per_order: numIn(0, 1000, 'rupees').default(20),
      brokerage_pct: numIn(0, 10, '% of the order\'s turnover').default(0),
      stt_sell_pct: numIn(0, 10, '% of sell premium').default(0.15),
      exchange_txn_pct_nse: numIn(0, 10, '% of premium turnover').default(0.03503),
      exchange_txn_pct_bse: numIn(0, 10, '% of premium turnover').default(0.0325),
      /** NSE's investor protection fund levy on option premium (not under GST). */
      ipft_pct_nse: numIn(0, 10, '% of premium turnover').default(0.0005),
      sebi_per_crore: numIn(0, 1000, 'rupees per crore of turnover').default(10),
      stamp_buy_pct: numIn(0, 10, '% of buy premium').default(0.003),
      gst_pct: numIn(0, 100, '% of brokerage + exchange + SEBI fees').default(18),
    }),
    paper: table({
      /** Fills at the touch plus this many ticks against the order (buys higher, sells lower). */
      slippage_ticks: intIn(0, 100, 'ticks').default(1),
      /** Time from a request to its effect (placement, modify, cancel), on the market clock. */
      latency_ms: intIn(0, 10_000, 'milliseconds').default(250),
      /** Fill at most this many lots per tick (0 = the whole order at once). */
      max_lots_per_fill: intIn(0, 1000, 'lots').default(0),
    }),
    strategy: table({
      /** The strategy that trades; the other one is not run. */
      active: oneOf(STRATEGY_NAMES).default('adx-mtf'),
      /** Index underlyings to trade; each must be streamed by an active [[watchlist]] entry. */
      underlyings: z.array(oneOf(UNDERLYINGS), { error: `a list of underlyings from ${UNDERLYINGS.map((u) => JSON.stringify(u)).join(', ')}` })
        .min(1, { error: 'a non-empty list of underlyings' })
        .refine((l) => new Set(l).size === l.length, { error: 'a list of underlyings without repeats' })
        .default([...UNDERLYINGS]),
      adx_mtf: orderedTable({
        /** The daily direction is decided at this time from completed daily bars. */
        decision_time: istTime('09:30').default('09:30'),
        adx_period: intIn(2, 100, 'bars').default(14),
        daily_adx_min: numIn(0, 100).default(20),
        di_spread_min: numIn(0, 100, 'DI points').default(2),
        hourly_adx_min: numIn(0, 100).default(25),
        rsi_period: intIn(2, 100, 'bars').default(14),
        rsi_ce_min: numIn(0, 100).default(50),
        rsi_ce_max: numIn(0, 100).default(75),
        rsi_pe_min: numIn(0, 100).default(25),
        rsi_pe_max: numIn(0, 100).default(50),
        ema_period: intIn(2, 200, 'bars').default(20),
        vix_min: numIn(0, 200).default(10),
        vix_max: numIn(0, 200).default(30),
        entry_start: istTime('10:00').default('10:00'),
        entry_end: istTime('15:00').default('15:00'),
        max_trades_per_day: intIn(0, 100, 'trades').default(2),
        /** Strikes out of the money from ATM (0 = ATM). */
        strike_offset: intIn(0, 10, 'strikes').default(0),
        stop_loss_pct: numIn(0.1, 100, '% below the entry premium').default(20),
        trail_activate_pct: numIn(0, 1000, '% above the entry premium').default(2),
        trail_pct: numIn(0.1, 100, '% below the highest premium').default(1.5),
        /** 0 = no target. */
        target_pct: numIn(0, 1000, '% above the entry premium').default(0),
        exit_time: istTime('15:20').default('15:20'),
      }, [['rsi_ce_min', 'rsi_ce_max'], ['rsi_pe_min', 'rsi_pe_max'], ['vix_min', 'vix_max'], ['entry_start', 'entry_end'], ['entry_end', 'exit_time']]),
      supertrend_scalper: table({
        st_period: intIn(2, 100, 'bars').default(10),
        st_multiplier: numIn(0.1, 20).default(3),
        adx_period: intIn(2, 100, 'bars').default(14),
        adx_min_1m: numIn(0, 100).default(18),
        adx_min_5m: numIn(0, 100).default(20),
        /** conservative: last entry 14:00, IV-rank and theta checks; balanced: 14:30, theta check; aggressive: 15:00, neither. */
        validation_mode: oneOf(VALIDATION_MODES).default('balanced'),
        entry_start: istTime('09:30').default('09:30'),
        /** IV-rank proxy: INDIA VIX's place in its range over this many daily closes. */
        iv_rank_lookback_days: intIn(5, 250, 'days').default(20),
        iv_rank_max: numIn(0, 100, '%').default(80),
        /** Theta risk: no entries on the option's expiry day from this time. */
        theta_cutoff: istTime('13:00').default('13:00'),
        max_positions_per_instrument: intIn(1, 10, 'positions').default(3),
        strike_offset: intIn(0, 10, 'strikes').default(1),
        trailing_stop_pct: numIn(0.1, 100, '% below the high-water mark').default(5),
        profit_lock_rupees: numIn(0, 10_000_000, 'rupees').default(1000),
        cooldown_sec: intIn(0, 86_400, 'seconds').default(300),
        exit_time: istTime('15:20').default('15:20'),
      }),
    }),
    options: table({
      /** On an expiry day from this time, the next expiry is traded. */
      expiry_day_cutoff: istTime('13:00').default('13:00'),
      strike_step: z.strictObject({
        NIFTY: intIn(1, 10_000, 'points').default(50),
        BANKNIFTY: intIn(1, 10_000, 'points').default(100),
        SENSEX: intIn(1, 10_000, 'points').default(100),
      }, { error: 'a table of strike steps per underlying' }).prefault({} as never),
      /** Liquidity, when quotes are available: bid-ask spread as % of mid. */
      max_spread_pct: numIn(0, 100, '%').default(3),
      /** Liquidity, when quotes are available: open interest in units (0 = no check). */
      min_oi: intIn(0, 1_000_000_000, 'units').default(0),
      /** Strikes tried beyond the chosen one when it fails the liquidity checks. */
      fallback_strikes: intIn(0, 10, 'strikes').default(2),
    }),
    health: table({
      /** A loopback HTTP endpoint with /healthz and Prometheus /metrics; off by default. */
      enabled: bool().default(false),
      host: oneOf(['127.0.0.1', '::1'] as const).default('127.0.0.1'),
      port: intIn(1, 65_535, 'TCP port').default(9464),
    }),
    retention: table({
      /** Ledger day files and tick recordings older than this many days are gzip-compressed (0 = never). */
      compress_after_days: intIn(0, 3650, 'days').default(7),
      /** Compressed files older than this many days are deleted (0 = never: nothing is deleted unless configured). */
      delete_after_days: intIn(0, 36_500, 'days').default(0),
    }),
    reconcile: table({
      /** How often the broker's order book and positions are compared with the ledger during the session (within the broker's 1 request/s budget). */
      interval_sec: intIn(10, 3600, 'seconds').default(60),
      /** A broker position the ledger does not know: "leave" it alone (and halt entries), or "manage" it (adopt it with the default exit rules). */
      unknown_position: oneOf(['leave', 'manage'] as const).default('leave'),
    }),
    ledger: table({
      group_commit_ms: intIn(1, 1000, 'milliseconds').default(5),
      group_commit_events: intIn(1, 100_000, 'events').default(1000),
    }),
    broker: table({
      /** "" = no secrets file; relative → against the config file's dir. */
      secrets_file: z.string({ error: 'a file path (string), or "" for none' }).default(''),
      api_base_url: url(['http:', 'https:']).default('https://apiconnect.angelone.in'),
      instrument_master_url: url(['http:', 'https:']).default('https://margincalculator.angelone.in/OpenAPI_File/files/OpenAPIScripMaster.json'),
      feed_url: url(['ws:', 'wss:']).default('wss://smartapisocket.angelone.in/smart-stream'),
      order_updates_url: url(['ws:', 'wss:']).default('wss://tns.angelone.in/smart-order-update'),
      http_timeout_ms: intIn(500, 60_000, 'milliseconds').default(7000),
      /** UNCERTAIN in the protocol: the market-data socket's Authorization as the raw JWT or `Bearer <jwt>`. */
      feed_authorization: oneOf(['raw', 'bearer'] as const).default('raw'),
      /** The session dies at midnight IST: log in afresh every trading morning at this time. */
      /** After an order's answer is lost, the order book is searched for its tag this often, for this long (never re-sent). */
      order_lookup_interval_sec: intIn(1, 60, 'seconds').default(3),
      order_lookup_window_sec: intIn(5, 600, 'seconds').default(30),
      daily_login_ist: istTime('08:45').default('08:45'),
    }),
    rate_limits: table({
      orders: caps([9, 500, 1000]),
      candles: caps([3, 180, 5000]),
      order_book: caps([1, 0, 0]),
      trade_book: caps([1, 0, 0]),
      positions: caps([1, 0, 0]),
      /** UNCERTAIN: the docs table says 10/s, the market-data page 1/s; 1/s is the safe reading. */
      quote: caps([1, 0, 0]),
    }),
    feed: table({
      ws_ping_interval_sec: intIn(1, 120, 'seconds').default(10),
      ws_pong_timeout_sec: intIn(1, 120, 'seconds').default(5),
      ws_reconnect_backoff_sec: z.array(intIn(0, 600, 'seconds'), { error: 'a list of seconds, e.g. [1, 2, 4, 8, 16]' })
        .min(1, { error: 'a non-empty list of seconds' }).default([1, 2, 4, 8, 16]),
      ws_max_reconnects_per_minute: intIn(1, 60, 'reconnects').default(5),
      feed_mute_sec: intIn(5, 600, 'seconds').default(30),
      /** A tick stamped further than this after the feed's clock is refused as implausible. */
      max_future_tick_sec: intIn(1, 7 * 86_400, 'seconds').default(86_400),
      mode: oneOf(['ltp', 'quote', 'snap'] as const).default('quote'),
      record_frames: bool().default(false),
    }),
    market: table({
      /** Closed bars kept in memory per (instrument, timeframe). */
      bar_buffer_size: intIn(10, 100_000, 'bars').default(500),
      /** A bar the feed leaves open this long after its end is closed by the clock. */
      bar_close_grace_ms: intIn(0, 60_000, 'milliseconds').default(2000),
      /** No tick at all for this long during the session → FeedStale (entries pause). */
      feed_stale_sec: intIn(2, 600, 'seconds').default(15),
      timeframes: z.array(oneOf(TIMEFRAME_NAMES), { error: `a list of timeframes from ${TIMEFRAME_NAMES.map((t) => JSON.stringify(t)).join(', ')}` })
        .min(1, { error: 'a non-empty list of timeframes' })
        .refine((l) => new Set(l).size === l.length, { error: 'a list of timeframes without repeats' })
        .default([...TIMEFRAME_NAMES]),
    }),
    watchlist: z.array(
      z.strictObject({
        label: z.string({ error: 'a label (string)' }).min(1, { error: 'a non-empty label' }),
        exchange: oneOf(EXCHANGES),
        token: z.string({ error: 'an instrument token (string of digits)' }).regex(/^\d{1,20}$/, { error: 'an instrument token (string of digits)' }),
        active: bool().default(true),
      }, { error: 'a table with label, exchange, token, active' }),
      { error: 'an array of [[watchlist]] tables' },
    ).default([
      { label: 'NIFTY 50', exchange: 'NSE', token: '99926000', active: true },
      { label: 'NIFTY BANK', exchange: 'NSE', token: '99926009', active: true },
      { label: 'SENSEX', exchange: 'BSE', token: '99919000', active: true },
      { label: 'INDIA VIX', exchange: 'NSE', token: '99926017', active: true },
    ]),
  },
  { error: 'a table' },
);

export type Config = z.infer<typeof configSchema>;
