/**
 * The benchmark contract: each `test/bench/*.bench.ts` default-exports a
 * `Bench` that reports figures through `report`. `npm run bench` runs them all
 * and prints a table; `npm run bench -- --json` prints one JSON line per figure
 * `{"name","value","unit"}`. Names are stable: scripts compare them across runs.
 */
export type Report = (name: string, value: number, unit: string, note?: string) => void;

export type Bench = {
  /** Shown as the table's section heading. */
  title: string;
  run(report: Report): Promise<void>;
};

/** Runs `fn` `n` times and returns operations per second. */
export function opsPerSec(n: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return (n * 1e9) / ns;
}

/** Percentile (0..100) of a sample, nearest-rank. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function rssMiB(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}
