/**
 * A small SmartStream-like WebSocket server on 127.0.0.1:0 for feed tests:
 * records upgrade headers and every text message per connection, answers
 * `ping` with `pong` (switchable), can refuse upgrades (401 + x-error-message,
 * or any status) and drop connections.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
export { waitFor } from '../../../support/wait.js';

export type ServerConn = { ws: WebSocket; headers: IncomingHttpHeaders; texts: string[]; closed: boolean };

export class TestFeedServer {
  readonly conns: ServerConn[] = [];
  autoPong = true;
  /** Refuse the next N upgrades with this status (401 carries x-error-message). */
  refuse: { count: number; status: number; message?: string } = { count: 0, status: 401 };
  /** Terminate every connection right after it opens. */
  dropOnOpen = false;
  upgrades = 0;

  private constructor(private readonly wss: WebSocketServer, readonly url: string) {}

  static async start(): Promise<TestFeedServer> {
    let self: TestFeedServer | undefined;
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      path: '/smart-stream',
      verifyClient: (_info, cb) => {
        self!.upgrades++;
        const r = self!.refuse;
        if (r.count > 0) {
          r.count--;
          cb(false, r.status, 'Refused', r.message === undefined ? {} : { 'x-error-message': r.message });
          return;
        }
        cb(true);
      },
    });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const port = (wss.address() as AddressInfo).port;
    self = new TestFeedServer(wss, `ws://127.0.0.1:${port}/smart-stream`);
    wss.on('connection', (ws, req) => self!.accept(ws, req.headers));
    return self;
  }

  private accept(ws: WebSocket, headers: IncomingHttpHeaders): void {
    const conn: ServerConn = { ws, headers, texts: [], closed: false };
    this.conns.push(conn);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      conn.texts.push(text);
      if (text === 'ping' && this.autoPong) ws.send('pong');
    });
    ws.on('close', () => { conn.closed = true; });
    ws.on('error', () => {});
    if (this.dropOnOpen) ws.terminate();
  }

  get open(): ServerConn[] {
    return this.conns.filter((c) => !c.closed);
  }

  /** The parsed subscribe/unsubscribe requests a connection received. */
  requests(conn: ServerConn): { action: number; params: { mode: number; tokenList: { exchangeType: number; tokens: string[] }[] }; correlationID?: string }[] {
    return conn.texts.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t));
  }

  pings(conn: ServerConn): number {
    return conn.texts.filter((t) => t === 'ping').length;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

