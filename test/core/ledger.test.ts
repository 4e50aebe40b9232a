import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { istToMillis } from '../../src/core/clock.js';
import { isDurable, type RustroEvent } from '../../src/core/events.js';
import { Ledger, ledgerFiles, replay, verify, type LedgerRecord } from '../../src/core/ledger.js';
import { T0, opts, sampleEvent, sampleEvents, tempDir } from '../fixtures/ledger/events.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  while (cleanups.length > 0) cleanups.pop()!();
});
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

async function readAll(file: string): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  for await (const r of replay(file)) out.push(r);
  return out;
}
const strip = (r: LedgerRecord): RustroEvent => ({ type: r.type, ts: r.ts, data: r.data }) as RustroEvent;
const lineCount = (file: string): number => readFileSync(file, 'utf8').split('\n').length - 1;

describe('Ledger', () => {
  it('round trip: replay yields exactly the appended events with seq 1..N', async () => {
    const d = dir();
    const led = await Ledger.open(d, opts);
    const events = sampleEvents(40);
    const pending = events.map((e) => led.append(e));
    await led.flush();
    expect(await Promise.all(pending)).toEqual(events.map((_, i) => i + 1));
    await led.close();
    const recs = await readAll(led.currentFile()!);
    expect(recs.map(strip)).toEqual(events);
    expect(recs.map((r) => r.seq)).toEqual(events.map((_, i) => i + 1));
    expect(recs.every((r) => r.v === 1 && /^[0-9a-f]{12}$/.test(r.h))).toBe(true);
    expect((await verify(led.currentFile()!)).ok).toBe(true);
  });

  it('writes lines with keys in the documented order', async () => {
    const d = dir();
    const led = await Ledger.open(d, opts);
    void led.append({ type: 'DaemonStopping', ts: T0, data: { reason: 'x' } });
    await led.close();
    expect(readFileSync(led.currentFile()!, 'utf8')).toMatch(/^\{"seq":1,"ts":\d+,"type":"DaemonStopping","v":1,"data":\{"reason":"x"\},"h":"[0-9a-f]{12}"\}\n$/);
  });

  it('continues seq across reopen, in the same file', async () => {
    const d = dir();
    let led = await Ledger.open(d, opts);
    for (const e of sampleEvents(5)) void led.append(e);
    await led.close();
    led = await Ledger.open(d, opts);
    expect(led.lastSeq).toBe(5);
    const six = led.append(sampleEvent(5, T0 + 60_000));
    await led.close();
    expect(await six).toBe(6);
    expect(ledgerFiles(d)).toHaveLength(1);
    expect((await readAll(led.currentFile()!)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await verify(led.currentFile()!)).ok).toBe(true);
  });

  it('starts a new file per IST day, seq continuing, each file verifying on its own', async () => {
    const d = dir();
    const led = await Ledger.open(d, opts);
    const beforeMidnight = istToMillis('2024-01-02', '23:59:59.999');
    const afterMidnight = istToMillis('2024-01-03', '00:00');
    void led.append(sampleEvent(0, beforeMidnight - 5000));
    void led.append(sampleEvent(1, beforeMidnight));
    void led.append(sampleEvent(2, afterMidnight));
    await led.close();
    const again = await Ledger.open(d, opts);
    expect(again.currentFile()).toMatch(/2024-01-03\.jsonl$/);
    void again.append(sampleEvent(3, afterMidnight + 1000));
    void again.append(sampleEvent(4, istToMillis('2024-01-05', '09:15'))); // a holiday gap: next file is the 5th
    await again.close();
    const files = ledgerFiles(d);
    expect(files.map((f) => basename(f))).toEqual(['2024-01-02.jsonl', '2024-01-03.jsonl', '2024-01-05.jsonl']);
    expect((await readAll(files[0]!)).map((r) => r.seq)).toEqual([1, 2]);
    expect((await readAll(files[1]!)).map((r) => r.seq)).toEqual([3, 4]);
    expect((await readAll(files[2]!)).map((r) => r.seq)).toEqual([5]);
    for (const f of files) expect(await verify(f)).toMatchObject({ ok: true, problems: [] });
  });

  it('continues seq from an older file when the newest is empty', async () => {
    const d = dir();
    const led = await Ledger.open(d, opts);
    for (const e of sampleEvents(3)) void led.append(e);
    await led.close();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${d}/2024-01-03.jsonl`, '');
    const again = await Ledger.open(d, opts);
    expect(again.lastSeq).toBe(3);
    const four = again.append(sampleEvent(3, istToMillis('2024-01-03', '09:15')));
    await again.close();
    expect(await four).toBe(4);
    expect((await verify(`${d}/2024-01-03.jsonl`)).ok).toBe(true);
  });

  it('keeps a late event (stamped on an earlier day) in the current file, in seq order', async () => {
    const d = dir();
    const led = await Ledger.open(d, opts);
    void led.append(sampleEvent(0, istToMillis('2024-01-03', '00:00:01')));
    void led.append(sampleEvent(1, istToMillis('2024-01-02', '23:59:59')));
    await led.close();
    expect(ledgerFiles(d).map((f) => basename(f))).toEqual(['2024-01-03.jsonl']);
    expect((await readAll(ledgerFiles(d)[0]!)).map((r) => r.seq)).toEqual([1, 2]);
  });

  it('group-commits: non-durable lines wait for groupCommitEvents, flush() or a durable event', async () => {
    const d = dir();
    const led = await Ledger.open(d, { groupCommitMs: 3_600_000, groupCommitEvents: 10 });
    const ps: Promise<number>[] = [];
    for (let i = 0; i < 10; i++) ps.push(led.append({ type: 'DaemonStopping', ts: T0, data: { reason: `r${i}` } }));
    expect(await ps[9]).toBe(10);
    const file = led.currentFile()!;
    expect(lineCount(file)).toBe(10);
    const p11 = led.append({ type: 'DaemonStopping', ts: T0, data: { reason: 'r10' } });
    void led.append({ type: 'DaemonStopping', ts: T0, data: { reason: 'r11' } });
    // Still pending: neither 10 events nor an hour nor a durable event yet.
    await new Promise((r) => setImmediate(r));
    expect(lineCount(file)).toBe(10);
    const durable = await led.append({ type: 'OrderFilled', ts: T0, data: { intentId: 'i', brokerOrderId: 'b', fillId: 'f', qty: 1, price: 1, filledAt: T0 } });
    expect(durable).toBe(13);
    expect(await p11).toBe(11);
    expect(lineCount(file)).toBe(13); // the durable write carried the pending lines, in order
    expect((await readAll(file)).map((r) => r.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    await led.close();
  });

  it('writes pending lines after groupCommitMs without a flush', async () => {
    const d = dir();
    const led = await Ledger.open(d, { groupCommitMs: 5, groupCommitEvents: 1000 });
    const ps = [0, 1, 2].map((i) => led.append({ type: 'DaemonStopping', ts: T0, data: { reason: `r${i}` } }));
    expect(await Promise.all(ps)).toEqual([1, 2, 3]); // only the timer can resolve these
    expect(lineCount(led.currentFile()!)).toBe(3);
    await led.close();
  }, 5000);

  it('fdatasyncs before a durable append resolves, not for group-committed ones', async () => {
    const d = dir();
    const led = await Ledger.open(d, { groupCommitMs: 3_600_000, groupCommitEvents: 2 });
    void led.append(sampleEvent(0));
    await led.flush(); // opens the file handle
    const { open } = await import('node:fs/promises');
    const probe = await open(led.currentFile()!, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const spy = vi.spyOn(proto, 'datasync');
    await Promise.all([led.append(sampleEvent(3)), led.append(sampleEvent(5))]); // two non-durable: count-triggered write
    expect(spy).not.toHaveBeenCalled();
    let synced = false;
    spy.mockImplementation(async function (this: unknown) {
      synced = true;
    });
    const p = led.append(sampleEvent(2)).then((seq) => ({ seq, syncedBefore: synced }));
    expect(isDurable(sampleEvent(2).type)).toBe(true);
    expect(await p).toEqual({ seq: 4, syncedBefore: true });
    await led.close();
  });

  it('with sync off (a backtest), a durable append resolves once written, and nothing is fdatasync\'d', async () => {
    const d = dir();
    const { open } = await import('node:fs/promises');
    const probe = await open(import.meta.filename, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const spy = vi.spyOn(proto, 'datasync');
    const led = await Ledger.open(d, { groupCommitMs: 3_600_000, groupCommitEvents: 1000, sync: false });
    expect(isDurable(sampleEvent(2).type)).toBe(true);
    expect(await led.append(sampleEvent(2))).toBe(1);
    expect(lineCount(led.currentFile()!)).toBe(1);
    void led.append(sampleEvent(0, istToMillis('2024-01-03', '10:00'))); // a new day file
    await led.close();
    expect(spy).not.toHaveBeenCalled();
    expect(ledgerFiles(d)).toHaveLength(2);
    expect((await verify(led.currentFile()!)).ok).toBe(true);
  });

  it('record: a line nobody waits for is written in order among appends; a refused one goes to onError', async () => {
    const d = dir();
    const errors: Error[] = [];
    const led = await Ledger.open(d, { ...opts, onError: (e) => errors.push(e) });
    const events = sampleEvents(6);
    led.record(events[0]!);
    const second = led.append(events[1]!);
    for (const e of events.slice(2)) led.record(e);
    led.record({ type: 'FeedStale', ts: T0, data: { silentMs: -1 } } as RustroEvent);
    await led.flush();
    expect(await second).toBe(2);
    expect((await readAll(led.currentFile()!)).map(strip)).toEqual(events);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/refusing to append an invalid event: FeedStale payload invalid: data\.silentMs/)]);
    await led.close();
    const bare = await Ledger.open(dir(), opts);
    expect(() => bare.record({ type: 'FeedStale', ts: T0, data: { silentMs: -1 } } as RustroEvent)).toThrow(/FeedStale payload invalid/);
    await bare.close();
  });

  it('refuses a record key __proto__, which replay could not give back, naming where it is', async () => {
    const led = await Ledger.open(dir(), opts);
    const detail = JSON.parse('{"__proto__": 0.05}') as Record<string, number>;
    await expect(led.append({ type: 'RiskHalted', ts: T0, data: { reason: 'x', scope: 'entries', detail } } as RustroEvent)).rejects.toThrow(/RiskHalted payload invalid: data\.detail\.__proto__: unknown key/);
    expect(led.lastSeq).toBe(0);
    await led.close();
  });

  it('writes a line longer than its line buffer, and a payload only zod can vouch for, and the chain verifies', async () => {
    const led = await Ledger.open(dir(), opts);
    const long = { type: 'DaemonStopping', ts: T0, data: { reason: 'é'.repeat(3000) } } as RustroEvent;
    // An inherited enumerable key: the compiled writer says no, zod reads only own keys and says yes.
    const inherited = Object.assign(Object.create({ inheritedKey: 1 }) as object, { silentMs: 5 });
    const events = [sampleEvent(0), long, { type: 'FeedStale', ts: T0, data: inherited } as RustroEvent, sampleEvent(2)];
    const written = events.map((e) => led.append(e));
    await led.close();
    expect(await Promise.all(written)).toEqual([1, 2, 3, 4]);
    expect((await readAll(led.currentFile()!)).map(strip)).toEqual(events.map((e) => ({ ...e, data: { ...e.data } })));
    expect((await verify(led.currentFile()!)).ok).toBe(true);
  });

  it('a failed write rejects the affected appends, calls onError, and fails later appends', async () => {
    const d = dir();
    const errors: Error[] = [];
    const led = await Ledger.open(d, { groupCommitMs: 3_600_000, groupCommitEvents: 1000, onError: (e) => errors.push(e) });
    void led.append(sampleEvent(0));
    await led.flush();
    const { open } = await import('node:fs/promises');
    const probe = await open(led.currentFile()!, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const a = led.append(sampleEvent(3));
    const b = led.append(sampleEvent(1)); // durable: triggers write + fdatasync, which fails
    await expect(a).rejects.toThrow(/ledger write to .*2024-01-02\.jsonl failed: EIO/);
    await expect(b).rejects.toThrow(/EIO/);
    expect(errors).toHaveLength(1);
    await expect(led.append(sampleEvent(5))).rejects.toThrow(/failed earlier/);
    await expect(led.close()).rejects.toThrow(/EIO/);
  });

  it('rejects append after close, and an invalid event, with clear errors', async () => {
    const d = dir();
    const led = await Ledger.open(d, opts);
    await expect(led.append({ type: 'DaemonStopping', ts: T0, data: { reason: '' } })).rejects.toThrow(/invalid event: DaemonStopping payload invalid: data\.reason/);
    await expect(led.append({ type: 'Nope', ts: T0, data: {} } as unknown as RustroEvent)).rejects.toThrow(/unknown event type "Nope"/);
    // A ts past the last day a file can be named for: refused before it takes a seq, not thrown from the day switch.
    await expect(led.append({ ...sampleEvent(0), ts: 9e15 })).rejects.toThrow(/bad ts 9000000000000000/);
    expect(led.lastSeq).toBe(0); // refused events take no seq
    const one = led.append(sampleEvent(0));
    await led.close();
    expect(await one).toBe(1);
    await expect(led.append(sampleEvent(1))).rejects.toThrow(/closed/);
    await led.close(); // idempotent
  });
});
