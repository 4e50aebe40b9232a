import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import configCommand, { createConfigCommand } from '../../src/cli/config.js';
import { EXIT_OK, EXIT_USAGE, UsageError, type Io } from '../../src/cli/command.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const ENV = {
  RUSTRO_API_KEY: 'APIKEY-cli-s3cr3t',
  RUSTRO_CLIENT_CODE: 'CLIENT-cli-s3cr3t',
  RUSTRO_PIN: '7351',
  RUSTRO_TOTP_SECRET: 'JBSWY3DPEHPK3PXP',
};

function capture(): Io & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l) };
}

describe('rustro config check', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rustro-cli-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const cmd = (env: NodeJS.ProcessEnv = ENV) => createConfigCommand({ env, cwd: () => dir });

  it('a valid config: exit 0, the effective config on stdout with secrets masked, nothing on stderr', async () => {
    const file = join(dir, 'my.toml');
    writeFileSync(file, '[ledger]\ngroup_commit_ms = 25\n');
    const io = capture();
    expect(await cmd().main(['check', file], io)).toBe(EXIT_OK);
    expect(io.err_).toEqual([]);
    expect(io.out_[0]).toBe(`# ${file}: valid`);
    const out = io.out_.join('\n');
    expect(out).toContain('[ledger]\ngroup_commit_ms = 25\ngroup_commit_events = 1000');
    expect(out).toContain(`data_dir = "${join(dir, 'data')}"`);
    expect(out).toContain('# api_key     = "***"  from env RUSTRO_API_KEY');
    expect(out).toContain('# totp_secret = "***"  from env RUSTRO_TOTP_SECRET');
    for (const value of Object.values(ENV)) expect(out).not.toContain(value);
  });

  it('an invalid config: exit 2, every problem on stderr, nothing on stdout', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, '[app]\nlog_level = "loud"\n[ledger]\ngroup_comit_ms = 5\n');
    const io = capture();
    expect(await cmd().main(['check', file], io)).toBe(EXIT_USAGE);
    expect(io.out_).toEqual([]);
    expect(io.err_).toEqual([
      `${file}: app.log_level: expected one of "trace", "debug", "info", "warn", "error", "fatal", found "loud"`,
      `${file}: ledger.group_comit_ms: expected a key of [ledger], did you mean group_commit_ms? (known: group_commit_ms, group_commit_events), found an unknown key set to 5`,
      `rustro config check: 2 problems; ${file} is not a valid config`,
    ]);
  });

  it('missing secrets: exit 2 listing them; --no-secrets: exit 0', async () => {
    const file = join(dir, 'c.toml');
    writeFileSync(file, '');
    const io = capture();
    expect(await cmd({}).main(['check', file], io)).toBe(EXIT_USAGE);
    expect(io.err_.filter((l) => l.includes(': secret '))).toHaveLength(4);
    expect(io.err_.at(-1)).toBe(`rustro config check: 4 problems; ${file} is not a valid config`);

    const io2 = capture();
    expect(await cmd({}).main(['check', '--no-secrets', file], io2)).toBe(EXIT_OK);
    expect(io2.out_[0]).toBe(`# ${file}: valid (secrets not required: --no-secrets)`);
    expect(io2.out_).toContain('# pin         = (not loaded)');
  });

  it('a secrets file that is too open: exit 2 naming it and its mode', async () => {
    const secrets = join(dir, 'secrets.toml');
    writeFileSync(secrets, 'pin = "1111"\n');
    chmodSync(secrets, 0o644);
    const file = join(dir, 'c.toml');
    writeFileSync(file, '[broker]\nsecrets_file = "secrets.toml"\n');
    const io = capture();
    expect(await cmd().main(['check', file], io)).toBe(EXIT_USAGE);
    expect(io.err_[0]).toContain(`found "${secrets}" with mode 0644`);
    expect(io.err_[0]).toContain(`chmod 600 ${secrets}`);
    expect(io.err_.join('\n')).not.toContain('1111');
  });

  it('a nonexistent file: exit 2 naming it', async () => {
    const file = join(dir, 'missing.toml');
    const io = capture();
    expect(await cmd().main(['check', file], io)).toBe(EXIT_USAGE);
    expect(io.out_).toEqual([]);
    expect(io.err_[0]).toBe(`${file}: expected a readable config file, found no such file or directory (ENOENT)`);
  });

  it('without FILE: uses config.toml if present, else config.example.toml, and says which', async () => {
    const io0 = capture();
    expect(await cmd().main(['check'], io0)).toBe(EXIT_USAGE);
    expect(io0.err_[0]).toBe(`rustro config check: no FILE given, and neither config.toml nor config.example.toml is in ${dir}`);

    copyFileSync(join(root, 'config.example.toml'), join(dir, 'config.example.toml'));
    const io1 = capture();
    expect(await cmd().main(['check'], io1)).toBe(EXIT_OK);
    expect(io1.out_[0]).toBe(`# ${join(dir, 'config.example.toml')}: valid (no FILE given and no config.toml: using config.example.toml)`);

    writeFileSync(join(dir, 'config.toml'), '[app]\nlog_level = "warn"\n');
    const io2 = capture();
    expect(await cmd().main(['check'], io2)).toBe(EXIT_OK);
    expect(io2.out_[0]).toBe(`# ${join(dir, 'config.toml')}: valid (no FILE given: using config.toml)`);
    expect(io2.out_).toContain('log_level = "warn"');
  });

  it('bad usage throws UsageError', async () => {
    const io = capture();
    await expect(cmd().main([], io)).rejects.toThrow(new UsageError('missing subcommand (expected: check)'));
    await expect(cmd().main(['lint'], io)).rejects.toThrow(new UsageError("unknown subcommand 'lint' (expected: check)"));
    await expect(cmd().main(['check', '--frobnicate'], io)).rejects.toThrow(new UsageError("unknown option '--frobnicate'"));
    await expect(cmd().main(['check', 'a.toml', 'b.toml'], io)).rejects.toThrow(UsageError);
    await expect(cmd().main(['check', 'a.toml', 'b.toml'], io)).rejects.toThrow('expected at most one FILE, got 2: a.toml b.toml');
  });

  it('the default export is a Command', () => {
    expect(configCommand.summary).toMatch(/config/);
    expect(configCommand.usage).toContain('rustro config check [FILE] [--no-secrets]');
  });
});
