/**
 * The daemon as a user runs it: a real child process, real signals, real files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerFiles, replay, verify } from '../../src/core/ledger.js';
import { createMarket } from '../../src/sim/market/market.js';
import { type SimServer, startSimServer } from '../../src/sim/server/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
// A simulator account with values that cannot occur by chance in a log line.
const ACCOUNT = { clientcode: 'CLIENTQ9XZ', pin: '48151623420', totpSecret: 'KRSXG5CTMVRXEZLUKN2XAZLS', name: 'T', email: 't@example.invalid', mobileno: '0' };
const FAKE_SECRETS = {
  RUSTRO_API_KEY: 'test-api-key-not-real-7f3a',
  RUSTRO_CLIENT_CODE: ACCOUNT.clientcode,
  RUSTRO_PIN: ACCOUNT.pin,
  RUSTRO_TOTP_SECRET: ACCOUNT.totpSecret,
};

// The daemons under test log in to this simulator over loopback (paused: no ticks needed here).
let sim: SimServer;
beforeAll(async () => {
  sim = await startSimServer({ market: createMarket({ day: '2024-02-15', seed: 1 }), port: 0, speed: 0, accounts: [ACCOUNT], apiKey: FAKE_SECRETS.RUSTRO_API_KEY });
});
afterAll(async () => {
  await sim.close();
});

type Run = { child: ChildProcess; out: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> };

function rustro(args: string[], env: Record<string, string> = FAKE_SECRETS): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => text, exit };
}

async function waitFor(run: Run, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 400 && !pattern.test(run.out()); i++) {
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!pattern.test(run.out())) throw new Error(`never saw ${pattern} in:\n${run.out()}`);
}

function configIn(dir: string, extra = ''): string {
  const file = join(dir, 'config.toml');
  const broker = [
    '[broker]',
    `api_base_url = "${sim.url}"`,
    `instrument_master_url = "${sim.masterUrl}"`,
    `feed_url = "${sim.streamUrl}"`,
    `order_updates_url = "${sim.orderUrl}"`,
  ].join('\n');
  writeFileSync(file, `[app]\ndata_dir = "data"\nlog_format = "json"\n${extra}\n${broker}\n`);
  return file;
}

async function events(dataDir: string) {
  const all = [];
  for (const f of ledgerFiles(join(dataDir, 'ledger'))) for await (const r of replay(f)) all.push(r);
  return all;
}

describe('rustro run', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`starts, and on ${signal} stops cleanly: exit 0, stop recorded, ledger verified, lock released`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
      const run = rustro(['run', '--config', configIn(dir)]);
      await waitFor(run, /market feed connected/);
      expect(existsSync(join(dir, 'data', 'rustro.lock'))).toBe(true);
      run.child.kill(signal);
      const { code } = await run.exit;
      expect(code, run.out()).toBe(0);
      const evs = await events(join(dir, 'data'));
      const types = evs.map((e) => e.type);
      expect(types[0]).toBe('DaemonStarted');
      expect(types).toEqual(expect.arrayContaining(['BrokerLoggedIn', 'InstrumentsLoaded', 'FeedConnected', 'BrokerLoggedOut']));
      expect(types.indexOf('BrokerLoggedIn')).toBeLessThan(types.indexOf('DaemonStopping'));
      expect(types.indexOf('DaemonStopping')).toBeLessThan(types.indexOf('BrokerLoggedOut'));
      expect(types[types.length - 1]).toBe('DaemonStopped');
      expect(evs[evs.length - 1]!.data).toMatchObject({ reason: `signal ${signal}` });
      for (const f of ledgerFiles(join(dir, 'data', 'ledger'))) expect((await verify(f)).ok).toBe(true);
      expect(existsSync(join(dir, 'data', 'rustro.lock'))).toBe(false);
    });
  }

  it('refuses a second daemon on the same data directory, naming the holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
    const config = configIn(dir);
    const first = rustro(['run', '--config', config]);
    await waitFor(first, /market feed connected/);
    const second = rustro(['run', '--config', config]);
    const { code } = await second.exit;
    expect(code).toBe(1);
    expect(second.out()).toContain(`another rustro (pid ${first.child.pid}`);
    first.child.kill('SIGINT');
    expect((await first.exit).code).toBe(0);
  });

  it('takes over the lock of a daemon that was SIGKILLed, says so, and continues its seq', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
    const config = configIn(dir);
    const first = rustro(['run', '--config', config]);
    await waitFor(first, /market feed connected/);
    first.child.kill('SIGKILL');
    await first.exit;
    const stalePid = JSON.parse(readFileSync(join(dir, 'data', 'rustro.lock'), 'utf8')).pid;
    const second = rustro(['run', '--config', config]);
    await waitFor(second, /market feed connected/);
    expect(second.out()).toContain(`left by pid ${stalePid}`);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    const evs = await events(join(dir, 'data'));
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    expect(evs.map((e) => e.type)).toContain('LockTakenOver');
  });

  it('exits 2 with every config error named, and starts nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
    const config = configIn(dir, 'shutdown_timeout_sec = 0\n[ledger]\ngroup_comit_ms = 5\n');
    const run = rustro(['run', '--config', config], {});
    const { code } = await run.exit;
    expect(code).toBe(2);
    expect(run.out()).toContain('app.shutdown_timeout_sec');
    expect(run.out()).toContain('ledger.group_comit_ms');
    expect(run.out()).toContain('RUSTRO_TOTP_SECRET');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('never prints a secret, even when a secret is malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
    const bad = { ...FAKE_SECRETS, RUSTRO_TOTP_SECRET: 'not base32 !! 0189' };
    const run = rustro(['run', '--config', configIn(dir, 'log_level = "trace"\n')], bad);
    await run.exit;
    for (const v of Object.values(bad)) expect(run.out()).not.toContain(v);
    const ok = rustro(['run', '--config', configIn(dir, 'log_level = "trace"\n')]);
    await waitFor(ok, /market feed connected/);
    ok.child.kill('SIGINT');
    await ok.exit;
    for (const v of Object.values(FAKE_SECRETS)) expect(ok.out()).not.toContain(v);
  });

  it('exits 1 naming the broker\'s refusal when the TOTP secret is wrong, records it, and leaks nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
    const wrong = { ...FAKE_SECRETS, RUSTRO_TOTP_SECRET: 'GEZDGNBVGY3TQOJQGEZDGNBVGY' };
    const run = rustro(['run', '--config', configIn(dir, 'log_level = "trace"\n')], wrong);
    const { code } = await run.exit;
    expect(code, run.out()).toBe(1);
    expect(run.out()).toMatch(/could not connect to the broker: .*AB1050/);
    for (const v of Object.values(wrong)) expect(run.out()).not.toContain(v);
    const evs = await events(join(dir, 'data'));
    expect(evs[evs.length - 1]!.type).toBe('DaemonStopped');
    expect((evs[evs.length - 1]!.data as { reason: string }).reason).toContain('could not connect to the broker');
    expect(existsSync(join(dir, 'data', 'rustro.lock'))).toBe(false);
  });
});
