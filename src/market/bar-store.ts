/**
 * Closed bars: a fixed-size ring buffer per (instrument, timeframe) for the
 * hot window indicators read, and an append-only JSONL file per IST day
 * (`<data_dir>/bars/YYYY-MM-DD.jsonl`, the day of the bar's start), read back
 * on restart so indicators resume where they stopped.
 *
 * The ring is columnar (typed arrays), so 500 bars cost ~27 KB, not 500
 * objects. Bars enter a ring in strictly increasing start order; an older or
 * equal start is refused (history merges go through `merge`).
 *
 * A line of the day file is one bar:
 *   {"token","exchange","tf","ts","end","open","high","low","close","volume"?,"ticks","backfilled"}
 * Lines are checked with zod when read; a bad line (a torn tail after a
 * crash, an edit) is skipped and counted, never fatal, and the next append
 * starts on a fresh line.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Exchange, InstrumentRef } from '../broker/broker.js';
import { istDate } from '../core/clock.js';
import type { Bar } from './bar.js';
import { TIMEFRAMES, type Timeframe } from './timeframes.js';
import { exchangeSchema } from '../core/events.js';

const FLAG_BACKFILLED = 1;

export class BarRing {
  private readonly tsA: Float64Array;
  private readonly endA: Float64Array;
  private readonly o: Float64Array;
  private readonly h: Float64Array;
  private readonly l: Float64Array;
  private readonly c: Float64Array;
  /** NaN: no volume. */
  private readonly v: Float64Array;
  private readonly n: Uint32Array;
  private readonly f: Uint8Array;
  private head = 0;
  private size = 0;

  constructor(
    readonly token: string,
    readonly exchange: Exchange,
    readonly tf: Timeframe,
    readonly capacity: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`BarRing: capacity must be a positive integer, got ${capacity}`);
    this.tsA = new Float64Array(capacity);
    this.endA = new Float64Array(capacity);
    this.o = new Float64Array(capacity);
    this.h = new Float64Array(capacity);
    this.l = new Float64Array(capacity);
    this.c = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
    this.n = new Uint32Array(capacity);
    this.f = new Uint8Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Start of the newest bar, or -Infinity when empty. */
  get lastTs(): number {
    return this.size === 0 ? -Infinity : this.tsA[this.slot(this.size - 1)]!;
  }

  /** Appends a bar; false (and nothing changes) if its start is not after the newest bar's. */
  push(bar: Omit<Bar, 'token' | 'exchange' | 'tf'>): boolean {
    if (bar.ts <= this.lastTs) return false;
    let i: number;
    if (this.size < this.capacity) i = this.slot(this.size++);
    else {
      i = this.head;
      this.head = (this.head + 1) % this.capacity;
    }
    this.tsA[i] = bar.ts;
    this.endA[i] = bar.end;
    this.o[i] = bar.open;
    this.h[i] = bar.high;
    this.l[i] = bar.low;
    this.c[i] = bar.close;
    this.v[i] = bar.volume ?? NaN;
    this.n[i] = bar.ticks;
    this.f[i] = bar.backfilled ? FLAG_BACKFILLED : 0;
    return true;
  }

  /** Bar `i`, 0 = oldest; a negative `i` counts from the newest (-1). */
  at(i: number): Bar | undefined {
    const k = i < 0 ? this.size + i : i;
    if (k < 0 || k >= this.size) return undefined;
    const s = this.slot(k);
    const bar: Bar = {
      token: this.token, exchange: this.exchange, tf: this.tf, ts: this.tsA[s]!, end: this.endA[s]!,
      open: this.o[s]!, high: this.h[s]!, low: this.l[s]!, close: this.c[s]!, ticks: this.n[s]!, backfilled: (this.f[s]! & FLAG_BACKFILLED) !== 0,
    };
    const v = this.v[s]!;
    if (v === v) bar.volume = v;
    return bar;
  }

  /** Close of bar `i` (0 = oldest, negative from the newest) without building an object; NaN out of range. */
  closeAt(i: number): number {
    return this.field(this.c, i);
  }

  /** Start of bar `i`, as `closeAt`. */
  tsAt(i: number): number {
    return this.field(this.tsA, i);
  }

  /** End of bar `i`, as `closeAt`. */
  endAt(i: number): number {
    return this.field(this.endA, i);
  }

  highAt(i: number): number {
    return this.field(this.h, i);
  }

  lowAt(i: number): number {
    return this.field(this.l, i);
  }

  /** Volume of bar `i`; NaN where the bar has none. */
  volumeAt(i: number): number {
    return this.field(this.v, i);
  }

  private field(a: Float64Array, i: number): number {
    const k = i < 0 ? this.size + i : i;
    return k < 0 || k >= this.size ? NaN : a[this.slot(k)]!;
  }

  /** All bars, oldest first. */
  toArray(): Bar[] {
    const out: Bar[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.at(i)!);
    return out;
  }

  /** Empties the ring. */
  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private slot(k: number): number {
    const s = this.head + k;
    return s >= this.capacity ? s - this.capacity : s;
  }
}

const barLine = z.object({
  token: z.string().min(1),
  exchange: exchangeSchema,
  tf: z.enum(TIMEFRAMES as unknown as [Timeframe, ...Timeframe[]]),
  ts: z.number().int(),
  end: z.number().int(),
  open: z.number().finite(),
  high: z.number().finite(),
  low: z.number().finite(),
  close: z.number().finite(),
  volume: z.number().finite().nonnegative().optional(),
  ticks: z.number().int().nonnegative(),
  backfilled: z.boolean(),
});

export type RestoreReport = { files: string[]; bars: number; skipped: number; badLines: string[] };

export type BarStoreOptions = {
  /** Folder of the day files (`<data_dir>/bars`); undefined keeps bars in memory only. */
  dir?: string;
  /** Bars per ring (config market.bar_buffer_size). */
  capacity: number;
};

export class BarStore {
  readonly capacity: number;
  readonly dir: string | undefined;
  /**
   * Rings by token, then found by exchange and timeframe among the few a token has: a lookup builds no
   * key string (it ran several times a bar close, and a concatenated key was a new string to hash each time).
   */
  private readonly rings = new Map<string, BarRing[]>();
  private fd: number | undefined;
  private fdDay = '';
  /** Appends that failed (disk full, permissions); the ring still has the bar. */
  writeErrors = 0;
  lastWriteError: string | undefined;

  constructor(o: BarStoreOptions) {
    this.capacity = o.capacity;
    this.dir = o.dir;
  }

  /** The ring of (instrument, timeframe), created empty on first use. */
  ring(ref: InstrumentRef, tf: Timeframe): BarRing {
    let list = this.rings.get(ref.token);
    if (list === undefined) this.rings.set(ref.token, (list = []));
    for (const r of list) if (r.tf === tf && r.exchange === ref.exchange) return r;
    const r = new BarRing(ref.token, ref.exchange, tf, this.capacity);
    list.push(r);
    return r;
  }

  /** The ring if it exists. */
  get(ref: InstrumentRef, tf: Timeframe): BarRing | undefined {
    const list = this.rings.get(ref.token);
    if (list !== undefined) for (const r of list) if (r.tf === tf && r.exchange === ref.exchange) return r;
    return undefined;
  }

  /** Drops the rings `keep` says no to (their bars stay in the day files); returns how many went. */
  prune(keep: (ring: BarRing) => boolean): number {
    let n = 0;
    for (const [token, list] of this.rings) {
      const kept = list.filter(keep);
      n += list.length - kept.length;
      if (kept.length === 0) this.rings.delete(token);
      else if (kept.length < list.length) this.rings.set(token, kept);
    }
    return n;
  }

  /** Every ring held. */
  allRings(): BarRing[] {
    return [...this.rings.values()].flat();
  }

  /** A closed bar: into its ring, and (if it is newer than the ring's newest) onto its day file. */
  append(bar: Bar): boolean {
    if (!this.ring(bar, bar.tf).push(bar)) return false;
    if (this.dir !== undefined) this.write(bar);
    return true;
  }

  /**
   * Merges history (bootstrap candles) into a ring: bars already held win
   * over history with the same start; the newest `capacity` are kept.
   * History is not written to the day files (the broker keeps it).
   */
  merge(ref: InstrumentRef, tf: Timeframe, bars: readonly Omit<Bar, 'token' | 'exchange' | 'tf'>[]): number {
    const ring = this.ring(ref, tf);
    const held = ring.toArray();
    const byTs = new Map<number, Omit<Bar, 'token' | 'exchange' | 'tf'>>();
    for (const b of bars) byTs.set(b.ts, b);
    for (const b of held) byTs.set(b.ts, b);
    const all = [...byTs.values()].sort((a, b) => a.ts - b.ts).slice(-this.capacity);
    ring.clear();
    for (const b of all) ring.push(b);
    return ring.length;
  }

  /**
   * Reads back the latest `days` day files up to and including `date`
   * (oldest first) into the rings. Bad lines are skipped and reported.
   */
  restore(date: string, days = 5): RestoreReport {
    const report: RestoreReport = { files: [], bars: 0, skipped: 0, badLines: [] };
    const dir = this.dir;
    if (dir === undefined || !existsSync(dir)) return report;
    const files = readdirSync(dir).filter((f) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f) && f.slice(0, 10) <= date).sort().slice(-days);
    for (const f of files) {
      const file = join(dir, f);
      report.files.push(file);
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (line.trim() === '') return;
        let parsed;
        try {
          parsed = barLine.safeParse(JSON.parse(line));
        } catch {
          parsed = undefined;
        }
        if (parsed === undefined || !parsed.success) {
          report.skipped++;
          report.badLines.push(`${file}:${i + 1}`);
          return;
        }
        const b = parsed.data;
        const bar: Bar = { ...b, ...(b.volume === undefined ? {} : { volume: b.volume }) };
        if (this.ring(bar, bar.tf).push(bar)) report.bars++;
      });
    }
    return report;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.fdDay = '';
  }

  private write(bar: Bar): void {
    try {
      const day = istDate(bar.ts);
      if (day !== this.fdDay || this.fd === undefined) this.open(day);
      const line: Record<string, unknown> = {
        token: bar.token, exchange: bar.exchange, tf: bar.tf, ts: bar.ts, end: bar.end,
        open: bar.open, high: bar.high, low: bar.low, close: bar.close,
      };
      if (bar.volume !== undefined) line.volume = bar.volume;
      line.ticks = bar.ticks;
      line.backfilled = bar.backfilled;
      writeSync(this.fd!, JSON.stringify(line) + '\n');
    } catch (err) {
      this.writeErrors++;
      this.lastWriteError = (err as Error).message;
    }
  }

  private open(day: string): void {
    this.close();
    mkdirSync(this.dir!, { recursive: true });
    const fd = openSync(join(this.dir!, `${day}.jsonl`), 'a+');
    // A torn last line (a crash mid-write) must not swallow the next bar: start on a fresh line.
    const size = fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) writeSync(fd, '\n');
    }
    this.fd = fd;
    this.fdDay = day;
  }
}
