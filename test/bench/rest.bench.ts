/**
 * SmartAPI adapter figures: instrument-master stream parse (rows/s, MB/s) against
 * one JSON.parse of the whole text, index build time, option lookup latency.
 */
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import { parseMaster } from '../../src/broker/smartapi/instruments.js';
import { masterChunks } from '../broker/smartapi/support/master-gen.js';
import { type Bench, percentile } from './harness.js';

const ROWS = 150_000;

const bench: Bench = {
  title: 'SmartAPI adapter: instrument master',
  async run(report) {
    const chunks: string[] = [];
    for await (const c of masterChunks({ options: ROWS })) chunks.push(c);
    const text = chunks.join('');
    const mb = Buffer.byteLength(text) / 1e6;

    // Warm-up on a small master, then measure.
    const warm: string[] = [];
    for await (const c of masterChunks({ options: 5_000 })) warm.push(c);
    await parseMaster(warm);
    const t0 = process.hrtime.bigint();
    const { instruments, stats } = await parseMaster(chunks);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    report('master.stream_parse.rows_per_s', stats.rows / s, 'rows/s', `${stats.rows} rows, ${mb.toFixed(1)} MB, zod-checked and mapped`);
    report('master.stream_parse.mb_per_s', mb / s, 'MB/s');

    const t1 = process.hrtime.bigint();
    const whole = JSON.parse(text) as unknown[];
    const s1 = Number(process.hrtime.bigint() - t1) / 1e9;
    report('master.json_parse_whole.rows_per_s', whole.length / s1, 'rows/s', 'one JSON.parse, no validation (reference)');

    const t2 = process.hrtime.bigint();
    const index = new InstrumentIndex(instruments);
    report('master.index_build', Number(process.hrtime.bigint() - t2) / 1e6, 'ms', `${index.size} instruments`);

    const opts = instruments.filter((i) => i.kind === 'option');
    const lat: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const o = opts[(i * 7919) % opts.length]!;
      const a = process.hrtime.bigint();
      index.option(o.name, o.expiry!, o.strike!, o.optionType!);
      lat.push(Number(process.hrtime.bigint() - a));
    }
    lat.sort((a, b) => a - b);
    report('index.option_lookup.p50', percentile(lat, 50), 'ns');
    report('index.option_lookup.p99', percentile(lat, 99), 'ns');
    const b = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) index.nearestExpiry('NIFTY', '2024-06-15');
    report('index.nearest_expiry', Number(process.hrtime.bigint() - b) / 100_000, 'ns/op');
  },
};

export default bench;
