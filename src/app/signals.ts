/**
 * SIGINT/SIGTERM stop the daemon cleanly (stop entries, flush the ledger,
 * exit 0); SIGUSR1 is the kill switch (flatten, no more entries today). The handlers go in before the daemon starts: a signal that arrives
 * while it is still logging in is remembered and acted on as soon as the
 * daemon exists, instead of killing the process mid-start. If the stop takes
 * longer than the configured timeout the process exits anyway with 1, so
 * systemd never waits on a wedged shutdown.
 */
import type { Daemon } from './daemon.js';

export type SignalStop = {
  /** Hands over the started daemon; a signal that came earlier stops it now. */
  attach(daemon: Daemon): void;
  detach(): void;
};

export function stopOnSignals(opts: { timeoutSec: number; say: (line: string) => void; onSignal?: () => void }): SignalStop {
  let daemon: Daemon | undefined;
  let pending: NodeJS.Signals | undefined;
  let force: NodeJS.Timeout | undefined;
  // A real timer on purpose: it must fire even if the daemon (or its clock) is wedged.
  const armForceExit = (): void => {
    force ??= setTimeout(() => {
      opts.say(`shutdown took longer than ${opts.timeoutSec} s: exiting now`);
      process.exit(1);
    }, opts.timeoutSec * 1000).unref();
  };
  const stop = (d: Daemon, signal: NodeJS.Signals): void => {
    armForceExit();
    void d.stop(`signal ${signal}`).finally(() => clearTimeout(force));
  };
  const handler = (signal: NodeJS.Signals): void => {
    opts.onSignal?.();
    opts.say(`received ${signal}: stopping`);
    if (daemon !== undefined) return stop(daemon, signal);
    // Still starting (a login can hang on the network): stop as soon as it is up, or exit when the time is up.
    pending ??= signal;
    armForceExit();
  };
  // SIGUSR1 is the kill switch: flatten everything and stop entries for the day (the daemon keeps running).
  const kill = (): void => {
    opts.say('received SIGUSR1: kill switch — flattening and stopping entries for today');
    daemon?.kill('signal', 'SIGUSR1');
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGUSR1', kill);
  return {
    attach(d) {
      daemon = d;
      if (pending !== undefined) stop(d, pending);
    },
    detach() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('SIGUSR1', kill);
    },
  };
}
