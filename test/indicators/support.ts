/** Reads the indicator reference fixtures and compares series the way every indicator test does. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FIXTURE_DIR = join(import.meta.dirname, '../fixtures/indicators');

export type Fixture = {
  name: string;
  ts: number[];
  tsText: string[];
  high: number[];
  low: number[];
  close: number[];
  volume: (number | undefined)[];
  /** Every other column by name; NaN for an empty cell. */
  col: Map<string, number[]>;
};

export function readFixture(file: string): Fixture {
  const [header, ...lines] = gunzipSync(readFileSync(join(FIXTURE_DIR, file))).toString('utf8').trimEnd().split('\n');
  const names = header!.split(',');
  const cells = lines.map((l) => l.split(','));
  const column = (i: number): string[] => cells.map((c) => c[i] ?? '');
  const num = (s: string): number => (s === '' ? NaN : Number(s));
  const col = new Map<string, number[]>();
  names.forEach((n, i) => col.set(n, column(i).map(num)));
  const tsText = column(0);
  return {
    name: file,
    tsText,
    ts: tsText.map((t) => Date.parse(t)),
    high: col.get('high')!,
    low: col.get('low')!,
    close: col.get('close')!,
    volume: column(names.indexOf('volume')).map((s) => (s === '' ? undefined : Number(s))),
    col,
  };
}

export const fixtureFiles = (kind: 'talib' | 'stvwap'): string[] =>
  readdirSync(FIXTURE_DIR).filter((f) => f.endsWith(`.${kind}.csv.gz`)).sort();

/** |a − b| ≤ 1e-9·max(1, |b|) everywhere b is defined, NaN exactly where b is NaN. */
export const TOLERANCE = 1e-9;

export type Comparison = { ok: boolean; maxDiff: number; message: string };

export function compare(actual: readonly number[], expected: readonly number[], label: string): Comparison {
  let maxDiff = 0;
  let maxRel = 0;
  const firstA = actual.findIndex((x) => !Number.isNaN(x));
  const firstE = expected.findIndex((x) => !Number.isNaN(x));
  const problems: string[] = [];
  if (actual.length !== expected.length) problems.push(`length ${actual.length} != ${expected.length}`);
  if (firstA !== firstE) problems.push(`first defined index ${firstA} != reference ${firstE}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      if (Number.isNaN(a) !== Number.isNaN(b) && problems.length < 5) problems.push(`[${i}] ${a} vs reference ${b}`);
      continue;
    }
    const d = Math.abs(a - b);
    maxDiff = Math.max(maxDiff, d);
    maxRel = Math.max(maxRel, d / Math.max(1, Math.abs(b)));
    if (d > TOLERANCE * Math.max(1, Math.abs(b)) && problems.length < 5) problems.push(`[${i}] ${a} vs reference ${b} (diff ${d})`);
  }
  const message = `${label}: max |diff| ${maxDiff.toExponential(2)} (relative ${maxRel.toExponential(2)})${problems.length ? '; ' + problems.join('; ') : ''}`;
  return { ok: problems.length === 0, maxDiff, message };
}
