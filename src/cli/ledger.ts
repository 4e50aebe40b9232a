/** `rustro ledger stats|tail|replay|verify [FILE] [--data-dir D] [-n N]`: looks into a ledger day file. */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { toIst } from '../core/clock.js';
import { LedgerReadError, ledgerFiles, replay, verify } from '../core/ledger.js';
import { decodeLine } from '../core/ledger/format.js';
import { lineChunks } from '../core/ledger/read.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command, type Io } from './command.js';

const usage = `usage: rustro ledger <stats|tail|replay|verify> [FILE] [--data-dir D] [-n N] [--all]
  stats    lines, seq range, IST time range, counts per event type, file size
  tail     the last N lines (default 20), human readable
  replay   every record as one JSON line
  verify   checks every line, the hash chain and the seq run; exit 1 on any problem
           --all: every day file in <data-dir>/ledger, and that seq runs on from one file to the next
FILE defaults to the newest day file in <data-dir>/ledger (data-dir defaults to "data").`;

type Args = { sub: string; file: string | undefined; dataDir: string; n: number; all: boolean };

function parseArgs(args: string[]): Args {
  let dataDir = 'data';
  let n = 20;
  let all = false;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--data-dir' || a === '-n') {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === '--data-dir') dataDir = v;
      else {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`-n wants a positive integer, got '${v}'`);
        n = Number(v);
      }
    } else if (a === '--all') all = true;
    else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else positional.push(a);
  }
  const [sub, file, ...extra] = positional;
  if (sub === undefined) throw new UsageError('missing subcommand');
  if (!['stats', 'tail', 'replay', 'verify'].includes(sub)) throw new UsageError(`unknown subcommand '${sub}'`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (all && (sub !== 'verify' || file !== undefined)) throw new UsageError('--all goes with verify and no FILE');
  return { sub, file, dataDir, n, all };
}

/** The file to look at, or a message saying why there is none. */
function resolveFile(a: Args): { file: string } | { error: string } {
  const dir = join(a.dataDir, 'ledger');
  if (a.file !== undefined) {
    if (existsSync(a.file)) return { file: a.file };
    const inDir = join(dir, a.file);
    if (!a.file.includes('/') && existsSync(inDir)) return { file: inDir };
    return { error: `no such ledger file: ${a.file}` };
  }
  const newest = ledgerFiles(dir).at(-1);
  return newest === undefined ? { error: `no ledger: no YYYY-MM-DD.jsonl files in ${dir}` } : { file: newest };
}

const istTime = (ms: number): string => toIst(ms).toFormat('yyyy-MM-dd HH:mm:ss.SSS');

async function stats(file: string, io: Io): Promise<number> {
  let lines = 0;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let minTs = Infinity;
  let maxTs = -Infinity;
  const counts = new Map<string, number>();
  for await (const r of replay(file)) {
    lines++;
    firstSeq ??= r.seq;
    lastSeq = r.seq;
    if (r.ts < minTs) minTs = r.ts;
    if (r.ts > maxTs) maxTs = r.ts;
    counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  }
  io.out(`file   ${file}`);
  io.out(`size   ${statSync(file).size.toLocaleString('en-US')} bytes`);
  io.out(`lines  ${lines}`);
  if (lines > 0) {
    io.out(`seq    ${firstSeq}..${lastSeq}`);
    io.out(`time   ${istTime(minTs)} .. ${istTime(maxTs)} IST`);
    io.out('types');
    const width = Math.max(...[...counts.keys()].map((k) => k.length));
    for (const [type, c] of [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))) io.out(`  ${type.padEnd(width)}  ${c}`);
  }
  return EXIT_OK;
}

/** Keeps the last N raw lines and decodes only those, so a bad line elsewhere does not hide the tail. */
async function tail(file: string, n: number, io: Io): Promise<number> {
  const ring: { line: number; text: string }[] = [];
  const chunks = lineChunks(file);
  let next = await chunks.next();
  let lineNo = 0;
  while (next.done !== true) {
    const { lines, first } = next.value;
    for (let i = Math.max(0, lines.length - n); i < lines.length; i++) ring.push({ line: first + i, text: lines[i]! });
    if (ring.length > n) ring.splice(0, ring.length - n);
    lineNo = first + lines.length - 1;
    next = await chunks.next();
  }
  let failed = false;
  for (const { line, text } of ring) {
    const r = decodeLine(text);
    if (typeof r === 'string') {
      io.out(`line ${line}: BAD: ${r}`);
      failed = true;
    } else io.out(`${istTime(r.ts)}  #${r.seq}  ${r.type}  ${JSON.stringify(r.data)}`);
  }
  if (next.value !== undefined) {
    io.out(`line ${lineNo + 1}: BAD: incomplete last line (no newline)`);
    failed = true;
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

async function replayOut(file: string, io: Io): Promise<number> {
  for await (const r of replay(file)) io.out(JSON.stringify(r));
  return EXIT_OK;
}

async function verifyOut(file: string, io: Io): Promise<number> {
  const rep = await verify(file);
  if (rep.ok) {
    const seq = rep.firstSeq === undefined ? 'no records' : `seq ${rep.firstSeq}..${rep.lastSeq}`;
    io.out(`OK ${basename(file)}: ${rep.lines} lines, ${seq}`);
    return EXIT_OK;
  }
  for (const p of rep.problems) io.out(`line ${p.line}: ${p.message}`);
  io.out(`FAILED ${basename(file)}: ${rep.problems.length} problem(s) in ${rep.lines} lines`);
  return EXIT_FAILED;
}

/** Every day file, and the seq carried on from each file to the next (a lost day file shows as a gap). */
async function verifyAll(dir: string, io: Io): Promise<number> {
  const files = ledgerFiles(dir);
  if (files.length === 0) {
    io.err(`rustro ledger: no ledger: no YYYY-MM-DD.jsonl files in ${dir}`);
    return EXIT_FAILED;
  }
  let failed = false;
  let prevLast: number | undefined;
  let prevName = '';
  for (const f of files) {
    if ((await verifyOut(f, io)) !== EXIT_OK) failed = true;
    const rep = await verify(f);
    if (prevLast !== undefined && rep.firstSeq !== undefined && rep.firstSeq !== prevLast + 1) {
      io.out(`seq gap: ${prevName} ends at ${prevLast}, ${basename(f)} starts at ${rep.firstSeq}`);
      failed = true;
    }
    if (rep.lastSeq !== undefined) {
      prevLast = rep.lastSeq;
      prevName = basename(f);
    }
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

const command: Command = {
  summary: 'inspect a ledger day file: stats, tail, replay, verify',
  usage,
  async main(args, io) {
    const a = parseArgs(args);
    if (a.all) return verifyAll(join(a.dataDir, 'ledger'), io);
    const target = resolveFile(a);
    if ('error' in target) {
      io.err(`rustro ledger: ${target.error}`);
      return EXIT_FAILED;
    }
    try {
      switch (a.sub) {
        case 'stats': return await stats(target.file, io);
        case 'tail': return await tail(target.file, a.n, io);
        case 'replay': return await replayOut(target.file, io);
        default: return await verifyOut(target.file, io);
      }
    } catch (err) {
      if (err instanceof LedgerReadError) {
        io.err(`rustro ledger ${a.sub}: ${err.message}`);
        return EXIT_FAILED;
      }
      throw err;
    }
  },
};
export default command;
