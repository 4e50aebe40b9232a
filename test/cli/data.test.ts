import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import command from '../../src/cli/data.js';
import { UsageError } from '../../src/cli/command.js';
import { FrameRecorder } from '../../src/broker/smartapi/recorder.js';
import { istToMillis } from '../../src/core/clock.js';
import { createMarket } from '../../src/sim/market/market.js';
import { ltpFrame } from '../broker/smartapi/support/frames.js';
import { runCommand } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rustro-cli-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => runCommand(command, ...args);
const at = (t: string): number => istToMillis('2024-02-15', t);

function csvFile(name: string, rows: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, ['ts,token,ltp,cum_volume', ...rows].join('\n') + '\n');
  return file;
}

describe('rustro data bars', () => {
  it('one timeframe, no --out: the bar CSV on stdout (epoch ms and ISO ts, empty volume for an index)', async () => {
    const file = csvFile('a.csv', [
      `${at('09:15:01')},99926000,100,`,
      '2024-02-15T09:15:30+05:30,99926000,102,',
      `${at('09:16:10')},99926000,101,`,
      `${at('09:10:00')},99926000,1,`, // pre-open: dropped
    ]);
    const r = await run('bars', '--ticks', file, '--tf', '1m');
    expect(r.code).toBe(0);
    expect(r.out.join('\n').split('\n')).toEqual([
      'ts,open,high,low,close,volume',
      '2024-02-15T09:15:00+05:30,100,102,100,102,',
      '2024-02-15T09:16:00+05:30,101,101,101,101,',
    ]);
    expect(r.err.join('\n')).toContain('1 outside the session');
  });

  it('several timeframes and tokens with --out: DIR/<token>_<tf>.csv, volume from cumulative volume', async () => {
    const file = csvFile('b.csv', [
      `${at('09:15:01')},45000,10,100`,
      `${at('09:15:31')},45000,11,160`,
      `${at('09:20:05')},45000,12,200`,
      `${at('09:15:02')},99926000,100,`,
    ]);
    const out = join(dir, 'out');
    const r = await run('bars', '--ticks', file, '--tf', '5m,1m', '--out', out);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, '45000_1m.csv'), 'utf8')).toBe(
      'ts,open,high,low,close,volume\n2024-02-15T09:15:00+05:30,10,11,10,11,160\n2024-02-15T09:20:00+05:30,12,12,12,12,40\n',
    );
    expect(readFileSync(join(out, '45000_5m.csv'), 'utf8').split('\n')[1]).toBe('2024-02-15T09:15:00+05:30,10,11,10,11,160');
    expect(readFileSync(join(out, '99926000_5m.csv'), 'utf8').split('\n')[1]).toBe('2024-02-15T09:15:00+05:30,100,100,100,100,');
  });

  it('a recorded raw-frame file, to the same bars the source has', async () => {
    const m = createMarket({ day: '2024-02-15', seed: 2, ticksPerSecond: 1, strikesAround: 0 });
    const rec = new FrameRecorder(join(dir, 'ticks'));
    m.advanceTo(at('09:30') - 1, new Set(['99926000']), (q) => rec.record(ltpFrame('99926000', BigInt(Math.round(q.ltp * 100)), 1, BigInt(q.ts)), q.ts));
    await rec.close();
    m.advanceTo(at('09:30'), new Set(), () => {}); // so the source's 09:29 minute is complete
    const r = await run('bars', '--ticks', join(dir, 'ticks', '2024-02-15.frames'), '--tf', '5m');
    expect(r.code).toBe(0);
    const want = [0, 1, 2].map((i) => {
      const src = m.minuteBars('99926000', at('09:15') + i * 300_000, at('09:15') + (i + 1) * 300_000);
      return [src[0]!.open, Math.max(...src.map((b) => b.high)), Math.min(...src.map((b) => b.low)), src[4]!.close].join(',');
    });
    expect(r.out.join('\n').split('\n').slice(1).map((l) => l.split(',').slice(1, 5).join(','))).toEqual(want);
  });

  it('refuses bad usage and names a bad line', async () => {
    await expect(run('bars', '--ticks', 'x.csv')).rejects.toThrow(UsageError);
    await expect(run('bars', '--ticks', 'x.csv', '--tf', '2m')).rejects.toThrow(/unknown timeframe '2m'/);
    await expect(run('bars', '--ticks', 'x.csv', '--tf', '1m,5m')).rejects.toThrow(/--out DIR/);
    const bad = csvFile('bad.csv', [`${at('09:15:01')},99926000,abc,`]);
    const r = await run('bars', '--ticks', bad, '--tf', '1m');
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe(`rustro data: ${bad}:2: ltp: expected a number, found 'abc'`);
    const noOffset = csvFile('nooff.csv', ['2024-02-15T09:15:00,99926000,1,']);
    expect((await run('bars', '--ticks', noOffset, '--tf', '1m')).err[0]).toContain('ISO-8601 with an offset');
    expect((await run('bars', '--ticks', join(dir, 'missing.csv'), '--tf', '1m')).err[0]).toContain('ENOENT');
  });
});
