import type { Connection, ConnSnapshot } from '../tcp/connection.js';
import type { TcpConfig } from '../tcp/config.js';
import type { TcpErrorCode } from '../tcp/events.js';
import type { TcpStateName } from '../tcp/state.js';
import type { Stack } from './stack.js';

const encoder = new TextEncoder();

/**
 * The application's handle on one connection: user calls (RFC 9293 §3.10) with the stack's clock,
 * and callbacks for what happens. The Node `net.Socket` layer is built on this.
 */
export class TcpSocket {
  /** The connection is established (an active open's SYN,ACK arrived). */
  onConnect: (() => void) | null = null;
  /** New in-order data can be read. */
  onData: (() => void) | null = null;
  /** The peer sent FIN (after the data already readable). */
  onEnd: (() => void) | null = null;
  /** The connection failed: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE …, with a sentence. */
  onError: ((code: TcpErrorCode, message: string) => void) | null = null;
  /** Send-buffer space opened up after a write that did not fit. */
  onWritable: (() => void) | null = null;
  /** SO_LINGER close finished: `acked` is true when the peer acknowledged everything in time. */
  onLinger: ((acked: boolean) => void) | null = null;
  /** The connection reached CLOSED. */
  onClose: (() => void) | null = null;
  /** Every state change of the connection, with its cause. */
  onState: ((from: TcpStateName, to: TcpStateName, cause: string) => void) | null = null;

  constructor(
    readonly stack: Stack,
    readonly conn: Connection,
  ) {
    conn.owner = this;
  }

  get state(): TcpStateName {
    return this.conn.state;
  }
  /** Accepted by a dual-stack '::' listener from an IPv4 peer: addresses show as ::ffff:a.b.c.d. */
  v4Mapped = false;
  /**
   * LINUX sk->sk_socket of a passive child: false while the connection waits in a listener's
   * accept queue, true once accepted (and for active opens). Receive-buffer growth waits for it.
   */
  accepted = true;

  get localAddress(): string {
    return this.v4Mapped ? `::ffff:${this.conn.localAddr}` : this.conn.localAddr;
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get remoteAddress(): string {
    return this.v4Mapped ? `::ffff:${this.conn.remoteAddr}` : this.conn.remoteAddr;
  }
  get remotePort(): number {
    return this.conn.remotePort;
  }
  get error(): TcpErrorCode | null {
    return this.conn.error;
  }
  /** Bytes the application can read now. */
  get readable(): number {
    return this.conn.readableBytes;
  }
  /** Send-buffer space. */
  get writable(): number {
    return this.conn.writableBytes;
  }
  /** The peer finished sending and everything was read. */
  get eof(): boolean {
    return this.conn.eof;
  }

  /**
   * Queue bytes (a string is UTF-8); returns how many the send buffer took. `more` is MSG_MORE:
   * more data follows, so a partial last segment waits and the write's end carries no PSH.
   */
  write(data: Uint8Array | string, more = false): number {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    let n = this.conn.send(bytes, 0, bytes.length, more);
    this.stack.service(this.conn);
    // A write the send buffer cannot take whole (or with TCP_NOTSENT_LOWAT) queues a chunk at a
    // time, sending between them (LINUX tcp_push_one, forced_push).
    for (let k = n; k > 0 && n < bytes.length; n += k) {
      k = this.conn.send(bytes, n, bytes.length - n, more);
      this.stack.service(this.conn);
    }
    return n;
  }

  /** Read up to `max` bytes; null when nothing is readable now (check `eof`). */
  read(max = Number.POSITIVE_INFINITY, peek = false): Uint8Array | null {
    const n = Math.min(max, this.conn.readableBytes);
    if (n <= 0) return null;
    const out = new Uint8Array(n);
    this.conn.receive(out, peek, this.stack.now());
    this.stack.service(this.conn);
    return out;
  }

  /** Read into a caller's buffer; returns the count. */
  readInto(dst: Uint8Array, peek = false): number {
    const n = this.conn.receive(dst, peek, this.stack.now());
    if (n > 0) this.stack.service(this.conn);
    return n;
  }

  /** shutdown(SHUT_WR): send FIN, keep receiving (half-close). */
  shutdown(): void {
    this.conn.shutdown(this.stack.now());
    this.stack.service(this.conn);
  }

  /** shutdown(SHUT_RD). */
  shutdownRead(): void {
    this.conn.shutdownRead();
  }

  /** close(): FIN, or RST with unread data or SO_LINGER 0; lingers when SO_LINGER > 0. */
  close(): void {
    this.conn.close(this.stack.now());
    this.stack.service(this.conn);
  }

  /** Abortive close: RST now (Node's resetAndDestroy). */
  abort(): void {
    this.conn.userClosed = true;
    this.conn.abort(this.stack.now());
    this.stack.service(this.conn);
  }

  /** Set one TCP option on this connection (the setsockopt of the named Linux option). */
  setOption<K extends keyof TcpConfig>(name: K, value: TcpConfig[K]): void {
    this.conn.setOption(name, value, this.stack.now());
    this.stack.service(this.conn);
  }

  /** The connection's RFC 9293 variables, congestion state and timers right now. */
  snapshot(): ConnSnapshot {
    return this.conn.snapshot(this.stack.now());
  }
}
