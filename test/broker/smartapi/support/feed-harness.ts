/** Builds a SmartStreamFeed against a TestFeedServer with a SimClock and an event log. */
import { EventBus } from '../../../../src/core/bus.js';
import { SimClock, istToMillis } from '../../../../src/core/clock.js';
import type { EventOf, EventType, RustroEvent } from '../../../../src/core/events.js';
import { SmartStreamFeed, type FeedOptions, type SmartStreamFeedConfig } from '../../../../src/broker/smartapi/feed.js';
import { TestFeedServer, waitFor } from './server.js';

export const T0 = istToMillis('2025-01-20', '10:00');

export type Harness = {
  server: TestFeedServer;
  clock: SimClock;
  bus: EventBus;
  feed: SmartStreamFeed;
  events: RustroEvent[];
  authCalls: number;
  of<T extends EventType>(type: T): EventOf<T>['data'][];
  /** Waits (real time) until `n` events of `type` have been seen. */
  until(type: EventType, n?: number): Promise<void>;
  close(): Promise<void>;
};

export async function harness(
  options: Partial<FeedOptions> = {},
  extra: Partial<Omit<SmartStreamFeedConfig, 'url' | 'bus' | 'clock' | 'options'>> = {},
): Promise<Harness> {
  const server = await TestFeedServer.start();
  const clock = new SimClock(T0);
  const bus = new EventBus(clock);
  const events: RustroEvent[] = [];
  bus.onAny((e) => events.push(e));
  const h: Harness = {
    server, clock, bus, events, authCalls: 0,
    feed: undefined as unknown as SmartStreamFeed,
    of: <T extends EventType>(type: T) => events.filter((e) => e.type === type).map((e) => e.data as EventOf<T>['data']),
    until: (type, n = 1) => waitFor(() => events.filter((e) => e.type === type).length >= n, `${n} × ${type}`),
    close: async () => {
      await h.feed.stop();
      await server.close();
    },
  };
  h.feed = new SmartStreamFeed({
    url: server.url,
    auth: async () => {
      h.authCalls++;
      return { jwt: `jwt-${h.authCalls}`, apiKey: 'key', clientCode: 'A123', feedToken: `feed-${h.authCalls}` };
    },
    bus,
    clock,
    isSessionOpen: () => true,
    random: () => 0,
    ...extra,
    options,
  });
  return h;
}
