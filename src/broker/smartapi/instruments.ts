/**
 * The instrument master (protocol notes §10): downloaded once a day, parsed as
 * a stream (one object at a time), each row checked with zod and mapped to the
 * port's `Instrument`; bad rows are counted and reported, never fatal. The
 * mapped list is cached as `<data_dir>/instruments/YYYY-MM-DD.json` (IST date;
 * a JSON array, one instrument per line) so restarts during the day, and the
 * `rustro instruments` command, do not download it again.
 */
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import axios from 'axios';
import { z } from 'zod';
import type { Exchange, Instrument, InstrumentKind } from '../broker.js';
import { istDate, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { splitJsonArray } from './json-stream.js';
import { describeIssues, masterRow, type MasterRow } from './schemas.js';
import { EXCHANGES, exchangeSchema } from '../../core/events.js';

export const DEFAULT_MASTER_URL = 'https://margincalculator.angelone.in/OpenAPI_File/files/OpenAPIScripMaster.json';

const MONTHS: Record<string, string> = {
  JAN: '01', FEB: '02', MAR: '03', APR: '04', MAY: '05', JUN: '06',
  JUL: '07', AUG: '08', SEP: '09', OCT: '10', NOV: '11', DEC: '12',
};

const expiryMemo = new Map<string, string | undefined>();

/** `27NOV2025` / `04Apr2024` → `2025-11-27`; undefined when not a real date. */
export function parseExpiry(text: string): string | undefined {
  if (expiryMemo.has(text)) return expiryMemo.get(text);
  const out = parseExpiryText(text);
  if (expiryMemo.size < 10_000) expiryMemo.set(text, out);
  return out;
}

function parseExpiryText(text: string): string | undefined {
  const m = /^(\d{2})([A-Za-z]{3})(\d{4})$/.exec(text.trim());
  if (m === null) return undefined;
  const month = MONTHS[m[2]!.toUpperCase()];
  if (month === undefined) return undefined;
  const iso = `${m[3]}-${month}-${m[1]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? undefined : iso;
}

const KINDS: Record<string, InstrumentKind> = {
  AMXIDX: 'index',
  OPTIDX: 'option',
  OPTSTK: 'option',
  FUTIDX: 'future',
  FUTSTK: 'future',
  '': 'equity',
};
const EXCHANGE_SET: ReadonlySet<string> = new Set(EXCHANGES);

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

export type RowResult = { ok: Instrument } | { skip: string } | { bad: string };

/** One raw master row → an `Instrument`, a skip (exchange/type Rustro does not use) or a bad row with the reason. */
export function mapMasterRow(raw: unknown): RowResult {
  const p = masterRow.safeParse(raw);
  if (!p.success) return { bad: describeIssues(p.error) };
  return mapParsedRow(p.data);
}

function mapParsedRow(r: MasterRow): RowResult {
  const exchange = r.exch_seg.toUpperCase();
  if (!EXCHANGE_SET.has(exchange)) return { skip: `exchange ${exchange}` };
  const kind = KINDS[r.instrumenttype.toUpperCase()];
  if (kind === undefined) return { skip: `type ${r.instrumenttype}` };
  if (!(Number.isInteger(r.lotsize) && r.lotsize > 0)) return { bad: `${r.symbol}: lotsize ${r.lotsize} is not a positive integer` };
  const inst: Instrument = {
    token: r.token,
    symbol: r.symbol,
    name: r.name,
    exchange: exchange as Exchange,
    kind,
    lotSize: r.lotsize,
    tickSize: round4(r.tick_size / 100),
  };
  if (kind === 'option' || kind === 'future') {
    const expiry = parseExpiry(r.expiry);
    if (expiry === undefined) return { bad: `${r.symbol}: expiry '${r.expiry}' is not DDMMMYYYY` };
    inst.expiry = expiry;
  }
  if (kind === 'option') {
    const suffix = r.symbol.slice(-2).toUpperCase();
    if (suffix !== 'CE' && suffix !== 'PE') return { bad: `${r.symbol}: option symbol does not end in CE or PE` };
    if (!(r.strike > 0)) return { bad: `${r.symbol}: strike ${r.strike} is not positive` };
    inst.optionType = suffix;
    inst.strike = round4(r.strike / 100);
  }
  // freeze_qty is in some files only (not in the documented 9 columns). Angel's values look like
  // "first frozen quantity" (lots × n + 1): the largest lot multiple strictly below it is safe either way.
  if (r.freeze_qty !== undefined && r.freeze_qty > 1) {
    const max = Math.floor((r.freeze_qty - 1) / r.lotsize) * r.lotsize;
    if (max > 0) inst.freezeQty = max;
  }
  return { ok: inst };
}

export type MasterStats = {
  rows: number;
  instruments: number;
  skipped: number;
  bad: number;
  /** The first few bad rows' reasons (row number: reason). */
  badSamples: string[];
};

/** Parses a master stream into instruments, counting skipped and bad rows. */
export async function parseMaster(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, label = 'instrument master'): Promise<{ instruments: Instrument[]; stats: MasterStats }> {
  const instruments: Instrument[] = [];
  const stats: MasterStats = { rows: 0, instruments: 0, skipped: 0, bad: 0, badSamples: [] };
  for await (const text of splitJsonArray(source, label)) {
    stats.rows++;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const r = raw === undefined ? { bad: 'not valid JSON' } : mapMasterRow(raw);
    if ('ok' in r) instruments.push(r.ok);
    else if ('skip' in r) stats.skipped++;
    else {
      stats.bad++;
      if (stats.badSamples.length < 5) stats.badSamples.push(`row ${stats.rows}: ${r.bad}`);
    }
  }
  stats.instruments = instruments.length;
  return { instruments, stats };
}

// ── the day's cache ────────────────────────────────────────────────────────

const cachedInstrument = z.object({
  token: z.string().min(1),
  symbol: z.string().min(1),
  name: z.string(),
  exchange: exchangeSchema,
  kind: z.enum(['index', 'option', 'future', 'equity']),
  expiry: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  strike: z.number().positive().optional(),
  optionType: z.enum(['CE', 'PE']).optional(),
  lotSize: z.number().int().positive(),
  tickSize: z.number().nonnegative(),
  freezeQty: z.number().int().positive().optional(),
});

export function cacheDir(dataDir: string): string {
  return join(dataDir, 'instruments');
}

export function cacheFile(dataDir: string, date: string): string {
  return join(cacheDir(dataDir), `${date}.json`);
}

/** The newest `YYYY-MM-DD.json` in the cache, if any. */
export function newestCacheFile(dataDir: string): string | undefined {
  const dir = cacheDir(dataDir);
  if (!existsSync(dir)) return undefined;
  const days = readdirSync(dir).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f)).sort();
  const last = days.at(-1);
  return last === undefined ? undefined : join(dir, last);
}

/** Writes the list as a JSON array, one instrument per line, durably and atomically (tmp, fsync, rename, fsync of the folder). */
export function writeCache(file: string, instruments: readonly Instrument[]): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const lines = instruments.map((i) => JSON.stringify(i));
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `[\n${lines.join(',\n')}\n]\n`);
    fsyncSync(fd); // the bytes are on disk before the name points at them: a crash leaves the old file or the whole new one
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Directory fsync is not supported everywhere (e.g. some platforms refuse it); the rename itself is atomic.
  }
}

/**
 * Reads a cache file (streamed, each entry checked; an entry that is not JSON
 * or not an instrument counts as bad). Throws, naming the file, when the file
 * is not a whole JSON array (truncated, garbage).
 */
export async function readCache(file: string): Promise<{ instruments: Instrument[]; bad: number }> {
  const instruments: Instrument[] = [];
  let bad = 0;
  for await (const text of splitJsonArray(createReadStream(file), `instrument cache ${file}`)) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      bad++;
      continue;
    }
    const p = cachedInstrument.safeParse(raw);
    if (p.success) instruments.push(p.data as Instrument);
    else bad++;
  }
  return { instruments, bad };
}

export type MasterConfig = {
  url: string;
  /** Download timeout (the file is tens of MB). */
  timeoutMs: number;
};

export const DEFAULT_MASTER: MasterConfig = { url: DEFAULT_MASTER_URL, timeoutMs: 120_000 };

export type LoadedMaster = {
  instruments: Instrument[];
  /** Where they came from: the cache file, or the URL (then also cached to `file`). */
  source: 'cache' | 'download';
  file: string;
  stats?: MasterStats;
};

/**
 * Today's instruments: from the cache when it is there, else downloaded,
 * parsed and cached. `day` (YYYY-MM-DD, IST) is the trading day the master is
 * for — the market's date, which a replay's market clock gives (the wall
 * clock's date would hand every replayed morning the first one's master);
 * default the clock's date. `clock` times the download.
 */
export async function loadInstruments(opts: { dataDir: string; clock: Clock; day?: string; master?: Partial<MasterConfig>; log?: Logger; refresh?: boolean }): Promise<LoadedMaster> {
  const cfg = { ...DEFAULT_MASTER, ...opts.master };
  const file = cacheFile(opts.dataDir, opts.day ?? istDate(opts.clock.now()));
  if (opts.refresh !== true && existsSync(file)) {
    try {
      const { instruments, bad } = await readCache(file);
      if (instruments.length > 0 && bad === 0) return { instruments, source: 'cache', file };
      // A cache with damaged entries is not trusted (a missing row is a missing contract): download again.
      opts.log?.warn({ file, good: instruments.length, bad }, 'instrument cache is damaged; downloading the master again');
    } catch (err) {
      opts.log?.warn({ file, error: err instanceof Error ? err.message : String(err) }, 'instrument cache is unreadable; downloading the master again');
    }
  }
  const t0 = opts.clock.now();
  const res = await axios.get<Readable>(cfg.url, { responseType: 'stream', timeout: cfg.timeoutMs, proxy: false, maxRedirects: 3, validateStatus: () => true });
  if (res.status !== 200) {
    res.data.destroy();
    throw new Error(`instrument master download failed: HTTP ${res.status} from ${cfg.url}`);
  }
  const { instruments, stats } = await parseMaster(res.data, `instrument master ${cfg.url}`);
  if (instruments.length === 0) throw new Error(`instrument master from ${cfg.url} held no usable rows (${stats.rows} rows, ${stats.bad} bad)`);
  writeCache(file, instruments);
  const level = stats.bad > 0 ? 'warn' : 'info';
  opts.log?.[level]({ ...stats, ms: opts.clock.now() - t0, file }, 'instrument master downloaded');
  return { instruments, source: 'download', file, stats };
}
