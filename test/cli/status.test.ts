import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import command from '../../src/cli/status.js';
import { runCli } from '../../src/cli/index.js';
import { DAY, halted, killed, lockAsUs, midSession, stoppedCleanly, tearTail, tempDataDirs, writeLedger } from '../fixtures/status/ledgers.js';
import { runCommand } from '../support/cli.js';

const AT = `${DAY}T10:30:00+05:30`;
const dataDir = tempDataDirs();
const run = (...args: string[]) => runCommand(command, ...args);

describe('rustro status', () => {
  it('running mid-session: the daemon, session, feed, positions, orders, risk and last event as text, exit 0', async () => {
    const dir = dataDir();
    await writeLedger(dir, midSession(process.pid));
    lockAsUs(dir);
    const r = await run('--data-dir', dir, '--at', AT);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    const text = r.out.join('\n');
    expect(r.out[0]).toBe('rustro status at 2024-01-02 10:30:00 IST');
    expect(text).toContain(`daemon    RUNNING: pid ${process.pid} since 2024-01-02T09:14:00.000+05:30; paper mode (v0.1.0)`);
    expect(text).toContain('session   OPEN 09:15-15:30 IST, closes in 5h 00m');
    expect(text).toContain('feed      connected since 09:14:01');
    expect(text).toContain('last bar: NIFTY 1m ended 10:29:00, lag 1m 00s');
    expect(text).toContain('warm-up   2 streams warm: NIFTY 1d (34/28), NIFTY 1h (42/28)');
    expect(text).toContain('strategy  bias: NIFTY CE, BANKNIFTY none (adx-mtf)');
    expect(text).toContain('positions 2 open');
    expect(text).toMatch(/NIFTY04JAN2421500CE {2}qty 50 {2}entry 120\.00 {2}last fill 120\.00 \(10:15:00\) {2}unrealised Rs 0\.00 {2}stop 96\.00/);
    expect(text).toContain('BANKNIFTY03JAN2447000CE  BANKNIFTY  entry working, nothing filled yet');
    expect(text).toContain('realised -Rs 540.00 net over 1 closed trade');
    expect(text).toContain('orders    1 working');
    expect(text).toContain('E-P2  entry BUY 15 BANKNIFTY03JAN2447000CE LIMIT 200.00  open, filled 0/15, order B-E-P2');
    expect(text).toContain('risk      ok: entries allowed');
    expect(text).toContain('daily loss limit Rs 10,000.00 (2% of capital); realised -Rs 540.00; losing streak 1 of 3');
    expect(text).toMatch(/last {6}#\d+ BarClosed at 10:29:00 \(59s ago\)/);
    expect(text).toContain('note      open positions are valued at their last fill: ticks are not in the ledger');
  });

  it('--json: the whole report as one JSON object', async () => {
    const dir = dataDir();
    await writeLedger(dir, midSession(process.pid));
    lockAsUs(dir);
    const r = await run('--data-dir', dir, '--at', AT, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.join('\n'));
    expect(j.daemon).toMatchObject({ state: 'running', running: true, lastStart: { mode: 'paper' } });
    expect(j.session.state).toBe('open');
    expect(j.feed).toMatchObject({ connected: true, lagMs: 60_000 });
    expect(j.positions.open.map((p: { positionId: string }) => p.positionId)).toEqual(['P1', 'P2']);
    expect(j.positions.open[1].entryAvg).toBeNull(); // nothing filled: null, not NaN
    expect(j.orders.working).toHaveLength(1);
    expect(j.risk).toMatchObject({ halted: false, realisedToday: -540 });
    expect(j.lastEvent.type).toBe('BarClosed');
  });

  it('not started: an empty data directory says so, exit 0', async () => {
    const r = await run('--data-dir', dataDir(), '--at', AT);
    expect(r.code).toBe(0);
    expect(r.out).toContain('daemon    not started: no ledger in this data directory');
    expect(r.out).toContain('last      no events');
  });

  it('stopped cleanly: when and why, the feed last known', async () => {
    const dir = dataDir();
    await writeLedger(dir, stoppedCleanly());
    const r = await run('--data-dir', dir, '--at', `${DAY}T16:00:00+05:30`);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain('daemon    stopped at 15:31:00: SIGTERM (up 6h 17m)');
    expect(text).toContain('last run: paper mode, pid 4242, v0.1.0, started 09:14:00');
    expect(text).toContain('feed      last known: DISCONNECTED at 15:31:00: stopped');
    expect(text).toContain('session   closed; next open 2024-01-03 09:15 IST');
  });

  it('halted and kill switch: the halt with its scope and reason; the kill switch with its source and the KILL file', async () => {
    const h = dataDir();
    await writeLedger(h, halted());
    const hr = (await run('--data-dir', h, '--at', AT)).out.join('\n');
    expect(hr).toContain('risk      HALTED for the day');
    expect(hr).toContain('halt 10:12:00 (flatten and stop): daily_loss_limit (realised -9830, unrealised -500, total -10330, limit -10000)');
    expect(hr).toContain('losing streak 2 of 3');

    const k = dataDir();
    await writeLedger(k, killed());
    writeFileSync(join(k, 'KILL'), '');
    const kr = (await run('--data-dir', k, '--at', AT)).out.join('\n');
    expect(kr).toContain('risk      KILL SWITCH on since 10:20:00 (file: /srv/rustro/data/KILL exists): flatten, no entries today');
    expect(kr).toContain('KILL file present in the data directory');
    expect(kr).toContain('EXITING (kill_switch)');
  });

  it('torn tail: the report up to the damage, and the damaged line named; still exit 0', async () => {
    const dir = dataDir();
    const events = midSession();
    tearTail(await writeLedger(dir, events));
    const r = await run('--data-dir', dir, '--at', AT);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`ledger    ${DAY}.jsonl: ${events.length} records, seq 1..${events.length}`);
    expect(r.out).toContainEqual(expect.stringMatching(new RegExp(`DAMAGED TAIL at line ${events.length + 1}: incomplete last line`)));
  });

  it('a data directory that does not exist: a clear error and exit 1', async () => {
    const missing = join(dataDir(), 'no-such-dir');
    const r = await run('--data-dir', missing, '--at', AT);
    expect(r).toEqual({ code: 1, out: [], err: [`rustro status: data directory ${missing} does not exist`] });
  });

  it('--date without a ledger file that day: an error naming the date, exit 1', async () => {
    const dir = dataDir();
    await writeLedger(dir, halted());
    const r = await run('--data-dir', dir, '--date', '2024-01-05');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`rustro status: no ledger file for 2024-01-05 in ${join(dir, 'ledger')}`]);
  });

  it('--config: the data dir and the risk limits come from the config, no secrets needed', async () => {
    const root = dataDir();
    mkdirSync(join(root, 'var'));
    await writeLedger(join(root, 'var'), halted());
    const cfg = join(root, 'rustro.toml');
    writeFileSync(cfg, '[app]\ndata_dir = "var"\n\n[trading]\ncapital = 200000\n\n[risk]\ndaily_loss_limit_pct = 1\nmax_consecutive_losses = 5\n');
    const r = await run('--config', cfg, '--at', AT, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.join('\n'));
    expect(j.dataDir).toBe(join(root, 'var'));
    expect(j.risk).toMatchObject({ dailyLossLimit: 2000, dailyLossLimitPct: 1, maxConsecutiveLosses: 5, halted: true });
  });

  it('a bad config is a usage error (exit 2) naming the problem', async () => {
    const root = dataDir();
    const cfg = join(root, 'bad.toml');
    writeFileSync(cfg, '[risk]\ndaily_loss_limit_pct = "lots"\n');
    const r = await run('--config', cfg);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('risk.daily_loss_limit_pct');
  });

  it('is registered as `rustro status`; bad options are usage errors (exit 2)', async () => {
    const dir = dataDir();
    await writeLedger(dir, midSession());
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await runCli(['status', '--data-dir', dir, '--at', AT], io)).toBe(0);
    expect(out[0]).toBe('rustro status at 2024-01-02 10:30:00 IST');
    expect(await runCli(['status', '--at', '2024-01-02 10:30'], io)).toBe(2);
    expect(err.join('\n')).toContain('--at wants ISO-8601 with an offset');
    expect(await runCli(['status', '--date', 'yesterday'], io)).toBe(2);
    expect(await runCli(['status', '--bogus'], io)).toBe(2);
  });
});
