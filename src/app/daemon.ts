/**
 * The composition root: builds the component graph from a Config and owns its
 * start and stop. Today the graph is the foundation — clock, bus, ledger,
 * lock, log — and the broker link (SmartAPI session, instruments, feed, order
 * updates); the market, strategy and trading components plug in here.
 *
 * Order matters at both ends. Start: take the lock (one daemon per data dir),
 * open the ledger (which repairs a torn tail), wire the bus into the ledger,
 * announce, start the market pipeline (restores the day's bars; listens for
 * ticks), then connect to the broker and put the pipeline online (restart
 * backfill, history bootstrap — in the background). Stop: stop entries, close
 * the broker link, stop the market pipeline, record the stop durably, close
 * the ledger, release the lock.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../core/bus.js';
import { type Clock, type TimerHandle, formatIst } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { isLedgered, type RustroEvent } from '../core/events.js';
import { Ledger } from '../core/ledger.js';
import type { Logger } from '../core/log.js';
import type { Secrets } from '../core/secrets.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../market/calendar.js';
import { MarketPipeline } from '../market/market-pipeline.js';
import { StrategyRunner } from '../strategy/strategy-runner.js';
import { type HealthServer, readingsOf, startHealthServer } from './health-server.js';
import { LedgerJournal } from './journal.js';
import { applyRetention } from './retention.js';
import { type MoneyPath, startMoneyPath } from './money-path.js';
import { replayToday } from './restore.js';
import { BUILTIN_INDICES } from '../broker/smartapi/instrument-index.js';
import type { Underlying } from '../strategy/strategy.js';
import { BrokerLink } from './broker-link.js';
import { type MarketLink, activeWatchlist } from './market-link.js';
import { acquireLock, releaseLock, type LockResult } from './lock.js';
import { describe, severity } from './narrator.js';
import { VERSION } from './version.js';

const HEARTBEAT_MS = 30_000;

export type DaemonDeps = {
  config: Config;
  /** Market time: stamps every event and decides the session. */
  clock: Clock;
  /** Real time for network pacing; defaults to `clock` (they are one in live trading). */
  ioClock?: Clock;
  log: Logger;
  /** With secrets the daemon connects to the broker; without, it runs the bare skeleton. */
  secrets?: Secrets;
  /** The process id recorded in `DaemonStarted` (default this process's): a backtest records 1, so its ledger is the same every run. */
  pid?: number;
  /** Look for the operator's KILL and RECONCILE files (default true; a backtest has no operator). */
  operatorFiles?: boolean;
  /**
   * Write closed bars to `<data_dir>/bars/` for a restart to read back (default true). A backtest
   * never restarts mid-run and its bars are in its ledger (`BarClosed`): it keeps them in memory.
   */
  barFiles?: boolean;
  /** fdatasync the ledger (default true). A backtest's ledger is rebuilt by rerunning it: it skips them (`LedgerOptions.sync`). */
  ledgerSync?: boolean;
  /** Another market than the live broker (a backtest's in-process replay); used instead of secrets. */
  link?: (wiring: { bus: EventBus; clock: Clock; calendar: TradingCalendar }) => MarketLink;
  calendar?: TradingCalendar;
  /** Extra subscriber for every event (the demo's narrative). */
  onEvent?: (event: RustroEvent) => void;
};

/** The broker could not be reached or refused the login at start. */
export class BrokerConnectError extends Error {
  override name = 'BrokerConnectError';
}

export class Daemon {
  private stopping: Promise<void> | undefined;
  private resolveStopped!: (reason: string) => void;
  /** Resolves with the stop reason once the daemon has fully stopped. */
  readonly stopped: Promise<string> = new Promise((r) => (this.resolveStopped = r));
  private failure: Error | undefined;
  private heartbeat: TimerHandle | undefined;
  private link: MarketLink | undefined;
  private pipeline: MarketPipeline | undefined;
  private runner: StrategyRunner | undefined;
  private money: MoneyPath | undefined;
  private health: HealthServer | undefined;
  private retentionTimer: TimerHandle | undefined;
  private journal!: LedgerJournal;
  /** The ledger's last seq before this start: today's records up to it are restored, not re-published. */
  private restoreUpTo = 0;
  private online: Promise<void> = Promise.resolve();

  private constructor(
    readonly bus: EventBus,
    readonly ledger: Ledger,
    private readonly lock: LockResult,
    private readonly deps: DaemonDeps,
    private readonly startedAt: number,
  ) {}

  static async start(deps: DaemonDeps): Promise<Daemon> {
    const { config, clock, log } = deps;
    const dataDir = config.app.data_dir;
    mkdirSync(dataDir, { recursive: true });
    const lock = acquireLock(dataDir, formatIst(clock.now()));
    let ledger: Ledger;
    try {
      ledger = await Ledger.open(join(dataDir, 'ledger'), {
        groupCommitMs: config.ledger.group_commit_ms,
        groupCommitEvents: config.ledger.group_commit_events,
        onError: (err) => daemon.fail(err),
        sync: deps.ledgerSync ?? true,
      });
    } catch (err) {
      releaseLock(lock);
      throw err;
    }
    const bus = new EventBus(clock);
    const daemon = new Daemon(bus, ledger, lock, deps, clock.now());
    bus.onUnreportable = (err, event) => log.error({ err, eventType: event.type }, 'a HandlerFailed subscriber threw');

    // The ledger first, so it records every event before anyone reacts to it. An event the
    // ledger refuses (a payload that fails its schema) is as fatal as a disk that cannot
    // write: the others would act on something replay would never see.
    const journal = new LedgerJournal(bus, clock);
    daemon.journal = journal;
    daemon.restoreUpTo = ledger.lastSeq;
    bus.onAny((event) => {
      if (!isLedgered(event.type)) return;
      // Only the journal waits for a line (write-ahead); any other line's failure reaches the ledger's onError.
      if (!journal.waitsFor(event)) return ledger.record(event);
      const written = ledger.append(event);
      written.catch((err: Error) => daemon.fail(err));
      journal.appended(event, written);
    }, 'ledger');
    bus.onAny((event) => {
      // Ticks, the firehose, are never a line. Then the level: most other events (minute bars) are below
      // it, and their text would be thrown away.
      if (event.type === 'Tick') return;
      const level = severity(event);
      if (!log.isLevelEnabled(level)) return;
      const text = describe(event);
      if (text !== undefined) log[level]({ event: event.type, data: event.data }, text);
    }, 'log');
    if (deps.onEvent !== undefined) bus.onAny(deps.onEvent, 'narrative');
    // A debug-level sign of life in the log (the systemd watchdog keeps its own timer: app/watchdog.ts);
    // below debug nobody would read it, and in a backtest it was most of a night's timer steps.
    if (log.isLevelEnabled('debug')) {
      daemon.heartbeat = (deps.ioClock ?? clock).setInterval(HEARTBEAT_MS, () =>
        log.debug({ delivered: bus.deliveredCount, lastSeq: ledger.lastSeq }, 'alive'));
    }

    if (config.health.enabled) {
      // Observability only: a port in use is logged, and the daemon trades on without the endpoint.
      try {
        daemon.health = await startHealthServer({
          host: config.health.host,
          port: config.health.port,
          read: readingsOf(daemon, { clock, ioClock: deps.ioClock ?? clock }),
          onError: (err) => log.warn({ err }, 'health endpoint: a request failed'),
        });
        log.info(`health endpoint on ${daemon.health.url} (/healthz, /metrics)`);
      } catch (err) {
        log.error({ err }, 'the health endpoint could not start; running without it');
      }
    }

    try {
      await daemon.announceAndConnect(lock);
    } catch (err) {
      // Whatever failed after the lock was taken, nothing stays behind: record the stop, close, unlock.
      await daemon.stop(err instanceof BrokerConnectError ? `could not connect to the broker: ${err.message}` : `start failed: ${(err as Error).message}`);
      throw err;
    }
    return daemon;
  }

  private async announceAndConnect(lock: LockResult): Promise<void> {
    const { bus, ledger, deps } = this;
    const { config, clock, log } = deps;
    if (lock.tookOverFrom !== undefined) {
      bus.emit('LockTakenOver', { lockFile: lock.file, stalePid: lock.tookOverFrom.pid });
    }
    for (const r of ledger.repairs) bus.emit('LedgerRepaired', r);
    this.retain();
    this.retentionTimer = (deps.ioClock ?? clock).setInterval(24 * 3_600_000, () => this.retain());
    bus.emit('DaemonStarted', {
      mode: config.trading.enable_paper_trading ? 'paper' : 'live',
      pid: deps.pid ?? process.pid,
      version: VERSION,
      dataDir: config.app.data_dir,
    });
    const calendar = deps.calendar ?? TradingCalendar.load(DEFAULT_CALENDAR_DIR);
    const watch = activeWatchlist(config);
    // Before the feed connects, so no tick is missed; bars close on market time.
    this.pipeline = new MarketPipeline({ bus, clock, ioClock: deps.ioClock ?? clock, calendar, settings: config.market, ...(deps.barFiles === false ? {} : { dataDir: config.app.data_dir }), watch });
    this.pipeline.start();
    this.runner = this.startStrategy(calendar, watch);
    const secrets = deps.secrets;
    const link = deps.link?.({ bus, clock, calendar })
      ?? (secrets === undefined ? undefined : new BrokerLink({ config, secrets, bus, clock, ioClock: deps.ioClock ?? clock, log, calendar }));
    if (link !== undefined) {
      this.link = link;
      this.money = startMoneyPath({
        bus, clock, ioClock: deps.ioClock ?? clock, calendar, config, journal: this.journal, link: this.link,
        vix: this.vixRef(), runId: String(this.restoreUpTo), operatorFiles: deps.operatorFiles ?? true,
      });
      await this.restore();
      try {
        await this.link.connect();
      } catch (err) {
        // A broker that refuses us (credentials, network) is fatal at start.
        throw new BrokerConnectError((err as Error).message, { cause: err });
      }
      // Backfill of a restart and history for declared needs run in the background; failures are events.
      // Before trading: the broker's books against the ledger's (fills and cancels while down, intents never acknowledged, unknown positions).
      await this.money?.desk.reconciler.start();
      this.resumeDecisions();
      this.online = this.pipeline.online(this.link.broker).then(
        () => undefined,
        (err: unknown) => log.error({ err }, 'the market pipeline could not go online'),
      );
    }
  }

  /**
   * The configured strategy on the bus. Its history needs are declared before
   * the pipeline goes online; an underlying whose index is not streamed is
   * reported and left out (it would never see a bar).
   */
  private startStrategy(calendar: TradingCalendar, watch: readonly { exchange: string; token: string }[]): StrategyRunner {
    const { bus, deps } = this;
    const { config, clock, log } = deps;
    const pipeline = this.pipeline!;
    const streamed = new Set(watch.map((w) => `${w.exchange}:${w.token}`));
    const indexRef = (name: string) => {
      const i = BUILTIN_INDICES.find((b) => b.name === name)!;
      return { exchange: i.exchange, token: i.token };
    };
    const underlyings: Underlying[] = [];
    for (const name of config.strategy.underlyings) {
      const ref = indexRef(name);
      if (streamed.has(`${ref.exchange}:${ref.token}`)) underlyings.push({ name, ref });
      else log.warn(`strategy: ${name} is not traded: its index (${ref.exchange} ${ref.token}) is not an active [[watchlist]] entry`);
    }
    const runner = new StrategyRunner({
      bus, clock, calendar, config, underlyings,
      // The money path comes up with the broker link; until then no positions.
      trading: {
        openPositions: (s, u) => this.money?.desk.openPositions(s, u) ?? 0,
        lastExitAt: (s, u) => this.money?.desk.lastExitAt(s, u),
      },
      bars: (ref, tf) => pipeline.bars(ref, tf),
      vix: this.vixRef(),
      instruments: () => this.link?.broker.instrumentIndex,
      quotes: (refs) => {
        if (this.link === undefined) return Promise.resolve([]);
        return this.link.broker.quotes(refs, 'full');
      },
    });
    pipeline.need(...runner.needs());
    runner.start();
    return runner;
  }

  private vixRef(): { exchange: 'NSE' | 'NFO' | 'BSE' | 'BFO'; token: string } {
    const i = BUILTIN_INDICES.find((b) => b.name === 'INDIA VIX')!;
    return { exchange: i.exchange, token: i.token };
  }

  /** Reads today's ledger back through the books (a restart the same day knows its orders, positions, trades and halts). */
  private async restore(): Promise<void> {
    const desk = this.money?.desk;
    const sinks = [(e: RustroEvent) => this.runner?.apply(e), ...(desk === undefined ? [] : [(e: RustroEvent) => desk.apply(e)])];
    const now = this.deps.clock.now();
    const events = await replayToday(join(this.deps.config.app.data_dir, 'ledger'), now, this.restoreUpTo, sinks);
    if (events === 0 || desk === undefined) return;
    this.bus.emit('StateRestored', {
      events,
      openPositions: desk.positions.open().length,
      workingOrders: desk.book.working().length,
      realisedToday: desk.risk.realisedToday,
      halted: desk.risk.halted(now),
    });
  }

  /** After a restart's reconciliation: what was decided before the daemon died and not yet done goes on (one event says what). */
  private resumeDecisions(): void {
    const desk = this.money?.desk;
    if (desk === undefined || this.restoreUpTo === 0) return;
    const picks = this.runner?.resumePicks(this.deps.config.orders.resume_entry_sec * 1000) ?? [];
    const r = desk.resume();
    if (r.ladders + r.steps.length + picks.length + r.entries.length + r.exits.length > 0) this.bus.emit('RecoveryResumed', { ...r, picks });
  }

  /** The data directory (ledger, bars, the lock and the KILL file). */
  get dataDir(): string {
    return this.deps.config.app.data_dir;
  }

  /** Durable records published and not yet on disk (the health endpoint's ledger lag). */
  get ledgerPending(): number {
    return this.journal.pending;
  }

  /** Compresses old ledger days and recordings now and every 24 h (never deletes unless configured). */
  private retain(): void {
    const { config, clock, log } = this.deps;
    try {
      const r = applyRetention(config.app.data_dir, clock.now(), config.retention);
      if (r.compressed.length + r.deleted.length > 0) this.bus.emit('RetentionApplied', r);
    } catch (err) {
      log.warn({ err }, 'retention: could not compress or delete old files');
    }
  }

  /** Work in flight: durable records not yet on disk, orders and option picks being made. */
  get busy(): boolean {
    return this.journal.pending > 0 || (this.money?.desk.busy ?? false) || (this.runner?.busy ?? false);
  }

  /** The kill switch (SIGUSR1): flatten everything and stop entries for the day. */
  kill(source: 'signal' | 'file', detail: string): void {
    this.money?.desk.kill(source, detail);
  }

  /** The money path (orders, positions, risk), when the daemon has a broker. */
  get trading(): MoneyPath | undefined {
    return this.money;
  }

  /** Resolves once the market pipeline is online: today's gap backfilled and history fetched for every declared need (failures included). */
  get marketReady(): Promise<void> {
    return this.online;
  }

  /** The active strategy's runner. */
  get strategy(): StrategyRunner | undefined {
    return this.runner;
  }

  /** The market-data pipeline (bars, staleness, history). */
  get market(): MarketPipeline | undefined {
    return this.pipeline;
  }

  /** The broker connection, when the daemon has one. */
  get broker(): MarketLink | undefined {
    return this.link;
  }

  /** The error that forced a stop, if any (a ledger that cannot write). */
  get fatalError(): Error | undefined {
    return this.failure;
  }

  /** Stops once; later calls wait for the same stop. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    const { bus, ledger, deps } = this;
    if (this.heartbeat !== undefined) (deps.ioClock ?? deps.clock).cancel(this.heartbeat);
    bus.emit('DaemonStopping', { reason });
    await this.runner?.stop();
    try {
      await this.money?.stop(deps.config.trading.flatten_on_shutdown, (deps.config.app.shutdown_timeout_sec * 1000) / 2);
    } catch (err) {
      deps.log.warn({ err }, 'the trading desk did not stop cleanly');
    }
    try {
      await this.link?.disconnect();
    } catch (err) {
      deps.log.warn({ err }, 'the broker connection did not close cleanly');
    }
    try {
      await this.pipeline?.stop();
    } catch (err) {
      deps.log.warn({ err }, 'the market pipeline did not stop cleanly');
    }
    if (this.retentionTimer !== undefined) (deps.ioClock ?? deps.clock).cancel(this.retentionTimer);
    try {
      await this.health?.close();
    } catch (err) {
      deps.log.warn({ err }, 'the health endpoint did not close cleanly');
    }
    bus.emit('DaemonStopped', { reason, uptimeMs: Math.max(0, deps.clock.now() - this.startedAt) });
    try {
      await ledger.close();
    } catch (err) {
      this.failure ??= err as Error;
      deps.log.error({ err }, 'the ledger could not be flushed on stop');
    } finally {
      releaseLock(this.lock);
      this.resolveStopped(reason);
    }
  }

  /** Stops the daemon for an error nothing may go on after: the ledger could not record an event. */
  fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.deps.log.fatal({ err }, `the ledger did not record an event (${err.message}): stopping, since nothing may happen that is not recorded`);
    void this.stop(`ledger failure: ${err.message}`);
  }
}
