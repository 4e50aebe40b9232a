import type { SimSession } from '../../../src/app/sim-session.js';

/**
 * Plays a session started by `startSimSession` to the close at full speed (in
 * lock-step), then stops the daemon and the simulator: once the history is in
 * and the watchlist subscribed, as the demo does.
 */
export async function playToClose(s: SimSession, reason = 'test over'): Promise<void> {
  await s.daemon.marketReady;
  for (let i = 0; i < 500 && s.sim.state().subscriptions < 3; i++) await new Promise((r) => setTimeout(r, 2));
  s.sim.setSpeed('max');
  while (!s.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  await s.daemon.stop(reason);
  await s.sim.close();
}
