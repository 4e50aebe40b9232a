import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { Daemon } from '../../src/app/daemon.js';
import {
  type Health,
  type HealthTarget,
  type Notifier,
  daemonHealth,
  startWatchdog,
  systemdNotify,
  watchdogSettings,
} from '../../src/app/watchdog.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/log.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';

const PID = 4242;
/** What systemd sets for Type=notify with WatchdogSec=30s. */
const SYSTEMD_ENV = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(PID) };

/** Lets the watchdog's send queue (promise chain) run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function recorder() {
  const sent: string[][] = [];
  const notify: Notifier = (a) => {
    sent.push([...a]);
    return Promise.resolve();
  };
  return { sent, notify, flat: () => sent.map((m) => m.join(' ')) };
}

describe('watchdogSettings: what the environment says', () => {
  it('is off without NOTIFY_SOCKET, whatever else is set', () => {
    expect(watchdogSettings({}, PID)).toEqual({ notifySocket: undefined, heartbeatMs: undefined });
    expect(watchdogSettings({ NOTIFY_SOCKET: '', WATCHDOG_USEC: '30000000' }, PID)).toEqual({ notifySocket: undefined, heartbeatMs: undefined });
  });

  it('beats every WATCHDOG_USEC/2, and only for the process WATCHDOG_PID names', () => {
    expect(watchdogSettings(SYSTEMD_ENV, PID)).toEqual({ notifySocket: '/run/systemd/notify', heartbeatMs: 15_000 });
    expect(watchdogSettings({ NOTIFY_SOCKET: '@abstract', WATCHDOG_USEC: '30000000' }, PID).heartbeatMs).toBe(15_000);
    expect(watchdogSettings({ ...SYSTEMD_ENV, WATCHDOG_PID: '1' }, PID).heartbeatMs).toBeUndefined();
    expect(watchdogSettings({ NOTIFY_SOCKET: '/s' }, PID).heartbeatMs).toBeUndefined();
    expect(watchdogSettings({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: 'soon' }, PID).heartbeatMs).toBeUndefined();
    expect(watchdogSettings({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '0' }, PID).heartbeatMs).toBeUndefined();
  });
});

describe('startWatchdog', () => {
  it('does nothing at all when not run by systemd (no NOTIFY_SOCKET): no message, no timer', async () => {
    const clock = new SimClock(0);
    const r = recorder();
    let asked = 0;
    const wd = startWatchdog({ healthy: () => (asked++, { ok: true, reason: 'fine' }), notify: r.notify, clock, env: { WATCHDOG_USEC: '30000000' }, pid: PID });
    expect(wd.enabled).toBe(false);
    wd.ready();
    expect(clock.pending()).toBe(0);
    clock.advanceBy(120_000);
    wd.stopping('signal SIGTERM');
    wd.stop();
    await flush();
    expect(r.sent).toEqual([]);
    expect(asked).toBe(0);
  });

  it('without WATCHDOG_USEC sends READY and STOPPING but no heartbeat', async () => {
    const clock = new SimClock(0);
    const r = recorder();
    const wd = startWatchdog({ healthy: () => ({ ok: true, reason: 'fine' }), notify: r.notify, clock, env: { NOTIFY_SOCKET: '/s' }, pid: PID });
    wd.ready('running: paper');
    expect(clock.pending()).toBe(0);
    clock.advanceBy(120_000);
    wd.stopping('signal SIGTERM');
    await flush();
    expect(r.sent).toEqual([['READY=1', 'STATUS=running: paper'], ['STOPPING=1', 'STATUS=stopping: signal SIGTERM']]);
  });

  it('sends READY, then WATCHDOG=1 every half interval only while healthy, with STATUS on each change', async () => {
    const clock = new SimClock(0);
    const r = recorder();
    const says: string[] = [];
    let health: Health = { ok: true, reason: 'outside the session' };
    const wd = startWatchdog({ healthy: () => health, notify: r.notify, clock, env: SYSTEMD_ENV, pid: PID, say: (l, s) => says.push(`${l}: ${s}`) });
    expect(wd.heartbeatMs).toBe(15_000);
    // No heartbeat before READY: systemd arms the watchdog only once start-up is complete.
    expect(clock.pending()).toBe(0);
    wd.ready('running (paper)');
    await flush();
    expect(r.flat()).toEqual(['READY=1 STATUS=running (paper)']);

    clock.advanceBy(14_999);
    await flush();
    expect(r.sent).toHaveLength(1);
    clock.advanceBy(1);
    await flush();
    expect(r.flat()[1]).toBe('WATCHDOG=1 STATUS=outside the session');
    clock.advanceBy(15_000);
    await flush();
    expect(r.flat()[2]).toBe('WATCHDOG=1'); // status unchanged: not repeated

    health = { ok: false, reason: 'in session; feed stale (no ticks) for 95 s (grace 90 s)' };
    clock.advanceBy(15_000);
    await flush();
    expect(r.flat()[3]).toBe('STATUS=unhealthy, heartbeat withheld: in session; feed stale (no ticks) for 95 s (grace 90 s)');
    for (let i = 0; i < 2; i++) { // two more beats: nothing new to say, and no heartbeat
      clock.advanceBy(15_000);
      await flush();
    }
    expect(r.sent).toHaveLength(4);
    expect(r.sent.flat().filter((a) => a === 'WATCHDOG=1')).toHaveLength(2);
    expect(says).toEqual([expect.stringMatching(/^warn: watchdog: heartbeat withheld: in session; feed stale/)]);

    health = { ok: true, reason: 'in session; feed live (10 frames, 9 ticks)' };
    clock.advanceBy(15_000);
    await flush();
    expect(r.flat()[4]).toBe('WATCHDOG=1 STATUS=in session; feed live (10 frames, 9 ticks)');
    expect(says[1]).toMatch(/^info: watchdog: healthy again/);
    wd.stop();
    expect(clock.pending()).toBe(0);
  });

  it('after STOPPING=1 keeps beating without asking health (a flattening shutdown must not be cut short), until stop()', async () => {
    const clock = new SimClock(0);
    const r = recorder();
    let asked = 0;
    const wd = startWatchdog({ healthy: () => (asked++, { ok: false, reason: 'feed disconnected' }), notify: r.notify, clock, env: SYSTEMD_ENV, pid: PID });
    wd.ready();
    wd.stopping('signal SIGTERM');
    wd.stopping('again'); // once only
    await flush();
    for (let i = 0; i < 2; i++) {
      clock.advanceBy(15_000);
      await flush();
    }
    expect(r.flat()).toEqual(['READY=1 STATUS=running', 'STOPPING=1 STATUS=stopping: signal SIGTERM', 'WATCHDOG=1', 'WATCHDOG=1']);
    expect(asked).toBe(0);
    wd.stop();
    expect(clock.pending()).toBe(0);
    wd.ready(); // nothing after stop
    await flush();
    expect(r.sent).toHaveLength(4);
  });

  it('treats a throwing health check as unhealthy', async () => {
    const clock = new SimClock(0);
    const r = recorder();
    const wd = startWatchdog({ healthy: () => { throw new Error('boom'); }, notify: r.notify, clock, env: SYSTEMD_ENV, pid: PID });
    wd.ready();
    await flush();
    clock.advanceBy(15_000);
    await flush();
    expect(r.flat()).toEqual(['READY=1 STATUS=running', 'STATUS=unhealthy, heartbeat withheld: the health check threw: boom']);
    wd.stop();
  });

  it('sends one message at a time in order, drops a beat that would queue behind one in flight, and reports failures once', async () => {
    const clock = new SimClock(0);
    const sent: string[] = [];
    const says: string[] = [];
    let release: (() => void) | undefined;
    let fail = false;
    const notify: Notifier = (a) => {
      sent.push(a.join(' '));
      if (fail) return Promise.reject(new Error('Failed to notify init system: Connection refused'));
      return new Promise<void>((res) => (release = res));
    };
    const wd = startWatchdog({ healthy: () => ({ ok: true, reason: 'ok' }), notify, clock, env: SYSTEMD_ENV, pid: PID, say: (l, s) => says.push(`${l}: ${s}`) });
    wd.ready();
    await flush();
    expect(sent).toEqual(['READY=1 STATUS=running']);
    clock.advanceBy(15_000); // READY still in flight: this beat is dropped, not stacked
    await flush();
    expect(sent).toHaveLength(1);
    release!();
    await flush();
    clock.advanceBy(15_000);
    await flush();
    expect(sent).toEqual(['READY=1 STATUS=running', 'WATCHDOG=1 STATUS=ok']);
    fail = true;
    release!();
    await flush();
    for (let i = 0; i < 3; i++) {
      clock.advanceBy(15_000);
      await flush();
    }
    expect(sent).toHaveLength(5);
    expect(says).toEqual([expect.stringMatching(/^warn: systemd notification failed \(Failed to notify init system: Connection refused\)/)]);
    fail = false;
    clock.advanceBy(15_000);
    await flush();
    release!();
    await flush();
    expect(says[1]).toBe('info: systemd notifications are delivered again');
    wd.stop();
  });

  it('keeps STATUS to one line', async () => {
    const r = recorder();
    const wd = startWatchdog({ healthy: () => ({ ok: true, reason: '' }), notify: r.notify, clock: new SimClock(0), env: SYSTEMD_ENV, pid: PID });
    wd.ready('line one\nMAINPID=1');
    await flush();
    expect(r.sent).toEqual([['READY=1', 'STATUS=line one MAINPID=1']]);
    wd.stop();
  });
});

// ── daemonHealth ─────────────────────────────────────────────────────────────

const OPEN = istToMillis('2024-02-21', '09:15');
const CLOSE = istToMillis('2024-02-21', '15:30');

function fakeDaemon() {
  const feed = { openConnections: 1, subscriptionCount: 3, counters: { frames: 10, ticks: 9 } };
  const staleness = { isStale: false };
  const calendar = { isSessionOpen: (ms: number) => ms >= OPEN && ms < CLOSE };
  const daemon: HealthTarget = { market: { staleness, sessions: { calendar } }, broker: { feed } };
  return { daemon, feed, staleness };
}

describe('daemonHealth', () => {
  it('a Daemon is what it reads', () => {
    expectTypeOf<Daemon>().toExtend<HealthTarget>();
    expectTypeOf<TradingCalendar>().toExtend<{ isSessionOpen(ms: number): boolean }>();
  });

  it('is ok outside the session, whatever the feed does', () => {
    const { daemon, feed, staleness } = fakeDaemon();
    feed.openConnections = 0;
    staleness.isStale = true;
    let now = OPEN - 60_000;
    const health = daemonHealth(daemon, { now: () => now });
    expect(health()).toEqual({ ok: true, reason: 'outside the session' });
    now = CLOSE + 10 * 60_000;
    expect(health().ok).toBe(true);
  });

  it('in session: ok while the feed is live; a disconnected or stale feed is tolerated for the grace period, then not ok', () => {
    const { daemon, feed, staleness } = fakeDaemon();
    let now = OPEN + 3_600_000;
    const health = daemonHealth(daemon, { now: () => now, graceMs: 60_000 });
    expect(health()).toEqual({ ok: true, reason: 'in session; feed live (10 frames, 9 ticks)' });

    feed.openConnections = 0;
    expect(health()).toEqual({ ok: true, reason: 'in session; feed disconnected for 0 s (heartbeat withheld after 60 s)' });
    now += 45_000;
    expect(health().ok).toBe(true);
    // Reconnected but still no ticks: the same outage goes on (stale), the grace is not restarted.
    feed.openConnections = 1;
    staleness.isStale = true;
    now += 15_000;
    expect(health()).toEqual({ ok: false, reason: 'in session; feed stale (no ticks) for 60 s (grace 60 s)' });
    now += 15_000;
    expect(health().ok).toBe(false);

    // Ticks again: healthy at once, and a new outage gets the whole grace again.
    staleness.isStale = false;
    expect(health().ok).toBe(true);
    staleness.isStale = true;
    now += 15_000;
    expect(health().ok).toBe(true);
    now += 59_999;
    expect(health().ok).toBe(true);
    now += 1;
    expect(health().ok).toBe(false);
  });

  it('the close ends an outage: the next session starts with the whole grace', () => {
    const { daemon, staleness } = fakeDaemon();
    let now = CLOSE - 120_000;
    const health = daemonHealth(daemon, { now: () => now, graceMs: 60_000 });
    staleness.isStale = true;
    expect(health().ok).toBe(true);
    now = CLOSE - 30_000;
    expect(health().ok).toBe(false);
    now = CLOSE;
    expect(health()).toEqual({ ok: true, reason: 'outside the session' });
    now = OPEN + 86_400_000 + 30_000; // next day, still stale (no tick since)
    expect(health().ok).toBe(true);
  });

  it('defaults to a 90 s grace', () => {
    const { daemon, feed } = fakeDaemon();
    let now = OPEN + 60_000;
    const health = daemonHealth(daemon, { now: () => now });
    feed.openConnections = 0;
    health();
    now += 89_999;
    expect(health().ok).toBe(true);
    now += 1;
    expect(health().ok).toBe(false);
  });

  it('is ok without a broker link or with nothing subscribed: there is no feed to watch', () => {
    const now = OPEN + 60_000;
    const { daemon, feed } = fakeDaemon();
    expect(daemonHealth({ market: daemon.market }, { now: () => now })()).toEqual({ ok: true, reason: 'in session; no broker link, no feed to watch' });
    feed.subscriptionCount = 0;
    feed.openConnections = 0;
    const health = daemonHealth(daemon, { now: () => now, graceMs: 0 });
    expect(health()).toEqual({ ok: true, reason: 'in session; nothing subscribed' });
  });

  it('takes the session from an explicit calendar (the real exchange calendar: a holiday is no session)', () => {
    const { feed, staleness } = fakeDaemon();
    feed.openConnections = 0;
    staleness.isStale = true;
    const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
    // Market and feed, but the calendar comes from the options (no market pipeline here).
    const daemon: HealthTarget = { broker: { feed } };
    let now = istToMillis('2024-02-21', '11:00');
    const health = daemonHealth(daemon, { now: () => now, calendar, graceMs: 0 });
    expect(health().ok).toBe(false);
    now = istToMillis('2024-01-26', '11:00'); // Republic Day: trading holiday
    expect(health()).toEqual({ ok: true, reason: 'outside the session' });
  });

  it('works on a real daemon, and the DaemonStopping event carries the stop to systemd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-watchdog-'));
    const config = { ...defaultConfig(), app: { ...defaultConfig().app, data_dir: dir } };
    const clock = new SimClock(istToMillis('2024-02-21', '10:00'));
    const log = silentLogger();
    const daemon = await Daemon.start({ config, clock, log });
    const r = recorder();
    // What `rustro run` wires (notify and env aside).
    const wd = startWatchdog({
      healthy: daemonHealth(daemon, { now: () => clock.now() }), clock, say: (level, line) => log[level](line),
      notify: r.notify, env: SYSTEMD_ENV, pid: PID,
    });
    daemon.bus.on('DaemonStopping', (e) => wd.stopping(e.data.reason), 'systemd watchdog');
    wd.ready();
    await flush();
    clock.advanceBy(15_000);
    await flush();
    // The skeleton has a market pipeline (so a session) but no broker link.
    expect(r.flat()).toEqual(['READY=1 STATUS=running', 'WATCHDOG=1 STATUS=in session; no broker link, no feed to watch']);
    await daemon.stop('signal SIGTERM');
    wd.stop();
    await flush();
    expect(r.flat()[2]).toBe('STOPPING=1 STATUS=stopping: signal SIGTERM');
  });
});

// ── The real transport ───────────────────────────────────────────────────────

/** A unix datagram socket at `path`, printing each datagram it receives as a JSON string line: what PID 1 listens on. */
const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("listening"), flush=True)
while True:
    # recv without room for ancillary data closes the fd of BARRIER=1, as PID 1 does.
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

function need(cmd: string, args: string[], why: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${cmd} is needed ${why} but could not run (${r.error?.message ?? r.stderr.trim()}); install it (Debian: apt-get install -y ${cmd === 'python3' ? 'python3' : 'systemd'})`);
  }
}

describe('systemdNotify: real datagrams to a real NOTIFY_SOCKET', () => {
  let listener: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    listener?.kill();
    listener = undefined;
  });

  async function listen(): Promise<{ socket: string; next: () => Promise<string> }> {
    need('python3', ['--version'], 'to stand in for PID 1 (a unix datagram socket)');
    const socket = join(mkdtempSync(join(tmpdir(), 'rustro-notify-')), 'notify.sock');
    const child = spawn('python3', ['-c', LISTENER, socket]);
    listener = child;
    const lines: string[] = [];
    const waiters: ((l: string) => void)[] = [];
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, i)) as string;
        buf = buf.slice(i + 1);
        const w = waiters.shift();
        if (w !== undefined) w(line);
        else lines.push(line);
      }
    });
    const next = (): Promise<string> => {
      const l = lines.shift();
      return l !== undefined ? Promise.resolve(l) : new Promise((res) => waiters.push(res));
    };
    expect(await next()).toBe('listening');
    return { socket, next };
  }

  it('delivers READY=1 with our pid as MAINPID, then waits on the barrier', async () => {
    need('systemd-notify', ['--version'], 'as the sd_notify transport (it is what runs under systemd)');
    const { socket, next } = await listen();
    const notify = systemdNotify({ env: { ...process.env, NOTIFY_SOCKET: socket }, pid: process.pid });
    await notify(['READY=1', 'STATUS=running: paper']);
    expect(await next()).toBe(`MAINPID=${process.pid}\nREADY=1\nSTATUS=running: paper`);
    expect(await next()).toBe('BARRIER=1');
  });

  it('is what startWatchdog uses by default: READY, heartbeats and STOPPING arrive in order', async () => {
    need('systemd-notify', ['--version'], 'as the sd_notify transport (it is what runs under systemd)');
    const { socket, next } = await listen();
    const says: string[] = [];
    // Real time, a 100 ms watchdog (heartbeat every 50 ms).
    const wd = startWatchdog({
      healthy: () => ({ ok: true, reason: 'fine' }),
      env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid) },
      say: (l, s) => says.push(`${l}: ${s}`),
    });
    const messages: string[] = [];
    try {
      wd.ready();
      for (let m = await next(); ; m = await next()) {
        messages.push(m);
        if (m.includes('WATCHDOG=1')) break;
      }
      wd.stopping('test over');
      for (let m = await next(); ; m = await next()) {
        messages.push(m);
        if (m.includes('STOPPING=1')) break;
      }
    } finally {
      wd.stop();
    }
    const pid = `MAINPID=${process.pid}`;
    expect(messages.slice(0, 3)).toEqual([`${pid}\nREADY=1\nSTATUS=running`, 'BARRIER=1', `${pid}\nWATCHDOG=1\nSTATUS=fine`]);
    expect(messages.at(-1)).toBe(`${pid}\nSTOPPING=1\nSTATUS=stopping: test over`);
    expect(says).toEqual([]);
  });

  it('fails loudly when nothing listens at NOTIFY_SOCKET', async () => {
    need('systemd-notify', ['--version'], 'as the sd_notify transport (it is what runs under systemd)');
    const socket = join(mkdtempSync(join(tmpdir(), 'rustro-notify-')), 'absent.sock');
    const notify = systemdNotify({ env: { ...process.env, NOTIFY_SOCKET: socket }, pid: process.pid });
    await expect(notify(['WATCHDOG=1'])).rejects.toThrow(/systemd-notify WATCHDOG=1: Failed to notify init system/);
  });
});
