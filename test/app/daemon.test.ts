import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Daemon } from '../../src/app/daemon.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import { ledgerFiles, replay } from '../../src/core/ledger.js';
import { createLogger } from '../../src/core/log.js';

function quietLog(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } });
  return { lines, log: createLogger({ level, format: 'json', destination: stream as never, isTty: false }) };
}

describe('Daemon (skeleton, no broker)', () => {
  it('stops itself when an emitter publishes an event the ledger refuses: nothing may happen unrecorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-daemon-'));
    const config = { ...defaultConfig(), app: { ...defaultConfig().app, data_dir: dir } };
    const clock = new SimClock(istToMillis('2024-02-15', '09:15'));
    const { lines, log } = quietLog();
    const daemon = await Daemon.start({ config, clock, log });
    // A broker report with a negative average price: fails the OrderUpdated schema.
    daemon.bus.emit('OrderUpdated', { orderId: '1', state: 'open', rawStatus: 'open', filledQty: 0, avgFillPrice: -1, source: 'poll' });
    const reason = await daemon.stopped;
    expect(reason).toMatch(/ledger failure: .*OrderUpdated payload invalid: data\.avgFillPrice/);
    expect(daemon.fatalError).toBeDefined();
    expect(lines.join('')).toContain('the ledger did not record an event');
    const types: string[] = [];
    for (const f of ledgerFiles(join(dir, 'ledger'))) for await (const r of replay(f)) types.push(r.type);
    expect(types).toEqual(['DaemonStarted', 'DaemonStopping', 'DaemonStopped']);
  });

  it('logs its sign of life every 30 s at debug, and keeps no timer for it below debug', async () => {
    const alive = async (level: 'info' | 'debug'): Promise<{ lines: number; timers: number }> => {
      const dir = mkdtempSync(join(tmpdir(), 'rustro-daemon-'));
      const config = { ...defaultConfig(), app: { ...defaultConfig().app, data_dir: dir } };
      const clock = new SimClock(istToMillis('2024-02-17', '10:00')); // a Saturday: no session timers
      const { lines, log } = quietLog(level);
      const daemon = await Daemon.start({ config, clock, log });
      const timers = clock.pending();
      clock.advanceBy(95_000);
      await daemon.stop('test over');
      return { lines: lines.filter((l) => l.includes('"msg":"alive"')).length, timers };
    };
    const debug = await alive('debug');
    const info = await alive('info');
    expect(debug.lines).toBe(3);
    expect(info.lines).toBe(0);
    expect(info.timers).toBe(debug.timers - 1);
  });
});
