import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { istToMillis } from '../../src/core/clock.js';
import type { Bar } from '../../src/market/bar.js';
import { BarRing, BarStore } from '../../src/market/bar-store.js';

const REF = { exchange: 'NSE' as const, token: '99926000' };
const bar = (min: number, close: number, extra: Partial<Bar> = {}): Bar => {
  const ts = istToMillis('2024-02-15', '09:15') + min * 60_000;
  return { ...REF, tf: '1m', ts, end: ts + 60_000, open: close, high: close + 1, low: close - 1, close, ticks: 10, backfilled: false, ...extra };
};

describe('BarRing', () => {
  it('keeps the newest `capacity` bars in order and refuses a bar not newer than the newest', () => {
    const r = new BarRing(REF.token, REF.exchange, '1m', 3);
    for (let i = 0; i < 5; i++) expect(r.push(bar(i, 100 + i))).toBe(true);
    expect(r.push(bar(4, 0))).toBe(false);
    expect(r.push(bar(2, 0))).toBe(false);
    expect(r.length).toBe(3);
    expect(r.toArray().map((b) => b.close)).toEqual([102, 103, 104]);
    expect(r.at(-1)!.close).toBe(104);
    expect(r.closeAt(0)).toBe(102);
    expect(r.at(3)).toBeUndefined();
    expect(r.at(0)).toEqual(bar(2, 102));
    r.push(bar(5, 1, { volume: 42, backfilled: true }));
    expect(r.at(-1)).toMatchObject({ volume: 42, backfilled: true });
    expect(r.at(0)!.volume).toBeUndefined();
  });
});

describe('BarStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rustro-bars-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends each closed bar to the day file and reads the day back after a restart', () => {
    const a = new BarStore({ dir, capacity: 500 });
    for (let i = 0; i < 30; i++) a.append(bar(i, 100 + i, i % 2 === 0 ? { volume: i } : {}));
    a.append({ ...bar(0, 5), tf: '5m', end: bar(5, 0).ts });
    a.close();
    const lines = readFileSync(join(dir, '2024-02-15.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(31);
    const b = new BarStore({ dir, capacity: 500 });
    const report = b.restore('2024-02-15');
    expect(report).toMatchObject({ bars: 31, skipped: 0 });
    expect(b.get(REF, '1m')!.toArray()).toEqual(a.get(REF, '1m')!.toArray());
    expect(b.get(REF, '5m')!.length).toBe(1);
  });

  it('skips a torn last line, counts it, and the next append starts on a fresh line', () => {
    const a = new BarStore({ dir, capacity: 500 });
    a.append(bar(0, 100));
    a.close();
    appendFileSync(join(dir, '2024-02-15.jsonl'), '{"token":"99926000","exch');
    const b = new BarStore({ dir, capacity: 500 });
    expect(b.restore('2024-02-15')).toMatchObject({ bars: 1, skipped: 1 });
    b.append(bar(1, 101));
    b.close();
    const c = new BarStore({ dir, capacity: 500 });
    expect(c.restore('2024-02-15')).toMatchObject({ bars: 2, skipped: 1 });
  });

  it('merge() puts history under the bars held, which win on the same start', () => {
    const s = new BarStore({ capacity: 4 });
    s.append(bar(3, 103));
    s.merge(REF, '1m', [bar(0, 1), bar(1, 2), bar(2, 3), bar(3, 999)]);
    expect(s.get(REF, '1m')!.toArray().map((b) => b.close)).toEqual([1, 2, 3, 103]);
  });
});
