/**
 * At start, today's ledger is read back through the folds (order book,
 * positions, risk, the strategy's facts), so a restart the same day knows its
 * orders, positions, trades and halts — a halt survives a restart. Only
 * records already on disk before this start are read (`upToSeq`); they are
 * not published again.
 */
import { basename } from 'node:path';
import { istDate } from '../core/clock.js';
import type { RustroEvent } from '../core/events.js';
import { ledgerFiles, replay } from '../core/ledger.js';

export async function replayToday(ledgerDir: string, now: number, upToSeq: number, sinks: readonly ((e: RustroEvent) => void)[]): Promise<number> {
  const file = ledgerFiles(ledgerDir).find((f) => basename(f) === `${istDate(now)}.jsonl`);
  if (file === undefined) return 0;
  let n = 0;
  for await (const r of replay(file)) {
    if (r.seq > upToSeq) break;
    const e = { type: r.type, ts: r.ts, data: r.data } as RustroEvent;
    for (const sink of sinks) sink(e);
    n++;
  }
  return n;
}
