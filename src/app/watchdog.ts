/**
 * systemd readiness and watchdog (config/systemd/rustro.service: Type=notify,
 * WatchdogSec=). The sd_notify protocol is one datagram per message, sent to
 * the unix socket named by $NOTIFY_SOCKET: newline-separated assignments such
 * as READY=1, WATCHDOG=1, STOPPING=1, STATUS=<text>.
 *
 * Transport. Node has no unix datagram sockets (`net` is stream-only, `dgram`
 * is UDP only), and the npm packages that add them (`sd-notify`, `unix-dgram`)
 * are native addons that compile at install time — not worth a toolchain on a
 * trading box. So each message is sent by spawning systemd's own
 * `systemd-notify`, which is on every systemd host, speaks every socket form
 * (a path, an abstract `@name`, vsock) and by default waits on a BARRIER=1 until
 * PID 1 has processed the message. That wait matters: systemd attributes a
 * notification to a unit by the sender's PID, and the sender here is the
 * short-lived systemd-notify child, not the main process; if it exited before
 * PID 1 looked, the message would be dropped. Hence also `NotifyAccess=all` in
 * the unit (`main` would refuse a child's message) and `--pid=<our pid>`, which
 * names the main process explicitly (MAINPID=, the PID systemd already knows:
 * `/usr/bin/env node …` execs node in place). The cost is one short process
 * every heartbeat (15 s with WatchdogSec=30s); messages are queued and sent one
 * at a time so READY, WATCHDOG and STOPPING arrive in the order they were made.
 *
 * Health. The heartbeat (WATCHDOG=1 every WATCHDOG_USEC/2) is sent only while
 * `healthy()` says ok. That the timer fires at all shows the event loop turning;
 * `daemonHealth` adds the market: during a session the feed must be live, and a
 * feed stale or disconnected for longer than a grace period withholds the
 * heartbeat, so systemd restarts the daemon WatchdogSec later. Each change of
 * the verdict goes out as STATUS= (shown by `systemctl status rustro`). After
 * `stopping()` the heartbeat goes on unconditionally: a shutdown that flattens
 * must not be cut short by a feed that is being closed on purpose (the stop has
 * its own time limit in signals.ts).
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or not Type=notify) nothing
 * at all is done; without WATCHDOG_USEC (or with a WATCHDOG_PID that is not
 * ours) READY/STOPPING/STATUS are sent but no heartbeat.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Clock, RealClock, type TimerHandle } from '../core/clock.js';

export type Health = { ok: boolean; reason: string };

/** Sends one sd_notify message made of `assignments` (e.g. ['WATCHDOG=1', 'STATUS=…']); resolves once it is delivered. */
export type Notifier = (assignments: readonly string[]) => Promise<void>;

export type WatchdogSettings = {
  /** $NOTIFY_SOCKET, or undefined when not run by systemd as Type=notify. */
  notifySocket: string | undefined;
  /** Heartbeat period (WATCHDOG_USEC / 2, in ms), or undefined when systemd expects none. */
  heartbeatMs: number | undefined;
};

/** What the environment systemd sets says (sd_watchdog_enabled's rules: WATCHDOG_PID, when set, must be ours). */
export function watchdogSettings(env: NodeJS.ProcessEnv, pid: number): WatchdogSettings {
  const socket = env.NOTIFY_SOCKET;
  const notifySocket = socket === undefined || socket === '' ? undefined : socket;
  if (notifySocket === undefined) return { notifySocket, heartbeatMs: undefined };
  const usec = /^\d+$/.test(env.WATCHDOG_USEC ?? '') ? Number(env.WATCHDOG_USEC) : 0;
  const forPid = env.WATCHDOG_PID;
  const ours = forPid === undefined || forPid === '' || Number(forPid) === pid;
  const heartbeatMs = usec > 0 && ours ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  return { notifySocket, heartbeatMs };
}

/** systemd-notify where distributions put it (/usr/bin, or /bin without merged /usr), else from PATH. */
function findSystemdNotify(): string {
  for (const p of ['/usr/bin/systemd-notify', '/bin/systemd-notify']) if (existsSync(p)) return p;
  return 'systemd-notify';
}

/**
 * The transport: one `systemd-notify --pid=<pid> A=1 B=2` per message, with
 * `env` (it reads NOTIFY_SOCKET from there). Rejects with systemd-notify's own
 * complaint when it fails; killed after `timeoutMs` (its barrier wait is 5 s).
 */
export function systemdNotify(o: { env?: NodeJS.ProcessEnv; pid?: number; command?: string; timeoutMs?: number } = {}): Notifier {
  const command = o.command ?? findSystemdNotify();
  const env = o.env ?? process.env;
  const pid = o.pid ?? process.pid;
  return (assignments) =>
    new Promise<void>((resolve, reject) => {
      execFile(
        command,
        [`--pid=${pid}`, ...assignments],
        { env, timeout: o.timeoutMs ?? 10_000, killSignal: 'SIGKILL', windowsHide: true },
        (err, _stdout, stderr) => {
          if (err === null) return resolve();
          const said = String(stderr).trim();
          reject(new Error(`${command} ${assignments.join(' ')}: ${said === '' ? err.message : said}`));
        },
      );
    });
}

/** One line of STATUS= text: the protocol is newline-separated, so a newline would start a bogus assignment. */
function statusLine(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ').trim();
  return `STATUS=${line.length > 240 ? `${line.slice(0, 239)}…` : line}`;
}

export type WatchdogOptions = {
  /** Asked at every heartbeat; the heartbeat is withheld while it says not ok (a throw counts as not ok). */
  healthy: () => Health;
  /** How messages reach systemd (default: `systemdNotify` with `env` and `pid`). */
  notify?: Notifier;
  /** Paces the heartbeat: real time (default a RealClock). */
  clock?: Pick<Clock, 'setInterval' | 'cancel'>;
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Our PID (default process.pid): checked against WATCHDOG_PID and sent as MAINPID. */
  pid?: number;
  /** Changes of health, and notifications that fail (each failure once, until one succeeds again). */
  say?: (level: 'info' | 'warn', line: string) => void;
};

export type Watchdog = {
  /** Whether anything is sent at all (NOTIFY_SOCKET is set). */
  readonly enabled: boolean;
  /** The heartbeat period, when systemd expects one. */
  readonly heartbeatMs: number | undefined;
  /** READY=1 (with a STATUS=): start-up is complete; starts the heartbeat. */
  ready(status?: string): void;
  /** STOPPING=1: a shutdown has begun; from now on the heartbeat no longer asks `healthy()`. Idempotent. */
  stopping(reason?: string): void;
  /** Cancels the heartbeat timer (call once the daemon has stopped, so the process can exit). */
  stop(): void;
};

export function startWatchdog(o: WatchdogOptions): Watchdog {
  const pid = o.pid ?? process.pid;
  const env = o.env ?? process.env;
  const { notifySocket, heartbeatMs } = watchdogSettings(env, pid);
  const enabled = notifySocket !== undefined;
  const say = o.say ?? (() => {});
  const clock = o.clock ?? new RealClock();
  // The default transport is built only when there is somewhere to send: without systemd nothing is touched.
  const notify = enabled ? (o.notify ?? systemdNotify({ env, pid })) : undefined;

  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  let failing = false;
  let timer: TimerHandle | undefined;
  let isStopping = false;
  let stopped = false;
  let lastStatus: string | undefined;
  let lastOk: boolean | undefined;

  const send = (assignments: string[]): void => {
    if (notify === undefined || assignments.length === 0) return;
    pending++;
    queue = queue
      .then(() => notify(assignments))
      .then(
        () => {
          if (failing) say('info', 'systemd notifications are delivered again');
          failing = false;
        },
        (err: unknown) => {
          if (!failing) say('warn', `systemd notification failed (${(err as Error).message}); the watchdog may restart the service`);
          failing = true;
        },
      )
      .finally(() => pending--);
  };

  const status = (text: string): string[] => {
    const line = statusLine(text);
    if (line === lastStatus) return [];
    lastStatus = line;
    return [line];
  };

  const beat = (): void => {
    if (stopped) return;
    // One short process per message: a beat that would queue behind one still in flight is
    // dropped rather than stacked (systemd would be slow, not we; the next beat tries again).
    if (pending > 0) return;
    if (isStopping) return send(['WATCHDOG=1']);
    let h: Health;
    try {
      h = o.healthy();
    } catch (err) {
      h = { ok: false, reason: `the health check threw: ${(err as Error).message}` };
    }
    if (h.ok !== lastOk) {
      if (!h.ok) say('warn', `watchdog: heartbeat withheld: ${h.reason} (systemd restarts the service when WatchdogSec= passes without one)`);
      else if (lastOk === false) say('info', `watchdog: healthy again: ${h.reason}`);
      lastOk = h.ok;
    }
    if (h.ok) send(['WATCHDOG=1', ...status(h.reason)]);
    else send(status(`unhealthy, heartbeat withheld: ${h.reason}`));
  };

  return {
    enabled,
    heartbeatMs,
    ready(text = 'running') {
      if (!enabled || stopped || isStopping) return;
      send(['READY=1', ...status(text)]);
      if (heartbeatMs !== undefined && timer === undefined) timer = clock.setInterval(heartbeatMs, beat);
    },
    stopping(reason) {
      if (!enabled || stopped || isStopping) return;
      isStopping = true;
      send(['STOPPING=1', ...status(reason === undefined ? 'stopping' : `stopping: ${reason}`)]);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clock.cancel(timer);
      timer = undefined;
    },
  };
}

// ── The daemon's health ───────────────────────────────────────────────────────

/** The parts of a session calendar the health check reads (TradingCalendar has it). */
export type SessionCalendar = { isSessionOpen(ms: number): boolean };

/** What `daemonHealth` reads of the daemon (a `Daemon` fits: its `market` pipeline and `broker` link). */
export type HealthTarget = {
  readonly market?: { readonly staleness: { readonly isStale: boolean }; readonly sessions: { readonly calendar: SessionCalendar } } | undefined;
  readonly broker?: {
    readonly feed: {
      readonly openConnections: number;
      readonly subscriptionCount: number;
      readonly counters: { readonly frames: number; readonly ticks: number };
    };
  } | undefined;
};

/** How long, by default, the feed may be stale or disconnected in a session before the heartbeat is withheld. */
export const FEED_GRACE_MS = 90_000;

/**
 * The daemon's health for the heartbeat. Outside a session window: ok (the feed
 * is allowed to be quiet, and the morning re-login reconnects it). In a window:
 * not ok once the feed has been disconnected (no open connection) or stale
 * (`FeedStale`: no tick for market.feed_stale_sec) for `graceMs` — counted from
 * the first check that saw it, so up to one heartbeat later than the silence
 * began. The grace leaves the feed's own recovery (resubscribe after
 * feed_mute_sec, reconnects with backoff) its chance before a restart. A daemon
 * without a broker link (no feed to watch) or with nothing subscribed is ok.
 *
 * `now` is market time (it decides the session) and also measures the grace;
 * live, where this is used, the two clocks are one. The calendar defaults to
 * the one the market pipeline uses.
 */
export function daemonHealth(
  daemon: HealthTarget,
  o: { now: () => number; calendar?: SessionCalendar; graceMs?: number },
): () => Health {
  const graceMs = o.graceMs ?? FEED_GRACE_MS;
  let badSince: number | undefined;
  const secs = (ms: number): string => String(Math.round(ms / 1000));
  return () => {
    const now = o.now();
    const calendar = o.calendar ?? daemon.market?.sessions.calendar;
    if (calendar === undefined || !calendar.isSessionOpen(now)) {
      badSince = undefined;
      return { ok: true, reason: 'outside the session' };
    }
    const feed = daemon.broker?.feed;
    if (feed === undefined || feed.subscriptionCount === 0) {
      badSince = undefined;
      return { ok: true, reason: feed === undefined ? 'in session; no broker link, no feed to watch' : 'in session; nothing subscribed' };
    }
    const { frames, ticks } = feed.counters;
    const problem =
      feed.openConnections === 0 ? 'feed disconnected' : daemon.market?.staleness.isStale === true ? 'feed stale (no ticks)' : undefined;
    if (problem === undefined) {
      badSince = undefined;
      return { ok: true, reason: `in session; feed live (${frames} frames, ${ticks} ticks)` };
    }
    badSince ??= now;
    const forMs = now - badSince;
    if (forMs < graceMs) return { ok: true, reason: `in session; ${problem} for ${secs(forMs)} s (heartbeat withheld after ${secs(graceMs)} s)` };
    return { ok: false, reason: `in session; ${problem} for ${secs(forMs)} s (grace ${secs(graceMs)} s)` };
  };
}
