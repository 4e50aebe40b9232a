/**
 * The daemon in its own process, for the kill-anywhere harness
 * (kill-anywhere.ts), which SIGKILLs it at will. Forked with an IPC channel;
 * it runs `Daemon.start` exactly as `rustro run` does, in live mode against
 * the harness's simulator, with one difference: market time is a `SimClock`
 * the harness moves over IPC, in lock-step with the simulator.
 *
 * The step protocol makes a run repeatable: the harness sends
 * `{ step: t, frames, orderMessages, next }` once the simulator has moved to
 * `t` and sent that many market frames and order-status messages since this
 * process started. This process waits until it has read them all and the
 * daemon is idle, then moves its clock on to `next` — where the simulator's
 * next step will take the market — firing the market-time timers due, waits
 * until the daemon is idle again, and answers `{ acked: t }`. So, as with a
 * daemon in the simulator's own process, the clock is at the step's end
 * before its frames arrive and its timers fire first; every frame is handled
 * at the same market time in every run, and the simulator never moves on
 * while the daemon works.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { BrokerLink } from '../../../src/app/broker-link.js';
import { Daemon } from '../../../src/app/daemon.js';
import { RealClock, SimClock } from '../../../src/core/clock.js';
import type { Config } from '../../../src/core/config.js';
import { createLogger } from '../../../src/core/log.js';
import { demoAccountSecrets } from '../../../src/sim/server/auth.js';

export type ChildInit = { config: Config; now: number };
export type ToChild = { step: number; frames: number; orderMessages: number; next: number } | { stop: true };
export type FromChild = { ready: true } | { acked: number; frames: number; orderMessages: number } | { failed: string };

const send = (m: FromChild): void => void process.send!(m);

/** Resolves once `done()` holds, looking again after each turn of the event loop (the daemon's I/O runs in between). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r));
}

async function main(init: ChildInit): Promise<void> {
  const clock = new SimClock(init.now);
  const log = createLogger({ level: 'info', format: 'json', destination: createWriteStream(join(init.config.app.data_dir, 'daemon.log'), { flags: 'a' }), isTty: false });
  const daemon = await Daemon.start({ config: init.config, clock, ioClock: new RealClock(), log, secrets: demoAccountSecrets() });
  const link = daemon.broker as BrokerLink;
  const frames = (): number => link.feed.counters.frames;
  const orderMessages = (): number => link.broker.orderUpdates.stats.messages;
  await daemon.marketReady;
  await until(() => link.broker.orderUpdates.connected);
  send({ ready: true });

  // Two quiet turns in a row: work a timer or a frame started has settled, including what it set off.
  const settled = async (): Promise<void> => {
    await until(() => !daemon.busy);
    await new Promise((r) => setImmediate(r));
    await until(() => !daemon.busy);
  };
  let queue = Promise.resolve();
  process.on('message', (m: ToChild) => {
    if ('stop' in m) {
      queue = queue.then(async () => {
        await daemon.stop('kill-anywhere: the run is over');
        process.exit(0);
      });
      return;
    }
    queue = queue.then(async () => {
      await until(() => frames() >= m.frames && orderMessages() >= m.orderMessages);
      await settled();
      clock.advanceTo(Math.max(clock.now(), m.next));
      await settled();
      send({ acked: m.step, frames: m.frames, orderMessages: m.orderMessages });
    });
  });
}

process.once('message', (init: ChildInit) => {
  main(init).catch((err: unknown) => {
    send({ failed: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exit(1);
  });
});
