/**
 * One ledger line: how an event is encoded, hashed into its file's chain, and
 * decoded + validated back. Shared by the writer, the open-time repair, replay
 * and verify, so all four agree on what a good line is.
 *
 * Line: {"seq":N,"ts":MS,"type":"T","v":V,"data":{...},"h":"<12 hex>"}\n
 * body = the same JSON without the `h` member; h = H(prev_h + body), where
 * prev_h is the previous line's `h` in the same file, or GENESIS for a file's
 * first line, so every day file verifies on its own. The writer builds a line
 * in bytes (`writeBody`, `chainHashBytes`, `putLine`); the readers hold lines
 * as text and check them with `splitHash` and `chainHash`: the same digest.
 *
 * Hash: the first 12 hex chars (48 bits) of SHA-256, via node's one-shot
 * `crypto.hash` (~0.7 µs per line here, vs ~1.8 µs for createHash(); SHA-1/MD5
 * are no faster). The chain detects accidental edits, drops and reorders, not
 * a forger, so 48 bits are plenty and keep lines short.
 */
import * as crypto from 'node:crypto';
import { istToMillis } from '../clock.js';
import { currentVersion, isEventType, parsePayload, writePayload, type RustroEvent } from '../events.js';
import { type ByteSink, asciiBytes } from '../json-bytes.js';

export type LedgerRecord = RustroEvent & { seq: number; v: number; h: string };

/** After the last IST day a file can be named for (YYYY-MM-DD): a later ts has no day file, and is refused before it takes a seq. */
const LEDGER_MS_END = istToMillis('9999-12-31') + 86_400_000;
const LEDGER_MS = 'want integer epoch ms, from 1970 through the year 9999 IST';
const isLedgerMs = (ts: unknown): ts is number => Number.isSafeInteger(ts) && (ts as number) >= 0 && (ts as number) < LEDGER_MS_END;

export const HASH_LEN = 12;
export const GENESIS = '0'.repeat(HASH_LEN);

type OneShot = (algorithm: string, data: string | Uint8Array, outputEncoding: 'hex') => string;
// crypto.hash exists from Node 20.12; engines allow 20.10, so fall back to createHash.
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;
const sha256Hex: (data: string | Uint8Array) => string = oneShot !== undefined
  ? (data) => oneShot('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');

export function chainHash(prevH: string, body: string): string {
  return sha256Hex(prevH + body).slice(0, HASH_LEN);
}

/** `chainHash` of the bytes `prevH + body` as the writer holds them (see `Ledger`): the same digest, no string built. */
export function chainHashBytes(prevHAndBody: Uint8Array): string {
  return sha256Hex(prevHAndBody).slice(0, HASH_LEN);
}

/**
 * Writes the line without its hash, as the chain hashes it, to `out`, for an
 * event checked first: the ledger never holds a line replay would refuse.
 * Throws a TypeError naming what is wrong (`out` then holds garbage past where
 * it was). The payload's keys are in its schema's order.
 */
export function writeBody(out: ByteSink, seq: number, event: RustroEvent): void {
  if (typeof event !== 'object' || event === null) throw refusal('not an event object');
  if (typeof event.type !== 'string' || !isEventType(event.type)) throw refusal(`unknown event type ${JSON.stringify(event.type)}`);
  if (!isLedgerMs(event.ts)) throw refusal(`${event.type}: bad ts ${String(event.ts)} (${LEDGER_MS})`);
  out.bytes(SEQ);
  out.number(seq);
  out.bytes(TS);
  out.number(event.ts);
  let typed = TYPED.get(event.type);
  // `type` is a catalogue key: no escaping needed.
  if (typed === undefined) TYPED.set(event.type, (typed = asciiBytes(`,"type":"${event.type}","v":${currentVersion(event.type)},"data":`)));
  out.bytes(typed);
  const data = out.p;
  if (!writePayload(event.type, event.data, out)) {
    out.p = data;
    const parsed = parsePayload(event.type, event.data);
    if (!parsed.ok) throw refusal(`${event.type} payload invalid: ${parsed.error}`);
    out.utf8(JSON.stringify(parsed.data));
  }
  out.byte(0x7d);
}

const SEQ = asciiBytes('{"seq":');
const TS = asciiBytes(',"ts":');
/** Each event type's part of the envelope, in bytes: from the type to the payload. */
const TYPED = new Map<string, Uint8Array>();

const refusal = (why: string): TypeError => new TypeError(`ledger: refusing to append an invalid event: ${why}`);

const SUFFIX_HEAD = asciiBytes(',"h":"');
const SUFFIX_LEN = SUFFIX_HEAD.length + HASH_LEN + 2; // ,"h":"  +  12 hex  +  "}
/** How much longer a line is than its body: the suffix and a newline, less the body's closing brace. */
export const LINE_OVER_BODY = SUFFIX_LEN;

/**
 * The line for the body held in `src[from, to)` and its hash `h` (the body
 * less its closing brace, then `,"h":"<h>"}` and a newline), into `dst` at
 * `at`, which has room for it; returns where it ends.
 */
export function putLine(dst: Buffer, at: number, src: Buffer, from: number, to: number, h: string): number {
  src.copy(dst, at, from, to - 1);
  let p = at + (to - 1 - from);
  for (let i = 0; i < SUFFIX_HEAD.length; i++) dst[p++] = SUFFIX_HEAD[i]!;
  for (let i = 0; i < HASH_LEN; i++) dst[p++] = h.charCodeAt(i);
  dst[p++] = 0x22; // "}\n
  dst[p++] = 0x7d;
  dst[p++] = 0x0a;
  return p;
}

/** A 12-char lower-case hex hash; a charCode loop is ~6× cheaper than a regex per line. */
function isHash(h: string): boolean {
  if (h.length !== HASH_LEN) return false;
  for (let i = 0; i < HASH_LEN; i++) {
    const c = h.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** Splits a line (no newline) into the body that was hashed and the stored hash, if it has the canonical suffix. */
export function splitHash(line: string): { body: string; h: string } | undefined {
  const at = line.length - SUFFIX_LEN;
  if (at < 1 || !line.startsWith(',"h":"', at) || !line.endsWith('"}')) return undefined;
  const h = line.slice(at + 6, at + 6 + HASH_LEN);
  if (!isHash(h)) return undefined;
  return { body: line.slice(0, at) + '}', h };
}

/**
 * Decodes and validates one line (without its newline). Returns the record, or
 * a message saying what is wrong. Not throwing keeps the scan and verify loops
 * cheap; replay turns the message into an error naming file:line.
 */
export function decodeLine(line: string): LedgerRecord | string {
  if (line.length === 0) return 'empty line';
  const fast = fastParse(line);
  if (fast !== undefined) return fast;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  for (const k in r) {
    if (k !== 'seq' && k !== 'ts' && k !== 'type' && k !== 'v' && k !== 'data' && k !== 'h') return `unexpected key ${JSON.stringify(k)}`;
  }
  return check(r.seq, r.ts, r.type, r.v, r.data, r.h);
}

function check(seq: unknown, ts: unknown, type: unknown, v: unknown, data: unknown, h: unknown): LedgerRecord | string {
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return `bad seq ${JSON.stringify(seq)} (want an integer >= 1)`;
  if (!isLedgerMs(ts)) return `bad ts ${JSON.stringify(ts)} (${LEDGER_MS})`;
  if (typeof type !== 'string' || !isEventType(type)) return `unknown event type ${JSON.stringify(type)}`;
  // The catalogue holds only each type's current schema, so only the current
  // version is known. A schema change must bump `v` and add an upcaster here.
  if (v !== currentVersion(type)) return `${type}: unknown version ${JSON.stringify(v)} (known: ${currentVersion(type)})`;
  if (typeof h !== 'string' || !isHash(h)) return `bad h ${JSON.stringify(h)} (want ${HASH_LEN} hex chars)`;
  const parsed = parsePayload(type, data);
  if (!parsed.ok) return `${type} payload invalid: ${parsed.error}`;
  return { seq, ts, type, v, data: parsed.data, h } as LedgerRecord;
}

/**
 * Replay speed: JSON.parse of the whole line is most of the cost, so a line in
 * the exact form writeBody/putLine write has its envelope read by hand and
 * only `data` JSON-parsed. It only ever accepts: any deviation (spacing, key
 * order, leading zeros, bad JSON) returns undefined and the line goes through
 * the full JSON.parse path, which gives the precise error. The values it
 * returns are then checked exactly like the slow path's.
 */
function fastParse(line: string): LedgerRecord | string | undefined {
  const n = line.length;
  if (!line.startsWith('{"seq":') || !line.endsWith('"}') || !line.startsWith(',"h":"', n - SUFFIX_LEN)) return undefined;
  // Integers are read inline: helper calls returning two values cost more than the JSON.parse here.
  let i = 7;
  let seq = 0;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) seq = seq * 10 + (c - 48);
  if (i === 7 || i - 7 > 15 || (line.charCodeAt(7) === 48 && i - 7 > 1) || !line.startsWith(',"ts":', i)) return undefined;
  const tsAt = (i += 6);
  let ts = 0;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) ts = ts * 10 + (c - 48);
  if (i === tsAt || i - tsAt > 15 || (line.charCodeAt(tsAt) === 48 && i - tsAt > 1) || !line.startsWith(',"type":"', i)) return undefined;
  const typeAt = i + 9;
  i = line.indexOf('"', typeAt);
  if (i < 0 || !line.startsWith('","v":', i)) return undefined;
  const type = line.slice(typeAt, i);
  const vAt = (i += 6);
  let v = 0;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) v = v * 10 + (c - 48);
  if (i === vAt || i - vAt > 6 || (line.charCodeAt(vAt) === 48 && i - vAt > 1) || !line.startsWith(',"data":', i)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(line.slice(i + 8, n - SUFFIX_LEN));
  } catch {
    return undefined;
  }
  return check(seq, ts, type, v, data, line.slice(n - SUFFIX_LEN + 6, n - 2));
}
