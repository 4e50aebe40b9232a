import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import command from '../../src/cli/data.js';
import { UsageError } from '../../src/cli/command.js';
import { compare, readFixture } from '../indicators/support.js';
import { runCommand } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rustro-cli-indicators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => runCommand(command, ...args);
const HEADER = 'ts,ema9,ema21,sma20,rsi14,atr14,adx14,pdi14,mdi14,st10_3,st10_3_dir,vwap';

function barFile(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** The NIFTY futures 5m fixture's bars (with volume) as a plain bar CSV. */
const fut = readFixture('niftyfut_5m_2026-09-30_2026-10-05.talib.csv.gz');
const ref = readFixture('niftyfut_5m_2026-09-30_2026-10-05.stvwap.csv.gz');
const futLines = fut.tsText.map((ts, i) => [ts, fut.col.get('open')![i], fut.high[i], fut.low[i], fut.close[i], fut.volume[i] ?? ''].join(','));

describe('rustro data indicators', () => {
  it('prints one row per bar that matches the TA-Lib and numpy reference fixtures', async () => {
    const r = await run('indicators', '--bars', barFile('fut.csv', ['ts,open,high,low,close,volume', ...futLines]));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(HEADER);
    const rows = r.out.slice(1).map((l) => l.split(','));
    expect(rows.map((c) => c[0])).toEqual(fut.tsText);
    const column = (name: string): number[] => rows.map((c) => (c[HEADER.split(',').indexOf(name)] === '' ? NaN : Number(c[HEADER.split(',').indexOf(name)])));
    const pairs: [string, number[]][] = [
      ['ema9', fut.col.get('EMA_9')!], ['ema21', fut.col.get('EMA_21')!], ['sma20', fut.col.get('SMA_20')!],
      ['rsi14', fut.col.get('RSI_14')!], ['atr14', fut.col.get('ATR_14')!], ['adx14', fut.col.get('ADX_14')!],
      ['pdi14', fut.col.get('PLUS_DI_14')!], ['mdi14', fut.col.get('MINUS_DI_14')!],
      ['st10_3', ref.col.get('st10_3')!], ['st10_3_dir', ref.col.get('st10_3_dir')!], ['vwap', ref.col.get('vwap')!],
    ];
    for (const [name, want] of pairs) {
      const c = compare(column(name), want, name);
      expect(c.ok, c.message).toBe(true);
    }
    // Spot checks a reader can follow: warm-up cells are empty, then values appear at TA-Lib's begIndex.
    expect(rows[0]!.slice(1)).toEqual(['', '', '', '', '', '', '', '', '', '', '22834.333333333332']);
    expect(rows[8]![1]).toBe(String(fut.col.get('EMA_9')![8]));
    expect(rows[26]![6]).toBe('');
    expect(rows[27]![6]).toBe(String(fut.col.get('ADX_14')![27]));
  });

  it('reads epoch-ms ts and empty volume (an index) and gzip; VWAP stays empty', async () => {
    const lines = ['ts,open,high,low,close,volume', '1704080700000,100,101,99,100.5,', '1704080760000,100.5,102,100,101,'];
    const plain = await run('indicators', '--bars', barFile('idx.csv', lines));
    expect(plain.code).toBe(0);
    expect(plain.out.slice(1)).toEqual(['1704080700000,,,,,,,,,,,', '1704080760000,,,,,,,,,,,']);
    const gz = join(dir, 'idx.csv.gz');
    writeFileSync(gz, gzipSync(lines.join('\n')));
    expect((await run('indicators', '--bars', gz)).out).toEqual(plain.out);
  });

  it('names the file, line and column of bad input, and exits 1', async () => {
    const bad = async (name: string, lines: string[]): Promise<string> => {
      const file = barFile(name, lines);
      const r = await run('indicators', '--bars', file);
      expect(r.code).toBe(1);
      // Rows before the bad line have been printed already (the file is streamed); a bad header prints nothing.
      expect(r.out.length).toBe(lines.length <= 2 ? 0 : lines.length - 1);
      return r.err.join('\n').replace(file, 'FILE');
    };
    const ok = '2024-01-01T09:15:00+05:30,100,101,99,100,';
    expect(await bad('h.csv', ['ts,open,high,low,close'])).toBe("rustro data: FILE:1: expected the header 'ts,open,high,low,close,volume', found 'ts,open,high,low,close'");
    expect(await bad('n.csv', ['ts,open,high,low,close,volume', ok, '2024-01-01T09:16:00+05:30,100,abc,99,100,'])).toBe("rustro data: FILE:3: high: expected a number, found 'abc'");
    expect(await bad('hl.csv', ['ts,open,high,low,close,volume', '2024-01-01T09:15:00+05:30,100,99,101,100,'])).toBe('rustro data: FILE:2: high 99 is below low 101');
    expect(await bad('t.csv', ['ts,open,high,low,close,volume', ok, ok])).toBe("rustro data: FILE:3: ts: '2024-01-01T09:15:00+05:30' is not after the previous bar's ts");
    expect(await bad('o.csv', ['ts,open,high,low,close,volume', '2024-01-01T09:15,100,101,99,100,'])).toContain('FILE:2: ts: expected epoch milliseconds or ISO-8601 with an offset');
    expect(await bad('v.csv', ['ts,open,high,low,close,volume', '2024-01-01T09:15:00+05:30,100,101,99,100,-3'])).toContain("FILE:2: volume: expected a non-negative number or empty, found '-3'");
    const missing = await run('indicators', '--bars', join(dir, 'missing.csv'));
    expect([missing.code, missing.err[0]]).toEqual([1, `rustro data: cannot read ${join(dir, 'missing.csv')}: ENOENT`]);
  });

  it('refuses bad usage; the usage text lists the subcommand', async () => {
    await expect(run('indicators')).rejects.toThrow(new UsageError('missing --bars FILE'));
    await expect(run('indicators', '--bars', 'x.csv', '--tf', '1m')).rejects.toThrow(UsageError);
    expect(command.usage).toContain('rustro data indicators --bars FILE');
    expect(command.usage).toContain(HEADER);
  });
});
