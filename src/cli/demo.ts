/**
 * `npm start`: the paper-trading demo. The simulator replays a bundled real
 * NIFTY session over loopback at full speed; the daemon, in paper mode, logs
 * in, loads the instrument master, subscribes the watchlist and streams. It
 * narrates what happens and ends with a summary when the session closes.
 * Ctrl-C at any time stops it cleanly. (Bars, signals and orders join the
 * narrative as the market-data, strategy and order issues land.)
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { describe, rupees } from '../app/narrator.js';
import { startSimSession } from '../app/sim-session.js';
import { stopOnSignals } from '../app/signals.js';
import { formatIst, istToMillis } from '../core/clock.js';
import { loadConfig } from '../core/config.js';
import type { RustroEvent } from '../core/events.js';
import { ledgerFiles, verify } from '../core/ledger.js';
import { createLogger } from '../core/log.js';
import { bundledSessions } from '../sim/market/market.js';
import { EXIT_FAILED, EXIT_OK, type Command, UsageError } from './command.js';

const DEFAULT_DAY = '2024-02-21';
const REPORT_EVERY_MS = 30 * 60_000;

type Seen = { label: string; first?: number; last?: number; high: number; low: number; ticks: number };

const demo: Command = {
  summary: 'the paper-trading demo: a bundled real session on the simulator (what `npm start` runs)',
  usage: 'usage: rustro demo [--config FILE] [--date YYYY-MM-DD] [--seed N] [--speed X|max]\n  default config.example.toml, date 2024-02-21, seed 1, speed max',
  async main(args, io) {
    let values: { config?: string | undefined; date?: string | undefined; seed?: string | undefined; speed?: string | undefined };
    try {
      ({ values } = parseArgs({ args, options: { config: { type: 'string' }, date: { type: 'string' }, seed: { type: 'string' }, speed: { type: 'string' } }, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const day = values.date ?? DEFAULT_DAY;
    const sessions = bundledSessions();
    if (!sessions.includes(day)) throw new UsageError(`--date ${day} is not a bundled session (${sessions[0]} … ${sessions[sessions.length - 1]}, ${sessions.length} sessions)`);
    const seed = Number(values.seed ?? 1);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
    const speed = values.speed === undefined || values.speed === 'max' ? 'max' : Number(values.speed);
    if (speed !== 'max' && !(speed > 0)) throw new UsageError(`--speed must be a positive number or max, got '${values.speed}'`);

    // The demo needs no credentials: it logs in to the simulator's demo account.
    const { config: base } = loadConfig(values.config ?? 'config.example.toml', { requireSecrets: false });
    // Its own directory, emptied each run, so a demo never mixes with a real ledger.
    const dataDir = join(base.app.data_dir, 'demo');
    rmSync(dataDir, { recursive: true, force: true });

    const labels = new Map(base.watchlist.map((w) => [w.token, w.label]));
    const seen = new Map<string, Seen>();
    let clockNow = (): number => istToMillis(day, '09:15');
    const sayAt = (ms: number, line: string): void => io.out(`${formatIst(ms).slice(11, 19)}  ${line}`);
    const say = (line: string): void => sayAt(clockNow(), line);
    // Progress follows data time (the ticks' exchange timestamps), not the simulator's clock, which runs ahead of what has arrived.
    let nextReport = istToMillis(day, '09:15') + REPORT_EVERY_MS;
    let signalsRaised = 0;
    const trailing = new Set<string>();
    const closed: { net: number; gross: number; charges: number }[] = [];
    const onEvent = (e: RustroEvent): void => {
      if (e.type === 'SignalRaised') signalsRaised++;
      if (e.type === 'PositionClosed') closed.push({ net: e.data.netPnl, gross: e.data.grossPnl, charges: e.data.charges });
      if (e.type === 'Tick') {
        if (e.data.exchTs >= nextReport) {
          sayAt(nextReport, summaryLine(seen));
          nextReport += REPORT_EVERY_MS;
        }
        let s = seen.get(e.data.token);
        if (s === undefined) seen.set(e.data.token, (s = { label: labels.get(e.data.token) ?? e.data.token, high: -Infinity, low: Infinity, ticks: 0 }));
        s.first ??= e.data.ltp;
        s.last = e.data.ltp;
        s.high = Math.max(s.high, e.data.ltp);
        s.low = Math.min(s.low, e.data.ltp);
        s.ticks++;
        return;
      }
      if (e.type === 'BarClosed') {
        // One line per closed hourly bar per index; the finer bars are in the ledger.
        const b = e.data;
        if (b.tf === '1h') sayAt(b.end, `${(labels.get(b.token) ?? b.token).padEnd(10)} 1h bar ${formatIst(b.ts).slice(11, 16)}–${formatIst(b.end).slice(11, 16)}  O ${b.open.toFixed(2)}  H ${b.high.toFixed(2)}  L ${b.low.toFixed(2)}  C ${b.close.toFixed(2)}`);
        return;
      }
      if (e.type === 'TicksDropped' || (e.type === 'StrategyEvaluated' && e.data.tf === '1m')) return;
      // A trailing stop moves on every new high: say when it starts trailing, the rest is in the ledger.
      if (e.type === 'PositionStopMoved') {
        if (trailing.has(e.data.positionId) && e.data.reason === 'trailing') return;
        trailing.add(e.data.positionId);
      }
      const text = describe(e);
      if (text !== undefined) sayAt(e.ts, text);
    };

    io.out(`Rustro demo — paper mode against the built-in SmartAPI simulator, replaying the real session of ${day} (IST)`);
    io.out(`data: ${relative(process.cwd(), dataDir) || '.'}   (Ctrl-C stops cleanly at any time)\n`);
    let interrupted = false;
    let holdMarket = (): void => {};
    const signals = stopOnSignals({
      timeoutSec: base.app.shutdown_timeout_sec,
      say,
      onSignal: () => {
        interrupted = true;
        holdMarket(); // the market stays where the user stopped it
      },
    });
    const { sim, daemon } = await startSimSession({
      config: base,
      dataDir,
      day,
      seed,
      log: createLogger({ level: 'error', format: base.app.log_format }),
      onEvent,
    });
    clockNow = () => sim.now();
    holdMarket = () => sim.setSpeed(0);
    signals.attach(daemon);

    // The subscribe request is still on the wire when connect() returns: replay from the open only once the simulator has it.
    const wanted = daemon.broker?.watchlist().length ?? 0;
    for (let i = 0; i < 500 && sim.state().subscriptions < wanted; i++) await sleep(2);
    // History first (the simulator's clock is held at the open), so the strategy is warm when the session starts, as it would be live.
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([daemon.marketReady, new Promise<void>((r) => (giveUp = setTimeout(r, 30_000)))]);
    clearTimeout(giveUp); // a pending 30-s timer would keep the process alive after the demo ends
    say(`session open — streaming at ${speed === 'max' ? 'full speed' : `${speed}× real time`}`);
    sim.setSpeed(speed);
    while (!interrupted && !sim.state().sessionOver) await sleep(20);
    // Let the last frames on the wire arrive before the books are closed.
    for (let i = 0; i < 100 && !interrupted && (daemon.broker?.feed.counters.frames ?? 0) < sim.state().framesSent; i++) await sleep(10);
    if (!interrupted) {
      say(`session closed — ${summaryLine(seen)}`);
      await daemon.stop('end of the demo session');
    }
    await daemon.stopped;
    signals.detach();
    const state = sim.state();
    await sim.close();

    io.out('');
    for (const s of seen.values()) {
      const move = s.first === undefined || s.last === undefined ? '' : `, ${s.last >= s.first ? '+' : ''}${(s.last - s.first).toFixed(2)} on the day`;
      io.out(`${s.label.padEnd(11)} ${s.ticks.toLocaleString('en-US').padStart(8)} ticks, range ${s.low.toFixed(2)}–${s.high.toFixed(2)}${move}`);
    }
    const c = daemon.broker?.feed.counters;
    if (c !== undefined) io.out(`feed: ${c.frames.toLocaleString('en-US')} frames, ${c.rejected} rejected, ${c.reconnects} reconnects; simulator sent ${state.ticksSent.toLocaleString('en-US')} ticks`);
    for (const f of ledgerFiles(join(dataDir, 'ledger'))) {
      const report = await verify(f);
      io.out(`ledger ${relative(process.cwd(), f)}: ${report.lines} events, seq ${report.firstSeq}–${report.lastSeq}, ${report.ok ? 'hash chain verified' : `${report.problems.length} problem(s)`}`);
    }
    io.out(`inspect it: npm run rustro -- ledger tail --data-dir ${relative(process.cwd(), dataDir)}`);
    const bars = daemon.market?.store.allRings().reduce((n, r) => n + r.length, 0) ?? 0;
    io.out(`bars: ${bars.toLocaleString('en-US')} closed (1m … 1d) in ${relative(process.cwd(), join(dataDir, 'bars')) || '.'}`);
    const sum = (k: 'net' | 'gross' | 'charges'): number => closed.reduce((a, c) => a + c[k], 0);
    const open = daemon.trading?.desk.positions.open().length ?? 0;
    io.out(`strategy ${base.strategy.active}: ${signalsRaised} signal(s), ${closed.length} trade(s) closed, ${closed.filter((c) => c.net > 0).length} won${open > 0 ? `, ${open} STILL OPEN` : ''}`);
    io.out(`day's P&L (paper): gross ${rupees(sum('gross'))}, charges ${rupees(sum('charges'))}, net ${rupees(sum('net'))}`);
    return daemon.fatalError === undefined ? EXIT_OK : EXIT_FAILED;
  },
};

function summaryLine(seen: Map<string, Seen>): string {
  const parts = [...seen.values()].map((s) => `${s.label} ${s.last?.toFixed(2) ?? '—'}`);
  const ticks = [...seen.values()].reduce((n, s) => n + s.ticks, 0);
  return `${parts.join(' · ')}  (${ticks.toLocaleString('en-US')} ticks so far)`;
}

export default demo;
