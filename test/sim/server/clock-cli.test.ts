import { SimClock } from '../../../src/core/clock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSimCommand } from '../../../src/cli/sim.js';
import { UsageError } from '../../../src/cli/command.js';
import { createMarket } from '../../../src/sim/market/market.js';
import { FakeMarket } from './support/fake-market.js';
import { type Sim, startFake } from './support/client.js';

let s: Sim | undefined;
afterEach(async () => {
  await s?.sim.close();
  s = undefined;
});

describe('clock driver', () => {
  it('keeps sim time inside the session: a start before the open waits at 09:15', async () => {
    s = await startFake({ start: '08:00' });
    expect(s.sim.state().simTimeIst).toBe('2024-01-02T09:15:00.000+05:30');
    await s.sim.advanceTo(s.market.closeMs + 3_600_000);
    expect(s.sim.state()).toMatchObject({ simTime: s.market.closeMs, sessionOver: true });
  });

  it('runs X× real time at speed X, and stops at the close at max', async () => {
    // The driver reads wall time through its clock: a test clock makes "X× real time" exact, not a timing race.
    const wall = new SimClock(Date.parse('2026-01-01T00:00:00Z'));
    s = await startFake({ speed: 600, wallClock: wall });
    const t0 = s.sim.now();
    const moved = async (): Promise<void> => {
      for (let i = 0; i < 200 && s!.sim.now() === t0; i++) await new Promise((r) => setTimeout(r, 5));
    };
    wall.advanceBy(200);
    await moved();
    expect(s.sim.now() - t0).toBe(200 * 600);
    s.sim.setSpeed(0);
    const paused = s.sim.now();
    wall.advanceBy(1000);
    await new Promise((r) => setTimeout(r, 30));
    expect(s.sim.now()).toBe(paused);
    s.sim.setSpeed('max');
    while (!s.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 5));
    expect(s.sim.now()).toBe(s.market.closeMs);
  });
});

describe('rustro sim', () => {
  it('prints its URLs and the demo credentials, and stops cleanly', async () => {
    const out: string[] = [];
    const cmd = makeSimCommand(({ seed }) => {
      expect(seed).toBe(5);
      return new FakeMarket();
    }, async () => 'test');
    const code = await cmd.main(['--port', '0', '--speed', '0', '--time', '10:30', '--seed', '5', '--fault', 'ack-delay=10'], { out: (l) => out.push(l), err: () => {} });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/sim time 10:30:00 IST/);
    expect(text).toMatch(/REST base\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(text).toMatch(/ws:\/\/127\.0\.0\.1:\d+\/smart-stream/);
    expect(text).toMatch(/ws:\/\/127\.0\.0\.1:\d+\/smart-order-update/);
    expect(text).toMatch(/OpenAPIScripMaster\.json/);
    expect(text).toMatch(/client code\s+SIM1001/);
    expect(text).toMatch(/PIN\s+1234/);
    expect(text).toMatch(/TOTP secret\s+JBSWY3DPEHPK3PXP/);
    expect(text).toMatch(/"ackDelayMs":10/);
  });

  it('refuses bad flags with a UsageError', async () => {
    const cmd = makeSimCommand(() => new FakeMarket(), async () => 'test');
    const io = { out: () => {}, err: () => {} };
    await expect(cmd.main(['--speed', 'fast'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(cmd.main(['--fault', 'bogus'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(cmd.main(['--date', '2024/01/02'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(cmd.main(['--days', '0'], io)).rejects.toBeInstanceOf(UsageError);
  });

  it('--days N replays consecutive trading days: each next day is built from the factory after a close', async () => {
    const out: string[] = [];
    const asked: (string | undefined)[] = [];
    const cmd = makeSimCommand(({ day, seed }) => {
      asked.push(day);
      return createMarket({ day: day!, seed });
    }, async () => 'test');
    const code = await cmd.main(['--port', '0', '--speed', '0', '--date', '2024-01-19', '--days', '3'], { out: (l) => out.push(l), err: () => {} });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/sessions 2024-01-19 \+ 2 more trading days/);
    expect(asked).toEqual(['2024-01-19']); // the next days are built when the nights before them begin
    await expect(cmd.main(['--port', '0', '--date', '2024-02-29', '--days', '2'], { out: () => {}, err: () => {} })).rejects.toThrow(/--days 2: .*only 1 bundled trading day/);
  });
});
