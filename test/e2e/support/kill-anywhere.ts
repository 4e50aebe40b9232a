/**
 * The kill-anywhere harness (issue 8): one simulated trading day in live mode
 * against the simulator, with the daemon in its own process (kill-child.ts),
 * SIGKILLed at many points and restarted each time; the same day and seed
 * without kills is the reference run.
 *
 * Kill points:
 * - at random market times, either between two steps (the daemon idle) or
 *   while it handles a step (a random few real milliseconds into it);
 * - on order requests, through the simulator's order gate: `drop` kills the
 *   daemon with the request unread — to the exchange, exactly a death between
 *   the intent's fsync and the request — and `hang` books the order and kills
 *   the daemon before it hears the answer.
 * The simulator is paused while the daemon is down, so a restart costs no
 * market time and the killed run is comparable with the reference run.
 *
 * As a script: `npm run kill-anywhere -- [--day D] [--strategy S] [--seed N] [--kill-seed N] [--kills N] [--order-kills N] [--keep]`
 * prints what each run did and whether they agree.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configForSim } from '../../../src/app/sim-session.js';
import { formatIst, istToMillis } from '../../../src/core/clock.js';
import { type Config, defaultConfig } from '../../../src/core/config.js';
import type { Payload, RustroEvent } from '../../../src/core/events.js';
import { createMarket } from '../../../src/sim/market/market.js';
import type { SimOrder } from '../../../src/sim/server/orders.js';
import { STEP_MS } from '../../../src/sim/server/clock-driver.js';
import { type OrderRequestKind, type SimServer, startSimServer } from '../../../src/sim/server/server.js';
import { seededRng } from '../../../src/sim/server/util.js';
import { waitFor } from '../../support/wait.js';
import type { ChildInit, FromChild, ToChild } from './kill-child.js';

export type KillRunOptions = {
  day: string;
  seed: number;
  /** Kills at random market times (half between steps, half in the middle of one). */
  kills: number;
  /** Kills on order requests (place, modify, cancel), on every other request until this many; each kind alternates `drop` and `hang`. */
  orderKills: number;
  dataDir: string;
  config?: Config;
  /** Seeds the kill times (and the real-time jitter of mid-step kills). */
  killSeed?: number;
};

export type Kill = { at: string; how: 'between steps' | 'mid-step' | `${OrderRequestKind} ${'dropped' | 'unanswered'}` };

export type KillRunResult = {
  kills: Kill[];
  /** Today's ledger, every process's events in order. */
  ledger: RustroEvent[];
  /** What the simulated exchange booked. */
  exchangeOrders: readonly SimOrder[];
  closed: Payload<'PositionClosed'>[];
  realised: number;
  /** The exchange's net quantity per contract at the end (non-zero means something was left open). */
  netAtExchange: Map<string, number>;
  /** The daemon's log lines (JSON), all processes. */
  log: Record<string, unknown>[];
};

const CHILD = fileURLToPath(new URL('./kill-child.ts', import.meta.url));
const live = (c: Config): Config => ({ ...c, trading: { ...c.trading, enable_paper_trading: false } });
const until = (done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> => waitFor(done, what, timeoutMs);

/** One daemon process and where the lock-step stands with it. */
class Child {
  readonly proc: ChildProcess;
  ready = false;
  failed: string | undefined;
  posted = '';
  acked = '';
  readonly exited: Promise<void>;

  constructor(init: ChildInit) {
    this.proc = fork(CHILD, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
    this.proc.on('message', (m: FromChild) => {
      if ('ready' in m) this.ready = true;
      else if ('failed' in m) this.failed = m.failed;
      else this.acked = `${m.acked}/${m.frames}/${m.orderMessages}`;
    });
    this.proc.send(init);
  }

  post(m: ToChild): void {
    if (this.proc.connected) this.proc.send(m);
  }
}

export async function runWithKills(o: KillRunOptions): Promise<KillRunResult> {
  const rng = seededRng(o.killSeed ?? o.seed);
  const market = createMarket({ day: o.day, seed: o.seed });
  const open = istToMillis(o.day, '09:16');
  const last = istToMillis(o.day, '15:25');
  const times = Array.from({ length: o.kills }, () => open + Math.floor(rng() * (last - open))).sort((a, b) => a - b);
  const kills: Kill[] = [];
  let child: Child | undefined;
  let restarting: Promise<void> | undefined;
  let orderKills = 0;
  let lastKilled = false;
  const fates = new Map<OrderRequestKind, number>();
  let timedKills = 0;
  let base = { frames: 0, orderMessages: 0 };

  const orderGate = (kind: OrderRequestKind): 'pass' | 'drop' | 'hang' => {
    // Every other request, so the one a restart sends again goes through.
    if (orderKills >= o.orderKills || lastKilled || child === undefined) {
      lastKilled = false;
      return 'pass';
    }
    lastKilled = true;
    orderKills++;
    const k = fates.get(kind) ?? 0;
    fates.set(kind, k + 1);
    const fate = k % 2 === 0 ? 'drop' : 'hang';
    kills.push({ at: formatIst(sim.now()), how: `${kind} ${fate === 'drop' ? 'dropped' : 'unanswered'}` });
    setImmediate(() => void restart());
    return fate;
  };
  // The gateway's rate limits are off: a process started a moment after a SIGKILL cannot know how
  // recently the dead one called (live, systemd's RestartSec=10s is the gap); each process's own
  // limiter still paces it.
  const sim: SimServer = await startSimServer({ market, port: 0, speed: 0, seed: o.seed, orderGate, rateLimits: false });
  const config = configForSim(live(o.config ?? defaultConfig()), sim, o.dataDir);
  const watched = config.watchlist.filter((w) => w.active).length;

  const spawn = async (): Promise<void> => {
    const c = new Child({ config, now: sim.now() });
    await until(() => c.ready || c.failed !== undefined, 'the daemon to start');
    if (c.failed !== undefined) throw new Error(`kill-anywhere: the daemon failed to start: ${c.failed}`);
    await until(() => sim.state().subscriptions >= watched, 'the daemon to subscribe');
    child = c;
  };

  /** SIGKILL, wait until the simulator has seen the sockets close, start a new daemon: all with market time held. */
  const restart = (): Promise<void> => {
    restarting ??= (async () => {
      const c = child;
      child = undefined;
      sim.setSpeed(0);
      if (c !== undefined) {
        c.proc.kill('SIGKILL');
        await c.exited;
      }
      await until(() => sim.state().connections.market + sim.state().connections.order === 0, 'the dead daemon\'s sockets to close');
      base = { frames: sim.framesSent(), orderMessages: sim.orderMessagesSent() };
      await spawn();
      restarting = undefined;
      sim.setSpeed('max');
    })();
    return restarting;
  };

  sim.holdWhile(() => {
    const c = child;
    if (c === undefined || restarting !== undefined) return true;
    const step = {
      step: sim.now(), frames: sim.framesSent() - base.frames, orderMessages: sim.orderMessagesSent() - base.orderMessages,
      next: Math.min(market.closeMs, sim.now() + STEP_MS),
    };
    const key = `${step.step}/${step.frames}/${step.orderMessages}`;
    if (c.acked === key) {
      if (times.length > 0 && sim.now() >= times[0]! && timedKills % 2 === 0) {
        times.shift();
        timedKills++;
        kills.push({ at: formatIst(sim.now()), how: 'between steps' });
        void restart();
        return true;
      }
      return false;
    }
    if (c.posted !== key) {
      c.posted = key;
      c.post(step);
      if (times.length > 0 && sim.now() >= times[0]! && timedKills % 2 === 1) {
        times.shift();
        timedKills++;
        kills.push({ at: formatIst(sim.now()), how: 'mid-step' });
        setTimeout(() => void restart(), Math.floor(rng() * 4));
      }
    }
    return true;
  });

  try {
    await spawn();
    sim.setSpeed('max');
    await until(() => sim.state().sessionOver && restarting === undefined, 'the session to end', 600_000);
    const c = child!;
    await until(() => c.acked === c.posted, 'the last step');
    c.post({ stop: true });
    await c.exited;
  } finally {
    child?.proc.kill('SIGKILL');
    await sim.close();
  }

  const ledger = readFileSync(join(o.dataDir, 'ledger', `${o.day}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RustroEvent);
  const closed = ledger.flatMap((e) => (e.type === 'PositionClosed' ? [e.data] : []));
  const exchangeOrders = sim.orders();
  const netAtExchange = new Map<string, number>();
  for (const x of exchangeOrders) netAtExchange.set(x.tradingsymbol, (netAtExchange.get(x.tradingsymbol) ?? 0) + (x.transactiontype === 'BUY' ? x.filled : -x.filled));
  const log = readFileSync(join(o.dataDir, 'daemon.log'), 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { kills, ledger, exchangeOrders, closed, realised: Math.round(closed.reduce((s, c) => s + c.netPnl, 0) * 100) / 100, netAtExchange, log };
}

/**
 * The closed trades in a form two runs can be compared by: without position ids (they carry the
 * placement, which a resent entry changes) and sorted (positions closed at the same instant may
 * close in another order after a restart rebuilt the books).
 */
export function tradeList(r: KillRunResult): string[] {
  return r.closed.map((c) => `${c.symbol} ${c.qty} @ ${c.entryAvg} → ${c.exitAvg} net ${c.netPnl} (${c.reason})`).sort();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { day: { type: 'string', default: '2024-02-21' }, strategy: { type: 'string', default: 'adx-mtf' }, 'kill-seed': { type: 'string' }, seed: { type: 'string', default: '4' }, kills: { type: 'string', default: '30' }, 'order-kills': { type: 'string', default: '6' }, keep: { type: 'boolean', default: false } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'rustro-kill-anywhere-'));
  const base = defaultConfig();
  const common = { day: values.day!, seed: Number(values.seed), config: { ...base, strategy: { ...base.strategy, active: values.strategy as Config['strategy']['active'] } } };
  try {
    const t0 = Date.now();
    const reference = await runWithKills({ ...common, kills: 0, orderKills: 0, dataDir: join(dir, 'reference') });
    const t1 = Date.now();
    const killSeed = values['kill-seed'] === undefined ? {} : { killSeed: Number(values['kill-seed']) };
    const killed = await runWithKills({ ...common, ...killSeed, kills: Number(values.kills), orderKills: Number(values['order-kills']), dataDir: join(dir, 'killed') });
    const t2 = Date.now();
    console.log(`reference run: ${reference.closed.length} trades, realised ${reference.realised} (${((t1 - t0) / 1000).toFixed(1)} s)`);
    for (const t of tradeList(reference)) console.log(`  ${t}`);
    console.log(`killed run: ${killed.kills.length} kills, ${killed.closed.length} trades, realised ${killed.realised} (${((t2 - t1) / 1000).toFixed(1)} s)`);
    for (const k of killed.kills) console.log(`  kill at ${k.at}: ${k.how}`);
    for (const t of tradeList(killed)) console.log(`  ${t}`);
    const same = JSON.stringify(tradeList(reference)) === JSON.stringify(tradeList(killed));
    console.log(same ? 'the same trades and realised P&L' : 'THE RUNS DIFFER');
    if (values.keep) console.log(`data kept in ${dir}`);
    process.exitCode = same ? 0 : 1;
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
