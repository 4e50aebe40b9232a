/**
 * The SmartAPI REST client: the §2.1 headers on every request, the three
 * failure shapes of §2.2 turned into typed `SmartApiError`s, zod on every
 * answer, the §9 rate limits, p-retry (exponential + jitter) for reads and
 * rate-limit answers, and — when the broker says the session token is invalid
 * or expired — one refresh (or re-login) followed by exactly ONE retry of the
 * original request.
 *
 * Nothing secret leaves this file: the API key and the JWT are revealed only
 * into the outgoing headers; errors carry the broker's code and scrubbed text,
 * never the request, its headers or the HTTP library's error object.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { networkInterfaces } from 'node:os';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import pRetry from 'p-retry';
import type { z } from 'zod';
import type { EventBus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Secret } from '../../core/secrets.js';
import { ENDPOINTS, type EndpointName } from './endpoints.js';
import { Scrubber, SmartApiError } from './errors.js';
import type { RateLimiter } from './limits.js';
import { describeIssues, envelope, gatewayError } from './schemas.js';

export const DEFAULT_BASE_URL = 'https://apiconnect.angelone.in';

export type RetryPolicy = {
  /** Retries after the first attempt (reads, network failures, 403 rate-limit answers). */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  factor: number;
  /** Jitter: multiplies each delay by a random factor in [1, 2). */
  randomize: boolean;
};

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, minTimeoutMs: 300, maxTimeoutMs: 5000, factor: 2, randomize: true };

export type RestConfig = {
  baseUrl: string;
  /** X-ClientLocalIP; default: the first non-internal IPv4 address, else 127.0.0.1. */
  clientLocalIp: string;
  /** X-ClientPublicIP; not validated by the broker as far as known (UNCERTAIN); default: the local IP. */
  clientPublicIp: string;
  /** X-MACAddress; default: the first non-internal interface's MAC. */
  macAddress: string;
  /** Per-request timeout (the SDKs use 7 s). */
  timeoutMs: number;
  userAgent: string;
  retry: RetryPolicy;
};

export function defaultRestConfig(over: Partial<RestConfig> = {}): RestConfig {
  const host = hostAddresses();
  return {
    baseUrl: DEFAULT_BASE_URL,
    clientLocalIp: host.ip,
    clientPublicIp: host.ip,
    macAddress: host.mac,
    timeoutMs: 7000,
    userAgent: 'rustro',
    ...over,
    retry: { ...DEFAULT_RETRY, ...over.retry },
  };
}

function hostAddresses(): { ip: string; mac: string } {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === 'IPv4' && a.mac !== '00:00:00:00:00:00') return { ip: a.address, mac: a.mac };
    }
  }
  return { ip: '127.0.0.1', mac: '00:00:00:00:00:00' };
}

/** What the REST client needs from the session (implemented by `SmartApiAuth`). */
export interface SessionPort {
  /** The JWT to send and its generation, or undefined when not logged in. */
  current(): { jwt: Secret; generation: number } | undefined;
  /**
   * Called when an authenticated request was answered with a session code.
   * Refreshes (falling back to a full login) unless a session newer than
   * `staleGeneration` already exists; concurrent callers share one renewal.
   */
  renew(staleGeneration: number, reason: string): Promise<void>;
}

export type CallOptions = {
  body?: unknown;
  /** Builds the body at each attempt, just before it is sent (a login's TOTP must be fresh on a retry across a 30 s step). Wins over `body`. */
  bodyFn?: () => unknown;
  /** Appended to the endpoint path, e.g. `/<uniqueorderid>`. */
  pathSuffix?: string;
  /** Overrides the endpoint's retry class. */
  retry?: 'read' | 'write';
  /** For generateTokens/logout: a session error is reported, not renewed. */
  noSessionRetry?: boolean;
  /** Broker codes that mean "empty result" here (AB1013–AB1016): `null` is parsed with the schema instead of failing. */
  emptyCodes?: readonly string[];
};

const RATE_LIMIT_TEXT = /exceeding access rate/i;
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export class SmartApiRest {
  readonly config: RestConfig;
  readonly scrubber = new Scrubber();
  private readonly http: AxiosInstance;
  private session: SessionPort | undefined;
  /** Requests sent, by endpoint (tests and diagnostics). */
  readonly sent = new Map<EndpointName, number>();
  private inProgress = 0;

  constructor(
    config: RestConfig,
    private readonly apiKey: Secret,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly log?: Logger,
    private readonly bus?: EventBus,
  ) {
    this.config = config;
    this.scrubber.add(() => [apiKey.reveal()]);
    this.http = axios.create({
      baseURL: config.baseUrl,
      timeout: config.timeoutMs,
      // Every status is interpreted here: the body, not the code, says whether it worked (§2.2).
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      maxRedirects: 0,
      proxy: false,
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
      httpAgent: new HttpAgent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true, minVersion: 'TLSv1.2' }),
    });
  }

  attachSession(session: SessionPort): void {
    this.session = session;
  }

  /**
   * Calls in progress, from the first attempt to the result: rate-limit waits,
   * backoff between retries and a session renewal included. An in-process
   * replay holds market time while it is above 0 (the backoff runs on real
   * time, and between two attempts nothing is in flight for the simulator to see).
   */
  get pending(): number {
    return this.inProgress;
  }

  /**
   * One logical call: limiter → HTTP → envelope → zod, with the session retry
   * and, for reads and rate-limit answers, p-retry. Throws `SmartApiError`.
   */
  async call<S extends z.ZodType>(name: EndpointName, schema: S, opts: CallOptions = {}): Promise<z.output<S>> {
    const ep = ENDPOINTS[name];
    const retryClass = opts.retry ?? ep.retry;
    let attempts = 0;
    /** The session generation of the JWT actually sent by the latest attempt (read when the request leaves, not when it was queued). */
    const sent = { generation: 0 };
    const once = async (): Promise<z.output<S>> => {
      attempts++;
      return this.once(name, schema, opts, sent);
    };
    const withSession = async (): Promise<z.output<S>> => {
      try {
        return await once();
      } catch (err) {
        if (!(err instanceof SmartApiError) || !err.isSessionError || !ep.auth || opts.noSessionRetry === true || this.session === undefined) throw err;
        this.log?.info({ endpoint: name, code: err.code }, 'session token refused; renewing, then retrying once');
        await this.session.renew(sent.generation, `${name} answered ${err.code}`);
        return await once(); // exactly one retry; a second session error is thrown as is
      }
    };
    const p = this.config.retry;
    this.inProgress++;
    try {
      return await pRetry(withSession, {
        retries: p.retries,
        factor: p.factor,
        minTimeout: p.minTimeoutMs,
        maxTimeout: p.maxTimeoutMs,
        randomize: p.randomize,
        shouldRetry: ({ error }) => retryable(error, retryClass),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0 && retryable(error, retryClass)) {
            this.log?.warn({ endpoint: name, attempt: attemptNumber, code: codeOf(error) }, 'SmartAPI request failed; backing off');
          }
        },
      });
    } catch (err) {
      const e = err instanceof SmartApiError ? err : this.wrapUnknown(name, err);
      e.attempts = Math.max(attempts, 1);
      this.log?.warn({ endpoint: name, kind: e.kind, code: e.code, attempts: e.attempts, error: e.message }, 'SmartAPI request failed');
      this.bus?.emit('BrokerRequestFailed', { endpoint: name, code: e.code || e.kind, message: e.message, attempts: e.attempts });
      throw e;
    } finally {
      this.inProgress--;
    }
  }

  private async once<S extends z.ZodType>(name: EndpointName, schema: S, opts: CallOptions, sent: { generation: number }): Promise<z.output<S>> {
    const ep = ENDPOINTS[name];
    return this.limiter.schedule(ep.group, async () => {
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'X-UserType': 'USER',
        'X-SourceID': 'WEB',
        'X-ClientLocalIP': this.config.clientLocalIp,
        'X-ClientPublicIP': this.config.clientPublicIp,
        'X-MACAddress': this.config.macAddress,
        'X-PrivateKey': this.apiKey.reveal(),
        'User-Agent': this.config.userAgent,
      };
      if (ep.auth) {
        const s = this.session?.current();
        if (s === undefined) throw new SmartApiError('no_session', { endpoint: name, detail: 'log in first' });
        headers.Authorization = `Bearer ${s.jwt.reveal()}`;
        sent.generation = s.generation;
      }
      const body = opts.bodyFn !== undefined ? opts.bodyFn() : opts.body;
      const t0 = this.clock.now();
      this.sent.set(name, (this.sent.get(name) ?? 0) + 1);
      let res: AxiosResponse<string>;
      try {
        res = await this.http.request<string>({
          method: ep.method,
          url: ep.path + (opts.pathSuffix ?? ''),
          headers,
          data: ep.method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
        });
      } catch (err) {
        throw this.networkError(name, err);
      }
      this.log?.debug({ endpoint: name, status: res.status, ms: this.clock.now() - t0 }, 'SmartAPI answer');
      try {
        return this.interpret(name, res.status, typeof res.data === 'string' ? res.data : String(res.data ?? ''), schema);
      } catch (err) {
        if (err instanceof SmartApiError && opts.emptyCodes?.includes(err.code) === true) {
          const empty = schema.safeParse(null);
          if (empty.success) return empty.data;
        }
        throw err;
      }
    });
  }

  /** Turns one HTTP answer into the parsed `data` or a typed error. */
  private interpret<S extends z.ZodType>(endpoint: EndpointName, status: number, text: string, schema: S): z.output<S> {
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(text);
    } catch {
      isJson = false;
    }
    if (!isJson || typeof json !== 'object' || json === null) {
      if (status === 403 || status === 429 || RATE_LIMIT_TEXT.test(text)) {
        throw new SmartApiError('rate_limit', { endpoint, code: `HTTP_${status}`, httpStatus: status, brokerMessage: this.snippet(text) });
      }
      if (status < 200 || status > 299) throw new SmartApiError('http', { endpoint, code: `HTTP_${status}`, httpStatus: status, brokerMessage: this.snippet(text) });
      throw new SmartApiError('invalid_response', { endpoint, httpStatus: status, detail: 'body is not a JSON object' });
    }
    const obj = json as Record<string, unknown>;
    let data: unknown;
    if (status >= 500 && status <= 599 && !('success' in obj || 'errorCode' in obj)) {
      // A 5xx is a server failure whatever its body says (§2.2: business refusals come with HTTP 200):
      // kind `http`, so a placement's outcome is unknown (resolved by tag) and reads are retried.
      const env = envelope.safeParse(obj);
      const said = env.success ? [env.data.errorcode, env.data.message].filter((x) => x !== '').join(' ') : '';
      throw new SmartApiError('http', { endpoint, code: `HTTP_${status}`, httpStatus: status, ...(said !== '' ? { brokerMessage: this.snippet(said) } : {}) });
    }
    if ('status' in obj) {
      const env = envelope.safeParse(obj);
      if (!env.success) throw new SmartApiError('invalid_response', { endpoint, httpStatus: status, detail: describeIssues(env.error) });
      if (!env.data.status) {
        throw new SmartApiError('envelope', { endpoint, code: env.data.errorcode, brokerMessage: this.scrubber.scrub(env.data.message), httpStatus: status });
      }
      data = env.data.data;
    } else if ('success' in obj || 'errorCode' in obj) {
      const gw = gatewayError.safeParse({ success: false, message: '', errorCode: '', ...obj });
      if (!gw.success) throw new SmartApiError('invalid_response', { endpoint, httpStatus: status, detail: describeIssues(gw.error) });
      if (!gw.data.success) {
        throw new SmartApiError('auth', { endpoint, code: gw.data.errorCode, brokerMessage: this.scrubber.scrub(gw.data.message), httpStatus: status });
      }
      data = obj.data;
    } else {
      throw new SmartApiError('invalid_response', { endpoint, httpStatus: status, detail: 'no status/success field' });
    }
    if (status < 200 || status > 299) throw new SmartApiError('http', { endpoint, code: `HTTP_${status}`, httpStatus: status });
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw new SmartApiError('invalid_response', { endpoint, httpStatus: status, detail: describeIssues(parsed.error) });
    return parsed.data;
  }

  private networkError(endpoint: EndpointName, err: unknown): SmartApiError {
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'ERR_NETWORK';
    if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
      return new SmartApiError('timeout', { endpoint, code: 'ETIMEDOUT', detail: `no answer within ${this.config.timeoutMs} ms`, sent: 'unknown' });
    }
    const sent = NOT_SENT_CODES.has(code) ? 'no' : 'unknown';
    return new SmartApiError('network', { endpoint, code, sent, detail: sent === 'no' ? 'the request never reached the broker' : 'the request may have reached the broker' });
  }

  private wrapUnknown(endpoint: EndpointName, err: unknown): SmartApiError {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new SmartApiError('network', { endpoint, code: 'ERR_CLIENT', detail: this.scrubber.scrub(msg).slice(0, 200) });
  }

  private snippet(text: string): string {
    return this.scrubber.scrub(text.replace(/\s+/g, ' ').trim()).slice(0, 120);
  }
}

function codeOf(err: unknown): string {
  return err instanceof SmartApiError ? err.code || err.kind : 'unknown';
}

/** Whether p-retry may repeat a failed call of this retry class. */
function retryable(err: unknown, cls: 'read' | 'write'): boolean {
  if (!(err instanceof SmartApiError)) return false;
  if (err.kind === 'rate_limit') return true; // rejected by the gateway before processing
  if (cls === 'write') return false;
  if (err.kind === 'network' || err.kind === 'timeout') return true;
  if (err.kind === 'http') return (err.httpStatus ?? 0) >= 500;
  if (err.kind === 'envelope' || err.kind === 'auth') return err.category === 'transient';
  return false;
}
