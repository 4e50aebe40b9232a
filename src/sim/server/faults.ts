/**
 * Fault injection. One JSON shape (`FaultSpec`) serves the admin endpoint
 * (`POST /__sim/faults`) and the CLI (`--fault name=value`, repeatable).
 * One-shot faults act when set; standing faults stay until changed
 * (`{"clear": true}` resets all of them). All dice are seeded.
 */
import { z } from 'zod';
import { seededRng } from './util.js';

export const faultSpecSchema = z.object({
  /** One-shot: terminate the market-data sockets, the order-status sockets, or both. */
  dropSockets: z.enum(['market', 'order', 'all']).optional(),
  /** One-shot: freeze the feed (no ticks, sim time stands still) for N real seconds. */
  stallFeedSec: z.number().min(0).max(3600).optional(),
  /** With stallFeedSec: a silent, half-open link — `ping` unanswered, no snapshot or error reply to a (re)subscribe either. */
  stallSilent: z.boolean().optional(),
  /** One-shot: each market socket gets N garbage binary frames (random bytes or truncated packets) before its next ticks. */
  garbageFrames: z.number().int().min(0).max(1_000_000).optional(),
  /** Standing: REST calls answered 429 / 500 / never, each with this probability (0..1). `null` clears. */
  http: z
    .object({
      rate429: z.number().min(0).max(1).default(0),
      rate500: z.number().min(0).max(1).default(0),
      rateTimeout: z.number().min(0).max(1).default(0),
      /** Only paths starting with this (default: every REST path, not the admin ones). */
      pathPrefix: z.string().optional(),
    })
    .nullable()
    .optional(),
  /** One-shot: every jwt / feed / refresh token stops working now. */
  invalidateTokens: z.boolean().optional(),
  /** The next N placeOrder calls are refused with this code (default AB2001). */
  rejectNextOrders: z.object({ count: z.number().int().min(0), code: z.string().default('AB2001'), message: z.string().optional() }).optional(),
  /** Standing: place/modify/cancel answers are held back N real ms (the order is booked at once). 0 clears. */
  ackDelayMs: z.number().int().min(0).max(600_000).optional(),
  /** The next N accepted placeOrder calls book the order, then destroy the socket without answering. */
  dropOrderResponses: z.number().int().min(0).optional(),
  /** Reset every standing fault and counter first. */
  clear: z.boolean().optional(),
});

export type FaultSpec = z.input<typeof faultSpecSchema>;

export type HttpFault = { rate429: number; rate500: number; rateTimeout: number; pathPrefix?: string | undefined };

export type FaultState = {
  http: HttpFault | null;
  rejectNextOrders: { count: number; code: string; message?: string | undefined } | null;
  ackDelayMs: number;
  dropOrderResponses: number;
  stalledUntilWallMs: number;
  stallSilent: boolean;
  garbagePending: number;
};

export type FaultActions = {
  dropSockets(which: 'market' | 'order' | 'all'): void;
  invalidateTokens(): void;
  addGarbage(n: number): void;
};

export class Faults {
  readonly state: FaultState = Faults.blank();
  private readonly httpRng: () => number;

  constructor(seed: number, private readonly wallNow: () => number) {
    this.httpRng = seededRng(seed ^ 0x5eed_4771);
  }

  private static blank(): FaultState {
    return { http: null, rejectNextOrders: null, ackDelayMs: 0, dropOrderResponses: 0, stalledUntilWallMs: 0, stallSilent: false, garbagePending: 0 };
  }

  /** Validates and applies a spec; throws a readable Error when it is malformed. */
  apply(raw: unknown, act: FaultActions): FaultState {
    const parsed = faultSpecSchema.safeParse(raw);
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const f = parsed.data;
    if (f.clear === true) Object.assign(this.state, Faults.blank());
    if (f.http !== undefined) this.state.http = f.http;
    if (f.rejectNextOrders !== undefined) this.state.rejectNextOrders = f.rejectNextOrders.count > 0 ? f.rejectNextOrders : null;
    if (f.ackDelayMs !== undefined) this.state.ackDelayMs = f.ackDelayMs;
    if (f.dropOrderResponses !== undefined) this.state.dropOrderResponses = f.dropOrderResponses;
    if (f.stallFeedSec !== undefined) {
      this.state.stalledUntilWallMs = this.wallNow() + f.stallFeedSec * 1000;
      this.state.stallSilent = f.stallSilent ?? false;
    }
    if (f.invalidateTokens === true) act.invalidateTokens();
    if (f.garbageFrames !== undefined && f.garbageFrames > 0) act.addGarbage(f.garbageFrames);
    if (f.dropSockets !== undefined) act.dropSockets(f.dropSockets);
    return this.state;
  }

  stalled(): boolean {
    return this.wallNow() < this.state.stalledUntilWallMs;
  }

  /** What to do with a REST request on `path`: answer normally, or fail it. */
  httpVerdict(path: string): 'ok' | '429' | '500' | 'timeout' {
    const h = this.state.http;
    if (h === null) return 'ok';
    if (h.pathPrefix !== undefined && !path.startsWith(h.pathPrefix)) return 'ok';
    const x = this.httpRng();
    if (x < h.rate429) return '429';
    if (x < h.rate429 + h.rate500) return '500';
    if (x < h.rate429 + h.rate500 + h.rateTimeout) return 'timeout';
    return 'ok';
  }

  /** Consumes one "reject the next order" if armed. */
  takeOrderRejection(): { code: string; message: string } | undefined {
    const r = this.state.rejectNextOrders;
    if (r === null) return undefined;
    r.count--;
    if (r.count <= 0) this.state.rejectNextOrders = null;
    return { code: r.code, message: r.message ?? 'Internal Error, Please Try After Sometime' };
  }

  takeDropOrderResponse(): boolean {
    if (this.state.dropOrderResponses <= 0) return false;
    this.state.dropOrderResponses--;
    return true;
  }
}

/**
 * CLI `--fault` values → one FaultSpec. Accepted: `drop-ws=market|order|all`,
 * `stall=SEC`, `stall-silent=SEC`, `garbage=N`, `http429=RATE`, `http500=RATE`,
 * `http-timeout=RATE`, `http-path=/prefix`, `invalidate-tokens`,
 * `reject-next=N[:CODE]`, `ack-delay=MS`, `drop-order-response=N`.
 */
export function parseFaultFlags(flags: readonly string[]): FaultSpec {
  const spec: FaultSpec = {};
  const http: { rate429?: number; rate500?: number; rateTimeout?: number; pathPrefix?: string } = {};
  const number = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n)) throw new Error(`--fault ${name} needs a number, got '${v ?? ''}'`);
    return n;
  };
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    const v = eq < 0 ? undefined : flag.slice(eq + 1);
    switch (name) {
      case 'drop-ws':
        if (v !== 'market' && v !== 'order' && v !== 'all') throw new Error(`--fault drop-ws=market|order|all, got '${v ?? ''}'`);
        spec.dropSockets = v;
        break;
      case 'stall': spec.stallFeedSec = number(name, v); break;
      case 'stall-silent': spec.stallFeedSec = number(name, v); spec.stallSilent = true; break;
      case 'garbage': spec.garbageFrames = number(name, v); break;
      case 'http429': http.rate429 = number(name, v); break;
      case 'http500': http.rate500 = number(name, v); break;
      case 'http-timeout': http.rateTimeout = number(name, v); break;
      case 'http-path': http.pathPrefix = v ?? ''; break;
      case 'invalidate-tokens': spec.invalidateTokens = true; break;
      case 'reject-next': {
        const [n, code] = (v ?? '').split(':');
        spec.rejectNextOrders = { count: number(name, n), ...(code ? { code } : {}) };
        break;
      }
      case 'ack-delay': spec.ackDelayMs = number(name, v); break;
      case 'drop-order-response': spec.dropOrderResponses = number(name, v); break;
      default:
        throw new Error(`unknown --fault '${name}' (drop-ws, stall, stall-silent, garbage, http429, http500, http-timeout, http-path, invalidate-tokens, reject-next, ack-delay, drop-order-response)`);
    }
  }
  if (Object.keys(http).length > 0) spec.http = http;
  return spec;
}
