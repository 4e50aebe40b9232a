import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, verify } from '../../src/core/ledger.js';
import { ByteSink } from '../../src/core/json-bytes.js';
import { GENESIS, LINE_OVER_BODY, chainHash, putLine, writeBody } from '../../src/core/ledger/format.js';
import type { RustroEvent } from '../../src/core/events.js';
import { opts, sampleEvent, sampleEvents, tempDir } from '../fixtures/ledger/events.js';

/** A good line (no newline) for `event` at `seq` after the hash `prevH`, built as the ledger builds one. */
function lineAfter(prevH: string, seq: number, event: RustroEvent): { line: string; h: string } {
  const body = new ByteSink();
  writeBody(body, seq, event);
  const h = chainHash(prevH, body.b.toString('utf8', 0, body.p));
  const line = Buffer.alloc(body.p + LINE_OVER_BODY);
  return { line: line.toString('utf8', 0, putLine(line, 0, body.b, 0, body.p, h) - 1), h };
}

let t: { dir: string; cleanup: () => void };
let file: string;
let lines: string[];

beforeAll(async () => {
  t = tempDir();
  const led = await Ledger.open(t.dir, opts);
  for (const e of sampleEvents(12)) void led.append(e);
  await led.close();
  file = led.currentFile()!;
  lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
});
afterAll(() => t.cleanup());

async function verifyLines(ls: string[]): Promise<Awaited<ReturnType<typeof verify>>> {
  const f = `${t.dir}/edited.jsonl`;
  writeFileSync(f, ls.map((l) => l + '\n').join(''));
  return verify(f);
}

describe('verify', () => {
  it('passes an untouched file', async () => {
    expect(await verify(file)).toEqual({ ok: true, lines: 12, firstSeq: 1, lastSeq: 12, problems: [] });
  });

  it('detects an edited payload value, at its line', async () => {
    const ls = [...lines];
    expect(ls[2]).toContain('"qty":50');
    ls[2] = ls[2]!.replace('"qty":50', '"qty":51'); // still a valid event: only the hash can tell
    const rep = await verifyLines(ls);
    expect(rep.ok).toBe(false);
    expect(rep.problems).toEqual([{ line: 3, message: expect.stringMatching(/hash mismatch/) }]);
  });

  it('detects an edit of the first line (chains from genesis)', async () => {
    const ls = [...lines];
    ls[0] = ls[0]!.replace('"pid":1000', '"pid":1001');
    expect((await verifyLines(ls)).problems).toEqual([{ line: 1, message: expect.stringMatching(/hash mismatch: first line/) }]);
  });

  it('detects a dropped line: chain break and seq gap at the line after the hole', async () => {
    const ls = [...lines.slice(0, 5), ...lines.slice(6)];
    const rep = await verifyLines(ls);
    expect(rep.ok).toBe(false);
    expect(rep.lines).toBe(11);
    expect(rep.problems).toEqual([
      { line: 6, message: expect.stringMatching(/hash mismatch/) },
      { line: 6, message: 'seq gap: expected 6, found 7 (1 missing)' },
    ]);
  });

  it('detects two swapped lines', async () => {
    const ls = [...lines];
    [ls[7], ls[8]] = [ls[8]!, ls[7]!];
    const rep = await verifyLines(ls);
    expect(rep.problems.map((p) => p.line)).toEqual([8, 8, 9, 9, 10]); // 10: its chain predecessor moved
    expect(rep.problems[1]!.message).toBe('seq gap: expected 8, found 9 (1 missing)');
    expect(rep.problems[3]!.message).toBe('seq out of order: expected 10, found 8');
  });

  it('detects a seq gap even when the hash chain is intact', async () => {
    let h = GENESIS;
    const ls = [1, 2, 4].map((seq) => {
      const l = lineAfter(h, seq, sampleEvent(seq));
      h = l.h;
      return l.line;
    });
    expect((await verifyLines(ls)).problems).toEqual([{ line: 3, message: 'seq gap: expected 3, found 4 (1 missing)' }]);
  });

  it('reports a schema-invalid line and an incomplete last line', async () => {
    const ls = [...lines];
    ls[4] = ls[4]!.replace('"scope":"entries"', '"scope":"some"');
    const f = `${t.dir}/edited2.jsonl`;
    writeFileSync(f, ls.map((l) => l + '\n').join('') + '{"seq":13,');
    const rep = await verify(f);
    expect(rep.problems).toEqual([
      { line: 5, message: expect.stringMatching(/^RiskHalted payload invalid: data\.scope/) },
      { line: 5, message: expect.stringMatching(/hash mismatch/) },
      { line: 13, message: expect.stringMatching(/incomplete last line/) },
    ]);
  });
});
