import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { applyRetention } from '../../src/app/retention.js';
import { istToMillis } from '../../src/core/clock.js';

function dataDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-retention-'));
  mkdirSync(join(dir, 'ledger'));
  mkdirSync(join(dir, 'ticks'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

describe('retention', () => {
  const now = istToMillis('2024-02-21', '08:00');

  it('gzips ledger days and tick recordings older than the limit, byte for byte, and leaves recent ones and other files alone', () => {
    const dir = dataDir({
      'ledger/2024-02-01.jsonl': '{"seq":1}\n{"seq":2}\n',
      'ledger/2024-02-14.jsonl': '{"seq":3}\n',
      'ledger/2024-02-21.jsonl': '{"seq":4}\n',
      'ticks/2024-02-02.frames': 'raw-frames',
      'ledger/notes.txt': 'keep',
    });
    const r = applyRetention(dir, now, { compress_after_days: 7, delete_after_days: 0 });
    expect(r.compressed.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['ledger/2024-02-01.jsonl', 'ticks/2024-02-02.frames']);
    expect(r.deleted).toEqual([]);
    expect(gunzipSync(readFileSync(join(dir, 'ledger/2024-02-01.jsonl.gz'))).toString()).toBe('{"seq":1}\n{"seq":2}\n');
    expect(existsSync(join(dir, 'ledger/2024-02-01.jsonl'))).toBe(false);
    for (const kept of ['ledger/2024-02-14.jsonl', 'ledger/2024-02-21.jsonl', 'ledger/notes.txt']) expect(existsSync(join(dir, kept))).toBe(true);
  });

  it('deletes nothing unless delete_after_days is set, then only compressed files older than it', () => {
    const dir = dataDir({ 'ledger/2023-12-01.jsonl.gz': 'x', 'ledger/2024-02-10.jsonl.gz': 'y' });
    expect(applyRetention(dir, now, { compress_after_days: 7, delete_after_days: 0 }).deleted).toEqual([]);
    expect(existsSync(join(dir, 'ledger/2023-12-01.jsonl.gz'))).toBe(true);
    const r = applyRetention(dir, now, { compress_after_days: 7, delete_after_days: 30 });
    expect(r.deleted.map((f) => f.slice(dir.length + 1))).toEqual(['ledger/2023-12-01.jsonl.gz']);
    expect(existsSync(join(dir, 'ledger/2024-02-10.jsonl.gz'))).toBe(true);
  });

  it('compress_after_days = 0 compresses nothing', () => {
    const dir = dataDir({ 'ledger/2020-01-01.jsonl': 'old' });
    expect(applyRetention(dir, now, { compress_after_days: 0, delete_after_days: 0 }).compressed).toEqual([]);
  });
});
