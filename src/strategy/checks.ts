/**
 * Building the `Check` records every decision publishes: the value measured,
 * the limit as text, and the verdict. Values are rounded for reading only in
 * the limit text; the value itself is recorded unrounded (NaN → null: not
 * available, which fails the check).
 */
import type { Check } from '../core/events.js';

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function atLeast(name: string, value: number, min: number): Check {
  return { name, value: num(value), limit: `>= ${min}`, passed: value >= min };
}

export function below(name: string, value: number, max: number): Check {
  return { name, value: num(value), limit: `< ${max}`, passed: value < max };
}

export function between(name: string, value: number, lo: number, hi: number): Check {
  return { name, value: num(value), limit: `${lo}..${hi}`, passed: value >= lo && value <= hi };
}

export function isTrue(name: string, value: boolean | string | number | null, passed: boolean, limit: string): Check {
  return { name, value: typeof value === 'number' ? num(value) : value, limit, passed };
}

/** The names of the checks that failed. */
export function failedOf(checks: readonly Check[]): string[] {
  const out: string[] = [];
  for (const c of checks) if (!c.passed) out.push(c.name);
  return out;
}
