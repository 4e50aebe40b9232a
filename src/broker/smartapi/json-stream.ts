/**
 * A streaming splitter for one big JSON array of objects (the instrument
 * master is tens of MB): feeds text chunks in, hands complete top-level
 * object texts out, keeping only the current partial object in memory. Each
 * object is then `JSON.parse`d on its own (small, fast, and a bad row stays a
 * bad row instead of failing the file).
 */
import { StringDecoder } from 'node:string_decoder';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff;
}

/**
 * Objects and arrays are tracked by depth (strings and escapes respected);
 * a scalar element (a number, `null`, a string) is handed out as its text too,
 * so the caller can count it as a bad row instead of failing the file.
 */
export class JsonArraySplitter {
  /** 0: before '[', 1: inside the array between elements, ≥2: inside an object/array element. */
  private depth = 0;
  /** Inside a scalar element at depth 1. */
  private scalar = false;
  private inString = false;
  private escaped = false;
  private carry = '';
  private done = false;
  /** Characters consumed, for error positions. */
  private offset = 0;

  /** `label` names the source in errors, e.g. the file or the URL. */
  constructor(private readonly label = 'instrument master') {}

  /** Returns the complete element texts that end in this chunk. */
  push(chunk: string): string[] {
    const out: string[] = [];
    let start = this.depth >= 2 || this.scalar ? 0 : -1;
    const emit = (end: number): void => {
      out.push(this.carry + chunk.slice(start, end));
      this.carry = '';
      start = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth >= 2) {
        if (c === QUOTE) this.inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          this.depth--;
          if (this.depth === 1) emit(i + 1);
        }
        continue;
      }
      if (this.scalar) {
        if (c === QUOTE) this.inString = true;
        else if (c === COMMA || c === CLOSE_BRACKET) {
          this.scalar = false;
          emit(i);
          if (c === CLOSE_BRACKET) this.done = true;
        }
        continue;
      }
      if (isSpace(c)) continue;
      if (this.done) throw this.error('text after the end of the array', i);
      if (this.depth === 0) {
        if (c !== OPEN_BRACKET) throw this.error("expected '[' (a JSON array)", i);
        this.depth = 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.depth = 2;
        start = i;
      } else if (c === COMMA) {
        // between elements
      } else if (c === CLOSE_BRACKET) {
        this.done = true;
      } else {
        this.scalar = true;
        start = i;
        if (c === QUOTE) this.inString = true;
      }
    }
    if (this.depth >= 2 || this.scalar) this.carry += chunk.slice(start === -1 ? 0 : start);
    this.offset += chunk.length;
    return out;
  }

  /** Throws when the text ended inside the array. */
  end(): void {
    if (!this.done) throw this.error(this.depth === 0 ? 'empty input: no JSON array' : 'truncated: the array is not closed', 0);
  }

  private error(what: string, i: number): Error {
    return new Error(`${this.label}: ${what} at character ${this.offset + i}`);
  }
}

/** Splits a byte or text stream holding one JSON array into its objects' texts; errors name `label` (the file or URL). */
export async function* splitJsonArray(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, label = 'instrument master'): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  const splitter = new JsonArraySplitter(label);
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    yield* splitter.push(text);
  }
  const tail = decoder.end();
  if (tail !== '') yield* splitter.push(tail);
  splitter.end();
}
