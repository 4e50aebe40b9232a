import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import command from '../../src/cli/ledger.js';
import { UsageError } from '../../src/cli/command.js';
import { Ledger } from '../../src/core/ledger.js';
import { opts, sampleEvents, tempDir } from '../fixtures/ledger/events.js';
import { runCommand } from '../support/cli.js';

const t = tempDir();
let file: string;
beforeAll(async () => {
  const led = await Ledger.open(join(t.dir, 'ledger'), opts);
  for (const e of sampleEvents(14)) void led.append(e); // 09:15:00 .. 09:15:13 IST on 2024-01-02
  await led.close();
  file = led.currentFile()!;
});
afterAll(() => t.cleanup());

const run = (...args: string[]) => runCommand(command, ...args);

describe('rustro ledger', () => {
  it('verify: OK and exit 0 for the newest file under --data-dir', async () => {
    const r = await run('verify', '--data-dir', t.dir);
    expect(r).toEqual({ code: 0, out: ['OK 2024-01-02.jsonl: 14 lines, seq 1..14'], err: [] });
  });

  it('verify: each problem as "line N: message" and exit 1', async () => {
    const bad = join(t.dir, 'bad.jsonl');
    const ls = readFileSync(file, 'utf8').split('\n');
    ls[3] = ls[3]!.replace('"error":"boom', '"error":"BOOM');
    writeFileSync(bad, ls.join('\n'));
    const r = await run('verify', bad);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([expect.stringMatching(/^line 4: hash mismatch/), 'FAILED bad.jsonl: 1 problem(s) in 14 lines']);
  });

  it('stats: lines, seq and IST time range, counts per type, size', async () => {
    const r = await run('stats', file);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain('lines  14');
    expect(text).toContain('seq    1..14');
    expect(text).toContain('time   2024-01-02 09:15:00.000 .. 2024-01-02 09:15:13.000 IST');
    expect(text).toContain(`size   ${readFileSync(file).length.toLocaleString('en-US')} bytes`);
    expect(text).toMatch(/DaemonStarted\s+3\n/);
    expect(text).toMatch(/OrderIntentRecorded\s+3\n/);
    expect(text).toMatch(/DaemonStopping\s+2(\n|$)/);
  });

  it('tail: the last N lines with IST time, seq, type and payload', async () => {
    const r = await run('tail', '-n', '2', '--data-dir', t.dir);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      '2024-01-02 09:15:12.000  #13  DaemonStarted  {"mode":"paper","pid":1012,"version":"0.1.0","dataDir":"data"}',
      expect.stringMatching(/^2024-01-02 09:15:13\.000 {2}#14 {2}OrderIntentRecorded {2}\{"intentId":"i-13",/),
    ]);
    expect((await run('tail', '--data-dir', t.dir)).out).toHaveLength(14); // default 20, file has 14
  });

  it('replay: every record as one JSON line', async () => {
    const r = await run('replay', file);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(14);
    expect(r.out.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(r.out).toEqual(readFileSync(file, 'utf8').split('\n').slice(0, -1)); // same canonical form as on disk
  });

  it('a missing file or no ledger: clear message, exit 1', async () => {
    expect(await run('stats', join(t.dir, 'nope.jsonl'))).toEqual({ code: 1, out: [], err: [expect.stringMatching(/no such ledger file: .*nope\.jsonl/)] });
    expect(await run('verify', '--data-dir', join(t.dir, 'empty'))).toEqual({ code: 1, out: [], err: [expect.stringMatching(/no ledger: no YYYY-MM-DD\.jsonl files in .*empty\/ledger/)] });
  });

  it('a bad subcommand or option is a UsageError', async () => {
    await expect(run('frobnicate')).rejects.toThrow(UsageError);
    await expect(run()).rejects.toThrow(UsageError);
    await expect(run('tail', '-n', 'x')).rejects.toThrow(UsageError);
    await expect(run('stats', '--bogus')).rejects.toThrow(UsageError);
  });
});

describe('rustro ledger verify --all', () => {
  it('checks every day file and that seq runs on across them; a lost day file shows as a gap', async () => {
    const d = tempDir();
    try {
      const led = await Ledger.open(join(d.dir, 'ledger'), opts);
      const day = 86_400_000;
      const t0 = Date.parse('2024-01-02T09:15:00+05:30');
      for (let k = 0; k < 3; k++) for (const e of sampleEvents(4, t0 + k * day)) void led.append(e);
      await led.close();
      const ok = await runCommand(command, 'verify', '--all', '--data-dir', d.dir);
      expect(ok.code).toBe(0);
      expect(ok.out).toEqual([
        'OK 2024-01-02.jsonl: 4 lines, seq 1..4',
        'OK 2024-01-03.jsonl: 4 lines, seq 5..8',
        'OK 2024-01-04.jsonl: 4 lines, seq 9..12',
      ]);
      rmSync(join(d.dir, 'ledger', '2024-01-03.jsonl'));
      const gap = await runCommand(command, 'verify', '--all', '--data-dir', d.dir);
      expect(gap.code).toBe(1);
      expect(gap.out).toContain('seq gap: 2024-01-02.jsonl ends at 4, 2024-01-04.jsonl starts at 9');
    } finally {
      d.cleanup();
    }
  });

  it('goes with verify and no FILE only', async () => {
    await expect(run('stats', '--all')).rejects.toThrow(UsageError);
  });
});
