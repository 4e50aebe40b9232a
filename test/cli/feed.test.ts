import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import command from '../../src/cli/feed.js';
import { UsageError } from '../../src/cli/command.js';
import { FrameRecorder } from '../../src/broker/smartapi/recorder.js';
import { istToMillis } from '../../src/core/clock.js';
import { buildFrame, ltpFrame, sampleQuote, sampleSnap } from '../broker/smartapi/support/frames.js';
import { runCommand } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rustro-cli-feed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runCommand(command, ...args);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('rustro feed decode', () => {
  it('--hex: one LTP frame, every field, prices in rupees', async () => {
    const r = await run('decode', '--hex', hex(ltpFrame('99926000', 2_171_235n)));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!)).toEqual({
      token: '99926000', exchange: 'NSE', mode: 'ltp', exchTs: 1_737_356_263_000, ltp: 21712.35, exchangeType: 1, sequence: 0,
    });
  });

  it('--hex accepts spaces and colons; a rejected frame prints {"rejected"} and exits 1', async () => {
    const r = await run('decode', '--hex', '01 02:03');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out[0]!)).toEqual({ rejected: 'short frame: 3 bytes for mode 1 (needs 51)', length: 3, headHex: '010203' });
  });

  it('FILE: one JSON line per recorded frame with receivedAt; exit 1 if any was rejected', async () => {
    const t = istToMillis('2025-01-20', '09:15');
    const rec = new FrameRecorder(dir);
    rec.record(buildFrame(sampleQuote()), t);
    rec.record(buildFrame(sampleSnap()), t + 1);
    rec.record(Uint8Array.from([7]), t + 2);
    await rec.close();
    const r = await run('decode', rec.fileFor(t));
    expect(r.code).toBe(1);
    const lines = r.out.map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ mode: 'quote', token: '43650', exchange: 'NFO', ltp: 123.45, open: 110, totBuyQty: 605175, sequence: 7, receivedAt: t });
    expect(lines[1]).toMatchObject({ mode: 'snap', oiChangePctUnreliable: 0.46875, lowerCircuit: 0.05, receivedAt: t + 1 });
    expect(lines[1].bids).toHaveLength(5);
    expect(lines[1].asks[0]).toEqual({ price: 123.5, qty: 200, orders: 2 });
    expect(lines[2]).toEqual({ rejected: 'unknown mode 7', length: 1, headHex: '07', receivedAt: t + 2 });
    expect(r.err).toEqual(['rustro feed: 1 frame(s) refused']);
  });

  it('FILE with only good frames exits 0; a torn file exits 1 with the reason', async () => {
    const t = istToMillis('2025-01-22', '09:15');
    const rec = new FrameRecorder(dir);
    rec.record(ltpFrame(), t);
    await rec.close();
    expect((await run('decode', rec.fileFor(t))).code).toBe(0);
    const torn = join(dir, 'torn.frames');
    writeFileSync(torn, Buffer.from([5, 0, 0]));
    const r = await run('decode', torn);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/torn record at byte 0/);
    expect((await run('decode', join(dir, 'nope.frames'))).err[0]).toMatch(/no such file/);
  });

  it.each([
    [[], 'missing subcommand'],
    [['encode'], "unknown subcommand 'encode'"],
    [['decode'], 'missing FILE (or --hex HEX)'],
    [['decode', '--hex'], '--hex needs a value'],
    [['decode', '--hex', 'zz'], '--hex: not hexadecimal'],
    [['decode', '--hex', 'abc'], '--hex: odd number of hex digits (3)'],
    [['decode', 'a', '--hex', '00'], 'give either FILE or --hex HEX, not both'],
    [['decode', 'a', 'b'], "unexpected argument 'b'"],
    [['decode', '--json'], "unknown option '--json'"],
  ])('usage error %j', async (args, message) => {
    await expect(run(...args)).rejects.toThrow(new UsageError(message));
  });
});
