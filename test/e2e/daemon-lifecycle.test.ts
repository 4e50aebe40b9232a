/**
 * The daemon as a user runs it: a real child process, real signals, real files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerFiles, replay, verify } from '../../src/core/ledger.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FAKE_SECRETS = {
  RUSTRO_API_KEY: 'test-api-key-not-real',
  RUSTRO_CLIENT_CODE: 'CLIENT-Q9X',
  RUSTRO_PIN: 'pin-8q7w6e',
  RUSTRO_TOTP_SECRET: 'JBSWY3DPEHPK3PXP',
};

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
  writeFileSync(file, `[app]\ndata_dir = "data"\nlog_format = "json"\n${extra}`);
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
      await waitFor(run, /started in paper mode/);
      expect(existsSync(join(dir, 'data', 'rustro.lock'))).toBe(true);
      run.child.kill(signal);
      const { code } = await run.exit;
      expect(code, run.out()).toBe(0);
      const evs = await events(join(dir, 'data'));
      expect(evs.map((e) => e.type)).toEqual(['DaemonStarted', 'DaemonStopping', 'DaemonStopped']);
      expect(evs[2]!.data).toMatchObject({ reason: `signal ${signal}` });
      for (const f of ledgerFiles(join(dir, 'data', 'ledger'))) expect((await verify(f)).ok).toBe(true);
      expect(existsSync(join(dir, 'data', 'rustro.lock'))).toBe(false);
    });
  }

  it('refuses a second daemon on the same data directory, naming the holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-run-'));
    const config = configIn(dir);
    const first = rustro(['run', '--config', config]);
    await waitFor(first, /started in paper mode/);
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
    await waitFor(first, /started in paper mode/);
    first.child.kill('SIGKILL');
    await first.exit;
    const stalePid = JSON.parse(readFileSync(join(dir, 'data', 'rustro.lock'), 'utf8')).pid;
    const second = rustro(['run', '--config', config]);
    await waitFor(second, /started in paper mode/);
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
    await waitFor(ok, /started in paper mode/);
    ok.child.kill('SIGINT');
    await ok.exit;
    for (const v of Object.values(FAKE_SECRETS)) expect(ok.out()).not.toContain(v);
  });
});
