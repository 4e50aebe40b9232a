/**
 * Secrets: the SmartAPI API key, client code, PIN/MPIN and TOTP secret.
 *
 * They never live in the config file. They come from the environment
 * (`RUSTRO_API_KEY`, …) or from a TOML secrets file named by
 * `broker.secrets_file` that only its owner may read; the environment wins per
 * key. Each value is wrapped in a `Secret`, which prints as `***` however it
 * is stringified (String, template, JSON, util.inspect), so a stray log line
 * cannot leak it; `reveal()` is the one way to get the text. No error built
 * here ever contains a secret value.
 */
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { parse, TomlError } from 'smol-toml';
import type { ConfigIssue } from './config.js';

const MASK = '***';

export class Secret {
  readonly #value: string;
  /** Where the value came from, e.g. `env RUSTRO_API_KEY` or `file /etc/rustro/secrets.toml`. Never the value. */
  readonly source: string;

  constructor(value: string, source = 'code') {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

export type Secrets = { apiKey: Secret; clientCode: Secret; pin: Secret; totpSecret: Secret };
export type SecretName = keyof Secrets;

export const SECRET_NAMES: readonly SecretName[] = ['apiKey', 'clientCode', 'pin', 'totpSecret'];

/** Environment variable per secret. */
export const SECRET_ENV: Readonly<Record<SecretName, string>> = {
  apiKey: 'RUSTRO_API_KEY',
  clientCode: 'RUSTRO_CLIENT_CODE',
  pin: 'RUSTRO_PIN',
  totpSecret: 'RUSTRO_TOTP_SECRET',
};
export const SECRET_ENV_VARS: readonly string[] = SECRET_NAMES.map((n) => SECRET_ENV[n]);

/** Key per secret in the secrets file. */
export const SECRET_FILE_KEYS: Readonly<Record<SecretName, string>> = {
  apiKey: 'api_key',
  clientCode: 'client_code',
  pin: 'pin',
  totpSecret: 'totp_secret',
};

const DESCRIPTION: Record<SecretName, string> = {
  apiKey: 'the SmartAPI API key',
  clientCode: 'the Angel One client code',
  pin: 'the login PIN/MPIN',
  totpSecret: 'the TOTP secret (base32)',
};

/** Every secret's plain text, for tests and log redaction. */
export function secretValues(secrets: Secrets): string[] {
  return SECRET_NAMES.map((n) => secrets[n].reveal());
}

/** Base32 (RFC 4648): A–Z, 2–7, optional `=` padding; case-insensitive, spaces ignored. */
export function isBase32(text: string): boolean {
  return /^[A-Z2-7]+=*$/.test(normalizeBase32(text));
}

function normalizeBase32(text: string): string {
  return text.replace(/\s+/g, '').toUpperCase();
}

export type LoadSecretsOptions = {
  env: NodeJS.ProcessEnv;
  /** Absolute path of the secrets file, or '' for none. */
  secretsFile: string;
  /** Names the config file in issues that belong to it (missing secrets, `broker.secrets_file`). */
  configFile: string;
  /** Missing secrets are issues; also a nonexistent secrets file is. */
  requireSecrets: boolean;
};

/**
 * Gathers the four secrets from `env` and the secrets file. Returns them only
 * when all four are present and valid; every problem is returned as an issue,
 * none is thrown.
 */
export function loadSecrets(opts: LoadSecretsOptions): { secrets: Secrets | undefined; issues: ConfigIssue[] } {
  const { env, secretsFile, configFile, requireSecrets } = opts;
  const issues: ConfigIssue[] = [];
  let fileValues: Partial<Record<SecretName, string>> = {};
  let fileFailed = false;

  if (secretsFile !== '') {
    const read = readSecretsFile(secretsFile, configFile, requireSecrets);
    issues.push(...read.issues);
    fileFailed = read.failed;
    fileValues = read.values;
  }

  const found: Partial<Record<SecretName, Secret>> = {};
  for (const name of SECRET_NAMES) {
    const fromEnv = env[SECRET_ENV[name]]?.trim();
    if (fromEnv !== undefined && fromEnv !== '') {
      found[name] = new Secret(fromEnv, `env ${SECRET_ENV[name]}`);
    } else if (fileValues[name] !== undefined) {
      found[name] = new Secret(fileValues[name], `file ${secretsFile}`);
    }
  }

  const totp = found.totpSecret;
  if (totp !== undefined) {
    if (isBase32(totp.reveal())) {
      found.totpSecret = new Secret(normalizeBase32(totp.reveal()), totp.source);
    } else {
      const fromEnv = totp.source.startsWith('env ');
      issues.push({
        file: fromEnv ? 'environment' : secretsFile,
        path: fromEnv ? SECRET_ENV.totpSecret : SECRET_FILE_KEYS.totpSecret,
        expected: 'base32 text (letters A-Z and digits 2-7, optional "=" padding; case and spaces ignored)',
        found: `${totp.reveal().length} characters that are not base32 (value not shown)`,
      });
      delete found.totpSecret;
    }
  }

  // When the secrets file itself was refused, its error is the one to fix; a
  // list of "missing" secrets on top would only be noise.
  if (requireSecrets && !fileFailed) {
    for (const name of SECRET_NAMES) {
      if (found[name] !== undefined || issues.some((i) => i.path === SECRET_ENV[name] || i.path === SECRET_FILE_KEYS[name])) continue;
      const fileHint =
        secretsFile === ''
          ? 'in a secrets file named by broker.secrets_file'
          : `in the secrets file ${secretsFile}`;
      issues.push({
        path: `secret ${SECRET_FILE_KEYS[name]}`,
        expected: `${DESCRIPTION[name]}: set ${SECRET_ENV[name]} in the environment, or ${SECRET_FILE_KEYS[name]} = "…" ${fileHint}`,
        found: 'neither',
      });
    }
  }

  const complete = SECRET_NAMES.every((n) => found[n] !== undefined);
  const secrets = complete && issues.length === 0 ? (found as Secrets) : undefined;
  return { secrets, issues };
}

function readSecretsFile(
  file: string,
  configFile: string,
  requireSecrets: boolean,
): { values: Partial<Record<SecretName, string>>; issues: ConfigIssue[]; failed: boolean } {
  const refuse = (expected: string, found: string) => ({
    values: {},
    issues: [{ file: configFile, path: 'broker.secrets_file', expected, found }],
    failed: true,
  });

  let mode: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return refuse('a secrets file', `${JSON.stringify(file)}, which is not a regular file`);
    mode = st.mode;
  } catch (err) {
    // Checking a config on a machine without the secrets: a file that is not there is fine.
    if (!requireSecrets && fsCode(err) === 'ENOENT') return { values: {}, issues: [], failed: true };
    return refuse('a readable secrets file', `${JSON.stringify(file)} (${fsReason(err)})`);
  }

  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = '0' + (mode & 0o777).toString(8).padStart(3, '0');
    return refuse(
      `a secrets file only its owner can read or write (mode 0600 or 0400; fix: chmod 600 ${file})`,
      `${JSON.stringify(file)} with mode ${octal}`,
    );
  }

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return refuse('a readable secrets file', `${JSON.stringify(file)} (${fsReason(err)})`);
  }

  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // The parser's message quotes the offending text, which may be a secret: only the position is shown.
    return {
      values: {},
      failed: true,
      issues: [{
        file,
        path: `line ${err.line}, column ${err.column}`,
        expected: 'valid TOML',
        found: 'a syntax error (the text is not shown: it may hold a secret)',
      }],
    };
  }

  const issues: ConfigIssue[] = [];
  const values: Partial<Record<SecretName, string>> = {};
  const byKey = new Map(SECRET_NAMES.map((n) => [SECRET_FILE_KEYS[n], n] as const));
  for (const [key, value] of Object.entries(table)) {
    const name = byKey.get(key);
    if (name === undefined) {
      issues.push({
        file,
        path: key,
        expected: `one of the keys ${[...byKey.keys()].join(', ')}`,
        found: 'an unknown key (value not shown)',
      });
    } else if (typeof value !== 'string') {
      issues.push({
        file,
        path: key,
        expected: `a string in quotes (e.g. ${key} = "…")`,
        found: `${tomlTypeName(value)} (value not shown)`,
      });
    } else if (value.trim() === '') {
      issues.push({ file, path: key, expected: 'a non-empty string', found: 'an empty string' });
    } else {
      values[name] = value.trim();
    }
  }
  return { values, issues, failed: issues.length > 0 };
}

function tomlTypeName(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a float';
  if (typeof value === 'boolean') return 'a boolean';
  if (value instanceof Date) return 'a date';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'a table';
  return typeof value;
}

function fsCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** A short reason for a failed fs call, e.g. `no such file or directory (ENOENT)`. */
export function fsReason(err: unknown): string {
  const code = fsCode(err);
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
  };
  if (code !== undefined) return `${reasons[code] ?? 'cannot read it'} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
