/**
 * The order-status WebSocket (smartapi-protocol.md §12): `Authorization`
 * (`Bearer <jwt>` or the raw jwt); unknown token → HTTP 401, expired → 403,
 * a 4th connection of a client code → 429, each with `x-error-message`.
 * On connect: one AB00 message with an all-empty `orderData`; then one JSON
 * text message per order change. Text `ping` → `pong`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { type Auth, bareToken } from './auth.js';
import { type OrderUpdate, streamOrderData } from './orders.js';
import { refuseUpgrade } from './smartstream.js';

export const MAX_ORDER_CONNECTIONS = 3;

export class OrderStream {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 16 });
  private readonly conns = new Map<WebSocket, string>();
  messagesSent = 0;

  constructor(private readonly auth: Auth) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const h = req.headers.authorization;
    const jwt = bareToken(Array.isArray(h) ? h[0] : h);
    const c = jwt === undefined ? ({ state: 'unknown' } as const) : this.auth.checkJwt(jwt);
    if (c.state === 'unknown') return refuseUpgrade(socket, 401, 'Unauthorized', 'Invalid Token');
    if (c.state === 'expired') return refuseUpgrade(socket, 403, 'Forbidden', 'Token Expired');
    const clientcode = c.session.clientcode;
    let open = 0;
    for (const cc of this.conns.values()) if (cc === clientcode) open++;
    if (open >= MAX_ORDER_CONNECTIONS) return refuseUpgrade(socket, 429, 'Too Many Requests', 'Connection limit exceeded');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.conns.set(ws, clientcode);
      ws.on('message', (data, isBinary) => {
        if (!isBinary && (data as Buffer).toString('utf8') === 'ping') ws.send('pong');
      });
      ws.on('close', () => this.conns.delete(ws));
      ws.on('error', () => this.conns.delete(ws));
      this.sendTo(ws, clientcode, 'AB00', '', streamOrderData(undefined));
    });
  }

  publish(u: OrderUpdate): void {
    const msg = JSON.stringify(message(u.order.clientcode, u.code, u.order.status === 'rejected' ? u.order.text : '', streamOrderData(u.order)));
    for (const [ws, cc] of this.conns) {
      if (cc !== u.order.clientcode) continue;
      ws.send(msg);
      this.messagesSent++;
    }
  }

  get connections(): number {
    return this.conns.size;
  }

  dropAll(): void {
    for (const ws of [...this.conns.keys()]) ws.terminate();
  }

  close(): void {
    this.dropAll();
    this.wss.close();
  }

  private sendTo(ws: WebSocket, clientcode: string, code: string, error: string, orderData: Record<string, unknown>): void {
    ws.send(JSON.stringify(message(clientcode, code, error, orderData)));
    this.messagesSent++;
  }
}

function message(clientcode: string, code: string, error: string, orderData: Record<string, unknown>): Record<string, unknown> {
  return { 'user-id': clientcode, 'status-code': '200', 'order-status': code, 'error-message': error, orderData };
}
