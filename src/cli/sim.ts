/**
 * `rustro sim`: the SmartAPI-compatible market and broker simulator on
 * loopback. Replays one bundled session (or `--days N` consecutive trading
 * days, through the nights) through the REST API, SmartStream and the
 * order-status socket; prints its URLs and the demo account's credentials
 * (simulator-only values). Runs until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { RealClock } from '../core/clock.js';
import type { SimMarket } from '../sim/market/types.js';
import { bundledSessions, consecutiveSessions, createMarket } from '../sim/market/market.js';
import { DEMO_ACCOUNT, DEMO_API_KEY, totpAt } from '../sim/server/auth.js';
import type { Speed } from '../sim/server/clock-driver.js';
import { type FaultSpec, parseFaultFlags } from '../sim/server/faults.js';
import { startSimServer } from '../sim/server/server.js';
import { EXIT_OK, type Command, type Io, UsageError } from './command.js';

export const DEFAULT_SIM_PORT = 7878;

/** How the command builds its market: the bundled-data replay by default (tests pass their own). */
export type SimMarketFactory = (o: { day: string | undefined; seed: number }) => SimMarket;

export const bundledMarketFactory: SimMarketFactory = ({ day, seed }) => {
  const days = bundledSessions();
  const chosen = day ?? days.at(-1);
  if (chosen === undefined) throw new UsageError('no bundled sessions found under data/market');
  if (!days.includes(chosen)) throw new UsageError(`--date ${chosen} is not a bundled session (${days[0]} … ${days.at(-1)}, ${days.length} sessions)`);
  return createMarket({ day: chosen, seed });
};

const USAGE = `usage: rustro sim [--port N] [--speed X|max|0] [--date YYYY-MM-DD] [--days N] [--time HH:MM] [--seed N] [--fault NAME[=VALUE]]...
  --port    TCP port on 127.0.0.1 (default ${DEFAULT_SIM_PORT}; 0 = any free port)
  --speed   sim-time speed: 1 = real time, 60 = a minute per second, max = as fast as the client reads, 0 = paused (default 1)
  --date    bundled IST session to replay (default the latest)
  --days    consecutive trading days from --date on, through the nights (weekends and holidays skipped; default 1)
  --time    IST start time on that day (default 09:15; kept inside 09:15–15:30)
  --seed    seed for ticks, ids and fault dice (default 1)
  --fault   drop-ws=market|order|all, stall=SEC, stall-silent=SEC, garbage=N, http429=RATE, http500=RATE,
            http-timeout=RATE, http-path=/prefix, invalidate-tokens, reject-next=N[:CODE], ack-delay=MS,
            drop-order-response=N   (repeatable; also settable at run time: POST /__sim/faults)`;

export function makeSimCommand(factory: SimMarketFactory = bundledMarketFactory, waitForStop: () => Promise<string> = untilSignal): Command {
  return {
    summary: 'a SmartAPI-compatible market and broker simulator on loopback',
    usage: USAGE,
    async main(args: string[], io: Io): Promise<number> {
      let values: Record<string, string | string[] | undefined>;
      try {
        ({ values } = parseArgs({
          args,
          strict: true,
          options: { port: { type: 'string' }, speed: { type: 'string' }, date: { type: 'string' }, days: { type: 'string' }, time: { type: 'string' }, seed: { type: 'string' }, fault: { type: 'string', multiple: true } },
        }));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const port = Number(values.port ?? DEFAULT_SIM_PORT);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0…65535, got '${String(values.port)}'`);
      const speedArg = String(values.speed ?? '1');
      const speed: Speed = speedArg === 'max' ? 'max' : Number(speedArg);
      if (speed !== 'max' && !(Number.isFinite(speed) && speed >= 0)) throw new UsageError(`--speed must be a number ≥ 0 or 'max', got '${speedArg}'`);
      const seed = Number(values.seed ?? 1);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${String(values.seed)}'`);
      const day = values.date as string | undefined;
      if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new UsageError(`--date must be YYYY-MM-DD, got '${day}'`);
      const dayCount = Number(values.days ?? 1);
      if (!Number.isInteger(dayCount) || dayCount < 1) throw new UsageError(`--days must be an integer ≥ 1, got '${String(values.days)}'`);
      const time = values.time as string | undefined;
      if (time !== undefined && !/^\d{2}:\d{2}$/.test(time)) throw new UsageError(`--time must be HH:MM, got '${time}'`);
      let faults: FaultSpec | undefined;
      try {
        faults = values.fault === undefined ? undefined : parseFaultFlags(values.fault as string[]);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }

      const market = factory({ day, seed });
      let later: string[] = [];
      if (dayCount > 1) {
        try {
          later = consecutiveSessions({ from: market.day, count: dayCount }).slice(1);
        } catch (err) {
          throw new UsageError(`--days ${dayCount}: ${(err as Error).message}`);
        }
      }
      const nextMarket = (): SimMarket | undefined => {
        const next = later.shift();
        return next === undefined ? undefined : factory({ day: next, seed });
      };
      const sim = await startSimServer({
        market, port, speed, seed,
        ...(dayCount > 1 ? { nextMarket } : {}),
        ...(time === undefined ? {} : { start: time }),
        ...(faults === undefined ? {} : { faults }),
      });
      const st = sim.state();
      const span = dayCount > 1 ? `sessions ${market.day} + ${dayCount - 1} more trading days` : `session ${market.day}`;
      io.out(`Rustro SmartAPI simulator — ${span}, sim time ${st.simTimeIst.slice(11, 19)} IST, speed ${String(speed)}, seed ${seed}`);
      io.out(`  REST base          ${sim.url}`);
      io.out(`  instrument master  ${sim.masterUrl}  (${market.instruments().length} instruments)`);
      io.out(`  market data WS     ${sim.streamUrl}`);
      io.out(`  order updates WS   ${sim.orderUrl}`);
      io.out(`  admin              ${sim.url}/__sim/state   POST ${sim.url}/__sim/clock   POST ${sim.url}/__sim/faults`);
      io.out('demo credentials (simulator only):');
      io.out(`  API key      ${DEMO_API_KEY}`);
      io.out(`  client code  ${DEMO_ACCOUNT.clientcode}`);
      io.out(`  PIN          ${DEMO_ACCOUNT.pin}`);
      io.out(`  TOTP secret  ${DEMO_ACCOUNT.totpSecret}   (current code ${totpAt(DEMO_ACCOUNT.totpSecret, new RealClock().now())})`);
      if (faults !== undefined) io.out(`faults: ${JSON.stringify(faults)}`);
      io.out('Ctrl-C stops.');
      const why = await waitForStop();
      await sim.close();
      io.out(`simulator stopped (${why}) at sim time ${sim.state().simTimeIst.slice(11, 19)} IST`);
      return EXIT_OK;
    },
  };
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

export default makeSimCommand();
