/**
 * Polls `pred` on real time, a few ms apart, until it holds; fails naming
 * `what` after `ms`. For loopback I/O, which needs milliseconds, never for
 * simulated time (move a SimClock instead).
 */
export async function waitFor(pred: () => boolean, what = 'condition', ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
