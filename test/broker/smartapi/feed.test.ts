import { afterEach, describe, expect, it } from 'vitest';
import { buildFrame, ltpFrame, sampleQuote, sampleSnap } from './support/frames.js';
import { harness, type Harness } from './support/feed-harness.js';
import { waitFor } from './support/server.js';

const NIFTY = { exchange: 'NSE' as const, token: '99926000' };
const BANKNIFTY = { exchange: 'NSE' as const, token: '99926009' };
const OPT = { exchange: 'NFO' as const, token: '43650' };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('SmartStreamFeed over a loopback socket', () => {
  it('upgrades with the §11.1 headers (raw JWT), subscribes grouped by exchangeType, emits Tick events', async () => {
    h = await harness();
    h.feed.subscribe([NIFTY, BANKNIFTY, OPT], 'ltp');
    await h.feed.start();
    expect(h.of('FeedConnected')).toEqual([{ connection: 0, subscriptions: 3 }]);
    const conn = h.server.conns[0]!;
    expect(conn.headers).toMatchObject({ authorization: 'jwt-1', 'x-api-key': 'key', 'x-client-code': 'A123', 'x-feed-token': 'feed-1' });
    await waitFor(() => conn.texts.length >= 1, 'subscribe');
    const [req] = h.server.requests(conn);
    expect(req).toMatchObject({ action: 1, params: { mode: 1, tokenList: [{ exchangeType: 1, tokens: ['99926000', '99926009'] }, { exchangeType: 2, tokens: ['43650'] }] } });
    expect(req!.correlationID).toMatch(/^[A-Za-z0-9]{1,10}$/);

    conn.ws.send(ltpFrame('99926000', 2_171_235n));
    conn.ws.send(buildFrame(sampleSnap('43650', 2)));
    await h.until('Tick', 2);
    const ticks = h.of('Tick');
    expect(ticks[0]).toEqual({ token: '99926000', exchange: 'NSE', mode: 'ltp', exchTs: 1_737_356_263_000, ltp: 21712.35 });
    expect(ticks[1]).toMatchObject({ token: '43650', exchange: 'NFO', mode: 'snap', ltp: 123.45, lastTradeTs: 1_737_356_261_000 });
    expect(h.feed.counters).toMatchObject({ frames: 2, ticks: 2, rejected: 0 });
  });

  it('Bearer prefix is configurable', async () => {
    h = await harness({ authorizationScheme: 'bearer' });
    await h.feed.start();
    expect(h.server.conns[0]!.headers.authorization).toBe('Bearer jwt-1');
  });

  it('short, long and garbage frames: FeedFrameRejected with reason and hex prefix, counted, never thrown; the link lives on', async () => {
    h = await harness();
    h.feed.subscribe([NIFTY], 'quote');
    await h.feed.start();
    const ws = h.server.conns[0]!.ws;
    const good = buildFrame(sampleQuote('99926000', 1));
    ws.send(good.subarray(0, 122));
    ws.send(Buffer.concat([good, Buffer.from([0])]));
    ws.send(Buffer.from('deadbeef', 'hex'));
    ws.send(Buffer.alloc(0));
    ws.send(good);
    await h.until('Tick');
    expect(h.of('FeedFrameRejected')).toEqual([
      { connection: 0, reason: 'short frame: 122 bytes for mode 2 (needs 123)', length: 122, headHex: Buffer.from(good.subarray(0, 32)).toString('hex') },
      { connection: 0, reason: 'long frame: 124 bytes for mode 2 (expects exactly 123)', length: 124, headHex: Buffer.from(good.subarray(0, 32)).toString('hex') },
      { connection: 0, reason: 'unknown mode 222', length: 4, headHex: 'deadbeef' },
      { connection: 0, reason: 'empty frame', length: 0, headHex: '' },
    ]);
    expect(h.feed.counters).toMatchObject({ frames: 5, ticks: 1, rejected: 4, internalErrors: 0 });
    expect(h.of('FeedDisconnected')).toEqual([]);
  });

  it('a garbage storm reports the first 20 rejected frames a minute one by one, then one summary: the ledger is not flooded', async () => {
    h = await harness();
    for (let i = 0; i < 50; i++) h.feed.ingest(0, Buffer.from('deadbeef', 'hex'));
    expect(h.of('FeedFrameRejected')).toHaveLength(20);
    expect(h.feed.counters.rejected).toBe(50);
    h.clock.advanceBy(60_000);
    h.feed.ingest(0, buildFrame(sampleQuote('99926000', 1)));
    const all = h.of('FeedFrameRejected');
    expect(all).toHaveLength(21);
    expect(all[20]!.reason).toMatch(/^30 more frames rejected in the minute before/);
    expect(h.of('Tick')).toHaveLength(1);
  });

  it('JSON error replies become FeedErrorReceived; unrecognised text too; pong is accepted silently', async () => {
    h = await harness();
    await h.feed.start();
    const ws = h.server.conns[0]!.ws;
    ws.send(JSON.stringify({ correlationID: 'abcde12345', errorCode: 'E1002', errorMessage: 'Invalid Request. Subscription Limit Exceeded' }));
    ws.send('pong');
    ws.send('{not json');
    await h.until('FeedErrorReceived', 2);
    expect(h.of('FeedErrorReceived')).toEqual([
      { connection: 0, code: 'E1002', message: 'Invalid Request. Subscription Limit Exceeded' },
      { connection: 0, code: 'UNRECOGNISED', message: 'unrecognised text message: {not json' },
    ]);
    expect(h.feed.counters.pongs).toBe(1);
  });

  it('subscribe/unsubscribe on a live link, batches of subscribeBatchSize, duplicates ignored', async () => {
    h = await harness({ subscribeBatchSize: 2 });
    await h.feed.start();
    const conn = h.server.conns[0]!;
    h.feed.subscribe([NIFTY, OPT, BANKNIFTY, { exchange: 'BFO', token: '1111' }, { exchange: 'BSE', token: '99919000' }], 'snap');
    h.feed.subscribe([NIFTY], 'snap');
    h.feed.unsubscribe([OPT, { exchange: 'NFO', token: '999' }], 'snap');
    await waitFor(() => conn.texts.length >= 4, '4 requests');
    expect(h.server.requests(conn).map((r) => [r.action, r.params.mode, r.params.tokenList])).toEqual([
      [1, 3, [{ exchangeType: 1, tokens: ['99926000'] }, { exchangeType: 2, tokens: ['43650'] }]],
      [1, 3, [{ exchangeType: 1, tokens: ['99926009'] }, { exchangeType: 4, tokens: ['1111'] }]],
      [1, 3, [{ exchangeType: 3, tokens: ['99919000'] }]],
      [0, 3, [{ exchangeType: 2, tokens: ['43650'] }]],
    ]);
    expect(h.feed.subscriptionCount).toBe(4);
  });

  it('prune: contracts the morning\'s master no longer lists are unsubscribed, in every mode', async () => {
    h = await harness({});
    await h.feed.start();
    const conn = h.server.conns[0]!;
    const expired = { exchange: 'NFO' as const, token: '777' };
    h.feed.subscribe([NIFTY, OPT, expired], 'snap');
    h.feed.subscribe([expired], 'quote');
    await waitFor(() => conn.texts.length >= 2, '2 subscribe requests');
    expect(h.feed.prune((r) => r.token !== expired.token)).toBe(2);
    expect(h.feed.subscriptionCount).toBe(2);
    await waitFor(() => conn.texts.length >= 4, '2 unsubscribe requests');
    expect(h.server.requests(conn).slice(2).map((r) => [r.action, r.params.mode, r.params.tokenList])).toEqual([
      [0, 2, [{ exchangeType: 2, tokens: ['777'] }]],
      [0, 3, [{ exchangeType: 2, tokens: ['777'] }]],
    ]);
    expect(h.feed.prune(() => true)).toBe(0);
  });

  it('more tokens than one connection holds: a 2nd and 3rd connection, then a RangeError', async () => {
    h = await harness({ maxTokensPerConnection: 2 });
    h.feed.subscribe([NIFTY, BANKNIFTY, OPT], 'ltp');
    await h.feed.start();
    expect(h.server.conns).toHaveLength(2);
    h.feed.subscribe([{ exchange: 'NFO', token: '1' }, { exchange: 'NFO', token: '2' }], 'ltp');
    await waitFor(() => h!.server.conns.length === 3, '3rd connection');
    await h.until('FeedConnected', 3);
    await waitFor(() => h!.server.conns.every((c) => c.texts.length > 0), 'subscriptions');
    const tokens = h.server.conns.map((c) => h!.server.requests(c).flatMap((r) => r.params.tokenList.flatMap((g) => g.tokens)));
    expect(tokens).toEqual([['99926000', '99926009'], ['43650', '1'], ['2']]);
    expect(() => h!.feed.subscribe([{ exchange: 'NFO', token: '3' }, { exchange: 'NFO', token: '4' }], 'ltp')).toThrow(RangeError);
    expect(h.feed.subscriptionCount).toBe(5);
    expect(() => h!.feed.subscribe([{ exchange: 'NFO', token: 'x1' }], 'ltp')).toThrow(/digits/);
  });

  it('a throwing recorder does not lose the tick', async () => {
    h = await harness({}, { recorder: { record: () => { throw new Error('disk full'); } } });
    await h.feed.start();
    h.server.conns[0]!.ws.send(ltpFrame());
    await h.until('Tick');
    expect(h.feed.counters).toMatchObject({ ticks: 1, recordErrors: 1, internalErrors: 0 });
  });

  it('stop(): closes, emits FeedDisconnected(stopped), leaves no timer and never reconnects', async () => {
    h = await harness();
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    await h.feed.stop();
    expect(h.of('FeedDisconnected')).toEqual([{ connection: 0, reason: 'stopped' }]);
    expect(h.clock.pending()).toBe(0);
    await waitFor(() => h!.server.open.length === 0, 'server sees close');
    h.clock.advanceBy(120_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.server.conns).toHaveLength(1);
    expect(h.of('FeedReconnectScheduled')).toEqual([]);
  });
});
