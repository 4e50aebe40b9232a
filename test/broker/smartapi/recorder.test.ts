import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { istToMillis } from '../../../src/core/clock.js';
import { FrameRecorder, RecordingError, readFrames, type RecordedFrame } from '../../../src/broker/smartapi/recorder.js';
import { buildFrame, ltpFrame, sampleSnap } from './support/frames.js';
import { harness } from './support/feed-harness.js';

const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'rustro-ticks-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function all(file: string, chunk?: number): Promise<RecordedFrame[]> {
  const out: RecordedFrame[] = [];
  for await (const r of readFrames(file, chunk)) out.push(r);
  return out;
}

describe('FrameRecorder / readFrames', () => {
  it('appends [u32 len][f64 receive ms][bytes] to the IST day file and reads them back in order', async () => {
    const dir = join(temp(), 'ticks');
    const rec = new FrameRecorder(dir);
    const t1 = istToMillis('2025-01-20', '09:15') + 0.25;
    const late = istToMillis('2025-01-20', '23:59'); // 18:29 UTC: still the 20th in IST
    const next = istToMillis('2025-01-21', '00:00'); // 18:30 UTC on the 20th: the 21st in IST
    const frames = [ltpFrame(), buildFrame(sampleSnap()), new Uint8Array(0), Uint8Array.from([9, 9, 9])];
    rec.record(frames[0]!, t1);
    rec.record(frames[1]!, t1 + 1);
    rec.record(frames[2]!, late);
    rec.record(frames[3]!, next);
    await rec.close();
    expect(readdirSync(dir).sort()).toEqual(['2025-01-20.frames', '2025-01-21.frames']);
    const day1 = join(dir, '2025-01-20.frames');
    const raw = readFileSync(day1);
    expect(raw.readUInt32LE(0)).toBe(51);
    expect(raw.readDoubleLE(4)).toBe(t1);
    expect(raw.subarray(12, 63).equals(Buffer.from(frames[0]!))).toBe(true);
    const got = await all(day1, 50); // small chunks: records straddle reads
    expect(got.map((r) => [r.receivedAt, Buffer.from(r.frame).toString('hex'), r.offset])).toEqual([
      [t1, Buffer.from(frames[0]!).toString('hex'), 0],
      [t1 + 1, Buffer.from(frames[1]!).toString('hex'), 63],
      [late, '', 63 + 12 + 379],
    ]);
    expect((await all(join(dir, '2025-01-21.frames')))[0]).toEqual({ receivedAt: next, frame: frames[3], offset: 0 });
    expect(rec.framesWritten).toBe(4);
    expect(rec.errors).toBe(0);
  });

  it('a torn tail: every whole record first, then a RecordingError naming the byte', async () => {
    const dir = temp();
    const rec = new FrameRecorder(dir);
    const t = istToMillis('2025-01-20', '10:00');
    rec.record(ltpFrame(), t);
    await rec.close();
    const file = rec.fileFor(t);
    appendFileSync(file, Buffer.from([51, 0, 0, 0, 1, 2, 3]));
    const seen: number[] = [];
    await expect((async () => {
      for await (const r of readFrames(file)) seen.push(r.receivedAt);
    })()).rejects.toThrow(new RecordingError(`${file}: torn record at byte 63: 7 trailing byte(s) do not make a whole record`));
    expect(seen).toEqual([t]);
  });

  it('write errors are counted, not thrown', async () => {
    const dir = temp();
    const blocker = join(dir, 'file');
    appendFileSync(blocker, 'x');
    const rec = new FrameRecorder(join(blocker, 'ticks')); // a path under a regular file
    expect(() => rec.record(ltpFrame(), 0)).not.toThrow();
    expect(rec.errors).toBe(1);
    expect(rec.lastError).toMatch(/EEXIST|ENOTDIR/);
  });

  it('the feed records every raw binary frame (also the refused ones) with the clock time', async () => {
    const dir = temp();
    const rec = new FrameRecorder(dir);
    const h = await harness({}, { recorder: rec });
    try {
      await h.feed.start();
      h.server.conns[0]!.ws.send(ltpFrame());
      h.server.conns[0]!.ws.send(Buffer.from([1, 2]));
      await h.until('FeedFrameRejected');
      await rec.close();
      const got = await all(rec.fileFor(h.clock.now()));
      expect(got.map((r) => [r.receivedAt, r.frame.length])).toEqual([[h.clock.now(), 51], [h.clock.now(), 2]]);
    } finally {
      await h.close();
    }
  });
});
