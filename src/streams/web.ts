/**
 * The web-streams face of a TCP connection, for browsers and Node alike (no Node import): a
 * `ReadableStream<Uint8Array>` and a `WritableStream<Uint8Array>` over a synack `TcpSocket`, and
 * a `ReadableStream` of accepted connections over a `Listener`. The shapes follow the W3C Direct
 * Sockets API (`TCPSocket` / `TCPServerSocket`: `readable`, `writable`, `opened`, `closed`).
 *
 * Backpressure is TCP's own. The readable side has a high-water mark of 0: bytes leave the TCP
 * receive buffer only when a reader asks for them, so a reader that stops makes the receive
 * window close and the peer stop sending (RFC 9293 §3.8.6). The writable side resolves a write
 * once the send buffer has taken every byte of the chunk; while the buffer is full (peer window
 * or congestion window closed) the write stays pending and the stream's queue fills.
 *
 * Time: on a SimWorld, promises settle only when the event loop gets a turn, so drive virtual
 * time with `await new SimDriver(world).run(...)`, not the synchronous `world.run()`. On a
 * real-time driver, pass it as `driver` so every call re-arms its timer.
 */
import type { Driver } from '../driver/node.js';
import { codeOf, netError, type NetError } from '../net/errors.js';
import type { Listener } from '../stack/listener.js';
import type { TcpSocket } from '../stack/socket.js';
import type { Stack } from '../stack/stack.js';
import type { TcpConfig } from '../tcp/config.js';

/** The largest chunk a default reader receives (a BYOB reader gets what fits its view). */
const MAX_CHUNK = 64 * 1024;

/** Options of the web-streams face. */
export interface WebStreamOptions {
  /**
   * The driver running the stack, whose `kick()` is called after every call into the stack (a
   * real-time `NodeDriver` re-arms its timer then). Not needed on a SimWorld's virtual time.
   */
  driver?: Pick<Driver, 'kick'>;
}

/** The two ends of an established connection, what `TcpSocketStream.opened` resolves with. */
export interface TcpSocketOpenInfo {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** Where `connectStream` connects from and to (the options of `Stack.connect`). */
export interface StreamConnectOptions {
  remoteAddress: string;
  remotePort: number;
  localAddress?: string;
  localPort?: number;
  /** Per-connection TCP options (names of the Linux sysctls and socket options they mirror). */
  tcp?: Partial<TcpConfig>;
}

/** Where `listenStream` listens (the options of `Stack.listen`). */
export interface StreamListenOptions {
  port: number;
  address?: string;
  backlog?: number;
  reuseAddr?: boolean;
  tcp?: Partial<TcpConfig>;
}

/** A promise whose rejection is handled here, so one nobody awaits never reports as unhandled. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * One TCP connection as a pair of web streams.
 *
 * ```ts
 * const conn = connectStream(stack, { remoteAddress: '10.0.0.2', remotePort: 7 });
 * await conn.opened;
 * const w = conn.writable.getWriter();
 * await w.write(new TextEncoder().encode('hello'));
 * await w.close();                                   // FIN (half-close); reading goes on
 * for await (const chunk of conn.readable) console.log(chunk.length);
 * await conn.closed;
 * ```
 * Closing the writable sends FIN; aborting it sends RST. Cancelling the readable stops reading
 * (with unread data left, the connection is then reset when both sides are done, as Linux's
 * close() does). Errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, …) reject `opened` (while
 * connecting), error both streams and reject `closed`, as Node-style errors with `code`.
 */
export class TcpSocketStream {
  /** Bytes from the peer; ends at the peer's FIN. Supports BYOB readers and async iteration. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; `close()` sends FIN, `abort()` sends RST. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the connection is established; rejects if it never is. */
  readonly opened: Promise<TcpSocketOpenInfo>;
  /** Resolves when both streams are done; rejects with the connection's error. */
  readonly closed: Promise<void>;

  private readonly driver: Pick<Driver, 'kick'> | undefined;
  private readonly openedD = deferred<TcpSocketOpenInfo>();
  private readonly closedD = deferred<void>();
  private readCtl!: ReadableByteStreamController;
  private writeCtl!: WritableStreamDefaultController;
  /** Resolves a pull() that found nothing to read. */
  private wakeReader: (() => void) | null = null;
  /** Resolves a write() waiting for send-buffer space. */
  private wakeWriter: (() => void) | null = null;
  private failure: NetError | null = null;
  private connecting: boolean;
  private readDone = false;
  private writeDone = false;

  /** Take over `socket`'s callbacks (a socket from `Stack.connect` or `Listener.accept`). */
  constructor(
    readonly socket: TcpSocket,
    opts: WebStreamOptions = {},
  ) {
    if (socket === null || typeof socket !== 'object' || typeof socket.readInto !== 'function') {
      throw new TypeError('socket must be a synack TcpSocket');
    }
    this.driver = opts.driver;
    this.opened = this.openedD.promise;
    this.closed = this.closedD.promise;
    this.connecting = socket.state === 'SYN_SENT' || socket.state === 'SYN_RECEIVED';
    this.readable = new ReadableStream(
      {
        type: 'bytes',
        start: (c) => {
          this.readCtl = c;
        },
        pull: () => this.pull(),
        cancel: () => {
          this.wakeReader = null;
          this.finishRead();
        },
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (c) => {
          this.writeCtl = c;
        },
        write: (chunk) => this.writeAll(chunk),
        close: () => this.shutdown(),
        abort: () => this.reset(),
      },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    );
    socket.onConnect = () => this.onConnect();
    socket.onData = socket.onEnd = () => this.wake();
    socket.onWritable = () => this.wakeWrite();
    socket.onError = (code) => this.fail(code);
    socket.onClose = () => this.wake();
    if (!this.connecting) {
      if (socket.state === 'CLOSED') this.fail(socket.error ?? 'ENOTCONN');
      else this.onConnect();
    }
  }

  private kick(): void {
    this.driver?.kick();
  }

  private info(): TcpSocketOpenInfo {
    const s = this.socket;
    return { localAddress: s.localAddress, localPort: s.localPort, remoteAddress: s.remoteAddress, remotePort: s.remotePort };
  }

  private onConnect(): void {
    this.connecting = false;
    this.openedD.resolve(this.info());
    this.wakeWrite();
  }

  private fail(code: string): void {
    if (this.failure !== null) return;
    const s = this.socket;
    const err = this.connecting ? netError(code, 'connect', s.remoteAddress, s.remotePort) : netError(code, code === 'EPIPE' ? 'write' : 'read');
    this.failure = err;
    this.openedD.reject(err);
    this.closedD.reject(err);
    if (!this.readDone) this.readCtl.error(err);
    if (!this.writeDone) this.writeCtl.error(err);
    this.readDone = this.writeDone = true;
    this.wake();
    this.wakeWrite();
  }

  // ------------------------------------------------------------------ reading

  /** The stream wants bytes: hand over what TCP has, or wait for onData/onEnd/onClose. */
  private pull(): Promise<void> | void {
    if (this.deliver()) return;
    return new Promise((resolve) => {
      this.wakeReader = resolve;
    });
  }

  private wake(): void {
    const w = this.wakeReader;
    if (w !== null && (this.failure !== null || this.deliver())) {
      this.wakeReader = null;
      w();
    }
  }

  /** Move bytes from the receive buffer into the stream (one chunk), or end it; false if nothing to do yet. */
  private deliver(): boolean {
    if (this.readDone) return true;
    const s = this.socket;
    const c = this.readCtl;
    if (s.readable > 0) {
      const req = c.byobRequest;
      if (req !== null && req.view !== null) {
        const v = req.view;
        req.respond(s.readInto(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
      } else {
        c.enqueue(s.read(MAX_CHUNK) as Uint8Array<ArrayBuffer>); // read() returns a fresh array
      }
      this.kick();
      return true;
    }
    // The peer's FIN after all its data, or CLOSED without one we saw (our shutdown, then reset).
    if (s.eof || s.state === 'CLOSED') {
      c.close();
      c.byobRequest?.respond(0);
      this.finishRead();
      return true;
    }
    return false;
  }

  private finishRead(): void {
    this.readDone = true;
    this.settle();
  }

  // ------------------------------------------------------------------ writing

  private async writeAll(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array (encode strings with TextEncoder)');
    await this.whenConnected();
    let off = 0;
    while (off < chunk.length) {
      if (this.failure !== null) throw this.failure;
      let n: number;
      try {
        n = this.socket.write(off === 0 ? chunk : chunk.subarray(off));
      } catch (e) {
        throw netError(codeOf(e) ?? 'EPIPE', 'write'); // e.g. EPIPE after our own FIN or the peer's RST
      } finally {
        this.kick();
      }
      off += n;
      if (off < chunk.length) await this.writeSpace();
    }
  }

  private whenConnected(): Promise<unknown> {
    return this.connecting ? this.opened : Promise.resolve();
  }

  private writeSpace(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeWriter = resolve;
    });
  }

  private wakeWrite(): void {
    const w = this.wakeWriter;
    this.wakeWriter = null;
    w?.();
  }

  /** close() of the writable: FIN once everything written is in the send buffer. */
  private async shutdown(): Promise<void> {
    await this.whenConnected();
    if (this.failure !== null) throw this.failure;
    try {
      this.socket.shutdown();
    } catch (e) {
      // LINUX: shutdown on a connection that is already gone is ENOTCONN; the stream just ends.
      if (codeOf(e) !== 'ENOTCONN') throw netError(codeOf(e) ?? 'EPIPE', 'shutdown');
    } finally {
      this.kick();
    }
    this.writeDone = true;
    this.settle();
  }

  /** abort() of the writable: RST now (RFC 9293 §3.10.5 ABORT). */
  private reset(): void {
    this.writeDone = this.readDone = true;
    if (this.socket.state !== 'CLOSED') this.socket.abort();
    this.kick();
    this.settle();
  }

  /** Both sides done: release the connection (close(): RST if unread data is left) and resolve `closed`. */
  private settle(): void {
    if (!this.readDone || !this.writeDone || this.failure !== null) return;
    const s = this.socket;
    s.onConnect = s.onData = s.onEnd = s.onWritable = s.onClose = null;
    s.onError = null;
    if (s.state !== 'CLOSED') s.close();
    this.kick();
    this.closedD.resolve();
  }
}

/** Open a connection (`Stack.connect`) as a `TcpSocketStream`. Bad options throw, as `Stack.connect` does. */
export function connectStream(stack: Stack, opts: StreamConnectOptions, streamOpts: WebStreamOptions = {}): TcpSocketStream {
  const s = new TcpSocketStream(stack.connect(opts), streamOpts);
  streamOpts.driver?.kick();
  return s;
}

/**
 * A listening socket whose `readable` yields each accepted connection as a `TcpSocketStream`.
 *
 * ```ts
 * const server = listenStream(stack, { port: 7 });
 * for await (const conn of server.readable) conn.readable.pipeTo(conn.writable);   // echo
 * ```
 * Connections leave the listener's accept queue only when read, so an application that stops
 * accepting fills the backlog and further SYNs are dropped (LINUX: tcp_conn_request). Cancelling
 * the readable closes the listener.
 */
export class TcpServerStream {
  /** Accepted connections, oldest first. */
  readonly readable: ReadableStream<TcpSocketStream>;
  private wakeAccept: (() => void) | null = null;
  private ctl!: ReadableStreamDefaultController<TcpSocketStream>;

  constructor(
    readonly listener: Listener,
    private readonly opts: WebStreamOptions = {},
  ) {
    if (listener === null || typeof listener !== 'object' || typeof listener.accept !== 'function') {
      throw new TypeError('listener must be a synack Listener');
    }
    this.readable = new ReadableStream<TcpSocketStream>(
      {
        start: (c) => {
          this.ctl = c;
        },
        pull: () => this.pull(),
        cancel: () => this.close(),
      },
      new CountQueuingStrategy({ highWaterMark: 0 }),
    );
    listener.onConnection = () => {
      const w = this.wakeAccept;
      if (w !== null && this.acceptOne()) {
        this.wakeAccept = null;
        w();
      }
    };
  }

  /** The address and port listened on. */
  get localAddress(): string {
    return this.listener.address;
  }
  get localPort(): number {
    return this.listener.port;
  }

  private pull(): Promise<void> | void {
    if (this.acceptOne()) return;
    return new Promise((resolve) => {
      this.wakeAccept = resolve;
    });
  }

  private acceptOne(): boolean {
    const sock = this.listener.accept();
    if (sock === null) return false;
    this.ctl.enqueue(new TcpSocketStream(sock, this.opts));
    this.opts.driver?.kick();
    return true;
  }

  /** Stop listening: the stream ends, connections not yet accepted are reset (LINUX: inet_csk_listen_stop). */
  close(): void {
    if (this.listener.closed) return;
    this.listener.onConnection = null;
    this.listener.close();
    this.opts.driver?.kick();
    try {
      this.ctl.close();
    } catch {
      // already closed or cancelled
    }
    const w = this.wakeAccept;
    this.wakeAccept = null;
    w?.();
  }
}

/** Listen (`Stack.listen`) and serve accepted connections as web streams. */
export function listenStream(stack: Stack, opts: StreamListenOptions, streamOpts: WebStreamOptions = {}): TcpServerStream {
  return new TcpServerStream(stack.listen(opts), streamOpts);
}
