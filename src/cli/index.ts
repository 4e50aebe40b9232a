/** `rustro <command> …`: finds the command module and hands over. */
import { EXIT_USAGE, type Command, type Io, UsageError, stdio } from './command.js';

// Lazy, so `rustro ledger verify` does not load the daemon's whole graph.
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).default,
  demo: async () => (await import('./demo.js')).default,
  config: async () => (await import('./config.js')).default,
  ledger: async () => (await import('./ledger.js')).default,
  feed: async () => (await import('./feed.js')).default,
  sim: async () => (await import('./sim.js')).default,
  instruments: async () => (await import('./instruments.js')).default,
  data: async () => (await import('./data.js')).default,
  status: async () => (await import('./status.js')).default,
  backtest: async () => (await import('./backtest.js')).default,
  reconcile: async () => (await import('./reconcile.js')).default,
};

export async function runCli(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out('usage: rustro <command> [options]\n');
    for (const [n, load] of Object.entries(commands)) {
      const c = await load();
      io.out(`  ${n.padEnd(12)} ${c.summary}`);
    }
    return name === undefined ? EXIT_USAGE : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    io.err(`rustro: unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})`);
    return EXIT_USAGE;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.usage);
    return 0;
  }
  try {
    return await cmd.main(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`rustro ${name}: ${err.message}\n${cmd.usage}`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
