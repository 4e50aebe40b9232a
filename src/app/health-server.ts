/**
 * Health and metrics: an optional loopback HTTP endpoint (`[health]`, off by
 * default) with `/healthz` (a JSON verdict, 200 or 503) and `/metrics`
 * (Prometheus text exposition, prom-client).
 *
 * The server knows nothing of the daemon's classes: it pulls `HealthReadings`
 * from a `read()` function at request time — no timers of its own. `readingsOf`
 * adapts a running daemon (a structural view of just what it reads).
 *
 * Metrics live in a Registry of this server's own (never prom-client's global
 * one), so two servers in one process — tests, or two daemons — do not share
 * or collide. Every `rustro_` value is read in a collect callback, from one
 * reading taken per scrape (prom-client runs all collect callbacks in the same
 * synchronous turn of `registry.metrics()`, so they see the same reading).
 * Totals that only go up (ticks, reconnects, events) are exposed as counters
 * that mirror the source's total: prom-client counters cannot be set, so the
 * collect callback does `reset()` then `inc(total)`; a source that starts
 * again from 0 (a new feed object) shows as an ordinary counter reset, which
 * `rate()` handles. prom-client's default process metrics (RSS, CPU, heap,
 * event-loop lag, GC) are in the same registry under their usual names.
 *
 * Loopback only: a host outside 127.0.0.0/8 and ::1 is refused before
 * anything listens; a request whose Host header names anything other than a
 * loopback address or `localhost` is refused with 403 (a web page cannot read
 * the P&L through DNS rebinding). Only GET on `/healthz` and `/metrics`;
 * another method there is 405, any other path 404. Nothing secret is read, so
 * nothing secret can be shown.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BlockList, isIP, type AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type HealthReadings = {
  /** Market time of the reading (ms since the epoch): the session is judged on it, and ticks/s is per second of it. */
  now: number;
  /** ms since the last tick, on the clock that paces the network; undefined before any. */
  feedLagMs?: number;
  /** Ticks decoded by the feed since it was built. */
  ticksTotal: number;
  /** Feed reconnects since it was built. */
  reconnectsTotal: number;
  /** At least one feed connection open. */
  feedConnected: boolean;
  /** The staleness monitor has declared the feed stale (no tick for `feed_stale_sec` in the session). */
  feedStale: boolean;
  /** Inside a trading-session window now. */
  sessionOpen: boolean;
  openPositions: number;
  /** Realised P&L today, rupees. */
  realisedPnl: number;
  /** Unrealised P&L of the open positions, rupees. */
  unrealisedPnl: number;
  /** Risk has halted entries (the kill switch included). */
  halted: boolean;
  /** The kill switch is on for today. */
  killSwitch: boolean;
  /**
   * Durable records (the money path's write-ahead events) published and not
   * yet on disk — a count, not a time. NaN when the daemon does not expose it
   * (then the verdict does not judge the ledger).
   */
  ledgerLag: number;
  /** Events delivered on the bus since the daemon started. */
  eventsTotal: number;
};

export type HealthVerdict = { ok: boolean; reason: string };

export type HealthServerOptions = {
  /** A loopback address: 127.0.0.0/8 or ::1 (anything else is refused). */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  read: () => HealthReadings;
  /** The health verdict; default `defaultVerdict()`. */
  healthy?: (r: HealthReadings) => HealthVerdict;
  /** A request that failed inside (the readings or the verdict threw); the reply says only that it failed. */
  onError?: (err: unknown) => void;
};

export type HealthServer = {
  port: number;
  /** `http://127.0.0.1:<port>` or `http://[::1]:<port>`. */
  url: string;
  /** Stops listening and drops open connections (keep-alive scrapers included); idempotent. */
  close(): Promise<void>;
};

/** More durable records than this waiting for the disk: the ledger is not keeping up. */
export const DEFAULT_MAX_LEDGER_LAG = 100;

/**
 * The default verdict. Inside the session: not ok when the feed is
 * disconnected or stale. At any time: not ok when the ledger lag is beyond
 * `maxLedgerLag` (the ledger is not a market-hours matter; an unknown lag,
 * NaN, is not judged). A halt or the kill switch is a decision, not a fault:
 * still ok. Outside the session, with the ledger keeping up: ok.
 */
export function defaultVerdict(o: { maxLedgerLag?: number } = {}): (r: HealthReadings) => HealthVerdict {
  const maxLag = o.maxLedgerLag ?? DEFAULT_MAX_LEDGER_LAG;
  return (r) => {
    if (r.ledgerLag > maxLag) return { ok: false, reason: `ledger lag: ${r.ledgerLag} durable records not yet on disk (more than ${maxLag})` };
    if (!r.sessionOpen) return { ok: true, reason: 'outside the session' };
    if (!r.feedConnected) return { ok: false, reason: 'feed disconnected during the session' };
    if (r.feedStale) {
      const lag = r.feedLagMs === undefined ? 'no tick yet' : `last tick ${Math.round(r.feedLagMs / 1000)}s ago`;
      return { ok: false, reason: `feed stale during the session (${lag})` };
    }
    return { ok: true, reason: 'in session, feed live' };
  };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IP literal on the loopback interface (127.0.0.0/8, ::1, ::ffff:127.x.x.x). Names (even `localhost`) are not: what they resolve to is not ours to trust. */
export function isLoopbackAddress(host: string): boolean {
  const v = isIP(host);
  return v === 4 ? LOOPBACK.check(host, 'ipv4') : v === 6 ? LOOPBACK.check(host, 'ipv6') : false;
}

/** A Host header a local client sends: `localhost` or a loopback literal, any port; no Host at all (HTTP/1.0) passes. */
function hostHeaderOk(header: string | undefined): boolean {
  if (header === undefined || header === '') return true;
  let name = header.toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']') < 0 ? undefined : name.indexOf(']'));
  else if (name.lastIndexOf(':') >= 0) name = name.slice(0, name.lastIndexOf(':'));
  return name === 'localhost' || isLoopbackAddress(name);
}

/** Starts the endpoint. Rejects for a non-loopback host (naming it) or when the port cannot be bound. */
export async function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  if (!isLoopbackAddress(o.host)) {
    throw new Error(`health endpoint: refusing to listen on ${JSON.stringify(o.host)}: only a loopback address (127.0.0.1 or ::1) may serve /healthz and /metrics`);
  }
  if (!(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65_535)) {
    throw new RangeError(`health endpoint: port must be an integer 0..65535, got ${o.port}`);
  }
  const verdict = o.healthy ?? defaultVerdict();
  const onError = o.onError ?? (() => {});
  const { registry, scrape } = metricsFor(o.read);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!hostHeaderOk(req.headers.host)) return reply(res, 403, { error: 'this endpoint answers only to localhost / loopback Host names' });
    if (path !== '/healthz' && path !== '/metrics') return reply(res, 404, { error: 'not found: try /healthz or /metrics' });
    if (req.method !== 'GET') return reply(res, 405, { error: `method ${req.method ?? '?'} not allowed: GET only` }, { Allow: 'GET' });
    if (path === '/healthz') {
      let body: Record<string, unknown>;
      let ok = false;
      try {
        const r = o.read();
        const v = verdict(r);
        ok = v.ok;
        body = { ok: v.ok, reason: v.reason, ...r };
      } catch (err) {
        onError(err);
        body = { ok: false, reason: 'the health readings could not be taken' };
      }
      return reply(res, ok ? 200 : 503, body);
    }
    let text: string;
    try {
      text = await scrape();
    } catch (err) {
      onError(err);
      return reply(res, 500, { error: 'the metrics could not be collected' });
    }
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  };

  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`health endpoint: cannot listen on ${o.host}:${o.port}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', failed);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', onError);
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${isIP(o.host) === 6 ? `[${o.host}]` : o.host}:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body) + '\n');
}

/** The window ticks/s is measured over: since the newest earlier scrape at least this old (else the oldest one kept). */
const RATE_MIN_SPAN_MS = 5_000;

/**
 * Ticks per second between scrapes, from the samples the scrapes themselves
 * take (no timer): over the span back to the newest earlier sample at least
 * `RATE_MIN_SPAN_MS` old — the last scrape interval for Prometheus, and an
 * extra curl in between does not shrink it to nothing. 0 on the first scrape,
 * and after the total or the clock went backwards.
 */
export class TickRate {
  private samples: { t: number; v: number }[] = [];

  /** Records the sample (t ms, v total) and returns the rate per second. */
  sample(t: number, v: number): number {
    const s = this.samples;
    let ref = 0;
    for (let i = s.length - 1; i >= 0; i--) {
      if (t - s[i]!.t >= RATE_MIN_SPAN_MS) {
        ref = i;
        break;
      }
    }
    if (ref > 0) s.splice(0, ref);
    const base = s[0];
    const last = s[s.length - 1];
    if (!Number.isFinite(t) || !Number.isFinite(v)) return 0;
    if (last !== undefined && (t < last.t || v < last.v)) {
      this.samples = [{ t, v }];
      return 0;
    }
    s.push({ t, v });
    if (base === undefined || t === base.t) return 0;
    return (v - base.v) / ((t - base.t) / 1000);
  }
}

function metricsFor(read: () => HealthReadings): { registry: Registry; scrape: () => Promise<string> } {
  const registry = new Registry();
  const registers = [registry];
  let current: HealthReadings | undefined;
  const r = (): HealthReadings => (current ??= read());
  const flag = (b: boolean): number => (b ? 1 : 0);
  const rate = new TickRate();
  /** A counter that mirrors a monotonic total kept elsewhere. */
  const mirror = (name: string, help: string, total: (x: HealthReadings) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        const v = total(r());
        this.reset();
        if (Number.isFinite(v) && v > 0) this.inc(v);
      },
    });
  };
  const gauge = (name: string, help: string, value: (x: HealthReadings) => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(value(r())); } });
  };

  gauge('rustro_feed_lag_seconds', 'Seconds since the last tick (NaN before any).', (x) => (x.feedLagMs === undefined ? NaN : x.feedLagMs / 1000));
  mirror('rustro_ticks_total', 'Ticks decoded by the market-data feed.', (x) => x.ticksTotal);
  gauge('rustro_ticks_per_second', 'Ticks per second since the previous scrape (at least 5 s back).', (x) => rate.sample(x.now, x.ticksTotal));
  mirror('rustro_feed_reconnects_total', 'Market-data feed reconnects.', (x) => x.reconnectsTotal);
  gauge('rustro_feed_connected', '1 when at least one feed connection is open.', (x) => flag(x.feedConnected));
  gauge('rustro_feed_stale', '1 when the feed has been declared stale in the session.', (x) => flag(x.feedStale));
  gauge('rustro_session_open', '1 inside a trading-session window.', (x) => flag(x.sessionOpen));
  gauge('rustro_open_positions', 'Open positions (units held or an entry working).', (x) => x.openPositions);
  new Gauge({
    name: 'rustro_pnl_rupees', help: 'P&L today in rupees: realised, and unrealised on open positions.', labelNames: ['kind'] as const, registers,
    collect() {
      const x = r();
      this.set({ kind: 'realised' }, x.realisedPnl);
      this.set({ kind: 'unrealised' }, x.unrealisedPnl);
    },
  });
  gauge('rustro_halted', '1 when risk has halted entries (kill switch included).', (x) => flag(x.halted));
  gauge('rustro_kill_switch', '1 when the kill switch is on for today.', (x) => flag(x.killSwitch));
  gauge('rustro_ledger_lag', 'Durable records published and not yet on disk (NaN when unknown).', (x) => x.ledgerLag);
  mirror('rustro_events_total', 'Events delivered on the bus since the daemon started.', (x) => x.eventsTotal);
  collectDefaultMetrics({ register: registry });

  return {
    registry,
    scrape: async () => {
      current = undefined; // one fresh reading per scrape, taken by the first collect callback
      try {
        return await registry.metrics();
      } finally {
        current = undefined;
      }
    },
  };
}

// ── adapting the daemon ──────────────────────────────────────────────────────

/** What `readingsOf` reads from a running daemon (a structural view of `Daemon`, so tests can fake it). */
export type DaemonView = {
  readonly bus: {
    readonly deliveredCount: number;
    on(type: 'Tick', fn: () => void, name?: string): () => void;
  };
  readonly market?: {
    readonly staleness: { readonly isStale: boolean };
    readonly sessions: { windowAt(ms: number): unknown };
  } | undefined;
  readonly broker?: {
    readonly feed: { readonly counters: { readonly ticks: number; readonly reconnects: number }; readonly openConnections: number };
  } | undefined;
  readonly trading?: {
    readonly desk: {
      readonly positions: { open(): readonly unknown[]; unrealisedTotal(): number };
      readonly risk: { halted(now: number): boolean; killed(now: number): boolean; readonly realisedToday: number };
    };
  } | undefined;
  /** Durable records published and not yet on disk (the daemon's journal); absent → ledger lag unknown (NaN). */
  readonly ledgerPending?: number;
};

export type ReadingsClocks = {
  /** Market time (the daemon's `clock`): the session and the risk day. */
  clock: { now(): number };
  /** The clock that paces the network (the daemon's `ioClock`, default `clock`): the feed lag, as the staleness monitor measures silence. */
  ioClock?: { now(): number };
};

/**
 * Readings of a running daemon. Subscribes to `Tick` on the daemon's bus (one
 * store per tick) for the feed lag — the one value not exposed elsewhere; the
 * subscription lives as long as the bus. Everything else is read when called.
 */
export function readingsOf(daemon: DaemonView, clocks: ReadingsClocks): () => HealthReadings {
  const io = clocks.ioClock ?? clocks.clock;
  let lastTickAt: number | undefined;
  daemon.bus.on('Tick', () => {
    lastTickAt = io.now();
  }, 'health readings');
  return () => {
    const now = clocks.clock.now();
    const feed = daemon.broker?.feed;
    const counters = feed?.counters;
    const desk = daemon.trading?.desk;
    const market = daemon.market;
    // halted/killed first: they roll the risk day, and realisedToday is then today's.
    const halted = desk?.risk.halted(now) ?? false;
    const killSwitch = desk?.risk.killed(now) ?? false;
    return {
      now,
      ...(lastTickAt === undefined ? {} : { feedLagMs: Math.max(0, io.now() - lastTickAt) }),
      ticksTotal: counters?.ticks ?? 0,
      reconnectsTotal: counters?.reconnects ?? 0,
      feedConnected: (feed?.openConnections ?? 0) > 0,
      feedStale: market?.staleness.isStale ?? false,
      sessionOpen: market !== undefined && market.sessions.windowAt(now) !== undefined,
      openPositions: desk?.positions.open().length ?? 0,
      realisedPnl: desk?.risk.realisedToday ?? 0,
      unrealisedPnl: desk?.positions.unrealisedTotal() ?? 0,
      halted,
      killSwitch,
      ledgerLag: daemon.ledgerPending ?? NaN,
      eventsTotal: daemon.bus.deliveredCount,
    };
  };
}
