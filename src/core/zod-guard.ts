/**
 * A zod schema compiled into a yes/no check that allocates nothing, for the
 * ledger's write path: every line written is checked against its event's
 * schema, and zod's `safeParse` builds a whole stripped copy of the payload
 * (plus the unknown-key walk that has to follow it) only to throw it away —
 * about a third of a backtest's allocations and a tenth of its time.
 *
 * The guard is conservative: when it says yes, `safeParse` succeeds and keeps
 * every key of the input, at any depth (nothing stripped, no `__proto__`); when
 * it says no, the caller asks zod, whose verdict and message stand. It reads
 * zod's own schema definitions, so the schemas stay the one source of truth,
 * and a schema feature it does not know compiles to `undefined` (the caller
 * keeps using zod for that schema; a test holds the event catalogue to none).
 */
import type { z } from 'zod';

export type Guard = (value: unknown) => boolean;

type Check = { check: string; minimum?: number; maximum?: number; value?: number; inclusive?: boolean; format?: string; pattern?: RegExp };
type Def = {
  type: string;
  checks?: { _zod: { def: Check } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: unknown;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, unknown>;
  values?: unknown[];
};

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (d: Def): Check[] => (d.checks ?? []).map((c) => c._zod.def);
const PRIMITIVES = new Set(['string', 'number', 'boolean', 'null', 'enum', 'literal']);

/** The guard for `schema`, or undefined if it uses a feature this compiler does not know. */
export function compileGuard(schema: z.ZodType): Guard | undefined {
  const d = defOf(schema);
  switch (d.type) {
    case 'string':
      return stringGuard(checksOf(d));
    case 'number':
      return numberGuard(checksOf(d));
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'null':
      return (v) => v === null;
    case 'enum': {
      const values = new Set(Object.values(d.entries ?? {}));
      return (v) => values.has(v);
    }
    case 'literal': {
      const values = new Set(d.values ?? []);
      return (v) => values.has(v);
    }
    case 'optional': {
      const inner = compileGuard(d.innerType!);
      return inner && ((v) => v === undefined || inner(v));
    }
    case 'nullable': {
      const inner = compileGuard(d.innerType!);
      return inner && ((v) => v === null || inner(v));
    }
    case 'union':
      return unionGuard(d.options ?? []);
    case 'array':
      return arrayGuard(d);
    case 'object':
      return objectGuard(d);
    case 'record':
      return recordGuard(d);
    default:
      return undefined;
  }
}

function stringGuard(checks: Check[]): Guard | undefined {
  let min = 0;
  let max = Infinity;
  const patterns: RegExp[] = [];
  for (const c of checks) {
    if (c.check === 'min_length') min = Math.max(min, c.minimum!);
    else if (c.check === 'max_length') max = Math.min(max, c.maximum!);
    else if (c.check === 'length_equals') (min = Math.max(min, c.value!)), (max = Math.min(max, c.value!));
    else if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp && !c.pattern.global && !c.pattern.sticky) patterns.push(c.pattern);
    else return undefined;
  }
  return (v) => {
    if (typeof v !== 'string' || v.length < min || v.length > max) return false;
    for (let i = 0; i < patterns.length; i++) if (!patterns[i]!.test(v)) return false;
    return true;
  };
}

function numberGuard(checks: Check[]): Guard | undefined {
  let int = false;
  let lo = -Infinity;
  let loIncl = true;
  let hi = Infinity;
  let hiIncl = true;
  for (const c of checks) {
    const bound = c.value!;
    if (c.check === 'number_format' && c.format === 'safeint') int = true;
    else if (c.check === 'greater_than') {
      if (bound > lo) (lo = bound), (loIncl = c.inclusive === true);
      else if (bound === lo) loIncl &&= c.inclusive === true;
    } else if (c.check === 'less_than') {
      if (bound < hi) (hi = bound), (hiIncl = c.inclusive === true);
      else if (bound === hi) hiIncl &&= c.inclusive === true;
    } else return undefined;
  }
  // zod 4's number refuses NaN and ±Infinity; safeint is Number.isSafeInteger.
  return (v) =>
    typeof v === 'number' && Number.isFinite(v) && (!int || Number.isSafeInteger(v)) &&
    (loIncl ? v >= lo : v > lo) && (hiIncl ? v <= hi : v < hi);
}

/**
 * Only unions of primitives: zod keeps the first option that succeeds, and an
 * object option would strip keys a later option accepts — a guard trying each
 * option would say yes where the parse drops a key.
 */
function unionGuard(options: z.ZodType[]): Guard | undefined {
  const guards: Guard[] = [];
  for (const o of options) {
    const t = defOf(o).type;
    const g = PRIMITIVES.has(t) ? compileGuard(o) : undefined;
    if (g === undefined) return undefined;
    guards.push(g);
  }
  return (v) => {
    for (let i = 0; i < guards.length; i++) if (guards[i]!(v)) return true;
    return false;
  };
}

function arrayGuard(d: Def): Guard | undefined {
  const element = compileGuard(d.element!);
  if (element === undefined) return undefined;
  let min = 0;
  let max = Infinity;
  for (const c of checksOf(d)) {
    if (c.check === 'min_length') min = Math.max(min, c.minimum!);
    else if (c.check === 'max_length') max = Math.min(max, c.maximum!);
    else if (c.check === 'length_equals') (min = Math.max(min, c.value!)), (max = Math.min(max, c.value!));
    else return undefined;
  }
  return (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return false;
    for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
    // A hole or an extra property is a key the parsed array would not have.
    let keys = 0;
    for (const _ in v) keys++;
    return keys === v.length;
  };
}

/** zod's default (stripping) object: every shape key checked, and any other enumerable key refused (it would be dropped). */
function objectGuard(d: Def): Guard | undefined {
  if (d.catchall !== undefined) return undefined;
  const keys = Object.keys(d.shape ?? {});
  const known = new Set(keys);
  const guards: Guard[] = [];
  for (const k of keys) {
    const g = compileGuard(d.shape![k]!);
    if (g === undefined) return undefined;
    guards.push(g);
  }
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) if (!guards[i]!(o[keys[i]!])) return false;
    for (const k in o) if (!known.has(k)) return false;
    return true;
  };
}

/** A record with plain string keys: a plain object, no symbol keys, no `__proto__` (zod drops it), every value checked. */
function recordGuard(d: Def): Guard | undefined {
  const key = defOf(d.keyType!);
  if (key.type !== 'string' || checksOf(key).length > 0) return undefined;
  const value = compileGuard(d.valueType!);
  if (value === undefined) return undefined;
  return (v) => {
    if (typeof v !== 'object' || v === null) return false;
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    if (Object.getOwnPropertySymbols(v).length > 0) return false;
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k === '__proto__' || !value(o[k])) return false;
    return true;
  };
}
