/**
 * Accounts, login and sessions of the simulated broker (smartapi-protocol.md §3).
 * Login checks client code + PIN (AB1007) and a 6-digit RFC 6238 TOTP with a
 * ±1 step window against the WALL clock (the client's authenticator runs on
 * real time). Tokens are opaque random strings; a session expires at the
 * earlier of midnight IST after login and `tokenLifetimeMs`, both in SIM time.
 */
import { randomBytes } from 'node:crypto';
import { createGuardrails, generateSync, verifySync } from 'otplib';
import { Secret, type Secrets } from '../../core/secrets.js';
import { istDayStart } from './util.js';

export type SimAccount = {
  clientcode: string;
  /** The account PIN, sent as `password`. */
  pin: string;
  /** Base32 TOTP secret (any length: otplib's 16-byte minimum is relaxed here). */
  totpSecret: string;
  name: string;
  email: string;
  mobileno: string;
};

/** The simulator's built-in demo account. Simulator-only values, safe to print. */
export const DEMO_ACCOUNT: SimAccount = {
  clientcode: 'SIM1001',
  pin: '1234',
  totpSecret: 'JBSWY3DPEHPK3PXP',
  name: 'RUSTRO SIM USER',
  email: 'sim@rustro.invalid',
  mobileno: '9999999999',
};
export const DEMO_API_KEY = 'rustro-sim-key';

/** The demo account as the daemon's `Secrets` (simulator-only values); `over` replaces any of them, e.g. a wrong TOTP secret. */
export function demoAccountSecrets(over: Partial<Record<keyof Secrets, string>> = {}): Secrets {
  const source = 'the simulator demo account';
  return {
    apiKey: new Secret(over.apiKey ?? DEMO_API_KEY, source),
    clientCode: new Secret(over.clientCode ?? DEMO_ACCOUNT.clientcode, source),
    pin: new Secret(over.pin ?? DEMO_ACCOUNT.pin, source),
    totpSecret: new Secret(over.totpSecret ?? DEMO_ACCOUNT.totpSecret, source),
  };
}

// Accept short secrets (the demo secret is 10 bytes); still reject absurd periods etc.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 1 });

/** The 6-digit TOTP of `secret` at wall time `ms` — for tests and the CLI. */
export function totpAt(secret: string, ms: number): string {
  return generateSync({ secret, guardrails, epoch: Math.floor(ms / 1000) });
}

export function verifyTotp(secret: string, code: string, wallMs: number): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  try {
    return verifySync({ secret, token: code, guardrails, epoch: Math.floor(wallMs / 1000), epochTolerance: 30 }).valid;
  } catch {
    return false;
  }
}

export type Session = {
  clientcode: string;
  jwtToken: string;
  refreshToken: string;
  feedToken: string;
  /** Sim ms. */
  issuedAt: number;
  expiresAt: number;
};

export type TokenCheck = { state: 'ok'; session: Session } | { state: 'expired'; session: Session } | { state: 'unknown' };
export type LoginResult = { ok: true; session: Session } | { ok: false; code: string; message: string };

const opaque = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

export class Auth {
  private readonly accounts = new Map<string, SimAccount>();
  private readonly byJwt = new Map<string, Session>();
  private readonly byFeedToken = new Map<string, Session>();
  private readonly byRefresh = new Map<string, Session>();
  readonly lastLogin = new Map<string, number>();

  constructor(
    accounts: readonly SimAccount[],
    private readonly opts: { simNow: () => number; wallNow: () => number; tokenLifetimeMs?: number | undefined },
  ) {
    for (const a of accounts) this.accounts.set(a.clientcode, a);
  }

  account(clientcode: string): SimAccount | undefined {
    return this.accounts.get(clientcode);
  }

  login(clientcode: string, pin: string, totp: string): LoginResult {
    const acct = this.accounts.get(clientcode);
    if (acct === undefined || acct.pin !== pin) return { ok: false, code: 'AB1007', message: 'Invalid clientcode or password' };
    if (!verifyTotp(acct.totpSecret, totp, this.opts.wallNow())) return { ok: false, code: 'AB1050', message: 'Invalid totp' };
    this.lastLogin.set(clientcode, this.opts.simNow());
    return { ok: true, session: this.issue(clientcode) };
  }

  /** New tokens for a live session (generateTokens); the old refresh token stops working. */
  refresh(jwt: string, refreshToken: string): LoginResult {
    const s = this.byRefresh.get(refreshToken);
    const check = this.checkJwt(jwt);
    if (s === undefined || check.state !== 'ok' || check.session.clientcode !== s.clientcode) {
      return { ok: false, code: 'AB8050', message: 'Invalid Refresh Token' };
    }
    this.byRefresh.delete(refreshToken);
    return { ok: true, session: this.issue(s.clientcode) };
  }

  checkJwt(jwt: string): TokenCheck {
    return this.check(this.byJwt.get(jwt));
  }

  checkFeedToken(feedToken: string): TokenCheck {
    return this.check(this.byFeedToken.get(feedToken));
  }

  logout(clientcode: string): void {
    for (const map of [this.byJwt, this.byFeedToken, this.byRefresh]) {
      for (const [k, s] of map) if (s.clientcode === clientcode) map.delete(k);
    }
  }

  /** Fault: every token of every account stops working now. */
  invalidateAll(): void {
    this.byJwt.clear();
    this.byFeedToken.clear();
    this.byRefresh.clear();
  }

  private check(s: Session | undefined): TokenCheck {
    if (s === undefined) return { state: 'unknown' };
    return this.opts.simNow() >= s.expiresAt ? { state: 'expired', session: s } : { state: 'ok', session: s };
  }

  private issue(clientcode: string): Session {
    const now = this.opts.simNow();
    const midnight = istDayStart(now) + 86_400_000;
    const life = this.opts.tokenLifetimeMs;
    const s: Session = {
      clientcode,
      jwtToken: opaque('simjwt.'),
      refreshToken: opaque('simrefresh.'),
      feedToken: opaque('simfeed.'),
      issuedAt: now,
      expiresAt: life === undefined ? midnight : Math.min(midnight, now + life),
    };
    this.byJwt.set(s.jwtToken, s);
    this.byFeedToken.set(s.feedToken, s);
    this.byRefresh.set(s.refreshToken, s);
    return s;
  }
}

/** `Authorization` value → the bare token: accepts `Bearer <jwt>` and the raw jwt (§15). */
export function bareToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  const m = /^bearer\s+(.+)$/i.exec(v);
  const t = (m === null ? v : m[1]!).trim();
  return t === '' ? undefined : t;
}
