import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSink } from '../../src/core/json-bytes.js';

/** What the sink holds after `write`, from a tiny sink so that it grows on the way. */
function text(write: (o: ByteSink) => void): string {
  const o = new ByteSink(2);
  o.ascii('[');
  write(o);
  o.byte(0x5d);
  return o.b.toString('utf8', 1, o.p - 1);
}

describe('JSON written to bytes', () => {
  it('writes every finite number as JSON.stringify does', () => {
    const cases = [0, -0, 7, -7, 10, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1707710760000, 100000000, 100000001, 21814.2, 21817.25, 0.05, -0.05, 0.1 + 0.2, 1e-7, 5e-324, 1e21, 21474836.47, 21474836.48, -21474836.47, 1.005, 17.17, 100.5];
    for (const x of cases) expect(text((o) => o.number(x)), String(x)).toBe(JSON.stringify(x));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer({ min: -(2 ** 31) * 4, max: 2 ** 31 * 4 }),
          fc.maxSafeInteger(),
          fc.integer({ min: -(2 ** 33), max: 2 ** 33 }).map((c) => c / 100), // prices in paise, below and above the fast range
          fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((c) => c / 20), // tick-size steps
        ),
        (x) => {
          expect(text((o) => o.number(x))).toBe(JSON.stringify(x));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('writes every string as JSON.stringify does, in UTF-8: escapes, lone surrogates and non-ASCII included', () => {
    for (const s of ['', 'NSE', 'a"b', 'a\\b', '\n', '\u001f', '\u007f', '\ud800', '\udc00x', '😀', 'é', 'x'.repeat(5000)]) expect(text((o) => o.string(s)), s).toBe(JSON.stringify(s));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string()), (s) => {
        expect(text((o) => o.string(s))).toBe(JSON.stringify(s));
      }),
      { numRuns: 5_000 },
    );
  });

  it('writes primitives by their kind, and keeps what it held when it grows', () => {
    for (const v of [null, true, false, 'x"', 1.5, -0]) expect(text((o) => o.primitive(v))).toBe(JSON.stringify(v));
    const o = new ByteSink(1);
    for (let i = 0; i < 1000; i++) o.number(i);
    expect(o.b.toString('latin1', 0, o.p)).toBe(Array.from({ length: 1000 }, (_, i) => String(i)).join(''));
  });
});
