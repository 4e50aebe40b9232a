import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import reconcileCommand from '../../src/cli/reconcile.js';
import { UsageError } from '../../src/cli/command.js';
import { RECONCILE_FILE } from '../../src/trading/reconciler.js';
import { runCommand } from '../support/cli.js';

describe('rustro reconcile', () => {
  it('leaves the decision for the daemon in the data directory, readable by its owner only, and says no daemon runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-reconcile-cli-'));
    const r = await runCommand(reconcileCommand, '--flatten', '--data-dir', dir);
    expect(r.code).toBe(0);
    const file = join(dir, RECONCILE_FILE);
    expect(readFileSync(file, 'utf8')).toBe('flatten\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.out.join('\n')).toMatch(/no daemon is running: it is acted on at the next start/);
  });

  it('needs exactly one decision and an existing data directory', async () => {
    await expect(runCommand(reconcileCommand, '--adopt', '--flatten')).rejects.toThrow(UsageError);
    await expect(runCommand(reconcileCommand)).rejects.toThrow(/exactly one of --adopt or --flatten/);
    const r = await runCommand(reconcileCommand, '--adopt', '--data-dir', '/nonexistent/rustro');
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(/\/nonexistent\/rustro is not a directory/);
    expect(existsSync('/nonexistent/rustro')).toBe(false);
  });
});
