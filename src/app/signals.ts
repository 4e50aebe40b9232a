/**
 * SIGINT/SIGTERM stop the daemon cleanly (stop entries, flush the ledger,
 * exit 0). If the stop takes longer than the configured timeout the process
 * exits anyway with 1, so systemd never waits on a wedged shutdown.
 */
import type { Daemon } from './daemon.js';

export function stopOnSignals(daemon: Daemon, opts: { timeoutSec: number; say: (line: string) => void; onSignal?: () => void }): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    opts.onSignal?.();
    opts.say(`received ${signal}: stopping`);
    const force = setTimeout(() => {
      opts.say(`shutdown took longer than ${opts.timeoutSec} s: exiting now`);
      process.exit(1);
    }, opts.timeoutSec * 1000);
    force.unref();
    void daemon.stop(`signal ${signal}`).finally(() => clearTimeout(force));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
