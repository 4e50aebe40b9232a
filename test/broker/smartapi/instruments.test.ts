import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InstrumentIndex, BUILTIN_INDICES } from '../../../src/broker/smartapi/instrument-index.js';
import { cacheFile, loadInstruments, mapMasterRow, parseExpiry, parseMaster, readCache } from '../../../src/broker/smartapi/instruments.js';
import { JsonArraySplitter } from '../../../src/broker/smartapi/json-stream.js';
import { SimClock, istToMillis } from '../../../src/core/clock.js';
import type { Logger } from '../../../src/core/log.js';
import { FakeSmartApi, TEST_CREDS } from './support/fake-smartapi.js';
import { masterChunks } from './support/master-gen.js';
import { createMarket } from '../../../src/sim/market/market.js';
import { buildMaster } from '../../../src/sim/server/instrument-master.js';

const SAMPLE = fileURLToPath(new URL('../../fixtures/smartapi/angelone_scripmaster_sample.json', import.meta.url));
const sampleText = readFileSync(SAMPLE, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'rustro-instr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

describe('JSON array splitter', () => {
  it('splits objects across any chunking, with braces, brackets and escaped quotes inside strings', () => {
    const rows = [{ a: '}{][', b: 'say \\"hi\\"', c: [1, { d: 2 }] }, { e: '\\\\' }, {}];
    const text = ` [ ${rows.map((r) => JSON.stringify(r)).join(' ,\n')} ] `;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const s = new JsonArraySplitter();
        const out: string[] = [];
        let prev = 0;
        for (const p of [...points, text.length]) {
          out.push(...s.push(text.slice(prev, p)));
          prev = p;
        }
        s.end();
        expect(out.map((t) => JSON.parse(t))).toEqual(rows);
      }),
    );
  });

  it('hands scalar elements out as text (to be counted as bad rows) and refuses a truncated or non-array input', () => {
    const s = new JsonArraySplitter();
    expect(s.push('[{"a":1}, 42, "x,]y", null]')).toEqual(['{"a":1}', '42', '"x,]y"', 'null']);
    s.end();
    const t = new JsonArraySplitter();
    t.push('[{"a":1},{"b":');
    expect(() => t.end()).toThrow(/truncated/);
    expect(() => new JsonArraySplitter().push('{"a":1}')).toThrow(/expected '\['/);
    expect(() => new JsonArraySplitter().end()).toThrow(/empty input/);
  });
});

describe('master rows → Instrument', () => {
  it('parses expiries in either case and refuses impossible dates', () => {
    expect(parseExpiry('27NOV2025')).toBe('2025-11-27');
    expect(parseExpiry('04Apr2024')).toBe('2024-04-04');
    expect(parseExpiry('31FEB2024')).toBeUndefined();
    expect(parseExpiry('2024-04-04')).toBeUndefined();
    expect(parseExpiry('')).toBeUndefined();
  });

  it("reads the simulator's master with the exchange freeze limits (NIFTY 1800, BANKNIFTY 900 units in 2024)", async () => {
    const { instruments } = await parseMaster([buildMaster(createMarket({ day: '2024-02-15', seed: 1 }).instruments())]);
    const options = instruments.filter((i) => i.kind === 'option');
    expect(new Set(options.filter((i) => i.name === 'NIFTY').map((i) => i.freezeQty))).toEqual(new Set([1800]));
    expect(new Set(options.filter((i) => i.name === 'BANKNIFTY').map((i) => i.freezeQty))).toEqual(new Set([900]));
  });

  it('maps the real sample rows (63): strike and tick ×100 paise, CE/PE from the symbol, freeze qty, index rows', async () => {
    const { instruments, stats } = await parseMaster(chunksOf(sampleText, 1000));
    expect(stats).toEqual({ rows: 63, instruments: 63, skipped: 0, bad: 0, badSamples: [] });
    const byToken = new Map(instruments.map((i) => [i.token, i]));
    expect(byToken.get('45829')).toEqual({
      token: '45829', symbol: 'NIFTY04APR2423000CE', name: 'NIFTY', exchange: 'NFO', kind: 'option',
      expiry: '2024-04-04', strike: 23000, optionType: 'CE', lotSize: 50, tickSize: 0.05,
    });
    expect(byToken.get('866186')).toMatchObject({ exchange: 'BFO', kind: 'option', expiry: '2024-03-28', strike: 75000, optionType: 'PE', lotSize: 10 });
    expect(byToken.get('99926000')).toEqual({ token: '99926000', symbol: 'Nifty 50', name: 'NIFTY', exchange: 'NSE', kind: 'index', lotSize: 1, tickSize: 0 });
    expect(byToken.get('99919000')).toMatchObject({ exchange: 'BSE', kind: 'index', name: 'SENSEX' });
    expect(byToken.get('99395')).toMatchObject({ strike: 212.5, optionType: 'CE', tickSize: 0.01 });
    expect(byToken.get('100003')).toMatchObject({ freezeQty: 36750, lotSize: 1225 }); // freeze_qty "36751" → largest lot multiple below
    expect(byToken.get('68772')).toMatchObject({ kind: 'future', expiry: '2026-09-29', lotSize: 650, freezeQty: 26000 });
    expect(byToken.get('68772')!.strike).toBeUndefined();
    expect(byToken.get('1008')).toMatchObject({ kind: 'equity', exchange: 'NSE', tickSize: 0.05, freezeQty: 125530 });
    expect(byToken.get('1008')!.expiry).toBeUndefined();
    expect(instruments.filter((i) => i.kind === 'index').every((i) => i.freezeQty === undefined)).toBe(true);
  });

  it('counts bad rows with reasons and skips other exchanges, never failing the file', async () => {
    const rows = [
      '{"token":"1","symbol":"NIFTY04APR2423000XX","name":"NIFTY","expiry":"04APR2024","strike":"2300000","lotsize":"50","instrumenttype":"OPTIDX","exch_seg":"NFO","tick_size":"5"}',
      '{"token":"2","symbol":"NIFTY04APR2423000CE","name":"NIFTY","expiry":"04APR2024","strike":"abc","lotsize":"50","instrumenttype":"OPTIDX","exch_seg":"NFO","tick_size":"5"}',
      '{"token":"3","symbol":"GOLD30OCT26FUT","name":"GOLD","expiry":"30OCT2026","strike":"-1","lotsize":"1","instrumenttype":"FUTCOM","exch_seg":"MCX","tick_size":"100"}',
      '{"symbol":"no token"}',
      '17',
      '{"token":"4","symbol":"NIFTY04APR2423000PE","name":"NIFTY","expiry":"04APR2024","strike":"2300000","lotsize":"50","instrumenttype":"OPTIDX","exch_seg":"NFO","tick_size":"5"}',
    ];
    const { instruments, stats } = await parseMaster(chunksOf(`[${rows.join(',')}]`, 7));
    expect(instruments.map((i) => i.token)).toEqual(['4']);
    expect(stats).toMatchObject({ rows: 6, instruments: 1, skipped: 1, bad: 4 });
    expect(stats.badSamples[0]).toMatch(/^row 1: .*CE or PE/);
    expect(stats.badSamples[1]).toMatch(/^row 2: strike/);
    expect(stats.badSamples[2]).toMatch(/^row 4: token/);
    expect(mapMasterRow(null)).toHaveProperty('bad');
  });
});

describe('instrument index', () => {
  const ix = async () => new InstrumentIndex((await parseMaster(chunksOf(sampleText, 4096))).instruments);

  it('by token, by ref, index tokens by name, options by (underlying, expiry, strike, type)', async () => {
    const i = await ix();
    expect(i.byToken('45829')?.symbol).toBe('NIFTY04APR2423000CE');
    expect(i.get({ exchange: 'NFO', token: '45829' })?.symbol).toBe('NIFTY04APR2423000CE');
    expect(i.get({ exchange: 'NSE', token: '45829' })).toBeUndefined();
    expect(i.indexToken('NIFTY')).toBe('99926000');
    expect(i.indexToken('banknifty')).toBe('99926009');
    expect(i.indexToken('SENSEX')).toBe('99919000');
    expect(i.indexToken('INDIA VIX')).toBe('99926017');
    expect(i.indexToken('NOPE')).toBeUndefined();
    expect(i.option('NIFTY', '2024-04-04', 23000, 'CE')?.token).toBe('45829');
    expect(i.option('NIFTY', '2024-04-04', 23000, 'PE')).toBeUndefined();
    expect(i.option('SENSEX', '2024-03-28', 75000, 'PE')?.symbol).toBe('SENSEX24MAR75000PE');
  });

  it('falls back to the built-in §10 table when the master has no index rows', () => {
    const i = new InstrumentIndex([]);
    for (const b of BUILTIN_INDICES) expect(i.indexToken(b.name)).toBe(b.token);
    expect(i.index('SENSEX')).toMatchObject({ exchange: 'BSE', kind: 'index' });
    expect(i.byToken('99926037')?.name).toBe('FINNIFTY');
  });

  it('expiries sorted, nearest expiry on/after a date, futures by expiry, chains by strike', async () => {
    const i = await ix();
    expect(i.expiries('NIFTY')).toEqual(['2024-03-21', '2024-04-04', '2024-04-25', '2026-12-31']);
    expect(i.nearestExpiry('NIFTY', '2024-03-21')).toBe('2024-03-21');
    expect(i.nearestExpiry('NIFTY', '2024-03-22')).toBe('2024-04-04');
    expect(i.nearestExpiry('NIFTY', '2027-01-01')).toBeUndefined();
    expect(i.futures('RVNL').map((f) => f.symbol)).toEqual(['RVNL29SEP26FUT']);
    const chain = i.chain('ICICIBANK', '2026-11-23');
    expect(chain.map((o) => `${o.strike}${o.optionType}`)).toEqual(['1500CE', '1500PE']);
    expect(i.search({ name: 'NIFTY', strike: 23000, optionType: 'CE' }).map((x) => x.token)).toEqual(['45829']);
    expect(i.search({ name: 'NIFTY', kind: 'index' }).map((x) => x.token)).toEqual(['99926000']);
  });
});

describe('download, stream-parse and cache a large master', () => {
  let fake: FakeSmartApi | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it('~100k rows streamed from the server: parsed, bad rows counted, cached for the day, then read from the cache', async () => {
    fake = await FakeSmartApi.start(TEST_CREDS);
    fake.master = () => masterChunks({ options: 100_000, badEvery: 25_000 });
    const clock = new SimClock(istToMillis('2024-01-02', '08:45'));
    const dataDir = join(tmp, 'big');
    const t0 = performance.now();
    const first = await loadInstruments({ dataDir, clock, master: { url: fake.masterUrl } });
    const ms = performance.now() - t0;
    expect(first.source).toBe('download');
    expect(first.stats).toMatchObject({ rows: 100_006, bad: 4, skipped: 1, instruments: 100_001 });
    expect(first.file).toBe(cacheFile(dataDir, '2024-01-02'));
    expect(existsSync(first.file)).toBe(true);
    expect(ms).toBeLessThan(20_000); // generous: it is ~0.5 s on a laptop; the bench prints the real figure

    const idx = new InstrumentIndex(first.instruments);
    expect(idx.expiries('NIFTY')).toHaveLength(40);
    const nifty = first.instruments.find((i) => i.name === 'NIFTY' && i.kind === 'option')!;
    expect(idx.option('NIFTY', nifty.expiry!, nifty.strike!, nifty.optionType!)).toBe(nifty);
    expect(nifty.freezeQty).toBe(1800);
    expect(idx.futures('NIFTY').map((f) => f.expiry)).toEqual(['2024-12-26', '2025-01-30']);

    const masterHits = fake.count('master');
    const again = await loadInstruments({ dataDir, clock, master: { url: fake.masterUrl } });
    expect(again.source).toBe('cache');
    expect(fake.count('master')).toBe(masterHits);
    expect(again.instruments).toEqual(first.instruments);

    const cached = await readCache(first.file);
    expect(cached.bad).toBe(0);
  });

  it('a failed download is a clear error; the next day downloads again', async () => {
    fake = await FakeSmartApi.start(TEST_CREDS);
    fake.master = '[{"token":"1"';
    const clock = new SimClock(istToMillis('2024-01-03', '08:45'));
    await expect(loadInstruments({ dataDir: join(tmp, 'trunc'), clock, master: { url: fake.masterUrl } })).rejects.toThrow(/truncated/);
    fake.master = sampleText;
    const ok = await loadInstruments({ dataDir: join(tmp, 'trunc'), clock, master: { url: fake.masterUrl } });
    expect(ok.instruments).toHaveLength(63);
    clock.advanceBy(86_400_000);
    const next = await loadInstruments({ dataDir: join(tmp, 'trunc'), clock, master: { url: fake.masterUrl } });
    expect(next.source).toBe('download');
    expect(next.file).toBe(cacheFile(join(tmp, 'trunc'), '2024-01-04'));
  });

  it.each([
    ['truncated', '[\n{"token":"1","symbol":"X"'],
    ['garbage', 'this is not json at all'],
    ['an entry that is not JSON', `[\n{"token":"26000","symbol":"Nifty 50","name":"NIFTY","exchange":"NSE","kind":"index","lotSize":1,"tickSize":0},\n{"token": 12,,}\n]\n`],
    ['empty', ''],
  ])('a damaged cache file (%s) falls back to downloading, and the warning names the file', async (_name, text) => {
    fake = await FakeSmartApi.start(TEST_CREDS);
    fake.master = sampleText;
    const dataDir = join(tmp, `damaged-${_name.replace(/\W+/g, '-')}`);
    const clock = new SimClock(istToMillis('2024-01-03', '08:45'));
    const file = cacheFile(dataDir, '2024-01-03');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    const warnings: string[] = [];
    const log = { warn: (o: unknown, m: string) => warnings.push(`${m} ${JSON.stringify(o)}`), info: () => {}, debug: () => {}, error: () => {} } as unknown as Logger;
    const got = await loadInstruments({ dataDir, clock, master: { url: fake.masterUrl }, log });
    expect(got.source).toBe('download');
    expect(got.instruments).toHaveLength(63);
    expect(warnings.some((w) => /instrument cache is (damaged|unreadable); downloading/.test(w) && w.includes(file))).toBe(true);
    expect((await readCache(file)).instruments).toHaveLength(63); // rewritten whole
  });

  it('a cache read error names the file', async () => {
    const file = join(tmp, 'named.json');
    writeFileSync(file, '[{"token":"1"');
    await expect(readCache(file)).rejects.toThrow(`instrument cache ${file}: truncated`);
  });

});
