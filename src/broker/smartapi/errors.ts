/**
 * Typed SmartAPI failures. Every way a call can fail becomes one
 * `SmartApiError` with a `kind` (the shape of the failure), the broker's `code`
 * and message, the endpoint name and a `category` (what Rustro should do
 * about it, from the code table of the protocol notes §8).
 *
 * None of these ever carries a secret, a token, a request body or the
 * underlying HTTP library error (whose config holds the headers): messages are
 * built from the broker's text after scrubbing every known secret value, and
 * there is deliberately no `cause`.
 */

export type SmartApiErrorKind =
  /** HTTP 200 with `status:false` (business rejection). */
  | 'envelope'
  /** The gateway's `{success:false, errorCode}` shape (also HTTP 200). */
  | 'auth'
  /** HTTP 403 with the plain-text "Access denied because of exceeding access rate". */
  | 'rate_limit'
  /** Any other non-2xx answer. */
  | 'http'
  /** Connection refused, reset, DNS… `sent` says whether the request may have reached the broker. */
  | 'network'
  /** No answer within the timeout; the request may have been processed. */
  | 'timeout'
  /** A 2xx answer whose body did not match the expected schema. */
  | 'invalid_response'
  /** Refused before sending (bad order tag, unsupported value…). */
  | 'invalid_request'
  /** An authenticated call made without a session. */
  | 'no_session'
  /** A placement whose outcome could not be established even after the tag lookup. */
  | 'unknown_outcome';

export type SmartApiErrorCategory =
  | 'session' // token invalid/expired: refresh or re-login
  | 'credentials' // login refused: do not hammer
  | 'config' // api key, user type: fix the configuration
  | 'rate_limit'
  | 'not_found' // AB1013–AB1016: an empty result
  | 'rejected' // the broker refused the request itself
  | 'blocked' // client blocked for trading
  | 'transient' // may succeed when retried
  | 'unknown';

export const SESSION_CODES: ReadonlySet<string> = new Set(['AG8001', 'AG8002', 'AB8050', 'AB8051', 'AB1010', 'AB1011']);
const CREDENTIAL_CODES = new Set(['AB1000', 'AB1001', 'AB1002', 'AB1007', 'AB1031', 'AB1032', 'AB1050']);
const CONFIG_CODES = new Set(['AG8003', 'AG8004', 'AB1005']);
const NOT_FOUND_CODES = new Set(['AB1013', 'AB1014', 'AB1015', 'AB1016']);
const TRANSIENT_CODES = new Set(['AB1004', 'AB2000', 'AB2001']);

export function categoryOf(code: string): SmartApiErrorCategory {
  if (SESSION_CODES.has(code)) return 'session';
  if (CREDENTIAL_CODES.has(code)) return 'credentials';
  if (CONFIG_CODES.has(code)) return 'config';
  if (NOT_FOUND_CODES.has(code)) return 'not_found';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  if (code === 'AB1006') return 'blocked';
  if (/^AB\d{4}$/.test(code)) return 'rejected';
  return 'unknown';
}

export type SmartApiErrorInit = {
  endpoint: string;
  code?: string;
  brokerMessage?: string;
  httpStatus?: number;
  /** For network failures: whether the request may have reached the broker. */
  sent?: 'no' | 'unknown';
  attempts?: number;
  detail?: string;
};

export class SmartApiError extends Error {
  override name = 'SmartApiError';
  readonly kind: SmartApiErrorKind;
  readonly endpoint: string;
  /** The broker's error code (AG8001, AB1050…), an HTTP/network code (HTTP_502, ECONNRESET) or ''. */
  readonly code: string;
  readonly brokerMessage: string;
  readonly httpStatus: number | undefined;
  readonly category: SmartApiErrorCategory;
  readonly sent: 'no' | 'unknown' | 'yes';
  /** How many times the request was sent (set when retries are given up). */
  attempts: number;

  constructor(kind: SmartApiErrorKind, init: SmartApiErrorInit) {
    const code = init.code ?? '';
    const brokerMessage = init.brokerMessage ?? '';
    super(describe(kind, init.endpoint, code, brokerMessage, init.httpStatus, init.detail));
    this.kind = kind;
    this.endpoint = init.endpoint;
    this.code = code;
    this.brokerMessage = brokerMessage;
    this.httpStatus = init.httpStatus;
    this.sent = init.sent ?? (kind === 'network' || kind === 'timeout' || kind === 'unknown_outcome' ? 'unknown' : kind === 'invalid_request' || kind === 'no_session' ? 'no' : 'yes');
    this.attempts = init.attempts ?? 1;
    this.category =
      kind === 'rate_limit' ? 'rate_limit'
      : kind === 'envelope' || kind === 'auth' ? categoryOf(code)
      : kind === 'network' || kind === 'timeout' ? 'transient'
      : kind === 'http' && (init.httpStatus ?? 0) >= 500 ? 'transient'
      : kind === 'no_session' ? 'session'
      : kind === 'invalid_request' ? 'rejected'
      : 'unknown';
  }

  /** True when the broker said the session token is invalid or expired (§8). */
  get isSessionError(): boolean {
    return (this.kind === 'auth' || this.kind === 'envelope') && SESSION_CODES.has(this.code);
  }

  /** A JSON view for events and logs; contains nothing secret by construction. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      endpoint: this.endpoint,
      code: this.code,
      category: this.category,
      httpStatus: this.httpStatus,
      message: this.message,
    };
  }
}

function describe(kind: SmartApiErrorKind, endpoint: string, code: string, msg: string, status: number | undefined, detail: string | undefined): string {
  const what: Record<SmartApiErrorKind, string> = {
    envelope: 'refused the request',
    auth: 'refused the session',
    rate_limit: 'rate limit exceeded',
    http: `answered HTTP ${status ?? '?'}`,
    network: 'network failure',
    timeout: 'no answer in time',
    invalid_response: 'answered with an unexpected body',
    invalid_request: 'request refused before sending',
    no_session: 'not logged in',
    unknown_outcome: 'outcome unknown',
  };
  const parts = [`SmartAPI ${endpoint}: ${what[kind]}`];
  if (code !== '') parts.push(`[${code}]`);
  if (msg !== '') parts.push(msg);
  if (detail !== undefined && detail !== '') parts.push(`(${detail})`);
  return parts.join(' ');
}

/**
 * Replaces every known sensitive value in a text with `***`. The REST client
 * runs every broker-provided text through one of these before it lands in an
 * error, a log line or an event.
 */
export class Scrubber {
  private readonly sources: Array<() => Iterable<string | undefined>> = [];

  add(source: () => Iterable<string | undefined>): void {
    this.sources.push(source);
  }

  scrub(text: string): string {
    let out = text;
    for (const src of this.sources) {
      for (const v of src()) {
        if (v !== undefined && v.length >= 4 && out.includes(v)) out = out.split(v).join('***');
      }
    }
    return out;
  }
}
