/** `rustro feed decode FILE | --hex HEX`: decodes recorded or pasted SmartStream binary frames into JSON lines. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrameDetail, hexPrefix, isRejection } from '../broker/smartapi/codec.js';
import { RecordingError, readFrames } from '../broker/smartapi/recorder.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command, type Io } from './command.js';

const usage = `usage: rustro feed decode FILE
       rustro feed decode --hex HEX
  FILE   a raw feed recording (data/ticks/YYYY-MM-DD.frames; a bare name is looked up there too): one JSON line per frame,
         every field of its mode, prices in rupees, plus receivedAt (epoch ms)
  --hex  one binary frame as hex (spaces and colons allowed)
A refused frame prints {"rejected": reason, ...}; the exit code is 1 if any frame was refused.`;

type Args = { file: string } | { hex: string };

function parseArgs(args: string[]): Args {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError('missing subcommand');
  if (sub !== 'decode') throw new UsageError(`unknown subcommand '${sub}'`);
  let hex: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--hex') {
      const v = rest[++i];
      if (v === undefined) throw new UsageError('--hex needs a value');
      hex = v;
    } else if (a.startsWith('--hex=')) hex = a.slice('--hex='.length);
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else positional.push(a);
  }
  if (hex !== undefined) {
    if (positional.length > 0) throw new UsageError('give either FILE or --hex HEX, not both');
    return { hex };
  }
  if (positional.length === 0) throw new UsageError('missing FILE (or --hex HEX)');
  if (positional.length > 1) throw new UsageError(`unexpected argument '${positional[1]}'`);
  return { file: positional[0]! };
}

function parseHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '').replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(clean)) throw new UsageError('--hex: not hexadecimal');
  if (clean.length % 2 !== 0) throw new UsageError(`--hex: odd number of hex digits (${clean.length})`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** One frame as a JSON line; false when it was refused. */
function printFrame(frame: Uint8Array, io: Io, receivedAt?: number): boolean {
  const d = decodeFrameDetail(frame);
  const at = receivedAt === undefined ? {} : { receivedAt };
  if (isRejection(d)) {
    io.out(JSON.stringify({ rejected: d.rejected, length: frame.length, headHex: hexPrefix(frame), ...at }));
    return false;
  }
  io.out(JSON.stringify({ ...d, ...at }));
  return true;
}

const command: Command = {
  summary: 'decode raw SmartStream frames (recordings or hex) to JSON',
  usage,
  async main(args, io) {
    const a = parseArgs(args);
    if ('hex' in a) return printFrame(parseHex(a.hex), io) ? EXIT_OK : EXIT_FAILED;
    // A bare day-file name also resolves under data/ticks/.
    const file = !existsSync(a.file) && !a.file.includes('/') && existsSync(join('data', 'ticks', a.file)) ? join('data', 'ticks', a.file) : a.file;
    if (!existsSync(file)) {
      io.err(`rustro feed: no such file: ${a.file}`);
      return EXIT_FAILED;
    }
    let refused = 0;
    try {
      for await (const r of readFrames(file)) if (!printFrame(r.frame, io, r.receivedAt)) refused++;
    } catch (err) {
      if (!(err instanceof RecordingError)) throw err;
      io.err(`rustro feed: ${err.message}`);
      return EXIT_FAILED;
    }
    if (refused > 0) io.err(`rustro feed: ${refused} frame(s) refused`);
    return refused > 0 ? EXIT_FAILED : EXIT_OK;
  },
};
export default command;
