/**
 * `rustro status [--data-dir D] [--config FILE] [--date YYYY-MM-DD] [--at ISO] [--json]`:
 * the daemon, the session, the feed, warm-up, positions, working orders, risk
 * and the last event — from the lock file and the ledger (app/status.ts), so
 * it works with or without a running daemon. Needs no secrets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { NoDataDirError, NoLedgerForDateError, buildStatus, type StatusReport } from '../app/status.js';
import { RealClock, istDate, toIst } from '../core/clock.js';
import { ConfigError, defaultConfig, parseConfig, type Config } from '../core/config.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../market/calendar.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, type Command, type Io } from './command.js';

const usage = `usage: rustro status [--data-dir D] [--config FILE] [--date YYYY-MM-DD] [--at ISO] [--json]
  The daemon (running or not, mode, last stop), the session, the feed (connected, stale, bar lag),
  warm-up, today's bias and signals, open positions with P&L, working orders, risk halts and the
  kill switch, and the last event: from <data-dir>/rustro.lock and the ledger, with or without a
  running daemon. Reads no secrets and writes nothing.
  --data-dir D   the data directory (default: the config's app.data_dir, else "data")
  --config FILE  risk limits, capital and exit rules from FILE (default ./config.toml if it exists,
                 else the built-in defaults); secrets are not read
  --date DAY     that day's ledger file instead of the newest
  --at ISO       "now" for the session and the lag (ISO-8601 with an offset, e.g. 2024-01-02T10:30:00+05:30)
  --json         the report as one JSON object (times in epoch ms)`;

type Args = { dataDir: string | undefined; config: string | undefined; date: string | undefined; at: number | undefined; json: boolean };

function parse(args: string[]): Args {
  let values: { 'data-dir'?: string | undefined; config?: string | undefined; date?: string | undefined; at?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'data-dir': { type: 'string' },
        config: { type: 'string', short: 'c' },
        date: { type: 'string' },
        at: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) throw new UsageError(`--date wants YYYY-MM-DD, got '${values.date}'`);
  let at: number | undefined;
  if (values.at !== undefined) {
    at = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(values.at) ? Date.parse(values.at) : NaN;
    if (!Number.isFinite(at)) throw new UsageError(`--at wants ISO-8601 with an offset (e.g. 2024-01-02T10:30:00+05:30), got '${values.at}'`);
  }
  return { dataDir: values['data-dir'], config: values.config, date: values.date, at, json: values.json === true };
}

/** The config without secrets: they are not needed to read a ledger, and status must work where they are absent. */
function readConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', expected: 'a readable config file', found: (err as NodeJS.ErrnoException).code ?? (err as Error).message }]);
  }
  return parseConfig(text, file);
}

// ── text ─────────────────────────────────────────────────────────────────────

function duration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const s = Math.floor(Math.abs(ms) / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${sign}${s}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${sign}${Math.floor(s / 86_400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

function rupees(x: number): string {
  const v = Math.abs(x) < 0.005 ? 0 : x;
  return `${v < 0 ? '-' : ''}Rs ${Math.abs(v).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const price = (x: number | null): string => (x === null ? '-' : x.toFixed(2));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Renders the report as aligned, labelled lines. */
export function renderStatus(r: StatusReport): string[] {
  const today = istDate(r.now);
  const at = (ms: number): string => toIst(ms).toFormat(istDate(ms) === today ? 'HH:mm:ss' : 'yyyy-MM-dd HH:mm:ss');
  const out: string[] = [];
  const line = (label: string, text: string): void => {
    out.push(`${label.padEnd(10)}${text}`);
  };
  const more = (text: string): void => line('', text);

  out.push(`rustro status at ${toIst(r.now).toFormat('yyyy-MM-dd HH:mm:ss')} IST`);
  line('data', r.dataDir);

  // daemon
  const d = r.daemon;
  const start = d.lastStart;
  const startText = start === null ? '' : `${start.mode} mode, pid ${start.pid}, v${start.version}, started ${at(start.at)}`;
  switch (d.state) {
    case 'running':
      line('daemon', `RUNNING: pid ${d.lock!.pid} since ${d.lock!.startedAt}${start === null ? '' : `; ${start.mode} mode (v${start.version})`}`);
      if (start !== null) more(`up ${duration(r.now - start.at)} (started ${at(start.at)})`);
      if (d.stopped !== null) more(`recorded its stop at ${at(d.stopped.at)} (${d.stopped.reason}): exiting`);
      break;
    case 'stopped':
      line('daemon', `stopped at ${at(d.stopped!.at)}: ${d.stopped!.reason} (up ${duration(d.stopped!.uptimeMs)})`);
      more(`last run: ${startText}`);
      break;
    case 'ended_without_stop':
      line('daemon', `NOT RUNNING, and its last run has no DaemonStopped (killed, crashed or the power went)`);
      more(`last run: ${startText}`);
      break;
    default:
      line('daemon', r.ledger.file === null ? 'not started: no ledger in this data directory' : 'not running; no start found in the ledger');
  }
  if (d.stopping !== null && d.stopped === null) more(`stopping since ${at(d.stopping.at)}: ${d.stopping.reason}`);
  if (d.restored !== null) {
    const x = d.restored;
    more(`restored at start: ${plural(x.events, 'event')}, ${plural(x.openPositions, 'open position')}, ${plural(x.workingOrders, 'working order')}${x.halted ? ', halted' : ''}`);
  }

  // session
  const s = r.session;
  const next = s.nextOpen === null ? 'none within 15 days' : toIst(s.nextOpen).toFormat('yyyy-MM-dd HH:mm');
  const hhmm = (ms: number): string => toIst(ms).toFormat('HH:mm');
  if (s.state === 'open') line('session', `OPEN ${hhmm(s.window!.open)}-${hhmm(s.window!.close)} IST, closes in ${duration(s.window!.close - r.now)}`);
  else if (s.state === 'holiday') line('session', `closed all day (${s.day === 'weekend' ? 'weekend' : 'trading holiday'}); next open ${next} IST`);
  else line('session', `closed${s.window !== null ? ` (opens ${hhmm(s.window.open)} IST)` : ''}; next open ${next} IST`);
  if (!s.calendarCovers) more(`the holiday calendar does not cover ${s.date.slice(0, 4)}: holidays are unknown`);

  // ledger
  const l = r.ledger;
  if (l.file === null) line('ledger', `none (${l.dir})`);
  else {
    const seq = l.firstSeq === null ? 'no records' : `seq ${l.firstSeq}..${l.lastSeq}`;
    line('ledger', `${basename(l.file)}: ${plural(l.records, 'record')}, ${seq}${l.isToday ? '' : ' (not today)'}`);
    if (l.damaged !== null) more(`DAMAGED TAIL at line ${l.damaged.line}: ${l.damaged.problem}`);
  }

  // feed
  const f = r.feed;
  const prefix = d.running ? '' : 'last known: ';
  if (f.connected === null) line('feed', d.running ? 'not connected yet' : start === null ? 'none recorded' : 'no feed since the last start');
  else if (f.connected) line('feed', `${prefix}connected since ${at(f.since!)}`);
  else line('feed', `${prefix}DISCONNECTED at ${at(f.since!)}: ${f.disconnectReason}`);
  if (f.stale !== null) more(`STALE since ${at(f.stale.since)} (no tick for ${duration(f.stale.silentMs)}): entries paused`);
  if (f.lastBar !== null) {
    const b = f.lastBar;
    const lag = d.running ? `, lag ${duration(f.lagMs!)}` : `; the ledger ends ${duration(f.lagAtLastEventMs ?? 0)} after it`;
    more(`last bar: ${b.name ?? `${b.exchange}:${b.token}`} ${b.tf} ended ${at(b.end)}${lag}`);
  } else more('no bar closed yet');
  if (f.warm.length === 0) line('warm-up', 'no stream warm yet');
  else line('warm-up', `${plural(f.warm.length, 'stream')} warm: ${f.warm.map((w) => `${w.name ?? `${w.exchange}:${w.token}`} ${w.tf} (${w.bars}/${w.need})`).join(', ')}`);

  // strategy
  const st = r.strategy;
  line('strategy', st.bias.length === 0 ? 'no daily bias decided' : `bias: ${st.bias.map((b) => `${b.underlying} ${b.bias}`).join(', ')} (${[...new Set(st.bias.map((b) => b.strategy))].join(', ')})`);
  more(`signals: ${st.signals} (${plural(st.entrySignals, 'entry', 'entries')})`);
  const lastSignal = st.recentSignals.at(-1);
  if (lastSignal !== undefined) more(`last signal ${at(lastSignal.at)}: ${lastSignal.strategy} ${lastSignal.underlying} ${lastSignal.action} ${lastSignal.side}: ${lastSignal.reason}`);

  // positions
  const p = r.positions;
  line('positions', p.open.length === 0 ? 'none open' : `${p.open.length} open`);
  for (const x of p.open) {
    if (x.qty === 0) {
      more(`  ${x.symbol}  ${x.underlying}  entry working, nothing filled yet`);
      continue;
    }
    const fill = x.lastFillPrice === null ? '' : `  last fill ${price(x.lastFillPrice)} (${at(x.lastFillAt!)})`;
    const extra = [x.stop === null ? '' : `stop ${price(x.stop)}`, x.entryWorking ? 'entry still working' : '', x.exiting === null ? '' : `EXITING (${x.exiting})`].filter((t) => t !== '');
    more(`  ${x.symbol}  qty ${x.qty}  entry ${price(x.entryAvg)}${fill}  unrealised ${rupees(x.unrealisedAtLastFill)}${extra.length > 0 ? `  ${extra.join(', ')}` : ''}`);
  }
  more(`realised ${rupees(p.realisedToday)} net over ${plural(p.trades.length, 'closed trade')}`);

  // orders
  const w = r.orders.working;
  line('orders', w.length === 0 ? 'none working' : `${w.length} working`);
  for (const o of w) {
    const px = o.orderType === 'MARKET' ? 'MARKET' : `LIMIT ${price(o.price)}`;
    const cancel = o.cancelRequested === null ? '' : `, cancel requested (${o.cancelRequested})`;
    more(`  ${o.intentId}  ${o.purpose} ${o.side} ${o.qty} ${o.symbol} ${px}  ${o.state}, filled ${o.filledQty}/${o.qty}${o.orderId === null ? '' : `, order ${o.orderId}`}${cancel}`);
  }

  // risk
  const k = r.risk;
  if (!k.halted) line('risk', 'ok: entries allowed');
  else if (k.killSwitch !== null) line('risk', `KILL SWITCH on since ${at(k.killSwitch.at)} (${k.killSwitch.source}: ${k.killSwitch.detail}): flatten, no entries today`);
  else line('risk', 'HALTED for the day');
  for (const h of k.halts) {
    const detail = Object.entries(h.detail).map(([key, v]) => `${key} ${v}`).join(', ');
    more(`halt ${at(h.at)} (${h.scope === 'all' ? 'flatten and stop' : 'no new entries'}): ${h.reason}${detail === '' ? '' : ` (${detail})`}`);
  }
  if (k.killFilePresent) more(`KILL file present in the data directory${d.running && k.killSwitch === null ? ': the daemon turns it into the kill switch within a second' : ''}`);
  more(`daily loss limit ${rupees(k.dailyLossLimit)} (${k.dailyLossLimitPct}% of capital); realised ${rupees(k.realisedToday)}; losing streak ${k.losingStreak} of ${k.maxConsecutiveLosses}`);

  // last event
  const e = r.lastEvent;
  const ago = (ms: number): string => (r.now >= ms ? `${duration(r.now - ms)} ago` : `${duration(ms - r.now)} after now`);
  line('last', e === null ? 'no events' : `#${e.seq} ${e.type} at ${at(e.at)} (${ago(e.at)})`);
  for (const n of r.notes) line('note', n);
  return out;
}

// ── the command ──────────────────────────────────────────────────────────────

const command: Command = {
  summary: 'the daemon, session, feed, positions, orders and risk, from the ledger and the lock file',
  usage,
  async main(args: string[], io: Io): Promise<number> {
    const a = parse(args);
    const configFile = a.config ?? (existsSync('config.toml') ? 'config.toml' : undefined);
    let config: Config;
    try {
      config = configFile === undefined ? defaultConfig() : readConfig(configFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(err.message);
      io.err(`rustro status: ${configFile} is not a valid config${a.config === undefined ? ' (found in the current directory; pass --config or --data-dir)' : ''}`);
      return EXIT_USAGE;
    }
    const dataDir = a.dataDir ?? (configFile === undefined ? 'data' : config.app.data_dir);
    let report: StatusReport;
    try {
      report = await buildStatus({
        dataDir,
        config,
        calendar: TradingCalendar.load(DEFAULT_CALENDAR_DIR),
        now: a.at ?? new RealClock().now(),
        ...(a.date === undefined ? {} : { date: a.date }),
      });
    } catch (err) {
      if (err instanceof NoDataDirError || err instanceof NoLedgerForDateError) {
        io.err(`rustro status: ${err.message}`);
        return EXIT_FAILED;
      }
      throw err;
    }
    if (a.json) io.out(JSON.stringify(report, null, 2));
    else for (const l of renderStatus(report)) io.out(l);
    return EXIT_OK;
  },
};
export default command;
