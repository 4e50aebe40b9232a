import { describe, expect, it } from 'vitest';
import { fillPrice, fillQty, roundToTick, touchOf } from '../../../src/broker/paper/fill-rules.js';
import { tick } from './support.js';

describe('roundToTick', () => {
  it('rounds up, down or to the nearest step, without float noise', () => {
    expect(roundToTick(100.03, 0.05, 'up')).toBe(100.05);
    expect(roundToTick(100.03, 0.05, 'down')).toBe(100);
    expect(roundToTick(100.03, 0.05, 'nearest')).toBe(100.05);
    expect(roundToTick(0.15, 0.05, 'up')).toBe(0.15);
    expect(roundToTick(0.1 + 0.05, 0.05, 'down')).toBe(0.15);
    expect(roundToTick(99.55, 0.05, 'up')).toBe(99.55);
    expect(roundToTick(12.345, 0, 'up')).toBe(12.345);
  });
});

describe('touchOf', () => {
  it('best ask for a BUY, best bid for a SELL, the LTP without depth or with an empty level', () => {
    const t = tick(0, { ltp: 100, ask: 100.2, bid: 99.8 });
    expect(touchOf(t, 'BUY')).toBe(100.2);
    expect(touchOf(t, 'SELL')).toBe(99.8);
    expect(touchOf(tick(0, { ltp: 100 }), 'BUY')).toBe(100);
    expect(touchOf({ ...tick(0, { ltp: 100 }), asks: [{ price: 0, qty: 0, orders: 0 }] }, 'BUY')).toBe(100);
    expect(touchOf(tick(0, { ltp: 0 }), 'SELL')).toBeUndefined();
    expect(touchOf(tick(0, { ltp: Number.NaN }), 'SELL')).toBeUndefined();
  });
});

describe('fillPrice', () => {
  const t = tick(0, { ltp: 100, ask: 100.1, bid: 99.9 });
  it.each([
    ['BUY LIMIT below the ask: no fill', { side: 'BUY', orderType: 'LIMIT', price: 100 }, 2, undefined],
    ['BUY LIMIT at the ask: the limit caps the slippage', { side: 'BUY', orderType: 'LIMIT', price: 100.1 }, 2, 100.1],
    ['BUY LIMIT above the ask: ask + slippage', { side: 'BUY', orderType: 'LIMIT', price: 105 }, 2, 100.2],
    ['SELL LIMIT above the bid: no fill', { side: 'SELL', orderType: 'LIMIT', price: 100 }, 2, undefined],
    ['SELL LIMIT below the bid: bid − slippage, not below the limit', { side: 'SELL', orderType: 'LIMIT', price: 99.85 }, 2, 99.85],
    ['SELL LIMIT well below: bid − slippage', { side: 'SELL', orderType: 'LIMIT', price: 95 }, 2, 99.8],
    ['BUY MARKET', { side: 'BUY', orderType: 'MARKET', price: 0 }, 3, 100.25],
    ['SELL MARKET', { side: 'SELL', orderType: 'MARKET', price: 0 }, 3, 99.75],
    ['no slippage', { side: 'BUY', orderType: 'MARKET', price: 0 }, 0, 100.1],
  ] as const)('%s', (_name, o, slip, want) => {
    expect(fillPrice(o, t, 0.05, slip)).toBe(want);
  });

  it('a MARKET sell never goes below one tick', () => {
    expect(fillPrice({ side: 'SELL', orderType: 'MARKET', price: 0 }, tick(0, { ltp: 0.05 }), 0.05, 10)).toBe(0.05);
  });
});

describe('fillQty', () => {
  it('the whole remainder, or at most max lots per tick', () => {
    expect(fillQty(125, 25, 0)).toBe(125);
    expect(fillQty(125, 25, 2)).toBe(50);
    expect(fillQty(25, 25, 2)).toBe(25);
    expect(fillQty(0, 25, 2)).toBe(0);
  });
});
