/**
 * `rustro data bars --ticks FILE --tf 1m,5m,1h [--out DIR]`: a tick file to
 * bars, through the same aggregator the daemon runs (session-anchored, the
 * same drop rules; every open bar is finalised at the end of the file).
 *
 * The tick file is either a CSV with the header `ts,token,ltp,cum_volume`
 * (`ts` epoch milliseconds or ISO-8601 with an offset; `cum_volume` may be
 * empty) or a recorded raw-frame file (`data/ticks/*.frames`).
 *
 * `rustro data indicators --bars FILE`: the streaming indicators
 * (src/indicators, TA-Lib definitions) over a bar CSV, one output row per
 * bar, so a user can check them against TA-Lib or a charting tool. The file
 * is streamed line by line; a bad line stops with file:line and the column.
 */
import { mkdirSync, openSync, readSync, closeSync, writeFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { parseArgs } from 'node:util';
import type { Tick } from '../broker/broker.js';
import { Adx } from '../indicators/adx.js';
import { Atr } from '../indicators/atr.js';
import { Ema } from '../indicators/ema.js';
import { Rsi } from '../indicators/rsi.js';
import { Sma } from '../indicators/sma.js';
import { Supertrend } from '../indicators/supertrend.js';
import { SessionVwap } from '../indicators/vwap.js';
import { decodeTick, isRejection } from '../broker/smartapi/codec.js';
import { RecordingError, readFrames } from '../broker/smartapi/recorder.js';
import { toIst } from '../core/clock.js';
import { Aggregator } from '../market/aggregator.js';
import type { Bar } from '../market/bar.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../market/calendar.js';
import { SessionClock, type Timeframe, parseTimeframes } from '../market/timeframes.js';
import { EXIT_FAILED, EXIT_OK, type Command, type Io, UsageError } from './command.js';

const BAR_HEADER = 'ts,open,high,low,close,volume';
const INDICATORS_HEADER = 'ts,ema9,ema21,sma20,rsi14,atr14,adx14,pdi14,mdi14,st10_3,st10_3_dir,vwap';

const usage = `usage: rustro data bars --ticks FILE --tf 1m,5m,1h [--out DIR]
       rustro data indicators --bars FILE
  --ticks FILE  a tick CSV with header ts,token,ltp,cum_volume (ts epoch ms or ISO-8601 with offset;
                cum_volume may be empty), or a recorded raw-frame file (data/ticks/*.frames)
  --tf LIST     timeframes, comma-separated: 1m, 3m, 5m, 15m, 1h, 1d
  --out DIR     write DIR/<token>_<tf>.csv per token and timeframe; without it (one timeframe,
                one token) the bars go to stdout
Bar CSV: ts,open,high,low,close,volume — ts the bar's start, ISO-8601 with +05:30; volume empty where there was none.
Ticks outside the session, late or duplicate are dropped by the aggregator's rules and counted on stderr.
indicators:
  --bars FILE   a bar CSV as above (ts epoch ms or ISO-8601 with offset, strictly increasing; .gz read as gzip)
Prints CSV, one row per bar, ts as given: ${INDICATORS_HEADER}
  (TA-Lib definitions: EMA, SMA, RSI, ATR, ADX, +DI/-DI; st10_3 = Supertrend(10, 3), st10_3_dir 1 up / -1 down;
  vwap per IST day, empty without volume). Cells are empty while an indicator warms up.`;

const CSV_HEADER = 'ts,token,ltp,cum_volume';

/** A bad line in an input file (tick or bar CSV): the message names file:line and the column. */
class TickFileError extends Error {
  override name = 'TickFileError';
}

function parseTs(text: string, where: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    throw new TickFileError(`${where}: ts: expected epoch milliseconds or ISO-8601 with an offset (e.g. 2024-02-15T09:15:00+05:30), found '${text}'`);
  }
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new TickFileError(`${where}: ts: not a valid date '${text}'`);
  return ms;
}

async function* csvTicks(file: string): AsyncGenerator<Tick> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    const line = raw.trim();
    if (n === 1) {
      if (line.replace(/^\uFEFF/, '') !== CSV_HEADER) throw new TickFileError(`${file}:1: expected the header '${CSV_HEADER}', found '${line}'`);
      continue;
    }
    if (line === '') continue;
    const cells = line.split(',');
    const where = `${file}:${n}`;
    if (cells.length !== 4) throw new TickFileError(`${where}: expected 4 columns (${CSV_HEADER}), found ${cells.length}`);
    const [ts, token, ltp, vol] = cells as [string, string, string, string];
    if (!/^\d{1,20}$/.test(token)) throw new TickFileError(`${where}: token: expected digits, found '${token}'`);
    const price = Number(ltp);
    if (ltp === '' || !Number.isFinite(price)) throw new TickFileError(`${where}: ltp: expected a number, found '${ltp}'`);
    const tick: Tick = { token, exchange: 'NSE', mode: 'ltp', exchTs: parseTs(ts, where), ltp: price };
    if (vol !== '') {
      const v = Number(vol);
      if (!Number.isFinite(v) || v < 0) throw new TickFileError(`${where}: cum_volume: expected a non-negative number or empty, found '${vol}'`);
      tick.volume = v;
    }
    yield tick;
  }
}

async function* frameTicks(file: string): AsyncGenerator<Tick> {
  for await (const r of readFrames(file)) {
    const t = decodeTick(r.frame);
    if (!isRejection(t)) yield t;
  }
}

function isCsv(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(CSV_HEADER.length + 3);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '').startsWith('ts,');
  } finally {
    closeSync(fd);
  }
}

const istIso = (ms: number): string => toIst(ms).toISO({ suppressMilliseconds: true }) ?? String(ms);

export function barsCsv(bars: readonly Bar[]): string {
  const rows = bars.map((b) => `${istIso(b.ts)},${b.open},${b.high},${b.low},${b.close},${b.volume ?? ''}`);
  return [BAR_HEADER, ...rows].join('\n') + '\n';
}

type CsvBar = { tsText: string; ts: number; open: number; high: number; low: number; close: number; volume?: number };

/** A bar CSV, line by line, each line checked: numbers, low ≤ open, close ≤ high, ts strictly increasing. */
async function* csvBars(file: string): AsyncGenerator<CsvBar> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw.setEncoding('utf8');
  if (input !== raw) raw.on('error', (err) => input.destroy(err)); // pipe() does not pass errors on
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let prevTs = -Infinity;
  try {
    for await (const text of lines) {
      n++;
      const line = text.trim();
      if (n === 1) {
        if (line.replace(/^\uFEFF/, '') !== BAR_HEADER) throw new TickFileError(`${file}:1: expected the header '${BAR_HEADER}', found '${line}'`);
        continue;
      }
      if (line === '') continue;
      const where = `${file}:${n}`;
      const cells = line.split(',');
      if (cells.length !== 6) throw new TickFileError(`${where}: expected 6 columns (${BAR_HEADER}), found ${cells.length}`);
      const [tsText, ...rest] = cells as [string, string, string, string, string, string];
      const [open, high, low, close] = ['open', 'high', 'low', 'close'].map((name, i) => {
        const x = Number(rest[i]);
        if (rest[i] === '' || !Number.isFinite(x)) throw new TickFileError(`${where}: ${name}: expected a number, found '${rest[i]}'`);
        return x;
      }) as [number, number, number, number];
      if (high < low) throw new TickFileError(`${where}: high ${high} is below low ${low}`);
      for (const [name, x] of [['open', open], ['close', close]] as const) {
        if (x < low || x > high) throw new TickFileError(`${where}: ${name}: ${x} is outside the bar's low..high (${low}..${high})`);
      }
      const ts = parseTs(tsText, where);
      if (ts <= prevTs) throw new TickFileError(`${where}: ts: '${tsText}' is not after the previous bar's ts`);
      prevTs = ts;
      const bar: CsvBar = { tsText, ts, open, high, low, close };
      const vol = rest[4];
      if (vol !== '') {
        const v = Number(vol);
        if (!Number.isFinite(v) || v < 0) throw new TickFileError(`${where}: volume: expected a non-negative number or empty, found '${vol}'`);
        bar.volume = v;
      }
      yield bar;
    }
  } catch (err) {
    if (err instanceof TickFileError) throw err;
    // A read error (a directory, a corrupt .gz): readline passes it on here.
    throw new TickFileError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (n === 0) throw new TickFileError(`${file}: empty, expected the header '${BAR_HEADER}'`);
}

/** Empty for NaN (warming up); otherwise String(x), which round-trips. */
const cell = (x: number): string => (Number.isNaN(x) ? '' : String(x));

async function indicators(args: string[], io: Io): Promise<number> {
  let values: { bars?: string | undefined };
  try {
    ({ values } = parseArgs({ args, options: { bars: { type: 'string' } }, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const file = values.bars;
  if (file === undefined) throw new UsageError('missing --bars FILE');
  const [ema9, ema21, sma20, rsi14] = [new Ema(9), new Ema(21), new Sma(20), new Rsi(14)];
  const [atr14, adx14, st, vwap] = [new Atr(14), new Adx(14), new Supertrend(10, 3), new SessionVwap()];
  let header = false; // printed once the input's header has passed, so a wrong file prints only the error
  try {
    for await (const b of csvBars(file)) {
      if (!header) io.out(INDICATORS_HEADER);
      header = true;
      const { high: h, low: l, close: c } = b;
      adx14.update(h, l, c);
      st.update(h, l, c);
      const row = [ema9.update(c), ema21.update(c), sma20.update(c), rsi14.update(c), atr14.update(h, l, c), adx14.adx, adx14.plusDI, adx14.minusDI, st.value];
      io.out(`${b.tsText},${row.map(cell).join(',')},${st.direction === 0 ? '' : st.direction},${cell(vwap.update(b.ts, h, l, c, b.volume))}`);
    }
  } catch (err) {
    if (!(err instanceof TickFileError)) throw err;
    io.err(`rustro data: ${err.message}`);
    return EXIT_FAILED;
  }
  if (!header) io.out(INDICATORS_HEADER);
  return EXIT_OK;
}

function parse(args: string[]): { ticks: string; tfs: Timeframe[]; out?: string } {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError('missing subcommand (bars, indicators)');
  if (sub !== 'bars') throw new UsageError(`unknown subcommand '${sub}'`);
  let values: { ticks?: string | undefined; tf?: string | undefined; out?: string | undefined };
  try {
    ({ values } = parseArgs({ args: rest, options: { ticks: { type: 'string' }, tf: { type: 'string' }, out: { type: 'string' } }, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.ticks === undefined) throw new UsageError('missing --ticks FILE');
  if (values.tf === undefined) throw new UsageError('missing --tf LIST');
  let tfs: Timeframe[];
  try {
    tfs = parseTimeframes(values.tf);
  } catch (err) {
    throw new UsageError(`--tf: ${(err as Error).message}`);
  }
  if (values.out === undefined && tfs.length > 1) throw new UsageError('several timeframes need --out DIR (one file per token and timeframe)');
  return { ticks: values.ticks, tfs, ...(values.out === undefined ? {} : { out: values.out }) };
}

const command: Command = {
  summary: 'market data tools: ticks (CSV or recorded frames) to bars; indicators over bars',
  usage,
  async main(args: string[], io: Io): Promise<number> {
    if (args[0] === 'indicators') return indicators(args.slice(1), io);
    const a = parse(args);
    let csv: boolean;
    try {
      csv = isCsv(a.ticks);
    } catch (err) {
      io.err(`rustro data: cannot read ${a.ticks}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return EXIT_FAILED;
    }
    const bars: Bar[] = [];
    const agg = new Aggregator({
      sessions: new SessionClock(TradingCalendar.load(DEFAULT_CALENDAR_DIR)),
      timeframes: a.tfs,
      onBarClosed: (b) => bars.push(b),
    });
    let ticks = 0;
    try {
      for await (const t of csv ? csvTicks(a.ticks) : frameTicks(a.ticks)) {
        ticks++;
        agg.onTick(t);
      }
    } catch (err) {
      if (!(err instanceof TickFileError || err instanceof RecordingError)) throw err;
      io.err(`rustro data: ${err.message}`);
      return EXIT_FAILED;
    }
    agg.finalize();
    const d = agg.dropped;
    if (d.late + d.duplicate + d.outsideSession > 0) {
      io.err(`rustro data: ${ticks} ticks read; dropped ${d.late} late, ${d.duplicate} duplicate, ${d.outsideSession} outside the session`);
    }
    const tokens = [...new Set(bars.map((b) => b.token))].sort();
    if (a.out === undefined) {
      if (tokens.length > 1) {
        io.err(`rustro data: the file has ${tokens.length} tokens (${tokens.join(', ')}): give --out DIR for one file per token`);
        return EXIT_FAILED;
      }
      io.out(barsCsv(bars).trimEnd());
      return EXIT_OK;
    }
    mkdirSync(a.out, { recursive: true });
    for (const token of tokens) {
      for (const tf of a.tfs) {
        const file = join(a.out, `${token}_${tf}.csv`);
        writeFileSync(file, barsCsv(bars.filter((b) => b.token === token && b.tf === tf)));
        io.out(`${file}: ${bars.filter((b) => b.token === token && b.tf === tf).length} bars`);
      }
    }
    return EXIT_OK;
  },
};
export default command;
