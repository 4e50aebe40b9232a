/**
 * JSON written straight to bytes, for the ledger's lines: a line is hashed
 * and written as UTF-8, so building it as a string first cost a concatenation
 * tree, its flattening for the hash, and its encoding again for the file —
 * a third of a backtest's garbage. `ByteSink` writes each value's JSON text
 * exactly as `JSON.stringify` would, into one growing buffer.
 *
 * Numbers get their own digits: V8's (Node 20) number-to-text runs its
 * shortest-digits float algorithm even for integer epoch milliseconds and for
 * prices in paise (~100 ns each), and a ledger line carries half a dozen.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class ByteSink {
  /** The bytes so far are `b[0, p)`. */
  b: Buffer;
  p = 0;

  constructor(size = 1024) {
    this.b = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.p + n <= this.b.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.b.length * 2, this.p + n));
    this.b.copy(grown, 0, 0, this.p);
    this.b = grown;
  }

  byte(c: number): void {
    this.room(1);
    this.b[this.p++] = c;
  }

  /** Bytes as they are (pre-encoded JSON fragments: keys, `true`, `null`). */
  bytes(u: Uint8Array): void {
    this.room(u.length);
    const b = this.b;
    let p = this.p;
    // A loop beats TypedArray#set's call for the few bytes of a key.
    for (let i = 0; i < u.length; i++) b[p++] = u[i]!;
    this.p = p;
  }

  /** A string of ASCII characters only (hex, digits), unquoted. */
  ascii(s: string): void {
    this.room(s.length);
    const b = this.b;
    let p = this.p;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.p = p;
  }

  /** Any text as UTF-8, unquoted (a whole JSON text made elsewhere). */
  utf8(s: string): void {
    this.room(s.length * 3); // a UTF-16 unit is at most 3 UTF-8 bytes
    this.p += this.b.write(s, this.p, 'utf8');
  }

  /** `JSON.stringify(s)`: most strings need no escape and are copied as they are. */
  string(s: string): void {
    this.room(s.length + 2);
    const b = this.b;
    let p = this.p;
    b[p++] = QUOTE;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // Control chars, quote, backslash, and anything past ASCII (escapes, surrogates, UTF-8): JSON.stringify decides.
      if (c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80) return this.utf8(JSON.stringify(s));
      b[p++] = c;
    }
    b[p++] = QUOTE;
    this.p = p;
  }

  /** `JSON.stringify(x)` for a finite number (a caller has already refused NaN and ±Infinity). */
  number(x: number): void {
    this.room(25); // the longest a JS number prints: -1.2345678901234567e-308
    if ((x | 0) === x) {
      // int32 (and -0, which JSON writes as 0)
      if (x < 0) this.b[this.p++] = 0x2d;
      this.digits(x < 0 ? -x : x);
      return;
    }
    const neg = x < 0;
    const a = neg ? -x : x;
    if (Number.isSafeInteger(a)) {
      // Epoch ms and the like: two halves below 2^31 (hi < 2^53 / 1e8).
      if (neg) this.b[this.p++] = 0x2d;
      const hi = Math.floor(a / 1e8);
      this.digits(hi);
      this.fixed(a - hi * 1e8, 8);
      return;
    }
    // At most two decimals (prices in paise): when c/100 is x, "i.ff" is its shortest round-trip text —
    // below 2^31 paise a double's spacing is far under 0.01, so no shorter decimal lands on x.
    const c = Math.round(a * 100);
    if (c / 100 === a && c <= 0x7fffffff) {
      if (neg) this.b[this.p++] = 0x2d;
      const i = a | 0;
      this.digits(i);
      const f = c - i * 100;
      if (f !== 0) {
        const tens = (f / 10) | 0;
        this.b[this.p++] = 0x2e;
        this.b[this.p++] = 0x30 + tens;
        if (f !== tens * 10) this.b[this.p++] = 0x30 + f - tens * 10;
      }
      return;
    }
    this.ascii('' + x);
  }

  /** `JSON.stringify(v)` for a string, finite number, boolean or null. */
  primitive(v: string | number | boolean | null): void {
    if (typeof v === 'string') this.string(v);
    else if (typeof v === 'number') this.number(v);
    else this.ascii(v === null ? 'null' : v ? 'true' : 'false');
  }

  /** The decimal digits of an integer in [0, 2^31]. */
  private digits(n: number): void {
    let len = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) len++;
    this.fixed(n, len);
  }

  /** The last `len` decimal digits of an integer in [0, 2^31], zero-padded. */
  private fixed(n: number, len: number): void {
    const b = this.b;
    let q = (this.p += len);
    for (let k = 0; k < len; k++) {
      const d = (n / 10) | 0;
      b[--q] = 0x30 + n - d * 10;
      n = d;
    }
  }
}

/** Bytes of an ASCII text, for the fragments generated writers write as they are. */
export const asciiBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
