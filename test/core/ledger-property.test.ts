import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RustroEvent } from '../../src/core/events.js';
import { Ledger, ledgerFiles, replay, verify } from '../../src/core/ledger.js';
import { T0, tempDir } from '../fixtures/ledger/events.js';

const root = tempDir();
afterAll(() => root.cleanup());

const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }); // any code points, lone surrogates too
const ms = fc.integer({ min: 0, max: 4e12 });
const price = fc.double({ min: 0.05, max: 1e6, noNaN: true });
const payload: fc.Arbitrary<Omit<RustroEvent, 'ts'>> = fc.oneof(
  fc.record({ type: fc.constant('DaemonStopping' as const), data: fc.record({ reason: text }) }),
  fc.record({ type: fc.constant('HandlerFailed' as const), data: fc.record({ eventType: text, handler: fc.string(), error: fc.string({ unit: 'binary' }) }) }),
  fc.record({ type: fc.constant('OrderFilled' as const), data: fc.record({ intentId: text, brokerOrderId: text, fillId: text, qty: fc.integer({ min: 1, max: 1e6 }), price, filledAt: ms }) }),
  fc.record({
    type: fc.constant('RiskHalted' as const),
    data: fc.record({
      reason: text, scope: fc.constantFrom('entries' as const, 'all' as const),
      // Any key the ledger accepts (a `__proto__` key is refused when written: see droppedKey in core/events.ts).
      detail: fc.dictionary(fc.string().filter((k) => k !== '__proto__'), fc.oneof(fc.string(), fc.integer(), price, fc.boolean()), { maxKeys: 4 }),
    }),
  }),
);
/** Steps: an event `gapMs` after the previous one (sometimes across IST midnight), or a flush point. */
const step = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), gapMs: fc.integer({ min: 0, max: 8 * 3600_000 }), e: payload }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
);

let run = 0;
describe('ledger property', () => {
  it('any sequence of events, batched and flushed anywhere, replays identically across day files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), async (steps, batch) => {
        const dir = `${root.dir}/run-${run++}`;
        const led = await Ledger.open(dir, { groupCommitMs: 3_600_000, groupCommitEvents: batch });
        const written: RustroEvent[] = [];
        const seqs: Promise<number>[] = [];
        let ts = T0;
        for (const s of steps) {
          if (s.kind === 'flush') await led.flush();
          else {
            ts += s.gapMs;
            const e = { ...s.e, ts } as RustroEvent;
            written.push(e);
            seqs.push(led.append(e));
          }
        }
        await led.close();
        expect(await Promise.all(seqs)).toEqual(written.map((_, i) => i + 1));
        const back: RustroEvent[] = [];
        for (const f of ledgerFiles(dir)) {
          expect((await verify(f)).problems).toEqual([]);
          for await (const r of replay(f)) back.push({ type: r.type, ts: r.ts, data: r.data } as RustroEvent);
        }
        expect(back).toEqual(written);
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
