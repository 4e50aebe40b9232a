/**
 * One daemon per data directory. The lock file holds the owner's pid and,
 * on Linux, its boot id and process start time: after a reboot pids are
 * reused, so a bare "is pid N alive?" would keep a stale lock forever if an
 * unrelated process happened to get the same pid.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
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

/**
 * Creates the lock with its content in one step: the info is written and
 * fsync'd to a private temp file, then hard-linked to the lock name, which
 * fails with EEXIST if the lock exists. So no one ever reads a lock file that
 * exists but is still empty (and judges it stale).
 */
function createExclusive(file: string, info: LockInfo): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(info) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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

const sameHolder = (a: LockInfo | undefined, b: LockInfo): boolean =>
  a === undefined ? b.pid === -1 : a.pid === b.pid && a.startTicks === b.startTicks && a.startedAt === b.startedAt;

/**
 * Takes the lock on `dataDir`, or throws LockHeldError naming the holder. A lock
 * left by a dead process (or an unreadable one) is taken over and reported.
 */
export function acquireLock(dataDir: string, nowIso: string): LockResult {
  const file = join(dataDir, LOCK_FILE);
  const info = describeSelf(nowIso);
  if (createExclusive(file, info)) return { file, info };
  const holder = readLock(file) ?? { pid: -1, startedAt: 'unknown (unreadable lock file)' };
  if (holder.pid !== -1 && isAlive(holder)) throw new LockHeldError(file, holder);
  // Stale. Move it aside (atomic: of two starters only one moves it) and check that what was
  // moved is the lock judged dead — not a fresh one another starter created meanwhile.
  const aside = `${file}.stale.${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const moved = readLock(aside);
  if (existsSync(aside) && !sameHolder(moved, holder)) {
    // Not the one we judged: put it back where it was, and yield to its holder.
    try {
      linkSync(aside, file);
    } catch {
      // someone holds the name again; the moved lock's holder will find its lock gone and is named below
    }
    unlinkSync(aside);
    throw new LockHeldError(file, moved ?? holder);
  }
  if (existsSync(aside)) unlinkSync(aside);
  if (!createExclusive(file, info)) {
    throw new LockHeldError(file, readLock(file) ?? { pid: -1, startedAt: 'unknown' });
  }
  return { file, info, tookOverFrom: holder };
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
