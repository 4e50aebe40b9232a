/**
 * Loads and checks the config: TOML (smol-toml) → one zod schema
 * (`config-schema.ts`) → a typed `Config`, plus the secrets from the
 * environment or the secrets file (`secrets.ts`).
 *
 * Every problem is reported, all at once, as `<file>: <path>: expected …,
 * found …`: unknown keys (with a "did you mean"), wrong types, values out of
 * range, TOML syntax errors (line and column), secrets placed in the config
 * file, missing secrets, a secrets file others can read. No message ever
 * contains a secret value.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, stringify, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, type Config } from './config-schema.js';
import { fsReason, loadSecrets, SECRET_ENV, SECRET_ENV_VARS, SECRET_FILE_KEYS, SECRET_NAMES, type Secrets } from './secrets.js';

export { configSchema, type Config } from './config-schema.js';

/**
 * One problem. `file` is set when the problem is in another file than the
 * config (the secrets file, or `environment`); `path` is '' for a problem
 * with the whole file.
 */
export type ConfigIssue = { path: string; found: string; expected: string; file?: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    super(issues.map((i) => formatIssue(file, i)).join('\n'));
    this.file = file;
    this.issues = issues;
  }
}

/** `<file>: <path>: expected <expected>, found <found>` */
export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.file ?? file;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}: ${path}expected ${issue.expected}, found ${issue.found}`;
}

/** The defaults: what an empty config file gives. Paths are as written (`data_dir` = "data"), not resolved. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

/**
 * Parses and checks config text. No fs access; relative paths (`data_dir`,
 * `secrets_file`) are resolved against the directory of `file`.
 * Throws `ConfigError` listing every problem.
 */
export function parseConfig(text: string, file: string): Config {
  const { config, issues } = checkConfig(text, file);
  if (config === undefined || issues.length > 0) throw new ConfigError(file, issues);
  return config;
}

export type LoadOptions = {
  /** Where secrets are read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Default true: every secret must be present. False (`config check
   * --no-secrets`): missing secrets, and a `secrets_file` that does not
   * exist, are not errors; secrets that are present are still checked.
   */
  requireSecrets?: boolean;
};

/**
 * Reads `file`, checks it and gathers the secrets. Config and secret problems
 * are reported together in one `ConfigError`. `secrets` is undefined only
 * when `requireSecrets` is false and not all four are present. The returned
 * `file` is absolute.
 */
export function loadConfig(
  file: string,
  opts: LoadOptions = {},
): { config: Config; secrets: Secrets | undefined; file: string } {
  const env = opts.env ?? process.env;
  const requireSecrets = opts.requireSecrets ?? true;
  const absFile = resolve(file);

  let text: string;
  try {
    text = readFileSync(absFile, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', expected: 'a readable config file', found: fsReason(err) }]);
  }

  const checked = checkConfig(text, file);
  const issues = [...checked.issues];
  let secrets: Secrets | undefined;
  // Secrets are checked even when the config has other problems, so one run shows everything;
  // only when the TOML is unreadable or `secrets_file` itself is bad is there nothing to go on.
  const secretsFile = checked.config?.broker.secrets_file ?? rawSecretsFile(checked.raw, absFile);
  if (secretsFile !== undefined) {
    const loaded = loadSecrets({ env, secretsFile, configFile: file, requireSecrets });
    issues.push(...loaded.issues);
    secrets = loaded.secrets;
  }
  if (checked.config === undefined || issues.length > 0) throw new ConfigError(file, issues);
  return { config: checked.config, secrets, file: absFile };
}

/**
 * The effective config as TOML, for `config check`. Secrets are never in it:
 * they are listed as comments, `***`, each with where it came from.
 * The text parses back to the same config.
 */
export function maskedConfig(config: Config, secrets?: Secrets): string {
  const lines = [stringify(config).trimEnd(), '', '# secrets (never in this file: from the environment or broker.secrets_file)'];
  const width = Math.max(...SECRET_NAMES.map((n) => SECRET_FILE_KEYS[n].length));
  for (const name of SECRET_NAMES) {
    const key = SECRET_FILE_KEYS[name].padEnd(width);
    const secret = secrets?.[name];
    lines.push(secret === undefined ? `# ${key} = (not loaded)` : `# ${key} = "***"  from ${secret.source}`);
  }
  return lines.join('\n') + '\n';
}

// ── checking ───────────────────────────────────────────────────────────────

type Checked = { config: Config | undefined; raw: Record<string, unknown> | undefined; issues: ConfigIssue[] };

function checkConfig(text: string, file: string): Checked {
  let raw: Record<string, unknown>;
  try {
    raw = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // First line only: the code block after it could show a secret someone pasted into the file.
    const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
    return {
      config: undefined,
      raw: undefined,
      issues: [{ path: `line ${err.line}, column ${err.column}`, expected: 'valid TOML', found: `a syntax error: ${reason}` }],
    };
  }

  const result = configSchema.safeParse(raw);
  if (result.success) {
    const base = dirname(resolve(file));
    const config = result.data;
    config.app.data_dir = resolve(base, config.app.data_dir);
    if (config.broker.secrets_file !== '') config.broker.secrets_file = resolve(base, config.broker.secrets_file);
    return { config, raw, issues: [] };
  }
  const issues = result.error.issues.flatMap((issue) => describeIssue(issue, raw));
  issues.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { config: undefined, raw, issues };
}

/** `broker.secrets_file` from a config that failed elsewhere; undefined when it is itself unusable. */
function rawSecretsFile(raw: Record<string, unknown> | undefined, absFile: string): string | undefined {
  if (raw === undefined) return undefined;
  const broker = raw['broker'];
  if (broker === undefined) return '';
  if (!isTable(broker)) return undefined;
  const value = broker['secrets_file'];
  if (value === undefined || value === '') return '';
  return typeof value === 'string' ? resolve(dirname(absFile), value) : undefined;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.flatMap((key) => unknownKey([...issue.path, key], raw));
  }
  const given = valueAt(raw, issue.path);
  // A cross-key check can fail on a key left at its default: show the default rather than "nothing".
  const dflt = issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  const found = given === undefined && dflt !== undefined ? `${describeValue(dflt)} (the default)` : describeValue(given);
  return [{ path: formatPath(issue.path), expected: issue.message, found }];
}

/** Key names that mean someone is putting a secret in the config file. Compared lowercased, without `_`/`-`. */
const SECRET_LIKE = new Map<string, string | undefined>([
  ['secrets', undefined], ['secret', undefined], ['credentials', undefined],
  ['apikey', SECRET_ENV.apiKey], ['clientcode', SECRET_ENV.clientCode], ['clientid', SECRET_ENV.clientCode],
  ['pin', SECRET_ENV.pin], ['mpin', SECRET_ENV.pin], ['password', SECRET_ENV.pin],
  ['totp', SECRET_ENV.totpSecret], ['totpsecret', SECRET_ENV.totpSecret], ['totpkey', SECRET_ENV.totpSecret],
]);

function unknownKey(path: PropertyKey[], raw: unknown): ConfigIssue[] {
  const key = String(path[path.length - 1]);
  const value = valueAt(raw, path);
  const secretLike = SECRET_LIKE.has(normalizeKey(key));
  if (secretLike) {
    const envVar = SECRET_LIKE.get(normalizeKey(key));
    const where =
      envVar === undefined
        ? `the environment (${SECRET_ENV_VARS.join(', ')})`
        : `the environment (${envVar})`;
    return [{
      path: formatPath(path),
      expected: `no secrets in the config file: put them in ${where} or in a secrets file named by broker.secrets_file`,
      found: isTable(value) ? 'a table (contents not shown)' : 'a value (not shown)',
    }];
  }

  const parent = path.slice(0, -1);
  const known = knownKeys(parent);
  const where = parent.length === 0 ? 'a known table' : `a key of [${formatPath(parent)}]`;
  const listed = parent.length === 0 ? known.map((k) => `[${k}]`) : known;
  const hint = suggest(key, parent, known);
  const issues: ConfigIssue[] = [{
    path: formatPath(path),
    expected: `${where}${hint === undefined ? '' : `, did you mean ${hint}?`} (known: ${listed.join(', ')})`,
    found: isTable(value)
      ? `an unknown table${Object.keys(value).length === 0 ? '' : ` with keys ${truncate(Object.keys(value).join(', '))}`}`
      : `an unknown key set to ${describeValue(value)}`,
  }];
  // An unknown table may still hide a secret; that deserves its own, louder line.
  if (isTable(value)) {
    for (const inner of Object.keys(value)) {
      if (SECRET_LIKE.has(normalizeKey(inner))) issues.push(...unknownKey([...path, inner], raw));
    }
  }
  return issues;
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function suggest(key: string, parent: PropertyKey[], known: string[]): string | undefined {
  // The right key in the wrong table (e.g. `group_commit_ms` under [app], or above every header).
  for (const full of leafPaths()) {
    const last = full[full.length - 1];
    if (last === key && formatPath(full.slice(0, -1)) !== formatPath(parent)) {
      return `${formatPath(full)} (in [${formatPath(full.slice(0, -1))}])`;
    }
  }
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best === undefined ? undefined : parent.length === 0 ? `[${best.key}]` : best.key;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// ── walking the schema ─────────────────────────────────────────────────────

type Def = { type: string; innerType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType> };

function defOf(schema: z.core.$ZodType): Def {
  return schema._zod.def as unknown as Def;
}

/** The object schema at `path`, past any default/prefault/optional wrappers. */
function objectAt(path: PropertyKey[]): Record<string, z.core.$ZodType> | undefined {
  let schema: z.core.$ZodType | undefined = configSchema;
  for (let i = 0; ; i++) {
    while (schema !== undefined && defOf(schema).innerType !== undefined && defOf(schema).type !== 'object') {
      schema = defOf(schema).innerType;
    }
    if (schema === undefined) return undefined;
    const shape: Record<string, z.core.$ZodType> | undefined = defOf(schema).shape;
    if (shape === undefined) return undefined;
    if (i === path.length) return shape;
    schema = shape[String(path[i])];
  }
}

function knownKeys(path: PropertyKey[]): string[] {
  return Object.keys(objectAt(path) ?? {});
}

function leafPaths(prefix: PropertyKey[] = []): PropertyKey[][] {
  return knownKeys(prefix).flatMap((key) => {
    const path = [...prefix, key];
    return objectAt(path) === undefined ? [path] : leafPaths(path);
  });
}

// ── describing values ──────────────────────────────────────────────────────

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc === '' ? String(seg) : `${acc}.${String(seg)}`), '');
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let value = raw;
  for (const seg of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[seg];
  }
  return value;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const MAX_FOUND = 60;

/** A value as it would read in TOML, truncated if long. Tables show their keys only. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isTable(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty table' : truncate(`a table with keys ${keys.join(', ')}`);
  }
  return truncate(tomlish(value));
}

function tomlish(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map((v) => (isTable(v) ? '{…}' : tomlish(v))).join(', ')}]`;
  return String(value);
}

function truncate(text: string): string {
  return text.length <= MAX_FOUND ? text : `${text.slice(0, MAX_FOUND - 1)}… (${text.length} chars)`;
}
