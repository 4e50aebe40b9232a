/**
 * Open-time tail repair. The last good line of a file is the last line that is
 * complete (ends in '\n') and decodes and validates; everything after it is
 * the tail — a torn write, garbage, or a corrupt last line. A bad line with
 * good lines after it is not tail: it stays, and `verify` reports it.
 *
 * The scan reads backwards from the end in growing windows, so opening a big
 * day file costs only its tail. A tail is never dropped: its bytes are written
 * to `<file>.<n>.corrupt` and fsync'd before the file is truncated, so a crash
 * in between at worst leaves the tail in two places.
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeLine, type LedgerRecord } from './format.js';

export type LedgerRepair = { file: string; keptBytes: number; movedBytes: number; corruptFile: string; reason: string };

export type TailScan = {
  size: number;
  /** End of the last good line (0 when there is none). */
  keptBytes: number;
  last: LedgerRecord | undefined;
  /** Why the bytes after keptBytes are bad; undefined when there are none. */
  reason: string | undefined;
};

const FIRST_WINDOW = 64 * 1024;

export async function scanTail(file: string): Promise<TailScan> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    for (let win = FIRST_WINDOW; ; win *= 4) {
      const start = Math.max(0, size - win);
      const buf = Buffer.allocUnsafe(size - start);
      await readFully(fh, buf, start);
      // The first bytes of the window may be the middle of a line: only lines
      // whose start we can see (after a '\n' in the window, or at offset 0) count.
      const lastNl = buf.lastIndexOf(10);
      let reason = lastNl < buf.length - 1 ? `incomplete last line (${buf.length - lastNl - 1} bytes without a newline)` : undefined;
      for (let nl = lastNl; nl >= 0;) {
        const prev = nl === 0 ? -1 : buf.lastIndexOf(10, nl - 1);
        if (prev < 0 && start > 0) break;
        const rec = decodeLine(buf.toString('utf8', prev + 1, nl));
        if (typeof rec !== 'string') {
          const keptBytes = start + nl + 1;
          return { size, keptBytes, last: rec, reason: keptBytes < size ? reason : undefined };
        }
        reason = `bad line after the last good one: ${rec}`;
        nl = prev;
      }
      if (start === 0) return { size, keptBytes: 0, last: undefined, reason: size > 0 ? reason : undefined };
    }
  } finally {
    await fh.close();
  }
}

/** Scans `file` and moves a bad tail aside; returns the scan (as after repair) and the repair done, if any. */
export async function repairTail(file: string): Promise<{ scan: TailScan; repair: LedgerRepair | undefined }> {
  const scan = await scanTail(file);
  if (scan.keptBytes === scan.size) return { scan, repair: undefined };
  const fh = await open(file, 'r+');
  try {
    const tail = Buffer.allocUnsafe(scan.size - scan.keptBytes);
    await readFully(fh, tail, scan.keptBytes);
    const corruptFile = await writeCorrupt(file, tail);
    await fh.truncate(scan.keptBytes);
    await fh.sync();
    const repair: LedgerRepair = {
      file,
      keptBytes: scan.keptBytes,
      movedBytes: tail.length,
      corruptFile,
      reason: scan.reason ?? 'bad tail',
    };
    return { scan: { ...scan, size: scan.keptBytes, reason: undefined }, repair };
  } finally {
    await fh.close();
  }
}

/** Writes the bytes to the first free `<file>.<n>.corrupt` and makes it durable (file and directory entry). */
async function writeCorrupt(file: string, bytes: Buffer): Promise<string> {
  for (let n = 1; ; n++) {
    const name = `${file}.${n}.corrupt`;
    let fh;
    try {
      fh = await open(name, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await syncDir(dirname(name));
    return name;
  }
}

export async function readFully(fh: import('node:fs/promises').FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + off}`);
    off += bytesRead;
  }
}

/** fsyncs a directory so a new entry in it survives power loss. Not possible on Windows; skipped there. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
