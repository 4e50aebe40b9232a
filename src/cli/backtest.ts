/**
 * `rustro backtest`: bundled history through the live pipeline (src/backtest/),
 * a normal ledger in its own directory, its sha256, and on request a
 * self-contained HTML report with a JSON summary beside it.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_TICKS_PER_BAR, runBacktest, tradingDays } from '../backtest/engine.js';
import { renderReport, summaryJsonText } from '../backtest/report.js';
import { computeStats } from '../backtest/stats.js';
import { rupees } from '../app/narrator.js';
import { VERSION } from '../app/version.js';
import { type Config, ConfigError, loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../market/calendar.js';
import { bundledSessions } from '../sim/market/market.js';
import { EXIT_FAILED, EXIT_OK, type Command, UsageError } from './command.js';

const STRATEGIES = ['adx-mtf', 'supertrend-scalper'] as const;
const UNDERLYINGS = ['NIFTY', 'BANKNIFTY'] as const;
/** Marks a directory this command made, so a rerun may empty it and nothing else ever is. */
const MARKER = '.rustro-backtest';

const backtest: Command = {
  summary: 'replay bundled history through the live pipeline on paper: a ledger, its hash, and a report',
  usage: `usage: rustro backtest --from YYYY-MM-DD [--to YYYY-MM-DD] [--strategy ${STRATEGIES.join('|')}] [--underlying ${UNDERLYINGS.join('|')}]
                       [--bars FILE --underlying U] [--config FILE] [--seed N] [--ticks-per-bar N] [--out DIR] [--report FILE.html]
  --bars    your own 1-minute bars of the underlying (CSV ts,open,high,low,close,volume, as rustro data bars writes)
  --ticks-per-bar  index ticks made from each 1-minute bar, 4 (open, extremes, close: fastest) to 60000;
            default ${DEFAULT_TICKS_PER_BAR}, the simulator's 4 a second: a day then trades as a paper session of it
  default config.example.toml, --to = --from, seed 1, out <data_dir>/backtest/<strategy>-<from>-<to>`,
  async main(args, io) {
    let values: Record<string, string | undefined>;
    try {
      ({ values } = parseArgs({
        args, strict: true,
        options: {
          from: { type: 'string' }, to: { type: 'string' }, strategy: { type: 'string' }, underlying: { type: 'string' }, config: { type: 'string' },
          seed: { type: 'string' }, 'ticks-per-bar': { type: 'string' }, out: { type: 'string' }, report: { type: 'string' }, bars: { type: 'string' },
        },
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const date = /^\d{4}-\d{2}-\d{2}$/;
    if (values.from === undefined || !date.test(values.from)) throw new UsageError(`--from YYYY-MM-DD is required${values.from === undefined ? '' : `, got '${values.from}'`}`);
    const from = values.from;
    const to = values.to ?? from;
    if (!date.test(to)) throw new UsageError(`--to must be YYYY-MM-DD, got '${to}'`);
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
    const seed = Number(values.seed ?? 1);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
    const ticksPerBar = Number(values['ticks-per-bar'] ?? DEFAULT_TICKS_PER_BAR);
    if (!(Number.isInteger(ticksPerBar) && ticksPerBar >= 4 && ticksPerBar <= 60_000)) throw new UsageError(`--ticks-per-bar must be a whole number from 4 to 60000, got '${values['ticks-per-bar']}'`);
    if (values.strategy !== undefined && !(STRATEGIES as readonly string[]).includes(values.strategy)) throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, got '${values.strategy}'`);
    if (values.underlying !== undefined && !(UNDERLYINGS as readonly string[]).includes(values.underlying)) throw new UsageError(`--underlying must be one of ${UNDERLYINGS.join(', ')} (the bundled history), got '${values.underlying}'`);
    if (values.bars !== undefined && values.underlying === undefined) throw new UsageError('--bars needs --underlying: which index the bars are of');
    const bars = values.bars === undefined ? undefined : { underlying: values.underlying as (typeof UNDERLYINGS)[number], file: values.bars };
    if (values.report !== undefined && !values.report.endsWith('.html')) throw new UsageError(`--report must name an .html file, got '${values.report}'`);

    let base: Config;
    try {
      ({ config: base } = loadConfig(values.config ?? 'config.example.toml', { requireSecrets: false }));
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(err.message);
        return EXIT_FAILED;
      }
      throw err;
    }
    const strategy = (values.strategy ?? base.strategy.active) as Config['strategy']['active'];
    const underlyings = values.underlying === undefined ? base.strategy.underlyings.filter((u) => (UNDERLYINGS as readonly string[]).includes(u)) : [values.underlying as Config['strategy']['underlyings'][number]];
    const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
    let sessions: string[];
    try {
      sessions = bundledSessions(undefined, bars);
    } catch (err) {
      throw new UsageError(`--bars ${values.bars}: ${(err as Error).message}`);
    }
    const bundled = new Set(sessions);
    const days = tradingDays(calendar, from, to).filter((d) => bundled.has(d));
    if (days.length === 0) {
      const all = [...bundled].sort();
      const what = bars === undefined ? 'bundled' : `--bars ${bars.file}`;
      throw new UsageError(`no session of ${what} between ${from} and ${to} (it has ${all[0]} … ${all[all.length - 1]})`);
    }

    const out = values.out ?? join(base.app.data_dir, 'backtest', `${strategy}-${from}-${to}`);
    prepareOut(out);
    const config: Config = { ...base, app: { ...base.app, data_dir: out }, strategy: { ...base.strategy, active: strategy, underlyings } };

    const progress = progressBar(io, days.length);
    const started = Date.now();
    const result = await runBacktest({
      config, from, to, seed, calendar, ticksPerBar, ...(bars === undefined ? {} : { bars }),
      log: silentLogger(),
      onDay: (p) => progress.day(p, Date.now() - started),
    });
    progress.done();
    const stats = computeStats(result.trades, result.days, config.trading.capital);
    const secs = (Date.now() - started) / 1000;
    io.out(`backtest ${strategy} on ${underlyings.join(', ')}, ${from} … ${to}: ${result.days.length} day(s), ${result.trades.length} trade(s), net ${rupees(stats.netPnl)} after ${rupees(stats.charges)} charges (${secs.toFixed(1)} s)`);
    for (const s of result.skipped) io.out(`  skipped ${s.day}: ${s.reason}`);
    io.out(`ledger: ${join(out, 'ledger')} (${result.ledgerFiles.length} day file(s)), sha256 ${result.ledgerHash}`);
    if (values.report !== undefined) {
      const input = {
        title: `Rustro backtest: ${strategy}, ${from} … ${to}`, from, to, strategy, underlyings, capital: config.trading.capital,
        ledgerFile: join(out, 'ledger'), ledgerHash: result.ledgerHash, bars: result.bars, trades: result.trades, days: result.days, stats,
        generatedBy: `rustro ${VERSION}`,
      };
      const json = values.report.replace(/\.html$/, '.json');
      writeFileSync(values.report, renderReport(input));
      writeFileSync(json, summaryJsonText(input));
      io.out(`report: ${values.report}`);
      io.out(`summary: ${json}`);
    }
    return EXIT_OK;
  },
};
export default backtest;

/** The output directory: new, empty, or one an earlier backtest made (emptied, so a rerun writes the same bytes). */
function prepareOut(out: string): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!existsSync(join(out, MARKER))) throw new UsageError(`--out ${out} exists and was not made by rustro backtest: choose another directory`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), 'made by rustro backtest; emptied by the next run into this directory\n');
}

type Progress = { day(p: { day: string; done: number; total: number; trades: number; netPnl: number }, elapsedMs: number): void; done(): void };

/** A bar redrawn in place on a terminal once the run has taken a second; a plain line per day otherwise (logs, pipes). */
function progressBar(io: { out(l: string): void }, total: number): Progress {
  const tty = process.stderr.isTTY === true;
  let trades = 0;
  let net = 0;
  let drawn = false;
  return {
    day(p, elapsedMs) {
      trades += p.trades;
      net += p.netPnl;
      const text = `${p.done}/${total} days, ${p.day}: ${trades} trade(s), net ${rupees(net)}`;
      if (!tty) return io.out(`  ${text}`);
      if (elapsedMs < 1000 && p.done < total) return;
      const width = 30;
      const filled = Math.round((p.done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\n');
    },
  };
}
