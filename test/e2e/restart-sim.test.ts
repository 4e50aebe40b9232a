/**
 * A restart the same day: the daemon reads today's ledger back through its
 * books before it connects, so it knows its open positions and its halts —
 * a kill switch pulled before the restart still holds after it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimSession } from '../../src/app/sim-session.js';
import { type Config, defaultConfig } from '../../src/core/config.js';
import type { RustroEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/log.js';
import { openQty } from '../../src/trading/positions.js';

const DAY = '2024-02-21';
const dir = mkdtempSync(join(tmpdir(), 'rustro-restart-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = () => silentLogger();
const noFlatten = (c: Config): Config => ({ ...c, trading: { ...c.trading, flatten_on_shutdown: false } });
const ledger = (): RustroEvent[] => readFileSync(join(dir, 'ledger', `${DAY}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RustroEvent);

describe('restart the same day', () => {
  it('knows its open position and its kill switch again, and makes no entry after the restart', async () => {
    // Run 1: trade until a position is open, then stop without flattening.
    const one = await startSimSession({ config: noFlatten(defaultConfig()), dataDir: dir, day: DAY, seed: 4, log: quiet() });
    await one.daemon.marketReady;
    for (let i = 0; i < 500 && one.sim.state().subscriptions < 3; i++) await new Promise((r) => setTimeout(r, 2));
    one.sim.setSpeed('max');
    while (!(one.daemon.trading?.desk.positions.open().some((p) => openQty(p) > 0) ?? false) && !one.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 2));
    one.sim.setSpeed(0);
    const held = one.daemon.trading!.desk.positions.open().filter((p) => openQty(p) > 0).map((p) => p.id);
    expect(held).toHaveLength(1);
    await one.daemon.stop('restart test: stop 1');
    await one.sim.close();

    // Run 2: the position is known again.
    const two = await startSimSession({ config: noFlatten(defaultConfig()), dataDir: dir, day: DAY, seed: 4, log: quiet() });
    const restored = ledger().filter((e) => e.type === 'StateRestored').at(-1);
    expect(restored?.data).toMatchObject({ openPositions: 1, halted: false });
    expect(two.daemon.trading!.desk.positions.open().map((p) => p.id)).toEqual(held);
    two.daemon.kill('signal', 'restart test');
    await new Promise((r) => setTimeout(r, 50));
    await two.daemon.stop('restart test: stop 2');
    await two.sim.close();

    // Run 3: the kill switch still holds today; the whole day replays without a single entry.
    const before = ledger().length;
    const three = await startSimSession({ config: defaultConfig(), dataDir: dir, day: DAY, seed: 4, log: quiet() });
    await three.daemon.marketReady;
    expect(three.daemon.trading!.desk.risk.killed(three.sim.now())).toBe(true);
    for (let i = 0; i < 500 && three.sim.state().subscriptions < 3; i++) await new Promise((r) => setTimeout(r, 2));
    three.sim.setSpeed('max');
    while (!three.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 20));
    await three.daemon.stop('restart test: stop 3');
    await three.sim.close();
    const after = ledger().slice(before);
    expect(after.find((e) => e.type === 'StateRestored')?.data).toMatchObject({ halted: true });
    // The strategy sees the halt too: its evaluations name it.
    const evals = after.flatMap((e) => (e.type === 'StrategyEvaluated' && e.data.outcome !== 'not_warm' ? [e.data] : []));
    expect(evals.length).toBeGreaterThan(0);
    expect(evals.every((e) => e.failed.includes('risk_not_halted'))).toBe(true);
    expect(after.filter((e) => e.type === 'OrderIntentRecorded' && e.data.purpose === 'entry')).toEqual([]);
  }, 120_000);
});
