/**
 * Test-only decoder of SmartStream packets, written from the layout table in
 * smartapi-protocol.md §11.5 (not from the simulator's encoder).
 */
export type Decoded = {
  mode: number;
  exchangeType: number;
  token: string;
  seq: number;
  exchTs: number;
  ltp: number;
  lastQty?: number;
  avgPrice?: number;
  volume?: number;
  totBuyQty?: number;
  totSellQty?: number;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  lastTradeTs?: number;
  oi?: number;
  oiChange?: number;
  best5?: { flag: number; qty: number; price: number; orders: number }[];
  upperCircuit?: number;
  lowerCircuit?: number;
  high52?: number;
  low52?: number;
};

const i64 = (b: Buffer, o: number): number => Number(b.readBigInt64LE(o));

export function decode(b: Buffer): Decoded {
  const mode = b.readUInt8(0);
  const want = mode === 1 ? 51 : mode === 2 ? 123 : mode === 3 ? 379 : -1;
  if (b.length !== want) throw new Error(`mode ${mode} packet of ${b.length} bytes, want ${want}`);
  const raw = b.subarray(2, 27);
  const nul = raw.indexOf(0);
  const d: Decoded = {
    mode,
    exchangeType: b.readUInt8(1),
    token: raw.subarray(0, nul < 0 ? 25 : nul).toString('ascii'),
    seq: i64(b, 27),
    exchTs: i64(b, 35),
    ltp: i64(b, 43),
  };
  if (mode === 1) return d;
  Object.assign(d, {
    lastQty: i64(b, 51),
    avgPrice: i64(b, 59),
    volume: i64(b, 67),
    totBuyQty: b.readDoubleLE(75),
    totSellQty: b.readDoubleLE(83),
    open: i64(b, 91),
    high: i64(b, 99),
    low: i64(b, 107),
    close: i64(b, 115),
  });
  if (mode === 2) return d;
  const best5 = [];
  for (let i = 0; i < 10; i++) {
    const o = 147 + i * 20;
    best5.push({ flag: b.readInt16LE(o), qty: i64(b, o + 2), price: i64(b, o + 10), orders: b.readInt16LE(o + 18) });
  }
  Object.assign(d, {
    lastTradeTs: i64(b, 123),
    oi: i64(b, 131),
    oiChange: b.readDoubleLE(139),
    best5,
    upperCircuit: i64(b, 347),
    lowerCircuit: i64(b, 355),
    high52: i64(b, 363),
    low52: i64(b, 371),
  });
  return d;
}
