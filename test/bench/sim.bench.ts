/**
 * Simulator throughput: ticks per second the server sustains to ONE client
 * over a loopback WebSocket at `max` speed (the driver waits on the client's
 * backpressure), and the time to serve the instrument master.
 *
 * - `sim.ws.fake`: the server alone — a cheap deterministic market
 *   (test/sim/server/support/fake-market.ts), 250 tokens ticking 4×/s, LTP mode.
 * - `sim.ws.snap`: the same in SnapQuote (379-byte frames).
 * - `sim.ws.replay`: the whole simulator — the bundled-data replay market,
 *   every instrument subscribed in SnapQuote.
 * The client decodes nothing; it counts frames in the same process.
 */
import WebSocket from 'ws';
import { bundledSessions, createMarket } from '../../src/sim/market/market.js';
import type { SimMarket } from '../../src/sim/market/types.js';
import { totpAt } from '../../src/sim/server/auth.js';
import { type SimServer, startSimServer } from '../../src/sim/server/server.js';
import { exchangeTypeOf } from '../../src/sim/server/frames.js';
import { FakeMarket } from '../sim/server/support/fake-market.js';
import { type Bench, median } from './harness.js';

async function login(sim: SimServer): Promise<{ jwtToken: string; feedToken: string }> {
  const a = sim.accounts[0]!;
  const r = await fetch(`${sim.url}/rest/auth/angelbroking/user/v1/loginByPassword`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-PrivateKey': sim.apiKey },
    body: JSON.stringify({ clientcode: a.clientcode, password: a.pin, totp: totpAt(a.totpSecret, Date.now()) }),
  });
  return ((await r.json()) as { data: { jwtToken: string; feedToken: string } }).data;
}

/** Runs the session from `start` to the close at max speed; returns ticks/s and frames/s seen by one client. */
async function throughput(market: SimMarket, start: string, mode: 1 | 3, tokens?: string[]): Promise<{ ticksPerSec: number; framesPerSec: number; mbPerSec: number; ticks: number }> {
  const sim = await startSimServer({ market, speed: 0, start, rateLimits: false });
  const t = await login(sim);
  const ws = new WebSocket(sim.streamUrl, { perMessageDeflate: false, headers: { Authorization: t.jwtToken, 'x-api-key': sim.apiKey, 'x-client-code': 'SIM1001', 'x-feed-token': t.feedToken } });
  await new Promise((r) => ws.once('open', r));
  let frames = 0;
  let bytes = 0;
  let pong: (() => void) | undefined;
  ws.on('message', (d: Buffer, bin) => {
    if (bin) {
      frames++;
      bytes += d.length;
    } else if (String(d) === 'pong') pong?.();
  });
  const barrier = () => new Promise<void>((r) => ((pong = r), ws.send('ping')));
  const byType = new Map<number, string[]>();
  for (const i of market.instruments()) {
    if (tokens !== undefined && !tokens.includes(i.token)) continue;
    const et = exchangeTypeOf(i.segment);
    byType.set(et, [...(byType.get(et) ?? []), i.token]);
  }
  ws.send(JSON.stringify({ action: 1, params: { mode, tokenList: [...byType].map(([exchangeType, tk]) => ({ exchangeType, tokens: tk })) } }));
  await barrier();
  frames = 0;
  bytes = 0;
  const ticks0 = sim.state().ticksSent;
  const t0 = process.hrtime.bigint();
  sim.setSpeed('max');
  while (!sim.state().sessionOver) await new Promise((r) => setTimeout(r, 2));
  await barrier();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const ticks = sim.state().ticksSent - ticks0;
  ws.terminate();
  await sim.close();
  return { ticksPerSec: ticks / sec, framesPerSec: frames / sec, mbPerSec: bytes / sec / 1e6, ticks };
}

async function masterMs(market: SimMarket, n: number): Promise<{ ms: number; bytes: number }> {
  const sim = await startSimServer({ market, speed: 0 });
  const xs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await fetch(sim.masterUrl);
    const body = await r.arrayBuffer();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    bytes = body.byteLength;
  }
  await sim.close();
  return { ms: median(xs), bytes };
}

const bench: Bench = {
  title: 'Simulator: SmartStream ticks to one loopback client at max speed; instrument master',
  async run(report) {
    const fake = () => new FakeMarket({ periodMs: 250, extraOptions: 248 });
    const ltp = await throughput(fake(), '15:15', 1);
    report('sim.ws.fake.ltp.ticks', ltp.ticksPerSec, 'ticks/s', `server alone, 250 tokens, LTP 51 B; ${ltp.ticks.toLocaleString('en-US')} ticks; goal ≥ 50,000`);
    const snap = await throughput(fake(), '15:15', 3);
    report('sim.ws.fake.snap.ticks', snap.ticksPerSec, 'ticks/s', `SnapQuote 379 B, ${snap.mbPerSec.toFixed(0)} MB/s`);

    const days = bundledSessions();
    const replay = createMarket({ day: days.at(-1)!, seed: 1 });
    const r = await throughput(replay, '13:30', 3);
    report('sim.ws.replay.snap.ticks', r.ticksPerSec, 'ticks/s', `bundled replay ${days.at(-1)}, all ${replay.instruments().length} instruments, SnapQuote`);

    const m1 = await masterMs(createMarket({ day: days.at(-1)!, seed: 1 }), 50);
    report('sim.master.replay.ms', m1.ms, 'ms', `median of 50 GETs, ${(m1.bytes / 1024).toFixed(0)} KiB`);
    const m2 = await masterMs(new FakeMarket({ extraOptions: 100_000 }), 10);
    report('sim.master.100k.ms', m2.ms, 'ms', `100k rows, ${(m2.bytes / 1e6).toFixed(1)} MB`);
  },
};

export default bench;
