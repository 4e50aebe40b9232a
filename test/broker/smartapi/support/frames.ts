/**
 * Test-only SmartStream frame builder, written from the byte layout in
 * docs/smartapi-protocol.md §11.5 with DataView + BigInt — deliberately a
 * different implementation from the codec, so a round trip checks both.
 * Prices are given in paise (integers), as on the wire.
 */
export type WireDepth = { flag: number; qty: bigint; pricePaise: bigint; orders: number };

export type WireLtp = {
  mode: 1;
  exchangeType: number;
  token: string;
  sequence: bigint;
  exchTsMs: bigint;
  ltpPaise: bigint;
};
export type WireQuote = Omit<WireLtp, 'mode'> & {
  mode: 2;
  lastQty: bigint;
  avgPaise: bigint;
  volume: bigint;
  totBuyQty: number;
  totSellQty: number;
  openPaise: bigint;
  highPaise: bigint;
  lowPaise: bigint;
  closePaise: bigint;
};
export type WireSnap = Omit<WireQuote, 'mode'> & {
  mode: 3;
  lastTradeTsSec: bigint;
  oi: bigint;
  oiChangePct: number;
  /** 10 entries: 0–4 buy side, 5–9 sell side. */
  depth: WireDepth[];
  upperPaise: bigint;
  lowerPaise: bigint;
  high52Paise: bigint;
  low52Paise: bigint;
};
export type WireFrame = WireLtp | WireQuote | WireSnap;

const SIZE = { 1: 51, 2: 123, 3: 379 } as const;

export function buildFrame(f: WireFrame): Uint8Array {
  const buf = new Uint8Array(SIZE[f.mode]);
  const v = new DataView(buf.buffer);
  v.setUint8(0, f.mode);
  v.setUint8(1, f.exchangeType);
  for (let i = 0; i < f.token.length && i < 25; i++) v.setUint8(2 + i, f.token.charCodeAt(i));
  v.setBigInt64(27, f.sequence, true);
  v.setBigInt64(35, f.exchTsMs, true);
  v.setBigInt64(43, f.ltpPaise, true);
  if (f.mode === 1) return buf;
  v.setBigInt64(51, f.lastQty, true);
  v.setBigInt64(59, f.avgPaise, true);
  v.setBigInt64(67, f.volume, true);
  v.setFloat64(75, f.totBuyQty, true);
  v.setFloat64(83, f.totSellQty, true);
  v.setBigInt64(91, f.openPaise, true);
  v.setBigInt64(99, f.highPaise, true);
  v.setBigInt64(107, f.lowPaise, true);
  v.setBigInt64(115, f.closePaise, true);
  if (f.mode === 2) return buf;
  v.setBigInt64(123, f.lastTradeTsSec, true);
  v.setBigInt64(131, f.oi, true);
  v.setFloat64(139, f.oiChangePct, true);
  f.depth.forEach((d, i) => {
    const o = 147 + i * 20;
    v.setInt16(o, d.flag, true);
    v.setBigInt64(o + 2, d.qty, true);
    v.setBigInt64(o + 10, d.pricePaise, true);
    v.setInt16(o + 18, d.orders, true);
  });
  v.setBigInt64(347, f.upperPaise, true);
  v.setBigInt64(355, f.lowerPaise, true);
  v.setBigInt64(363, f.high52Paise, true);
  v.setBigInt64(371, f.low52Paise, true);
  return buf;
}

const T = 1_737_356_263_000n;

export function ltpFrame(token = '99926000', ltpPaise = 2_171_235n, exchangeType = 1, exchTsMs = T): Uint8Array {
  return buildFrame({ mode: 1, exchangeType, token, sequence: 0n, exchTsMs, ltpPaise });
}

export function sampleQuote(token = '43650', exchangeType = 2): WireQuote {
  return {
    mode: 2, exchangeType, token, sequence: 7n, exchTsMs: T, ltpPaise: 12_345n,
    lastQty: 50n, avgPaise: 12_000n, volume: 1_234_500n, totBuyQty: 605_175, totSellQty: 512_000,
    openPaise: 11_000n, highPaise: 13_000n, lowPaise: 10_500n, closePaise: 11_500n,
  };
}

export function sampleSnap(token = '43650', exchangeType = 2): WireSnap {
  const depth: WireDepth[] = [];
  for (let i = 0; i < 5; i++) depth.push({ flag: 1, qty: BigInt(100 + i), pricePaise: BigInt(12_300 - i * 5), orders: i + 1 });
  for (let i = 0; i < 5; i++) depth.push({ flag: 0, qty: BigInt(200 + i), pricePaise: BigInt(12_350 + i * 5), orders: i + 2 });
  return {
    ...sampleQuote(token, exchangeType), mode: 3, lastTradeTsSec: 1_737_356_261n, oi: 987_650n, oiChangePct: 0.46875,
    depth, upperPaise: 50_000n, lowerPaise: 5n, high52Paise: 90_000n, low52Paise: 5n,
  };
}
