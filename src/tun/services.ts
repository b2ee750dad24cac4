/**
 * Small services written directly on TcpSocket (no Node streams), for `synack tun`, the interop
 * tests and the benchmark: echo (RFC 862), discard (RFC 863), a minimal HTTP/1.1 server, and
 * client helpers that upload/download with flow control.
 *
 * Flow control on TcpSocket: `write` returns how many bytes the send buffer took; `onWritable`
 * fires when acknowledged data freed space. `Writer` keeps the rest queued and pulls from an
 * optional source, so a 50 MB body never sits in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { Rng } from '../rng.js';
import type { Listener } from '../stack/listener.js';
import type { TcpSocket } from '../stack/socket.js';
import type { Stack } from '../stack/stack.js';
import { SynackError } from '../errors.js';
import type { UdpSocket } from '../udp/socket.js';

// ------------------------------------------------------------------ deterministic data

/** A prime-length pattern block, so no segment or buffer size lines up with its period. */
const PATTERN_LEN = 65521;
const PATTERN = (() => {
  const r = new Rng(0x5ac4);
  const b = new Uint8Array(PATTERN_LEN * 2); // doubled: any window of ≤ PATTERN_LEN is contiguous
  for (let i = 0; i < PATTERN_LEN; i++) b[i] = r.u32() & 0xff;
  b.copyWithin(PATTERN_LEN, 0, PATTERN_LEN);
  return b;
})();

/** Bytes [offset, offset + len) of the deterministic stream `/bytes/N` serves (len ≤ 65521). */
export function patternChunk(offset: number, len: number): Uint8Array {
  if (len > PATTERN_LEN) throw new RangeError(`len must be ≤ ${PATTERN_LEN}`);
  const start = offset % PATTERN_LEN;
  return PATTERN.subarray(start, start + len);
}

/** A source for `Writer`: `total` bytes of the deterministic stream, in ≤ 64 KiB chunks. */
export function patternSource(total: number): () => Uint8Array | null {
  let off = 0;
  return () => {
    if (off >= total) return null;
    const n = Math.min(PATTERN_LEN, total - off);
    const c = patternChunk(off, n);
    off += n;
    return c;
  };
}

/** SHA-256 (hex) of the first `total` bytes of the deterministic stream. */
export function patternSha256(total: number): string {
  const h = createHash('sha256');
  const src = patternSource(total);
  for (let c = src(); c !== null; c = src()) h.update(c);
  return h.digest('hex');
}

// ------------------------------------------------------------------ writing with flow control

/**
 * Queues bytes for a TcpSocket and writes them as send-buffer space opens. `end()` sends FIN
 * (shutdown) or closes once everything was taken by the socket.
 */
export class Writer {
  private readonly queue: Uint8Array[] = [];
  private source: (() => Uint8Array | null) | null = null;
  private finish: 'none' | 'shutdown' | 'close' = 'none';
  private finished = false;
  /** Bytes handed to the socket so far. */
  written = 0;
  onDrain: (() => void) | null = null;
  onError: ((e: Error) => void) | null = null;

  constructor(readonly sock: TcpSocket) {
    const prev = sock.onWritable;
    sock.onWritable = () => {
      prev?.();
      this.pump();
    };
  }

  write(data: Uint8Array | string): void {
    this.queue.push(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    this.pump();
  }

  /** Pull chunks from `src` (null = done) whenever the queue empties. */
  stream(src: () => Uint8Array | null): void {
    this.source = src;
    this.pump();
  }

  /** After everything queued (and streamed) is written: FIN ('shutdown') or close(). */
  end(how: 'shutdown' | 'close' = 'shutdown'): void {
    this.finish = how;
    this.pump();
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.source === null;
  }

  pump(): void {
    if (this.finished) return;
    try {
      for (;;) {
        if (this.queue.length === 0 && this.source !== null) {
          const c = this.source();
          if (c === null) this.source = null;
          else this.queue.push(c);
        }
        const head = this.queue[0];
        if (head === undefined) break;
        const n = head.length === 0 ? 0 : this.sock.write(head);
        this.written += n;
        if (n < head.length) {
          this.queue[0] = head.subarray(n);
          return; // onWritable will call again
        }
        this.queue.shift();
      }
      this.onDrain?.();
      if (this.finish !== 'none' && this.idle) {
        this.finished = true;
        if (this.finish === 'shutdown') this.sock.shutdown();
        else this.sock.close();
      }
    } catch (e) {
      this.finished = true;
      this.queue.length = 0;
      this.source = null;
      this.onError?.(e as Error);
    }
  }
}

/** Read everything readable now; calls `fn` per chunk. */
function drain(sock: TcpSocket, fn: (chunk: Uint8Array) => void): void {
  for (let c = sock.read(); c !== null; c = sock.read()) fn(c);
}

/** Where discard reads to: the bytes are thrown away, so every connection shares it (no array per read). */
const DISCARD_SCRATCH = new Uint8Array(65536);

/** Read everything readable into the scratch buffer; returns the count. */
function discardAll(sock: TcpSocket): number {
  let total = 0;
  for (let n = sock.readInto(DISCARD_SCRATCH); n > 0; n = sock.readInto(DISCARD_SCRATCH)) total += n;
  return total;
}

// ------------------------------------------------------------------ echo and discard

export interface ServiceStats {
  connections: number;
  active: number;
  bytesIn: number;
  bytesOut: number;
  requests: number;
}

const newStats = (): ServiceStats => ({ connections: 0, active: 0, bytesIn: 0, bytesOut: 0, requests: 0 });

function track(stats: ServiceStats, sock: TcpSocket, onClose?: () => void): void {
  stats.connections++;
  stats.active++;
  sock.onClose = () => {
    stats.active--;
    onClose?.();
  };
  sock.onError = () => {};
}

/**
 * Listen on `port` on every address the stack has: one wildcard listener when all its addresses
 * are of one family, else one listener per address (a Stack listener is per family, and its bind
 * rules make 0.0.0.0 and :: on one port collide, as Linux's dual-stack bind does). The first
 * listener is on the first address.
 */
export function listenAllFamilies(stack: Stack, port: number, backlog = 1024): Listener[] {
  const addrs = [...stack.addresses];
  const fams = new Set(addrs.map((a) => (a.includes(':') ? 6 : 4)));
  if (fams.size === 1) return [stack.listen({ port, backlog, address: fams.has(6) ? '::' : '0.0.0.0' })];
  return addrs.map((address) => stack.listen({ port, backlog, address }));
}

/** Accept every connection a listener queues and hand it to `serve`. */
export function acceptAll(l: Listener, serve: (s: TcpSocket) => void): void {
  const take = (): void => {
    for (let s = l.accept(); s !== null; s = l.accept()) serve(s);
  };
  l.onConnection = () => take();
  take();
}

/** RFC 862 echo: everything read is written back; the peer's FIN is echoed as our FIN. */
export function echoService(stack: Stack, port: number): { listener: Listener; stats: ServiceStats } {
  const stats = newStats();
  const listeners = listenAllFamilies(stack, port);
  const listener = listeners[0]!;
  for (const l of listeners) acceptAll(l, (sock) => {
    track(stats, sock);
    const w = new Writer(sock);
    let ended = false;
    const move = (): void => {
      // Read only what the send buffer can take: back-pressure goes back to the peer's window.
      for (;;) {
        const room = sock.writable;
        if (room <= 0 || !w.idle) break;
        const c = sock.read(room);
        if (c === null) break;
        stats.bytesIn += c.length;
        stats.bytesOut += c.length;
        w.write(c);
      }
      if (ended && sock.readable === 0 && w.idle) w.end('close');
    };
    sock.onData = move;
    w.onDrain = () => {
      if (sock.readable > 0) queueMicrotask(move);
    };
    sock.onEnd = () => {
      ended = true;
      move();
    };
    move();
  });
  return { listener, stats };
}

/**
 * RFC 862 echo over UDP: every datagram goes back to its sender. One dual-stack udp6 socket on
 * :: takes IPv4 (as mapped addresses) and IPv6; it may share its port number with the TCP echo
 * service (TCP and UDP ports are separate spaces). `connections` counts datagrams echoed.
 */
export function udpEchoService(stack: Stack, port: number): { socket: UdpSocket; stats: ServiceStats } {
  const stats = newStats();
  const socket = stack.udp.open(6);
  socket.bind('::', port);
  socket.onReadable = () => {
    for (let d = socket.recv(); d !== null; d = socket.recv()) {
      stats.bytesIn += d.data.length;
      try {
        socket.send(d.data, d.address, d.port);
      } catch {
        continue; // e.g. no route back: the datagram is not echoed, as a UDP service would lose it
      }
      stats.connections++;
      stats.bytesOut += d.data.length;
    }
  };
  return { socket, stats };
}

/** RFC 863 discard: everything read is dropped; close when the peer closes. */
export function discardService(stack: Stack, port: number): { listener: Listener; stats: ServiceStats } {
  const stats = newStats();
  const listeners = listenAllFamilies(stack, port);
  const listener = listeners[0]!;
  for (const l of listeners) acceptAll(l, (sock) => {
    track(stats, sock);
    sock.onData = () => void (stats.bytesIn += discardAll(sock));
    sock.onEnd = () => {
      stats.bytesIn += discardAll(sock);
      sock.close();
    };
  });
  return { listener, stats };
}

// ------------------------------------------------------------------ HTTP/1.1

export interface HttpOptions {
  /** Largest /bytes/N served (default 4 GiB). */
  maxBytes?: number;
  /** Extra lines for the index page. */
  info?: () => string;
}

const CRLFCRLF = Uint8Array.of(13, 10, 13, 10);

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A minimal HTTP/1.1 server: keep-alive, Content-Length bodies (no chunked requests).
 *   GET /            a small HTML page
 *   GET /bytes/N     N bytes of the deterministic stream (patternSha256(N) is its SHA-256)
 *   POST|PUT /upload  consumes the body, answers {"bytes":N,"sha256":"..."}
 *   anything else    404
 */
export function httpService(stack: Stack, port: number, opts: HttpOptions = {}): { listener: Listener; stats: ServiceStats } {
  const stats = newStats();
  const maxBytes = opts.maxBytes ?? 4 * 1024 ** 3;
  const listeners = listenAllFamilies(stack, port);
  const listener = listeners[0]!;
  for (const l of listeners) acceptAll(l, (sock) => {
    track(stats, sock);
    const w = new Writer(sock);
    let buf: Uint8Array = new Uint8Array(0);
    let body: { left: number; hash: Hash; total: number; keepAlive: boolean } | null = null;
    let busy = false; // a response is being streamed
    let closing = false;

    const respond = (status: string, type: string, payload: Uint8Array | string | { length: number; src: () => Uint8Array | null }, keepAlive: boolean): void => {
      const isStream = typeof payload === 'object' && !(payload instanceof Uint8Array);
      const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
      const length = bytes.length;
      const head = `HTTP/1.1 ${status}\r\nServer: synack\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
      stats.requests++;
      stats.bytesOut += length;
      w.write(head);
      if (isStream) {
        busy = true;
        w.stream((bytes as { src: () => Uint8Array | null }).src);
      } else {
        w.write(bytes as Uint8Array);
      }
      if (!keepAlive) {
        closing = true;
        w.end('close');
      }
    };

    const handle = (): void => {
      for (;;) {
        if (closing || busy) return;
        if (body !== null) {
          if (body.left > 0) {
            if (buf.length === 0) return;
            const take = Math.min(body.left, buf.length);
            body.hash.update(buf.subarray(0, take));
            body.left -= take;
            buf = buf.subarray(take);
            if (body.left > 0) return;
          }
          const b = body;
          body = null;
          respond('200 OK', 'application/json', `{"bytes":${b.total},"sha256":"${b.hash.digest('hex')}"}\n`, b.keepAlive);
          continue;
        }
        const end = indexOf(buf, CRLFCRLF);
        if (end < 0) {
          if (buf.length > 16384) respond('431 Request Header Fields Too Large', 'text/plain', 'header too large\n', false);
          return;
        }
        const head = new TextDecoder().decode(buf.subarray(0, end));
        buf = buf.subarray(end + 4);
        const [requestLine = '', ...lines] = head.split('\r\n');
        const [method = '', target = '', version = ''] = requestLine.split(' ');
        const headers = new Map<string, string>();
        for (const l of lines) {
          const i = l.indexOf(':');
          if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
        }
        const conn = (headers.get('connection') ?? '').toLowerCase();
        const keepAlive = version === 'HTTP/1.1' ? conn !== 'close' : conn === 'keep-alive';
        const len = Number(headers.get('content-length') ?? '0');
        if (!/^HTTP\/1\.[01]$/.test(version)) {
          respond('400 Bad Request', 'text/plain', 'bad request\n', false);
          return;
        }
        if (method === 'POST' || method === 'PUT') {
          if (headers.has('transfer-encoding') || !Number.isInteger(len) || len < 0) {
            respond('411 Length Required', 'text/plain', 'send a Content-Length body\n', false);
            return;
          }
          if (target !== '/upload') {
            respond('404 Not Found', 'text/plain', 'not found\n', false);
            return;
          }
          body = { left: len, hash: createHash('sha256'), total: len, keepAlive };
          continue;
        }
        if (method !== 'GET' && method !== 'HEAD') {
          respond('405 Method Not Allowed', 'text/plain', 'GET, HEAD, POST /upload\n', false);
          return;
        }
        const m = /^\/bytes\/(\d+)$/.exec(target);
        if (target === '/' || target === '/index.html') {
          const page = `<!doctype html>\n<html><head><title>synack</title></head><body>\n<h1>Hello from synack</h1>\n<p>A TCP/IP stack in TypeScript answered this request over a TUN device.</p>\n<p>Try <a href="/bytes/1048576">/bytes/1048576</a>.</p>\n<pre>${escapeHtml(opts.info?.() ?? '')}</pre>\n</body></html>\n`;
          respond('200 OK', 'text/html; charset=utf-8', method === 'HEAD' ? '' : page, keepAlive);
        } else if (m !== null && Number(m[1]) <= maxBytes) {
          const n = Number(m[1]);
          if (method === 'HEAD') respond('200 OK', 'application/octet-stream', '', keepAlive);
          else respond('200 OK', 'application/octet-stream', { length: n, src: patternSource(n) }, keepAlive);
        } else {
          respond('404 Not Found', 'text/plain', 'not found\n', keepAlive);
        }
      }
    };

    w.onDrain = () => {
      if (busy && w.idle) {
        busy = false;
        if (buf.length > 0 || sock.readable > 0) queueMicrotask(() => {
          onData();
        });
      }
    };
    const onData = (): void => {
      drain(sock, (c) => {
        stats.bytesIn += c.length;
        if (closing) return;
        buf = concat(buf, c);
      });
      handle();
    };
    sock.onData = onData;
    sock.onEnd = () => {
      onData();
      // The client finished sending: close once our response (if any) is out.
      if (!closing) {
        closing = true;
        w.end('close');
      }
    };
    onData();
  });
  return { listener, stats };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ------------------------------------------------------------------ client helpers

export interface TransferResult {
  bytes: number;
  sha256: string;
  /** Microseconds from connect() to the peer's FIN (or the end of the transfer). */
  elapsed: number;
}

/**
 * Connect, send `upload` bytes of the deterministic stream (then FIN), and read everything the
 * peer sends until its FIN; resolves with what was received. Rejects on a TCP error.
 */
export function clientTransfer(
  stack: Stack,
  opts: { remoteAddress: string; remotePort: number; upload?: number; request?: string | Uint8Array; kick?: () => void; close?: 'close' | 'none' },
): Promise<TransferResult & { sock: TcpSocket }> {
  return new Promise((resolve, reject) => {
    const t0 = stack.now();
    const sock = stack.connect({ remoteAddress: opts.remoteAddress, remotePort: opts.remotePort });
    const hash = createHash('sha256');
    let bytes = 0;
    let done = false;
    const w = new Writer(sock);
    const fail = (code: string, message: string): void => {
      if (done) return;
      done = true;
      reject(new SynackError(code, `${code}: ${message}`));
    };
    w.onError = (e) => fail((e as { code?: string }).code ?? 'EIO', e.message);
    sock.onError = fail;
    sock.onConnect = () => {
      if (opts.request !== undefined) w.write(opts.request);
      if (opts.upload) w.stream(patternSource(opts.upload));
      w.end('shutdown');
      opts.kick?.();
    };
    sock.onData = () => {
      for (let c = sock.read(); c !== null; c = sock.read()) {
        bytes += c.length;
        hash.update(c);
      }
      opts.kick?.();
    };
    sock.onEnd = () => {
      sock.onData?.();
      if (done) return;
      done = true;
      if (opts.close !== 'none') sock.close();
      opts.kick?.();
      resolve({ bytes, sha256: hash.digest('hex'), elapsed: stack.now() - t0, sock });
    };
    sock.onClose = () => {
      if (!done) fail(sock.error ?? 'ECONNRESET', `closed in ${sock.state}`);
    };
    opts.kick?.();
  });
}
