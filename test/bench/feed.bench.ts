import { decodeTick, isRejection } from '../../src/broker/smartapi/codec.js';
import { SmartStreamFeed } from '../../src/broker/smartapi/feed.js';
import { EventBus } from '../../src/core/bus.js';
import { SimClock } from '../../src/core/clock.js';
import { buildFrame, ltpFrame, sampleSnap } from '../broker/smartapi/support/frames.js';
import type { Bench } from './harness.js';
import { opsPerSec } from './harness.js';

const bench: Bench = {
  title: 'SmartStream feed (codec + frame → Tick event)',
  async run(report) {
    // A realistic mix of tokens, so the token cache and shapes are exercised as live.
    const ltps = Array.from({ length: 64 }, (_, i) => ltpFrame(String(40000 + i), BigInt(10_000 + i), 2));
    const snaps = Array.from({ length: 64 }, (_, i) => buildFrame(sampleSnap(String(40000 + i), 2)));
    let sink = 0;
    const decodeAll = (frames: Uint8Array[], n: number) => () => {
      for (let i = 0; i < n; i++) {
        const r = decodeTick(frames[i & 63]!);
        if (!isRejection(r)) sink += r.ltp;
      }
    };

    const nLtp = 10_000_000;
    opsPerSec(1_000_000, decodeAll(ltps, 1_000_000)); // warm-up
    report('feed.decode_ltp', opsPerSec(nLtp, decodeAll(ltps, nLtp)), 'frames/s', 'goal >= 5,000,000');

    const nSnap = 4_000_000;
    opsPerSec(500_000, decodeAll(snaps, 500_000));
    report('feed.decode_snapquote', opsPerSec(nSnap, decodeAll(snaps, nSnap)), 'frames/s', 'goal >= 2,000,000');

    // Frame → decode → bus Tick event with one subscriber, through the feed's own ingest path.
    const clock = new SimClock(1_737_356_263_000);
    const bus = new EventBus(clock);
    bus.on('Tick', (e) => { sink += e.data.ltp; });
    const feed = new SmartStreamFeed({
      url: 'ws://127.0.0.1:1/unused',
      auth: async () => ({ jwt: '', apiKey: '', clientCode: '', feedToken: '' }),
      bus, clock, isSessionOpen: () => true,
    });
    const ingest = (n: number) => () => {
      for (let i = 0; i < n; i++) feed.ingest(0, ltps[i & 63]!);
    };
    const nEv = 5_000_000;
    opsPerSec(500_000, ingest(500_000));
    report('feed.frame_to_tick_event', opsPerSec(nEv, ingest(nEv)), 'events/s', 'LTP frames; goal >= 1,000,000');
    const counters = feed.counters;
    if (counters.rejected !== 0 || counters.ticks !== nEv + 500_000) throw new Error(`bench: unexpected counters ${JSON.stringify(counters)}`);
    if (sink === 0) console.log('unreachable');
  },
};
export default bench;
