/**
 * The SmartAPI session (protocol notes §3): login with client code + PIN +
 * TOTP, token refresh, logout, and the day boundary — a session ends at
 * midnight IST, so the daemon logs in again every trading day before the
 * open (its morning routine: app/broker-link's `morningAfter`).
 *
 * Tokens live here only, wrapped in `Secret`s; events carry `expiresAt` and a
 * reason, nothing else.
 *
 * Two clocks, as in the daemon: `clock` (network time) for the TOTP, which the
 * broker checks against the wall clock; `marketClock` for the session's end,
 * which is an event of the exchange's day (midnight IST) — in a replay the
 * broker's sessions die at the market's midnight, hours of market time before
 * the wall clock's. Live they are one clock.
 *
 * A session that has ended is not renewed here. Once the market clock passes
 * its midnight (`ended`), every path that would otherwise make a new one on its
 * own — the REST client's renewal after AG8001, the order socket's 401/403, the
 * market socket's 401 — is refused with `no_session`, and no request leaves
 * with the dead token: only an explicit `login()` (the daemon's start, the
 * morning routine before the next trading day's open) starts a session. A
 * token refused earlier in its day (revoked, a shorter life) is still renewed
 * as before.
 */
import { createGuardrails, generateSync } from 'otplib';
import { z } from 'zod';
import type { BrokerSession } from '../broker.js';
import type { EventBus } from '../../core/bus.js';
import { istDate, istToMillis, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { Secret, type Secrets } from '../../core/secrets.js';
import { SmartApiError } from './errors.js';
import type { SessionPort, SmartApiRest } from './rest.js';
import { sessionTokens } from './schemas.js';

export type AuthConfig = {
  /** IST wall time of the daily login before the open, HH:mm. */
  preOpenLogin: string;
  /** TOTP step in seconds (RFC 6238 default 30). */
  totpPeriodS: number;
};

export const DEFAULT_AUTH: AuthConfig = { preOpenLogin: '08:45', totpPeriodS: 30 };

// otplib 13 refuses secrets under 16 bytes by default; authenticator secrets
// handed out by brokers can be shorter (10 bytes = 16 base32 chars is common).
const GUARDRAILS = createGuardrails({ MIN_SECRET_BYTES: 1 });

/** The 6-digit TOTP (SHA-1, RFC 6238) of a base32 secret at `epochMs`. */
export function totpCode(secretBase32: string, epochMs: number, periodS = 30): string {
  return generateSync({
    secret: secretBase32.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase(),
    epoch: Math.floor(epochMs / 1000),
    period: periodS,
    digits: 6,
    algorithm: 'sha1',
    guardrails: GUARDRAILS,
  });
}

/** When a session started at `ms` ends: the next midnight IST (§3). */
export function sessionExpiry(ms: number): number {
  return istToMillis(istDate(ms)) + 86_400_000; // India has no DST
}

/** The next IST `at` (HH:mm) strictly after `nowMs`: when the daemon should log in for the coming session. */
export function nextLoginAt(nowMs: number, at = DEFAULT_AUTH.preOpenLogin): number {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(at)) throw new RangeError(`login time must be HH:mm (IST), got '${at}'`);
  const today = istToMillis(istDate(nowMs), at);
  return today > nowMs ? today : istToMillis(istDate(nowMs + 86_400_000), at);
}

const refreshedTokens = sessionTokens.extend({ feedToken: sessionTokens.shape.feedToken.optional() });

type Tokens = { jwt: Secret; refresh: Secret; feed: Secret };

export class SmartApiAuth implements SessionPort {
  private tokens: Tokens | undefined;
  private generation = 0;
  private info: BrokerSession | undefined;
  /** In-flight operations, shared by concurrent callers (feed 401, order socket, morning re-login, REST renewals). */
  private loggingIn: Promise<BrokerSession> | undefined;
  private refreshing: Promise<BrokerSession> | undefined;
  private renewing: Promise<void> | undefined;
  private readonly config: AuthConfig;

  constructor(
    private readonly rest: SmartApiRest,
    private readonly secrets: Secrets,
    private readonly clock: Clock,
    private readonly bus?: EventBus,
    private readonly log?: Logger,
    config: Partial<AuthConfig> = {},
    /** Market time: when a session ends (midnight IST) and when the next pre-open login is. Default `clock`. */
    private readonly marketClock: Clock = clock,
  ) {
    this.config = { ...DEFAULT_AUTH, ...config };
    rest.attachSession(this);
    rest.scrubber.add(() => [secrets.clientCode.reveal(), secrets.pin.reveal(), secrets.totpSecret.reveal(), this.tokens?.jwt.reveal(), this.tokens?.refresh.reveal(), this.tokens?.feed.reveal()]);
  }

  /** The live session, or undefined when logged out. */
  get session(): BrokerSession | undefined {
    return this.info;
  }

  /**
   * The session reached its end (midnight IST, market clock) and no login has
   * made a new one: there is nothing to call the broker with until the next
   * `login()`. False when never logged in or logged out.
   */
  get ended(): boolean {
    return this.tokens !== undefined && this.info !== undefined && this.marketClock.now() >= this.info.expiresAt;
  }

  /** When the current session ends (midnight IST), or undefined when logged out. */
  get expiresAt(): number | undefined {
    return this.info?.expiresAt;
  }

  /** The next pre-open login time after now (configurable, default 08:45 IST). */
  nextLoginAt(nowMs = this.marketClock.now()): number {
    return nextLoginAt(nowMs, this.config.preOpenLogin);
  }

  /** Tokens for the WebSocket clients; Secrets, revealed only by the socket code. None once the session has ended. */
  get jwt(): Secret | undefined {
    return this.ended ? undefined : this.tokens?.jwt;
  }

  get feedToken(): Secret | undefined {
    return this.ended ? undefined : this.tokens?.feed;
  }

  /** The JWT for REST calls; none once the session has ended, so nothing is sent with a dead token. */
  current(): { jwt: Secret; generation: number } | undefined {
    return this.tokens === undefined || this.ended ? undefined : { jwt: this.tokens.jwt, generation: this.generation };
  }

  /** Logs in (client code + PIN + TOTP). Concurrent calls share one in-flight login. */
  login(): Promise<BrokerSession> {
    this.loggingIn ??= this.doLogin().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async doLogin(): Promise<BrokerSession> {
    const data = await this.rest.call('login', sessionTokens, {
      // Built per attempt: a retry (e.g. after a 403 rate-limit answer) across a TOTP step sends a fresh code.
      bodyFn: () => ({
        clientcode: this.secrets.clientCode.reveal(),
        password: this.secrets.pin.reveal(),
        totp: totpCode(this.secrets.totpSecret.reveal(), this.clock.now(), this.config.totpPeriodS),
      }),
    });
    this.install(data.jwtToken, data.refreshToken, data.feedToken);
    const at = this.marketClock.now();
    this.info = { clientCode: this.secrets.clientCode.reveal(), loggedInAt: at, expiresAt: sessionExpiry(at) };
    this.log?.info({ expiresAt: this.info.expiresAt }, 'logged in to SmartAPI');
    this.bus?.emit('BrokerLoggedIn', { expiresAt: this.info.expiresAt });
    return this.info;
  }

  /**
   * generateTokens with the refresh token; falls back to a full login when the
   * broker refuses it. Joins a login already in flight instead of racing it;
   * concurrent refreshes share one. Refused once the session has ended: the
   * broker refuses a dead session's refresh too, and the fallback would be a
   * login at whatever hour (a holiday's, a weekend's) the caller came by.
   */
  refresh(reason = 'requested'): Promise<BrokerSession> {
    if (this.loggingIn !== undefined) return this.loggingIn;
    if (this.refreshing === undefined && this.ended) return Promise.reject(this.endedError(reason));
    this.refreshing ??= this.doRefresh(reason).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(reason: string): Promise<BrokerSession> {
    if (this.tokens === undefined) return this.login();
    try {
      const data = await this.rest.call('generateTokens', refreshedTokens, {
        body: { refreshToken: this.tokens.refresh.reveal() },
        noSessionRetry: true,
      });
      this.install(data.jwtToken, data.refreshToken, data.feedToken ?? this.tokens.feed.reveal());
    } catch (err) {
      if (!(err instanceof SmartApiError)) throw err;
      this.log?.warn({ code: err.code, kind: err.kind }, 'token refresh refused; logging in again');
      return this.login();
    }
    const at = this.marketClock.now();
    this.info = { clientCode: this.secrets.clientCode.reveal(), loggedInAt: this.info?.loggedInAt ?? at, expiresAt: sessionExpiry(at) };
    this.log?.info({ reason, expiresAt: this.info.expiresAt }, 'SmartAPI session refreshed');
    this.bus?.emit('BrokerSessionRefreshed', { expiresAt: this.info.expiresAt, reason });
    return this.info;
  }

  /**
   * A token of generation `staleGeneration` was refused: renew, unless a newer
   * session already exists or is being made (then wait for that one). One
   * renewal at a time, shared by every caller. After the session's end this
   * rejects with `no_session` (see `refresh`): the next session is the morning
   * routine's.
   */
  async renew(staleGeneration: number, reason: string): Promise<void> {
    // Whatever generation the caller holds, the newest has ended too.
    if (this.ended && this.loggingIn === undefined) throw this.endedError(reason);
    if (this.generation > staleGeneration) return; // someone else renewed already
    if (this.loggingIn !== undefined) {
      await this.loggingIn; // a login in flight makes the newer session
      return;
    }
    this.renewing ??= this.refresh(reason)
      .then(() => undefined)
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  /** Ends the session at the broker (best effort) and forgets the tokens. */
  async logout(reason = 'shutdown'): Promise<void> {
    if (this.tokens === undefined) return;
    if (this.ended) {
      // The broker ended it at midnight: nothing to send (and no dead token on the wire).
      this.forget();
      this.bus?.emit('BrokerLoggedOut', { reason });
      return;
    }
    try {
      await this.rest.call('logout', z.unknown(), { body: { clientcode: this.secrets.clientCode.reveal() }, noSessionRetry: true });
    } catch (err) {
      if (!(err instanceof SmartApiError)) throw err;
      this.log?.warn({ code: err.code, kind: err.kind }, 'logout failed at the broker; tokens forgotten anyway');
    } finally {
      this.forget();
    }
    this.bus?.emit('BrokerLoggedOut', { reason });
  }

  private forget(): void {
    this.tokens = undefined;
    this.info = undefined;
    this.generation++;
  }

  private endedError(reason: string): SmartApiError {
    return new SmartApiError('no_session', {
      endpoint: 'generateTokens',
      detail: `not renewed (${reason}): the session ended at midnight IST; the next one is the morning login's`,
    });
  }

  private install(jwt: string, refresh: string, feed: string): void {
    this.tokens = { jwt: new Secret(jwt, 'smartapi session'), refresh: new Secret(refresh, 'smartapi session'), feed: new Secret(feed, 'smartapi session') };
    this.generation++;
  }
}
