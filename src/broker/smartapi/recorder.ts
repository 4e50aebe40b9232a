/**
 * Raw feed recording (`data/ticks/YYYY-MM-DD.frames`) for later replay and
 * backtests. Each binary frame is appended exactly as received, as one record:
 *
 *   [u32 LE length of the frame][f64 LE receive time, epoch ms][frame bytes]
 *
 * The file is chosen by the IST date of the receive time. Writes go through a
 * buffered append stream: the hot path never blocks on the disk, and a write
 * error is counted (and kept in `lastError`), never thrown into the feed.
 * After a crash the last record may be torn; `readFrames` yields every whole
 * record and then throws a `RecordingError` naming the torn tail.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { istDate, istToMillis } from '../../core/clock.js';

export const RECORD_HEADER_BYTES = 12;
/** Larger than any SmartStream packet by far: a bigger length means the file is corrupt, not a frame. */
export const MAX_RECORDED_FRAME_BYTES = 1 << 20;

/** Where the feed hands raw frames; `FrameRecorder` is the file-backed one. */
export interface FrameSink {
  record(frame: Uint8Array, receivedAt: number): void;
}

export class FrameRecorder implements FrameSink {
  private stream: WriteStream | undefined;
  private day = '';
  private dayStart = Infinity;
  private dayEnd = -Infinity;
  private written = 0;
  private failures = 0;
  /** The last write error, if any. */
  lastError: string | undefined;

  /** `dir` is the ticks directory, e.g. `data/ticks`; created on first use. */
  constructor(private readonly dir: string) {}

  get framesWritten(): number {
    return this.written;
  }

  get errors(): number {
    return this.failures;
  }

  /** The day file a receive time goes to. */
  fileFor(receivedAt: number): string {
    return join(this.dir, `${istDate(receivedAt)}.frames`);
  }

  record(frame: Uint8Array, receivedAt: number): void {
    try {
      if (receivedAt < this.dayStart || receivedAt >= this.dayEnd) this.rollTo(receivedAt);
      const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + frame.length);
      rec.writeUInt32LE(frame.length, 0);
      rec.writeDoubleLE(receivedAt, 4);
      rec.set(frame, RECORD_HEADER_BYTES);
      this.stream!.write(rec);
      this.written++;
    } catch (err) {
      this.fail(err);
    }
  }

  /** Resolves once everything recorded so far has been handed to the OS. */
  async flush(): Promise<void> {
    const s = this.stream;
    if (s === undefined || s.writableLength === 0) return;
    await new Promise<void>((resolve) => {
      s.write(Buffer.alloc(0), () => resolve());
    });
  }

  async close(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    this.dayStart = Infinity;
    this.dayEnd = -Infinity;
    if (s !== undefined) await new Promise<void>((resolve) => s.end(() => resolve()));
  }

  private rollTo(receivedAt: number): void {
    const day = istDate(receivedAt);
    if (day !== this.day || this.stream === undefined) {
      this.stream?.end();
      mkdirSync(this.dir, { recursive: true });
      const s = createWriteStream(join(this.dir, `${day}.frames`), { flags: 'a' });
      s.on('error', (err) => this.fail(err));
      this.stream = s;
      this.day = day;
    }
    this.dayStart = istToMillis(day);
    this.dayEnd = this.dayStart + 86_400_000;
  }

  private fail(err: unknown): void {
    this.failures++;
    this.lastError = err instanceof Error ? err.message : String(err);
  }
}

export type RecordedFrame = { receivedAt: number; frame: Uint8Array; /** Byte offset of the record in the file. */ offset: number };

export class RecordingError extends Error {
  override name = 'RecordingError';
}

/** Yields every record of a `.frames` file in order; throws a RecordingError after the last whole record if the tail is torn or corrupt. */
export async function* readFrames(file: string, chunkBytes = 1 << 20): AsyncGenerator<RecordedFrame> {
  const fh = await open(file, 'r');
  try {
    let buf = Buffer.alloc(0);
    let base = 0; // file offset of buf[0]
    let eof = false;
    for (;;) {
      let at = 0;
      while (buf.length - at >= RECORD_HEADER_BYTES) {
        const len = buf.readUInt32LE(at);
        if (len > MAX_RECORDED_FRAME_BYTES) {
          throw new RecordingError(`${file}: corrupt record at byte ${base + at}: length ${len} exceeds ${MAX_RECORDED_FRAME_BYTES}`);
        }
        if (buf.length - at < RECORD_HEADER_BYTES + len) break;
        const receivedAt = buf.readDoubleLE(at + 4);
        const start = at + RECORD_HEADER_BYTES;
        yield { receivedAt, frame: new Uint8Array(buf.subarray(start, start + len)), offset: base + at };
        at = start + len;
      }
      buf = buf.subarray(at);
      base += at;
      if (eof) break;
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(chunk, 0, chunkBytes, null);
      if (bytesRead === 0) eof = true;
      else buf = buf.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
    }
    if (buf.length > 0) {
      throw new RecordingError(`${file}: torn record at byte ${base}: ${buf.length} trailing byte(s) do not make a whole record`);
    }
  } finally {
    await fh.close();
  }
}
