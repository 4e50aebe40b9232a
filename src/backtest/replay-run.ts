/**
 * One daemon through a run of consecutive trading days of a backtest, as it
 * runs live for weeks: the daemon itself (ledger, market pipeline, strategy,
 * trading desk, paper broker) on a `SimClock`, against the simulator's market
 * generator through the in-process link (`replay-link.ts`) — no sockets.
 *
 * The market moves the way the simulator moves it, in lock-step: one 250 ms
 * market step at a time, the clock first (timers due fire), then that step's
 * ticks, then it waits until the daemon has finished what they set off
 * (fsyncs, picks, orders). So a backtest day makes the same decisions as a
 * paper session of the same day and seed against `rustro sim`. A step with
 * no tick and no timer due would do nothing at all, so it is skipped: time
 * goes straight to the next step with something in it (a coarse backtest's
 * day is mostly such steps, and so is every night).
 *
 * Between days the night passes on the same clock (its timers fire), and at
 * the morning login time the link starts the next day's market, as the
 * morning routine does live.
 */
import { Daemon } from '../app/daemon.js';
import { SimClock, istToMillis } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { TradingCalendar } from '../market/calendar.js';
import type { SimMarket, SimQuote } from '../sim/market/types.js';
import { STEP_MS } from '../sim/server/clock-driver.js';
import { DayFacts } from './day-facts.js';
import { ReplayLink } from './replay-link.js';
import type { BacktestDay, BacktestTrade } from './stats.js';

export type PlayedDay = { day: BacktestDay; trades: BacktestTrade[]; bars: number };

/** While the ledger writes, the event loop turns once in this many replay steps (see stepTo). */
const TURN_EVERY_STEPS = 16;

export class ReplayRun {
  private readonly step: SimQuote[] = [];
  private stepsWriting = 0;
  private lastDayWritten: Promise<void> = Promise.resolve();

  private constructor(
    private readonly daemon: Daemon,
    private readonly clock: SimClock,
    private readonly link: ReplayLink,
    private readonly facts: DayFacts,
    private readonly config: Config,
    private market: SimMarket,
  ) {}

  /** Starts the daemon at `market`'s open, connected to it. */
  static async start(market: SimMarket, config: Config, calendar: TradingCalendar, log: Logger): Promise<ReplayRun> {
    const clock = new SimClock(market.openMs);
    const facts = new DayFacts();
    let link: ReplayLink | undefined;
    const daemon = await Daemon.start({
      config, clock, log, calendar, pid: 1, operatorFiles: false, barFiles: false, ledgerSync: false,
      link: ({ bus }) => (link = new ReplayLink(market, config, bus, clock)),
      onEvent: (e) => facts.apply(e),
    });
    const run = new ReplayRun(daemon, clock, link!, facts, config, market);
    try {
      await daemon.marketReady;
      await run.settle();
    } catch (err) {
      await run.stop();
      throw err;
    }
    return run;
  }

  /** Plays `market`'s day to its close: the first from the open, a later one from the previous close, through the night and its morning. */
  async play(market: SimMarket): Promise<PlayedDay> {
    if (market !== this.market) {
      const morning = Math.min(market.openMs, istToMillis(market.day, this.config.broker.daily_login_ist));
      await this.stepTo(morning, this.market, market.openMs);
      this.market = market;
      this.link.beginDay(market);
      await this.settle();
    }
    this.facts.beginDay(market.openMs);
    await this.stepTo(market.closeMs, market, market.openMs);
    // Unless the ledger is drained, a day without a durable record (no trade) leaves all its lines
    // waiting in memory, and so does every such day after it for the whole run. The write of a day
    // overlaps the next day's replay (stepTo turns the event loop for it); the one before it must be done.
    const written = this.daemon.ledger.flush();
    written.catch(() => {}); // a failed write also stops the daemon (its onError); the next close rethrows it
    await this.lastDayWritten;
    this.lastDayWritten = written;
    const { day, trades } = this.facts.endDay(market.day, market.openMs, market.closeMs);
    return { day, trades, bars: Math.round((market.closeMs - market.openMs) / 60_000) * this.link.watchlist().length };
  }

  async stop(): Promise<void> {
    await this.daemon.stop('backtest: the replayed days are over');
  }

  /**
   * Market and clock to `endMs` in 250 ms steps on the grid through `origin`
   * (the day's open), as the simulator's clock driver moves them; steps with
   * nothing due are skipped (see the header).
   */
  private async stepTo(endMs: number, market: SimMarket, origin: number): Promise<void> {
    const { clock, step } = this;
    const feed = this.link.feed;
    const onTick = (q: SimQuote): void => {
      // As the simulator's clock driver: time moves to each tick (timers due fire on the way), then to the step's end.
      if (q.ts > clock.now()) clock.advanceTo(q.ts);
      step.push(q);
    };
    while (clock.now() < endMs) {
      const tokens = feed.tokens();
      let target = Math.min(endMs, clock.now() + STEP_MS);
      const next = Math.min(market.nextTickAt(tokens), clock.nextTimerAt() ?? Infinity);
      if (next > target) target = Math.min(endMs, origin + Math.ceil((next - origin) / STEP_MS) * STEP_MS);
      // Before the open (a morning) the day's market has not started: nothing to move.
      if (target >= market.openMs) market.advanceTo(target, tokens, onTick);
      clock.advanceTo(target);
      if (step.length > 0) {
        feed.deliver(step);
        step.length = 0;
      }
      if (this.daemon.busy || feed.flushSnapshots()) await this.settle();
      // The ledger writes through the event loop, and this loop runs a whole day without turning it: a
      // write in flight would not finish until the close awaits it (~1 ms of idle a day). A turn every
      // few steps while it is in flight lets it finish alongside the replay; a turn every step was
      // ~150 turns a day, each a poll of the OS for I/O, for writes that take a few dozen steps.
      else if (this.daemon.ledger.writing && ++this.stepsWriting % TURN_EVERY_STEPS === 0) await new Promise((r) => setImmediate(r));
    }
  }

  private async settle(): Promise<void> {
    const feed = this.link.feed;
    // Snapshots owed to new subscriptions first (a socket sends them before the next step), then the work they set off.
    while (feed.flushSnapshots() || this.daemon.busy) await new Promise((r) => setImmediate(r));
  }
}
