/**
 * The server side of a WebSocket (RFC 6455) on a Node HTTP upgrade, for `synack relay`: the
 * opening handshake (§4.2), then messages both ways over the framing of wire/websocket.ts, pings
 * answered, the closing handshake (§7), and a bounded send queue (`send` refuses when the socket
 * holds `maxQueueBytes` unwritten; `onDrain` says when to go on) so a slow page cannot make the
 * relay buffer without bound.
 *
 *   http.createServer().on('upgrade', (req, socket, head) => {
 *     const ws = acceptWebSocket(req, socket, head);
 *     ws?.onMessage((data, binary) => …);
 *   });
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeWsFrame, WsClose, WsFrameDecoder, WsOpcode, wsCloseBody } from '../wire/websocket.js';

/** §1.3: the GUID appended to the client's key before hashing. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WsServerOptions {
  /** Largest message accepted from the client (1009 beyond it). Default 1 MiB. */
  maxMessage?: number;
  /** Unwritten bytes the socket may hold before `send` refuses. Default 4 MiB. */
  maxQueueBytes?: number;
  /** Subprotocols this server speaks (§4.2.2: the first the client offers is chosen). */
  protocols?: string[];
  /** How long to wait for the client's close frame after ours. Default 5000 ms. */
  closeTimeoutMs?: number;
}

/** §4.2.2: Sec-WebSocket-Accept is base64(SHA-1(key + GUID)). */
export function wsAcceptKey(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

function refuse(socket: Duplex, status: string, extra = ''): null {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
  return null;
}

function headerHas(v: string | string[] | undefined, token: string): boolean {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return s.split(',').some((t) => t.trim().toLowerCase() === token);
}

/**
 * Complete the opening handshake for an HTTP upgrade request, or answer it with an error status
 * and return null (§4.2.1: 400 for a bad request, 426 with the version we speak for another).
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Uint8Array, opts: WsServerOptions = {}): WsConnection | null {
  if (req.method !== 'GET' || !headerHas(req.headers.upgrade, 'websocket') || !headerHas(req.headers.connection, 'upgrade')) {
    return refuse(socket, '400 Bad Request');
  }
  if (req.headers['sec-websocket-version'] !== '13') return refuse(socket, '426 Upgrade Required', 'Sec-WebSocket-Version: 13\r\n');
  const key = req.headers['sec-websocket-key'];
  // §4.1: the key is a base64-encoded 16-byte value.
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return refuse(socket, '400 Bad Request');
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const protocol = offered.find((p) => opts.protocols?.includes(p)) ?? null;
  if (opts.protocols && opts.protocols.length > 0 && protocol === null) return refuse(socket, '400 Bad Request');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${wsAcceptKey(key)}\r\n` +
      (protocol !== null ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
      '\r\n',
  );
  return new WsConnection(socket, head, protocol, opts);
}

export class WsConnection {
  readonly protocol: string | null;
  /** Messages refused by `send` because the queue was full. */
  sendRefused = 0;
  private readonly decoder: WsFrameDecoder;
  private readonly maxQueueBytes: number;
  private readonly closeTimeoutMs: number;
  private readonly messageCbs: ((data: Uint8Array, binary: boolean) => void)[] = [];
  private readonly closeCbs: ((code: number, reason: string) => void)[] = [];
  private readonly drainCbs: (() => void)[] = [];
  private closeSent = false;
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    head: Uint8Array,
    protocol: string | null,
    opts: WsServerOptions,
  ) {
    this.protocol = protocol;
    this.decoder = new WsFrameDecoder({ expectMasked: true, maxMessage: opts.maxMessage ?? 1 << 20 });
    this.maxQueueBytes = opts.maxQueueBytes ?? 4 << 20;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 5000;
    socket.on('data', (d: Uint8Array) => this.input(d));
    socket.on('drain', () => {
      for (const cb of this.drainCbs) cb();
    });
    socket.on('close', () => this.finish(1006, 'connection lost'));
    socket.on('error', () => socket.destroy());
    if (head.length > 0) queueMicrotask(() => this.input(head));
  }

  onMessage(cb: (data: Uint8Array, binary: boolean) => void): void {
    this.messageCbs.push(cb);
  }

  /** Called once, with the peer's close code (1005 when it gave none, 1006 when the connection broke). */
  onClose(cb: (code: number, reason: string) => void): void {
    this.closeCbs.push(cb);
  }

  /** Called when the send queue has drained after `send` refused or the queue grew. */
  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }

  /** Bytes given to the socket and not yet written. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Send a message (binary for bytes, text for a string). False when closing or the queue is full. */
  send(data: Uint8Array | string): boolean {
    if (this.closeSent || this.closed) return false;
    const binary = typeof data !== 'string';
    const payload = binary ? data : new TextEncoder().encode(data);
    if (!(payload instanceof Uint8Array)) throw new TypeError('WsConnection.send: data must be a Uint8Array or a string');
    if (this.socket.writableLength + payload.length > this.maxQueueBytes) {
      this.sendRefused++;
      return false;
    }
    this.socket.write(encodeWsFrame(binary ? WsOpcode.BINARY : WsOpcode.TEXT, payload));
    return true;
  }

  /** Start the closing handshake (§7.1.2); the socket ends when the client answers, or after a timeout. */
  close(code: number = WsClose.NORMAL, reason = ''): void {
    if (this.closeSent || this.closed) return;
    this.closeSent = true;
    this.socket.write(encodeWsFrame(WsOpcode.CLOSE, wsCloseBody(code, reason)));
    const t = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    t.unref?.();
    this.socket.once('close', () => clearTimeout(t));
  }

  private input(chunk: Uint8Array): void {
    if (this.closed) return;
    const r = this.decoder.push(chunk);
    for (const m of r.messages) {
      if (m.opcode === WsOpcode.PING) {
        // §5.5.2: answer a ping with a pong carrying the same data.
        if (!this.closeSent) this.socket.write(encodeWsFrame(WsOpcode.PONG, m.data));
      } else if (m.opcode === WsOpcode.CLOSE) {
        const code = m.data.length >= 2 ? (m.data[0]! << 8) | m.data[1]! : WsClose.NO_STATUS;
        const reason = new TextDecoder().decode(m.data.subarray(2));
        // §5.5.1: answer a close with a close (echoing the code), then the server closes the TCP connection.
        if (!this.closeSent) {
          this.closeSent = true;
          this.socket.write(encodeWsFrame(WsOpcode.CLOSE, m.data.length >= 2 ? m.data.subarray(0, 2) : new Uint8Array(0)));
        }
        this.socket.end();
        this.finish(code, reason);
        return;
      } else if (m.opcode === WsOpcode.TEXT || m.opcode === WsOpcode.BINARY) {
        if (!this.closeSent) for (const cb of this.messageCbs) cb(m.data, m.opcode === WsOpcode.BINARY);
      }
    }
    if (r.error !== null) {
      // §7.1.7: fail the connection: send the close code for the error, then close.
      if (!this.closeSent) this.socket.write(encodeWsFrame(WsOpcode.CLOSE, wsCloseBody(r.error.code, r.error.reason)));
      this.closeSent = true;
      this.socket.end();
      this.finish(r.error.code, r.error.reason);
    }
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCbs) cb(code, reason);
  }
}
