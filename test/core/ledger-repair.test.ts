import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDurable } from '../../src/core/events.js';
import { Ledger, replay, verify } from '../../src/core/ledger.js';
import { opts, sampleEvent, sampleEvents, tempDir } from '../fixtures/ledger/events.js';

const FILE = '2024-01-02.jsonl';
let root: { dir: string; cleanup: () => void };
let original: Buffer;

beforeAll(async () => {
  root = tempDir();
  const src = join(root.dir, 'source');
  const led = await Ledger.open(src, { groupCommitMs: 3_600_000, groupCommitEvents: 4 });
  const events = sampleEvents(24);
  expect(events.some((e) => isDurable(e.type))).toBe(true);
  expect(events.some((e) => !isDurable(e.type))).toBe(true);
  for (const e of events) void led.append(e);
  await led.close();
  original = readFileSync(join(src, FILE));
});
afterAll(() => root.cleanup());

let n = 0;
/** A fresh ledger dir holding `bytes` as its only day file. */
function ledgerWith(bytes: Buffer): string {
  const d = join(root.dir, `case-${n++}`);
  mkdirSync(d);
  writeFileSync(join(d, FILE), bytes);
  return d;
}
const corruptFiles = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.corrupt')).map((f) => join(d, f));

async function appendOneAndVerify(d: string, expectSeq: number): Promise<void> {
  const led = await Ledger.open(d, opts);
  expect(led.lastSeq).toBe(expectSeq - 1);
  expect(await led.append(sampleEvent(1))).toBe(expectSeq); // durable: resolves once on disk
  await led.close();
  const rep = await verify(join(d, FILE));
  expect(rep).toMatchObject({ ok: true, lines: expectSeq, problems: [] });
}

describe('Ledger.open repairs a torn tail', () => {
  it('at every byte offset of a real file: keeps every complete line, moves the rest aside, then appends and verifies', async () => {
    const lines = original.toString('utf8').split('\n').length - 1;
    expect(lines).toBe(24);
    for (let cut = 0; cut <= original.length; cut++) {
      const prefix = original.subarray(0, cut);
      const kept = prefix.lastIndexOf(10) + 1; // end of the last complete line
      const complete = prefix.subarray(0, kept).toString().split('\n').length - 1;
      const d = ledgerWith(prefix);
      const led = await Ledger.open(d, opts);
      const ctx = `cut at ${cut}`;
      expect(led.lastSeq, ctx).toBe(complete);
      expect(readFileSync(join(d, FILE)).equals(original.subarray(0, kept)), ctx).toBe(true);
      if (kept === cut) {
        expect(led.repairs, ctx).toEqual([]);
        expect(corruptFiles(d), ctx).toEqual([]);
      } else {
        expect(led.repairs, ctx).toEqual([{
          file: join(d, FILE), keptBytes: kept, movedBytes: cut - kept, corruptFile: join(d, `${FILE}.1.corrupt`),
          reason: expect.stringMatching(/incomplete last line/),
        }]);
        expect(readFileSync(join(d, `${FILE}.1.corrupt`)).equals(original.subarray(kept, cut)), ctx).toBe(true);
      }
      const seq = led.append(sampleEvent(1));
      await led.close();
      expect(await seq, ctx).toBe(complete + 1);
      const rep = await verify(join(d, FILE));
      expect(rep.problems, ctx).toEqual([]);
      expect(rep.lines, ctx).toBe(complete + 1);
    }
  }, 120_000);

  it('moves a garbage-bytes tail (with newlines and NULs) aside byte for byte', async () => {
    const garbage = Buffer.from([0, 0, 0, 10, 0xff, 0xfe, 0x7b, 0x22, 10, 0, 0, 0, 0, 0x41]);
    const d = ledgerWith(Buffer.concat([original, garbage]));
    const led = await Ledger.open(d, opts);
    await led.close();
    expect(led.repairs).toHaveLength(1);
    expect(led.repairs[0]).toMatchObject({ keptBytes: original.length, movedBytes: garbage.length });
    expect(readFileSync(led.repairs[0]!.corruptFile).equals(garbage)).toBe(true);
    expect(readFileSync(join(d, FILE)).equals(original)).toBe(true);
    await appendOneAndVerify(d, 25);
  });

  it('moves a complete but corrupt (bad JSON) last line aside, and a second repair gets a new .corrupt file', async () => {
    const lines = original.toString('utf8').split('\n').slice(0, -1);
    const bad = lines[23]!.slice(0, 40) + '\n'; // complete (has its newline) but not JSON
    const d = ledgerWith(Buffer.from(lines.slice(0, 23).join('\n') + '\n' + bad));
    const led = await Ledger.open(d, opts);
    await led.close();
    expect(led.repairs).toEqual([expect.objectContaining({ movedBytes: Buffer.byteLength(bad), reason: expect.stringMatching(/bad line after the last good one: not valid JSON/) })]);
    expect(readFileSync(led.repairs[0]!.corruptFile, 'utf8')).toBe(bad);
    expect(led.lastSeq).toBe(23);

    writeFileSync(join(d, FILE), Buffer.concat([readFileSync(join(d, FILE)), Buffer.from('{"seq":')]));
    const again = await Ledger.open(d, opts);
    await again.close();
    expect(again.repairs[0]!.corruptFile).toBe(join(d, `${FILE}.2.corrupt`));
    expect(readFileSync(join(d, `${FILE}.1.corrupt`), 'utf8')).toBe(bad); // the first one is never overwritten
    await appendOneAndVerify(d, 24);
  });

  it('a line that parses but fails validation at the end is tail too', async () => {
    const lines = original.toString('utf8').split('\n').slice(0, -1);
    const bad = lines[23]!.replace('"type":"', '"type":"X') + '\n';
    const d = ledgerWith(Buffer.from(lines.slice(0, 23).join('\n') + '\n' + bad));
    const led = await Ledger.open(d, opts);
    await led.close();
    expect(led.repairs[0]?.reason).toMatch(/unknown event type "X/);
    expect(led.lastSeq).toBe(23);
  });

  it('does not truncate a bad line in the middle: verify and replay report it instead', async () => {
    const lines = original.toString('utf8').split('\n').slice(0, -1);
    lines[9] = 'not json at all';
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const d = ledgerWith(bytes);
    const led = await Ledger.open(d, opts);
    await led.close();
    expect(led.repairs).toEqual([]);
    expect(led.lastSeq).toBe(24);
    expect(readFileSync(join(d, FILE)).equals(bytes)).toBe(true);
    const rep = await verify(join(d, FILE));
    expect(rep.ok).toBe(false);
    expect(rep.problems[0]).toEqual({ line: 10, message: expect.stringMatching(/not valid JSON/) });
    const seen: number[] = [];
    await expect((async () => {
      for await (const r of replay(join(d, FILE))) seen.push(r.seq);
    })()).rejects.toThrow(`${join(d, FILE)}:10: not valid JSON`);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
