import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/app/daemon.js';
import {
  type DaemonView,
  type HealthReadings,
  type HealthServer,
  TickRate,
  defaultVerdict,
  isLoopbackAddress,
  readingsOf,
  startHealthServer,
} from '../../src/app/health-server.js';

const base: HealthReadings = {
  now: 1_750_000_000_000,
  feedLagMs: 1500,
  ticksTotal: 12_345,
  reconnectsTotal: 3,
  feedConnected: true,
  feedStale: false,
  sessionOpen: true,
  openPositions: 2,
  realisedPnl: -1250.5,
  unrealisedPnl: 300.25,
  halted: false,
  killSwitch: true,
  ledgerLag: 4,
  eventsTotal: 98_765,
};

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(read: () => HealthReadings, extra: Partial<Parameters<typeof startHealthServer>[0]> = {}): Promise<HealthServer> {
  const s = await startHealthServer({ host: '127.0.0.1', port: 0, read, ...extra });
  servers.push(s);
  return s;
}

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** A raw request (fetch will not send a chosen Host header). */
function get(url: string, o: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', agent: false, ...(o.host === undefined ? {} : { headers: { host: o.host } }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `name{labels}` → value, from the Prometheus text exposition. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not an exposition line: ${line}`);
    out.set(m[1]!, m[2]!.toLowerCase() === 'nan' ? NaN : Number(m[2]));
  }
  return out;
}

function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('health server: /metrics', () => {
  it('exposes every rustro_ metric from the readings, in the Prometheus text format', async () => {
    const s = await start(() => base);
    const r = await get(`${s.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(r.body);
    expect(Object.fromEntries([...m].filter(([k]) => k.startsWith('rustro_')))).toEqual({
      rustro_feed_lag_seconds: 1.5,
      rustro_ticks_total: 12_345,
      rustro_ticks_per_second: 0, // first scrape: no earlier sample
      rustro_feed_reconnects_total: 3,
      rustro_feed_connected: 1,
      rustro_feed_stale: 0,
      rustro_session_open: 1,
      rustro_open_positions: 2,
      'rustro_pnl_rupees{kind="realised"}': -1250.5,
      'rustro_pnl_rupees{kind="unrealised"}': 300.25,
      rustro_halted: 0,
      rustro_kill_switch: 1,
      rustro_ledger_lag: 4,
      rustro_events_total: 98_765,
    });
    const t = types(r.body);
    expect(t.get('rustro_ticks_total')).toBe('counter');
    expect(t.get('rustro_feed_reconnects_total')).toBe('counter');
    expect(t.get('rustro_events_total')).toBe('counter');
    expect(t.get('rustro_feed_lag_seconds')).toBe('gauge');
    // prom-client's default process metrics, in the same registry
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('reads once per scrape, at scrape time; ticks/s is the rate since the previous scrape', async () => {
    let reads = 0;
    let r: HealthReadings = { ...base, feedLagMs: undefined, realisedPnl: 0 };
    const s = await start(() => {
      reads++;
      return r;
    });
    const first = parseMetrics((await get(`${s.url}/metrics`)).body);
    expect(reads).toBe(1);
    expect(first.get('rustro_feed_lag_seconds')).toBeNaN(); // no tick yet
    r = { ...base, now: base.now + 10_000, ticksTotal: base.ticksTotal + 500, realisedPnl: 42 };
    const second = parseMetrics((await get(`${s.url}/metrics`)).body);
    expect(reads).toBe(2);
    expect(second.get('rustro_ticks_per_second')).toBe(50);
    expect(second.get('rustro_ticks_total')).toBe(base.ticksTotal + 500);
    expect(second.get('rustro_pnl_rupees{kind="realised"}')).toBe(42);
  });

  it('a source total that starts again from 0 shows as a counter reset, not an error', async () => {
    let r = base;
    const s = await start(() => r);
    await get(`${s.url}/metrics`);
    r = { ...base, now: base.now + 10_000, ticksTotal: 7, reconnectsTotal: 0 };
    const m = parseMetrics((await get(`${s.url}/metrics`)).body);
    expect(m.get('rustro_ticks_total')).toBe(7);
    expect(m.get('rustro_feed_reconnects_total')).toBe(0);
    expect(m.get('rustro_ticks_per_second')).toBe(0);
  });

  it('two servers side by side keep their own metrics', async () => {
    const a = await start(() => ({ ...base, openPositions: 1, eventsTotal: 10 }));
    const b = await start(() => ({ ...base, openPositions: 5, eventsTotal: 20 }));
    const [ma, mb] = await Promise.all([get(`${a.url}/metrics`), get(`${b.url}/metrics`)]).then((rs) => rs.map((r) => parseMetrics(r.body)));
    expect(ma!.get('rustro_open_positions')).toBe(1);
    expect(mb!.get('rustro_open_positions')).toBe(5);
    expect(ma!.get('rustro_events_total')).toBe(10);
    expect(mb!.get('rustro_events_total')).toBe(20);
  });

  it('a reading that throws is a 500 that says nothing of the cause; the error goes to onError', async () => {
    const errors: unknown[] = [];
    const s = await start(() => {
      throw new Error('token=SECRET');
    }, { onError: (e) => errors.push(e) });
    const r = await get(`${s.url}/metrics`);
    expect(r.status).toBe(500);
    expect(r.body).not.toContain('SECRET');
    const h = await get(`${s.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.body).not.toContain('SECRET');
    expect(errors).toHaveLength(2);
  });
});

describe('health server: /healthz', () => {
  it('200 with ok:true and the readings when healthy', async () => {
    const s = await start(() => base);
    const r = await get(`${s.url}/healthz`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.body)).toEqual({ ok: true, reason: 'in session, feed live', ...base });
  });

  it('503 with the reason when the feed is stale in the session', async () => {
    const s = await start(() => ({ ...base, feedStale: true, feedLagMs: 45_000 }));
    const r = await get(`${s.url}/healthz`);
    expect(r.status).toBe(503);
    const body = JSON.parse(r.body) as { ok: boolean; reason: string };
    expect(body.ok).toBe(false);
    expect(body.reason).toBe('feed stale during the session (last tick 45s ago)');
  });

  it('uses a given verdict', async () => {
    const s = await start(() => base, { healthy: (r) => ({ ok: !r.killSwitch, reason: 'kill switch on' }) });
    const r = await get(`${s.url}/healthz`);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ ok: false, reason: 'kill switch on' });
  });
});

describe('defaultVerdict', () => {
  const v = defaultVerdict({ maxLedgerLag: 10 });
  it('judges the feed only inside the session', () => {
    expect(v({ ...base, feedConnected: false })).toEqual({ ok: false, reason: 'feed disconnected during the session' });
    expect(v({ ...base, feedStale: true, feedLagMs: undefined })).toEqual({ ok: false, reason: 'feed stale during the session (no tick yet)' });
    expect(v({ ...base, sessionOpen: false, feedConnected: false, feedStale: true })).toEqual({ ok: true, reason: 'outside the session' });
  });
  it('judges the ledger lag at any time; an unknown lag is not judged; a halt is not a fault', () => {
    expect(v({ ...base, ledgerLag: 11 }).ok).toBe(false);
    expect(v({ ...base, sessionOpen: false, ledgerLag: 11 })).toEqual({ ok: false, reason: 'ledger lag: 11 durable records not yet on disk (more than 10)' });
    expect(v({ ...base, ledgerLag: 10 }).ok).toBe(true);
    expect(v({ ...base, ledgerLag: NaN }).ok).toBe(true);
    expect(v({ ...base, halted: true, killSwitch: true }).ok).toBe(true);
  });
});

describe('health server: HTTP surface', () => {
  it('404 for any other path, 405 for another method on a known one', async () => {
    const s = await start(() => base);
    expect((await get(`${s.url}/`)).status).toBe(404);
    expect((await get(`${s.url}/metrics/x`)).status).toBe(404);
    expect((await get(`${s.url}/healthz?verbose=1`)).status).toBe(200);
    const post = await get(`${s.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    expect((await get(`${s.url}/healthz`, { method: 'DELETE' })).status).toBe(405);
  });

  it('refuses a Host header that is not local (DNS rebinding)', async () => {
    const s = await start(() => base);
    expect((await get(`${s.url}/metrics`, { host: 'evil.example:9464' })).status).toBe(403);
    expect((await get(`${s.url}/healthz`, { host: `localhost:${s.port}` })).status).toBe(200);
    expect((await get(`${s.url}/healthz`, { host: '[::1]:1234' })).status).toBe(200);
    expect((await get(`${s.url}/healthz`, { host: '127.0.0.1' })).status).toBe(200);
  });

  it('refuses a non-loopback host, naming it', async () => {
    await expect(startHealthServer({ host: '0.0.0.0', port: 0, read: () => base })).rejects.toThrow(/refusing to listen on "0\.0\.0\.0"/);
    await expect(startHealthServer({ host: '::', port: 0, read: () => base })).rejects.toThrow(/"::"/);
    await expect(startHealthServer({ host: 'localhost', port: 0, read: () => base })).rejects.toThrow(/"localhost"/);
    await expect(startHealthServer({ host: '192.168.1.10', port: 0, read: () => base })).rejects.toThrow(/"192\.168\.1\.10"/);
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
  });

  it('serves on ::1 when asked (where the host has IPv6)', async (ctx) => {
    let s: HealthServer;
    try {
      s = await start(() => base, { host: '::1' });
    } catch (err) {
      if (/EADDRNOTAVAIL|EAFNOSUPPORT/.test((err as Error).message)) return ctx.skip();
      throw err;
    }
    expect(s.url).toBe(`http://[::1]:${s.port}`);
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });

  it('close() frees the port, drops keep-alive connections and can be called twice', async () => {
    const s = await startHealthServer({ host: '127.0.0.1', port: 0, read: () => base });
    // A keep-alive client (fetch keeps the connection open) must not hold the close up.
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    await s.close();
    await s.close();
    await expect(get(`${s.url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    const again = await start(() => base, { port: s.port });
    expect(again.port).toBe(s.port);
    expect((await get(`${again.url}/healthz`)).status).toBe(200);
  });

  it('a port in use is a clear error', async () => {
    const s = await start(() => base);
    await expect(startHealthServer({ host: '127.0.0.1', port: s.port, read: () => base })).rejects.toThrow(`cannot listen on 127.0.0.1:${s.port}: EADDRINUSE`);
  });
});

describe('TickRate', () => {
  it('measures back to the newest sample at least 5 s old, so a scrape in between does not shrink the window', () => {
    const r = new TickRate();
    expect(r.sample(0, 0)).toBe(0);
    expect(r.sample(15_000, 1500)).toBe(100);
    expect(r.sample(29_000, 2900)).toBe(100); // a curl between two scrapes: back to t=15 s
    expect(r.sample(30_000, 3300)).toBe(1800 / 15); // back to t=15 s, not to the curl 1 s ago
    expect(r.sample(31_000, 3300)).toBe(1800 / 16); // still t=15 s: nothing newer is 5 s old
  });
  it('starts over when the total or the time goes backwards', () => {
    const r = new TickRate();
    r.sample(0, 100);
    expect(r.sample(10_000, 50)).toBe(0);
    expect(r.sample(20_000, 150)).toBe(10);
    expect(r.sample(5_000, 200)).toBe(0);
  });
});

describe('readingsOf', () => {
  function fakeDaemon() {
    let tick: (() => void) | undefined;
    const state = { stale: false, open: true, connections: 1, halted: false, killed: false };
    const calls: string[] = [];
    const d = {
      bus: {
        deliveredCount: 77,
        on(type: 'Tick', fn: () => void): () => void {
          expect(type).toBe('Tick');
          tick = fn;
          return () => {};
        },
      },
      market: {
        staleness: { get isStale() { return state.stale; } },
        sessions: { windowAt: (ms: number) => (state.open ? { open: ms - 1, close: ms + 1 } : undefined) },
      },
      broker: { feed: { counters: { ticks: 900, reconnects: 2 }, get openConnections() { return state.connections; } } },
      trading: {
        desk: {
          positions: { open: () => [{}, {}, {}], unrealisedTotal: () => -75 },
          risk: {
            halted: (now: number) => (calls.push(`halted@${now}`), state.halted),
            killed: (now: number) => (calls.push(`killed@${now}`), state.killed),
            get realisedToday() {
              calls.push('realised');
              return 120;
            },
          },
        },
      },
      ledgerPending: 1,
    } satisfies DaemonView;
    return { d, state, calls, tick: () => tick!() };
  }

  it('adapts a daemon: feed lag on the io clock from the last Tick, the rest read on call', () => {
    const f = fakeDaemon();
    let market = 1_000_000;
    let io = 5_000;
    const read = readingsOf(f.d, { clock: { now: () => market }, ioClock: { now: () => io } });
    expect(read().feedLagMs).toBeUndefined();
    f.tick();
    io += 2500;
    market += 99;
    f.state.halted = true;
    expect(read()).toEqual({
      now: 1_000_099,
      feedLagMs: 2500,
      ticksTotal: 900,
      reconnectsTotal: 2,
      feedConnected: true,
      feedStale: false,
      sessionOpen: true,
      openPositions: 3,
      realisedPnl: 120,
      unrealisedPnl: -75,
      halted: true,
      killSwitch: false,
      ledgerLag: 1,
      eventsTotal: 77,
    });
    // The risk day rolls (halted/killed with now) before realisedToday is read.
    expect(f.calls.slice(-3)).toEqual(['halted@1000099', 'killed@1000099', 'realised']);
    f.state.connections = 0;
    f.state.stale = true;
    f.state.open = false;
    expect(read()).toMatchObject({ feedConnected: false, feedStale: true, sessionOpen: false });
  });

  it('a daemon without a broker, money path or ledger count: zeros, not connected, lag unknown', () => {
    const read = readingsOf({ bus: { deliveredCount: 3, on: () => () => {} } }, { clock: { now: () => 10 } });
    expect(read()).toEqual({
      now: 10, ticksTotal: 0, reconnectsTotal: 0, feedConnected: false, feedStale: false, sessionOpen: false,
      openPositions: 0, realisedPnl: 0, unrealisedPnl: 0, halted: false, killSwitch: false, ledgerLag: NaN, eventsTotal: 3,
    });
  });

  it('a real Daemon fits the view (checked by the type checker)', () => {
    const fits = (d: Daemon): DaemonView => d;
    expect(typeof fits).toBe('function');
  });
});
