/**
 * Retention (issue 8): ledger day files (`ledger/YYYY-MM-DD.jsonl`) and raw
 * feed recordings (`ticks/YYYY-MM-DD.frames`) older than
 * `retention.compress_after_days` are gzip-compressed beside themselves
 * (`.gz`, the original removed only once the compressed copy is fsync'd and
 * read back whole); compressed files older than `delete_after_days` are
 * deleted — and nothing is ever deleted unless that is set. Today's and the
 * most recent files are never touched, so the running ledger and its seq
 * chain are unaffected. Read a compressed day with `zcat`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { daysBetween, istDate } from '../core/clock.js';
import type { Config } from '../core/config.js';

const DAY = /^(\d{4}-\d{2}-\d{2})\.(jsonl|frames)(\.gz)?$/;

export type RetentionResult = { compressed: string[]; deleted: string[] };

export function applyRetention(dataDir: string, now: number, r: Config['retention']): RetentionResult {
  const out: RetentionResult = { compressed: [], deleted: [] };
  if (r.compress_after_days <= 0 && r.delete_after_days <= 0) return out; // both off: no folder to read (a backtest ran this each day)
  const today = istDate(now);
  for (const sub of ['ledger', 'ticks']) {
    const dir = join(dataDir, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const m = DAY.exec(name);
      if (m === null) continue;
      const age = daysBetween(m[1]!, today);
      const file = join(dir, name);
      if (m[3] === undefined) {
        if (r.compress_after_days > 0 && age > r.compress_after_days) {
          compress(file);
          out.compressed.push(file);
        }
      } else if (r.delete_after_days > 0 && age > r.delete_after_days) {
        unlinkSync(file);
        out.deleted.push(file);
      }
    }
  }
  return out;
}

/** gzip beside the file; the original goes only once the copy is on disk and decompresses to the same bytes. */
function compress(file: string): void {
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 });
  const target = `${file}.gz`;
  const fd = openSync(target, 'w', 0o600);
  try {
    writeSync(fd, gz);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (!gunzipSync(readFileSync(target)).equals(raw)) {
    unlinkSync(target);
    throw new Error(`retention: ${target} did not read back as ${file}; kept the original`);
  }
  unlinkSync(file);
}
