import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import command from '../../src/cli/instruments.js';
import { UsageError } from '../../src/cli/command.js';
import { cacheFile, parseMaster, writeCache } from '../../src/broker/smartapi/instruments.js';
import { runCommand } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rustro-cli-instr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const text = readFileSync(fileURLToPath(new URL('../fixtures/smartapi/angelone_scripmaster_sample.json', import.meta.url)), 'utf8');
  const { instruments } = await parseMaster([text]);
  writeCache(cacheFile(dir, '2024-01-01'), instruments.slice(0, 5)); // older day: must not be used
  writeCache(cacheFile(dir, '2024-01-02'), instruments);
});

const run = (...args: string[]) => runCommand(command, ...args);

describe('rustro instruments search', () => {
  it('NIFTY 23000 CE: one row as a table from the newest cache', async () => {
    const r = await run('search', 'NIFTY', '23000', 'CE', '--data-dir', dir);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^TOKEN\s+SYMBOL\s+EXCH\s+KIND\s+EXPIRY\s+STRIKE\s+TYPE\s+LOT\s+TICK\s+FREEZE$/);
    expect(r.out).toHaveLength(2);
    expect(r.out[1]).toMatch(/^45829\s+NIFTY04APR2423000CE\s+NFO\s+option\s+2024-04-04\s+23000\s+CE\s+50\s+0\.05$/);
  });

  it('filters by --expiry and accepts lower case names and pe', async () => {
    const r = await run('search', 'nifty', 'pe', '--expiry', '2024-03-21', `--data-dir=${dir}`);
    expect(r.code).toBe(0);
    expect(r.out.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['NIFTY21MAR2421500PE']);
  });

  it('NAME alone lists the index row first, then options', async () => {
    const r = await run('search', 'SENSEX', '--data-dir', dir);
    expect(r.out.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['99919000', '866186']);
  });

  it('no match → exit 1 with the known expiries', async () => {
    const r = await run('search', 'NIFTY', '99999', '--data-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err[0]).toContain('no instruments match');
    expect(r.err[0]).toContain('2024-03-21');
  });

  it('no cache → exit 1 saying where it looked', async () => {
    const r = await run('search', 'NIFTY', '--data-dir', join(dir, 'nothing'));
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/no cached instrument master in .*nothing\/instruments/);
  });

  it('bad usage is a UsageError', async () => {
    await expect(run()).rejects.toThrow(UsageError);
    await expect(run('find', 'NIFTY')).rejects.toThrow(/unknown subcommand/);
    await expect(run('search')).rejects.toThrow(/missing NAME/);
    await expect(run('search', 'NIFTY', 'XX')).rejects.toThrow(/unexpected argument/);
    await expect(run('search', 'NIFTY', '--expiry', '04APR2024')).rejects.toThrow(/YYYY-MM-DD/);
    await expect(run('search', 'NIFTY', '--bogus')).rejects.toThrow(/unknown option/);
  });
});
