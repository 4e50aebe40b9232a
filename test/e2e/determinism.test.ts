/**
 * A paper session against the simulator at full speed is deterministic: the
 * replay moves in lock-step with the daemon, so two runs of the same day and
 * seed write the same ledger, event for event (the process id aside).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimSession } from '../../src/app/sim-session.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/log.js';
import { playToClose } from './support/sim-day.js';

const DAY = '2024-02-21';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-determinism-'));
  dirs.push(dir);
  const s = await startSimSession({
    config: defaultConfig(), dataDir: join(dir, 'data'), day: DAY, seed: 9,
    log: silentLogger(),
  });
  await playToClose(s);
  // The pid and the (temporary) data dir differ between runs by construction; everything else must not.
  return readFileSync(join(dir, 'data', 'ledger', `${DAY}.jsonl`), 'utf8').trim().split('\n')
    .map((l) => l.replace(/"pid":\d+/, '"pid":0').replaceAll(dir, '<dir>').replace(/"h":"[0-9a-f]+"/, '"h":""'));
}

describe('determinism', () => {
  it('two paper sessions of the same day and seed write the same ledger', async () => {
    const a = await run();
    const b = await run();
    expect(a.filter((l) => l.includes('"OrderFilled"')).length).toBeGreaterThanOrEqual(2);
    expect(b).toEqual(a);
  }, 120_000);
});
