import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BrokerConnectError, Daemon } from '../app/daemon.js';
import { LockHeldError } from '../app/lock.js';
import { stopOnSignals } from '../app/signals.js';
import { daemonHealth, startWatchdog } from '../app/watchdog.js';
import { RealClock } from '../core/clock.js';
import { ConfigError, loadConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command, UsageError } from './command.js';

/** Where `rustro run` looks for its config when --config is not given. */
export function defaultConfigPath(): string | undefined {
  return existsSync('config.toml') ? 'config.toml' : undefined;
}

const run: Command = {
  summary: 'run the daemon (live or paper, per config) until SIGINT/SIGTERM',
  usage: 'usage: rustro run [--config FILE]   (default ./config.toml)',
  async main(args, io) {
    let values: { config?: string | undefined };
    try {
      ({ values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const file = values.config ?? defaultConfigPath();
    if (file === undefined) {
      io.err('rustro run: no config: pass --config FILE, or create ./config.toml (start from config.example.toml)');
      return EXIT_USAGE;
    }
    let loaded;
    try {
      loaded = loadConfig(file);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(err.message);
        return EXIT_USAGE;
      }
      throw err;
    }
    const { config, secrets } = loaded;
    const log = createLogger({ level: config.app.log_level, format: config.app.log_format });
    const signals = stopOnSignals({ timeoutSec: config.app.shutdown_timeout_sec, say: (l) => log.info(l) });
    const clock = new RealClock();
    let daemon: Daemon;
    try {
      daemon = await Daemon.start({ config, clock, log, ...(secrets === undefined ? {} : { secrets }) });
    } catch (err) {
      signals.detach();
      if (err instanceof LockHeldError || err instanceof BrokerConnectError) {
        io.err(`rustro run: ${err.message}`);
        return EXIT_FAILED;
      }
      throw err;
    }
    // Under systemd (Type=notify): READY once up, a watchdog heartbeat only while healthy, STOPPING on the way out.
    const watchdog = startWatchdog({ healthy: daemonHealth(daemon, { now: () => clock.now() }), clock, say: (level, line) => log[level](line) });
    daemon.bus.on('DaemonStopping', (e) => watchdog.stopping(e.data.reason), 'systemd watchdog');
    watchdog.ready(`running (${config.trading.enable_paper_trading ? 'paper' : 'live'})`);
    signals.attach(daemon);
    await daemon.stopped;
    watchdog.stop();
    signals.detach();
    return daemon.fatalError === undefined ? EXIT_OK : EXIT_FAILED;
  },
};
export default run;
