import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/bus.js';
import { SimClock } from '../../src/core/clock.js';
import type { RustroEvent } from '../../src/core/events.js';

const stopping = (reason: string) => ({ reason });

describe('EventBus', () => {
  it('delivers to type subscribers and all-subscribers in subscription order', () => {
    const bus = new EventBus(new SimClock(1000));
    const seen: string[] = [];
    bus.on('DaemonStopping', (e) => seen.push(`a:${e.data.reason}`));
    bus.onAny((e) => seen.push(`any:${e.type}`));
    bus.on('DaemonStopping', (e) => seen.push(`b:${e.data.reason}`));
    bus.on('DaemonStopped', () => seen.push('never'));
    bus.emit('DaemonStopping', stopping('x'));
    expect(seen).toEqual(['a:x', 'any:DaemonStopping', 'b:x']);
  });

  it('stamps emitted events with the clock time', () => {
    const clock = new SimClock(1_700_000_000_000);
    const bus = new EventBus(clock);
    const got: RustroEvent[] = [];
    bus.onAny((e) => got.push(e));
    bus.emit('DaemonStopping', stopping('a'));
    clock.advanceBy(250);
    bus.emit('DaemonStopping', stopping('b'));
    expect(got.map((e) => e.ts)).toEqual([1_700_000_000_000, 1_700_000_000_250]);
  });

  it('delivers an event published inside a handler only after the current one reached everyone', () => {
    const bus = new EventBus(new SimClock(0));
    const log: string[] = [];
    bus.on('DaemonStopping', (e) => {
      log.push(`h1:${e.data.reason}`);
      if (e.data.reason === 'first') bus.emit('DaemonStopping', stopping('second'));
    });
    bus.on('DaemonStopping', (e) => log.push(`h2:${e.data.reason}`));
    bus.emit('DaemonStopping', stopping('first'));
    expect(log).toEqual(['h1:first', 'h2:first', 'h1:second', 'h2:second']);
  });

  it('isolates a throwing handler, reports HandlerFailed, and keeps delivering', () => {
    const bus = new EventBus(new SimClock(5));
    const log: string[] = [];
    bus.on('DaemonStopping', function exploding() {
      throw new Error('boom');
    });
    bus.on('DaemonStopping', (e) => log.push(`after:${e.data.reason}`));
    const failures: RustroEvent[] = [];
    bus.on('HandlerFailed', (e) => failures.push(e));
    bus.emit('DaemonStopping', stopping('x'));
    bus.emit('DaemonStopping', stopping('y'));
    expect(log).toEqual(['after:x', 'after:y']);
    expect(failures).toEqual([
      { type: 'HandlerFailed', ts: 5, data: { eventType: 'DaemonStopping', handler: 'exploding', error: 'Error: boom' } },
      { type: 'HandlerFailed', ts: 5, data: { eventType: 'DaemonStopping', handler: 'exploding', error: 'Error: boom' } },
    ]);
  });

  it('does not loop when a HandlerFailed handler throws; hands it to onUnreportable', () => {
    const bus = new EventBus(new SimClock(0));
    const unreportable: unknown[] = [];
    bus.onUnreportable = (err) => unreportable.push(err);
    bus.on('DaemonStopping', () => { throw new Error('first'); });
    bus.on('HandlerFailed', () => { throw new Error('second'); });
    let delivered = 0;
    bus.onAny(() => delivered++);
    bus.emit('DaemonStopping', stopping('x'));
    expect(delivered).toBe(2);
    expect(unreportable).toHaveLength(1);
    expect(String(unreportable[0])).toContain('second');
  });

  it('stops delivering to an unsubscribed handler, also mid-dispatch', () => {
    const bus = new EventBus(new SimClock(0));
    const log: string[] = [];
    const off = bus.on('DaemonStopping', (e) => log.push(e.data.reason));
    bus.on('DaemonStopping', (e) => { if (e.data.reason === 'a') off(); });
    bus.emit('DaemonStopping', stopping('a'));
    bus.emit('DaemonStopping', stopping('b'));
    expect(log).toEqual(['a']);
  });

  // Property: whatever the re-entrant publishing pattern, (1) every subscriber sees
  // the same sequence, (2) that sequence is the breadth-first (FIFO) order of the
  // publish tree, and (3) each event is seen exactly once per subscriber.
  it('gives every subscriber the same FIFO order under arbitrary re-entrant publishing', () => {
    // children[i] = the events that handler k publishes when it receives event i.
    const tree = fc.array(
      fc.array(fc.record({ by: fc.nat({ max: 2 }), count: fc.nat({ max: 2 }) }), { maxLength: 3 }),
      { minLength: 1, maxLength: 30 },
    );
    fc.assert(
      fc.property(tree, fc.nat({ max: 3 }), (spec, roots) => {
        const bus = new EventBus(new SimClock(0));
        let nextId = 0;
        const seen: string[][] = [[], [], []];
        const publish = () => bus.emit('DaemonStopping', stopping(`e${nextId++}`));
        // Expected order, computed independently as a BFS over the publish tree.
        const expected: string[] = [];
        for (let k = 0; k < 3; k++) {
          bus.on('DaemonStopping', (e) => {
            seen[k]!.push(e.data.reason);
            const i = Number(e.data.reason.slice(1));
            for (const c of spec[i % spec.length]!) if (c.by === k) for (let j = 0; j < c.count; j++) if (nextId < 200) publish();
          });
        }
        for (let r = 0; r <= roots; r++) publish();
        for (let i = 0; i < nextId; i++) expected.push(`e${i}`);
        expect(seen[0]).toEqual(expected);
        expect(seen[1]).toEqual(expected);
        expect(seen[2]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
