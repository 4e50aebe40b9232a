import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configSchema,
  defaultConfig,
  loadConfig,
  maskedConfig,
  parseConfig,
  type Config,
} from '../../src/core/config.js';
import { Secret, secretValues, type Secrets } from '../../src/core/secrets.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const fixtures = join(root, 'test/fixtures/config');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');

/** Parses and expects a ConfigError; returns it. */
function refused(text: string, file = '/etc/rustro/config.toml'): ConfigError {
  try {
    parseConfig(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

const SECRETS = {
  api_key: 'APIKEY-s3cr3t-value',
  client_code: 'CLIENT-s3cr3t-A123',
  pin: '0417',
  totp_secret: 'JBSWY3DPEHPK3PXP',
};
const ENV_ALL = {
  RUSTRO_API_KEY: SECRETS.api_key,
  RUSTRO_CLIENT_CODE: SECRETS.client_code,
  RUSTRO_PIN: SECRETS.pin,
  RUSTRO_TOTP_SECRET: SECRETS.totp_secret,
};

const STRATEGY_DEFAULTS = {
  active: 'adx-mtf',
  underlyings: ['NIFTY', 'BANKNIFTY', 'SENSEX'],
  adx_mtf: {
    decision_time: '09:30', adx_period: 14, daily_adx_min: 20, di_spread_min: 2, hourly_adx_min: 25,
    rsi_period: 14, rsi_ce_min: 50, rsi_ce_max: 75, rsi_pe_min: 25, rsi_pe_max: 50, ema_period: 20,
    vix_min: 10, vix_max: 30, entry_start: '10:00', entry_end: '15:00', max_trades_per_day: 2, strike_offset: 0,
    stop_loss_pct: 20, trail_activate_pct: 2, trail_pct: 1.5, target_pct: 0, exit_time: '15:20',
  },
  supertrend_scalper: {
    st_period: 10, st_multiplier: 3, adx_period: 14, adx_min_1m: 18, adx_min_5m: 20, validation_mode: 'balanced',
    entry_start: '09:30', iv_rank_lookback_days: 20, iv_rank_max: 80, theta_cutoff: '13:00',
    max_positions_per_instrument: 3, strike_offset: 1, trailing_stop_pct: 5, profit_lock_rupees: 1000, cooldown_sec: 300, exit_time: '15:20',
  },
};
const TRADING_DEFAULTS = {
  capital: 500_000, risk_per_trade_pct: 1, max_lots: 10, capital_alloc_pct: 25, vix_scale_from: 20, vix_scale: 0.5,
  dte_scale_days: 0, dte_scale: 0.5, product: 'INTRADAY', flatten_on_shutdown: true,
};
const MONEY_DEFAULTS = {
  orders: { entry_ladder_pct: [0.25, 0.5, 0.75, 1.0], exit_ladder_pct: [0.25, 0.5, 0.75, 1.0], ladder_step_sec: 5, exit_market_fallback: true, fat_finger_pct: 5, max_quote_age_sec: 10, resume_entry_sec: 60 },
  risk: { daily_loss_limit_pct: 2, max_consecutive_losses: 3, max_concurrent_positions: 3, vix_halt_level: 30, vix_jump_pct: 15, cooldown_after_exit_sec: 300, end_of_day_exit: '15:20' },
  charges: { brokerage_per_order: 20, brokerage_pct: 0, stt_sell_pct: 0.15, exchange_txn_pct_nse: 0.03503, exchange_txn_pct_bse: 0.0325, ipft_pct_nse: 0.0005, sebi_per_crore: 10, stamp_buy_pct: 0.003, gst_pct: 18 },
  paper: { slippage_ticks: 1, latency_ms: 250, max_lots_per_fill: 0 },
  health: { enabled: false, host: '127.0.0.1', port: 9464 },
  retention: { compress_after_days: 7, delete_after_days: 0 },
  reconcile: { interval_sec: 60, unknown_position: 'leave' },
};
const OPTIONS_DEFAULTS = {
  expiry_day_cutoff: '13:00',
  strike_step: { NIFTY: 50, BANKNIFTY: 100, SENSEX: 100 },
  max_spread_pct: 3,
  min_oi: 0,
  fallback_strikes: 2,
};

describe('parseConfig', () => {
  it('an empty file is the defaults, with data_dir made absolute against the file', () => {
    const config = parseConfig('', '/etc/rustro/config.toml');
    expect(config).toEqual({
      app: { data_dir: '/etc/rustro/data', log_level: 'info', log_format: 'auto', shutdown_timeout_sec: 20 },
      trading: { enable_paper_trading: true, ...TRADING_DEFAULTS },
      ...MONEY_DEFAULTS,
      strategy: STRATEGY_DEFAULTS,
      options: OPTIONS_DEFAULTS,
      ledger: { group_commit_ms: 5, group_commit_events: 1000 },
      broker: {
        secrets_file: '',
        api_base_url: 'https://apiconnect.angelone.in',
        instrument_master_url: 'https://margincalculator.angelone.in/OpenAPI_File/files/OpenAPIScripMaster.json',
        feed_url: 'wss://smartapisocket.angelone.in/smart-stream',
        order_updates_url: 'wss://tns.angelone.in/smart-order-update',
        http_timeout_ms: 7000,
        feed_authorization: 'raw',
        order_lookup_interval_sec: 3,
        order_lookup_window_sec: 30,
        daily_login_ist: '08:45',
      },
      rate_limits: { orders: [9, 500, 1000], candles: [3, 180, 5000], order_book: [1, 0, 0], trade_book: [1, 0, 0], positions: [1, 0, 0], quote: [1, 0, 0] },
      feed: {
        ws_ping_interval_sec: 10,
        ws_pong_timeout_sec: 5,
        ws_reconnect_backoff_sec: [1, 2, 4, 8, 16],
        ws_max_reconnects_per_minute: 5,
        feed_mute_sec: 30,
        max_future_tick_sec: 86400,
        mode: 'quote',
        record_frames: false,
      },
      market: { bar_buffer_size: 500, bar_close_grace_ms: 2000, feed_stale_sec: 15, timeframes: ['1m', '3m', '5m', '15m', '1h', '1d'] },
      watchlist: [
        { label: 'NIFTY 50', exchange: 'NSE', token: '99926000', active: true },
        { label: 'NIFTY BANK', exchange: 'NSE', token: '99926009', active: true },
        { label: 'SENSEX', exchange: 'BSE', token: '99919000', active: true },
        { label: 'INDIA VIX', exchange: 'NSE', token: '99926017', active: true },
      ],
    });
  });

  it('reads every key and resolves relative paths against the config file directory', () => {
    const config = parseConfig(fixture('full.toml'), '/srv/rustro/etc/config.toml');
    expect(config).toEqual({
      app: { data_dir: '/srv/rustro/var/rustro', log_level: 'debug', log_format: 'json', shutdown_timeout_sec: 45 },
      trading: { enable_paper_trading: false, ...TRADING_DEFAULTS, capital: 1_000_000 },
      ...MONEY_DEFAULTS,
      strategy: {
        ...STRATEGY_DEFAULTS,
        active: 'supertrend-scalper',
        underlyings: ['NIFTY'],
        supertrend_scalper: { ...STRATEGY_DEFAULTS.supertrend_scalper, validation_mode: 'conservative', adx_min_1m: 22.5 },
      },
      options: { ...OPTIONS_DEFAULTS, expiry_day_cutoff: '12:30', strike_step: { ...OPTIONS_DEFAULTS.strike_step, NIFTY: 100 } },
      ledger: { group_commit_ms: 20, group_commit_events: 500 },
      broker: {
        secrets_file: '/srv/rustro/etc/secrets.toml',
        api_base_url: 'http://127.0.0.1:7878',
        instrument_master_url: 'http://127.0.0.1:7878/OpenAPI_File/files/OpenAPIScripMaster.json',
        feed_url: 'ws://127.0.0.1:7878/smart-stream',
        order_updates_url: 'ws://127.0.0.1:7878/smart-order-update',
        http_timeout_ms: 3000,
        feed_authorization: 'bearer',
        order_lookup_interval_sec: 2,
        order_lookup_window_sec: 60,
        daily_login_ist: '08:30',
      },
      rate_limits: { orders: [5, 200, 800], candles: [2, 100, 4000], order_book: [1, 30, 0], trade_book: [1, 30, 0], positions: [1, 30, 0], quote: [10, 500, 5000] },
      feed: {
        ws_ping_interval_sec: 15,
        ws_pong_timeout_sec: 10,
        ws_reconnect_backoff_sec: [2, 5, 30],
        ws_max_reconnects_per_minute: 3,
        feed_mute_sec: 60,
        max_future_tick_sec: 3600,
        mode: 'snap',
        record_frames: true,
      },
      market: { bar_buffer_size: 1000, bar_close_grace_ms: 500, feed_stale_sec: 20, timeframes: ['1m', '5m', '1h'] },
      watchlist: [{ label: 'NIFTY 50', exchange: 'NSE', token: '99926000', active: false }],
    });
  });

  it('keeps absolute paths as they are', () => {
    const config = parseConfig('[app]\ndata_dir = "/var/lib/rustro"\n', '/etc/rustro/config.toml');
    expect(config.app.data_dir).toBe('/var/lib/rustro');
  });

  it('a partial table keeps the defaults of the keys it leaves out', () => {
    const config = parseConfig('[ledger]\ngroup_commit_ms = 50\n', '/x/config.toml');
    expect(config.ledger).toEqual({ group_commit_ms: 50, group_commit_events: 1000 });
    expect(config.app.log_level).toBe('info');
  });

  it('refuses an unknown key inside a table, naming it and suggesting the right one', () => {
    const err = refused('[ledger]\ngroup_comit_ms = 5\n');
    expect(err.issues).toHaveLength(1);
    expect(err.message).toBe(
      '/etc/rustro/config.toml: ledger.group_comit_ms: expected a key of [ledger], did you mean group_commit_ms? ' +
        '(known: group_commit_ms, group_commit_events), found an unknown key set to 5',
    );
  });

  it('refuses an unknown top-level table', () => {
    const err = refused('[lederr]\ngroup_commit_ms = 5\n');
    expect(err.issues).toEqual([
      {
        path: 'lederr',
        expected: 'a known table, did you mean [ledger]? (known: [app], [trading], [orders], [risk], [charges], [paper], [strategy], [options], [health], [retention], [reconcile], [ledger], [broker], [rate_limits], [feed], [market], [watchlist])',
        found: 'an unknown table with keys group_commit_ms',
      },
    ]);
  });

  it('points a key written in the wrong table (or above every header) to where it belongs', () => {
    const err = refused('log_level = "debug"\n[app]\ngroup_commit_ms = 3\n');
    expect(err.message).toContain('app.group_commit_ms: expected a key of [app], did you mean ledger.group_commit_ms (in [ledger])?');
    expect(err.message).toContain('config.toml: log_level: expected a known table, did you mean app.log_level (in [app])?');
  });

  it('refuses a range whose ends are out of order, naming both keys and the default it clashes with', () => {
    const err = refused('[strategy.adx_mtf]\nvix_min = 40\nrsi_ce_min = 80\nrsi_ce_max = 60\n');
    expect(err.message.split('\n')).toEqual([
      '/etc/rustro/config.toml: strategy.adx_mtf.rsi_ce_max: expected a value above rsi_ce_min (80), found 60',
      '/etc/rustro/config.toml: strategy.adx_mtf.vix_max: expected a value above vix_min (40), found 30 (the default)',
    ]);
  });

  it('refuses a wrong type, saying what was expected and what was found', () => {
    expect(refused('[trading]\nenable_paper_trading = "yes"\n').message).toBe(
      '/etc/rustro/config.toml: trading.enable_paper_trading: expected true or false, found "yes"',
    );
    expect(refused('[ledger]\ngroup_commit_ms = "5"\n').message).toBe(
      '/etc/rustro/config.toml: ledger.group_commit_ms: expected an integer from 1 to 1000 (milliseconds), found "5"',
    );
    expect(refused('[ledger]\ngroup_commit_ms = 2.5\n').message).toBe(
      '/etc/rustro/config.toml: ledger.group_commit_ms: expected an integer from 1 to 1000 (milliseconds), found 2.5',
    );
    expect(refused('app = 5\n').message).toBe('/etc/rustro/config.toml: app: expected a table, found 5');
    expect(refused('[app]\ndata_dir = 7\n').message).toBe(
      '/etc/rustro/config.toml: app.data_dir: expected a directory path (string), found 7',
    );
  });

  it('refuses a value out of range, with the range and unit', () => {
    expect(refused('[ledger]\ngroup_commit_ms = 0\n').message).toBe(
      '/etc/rustro/config.toml: ledger.group_commit_ms: expected an integer from 1 to 1000 (milliseconds), found 0',
    );
    expect(refused('[app]\nshutdown_timeout_sec = 301\n').message).toBe(
      '/etc/rustro/config.toml: app.shutdown_timeout_sec: expected an integer from 1 to 300 (seconds), found 301',
    );
    expect(refused('[ledger]\ngroup_commit_events = 100001\n').message).toBe(
      '/etc/rustro/config.toml: ledger.group_commit_events: expected an integer from 1 to 100000 (events), found 100001',
    );
    expect(refused('[ledger]\ngroup_commit_ms = inf\n').message).toContain('found inf');
  });

  it('refuses a value not among the allowed ones, listing them', () => {
    expect(refused('[app]\nlog_level = "verbose"\n').message).toBe(
      '/etc/rustro/config.toml: app.log_level: expected one of "trace", "debug", "info", "warn", "error", "fatal", found "verbose"',
    );
    expect(refused('[app]\nlog_format = "text"\n').message).toBe(
      '/etc/rustro/config.toml: app.log_format: expected one of "auto", "json", "pretty", found "text"',
    );
  });

  it('reports every error at once, one per line', () => {
    const err = refused(fixture('many-errors.toml'), 'many-errors.toml');
    expect(err.file).toBe('many-errors.toml');
    expect(err.issues.map((i) => i.path)).toEqual([
      'app.log_level',
      'app.shutdown_timeout_sec',
      'lederr',
      'ledger.group_comit_ms',
      'ledger.group_commit_events',
      'trading.enable_paper_trading',
    ]);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^many-errors\.toml: [a-z_.]+: expected .+, found .+$/);
    expect(lines).toContain('many-errors.toml: ledger.group_commit_events: expected an integer from 1 to 100000 (events), found 200000');
    expect(lines).toContain('many-errors.toml: trading.enable_paper_trading: expected true or false, found "yes"');
  });

  it('names the file, line and column of a TOML syntax error', () => {
    const err = refused(fixture('syntax-error.toml'), 'conf/syntax-error.toml');
    expect(err.issues).toHaveLength(1);
    expect(err.message).toMatch(/^conf\/syntax-error\.toml: line 5, column \d+: expected valid TOML, found a syntax error: .+/);
  });

  it('truncates a long value found', () => {
    const long = 'x'.repeat(500);
    const err = refused(`[app]\nlog_level = "${long}"\n`);
    expect(err.issues[0]?.found.length).toBeLessThan(80);
    expect(err.issues[0]?.found).toMatch(/^"xxx+… \(502 chars\)$/);
  });

  it('refuses secrets in the config file without echoing them', () => {
    const err = refused(fixture('secrets-in-config.toml'), 'config.toml');
    expect(err.message).toBe(
      [
        'config.toml: broker.totp_secret: expected no secrets in the config file: put them in the environment (RUSTRO_TOTP_SECRET) ' +
          'or in a secrets file named by broker.secrets_file, found a value (not shown)',
        'config.toml: secrets: expected no secrets in the config file: put them in the environment ' +
          '(RUSTRO_API_KEY, RUSTRO_CLIENT_CODE, RUSTRO_PIN, RUSTRO_TOTP_SECRET) or in a secrets file named by broker.secrets_file, ' +
          'found a table (contents not shown)',
      ].join('\n'),
    );
    expect(err.message).not.toContain('LEAK');
  });

  it('refuses a top-level api_key and a secret hidden in an unknown table, without echoing them', () => {
    const err = refused('api_key = "TOPLEVEL-LEAK"\n[smartapi]\npin = "9999"\n');
    expect(err.message).toContain('config.toml: api_key: expected no secrets in the config file: put them in the environment (RUSTRO_API_KEY)');
    expect(err.message).toContain('config.toml: smartapi.pin: expected no secrets in the config file');
    expect(err.message).not.toContain('LEAK');
    expect(err.message).not.toContain('9999');
  });
});

describe('defaults and the example file', () => {
  it('config.example.toml parses to exactly the defaults (the example stays honest)', () => {
    const file = join(root, 'config.example.toml');
    const d = defaultConfig();
    expect(parseConfig(readFileSync(file, 'utf8'), file)).toEqual({ ...d, app: { ...d.app, data_dir: join(root, 'data') } });
  });

  it('config.example.toml sets every key the schema has, uncommented', () => {
    const raw = parse(readFileSync(join(root, 'config.example.toml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const d = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
    for (const table of Object.keys(d)) {
      expect(Object.keys(raw[table] ?? {}).sort(), `[${table}]`).toEqual(Object.keys(d[table] ?? {}).sort());
    }
  });

  it('defaultConfig() returns a fresh object each time', () => {
    const a = defaultConfig();
    a.ledger.group_commit_ms = 999;
    expect(defaultConfig().ledger.group_commit_ms).toBe(5);
  });
});

describe('maskedConfig', () => {
  const secrets: Secrets = {
    apiKey: new Secret(SECRETS.api_key, 'env RUSTRO_API_KEY'),
    clientCode: new Secret(SECRETS.client_code, 'file /etc/rustro/secrets.toml'),
    pin: new Secret(SECRETS.pin, 'file /etc/rustro/secrets.toml'),
    totpSecret: new Secret(SECRETS.totp_secret, 'env RUSTRO_TOTP_SECRET'),
  };

  it('prints the effective config as TOML, secrets as *** with their source, never their values', () => {
    const config = parseConfig('', '/etc/rustro/config.toml');
    const text = maskedConfig(config, secrets);
    expect(text).toContain('[app]\ndata_dir = "/etc/rustro/data"\nlog_level = "info"');
    expect(text).toContain('# api_key     = "***"  from env RUSTRO_API_KEY');
    expect(text).toContain('# pin         = "***"  from file /etc/rustro/secrets.toml');
    for (const value of secretValues(secrets)) expect(text).not.toContain(value);
  });

  it('says when secrets were not loaded', () => {
    const text = maskedConfig(defaultConfig());
    expect(text).toContain('# totp_secret = (not loaded)');
  });

  it('parses back to the same config (property)', () => {
    const arb = fc.record({
      app: fc.record({
        // Already absolute and normalized, as the loader returns it.
        data_dir: fc.string({ minLength: 1 }).map((s) => resolve('/data', s)),
        log_level: fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fatal'),
        log_format: fc.constantFrom('auto', 'json', 'pretty'),
        shutdown_timeout_sec: fc.integer({ min: 1, max: 300 }),
      }),
      trading: fc.record({ enable_paper_trading: fc.boolean() }),
      ledger: fc.record({
        group_commit_ms: fc.integer({ min: 1, max: 1000 }),
        group_commit_events: fc.integer({ min: 1, max: 100_000 }),
      }),
      broker: fc.record({ secrets_file: fc.constantFrom('', '/etc/rustro/secrets.toml') }),
    });
    fc.assert(
      fc.property(arb, (config) => {
        const valid: Config = configSchema.parse(config);
        expect(parseConfig(maskedConfig(valid, secrets), '/etc/rustro/config.toml')).toEqual(valid);
      }),
    );
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rustro-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string, mode?: number): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    if (mode !== undefined) chmodSync(file, mode);
    return file;
  }
  const secretsToml = (values: Record<string, string>) =>
    Object.entries(values).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n') + '\n';

  function loadRefused(file: string, env: NodeJS.ProcessEnv, requireSecrets = true): ConfigError {
    try {
      loadConfig(file, { env, requireSecrets });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError, but the config was accepted');
  }

  it('takes all secrets from the environment', () => {
    const file = write('config.toml', '');
    const { config, secrets, file: abs } = loadConfig(file, { env: ENV_ALL });
    expect(abs).toBe(file);
    expect(config.app.data_dir).toBe(join(dir, 'data'));
    expect(secrets?.apiKey.reveal()).toBe(SECRETS.api_key);
    expect(secrets?.apiKey.source).toBe('env RUSTRO_API_KEY');
    expect(secrets && secretValues(secrets)).toEqual([SECRETS.api_key, SECRETS.client_code, SECRETS.pin, SECRETS.totp_secret]);
  });

  it('names the file when it does not exist', () => {
    const missing = join(dir, 'nope.toml');
    const err = loadRefused(missing, ENV_ALL);
    expect(err.message).toBe(`${missing}: expected a readable config file, found no such file or directory (ENOENT)`);
  });

  it('lists every missing secret with both ways to supply it', () => {
    const file = write('config.toml', '');
    const err = loadRefused(file, { RUSTRO_API_KEY: SECRETS.api_key });
    expect(err.issues.map((i) => i.path)).toEqual(['secret client_code', 'secret pin', 'secret totp_secret']);
    expect(err.message.split('\n')).toEqual([
      `${file}: secret client_code: expected the Angel One client code: set RUSTRO_CLIENT_CODE in the environment, ` +
        'or client_code = "…" in a secrets file named by broker.secrets_file, found neither',
      `${file}: secret pin: expected the login PIN/MPIN: set RUSTRO_PIN in the environment, ` +
        'or pin = "…" in a secrets file named by broker.secrets_file, found neither',
      `${file}: secret totp_secret: expected the TOTP secret (base32): set RUSTRO_TOTP_SECRET in the environment, ` +
        'or totp_secret = "…" in a secrets file named by broker.secrets_file, found neither',
    ]);
  });

  it('an empty environment variable counts as missing', () => {
    const file = write('config.toml', '');
    const err = loadRefused(file, { ...ENV_ALL, RUSTRO_PIN: '' });
    expect(err.issues.map((i) => i.path)).toEqual(['secret pin']);
  });

  it('requireSecrets: false loads without secrets', () => {
    const file = write('config.toml', '');
    const loaded = loadConfig(file, { env: {}, requireSecrets: false });
    expect(loaded.secrets).toBeUndefined();
    expect(loaded.config.ledger.group_commit_ms).toBe(5);
  });

  it('reports config and secret problems together', () => {
    const file = write('config.toml', '[ledger]\ngroup_commit_ms = 0\n');
    const err = loadRefused(file, {});
    expect(err.issues.map((i) => i.path)).toEqual([
      'ledger.group_commit_ms',
      'secret api_key',
      'secret client_code',
      'secret pin',
      'secret totp_secret',
    ]);
  });

  it('reads a secrets file at mode 0600, resolved against the config directory', () => {
    const secretsFile = write('secrets.toml', secretsToml(SECRETS), 0o600);
    const file = write('config.toml', '[broker]\nsecrets_file = "secrets.toml"\n');
    const { config, secrets } = loadConfig(file, { env: {} });
    expect(config.broker.secrets_file).toBe(secretsFile);
    expect(secrets && secretValues(secrets)).toEqual([SECRETS.api_key, SECRETS.client_code, SECRETS.pin, SECRETS.totp_secret]);
    expect(secrets?.pin.source).toBe(`file ${secretsFile}`);
  });

  it('refuses a secrets file others can read (0644), naming it, its mode and the fix', () => {
    const secretsFile = write('secrets.toml', secretsToml(SECRETS), 0o644);
    const file = write('config.toml', '[broker]\nsecrets_file = "secrets.toml"\n');
    const err = loadRefused(file, {});
    expect(err.message).toBe(
      `${file}: broker.secrets_file: expected a secrets file only its owner can read or write ` +
        `(mode 0600 or 0400; fix: chmod 600 ${secretsFile}), found "${secretsFile}" with mode 0644`,
    );
    // Even with every secret also in the environment, the open file is refused.
    expect(loadRefused(file, ENV_ALL).message).toContain('with mode 0644');
  });

  it('refuses a group-writable secrets file (0620)', () => {
    write('secrets.toml', secretsToml(SECRETS), 0o620);
    const file = write('config.toml', '[broker]\nsecrets_file = "secrets.toml"\n');
    expect(loadRefused(file, {}).message).toContain('with mode 0620');
  });

  it('refuses a missing secrets file, naming it', () => {
    const file = write('config.toml', '[broker]\nsecrets_file = "gone.toml"\n');
    const err = loadRefused(file, ENV_ALL);
    expect(err.message).toBe(
      `${file}: broker.secrets_file: expected a readable secrets file, found "${join(dir, 'gone.toml')}" (no such file or directory (ENOENT))`,
    );
  });

  it('with requireSecrets: false, a missing secrets file is tolerated', () => {
    const file = write('config.toml', '[broker]\nsecrets_file = "gone.toml"\n');
    expect(loadConfig(file, { env: {}, requireSecrets: false }).secrets).toBeUndefined();
  });

  it('refuses an unknown key and a wrongly typed value in the secrets file, naming the file, never the value', () => {
    const secretsFile = write(
      'secrets.toml',
      `api_key = "${SECRETS.api_key}"\nclient_code = "${SECRETS.client_code}"\npin = 417\ntotp_secret = "${SECRETS.totp_secret}"\npassword = "PASSWORD-LEAK"\n`,
      0o600,
    );
    const file = write('config.toml', `[broker]\nsecrets_file = "${secretsFile}"\n`);
    const err = loadRefused(file, {});
    expect(err.message.split('\n')).toEqual([
      `${secretsFile}: pin: expected a string in quotes (e.g. pin = "…"), found an integer (value not shown)`,
      `${secretsFile}: password: expected one of the keys api_key, client_code, pin, totp_secret, found an unknown key (value not shown)`,
    ]);
    expect(err.message).not.toContain('417');
    expect(err.message).not.toContain('LEAK');
  });

  it('reports a syntax error in the secrets file by position only', () => {
    const secretsFile = write('secrets.toml', `api_key = "${SECRETS.api_key}\n`, 0o600);
    const file = write('config.toml', `[broker]\nsecrets_file = "secrets.toml"\n`);
    const err = loadRefused(file, {});
    expect(err.message).toMatch(
      new RegExp(`^${secretsFile}: line 1, column \\d+: expected valid TOML, found a syntax error \\(the text is not shown: it may hold a secret\\)$`),
    );
    expect(err.message).not.toContain(SECRETS.api_key);
  });

  it('the environment wins over the secrets file, key by key', () => {
    const secretsFile = write('secrets.toml', secretsToml(SECRETS), 0o600);
    const file = write('config.toml', '[broker]\nsecrets_file = "secrets.toml"\n');
    const { secrets } = loadConfig(file, { env: { RUSTRO_PIN: '9876', RUSTRO_API_KEY: 'ENV-API-KEY' } });
    expect(secrets?.pin.reveal()).toBe('9876');
    expect(secrets?.pin.source).toBe('env RUSTRO_PIN');
    expect(secrets?.apiKey.reveal()).toBe('ENV-API-KEY');
    expect(secrets?.clientCode.reveal()).toBe(SECRETS.client_code);
    expect(secrets?.clientCode.source).toBe(`file ${secretsFile}`);
  });

  it('refuses a TOTP secret that is not base32, without echoing it', () => {
    const file = write('config.toml', '');
    const err = loadRefused(file, { ...ENV_ALL, RUSTRO_TOTP_SECRET: 'not-base32-1890!' });
    expect(err.message).toBe(
      'environment: RUSTRO_TOTP_SECRET: expected base32 text (letters A-Z and digits 2-7, optional "=" padding; case and spaces ignored), ' +
        'found 16 characters that are not base32 (value not shown)',
    );
  });

  it('accepts a lowercase, spaced, padded TOTP secret and normalizes it', () => {
    const file = write('config.toml', '');
    const { secrets } = loadConfig(file, { env: { ...ENV_ALL, RUSTRO_TOTP_SECRET: 'jbsw y3dp ehpk 3pxp====' } });
    expect(secrets?.totpSecret.reveal()).toBe('JBSWY3DPEHPK3PXP====');
  });

  it('never puts a secret value in any error message', () => {
    const leaks = ['CONFIG-LEAK-1', 'FILE-LEAK-2', 'FILE-LEAK-3', 'ENV-TOTP-LEAK-4!'];
    write('secrets.toml', `api_key = "${leaks[1]}"\npin = 12345\nmystery = "${leaks[2]}"\n`, 0o600);
    const file = write(
      'config.toml',
      `[app]\nlog_level = "loud"\n[broker]\nsecrets_file = "secrets.toml"\napi_key = "${leaks[0]}"\n[secrets]\npin = "${leaks[0]}"\n`,
    );
    const err = loadRefused(file, { RUSTRO_TOTP_SECRET: leaks[3] });
    expect(err.issues.length).toBeGreaterThanOrEqual(4);
    for (const leak of [...leaks, '12345']) expect(err.message).not.toContain(leak);

    // A secrets file that is too open, with a bad TOTP in the environment.
    chmodSync(join(dir, 'secrets.toml'), 0o640);
    const err2 = loadRefused(write('c2.toml', '[broker]\nsecrets_file = "secrets.toml"\n'), { RUSTRO_TOTP_SECRET: leaks[3] });
    expect(err2.message).toContain('with mode 0640');
    for (const leak of leaks) expect(err2.message).not.toContain(leak);
  });
});

describe('broker, feed, rate limits and watchlist keys', () => {
  it('names a bad URL, a bad rate-limit triple, a bad backoff and a bad watchlist item, all at once', () => {
    const err = refused([
      '[broker]', 'feed_url = "https://not-a-socket"', 'daily_login_ist = "8:45"',
      '[rate_limits]', 'orders = [9, 500]', 'quote = [0, 0, 0]',
      '[feed]', 'ws_reconnect_backoff_sec = []',
      '[[watchlist]]', 'label = "NIFTY"', 'exchange = "NSX"', 'token = "9992600A"',
    ].join('\n'));
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i]));
    expect(byPath['broker.feed_url']?.expected).toBe('a URL (ws:// or wss://…)');
    expect(byPath['broker.feed_url']?.found).toContain('https://not-a-socket');
    expect(byPath['broker.daily_login_ist']?.expected).toContain('HH:MM');
    expect(byPath['rate_limits.orders']?.expected).toContain('[per second, per minute, per hour]');
    expect(byPath['rate_limits.quote']?.expected).toContain('all three are 0');
    expect(byPath['feed.ws_reconnect_backoff_sec']?.expected).toContain('non-empty list');
    expect(byPath['watchlist[0].exchange']?.expected).toContain('"NSE"');
    expect(byPath['watchlist[0].token']?.expected).toContain('digits');
  });

  it('names a bad [market] timeframe, a repeated one and an out-of-range buffer size', () => {
    const err = refused('[market]\nbar_buffer_size = 5\ntimeframes = ["1m", "2m"]\nfeed_stale_sec = 0\n');
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i]));
    expect(byPath['market.bar_buffer_size']?.expected).toBe('an integer from 10 to 100000 (bars)');
    expect(byPath['market.timeframes[1]']?.expected).toContain('"1h"');
    expect(byPath['market.feed_stale_sec']?.expected).toBe('an integer from 2 to 600 (seconds)');
    expect(refused('[market]\ntimeframes = ["5m", "5m"]\n').issues[0]?.expected).toBe('a list of timeframes without repeats');
    expect(refused('[market]\ntimeframes = []\n').issues[0]?.expected).toBe('a non-empty list of timeframes');
  });

  it('refuses an unknown key inside a watchlist item', () => {
    const err = refused('[[watchlist]]\nlabel = "NIFTY"\nexchange = "NSE"\ntoken = "99926000"\nactve = false\n');
    expect(err.issues.map((i) => i.path)).toContain('watchlist[0].actve');
  });
});
