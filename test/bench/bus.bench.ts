import { EventBus } from '../../src/core/bus.js';
import { SimClock } from '../../src/core/clock.js';
import type { Bench } from './harness.js';
import { opsPerSec } from './harness.js';

const bench: Bench = {
  title: 'Event bus',
  async run(report) {
    const bus = new EventBus(new SimClock(0));
    let a = 0;
    let b = 0;
    let c = 0;
    bus.on('OrderFilled', (e) => { a += e.data.qty; });
    bus.on('OrderFilled', (e) => { b += e.data.price; });
    bus.onAny(() => { c++; });
    const event = {
      type: 'OrderFilled' as const, ts: 0,
      data: { intentId: 'i', brokerOrderId: 'o', fillId: 'f', qty: 1, price: 1, filledAt: 0 },
    };
    const n = 5_000_000;
    opsPerSec(100_000, () => { for (let i = 0; i < 100_000; i++) bus.publish(event); }); // warm-up
    const rate = opsPerSec(n, () => { for (let i = 0; i < n; i++) bus.publish(event); });
    report('bus.dispatch_3_subscribers', rate, 'events/s', 'goal >= 2,000,000');

    // Re-entrant: each delivered event publishes one follow-up from inside a handler.
    const re = new EventBus(new SimClock(0));
    re.on('DaemonStopping', () => { re.emit('HandlerFailed', { eventType: 'x', handler: 'h', error: 'e' }); });
    re.onAny(() => { c++; });
    re.onAny(() => { c++; });
    const m = 1_000_000;
    const reRate = opsPerSec(m * 2, () => { for (let i = 0; i < m; i++) re.emit('DaemonStopping', { reason: 'r' }); });
    report('bus.dispatch_reentrant', reRate, 'events/s');
    if (a + b + c < 0) console.log('unreachable');
  },
};
export default bench;
