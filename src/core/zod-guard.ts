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
 *
 * Each object, array and record becomes one generated function of straight
 * checks (`new Function`, as zod compiles its own object parsers): a closure
 * per field cost ~4× as much a line. Only schema-derived literals go into the
 * source: keys and enum values as JSON strings, bounds as finite numbers.
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

/** What generated code may refer to (regexes, value sets, helper functions), as `r0`, `r1`, …; and a counter for fresh names. */
type Ctx = { refs: unknown[]; names: number };
const newCtx = (): Ctx => ({ refs: [], names: 0 });

/** The guard for `schema`, or undefined if it uses a feature this compiler does not know. */
export function compileGuard(schema: z.ZodType): Guard | undefined {
  const ctx = newCtx();
  const test = expr(schema, 'v', ctx);
  return test === undefined ? undefined : build(ctx, `return function guard(v) { return ${test}; };`);
}

/** Compiles a function body against the refs made so far (each bound to a local const). */
function build(ctx: Ctx, body: string): Guard {
  const locals = ctx.refs.map((_, i) => `const r${i} = refs[${i}];`).join('\n');
  return new Function('refs', `'use strict';\n${locals}\n${body}`)(ctx.refs.slice()) as Guard;
}

function ref(ctx: Ctx, value: unknown): string {
  ctx.refs.push(value);
  return `r${ctx.refs.length - 1}`;
}

/** A JS boolean expression: does the value in variable `x` pass `schema`? */
function expr(schema: z.ZodType, x: string, ctx: Ctx): string | undefined {
  const d = defOf(schema);
  // Only strings, numbers and arrays have checks read below; on anything else a check is a refine()
  // the guard cannot run, and saying yes past it would write a line zod refuses.
  if (d.type !== 'string' && d.type !== 'number' && d.type !== 'array' && checksOf(d).length > 0) return undefined;
  switch (d.type) {
    case 'string':
      return stringExpr(checksOf(d), x, ctx);
    case 'number':
      return numberExpr(checksOf(d), x);
    case 'boolean':
      return `typeof ${x} === "boolean"`;
    case 'null':
      return `${x} === null`;
    case 'enum':
      return oneOfExpr(Object.values(d.entries ?? {}), x, ctx);
    case 'literal':
      return oneOfExpr(d.values ?? [], x, ctx);
    case 'optional': {
      const inner = expr(d.innerType!, x, ctx);
      return inner && `(${x} === undefined || ${inner})`;
    }
    case 'nullable': {
      const inner = expr(d.innerType!, x, ctx);
      return inner && `(${x} === null || ${inner})`;
    }
    case 'union':
      return unionExpr(d.options ?? [], x, ctx);
    case 'array':
      return helperCall(arrayGuard(d), x, ctx);
    case 'object':
      return helperCall(objectGuard(d), x, ctx);
    case 'record':
      return helperCall(recordGuard(d), x, ctx);
    default:
      return undefined;
  }
}

function helperCall(helper: Guard | undefined, x: string, ctx: Ctx): string | undefined {
  return helper && `${ref(ctx, helper)}(${x})`;
}

/** A finite number as JS source. */
const num = (n: number): string => (Object.is(n, -0) ? '0' : String(n));

/** The length checks among `checks` as one condition on `x.length` (undefined: a bound that is not a finite number). */
function lengthExpr(checks: Check[], x: string): string | undefined {
  let min = 0;
  let max = Infinity;
  for (const c of checks) {
    if (c.check === 'min_length') min = Math.max(min, c.minimum!);
    else if (c.check === 'max_length') max = Math.min(max, c.maximum!);
    else if (c.check === 'length_equals') (min = Math.max(min, c.value!)), (max = Math.min(max, c.value!));
  }
  if (!(Number.isFinite(min) && (max === Infinity || Number.isFinite(max)))) return undefined;
  return `${x}.length >= ${num(min)}${max === Infinity ? '' : ` && ${x}.length <= ${num(max)}`}`;
}

const LENGTH_CHECKS = new Set(['min_length', 'max_length', 'length_equals']);

function stringExpr(checks: Check[], x: string, ctx: Ctx): string | undefined {
  const length = lengthExpr(checks, x);
  if (length === undefined) return undefined;
  const parts = [`typeof ${x} === "string"`, length];
  for (const c of checks) {
    if (LENGTH_CHECKS.has(c.check)) continue;
    if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp && !c.pattern.global && !c.pattern.sticky) {
      parts.push(`${ref(ctx, c.pattern)}.test(${x})`);
    } else return undefined;
  }
  return `(${parts.join(' && ')})`;
}

function numberExpr(checks: Check[], x: string): string | undefined {
  // zod 4's number refuses NaN and ±Infinity; safeint is Number.isSafeInteger.
  const parts = [`typeof ${x} === "number"`, `Number.isFinite(${x})`];
  for (const c of checks) {
    if (c.check === 'number_format' && c.format === 'safeint') parts.push(`Number.isSafeInteger(${x})`);
    else if ((c.check === 'greater_than' || c.check === 'less_than') && Number.isFinite(c.value)) {
      const op = c.check === 'greater_than' ? (c.inclusive === true ? '>=' : '>') : c.inclusive === true ? '<=' : '<';
      parts.push(`${x} ${op} ${num(c.value!)}`);
    } else return undefined;
  }
  return `(${parts.join(' && ')})`;
}

/** Strings and finite numbers compare inline; anything else through a Set (SameValueZero, as zod's). */
function oneOfExpr(values: unknown[], x: string, ctx: Ctx): string {
  if (values.length > 0 && values.length <= 16 && values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
    return `(${values.map((v) => `${x} === ${typeof v === 'string' ? JSON.stringify(v) : num(v as number)}`).join(' || ')})`;
  }
  return values.length === 0 ? 'false' : `${ref(ctx, new Set(values))}.has(${x})`;
}

/**
 * Only unions of primitives: zod keeps the first option that succeeds, and an
 * object option would strip keys a later option accepts — a guard trying each
 * option would say yes where the parse drops a key.
 */
function unionExpr(options: z.ZodType[], x: string, ctx: Ctx): string | undefined {
  const parts: string[] = [];
  for (const o of options) {
    const e = PRIMITIVES.has(defOf(o).type) ? expr(o, x, ctx) : undefined;
    if (e === undefined) return undefined;
    parts.push(e);
  }
  return parts.length === 0 ? 'false' : `(${parts.join(' || ')})`;
}

function arrayGuard(d: Def): Guard | undefined {
  const checks = checksOf(d);
  const length = lengthExpr(checks, 'v');
  if (length === undefined || checks.some((c) => !LENGTH_CHECKS.has(c.check))) return undefined;
  const inner = newCtx();
  const e = `e${inner.names++}`;
  const element = expr(d.element!, e, inner);
  if (element === undefined) return undefined;
  // A hole or an extra property is a key the parsed array would not have.
  return build(inner, `return function guard(v) {
    if (!(Array.isArray(v) && ${length})) return false;
    for (let i = 0; i < v.length; i++) { const ${e} = v[i]; if (!(${element})) return false; }
    let keys = 0;
    for (const k in v) keys++;
    return keys === v.length;
  };`);
}

/** zod's default (stripping) object: every shape key checked, and any other enumerable key refused (it would be dropped). */
function objectGuard(d: Def): Guard | undefined {
  if (d.catchall !== undefined) return undefined;
  const inner = newCtx();
  const keys = Object.keys(d.shape ?? {});
  const lines: string[] = [];
  for (const k of keys) {
    const a = `a${inner.names++}`;
    const test = expr(d.shape![k]!, a, inner);
    if (test === undefined) return undefined;
    lines.push(`const ${a} = v[${JSON.stringify(k)}]; if (!(${test})) return false;`);
  }
  const known = keys.length === 0 ? 'return false;' : `switch (k) { ${keys.map((k) => `case ${JSON.stringify(k)}:`).join(' ')} break; default: return false; }`;
  return build(inner, `return function guard(v) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    ${lines.join('\n    ')}
    for (const k in v) { ${known} }
    return true;
  };`);
}

/** A record with plain string keys: a plain object, no symbol keys, no `__proto__` (zod drops it), every value checked. */
function recordGuard(d: Def): Guard | undefined {
  const key = defOf(d.keyType!);
  if (key.type !== 'string' || checksOf(key).length > 0) return undefined;
  const inner = newCtx();
  const x = `x${inner.names++}`;
  const value = expr(d.valueType!, x, inner);
  if (value === undefined) return undefined;
  return build(inner, `return function guard(v) {
    if (typeof v !== "object" || v === null) return false;
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    if (Object.getOwnPropertySymbols(v).length > 0) return false;
    for (const k of Object.keys(v)) { if (k === "__proto__") return false; const ${x} = v[k]; if (!(${value})) return false; }
    return true;
  };`);
}
