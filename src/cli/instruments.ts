/** `rustro instruments search NAME [STRIKE] [CE|PE] [--expiry YYYY-MM-DD] [--data-dir D]`: looks up the cached instrument master. */
import { existsSync } from 'node:fs';
import type { Instrument, OptionType } from '../broker/broker.js';
import { InstrumentIndex } from '../broker/smartapi/instrument-index.js';
import { newestCacheFile, readCache } from '../broker/smartapi/instruments.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command, type Io } from './command.js';

const usage = `usage: rustro instruments search NAME [STRIKE] [CE|PE] [--expiry YYYY-MM-DD] [--data-dir D] [--file F] [--limit N]
  NAME     underlying, e.g. NIFTY, BANKNIFTY, SENSEX (case ignored)
  STRIKE   strike in rupees, e.g. 24000
  CE|PE    option type
  --expiry only this expiry
Reads the newest cached master <data-dir>/instruments/YYYY-MM-DD.json (data-dir defaults to "data"),
which the daemon writes when it downloads the day's master. Prints at most --limit rows (default 50).`;

type Args = { name: string; strike?: number; optionType?: OptionType; expiry?: string; dataDir: string; file?: string; limit: number };

function parseArgs(args: string[]): Args {
  const positional: string[] = [];
  let dataDir = 'data';
  let expiry: string | undefined;
  let file: string | undefined;
  let limit = 50;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    if (['--data-dir', '--expiry', '--file', '--limit'].includes(flag)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      if (flag === '--data-dir') dataDir = v;
      else if (flag === '--file') file = v;
      else if (flag === '--limit') {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--limit wants a positive integer, got '${v}'`);
        limit = Number(v);
      } else {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new UsageError(`--expiry wants YYYY-MM-DD, got '${v}'`);
        expiry = v;
      }
    } else if (a.startsWith('-') && !/^-?\d/.test(a)) throw new UsageError(`unknown option '${a}'`);
    else positional.push(a);
  }
  const [sub, name, ...rest] = positional;
  if (sub === undefined) throw new UsageError('missing subcommand (search)');
  if (sub !== 'search') throw new UsageError(`unknown subcommand '${sub}'`);
  if (name === undefined) throw new UsageError('missing NAME (e.g. NIFTY)');
  const out: Args = { name, dataDir, limit };
  if (expiry !== undefined) out.expiry = expiry;
  if (file !== undefined) out.file = file;
  for (const r of rest) {
    const u = r.toUpperCase();
    if (u === 'CE' || u === 'PE') {
      if (out.optionType !== undefined) throw new UsageError(`option type given twice ('${r}')`);
      out.optionType = u;
    } else if (/^\d+(\.\d+)?$/.test(r)) {
      if (out.strike !== undefined) throw new UsageError(`strike given twice ('${r}')`);
      out.strike = Number(r);
    } else throw new UsageError(`unexpected argument '${r}' (want a strike or CE/PE)`);
  }
  return out;
}

const COLUMNS: Array<[string, (i: Instrument) => string]> = [
  ['TOKEN', (i) => i.token],
  ['SYMBOL', (i) => i.symbol],
  ['EXCH', (i) => i.exchange],
  ['KIND', (i) => i.kind],
  ['EXPIRY', (i) => i.expiry ?? ''],
  ['STRIKE', (i) => (i.strike === undefined ? '' : String(i.strike))],
  ['TYPE', (i) => i.optionType ?? ''],
  ['LOT', (i) => String(i.lotSize)],
  ['TICK', (i) => String(i.tickSize)],
  ['FREEZE', (i) => (i.freezeQty === undefined ? '' : String(i.freezeQty))],
];

export function formatTable(rows: readonly Instrument[]): string[] {
  const cells = rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = COLUMNS.map(([h], c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (vals: string[]): string => vals.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(COLUMNS.map(([h]) => h)), ...cells.map(line)];
}

async function main(args: string[], io: Io): Promise<number> {
  const a = parseArgs(args);
  const file = a.file ?? newestCacheFile(a.dataDir);
  if (file === undefined || !existsSync(file)) {
    io.err(`rustro instruments: no cached instrument master ${a.file !== undefined ? `at ${a.file}` : `in ${a.dataDir}/instruments`} (the daemon downloads and caches it each day)`);
    return EXIT_FAILED;
  }
  const { instruments } = await readCache(file);
  const index = new InstrumentIndex(instruments);
  const q = { name: a.name, ...(a.strike !== undefined ? { strike: a.strike } : {}), ...(a.optionType !== undefined ? { optionType: a.optionType } : {}), ...(a.expiry !== undefined ? { expiry: a.expiry } : {}) };
  const hits = index.search(q);
  if (hits.length === 0) {
    const exp = index.expiries(a.name);
    io.err(`no instruments match in ${file}${exp.length > 0 ? ` (expiries of ${a.name.toUpperCase()}: ${exp.slice(0, 6).join(', ')}${exp.length > 6 ? ', …' : ''})` : ''}`);
    return EXIT_FAILED;
  }
  for (const l of formatTable(hits.slice(0, a.limit))) io.out(l);
  if (hits.length > a.limit) io.out(`… ${hits.length - a.limit} more (use --limit or narrow with STRIKE, CE/PE, --expiry)`);
  return EXIT_OK;
}

const command: Command = { summary: 'search the cached instrument master (token, symbol, lot, expiry)', usage, main };
export default command;
