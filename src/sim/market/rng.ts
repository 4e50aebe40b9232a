/**
 * Seeded randomness for the simulated market. Everything random in the
 * simulator is a pure function of (seed, instrument, time slot), so a stream
 * never depends on which tokens were subscribed, or on how `advanceTo` was
 * chunked: the same seed and data give the same ticks every time.
 */

/** 32-bit integer hash of any number of 32-bit inputs (murmur3-style finaliser per word). */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5 | 0;
  for (const p of parts) h = step(h, p);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** hash32 of exactly four words, without the rest-array allocation (hot paths). */
export function hash4(a: number, b: number, c: number, d: number): number {
  let h = 0x811c9dc5 | 0;
  h = step(h, a);
  h = step(h, b);
  h = step(h, c);
  h = step(h, d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function step(h: number, p: number): number {
  let k = Math.imul(p | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Uniform [0, 1) from a hash of the inputs (stateless). */
export function hashUnit(...parts: number[]): number {
  return hash32(...parts) / 4294967296;
}

/** 32-bit hash of a string (FNV-1a), e.g. to turn a token into a seed part. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Re-seeds in place (lets a hot loop reuse one generator). */
  reset(seed: number): void {
    this.s = seed >>> 0;
  }

  /** Uniform [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
