/**
 * The feed's subscription set and the SmartStream subscribe/unsubscribe
 * requests built from it (docs/smartapi-protocol.md §11.2). Pure: no I/O, no
 * clock. Each (token, mode) pair counts once towards a connection's limit
 * ("a token subscribed in 3 modes counts 3"); a pair stays on the connection
 * it was first placed on, so a reconnect replays exactly that connection's set.
 */
import type { Exchange, FeedMode, InstrumentRef } from '../broker.js';
import { EXCHANGE_TYPE, MODE_BYTE } from './codec.js';

export type SubEntry = { readonly exchange: Exchange; readonly token: string; readonly mode: FeedMode };

const key = (e: { exchange: Exchange; token: string }, mode: FeedMode): string => `${mode}|${e.exchange}|${e.token}`;

export class SubscriptionTable {
  /** Per connection: key → entry, in subscription order. */
  private readonly perConn: Map<string, SubEntry>[] = [];
  private readonly where = new Map<string, number>();

  constructor(private readonly maxPerConnection: number, private readonly maxConnections: number) {}

  /** Total (token, mode) pairs. */
  get size(): number {
    return this.where.size;
  }

  /** Connection slots that have (or had) entries. */
  get connectionCount(): number {
    return this.perConn.length;
  }

  count(conn: number): number {
    return this.perConn[conn]?.size ?? 0;
  }

  entries(conn: number): SubEntry[] {
    return [...(this.perConn[conn]?.values() ?? [])];
  }

  has(ref: InstrumentRef, mode: FeedMode): boolean {
    return this.where.has(key(ref, mode));
  }

  /**
   * Adds the pairs not already present, each on the first connection with room.
   * Throws a RangeError (and adds nothing) when they do not fit in
   * maxConnections × maxPerConnection. Returns the new entries per connection.
   */
  add(refs: readonly InstrumentRef[], mode: FeedMode): Map<number, SubEntry[]> {
    const fresh: SubEntry[] = [];
    const seen = new Set<string>();
    for (const r of refs) {
      if (EXCHANGE_TYPE[r.exchange] === undefined) throw new RangeError(`feed: unsupported exchange '${String(r.exchange)}'`);
      if (!/^[0-9]{1,25}$/.test(r.token)) throw new RangeError(`feed: token must be 1–25 ASCII digits, got '${r.token}'`);
      const k = key(r, mode);
      if (this.where.has(k) || seen.has(k)) continue;
      seen.add(k);
      fresh.push({ exchange: r.exchange, token: r.token, mode });
    }
    let room = 0;
    for (let c = 0; c < this.maxConnections; c++) room += this.maxPerConnection - this.count(c);
    if (fresh.length > room) {
      throw new RangeError(
        `feed: ${fresh.length} new subscription(s) do not fit: ${this.size} held, limit ${this.maxConnections} connections × ${this.maxPerConnection} tokens`,
      );
    }
    const out = new Map<number, SubEntry[]>();
    let c = 0;
    for (const e of fresh) {
      while (this.count(c) >= this.maxPerConnection) c++;
      while (this.perConn.length <= c) this.perConn.push(new Map());
      const m = this.perConn[c]!;
      m.set(key(e, mode), e);
      this.where.set(key(e, mode), c);
      const list = out.get(c) ?? [];
      list.push(e);
      out.set(c, list);
    }
    return out;
  }

  /** Removes the pairs present; returns the removed entries per connection. */
  remove(refs: readonly InstrumentRef[], mode: FeedMode): Map<number, SubEntry[]> {
    const out = new Map<number, SubEntry[]>();
    for (const r of refs) {
      const k = key(r, mode);
      const c = this.where.get(k);
      if (c === undefined) continue;
      const e = this.perConn[c]!.get(k)!;
      this.perConn[c]!.delete(k);
      this.where.delete(k);
      const list = out.get(c) ?? [];
      list.push(e);
      out.set(c, list);
    }
    return out;
  }
}

export type TokenList = { exchangeType: number; tokens: string[] }[];
export type FeedRequest = { correlationID: string; action: 0 | 1; params: { mode: 1 | 2 | 3; tokenList: TokenList } };

/**
 * The JSON text requests for `entries`: one mode per request, at most
 * `batchSize` tokens each, tokens grouped by exchangeType in first-seen order.
 */
export function buildRequests(action: 0 | 1, entries: readonly SubEntry[], batchSize: number, nextId: () => string): string[] {
  const byMode = new Map<FeedMode, SubEntry[]>();
  for (const e of entries) {
    const list = byMode.get(e.mode) ?? [];
    list.push(e);
    byMode.set(e.mode, list);
  }
  const out: string[] = [];
  const size = Math.max(1, Math.floor(batchSize));
  for (const [mode, list] of byMode) {
    for (let i = 0; i < list.length; i += size) {
      const groups = new Map<number, string[]>();
      for (const e of list.slice(i, i + size)) {
        const et = EXCHANGE_TYPE[e.exchange];
        const g = groups.get(et) ?? [];
        g.push(e.token);
        groups.set(et, g);
      }
      const req: FeedRequest = {
        correlationID: nextId(),
        action,
        params: { mode: MODE_BYTE[mode], tokenList: [...groups].map(([exchangeType, tokens]) => ({ exchangeType, tokens })) },
      };
      out.push(JSON.stringify(req));
    }
  }
  return out;
}
