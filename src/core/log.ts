/**
 * Structured logging with pino: JSON lines for journald and log shippers,
 * human-readable when stdout is a terminal. Secrets are kept out at the source
 * (they live in `Secret` wrappers that print as `***`); the redact paths below
 * are the second line of defence for anything shaped like a credential.
 */
import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Field names that carry credentials anywhere in Rustro or in SmartAPI payloads. */
const SECRET_FIELDS = [
  'password', 'pin', 'mpin', 'totp', 'totpSecret', 'totp_secret', 'apiKey', 'api_key',
  'clientCode', 'client_code', 'clientcode', 'jwtToken', 'refreshToken', 'feedToken', 'token_secret',
  'authorization', 'Authorization', 'X-PrivateKey', 'x-privatekey',
];

export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
  const dot = key.startsWith('[') ? key : `.${key}`;
  return [key, `*${dot}`, `*.*${dot}`, `headers${dot}`];
});

export function createLogger(opts: {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
  isTty?: boolean;
}): Logger {
  const base = {
    level: opts.level,
    base: { app: 'rustro' },
    redact: { paths: REDACT_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const isTty = opts.isTty ?? Boolean(process.stdout.isTTY);
  const wantPretty = opts.format === 'pretty' || (opts.format === 'auto' && isTty);
  if (wantPretty) {
    return pino(base, pretty({
      sync: true,
      colorize: isTty,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,app',
      destination: opts.destination ?? 1,
    }));
  }
  return pino(base, opts.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A logger that writes nothing (fatal lines included): tests, benchmarks, and a backtest's daemons, whose ledger and report say what happened. */
export function silentLogger(): Logger {
  return createLogger({ level: 'fatal', format: 'json', destination: new Writable({ write: (_c, _e, cb) => cb() }) as never, isTty: false });
}
