import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, LockHeldError, acquireLock, describeSelf, isAlive, releaseLock } from '../../src/app/lock.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'rustro-lock-'));

describe('data directory lock', () => {
  it('is taken, holds our pid, refuses a second holder, and is released', () => {
    const dir = tmp();
    const lock = acquireLock(dir, 'now');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    expect(() => acquireLock(dir, 'later')).toThrow(LockHeldError);
    expect(() => acquireLock(dir, 'later')).toThrow(new RegExp(`pid ${process.pid}`));
    releaseLock(lock);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock left by a process that has exited, and says whose it was', () => {
    const dir = tmp();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, startedAt: 'earlier' }));
    const lock = acquireLock(dir, 'now');
    expect(lock.tookOverFrom?.pid).toBe(deadPid);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
  });

  it('a takeover mutex left by a starter that died mid-takeover blocks one start, and the next start takes the lock', () => {
    const dir = tmp();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const dead = JSON.stringify({ pid: Number(child.stdout.toString()), startedAt: 'earlier' });
    writeFileSync(join(dir, LOCK_FILE), dead);
    writeFileSync(join(dir, `${LOCK_FILE}.takeover`), dead);
    expect(() => acquireLock(dir, 'now')).toThrow(LockHeldError);
    expect(existsSync(join(dir, `${LOCK_FILE}.takeover`))).toBe(false);
    const lock = acquireLock(dir, 'now');
    expect(lock.tookOverFrom?.startedAt).toBe('earlier');
    releaseLock(lock);
  });

  it('treats a lock from before a reboot as stale even if its pid is alive now', () => {
    const me = describeSelf('now');
    expect(isAlive(me)).toBe(true);
    if (me.bootId !== undefined) expect(isAlive({ ...me, bootId: 'another-boot' })).toBe(false);
    // Same pid, different process start time: the pid was reused.
    if (me.startTicks !== undefined) expect(isAlive({ ...me, startTicks: '1' })).toBe(false);
  });

  it('takes over an unreadable lock file', () => {
    const dir = tmp();
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    expect(acquireLock(dir, 'now').tookOverFrom?.pid).toBe(-1);
  });

  it('lets exactly one of several concurrent starters take over a stale lock', async () => {
    const results: string[] = [];
    for (let round = 0; round < 3; round++) {
      const dir = tmp();
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 999_999_999, startedAt: 'earlier' }));
      const child = join(import.meta.dirname, '../fixtures/lock/acquire-child.ts');
      let ready = 0;
      const outs = Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d) => {
          out += d;
          if (String(d).includes('ready')) ready++;
        });
        p.on('exit', () => resolve(out.replace('ready', '').trim()));
      })));
      while (ready < 6) await new Promise((r) => setTimeout(r, 10));
      writeFileSync(join(dir, 'go'), '');
      await outs.then((o) => results.push(...o));
      const outsList = results.splice(0);
      expect(outsList.filter((o) => o === 'held'), outsList.join(', ')).toHaveLength(1);
      expect(outsList.filter((o) => o === 'refused LockHeldError')).toHaveLength(5);
    }
  });
});
