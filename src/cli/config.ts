/** `rustro config check [FILE] [--no-secrets]`: validate a config and print the effective values. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, maskedConfig } from '../core/config.js';
import { EXIT_OK, EXIT_USAGE, type Command, type Io, UsageError } from './command.js';

const usage = `usage: rustro config check [FILE] [--no-secrets]

  Checks FILE (default: config.toml if it exists, else config.example.toml)
  and the secrets, prints every problem (exit 2) or the effective config with
  secrets masked (exit 0).

  --no-secrets   do not require the secrets (for checking a config on a
                 machine that does not have them)`;

export type ConfigCommandOptions = {
  /** Where secrets are read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where the default FILE is looked for; default `process.cwd()`. */
  cwd?: () => string;
};

export function createConfigCommand(opts: ConfigCommandOptions = {}): Command {
  const cwd = opts.cwd ?? (() => process.cwd());
  return {
    summary: 'validate a config file and print the effective values',
    usage,
    async main(args: string[], io: Io): Promise<number> {
      const [sub, ...rest] = args;
      if (sub === undefined) throw new UsageError('missing subcommand (expected: check)');
      if (sub !== 'check') throw new UsageError(`unknown subcommand '${sub}' (expected: check)`);

      let requireSecrets = true;
      const files: string[] = [];
      for (const arg of rest) {
        if (arg === '--no-secrets') requireSecrets = false;
        else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        else files.push(arg);
      }
      if (files.length > 1) throw new UsageError(`expected at most one FILE, got ${files.length}: ${files.join(' ')}`);

      let file = files[0];
      let note = '';
      if (file === undefined) {
        const dir = cwd();
        if (existsSync(join(dir, 'config.toml'))) {
          file = join(dir, 'config.toml');
          note = ' (no FILE given: using config.toml)';
        } else if (existsSync(join(dir, 'config.example.toml'))) {
          file = join(dir, 'config.example.toml');
          note = ' (no FILE given and no config.toml: using config.example.toml)';
        } else {
          io.err(`rustro config check: no FILE given, and neither config.toml nor config.example.toml is in ${dir}`);
          return EXIT_USAGE;
        }
      }

      try {
        const loaded = loadConfig(file, { env: opts.env ?? process.env, requireSecrets });
        io.out(`# ${loaded.file}: valid${note}${requireSecrets ? '' : ' (secrets not required: --no-secrets)'}`);
        for (const line of maskedConfig(loaded.config, loaded.secrets).trimEnd().split('\n')) io.out(line);
        return EXIT_OK;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (note !== '') io.err(`rustro config check: ${file}${note}`);
        for (const line of err.message.split('\n')) io.err(line);
        const n = err.issues.length;
        io.err(`rustro config check: ${n} problem${n === 1 ? '' : 's'}; ${file} is not a valid config`);
        return EXIT_USAGE;
      }
    },
  };
}

export default createConfigCommand();
