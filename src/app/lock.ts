/**
 * One daemon per data directory. The lock file holds the owner's pid and,
 * on Linux, its boot id and process start time: after a reboot pids are
 * reused, so a bare "is pid N alive?" would keep a stale lock forever if an
 * unrelated process happened to get the same pid.
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'rustro.lock';

export type LockInfo = { pid: number; bootId?: string; startTicks?: string; startedAt: string };

export type LockResult = { file: string; info: LockInfo; tookOverFrom?: LockInfo };

export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(readonly file: string, readonly holder: LockInfo) {
    super(`another rustro (pid ${holder.pid}, started ${holder.startedAt}) holds this data directory: ${file}. Stop it first, or remove the lock file if you are sure it is not running.`);
  }
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
function startTicks(pid: number | 'self'): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces; fields after it start past the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19];
}

function currentBootId(): string | undefined {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim();
}

export function describeSelf(nowIso: string): LockInfo {
  const info: LockInfo = { pid: process.pid, startedAt: nowIso };
  const bootId = currentBootId();
  const ticks = startTicks('self');
  if (bootId !== undefined) info.bootId = bootId;
  if (ticks !== undefined) info.startTicks = ticks;
  return info;
}

/** Whether the process described by a lock still runs (same boot, same process). */
export function isAlive(info: LockInfo): boolean {
  if (info.bootId !== undefined) {
    const boot = currentBootId();
    if (boot !== undefined && boot !== info.bootId) return false;
  }
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still alive.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (info.startTicks !== undefined) {
    const ticks = startTicks(info.pid);
    if (ticks !== undefined && ticks !== info.startTicks) return false;
  }
  return true;
}

function readLock(file: string): LockInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return typeof parsed.pid === 'number' ? (parsed as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `info` to a private temp file, fsync'd, so it can be linked or renamed into place whole. */
function writeTemp(file: string, info: LockInfo): string {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(info) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/**
 * Creates `file` with `info` in one step: hard-linking the written temp file
 * fails with EEXIST if `file` exists. So no one ever reads a lock file that
 * exists but is still empty (and judges it stale).
 */
function createExclusive(file: string, info: LockInfo): boolean {
  const tmp = writeTemp(file, info);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Takes the lock on `dataDir`, or throws LockHeldError naming the holder. A lock
 * left by a dead process (or an unreadable one) is taken over and reported.
 *
 * Takeovers are serialised by a second lock (`rustro.lock.takeover`), and the
 * stale lock is replaced by an atomic rename over it, so the lock name never
 * goes missing while anyone is taking over: a plain start (create-if-absent)
 * cannot slip in, and of several starters that found the same stale lock,
 * the first replaces it and the others find it alive.
 */
export function acquireLock(dataDir: string, nowIso: string): LockResult {
  const file = join(dataDir, LOCK_FILE);
  const info = describeSelf(nowIso);
  if (createExclusive(file, info)) return { file, info };
  const mutex = `${file}.takeover`;
  if (!takeMutex(mutex, info)) {
    throw new LockHeldError(mutex, readLock(mutex) ?? { pid: -1, startedAt: 'unknown: a takeover of a stale lock was interrupted; start again' });
  }
  try {
    // Read again inside the mutex: another starter may have replaced the stale lock meanwhile.
    const holder = readLock(file) ?? { pid: -1, startedAt: 'unknown (unreadable lock file)' };
    if (holder.pid !== -1 && isAlive(holder)) throw new LockHeldError(file, holder);
    const tmp = writeTemp(file, info);
    renameSync(tmp, file);
    return { file, info, tookOverFrom: holder };
  } finally {
    unlinkSync(mutex);
  }
}

/**
 * The takeover mutex. One whose holder is not alive (a starter that died
 * inside the takeover, a window of microseconds) is removed but not taken in
 * the same attempt: that start fails as "held" and the next start (systemd
 * restarts with a delay) proceeds. Taking it at once would let two removers
 * race each other into the takeover.
 */
function takeMutex(mutex: string, info: LockInfo): boolean {
  if (createExclusive(mutex, info)) return true;
  const holder = readLock(mutex);
  // Gone already (its owner just finished): not stale, just busy a moment ago. Removing "it" now
  // could remove a fresh mutex another starter has just created.
  if (holder !== undefined && !isAlive(holder)) {
    try {
      unlinkSync(mutex);
    } catch {
      // removed by another starter
    }
  }
  return false;
}

/** Removes the lock if it is still ours. */
export function releaseLock(lock: LockResult): void {
  const current = readLock(lock.file);
  if (current?.pid === lock.info.pid && current.startTicks === lock.info.startTicks) {
    try {
      unlinkSync(lock.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

export function readLockFile(dataDir: string): LockInfo | undefined {
  return readLock(join(dataDir, LOCK_FILE));
}
