/**
 * Batch reference implementations for the property tests: whole arrays in,
 * whole arrays out, written index by index from the definitions (the TA-Lib C
 * source for the TA-Lib ones) — deliberately NOT the streaming classes in a
 * loop, so the two can disagree. NaN where a value is undefined.
 */
const EPS = 1e-14; // TA-Lib's TA_IS_ZERO
const zero = (v: number): boolean => Math.abs(v) < EPS;
const nans = (n: number): number[] => new Array<number>(n).fill(NaN);
const mean = (xs: number[], from: number, to: number): number => {
  let s = 0;
  for (let i = from; i <= to; i++) s += xs[i]!;
  return s / (to - from + 1);
};

export function ema(x: number[], n: number): number[] {
  const out = nans(x.length);
  if (x.length < n) return out;
  const k = 2 / (n + 1);
  out[n - 1] = mean(x, 0, n - 1);
  for (let i = n; i < x.length; i++) out[i] = (x[i]! - out[i - 1]!) * k + out[i - 1]!;
  return out;
}

export function sma(x: number[], n: number): number[] {
  return x.map((_, i) => (i >= n - 1 ? mean(x, i - n + 1, i) : NaN));
}

/** Wilder average of `xs` (defined from index 1): mean of xs[1..n] at n, then (prev·(n−1) + x) / n. */
function wilder(xs: number[], n: number): number[] {
  const out = nans(xs.length);
  if (xs.length <= n) return out;
  out[n] = mean(xs, 1, n);
  for (let i = n + 1; i < xs.length; i++) out[i] = (out[i - 1]! * (n - 1) + xs[i]!) / n;
  return out;
}

export function rsi(x: number[], n: number): number[] {
  const gain = x.map((v, i) => (i === 0 ? NaN : Math.max(v - x[i - 1]!, 0)));
  const loss = x.map((v, i) => (i === 0 ? NaN : Math.max(x[i - 1]! - v, 0)));
  const g = wilder(gain, n);
  const l = wilder(loss, n);
  return g.map((gi, i) => (Number.isNaN(gi) ? NaN : zero(gi + l[i]!) ? 0 : 100 * (gi / (gi + l[i]!))));
}

export function trueRange(h: number[], l: number[], c: number[]): number[] {
  return h.map((hi, i) => (i === 0 ? NaN : Math.max(hi - l[i]!, Math.abs(hi - c[i - 1]!), Math.abs(l[i]! - c[i - 1]!))));
}

export function atr(h: number[], l: number[], c: number[], n: number): number[] {
  return wilder(trueRange(h, l, c), n);
}

/** TA-Lib ADX / PLUS_DI / MINUS_DI (see src/indicators/adx.ts for the rules in words). */
export function dmi(h: number[], l: number[], c: number[], n: number): { adx: number[]; plusDI: number[]; minusDI: number[] } {
  const len = h.length;
  const tr = trueRange(h, l, c);
  const pdm = nans(len);
  const mdm = nans(len);
  for (let i = 1; i < len; i++) {
    const up = h[i]! - h[i - 1]!;
    const down = l[i - 1]! - l[i]!;
    pdm[i] = up > 0 && up > down ? up : 0;
    mdm[i] = down > 0 && down > up ? down : 0;
  }
  // Smoothed: sums over 1..n−1, then s − s/n + x from index n.
  const smooth = (xs: number[]): number[] => {
    const out = nans(len);
    let s = 0;
    for (let i = 1; i < Math.min(n, len); i++) s += xs[i]!;
    for (let i = n; i < len; i++) out[i] = s = s - s / n + xs[i]!;
    return out;
  };
  const [sp, sm, st] = [smooth(pdm), smooth(mdm), smooth(tr)];
  const plusDI = st.map((t, i) => (Number.isNaN(t) ? NaN : zero(t) ? 0 : 100 * (sp[i]! / t)));
  const minusDI = st.map((t, i) => (Number.isNaN(t) ? NaN : zero(t) ? 0 : 100 * (sm[i]! / t)));
  const dx = st.map((t, i) => {
    if (Number.isNaN(t) || zero(t)) return NaN;
    const sum = minusDI[i]! + plusDI[i]!;
    return zero(sum) ? NaN : 100 * (Math.abs(minusDI[i]! - plusDI[i]!) / sum);
  });
  const adx = nans(len);
  const first = 2 * n - 1;
  if (first < len) {
    let s = 0;
    for (let i = n; i <= first; i++) if (!Number.isNaN(dx[i]!)) s += dx[i]!;
    adx[first] = s / n;
    for (let i = first + 1; i < len; i++) adx[i] = Number.isNaN(dx[i]!) ? adx[i - 1]! : (adx[i - 1]! * (n - 1) + dx[i]!) / n;
  }
  return { adx, plusDI, minusDI };
}

export function supertrend(h: number[], l: number[], c: number[], n: number, m: number) {
  const a = atr(h, l, c, n);
  const len = h.length;
  const upper = nans(len);
  const lower = nans(len);
  const direction = new Array<number>(len).fill(0);
  for (let i = n; i < len; i++) {
    const hl2 = (h[i]! + l[i]!) / 2;
    const bu = hl2 + m * a[i]!;
    const bl = hl2 - m * a[i]!;
    if (i === n) {
      upper[i] = bu;
      lower[i] = bl;
      direction[i] = c[i]! > hl2 ? 1 : -1;
      continue;
    }
    upper[i] = bu < upper[i - 1]! || c[i - 1]! > upper[i - 1]! ? bu : upper[i - 1]!;
    lower[i] = bl > lower[i - 1]! || c[i - 1]! < lower[i - 1]! ? bl : lower[i - 1]!;
    const d = direction[i - 1]!;
    direction[i] = d === -1 && c[i]! > upper[i]! ? 1 : d === 1 && c[i]! < lower[i]! ? -1 : d;
  }
  const value = direction.map((d, i) => (d === 1 ? lower[i]! : d === -1 ? upper[i]! : NaN));
  return { value, direction, upper, lower };
}

export function sessionVwap(ts: number[], h: number[], l: number[], c: number[], v: (number | undefined)[]): number[] {
  const day = ts.map((t) => Math.floor((t + 19_800_000) / 86_400_000));
  return ts.map((_, i) => {
    let start = i;
    while (start > 0 && day[start - 1] === day[i]) start--;
    let pv = 0;
    let vol = 0;
    for (let j = start; j <= i; j++) {
      const vj = v[j] ?? 0;
      if (vj > 0) {
        pv += ((h[j]! + l[j]! + c[j]!) / 3) * vj;
        vol += vj;
      }
    }
    return vol > 0 ? pv / vol : NaN;
  });
}
