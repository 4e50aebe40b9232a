/**
 * config/systemd/rustro.service: systemd's own checker accepts it, and the
 * lines that keep the money and the secrets safe are there. Needs
 * `systemd-analyze` (Debian package systemd, on this project's machines and
 * CI's); without it these tests fail and say so rather than pass unverified.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT_USAGE } from '../../src/cli/command.js';
import { defaultConfig } from '../../src/core/config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const UNIT = join(ROOT, 'config/systemd/rustro.service');
const README = join(ROOT, 'config/systemd/README.md');

function analyze(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  if (r.error !== undefined) {
    throw new Error(
      `systemd-analyze could not run (${r.error.message}): the systemd unit cannot be verified without it. ` +
        'Install systemd\'s tools (Debian: apt-get install -y systemd); they are on this project\'s machines and CI.',
    );
  }
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `systemd-analyze verify` on a copy named rustro.service; what it says about that unit. */
function verify(unitText: string): { status: number | null; complaints: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-unit-'));
  const file = join(dir, 'rustro.service');
  writeFileSync(file, unitText);
  // --man=no: Documentation= is a file: link, and man pages may not be installed; --generators=no: no privileges needed.
  const r = analyze(['verify', '--man=no', '--generators=no', file]);
  const complaints = r.out.split('\n').filter((l) => l.includes('rustro.service') || l.includes(file));
  return { status: r.status, complaints };
}

/** Section → key → every value given (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`unexpected line in the unit: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** A systemd time span in seconds, as systemd itself reads it. */
function seconds(span: string): number {
  const r = analyze(['timespan', span]);
  const us = /μs: (\d+)/.exec(r.out);
  if (r.status !== 0 || us === null) throw new Error(`systemd-analyze does not read "${span}" as a time span: ${r.out}`);
  return Number(us[1]) / 1e6;
}

describe('config/systemd/rustro.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const unit = parseUnit(text);
  const service = unit.get('Service')!;
  const one = (key: string): string | undefined => {
    const v = service.get(key);
    if (v !== undefined && v.length !== 1) throw new Error(`${key}= is given ${v.length} times`);
    return v?.[0];
  };

  beforeAll(() => {
    analyze(['--version']); // fails here, with the reason, when the tool is missing
  });

  it('is accepted by `systemd-analyze verify` with nothing to say about it', () => {
    const r = verify(text);
    expect(r.complaints).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('(the check has teeth: verify does complain about an unknown key, a bad value and a missing program)', () => {
    const broken = text
      .replace('Restart=on-failure', 'Restart=on-failure\nRestartSecs=10')
      .replace('WatchdogSec=30s', 'WatchdogSec=thirty')
      .replace('ExecStart=/usr/bin/env node', 'ExecStart=/nonexistent/node');
    const r = verify(broken);
    expect(r.complaints.join('\n')).toMatch(/Unknown key 'RestartSecs'/);
    expect(r.complaints.join('\n')).toMatch(/Failed to parse sec value.*thirty/);
    expect(r.complaints.join('\n')).toMatch(/\/nonexistent\/node is not executable/);
  });

  it('is Type=notify with a watchdog the daemon can feed from a child process', () => {
    expect(one('Type')).toBe('notify');
    // The notifications come from a spawned systemd-notify (src/app/watchdog.ts), not the main process.
    expect(one('NotifyAccess')).toBe('all');
    const watchdog = seconds(one('WatchdogSec')!);
    expect(watchdog).toBeGreaterThanOrEqual(10);
    expect(watchdog).toBeLessThanOrEqual(120);
    expect(service.has('WatchdogSignal')).toBe(false); // SIGABRT: no flatten on a wedged loop; restart resumes positions
    expect(seconds(one('TimeoutStartSec')!)).toBeGreaterThanOrEqual(90);
  });

  it('restarts on failure after a delay, but not for a bad config (exit 2), and not forever', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(seconds(one('RestartSec')!)).toBeGreaterThanOrEqual(5);
    expect(one('RestartPreventExitStatus')!.split(/\s+/)).toContain(String(EXIT_USAGE));
    expect(unit.get('Unit')!.get('StartLimitBurst')).toBeDefined();
    expect(unit.get('Unit')!.get('StartLimitIntervalSec')).toBeDefined();
  });

  it('takes the secrets from a root-only EnvironmentFile (required), and runs the built CLI\'s `run` with /etc/rustro/config.toml', () => {
    expect(one('EnvironmentFile')).toBe('/etc/rustro/rustro.env');
    const exec = one('ExecStart')!.split(/\s+/);
    expect(exec.slice(0, 2)).toEqual(['/usr/bin/env', 'node']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { rustro: string } };
    expect(exec[2]).toBe(`/opt/rustro/${pkg.bin.rustro}`);
    expect(exec.slice(3)).toEqual(['run', '--config', '/etc/rustro/config.toml']);
    expect(one('User')).toBe('rustro');
    expect(service.has('Environment')).toBe(false); // nothing secret, nor anything else, inline
  });

  it('gives the stop more time than the daemon gives itself, so a flattening shutdown finishes', () => {
    const daemonLimit = defaultConfig().app.shutdown_timeout_sec;
    expect(defaultConfig().trading.flatten_on_shutdown).toBe(true);
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(seconds(one('TimeoutStopSec')!)).toBeGreaterThanOrEqual(daemonLimit + 10);
    expect(Number(one('LimitNOFILE'))).toBeGreaterThanOrEqual(4096);
    expect(one('LimitCORE')).toBe('0');
  });

  it('is sandboxed: read-only system with only the data directory writable, private /tmp, no home, no new privileges', () => {
    const want: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      StateDirectory: 'rustro',
      PrivateTmp: 'yes',
      ProtectHome: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      RestrictRealtime: 'yes',
      RestrictNamespaces: 'yes',
      CapabilityBoundingSet: '',
      UMask: '0077',
    };
    for (const [key, value] of Object.entries(want)) expect({ key, value: one(key) }).toEqual({ key, value });
    // V8's JIT needs writable-then-executable memory: this would kill Node at start.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(text).toMatch(/#[^\n]*MemoryDenyWriteExecute[^\n]*JIT/);
    // Not ProcSubset=pid: the lock reads /proc/sys/kernel/random/boot_id.
    expect(service.has('ProcSubset')).toBe(false);
    expect(one('RestrictAddressFamilies')!.split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  });

  it('scores as well sandboxed in `systemd-analyze security` (exposure at most 2.0 of 10)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-unit-'));
    copyFileSync(UNIT, join(dir, 'rustro.service'));
    const r = analyze(['security', '--offline=yes', '--threshold=20', '--no-pager', join(dir, 'rustro.service')]);
    expect(r.out).toMatch(/Overall exposure level for rustro\.service: \d/);
    expect(r.status, r.out.split('\n').filter((l) => l.includes('Overall')).join('\n')).toBe(0);
  });

  it('README.md beside it names the same paths', () => {
    const readme = readFileSync(README, 'utf8');
    for (const path of ['/etc/rustro/rustro.env', '/etc/rustro/config.toml', '/var/lib/rustro', '/opt/rustro', 'journalctl -u rustro']) {
      expect({ path, inReadme: readme.includes(path) }).toEqual({ path, inReadme: true });
    }
  });
});
