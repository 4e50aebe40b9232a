import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger, ledgerFiles, replay, verify, type LedgerRecord } from '../../src/core/ledger.js';
import { opts, tempDir } from '../fixtures/ledger/events.js';

const child = fileURLToPath(new URL('../fixtures/ledger/append-durable-child.ts', import.meta.url));
const t = tempDir();
afterAll(() => t.cleanup());

/** Runs the child until it reports "appended <seq>", then SIGKILLs it; resolves with that seq. */
function appendThenKill(dir: string, tag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seq: number | undefined;
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /appended (\d+)\n/.exec(out);
      if (m !== null && seq === undefined) {
        seq = Number(m[1]);
        p.kill('SIGKILL');
      }
    });
    p.on('exit', (code, signal) => {
      if (seq !== undefined && signal === 'SIGKILL') resolve(seq);
      else reject(new Error(`child exited ${code ?? signal} before appending: ${err}`));
    });
  });
}

describe('a durable append survives SIGKILL', () => {
  it('is on disk, with the lines appended before it, after the process is killed', async () => {
    for (let run = 1; run <= 4; run++) {
      const seq = await appendThenKill(t.dir, `run${run}`);
      expect(seq).toBe(run * 4); // 3 group-committed + 1 durable per run; seq continues across kills
      const recs: LedgerRecord[] = [];
      for (const f of ledgerFiles(t.dir)) for await (const r of replay(f)) recs.push(r);
      const last = recs.at(-1)!;
      expect(last).toMatchObject({ seq, type: 'OrderFilled', data: { intentId: `run${run}` } });
      expect(recs.slice(-4, -1).map((r) => r.data)).toEqual([0, 1, 2].map((i) => ({ reason: `run${run}-pre${i}` })));
      for (const f of ledgerFiles(t.dir)) expect((await verify(f)).problems).toEqual([]);
    }
    const led = await Ledger.open(t.dir, opts);
    expect(led.lastSeq).toBe(16);
    expect(led.repairs).toEqual([]);
    await led.close();
  }, 60_000);
});
