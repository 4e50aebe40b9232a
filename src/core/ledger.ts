/**
 * The ledger: every event that matters, appended to one JSONL file per IST
 * trading day (`<dir>/YYYY-MM-DD.jsonl`), with a seq that goes up by exactly 1
 * across files and restarts, and a per-file hash chain (see ledger/format.ts).
 *
 * Durability: a durable event's append resolves only after its line is
 * fdatasync'd (write-ahead for money, ARCHITECTURE rule 2). Other events are
 * group-committed: written (not synced) once `groupCommitEvents` are pending
 * or `groupCommitMs` after the first pending one; a durable append or
 * `flush()` carries every earlier pending line with it. One write is in flight
 * at a time; lines pile up meanwhile and go in the next write, so order is
 * append order and a burst of durable appends shares one fsync.
 *
 * A failed write or fsync rejects the appends it carried, calls `onError`, and
 * leaves the ledger failed: what reached the disk is unknown (and after a
 * failed fsync Linux may have dropped the dirty pages), so later appends reject
 * too. Reopening repairs the tail.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { istDate, istDayEnd } from './clock.js';
import { isDurable, type RustroEvent } from './events.js';
import { ByteSink } from './json-bytes.js';
import { GENESIS, HASH_LEN, LINE_OVER_BODY, chainHashBytes, putLine, writeBody } from './ledger/format.js';
import { ledgerFiles } from './ledger/read.js';
import { repairTail, scanTail, syncDir, type LedgerRepair } from './ledger/repair.js';

export type { LedgerRecord } from './ledger/format.js';
export type { LedgerRepair } from './ledger/repair.js';
export { LedgerReadError, ledgerFiles, replay, verify, type VerifyProblem, type VerifyReport } from './ledger/read.js';

export type LedgerOptions = {
  groupCommitMs: number;
  groupCommitEvents: number;
  onError?: (err: Error) => void;
  /**
   * fdatasync durable lines, flushes and each day file and new directory entry (default true).
   * Off only for a ledger its inputs rebuild byte for byte (a backtest): a crash loses nothing a
   * rerun does not write again, and a fsync per order made a trading year of backtest mostly disk waits.
   */
  sync?: boolean;
};

/**
 * Lines for one file, utf8-encoded into fixed-size chunks as they are
 * appended and written with one writev: no string joins, and a large batch
 * never copies what it already holds (growing one buffer did, ~10% of append).
 */
type Part = { file: string; full: Buffer[]; cur: Buffer; len: number };
const CHUNK_BYTES = 256 * 1024;
const EMPTY = Buffer.alloc(0);
type Batch = {
  parts: Part[];
  count: number;
  /** fdatasync after writing: a durable event or a flush() is in it. */
  sync: boolean;
  /** Write as soon as the writer is free (count reached, timer fired, durable or flush). */
  urgent: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
};

const noop = (): void => {};

export class Ledger {
  private seq: number;
  private day: string | undefined;
  private file: string | undefined;
  private prevH: string;
  private dayStart = 0; // epoch-ms bounds of `day`, for a cheap same-day test
  private dayEnd = 0;
  private pending: Batch | undefined;
  private writingNow = false;
  private timer: NodeJS.Timeout | undefined;
  private fh: FileHandle | undefined;
  private fhFile: string | undefined;
  private dirty = false;
  private failed: Error | undefined;
  private closing: Promise<void> | undefined;
  /** Where each line is built: the previous hash, then the body (see enqueue). */
  private readonly line = new ByteSink();

  private constructor(
    private readonly dir: string,
    private readonly opts: LedgerOptions,
    readonly repairs: readonly LedgerRepair[],
    lastSeq: number,
    file: string | undefined,
    prevH: string,
  ) {
    this.seq = lastSeq;
    this.file = file;
    this.day = file === undefined ? undefined : basename(file, '.jsonl');
    this.prevH = prevH;
  }

  /** Creates `dir`, repairs a torn tail of the newest day file, and continues its seq and hash chain. */
  static async open(dir: string, opts: LedgerOptions): Promise<Ledger> {
    if (!(Number.isFinite(opts.groupCommitMs) && opts.groupCommitMs >= 0)) {
      throw new RangeError(`Ledger: groupCommitMs must be a finite number >= 0, got ${opts.groupCommitMs}`);
    }
    if (!(Number.isInteger(opts.groupCommitEvents) && opts.groupCommitEvents >= 1)) {
      throw new RangeError(`Ledger: groupCommitEvents must be an integer >= 1, got ${opts.groupCommitEvents}`);
    }
    await mkdir(dir, { recursive: true });
    const files = ledgerFiles(dir);
    const newest = files.at(-1);
    if (newest === undefined) return new Ledger(dir, opts, [], 0, undefined, GENESIS);
    const { scan, repair } = await repairTail(newest);
    let lastSeq = scan.last?.seq;
    // The newest file may hold no good line (new day, or all of it was tail): seq continues from an older file.
    for (let i = files.length - 2; lastSeq === undefined && i >= 0; i--) lastSeq = (await scanTail(files[i]!)).last?.seq;
    return new Ledger(dir, opts, repair === undefined ? [] : [repair], lastSeq ?? 0, newest, scan.last?.h ?? GENESIS);
  }

  /** The last seq assigned (its line may still be pending). */
  get lastSeq(): number {
    return this.seq;
  }

  /** A write is in flight: its completions need the event loop to turn (a caller running long synchronous stretches must let it). */
  get writing(): boolean {
    return this.writingNow;
  }

  /** The day file lines are going to, or undefined before the first one exists. */
  currentFile(): string | undefined {
    return this.file;
  }

  /**
   * Assigns the next seq now, in call order, and resolves with it once the
   * line is written — for a durable event, once it is fdatasync'd.
   */
  append(event: RustroEvent): Promise<number> {
    const b = this.enqueue(event);
    if (b instanceof Error) return Promise.reject(b);
    const seq = this.seq;
    const p = b.done.then(() => seq);
    // With an onError handler, a failure is reported there, so fire-and-forget
    // appends must not also crash the process as unhandled rejections.
    if (this.opts.onError !== undefined) p.catch(noop);
    return p;
  }

  /**
   * As `append`, for a line nobody waits for: nothing comes back, and a
   * refused event or a failed write goes to `onError` (which it needs). Most
   * lines are such (bars, staleness, evaluations); a promise for each was
   * three allocations a line that only the garbage collector ever saw.
   */
  record(event: RustroEvent): void {
    const b = this.enqueue(event);
    if (!(b instanceof Error)) return;
    if (this.opts.onError === undefined) throw b;
    this.opts.onError(b);
  }

  /** Checks the event, gives it the next seq and puts its line in the pending batch; or says why not. */
  private enqueue(event: RustroEvent): Batch | Error {
    if (this.closing !== undefined) return new Error(`ledger ${this.dir} is closed: cannot append ${event?.type}`);
    if (this.failed !== undefined) return new Error(`ledger ${this.dir} failed earlier and takes no more appends: ${this.failed.message}`, { cause: this.failed });
    // The line is built in bytes just after the previous hash, as the chain hashes them together (format.ts).
    const out = this.line;
    out.p = HASH_LEN;
    try {
      writeBody(out, this.seq + 1, event); // checks it: a refused event takes no seq
    } catch (err) {
      return err as TypeError;
    }
    const end = out.p;
    ++this.seq;
    // Files follow the IST date of event time, but never go back to an older
    // day: a late event stamped before midnight goes in today's file, so seq
    // order and file order stay the same.
    if (!(event.ts >= this.dayStart && event.ts < this.dayEnd)) this.switchDay(event.ts);
    const bytes = out.b;
    for (let i = 0; i < HASH_LEN; i++) bytes[i] = this.prevH.charCodeAt(i);
    const h = chainHashBytes(bytes.subarray(0, end));
    this.prevH = h;

    let b = this.pending;
    if (b === undefined) {
      b = this.pending = newBatch();
      // A real, unref'd timer: this paces disk I/O, it is not trading logic (no Clock), and it must not keep the process alive.
      if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.opts.groupCommitMs).unref();
    }
    const size = end - HASH_LEN + LINE_OVER_BODY;
    let part = b.parts[b.parts.length - 1];
    if (part === undefined || part.file !== this.file) b.parts.push((part = { file: this.file!, full: [], cur: EMPTY, len: 0 }));
    if (part.cur.length - part.len < size) {
      if (part.len > 0) part.full.push(part.cur.subarray(0, part.len));
      part.cur = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, size));
      part.len = 0;
    }
    part.len = putLine(part.cur, part.len, bytes, HASH_LEN, end, h);
    b.count++;
    if (isDurable(event.type)) b.sync = b.urgent = true;
    else if (b.count >= this.opts.groupCommitEvents) b.urgent = true;
    if (b.urgent) this.kick();
    return b;
  }

  /** Resolves once everything appended so far is written and fdatasync'd. */
  flush(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.pending === undefined && !this.writingNow && !this.dirty) return Promise.resolve();
    const b = (this.pending ??= newBatch());
    b.sync = b.urgent = true;
    this.kick();
    return b.done;
  }

  /** Flushes, then closes the file. Appends after this reject. Rejects if the flush failed (the file is closed anyway). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        const fh = this.fh;
        this.fh = undefined;
        await fh?.close();
      }
    })();
    return this.closing;
  }

  /** Moves to the event's IST day if it is later than the current one; caches the day's bounds (istDate per append was ~5% of append time). */
  private switchDay(ts: number): void {
    const day = istDate(ts);
    if (this.day !== undefined && day < this.day) return;
    if (day !== this.day) {
      this.day = day;
      this.file = join(this.dir, `${day}.jsonl`);
      this.prevH = GENESIS;
    }
    this.dayEnd = istDayEnd(ts);
    this.dayStart = this.dayEnd - 86_400_000; // IST has no DST
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.pending !== undefined) {
      this.pending.urgent = true;
      this.kick();
    }
  };

  private kick(): void {
    const b = this.pending;
    if (this.writingNow || b === undefined) return;
    this.pending = undefined;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writingNow = true;
    void this.write(b).then(() => {
      this.writingNow = false;
      const next = this.pending;
      if (next === undefined) return;
      if (this.failed !== undefined) {
        this.pending = undefined;
        next.reject(this.failed);
      } else if (next.urgent) this.kick();
      else this.timer ??= setTimeout(this.onTimer, this.opts.groupCommitMs).unref();
    });
  }

  /** Writes one batch; never throws (failures reject the batch and fail the ledger). */
  private async write(b: Batch): Promise<void> {
    let where = this.fhFile ?? this.dir;
    try {
      for (const part of b.parts) {
        where = part.file;
        const fh = await this.handleFor(part.file);
        await writeAll(fh, [...part.full, part.cur.subarray(0, part.len)]);
        this.dirty = true;
      }
      if (b.sync && this.dirty && this.fh !== undefined && this.opts.sync !== false) {
        where = this.fhFile!;
        await this.fh.datasync();
        this.dirty = false;
      }
      b.resolve();
    } catch (cause) {
      const err = new Error(`ledger write to ${where} failed: ${(cause as Error).message}`, { cause });
      this.failed ??= err;
      b.reject(err);
      try {
        this.opts.onError?.(err);
      } catch {
        // an onError that throws must not hide the failure from the appends
      }
    }
  }

  /** The open handle for `file`; on a day switch the old file is synced and closed first. */
  private async handleFor(file: string): Promise<FileHandle> {
    if (this.fh !== undefined && this.fhFile === file) return this.fh;
    if (this.fh !== undefined) {
      const old = this.fh;
      this.fh = undefined;
      if (this.dirty && this.opts.sync !== false) await old.datasync();
      this.dirty = false;
      await old.close();
    }
    let created = true;
    let fh: FileHandle;
    try {
      fh = await open(file, 'ax');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      created = false;
      fh = await open(file, 'a');
    }
    this.fh = fh;
    this.fhFile = file;
    if (created && this.opts.sync !== false) await syncDir(this.dir); // the new file's directory entry must survive a crash too
    return fh;
  }
}

/** writev may write less than asked; carry on from where it stopped. */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let n = (await fh.writev(rest)).bytesWritten;
    while (rest.length > 0 && n >= rest[0]!.length) n -= rest.shift()!.length;
    if (n > 0) rest[0] = rest[0]!.subarray(n);
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(noop); // the batch promise itself is internal; callers get derived promises
  return { parts: [], count: 0, sync: false, urgent: false, done, resolve, reject };
}
