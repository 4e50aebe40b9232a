/**
 * A zod schema compiled into a checking JSON writer, for the ledger's write
 * path: every line written is checked against its event's schema and then
 * encoded. zod's `safeParse` builds a whole stripped copy of the payload only
 * to throw it away (a third of a backtest's allocations), and V8's (Node 20)
 * `JSON.stringify` took ~0.8 µs a bar line, then its text was copied twice
 * more (hash, file). One generated walk now checks each value and writes its
 * JSON straight to bytes (`ByteSink`), and what it writes is exactly what it
 * checked (no `toJSON` can change a value after).
 *
 * The writer is conservative: when it says yes, `safeParse` succeeds and
 * keeps every key of the input, at any depth (nothing stripped, no
 * `__proto__`), and the bytes written are `JSON.stringify` of zod's parsed
 * output (keys in schema order). When it says no, what it wrote is garbage the
 * caller drops, and the caller asks zod, whose verdict and message stand. It
 * reads zod's own schema definitions, so the schemas stay the one source of
 * truth, and a schema feature it does not know compiles to `undefined` (the
 * caller keeps using zod for that schema; a test holds the event catalogue to
 * none).
 *
 * Each object, array and record becomes one generated function of straight
 * code (`new Function`, as zod compiles its own object parsers): a closure
 * per field cost ~4× as much a line. Only schema-derived literals go into the
 * source: keys and enum values as JSON strings, bounds as finite numbers.
 */
import type { z } from 'zod';
import { type ByteSink, asciiBytes } from './json-bytes.js';

/** Writes the JSON of `value` to `out` and says yes if its schema accepts it whole; a no leaves `out` to be rewound. */
export type JsonWriter = (value: unknown, out: ByteSink) => boolean;

type Check = { check: string; minimum?: number; maximum?: number; value?: number; inclusive?: boolean; format?: string; pattern?: RegExp };
type Def = {
  type: string;
  /** A format schema (`z.int()`, `z.email()`) is its own check, with no `checks` list. */
  check?: string;
  checks?: { _zod: { def: Check } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: unknown;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
};

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (d: Def): Check[] => [...(d.check === undefined ? [] : [d as Check]), ...(d.checks ?? []).map((c) => c._zod.def)];
/** The values an enum or literal accepts, as zod holds them (a numeric TS enum's reverse names are not among them). */
const valuesOf = (s: z.ZodType): unknown[] => [...((s as unknown as { _zod: { values?: Set<unknown> } })._zod.values ?? [])];
/**
 * Only strings, numbers and arrays have checks read below; on anything else a check is a refine()
 * the writer cannot run, and saying yes past it would write a line zod refuses.
 */
const refined = (d: Def): boolean => d.type !== 'string' && d.type !== 'number' && d.type !== 'array' && checksOf(d).length > 0;

/** What a generated function refers to (inner writers, regexes, value sets, byte fragments) as `r0`, `r1`, …. */
type Ctx = { refs: unknown[] };
const newCtx = (): Ctx => ({ refs: [] });

/** The writer for `schema`, or undefined if it uses a feature this compiler does not know. */
export function compileJsonWriter(schema: z.ZodType): JsonWriter | undefined {
  const d = defOf(schema);
  // An object (every event payload) is its own writer: no wrapper call a line.
  if (d.type === 'object') return refined(d) ? undefined : objectWriter(d);
  const ctx = newCtx();
  const code = write(schema, 'v', ctx);
  return code === undefined ? undefined : build(ctx, `return function write(v, o) { ${code} return true; };`);
}

/** Compiles a function body against the refs made so far (each bound to a local const). */
function build(ctx: Ctx, body: string): JsonWriter {
  const locals = ctx.refs.map((_, i) => `const r${i} = refs[${i}];`).join('\n');
  return new Function('refs', `'use strict';\n${locals}\n${body}`)(ctx.refs) as JsonWriter;
}

function ref(ctx: Ctx, value: unknown): string {
  ctx.refs.push(value);
  return `r${ctx.refs.length - 1}`;
}

/** Code writing a fixed JSON fragment to the sink `o`. */
const fragment = (text: string, ctx: Ctx): string => `o.bytes(${ref(ctx, asciiBytes(text))});`;

/**
 * Statements that check the value in variable `x` against `schema` (a no is `return false` from the
 * generated function) and write its JSON to the sink `o`. Optional values are only known as object fields.
 */
function write(schema: z.ZodType, x: string, ctx: Ctx): string | undefined {
  const d = defOf(schema);
  if (refined(d)) return undefined;
  switch (d.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
    case 'enum':
    case 'literal': {
      const test = primitiveTest(schema, x, ctx);
      return test === undefined ? undefined : `if (!${test}) return false; ${primitiveWrite(schema, d, x, ctx)}`;
    }
    case 'nullable': {
      const inner = write(d.innerType!, x, ctx);
      return inner && `if (${x} === null) ${fragment('null', ctx)} else { ${inner} }`;
    }
    case 'union': {
      const test = unionTest(d.options ?? [], x, ctx);
      return test === undefined ? undefined : `if (!${test}) return false; o.primitive(${x});`;
    }
    case 'array':
      return helperCall(arrayWriter(d), x, ctx);
    case 'object':
      return helperCall(objectWriter(d), x, ctx);
    case 'record':
      return helperCall(recordWriter(d), x, ctx);
    default:
      return undefined;
  }
}

function helperCall(writer: JsonWriter | undefined, x: string, ctx: Ctx): string | undefined {
  return writer && `if (!${ref(ctx, writer)}(${x}, o)) return false;`;
}

/** A checked primitive's JSON. */
function primitiveWrite(schema: z.ZodType, d: Def, x: string, ctx: Ctx): string {
  switch (d.type) {
    case 'string':
      return `o.string(${x});`;
    case 'number':
      return `o.number(${x});`;
    case 'boolean':
      return `o.bytes(${x} ? ${ref(ctx, asciiBytes('true'))} : ${ref(ctx, asciiBytes('false'))});`;
    case 'null':
      return fragment('null', ctx);
    default:
      return valuesOf(schema).every((v) => typeof v === 'string') ? `o.string(${x});` : `o.primitive(${x});`;
  }
}

/** A JS boolean expression: does the value in variable `x` pass the primitive `schema`? */
function primitiveTest(schema: z.ZodType, x: string, ctx: Ctx): string | undefined {
  const d = defOf(schema);
  if (refined(d)) return undefined;
  switch (d.type) {
    case 'string':
      return stringTest(checksOf(d), x, ctx);
    case 'number':
      return numberTest(checksOf(d), x);
    case 'boolean':
      return `(typeof ${x} === "boolean")`;
    case 'null':
      return `(${x} === null)`;
    case 'enum':
    case 'literal':
      return oneOfTest(valuesOf(schema), x, ctx);
    default:
      return undefined;
  }
}

/** A finite number as JS source. */
const num = (n: number): string => (Object.is(n, -0) ? '0' : String(n));

/** The length checks among `checks` as one condition on `x.length` (undefined: a bound that is not a finite number). */
function lengthTest(checks: Check[], x: string): string | undefined {
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

function stringTest(checks: Check[], x: string, ctx: Ctx): string | undefined {
  const length = lengthTest(checks, x);
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

function numberTest(checks: Check[], x: string): string | undefined {
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

/**
 * Strings and finite numbers compare inline; booleans and null through a Set (SameValueZero, as
 * zod's). Any other value (a bigint, undefined) has no JSON text that reads back as itself.
 */
function oneOfTest(values: unknown[], x: string, ctx: Ctx): string | undefined {
  if (!values.every((v) => typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v)))) return undefined;
  if (values.length > 0 && values.length <= 16 && values.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return `(${values.map((v) => `${x} === ${typeof v === 'string' ? JSON.stringify(v) : num(v as number)}`).join(' || ')})`;
  }
  return values.length === 0 ? 'false' : `${ref(ctx, new Set(values))}.has(${x})`;
}

/**
 * Only unions of primitives: zod keeps the first option that succeeds, and an
 * object option would strip keys a later option accepts — a writer trying each
 * option would say yes where the parse drops a key.
 */
function unionTest(options: z.ZodType[], x: string, ctx: Ctx): string | undefined {
  const tests: string[] = [];
  for (const o of options) {
    const t = primitiveTest(o, x, ctx); // undefined for anything but a primitive
    if (t === undefined) return undefined;
    tests.push(t);
  }
  return tests.length === 0 ? 'false' : `(${tests.join(' || ')})`;
}

function arrayWriter(d: Def): JsonWriter | undefined {
  const checks = checksOf(d);
  const length = lengthTest(checks, 'v');
  if (length === undefined || checks.some((c) => !LENGTH_CHECKS.has(c.check))) return undefined;
  const inner = newCtx();
  const e = 'e';
  const element = write(d.element!, e, inner);
  if (element === undefined) return undefined;
  // A hole or an extra property is a key the parsed array would not have.
  return build(inner, `return function write(v, o) {
    if (!(Array.isArray(v) && ${length})) return false;
    let keys = 0;
    for (const k in v) keys++;
    if (keys !== v.length) return false;
    o.byte(91);
    for (let i = 0; i < v.length; i++) { if (i > 0) o.byte(44); const ${e} = v[i]; ${element} }
    o.byte(93);
    return true;
  };`);
}

/**
 * zod's default (stripping) object: any enumerable key outside the shape is refused (zod would drop
 * it), every shape key checked and written in shape order; an optional key left undefined is not
 * written, as JSON.stringify leaves it out.
 */
function objectWriter(d: Def): JsonWriter | undefined {
  if (d.catchall !== undefined) return undefined;
  const inner = newCtx();
  const shape = d.shape ?? {};
  const keys = Object.keys(shape);
  // After a key that may be left out, whether the next one takes a comma is known only as it goes.
  let certain = false;
  let before = false;
  const lines: string[] = [];
  for (const [i, k] of keys.entries()) {
    const a = `a${i}`;
    const field = defOf(shape[k]!);
    const optional = field.type === 'optional';
    const value = !optional ? write(shape[k]!, a, inner) : refined(field) ? undefined : write(field.innerType!, a, inner);
    if (value === undefined) return undefined;
    const key = JSON.stringify(k) + ':';
    const lead = !before ? `${fragment(key, inner)} first = false;` : certain ? fragment(',' + key, inner) : `o.bytes(first ? ${ref(inner, asciiBytes(key))} : ${ref(inner, asciiBytes(',' + key))}); first = false;`;
    lines.push(`const ${a} = v[${JSON.stringify(k)}]; ${optional ? `if (${a} !== undefined) { ${lead} ${value} }` : `${lead} ${value}`}`);
    certain ||= !optional;
    before = true;
  }
  const known = keys.length === 0 ? 'return false;' : `switch (k) { ${keys.map((k) => `case ${JSON.stringify(k)}:`).join(' ')} break; default: return false; }`;
  return build(inner, `return function write(v, o) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    for (const k in v) { ${known} }
    let first = true;
    o.byte(123);
    ${lines.join('\n    ')}
    o.byte(125);
    return true;
  };`);
}

/** A record with plain string keys: a plain object, no symbol keys, no `__proto__` (zod drops it), every value checked, keys in their own order. */
function recordWriter(d: Def): JsonWriter | undefined {
  const key = defOf(d.keyType!);
  if (key.type !== 'string' || checksOf(key).length > 0) return undefined;
  const inner = newCtx();
  const x = 'x';
  const value = write(d.valueType!, x, inner);
  if (value === undefined) return undefined;
  return build(inner, `return function write(v, o) {
    if (typeof v !== "object" || v === null) return false;
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    if (Object.getOwnPropertySymbols(v).length > 0) return false;
    o.byte(123);
    let first = true;
    for (const k of Object.keys(v)) {
      if (k === "__proto__") return false;
      if (!first) o.byte(44);
      first = false;
      o.string(k);
      o.byte(58);
      const ${x} = v[k];
      ${value}
    }
    o.byte(125);
    return true;
  };`);
}
