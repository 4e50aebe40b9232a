/**
 * The config schema: every key Rustro reads from its TOML file, with its
 * default and what it accepts. One zod schema; every key has a default, so an
 * empty file is a valid config. Keys are snake_case here exactly as in TOML.
 *
 * Each field carries its own "expected …" text (type, allowed values, range
 * with unit), which the loader prints verbatim next to the key path and the
 * value found. A new key is added here, documented in `config.example.toml`,
 * and nowhere else.
 */
import { z } from 'zod';

/** An integer in [min, max]; `unit` is printed after the range ("ms", "seconds"). */
function intIn(min: number, max: number, unit?: string) {
  const error = `an integer from ${min} to ${max}${unit === undefined ? '' : ` (${unit})`}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}

const bool = () => z.boolean({ error: 'true or false' });

/** A TOML table whose keys all have defaults (so a missing table is `{}`, filled in); unknown keys are errors. */
function table<S extends z.core.$ZodLooseShape>(shape: S) {
  // `{}` is a valid input because every key has a default; TS cannot see that through the generic.
  return z.strictObject(shape, { error: 'a table' }).prefault({} as never);
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export const configSchema = z.strictObject(
  {
    app: table({
      /** ledger/, bars/, instruments/ and the lock file live here; relative → against the config file's dir. */
      data_dir: z.string({ error: 'a directory path (string)' }).min(1, { error: 'a non-empty directory path' }).default('data'),
      log_level: oneOf(LOG_LEVELS).default('info'),
      log_format: oneOf(LOG_FORMATS).default('auto'),
      shutdown_timeout_sec: intIn(1, 300, 'seconds').default(20),
    }),
    trading: table({
      enable_paper_trading: bool().default(true),
    }),
    ledger: table({
      group_commit_ms: intIn(1, 1000, 'milliseconds').default(5),
      group_commit_events: intIn(1, 100_000, 'events').default(1000),
    }),
    broker: table({
      /** "" = no secrets file; relative → against the config file's dir. */
      secrets_file: z.string({ error: 'a file path (string), or "" for none' }).default(''),
    }),
  },
  { error: 'a table' },
);

export type Config = z.infer<typeof configSchema>;
