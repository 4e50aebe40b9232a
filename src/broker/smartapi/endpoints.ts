/** The SmartAPI REST routes Rustro uses (protocol notes §3–§7) and the rate-limit group of each (§9). */
import type { LimitGroup } from './limits.js';

export type Endpoint = {
  method: 'GET' | 'POST';
  path: string;
  group: LimitGroup;
  /** Sends `Authorization: Bearer <jwt>`. */
  auth: boolean;
  /**
   * `read`: safe to repeat (p-retry on network failures, 5xx, transient codes, 403).
   * `write`: repeated only when the broker provably did not process it (403 rate limit, session error).
   */
  retry: 'read' | 'write';
};

const S = '/rest/secure/angelbroking';

export const ENDPOINTS = {
  login: { method: 'POST', path: '/rest/auth/angelbroking/user/v1/loginByPassword', group: 'login', auth: false, retry: 'write' },
  generateTokens: { method: 'POST', path: '/rest/auth/angelbroking/jwt/v1/generateTokens', group: 'generateTokens', auth: true, retry: 'write' },
  logout: { method: 'POST', path: `${S}/user/v1/logout`, group: 'logout', auth: true, retry: 'write' },
  getProfile: { method: 'GET', path: `${S}/user/v1/getProfile`, group: 'profile', auth: true, retry: 'read' },
  getRMS: { method: 'GET', path: `${S}/user/v1/getRMS`, group: 'rms', auth: true, retry: 'read' },
  placeOrder: { method: 'POST', path: `${S}/order/v1/placeOrder`, group: 'orders', auth: true, retry: 'write' },
  modifyOrder: { method: 'POST', path: `${S}/order/v1/modifyOrder`, group: 'orders', auth: true, retry: 'write' },
  cancelOrder: { method: 'POST', path: `${S}/order/v1/cancelOrder`, group: 'orders', auth: true, retry: 'write' },
  getOrderBook: { method: 'GET', path: `${S}/order/v1/getOrderBook`, group: 'orderBook', auth: true, retry: 'read' },
  getTradeBook: { method: 'GET', path: `${S}/order/v1/getTradeBook`, group: 'tradeBook', auth: true, retry: 'read' },
  orderDetails: { method: 'GET', path: `${S}/order/v1/details`, group: 'orderDetails', auth: true, retry: 'read' },
  getPosition: { method: 'GET', path: `${S}/order/v1/getPosition`, group: 'positions', auth: true, retry: 'read' },
  quote: { method: 'POST', path: `${S}/market/v1/quote`, group: 'quote', auth: true, retry: 'read' },
  getCandleData: { method: 'POST', path: `${S}/historical/v1/getCandleData`, group: 'candles', auth: true, retry: 'read' },
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof ENDPOINTS;
