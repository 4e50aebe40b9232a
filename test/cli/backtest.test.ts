/**
 * `rustro backtest` as a user runs it: a bundled day through the pipeline, the
 * ledger's hash printed (the same on a rerun), the report and its JSON summary
 * written where it says, a line per day when not on a terminal, and clear
 * errors for bad arguments.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import backtest from '../../src/cli/backtest.js';
import { runCommand } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rustro-cli-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hashOf = (out: string[]): string => /sha256 ([0-9a-f]{64})/.exec(out.join('\n'))?.[1] ?? '';

describe('rustro backtest', () => {
  it('backtests bundled days, prints the ledger hash, and writes the report and its JSON summary', async () => {
    const out = join(dir, 'run');
    const report = join(dir, 'report.html');
    const args = ['--from', '2024-02-20', '--to', '2024-02-21', '--underlying', 'BANKNIFTY', '--ticks-per-bar', '60', '--out', out, '--report', report];
    const one = await runCommand(backtest, ...args);
    expect(one.code, one.err.join('\n')).toBe(0);
    expect(one.out.filter((l) => /^ {2}\d\/2 days, 2024-02-2[01]/.test(l))).toHaveLength(2);
    expect(one.out.join('\n')).toContain('backtest adx-mtf on BANKNIFTY, 2024-02-20 … 2024-02-21: 2 day(s)');
    expect(hashOf(one.out)).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(out, 'ledger', '2024-02-21.jsonl'))).toBe(true);
    expect(one.out).toContain(`report: ${report}`);
    expect(one.out).toContain(`summary: ${join(dir, 'report.json')}`);
    expect(readFileSync(report, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
    const summary = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { stats: { trades: number }; days: unknown[] };
    expect(summary.days).toHaveLength(2);
    expect(summary.stats.trades).toBeGreaterThan(0);

    // A rerun into the same directory starts afresh and writes the same bytes.
    const two = await runCommand(backtest, ...args);
    expect(hashOf(two.out)).toBe(hashOf(one.out));
  }, 120_000);

  it('--bars: a user\'s own 1-minute CSV of the index trades exactly as the same bars bundled', async () => {
    const csv = join(dir, 'banknifty.csv');
    writeFileSync(csv, gunzipSync(readFileSync(join('data', 'market', 'banknifty_1m_2024-01_2024-02.csv.gz'))));
    const common = ['--from', '2024-02-21', '--underlying', 'BANKNIFTY', '--ticks-per-bar', '60'];
    const bundled = await runCommand(backtest, ...common, '--out', join(dir, 'bundled'), '--report', join(dir, 'bundled.html'));
    const own = await runCommand(backtest, ...common, '--bars', csv, '--out', join(dir, 'own'), '--report', join(dir, 'own.html'));
    expect([bundled.code, own.code], own.err.join('\n')).toEqual([0, 0]);
    const trades = (f: string) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { trades: unknown[] }).trades;
    expect(trades('bundled.json').length).toBeGreaterThan(0);
    expect(trades('own.json')).toEqual(trades('bundled.json'));

    writeFileSync(join(dir, 'bad.csv'), 'ts,open,high,low,close,volume\n2024-02-21T09:15:00+05:30,1,2,x,1,0\n');
    await expect(runCommand(backtest, '--from', '2024-02-21', '--underlying', 'NIFTY', '--bars', join(dir, 'bad.csv'))).rejects.toThrow(/--bars .*bad\.csv/);
    await expect(runCommand(backtest, '--from', '2024-02-21', '--bars', csv)).rejects.toThrow(/--bars needs --underlying/);
  }, 120_000);

  it('refuses bad arguments, naming what was wrong', async () => {
    await expect(runCommand(backtest)).rejects.toThrow(/--from YYYY-MM-DD is required/);
    await expect(runCommand(backtest, '--from', '2024-02-21', '--to', '2024-02-20')).rejects.toThrow(/--to 2024-02-20 is before --from 2024-02-21/);
    await expect(runCommand(backtest, '--from', '2024-02-21', '--strategy', 'martingale')).rejects.toThrow(/--strategy must be one of adx-mtf, supertrend-scalper, got 'martingale'/);
    await expect(runCommand(backtest, '--from', '2024-02-21', '--report', 'r.pdf')).rejects.toThrow(/--report must name an .html file/);
    await expect(runCommand(backtest, '--from', '2030-01-01', '--out', join(dir, 'none'))).rejects.toThrow(/no session of bundled between 2030-01-01 and 2030-01-01/);
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'precious.txt'), 'keep me');
    await expect(runCommand(backtest, '--from', '2024-02-21', '--out', foreign)).rejects.toThrow(/exists and was not made by rustro backtest/);
    expect(readFileSync(join(foreign, 'precious.txt'), 'utf8')).toBe('keep me');
  });
});
