import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogue, eventTypes, parsePayload, writePayload, type EventType } from '../../src/core/events.js';
import { ByteSink } from '../../src/core/json-bytes.js';
import { type JsonWriter, compileJsonWriter } from '../../src/core/zod-json.js';

/** What a writer writes for `v` (from a tiny sink, so it grows), or undefined when it says no. */
function written(write: (v: unknown, o: ByteSink) => boolean, v: unknown): string | undefined {
  const o = new ByteSink(4);
  return write(v, o) ? o.b.toString('utf8', 0, o.p) : undefined;
}
const payloadJson = (type: EventType, data: unknown): string | undefined => written((v, o) => writePayload(type, v, o), data);

type Def = { type: string; checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number; value?: number; inclusive?: boolean; pattern?: RegExp; format?: string } } }[] } & Record<string, any>;
const defOf = (s: z.ZodType): Def => (s as any)._zod.def;

/** Values a schema accepts, drawn from its own definition (the test's side: independent of the writer's compiler). */
function valid(s: z.ZodType): fc.Arbitrary<unknown> {
  const d = defOf(s);
  const checks = (d.checks ?? []).map((c) => c._zod.def);
  switch (d.type) {
    case 'string': {
      const re = checks.find((c) => c.check === 'string_format')?.pattern;
      if (re !== undefined) return fc.stringMatching(re);
      return fc.string({ unit: 'binary', minLength: checks.find((c) => c.check === 'min_length')?.minimum ?? 0, maxLength: 12 });
    }
    case 'number': {
      const lo = checks.find((c) => c.check === 'greater_than');
      const int = checks.some((c) => c.check === 'number_format');
      if (int) return fc.integer({ min: lo === undefined ? -1e9 : lo.value! + (lo.inclusive ? 0 : 1), max: 2e12 });
      return fc.double({ min: lo?.value ?? -1e9, max: 1e9, minExcluded: lo !== undefined && !lo.inclusive, noNaN: true, noDefaultInfinity: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'enum':
    case 'literal':
      return fc.constantFrom(...(s as any)._zod.values);
    case 'optional':
      return fc.option(valid(d.innerType), { nil: undefined });
    case 'nullable':
      return fc.option(valid(d.innerType), { nil: null });
    case 'union':
      return fc.oneof(...d.options.map(valid));
    case 'array':
      return fc.array(valid(d.element), { minLength: checks.find((c) => c.check === 'min_length')?.minimum ?? 0, maxLength: 3 });
    case 'object': {
      const shape = d.shape as Record<string, z.ZodType>;
      const required = Object.keys(shape).filter((k) => defOf(shape[k]!).type !== 'optional');
      return fc.record(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, valid(v)])), { requiredKeys: required });
    }
    case 'record':
      return fc.dictionary(fc.string().filter((k) => k !== '__proto__'), valid(d.valueType), { maxKeys: 3 });
    default:
      throw new Error(`no arbitrary for ${d.type}`);
  }
}

const WEIRD: unknown[] = [NaN, Infinity, -Infinity, -1, -0.5, 0, 0.5, 2 ** 53, '', 'x', null, undefined, true, false, [], {}, [1], new Date(0), Object.create(null), JSON.parse('{"__proto__":1}')];

/** The value with one change somewhere inside it: a part replaced by an odd value, or a key added, removed or set to `__proto__`. */
function mutate(value: unknown, pick: number, kind: number, weird: number): unknown {
  const copy = structuredClone(value);
  const slots: { parent: any; key: string | number }[] = [];
  const walk = (v: any): void => {
    if (typeof v !== 'object' || v === null) return;
    for (const k of Object.keys(v)) {
      slots.push({ parent: v, key: Array.isArray(v) ? Number(k) : k });
      walk(v[k]);
    }
  };
  const root = { v: copy };
  slots.push({ parent: root, key: 'v' });
  walk(copy);
  const containers = [root.v, ...slots.map((s) => s.parent[s.key])].filter((v) => typeof v === 'object' && v !== null);
  const at = slots[pick % slots.length]!;
  const box = containers.length > 0 ? containers[pick % containers.length] : undefined;
  switch (kind % 4) {
    case 0:
      at.parent[at.key] = WEIRD[weird % WEIRD.length];
      break;
    case 1:
      if (box !== undefined) box.extraKey = 1;
      break;
    case 2:
      if (box !== undefined) Object.defineProperty(box, '__proto__', { value: 1, enumerable: true, configurable: true, writable: true });
      break;
    default:
      if (at.parent !== root) delete at.parent[at.key];
  }
  return root.v;
}

const types = eventTypes.filter((t) => catalogue[t].ledgered);

/** What the ledger wrote before the writer: zod's parsed copy, JSON.stringify'd. */
function zodJson(type: EventType, data: unknown): string | undefined {
  const parsed = parsePayload(type, data);
  return parsed.ok ? JSON.stringify(parsed.data) : undefined;
}

describe('zod JSON writer', () => {
  it('compiles every ledgered event schema: no event type falls back to the slow parse', () => {
    const missing = types.filter((t) => compileJsonWriter(catalogue[t].schema) === undefined);
    expect(missing).toEqual([]);
  });

  it('writes every payload its schema accepts whole, as JSON.stringify writes zod\'s parse of it', () => {
    for (const type of types) {
      fc.assert(
        fc.property(valid(catalogue[type].schema), (data) => {
          const want = zodJson(type, data);
          expect(want).toBeDefined();
          expect(payloadJson(type, data)).toBe(want);
        }),
        { numRuns: 40 },
      );
    }
  });

  it('never writes a payload zod refuses or would drop a key of, and what it writes is zod\'s parse', () => {
    let refused = 0;
    for (const type of types) {
      fc.assert(
        fc.property(valid(catalogue[type].schema), fc.nat(), fc.nat(), fc.nat(), (data, pick, kind, weird) => {
          const odd = mutate(data, pick, kind, weird);
          const text = payloadJson(type as EventType, odd);
          const want = zodJson(type as EventType, odd);
          if (want === undefined) refused++;
          if (text !== undefined) expect(text).toBe(want);
        }),
        { numRuns: 150 },
      );
    }
    expect(refused).toBeGreaterThan(types.length * 50); // the mutations do reach refusals, for every kind of type
  });

  it('refuses what the ledger must not write, named cases', () => {
    const writer: JsonWriter = compileJsonWriter(z.object({ n: z.number().int().nonnegative(), s: z.string().min(1), o: z.number().optional(), r: z.record(z.string(), z.number()) }))!;
    const w = (v: unknown) => written(writer, v);
    expect(w({ n: 1, s: 'a', r: {} })).toBe('{"n":1,"s":"a","r":{}}');
    expect(w({ s: 'a', o: undefined, r: { x: 2.5 }, n: 1 })).toBe('{"n":1,"s":"a","r":{"x":2.5}}');
    expect(w({ n: NaN, s: 'a', r: {} })).toBeUndefined();
    expect(w({ n: 1.5, s: 'a', r: {} })).toBeUndefined();
    expect(w({ n: -1, s: 'a', r: {} })).toBeUndefined();
    expect(w({ n: 1, s: '', r: {} })).toBeUndefined();
    expect(w({ n: 1, s: 'a', r: {}, extra: 1 })).toBeUndefined();
    expect(w({ n: 1, s: 'a', r: JSON.parse('{"__proto__":1}') })).toBeUndefined();
    expect(w({ n: 1, s: 'a', r: { x: Infinity } })).toBeUndefined();
    expect(w([1])).toBeUndefined();
    // What is written is what was checked: a toJSON cannot swap a value in after the check.
    class Sneaky {
      n = 1;
      s = 'a';
      r = {};
      toJSON(): string {
        return 'swapped';
      }
    }
    expect(JSON.stringify(new Sneaky())).toBe('"swapped"');
    expect(w(new Sneaky())).toBe('{"n":1,"s":"a","r":{}}');
  });

  it('writes optional first keys, nullables, unions, enums and escapes as JSON.stringify does', () => {
    const writer = compileJsonWriter(
      z.object({ a: z.string().optional(), b: z.number().nullable(), c: z.union([z.string(), z.number(), z.null()]), d: z.enum(['x', 'y"z']), e: z.array(z.object({ f: z.boolean().optional() })), g: z.record(z.string(), z.string()) }),
    )!;
    const w = (v: unknown) => written(writer, v);
    for (const v of [
      { b: null, c: 'q\n"', d: 'y"z', e: [{}, { f: true }], g: {} },
      { a: '\ud800', b: -0.05, c: 1707710760000, d: 'x', e: [], g: { '2': 'é😀', a: '', '1': 'x' } },
      { a: 'naïve', b: 21814.25, c: -2147483648, d: 'x', e: [{ f: false }], g: { 'k"\\': '\u0000' } },
    ]) {
      expect(w(v)).toBe(JSON.stringify(v));
    }
    expect(w({ b: 1, c: null, d: 'x', e: [undefined], g: {} })).toBeUndefined();
  });

  it('compiles nothing it does not know: the caller keeps asking zod', () => {
    expect(compileJsonWriter(z.string().email())).toBeUndefined();
    expect(compileJsonWriter(z.strictObject({ a: z.string() }))).toBeUndefined();
    expect(compileJsonWriter(z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]))).toBeUndefined();
    expect(compileJsonWriter(z.string().transform((s) => s.length))).toBeUndefined();
    expect(compileJsonWriter(z.number().multipleOf(5))).toBeUndefined();
    // A refine on an object, a record, a union or an enum: a check the writer cannot run.
    expect(compileJsonWriter(z.object({ a: z.number() }).refine((o) => o.a > 5))).toBeUndefined();
    expect(compileJsonWriter(z.object({ r: z.record(z.string(), z.number()).refine(() => true) }))).toBeUndefined();
    expect(compileJsonWriter(z.union([z.string(), z.number()]).superRefine(() => {}))).toBeUndefined();
    expect(compileJsonWriter(z.enum(['a', 'b']).refine((v) => v === 'a'))).toBeUndefined();
    expect(compileJsonWriter(z.object({ a: z.number().optional().refine(() => true) }))).toBeUndefined();
    // Values with no JSON text that reads back as themselves, and undefined outside an object.
    expect(compileJsonWriter(z.literal(1n))).toBeUndefined();
    expect(compileJsonWriter(z.array(z.number().optional()))).toBeUndefined();
    expect(compileJsonWriter(z.record(z.string(), z.number().optional()))).toBeUndefined();
    // Format schemas, which are their own check: those it cannot run are not compiled.
    expect(compileJsonWriter(z.email())).toBeUndefined();
    expect(compileJsonWriter(z.object({ n: z.int32() }))).toBeUndefined();
  });

  it('runs the checks a format schema or a native enum carries itself, as zod does', () => {
    const int = compileJsonWriter(z.object({ n: z.int() }))!;
    expect(written(int, { n: 3 })).toBe('{"n":3}');
    expect(written(int, { n: 1.5 })).toBeUndefined();
    enum Side { Buy, Sell }
    const side = compileJsonWriter(z.object({ s: z.enum(Side) }))!;
    expect(written(side, { s: Side.Sell })).toBe('{"s":1}');
    expect(written(side, { s: 'Buy' })).toBeUndefined(); // a reverse-mapped name, which zod refuses
    expect(z.enum(Side).safeParse('Buy').success).toBe(false);
  });
});
