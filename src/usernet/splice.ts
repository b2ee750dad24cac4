/**
 * One relayed TCP connection: a synack TcpSocket (the guest's side) spliced to a host stream
 * (a `node:net` Socket, or any Duplex with the same events), both ways, with the backpressure of
 * each side carried to the other and nothing buffered without bound:
 *
 * - guest → host: bytes are read from the synack socket only while the host stream accepts them
 *   (`write` true); otherwise they stay in the synack receive buffer and the advertised window
 *   closes (RFC 9293 §3.8.6) until 'drain'. At most the host stream's highWaterMark plus one read
 *   (READ_CHUNK) is buffered on the host side.
 * - host → guest: a chunk the synack send buffer does not take whole is kept (one chunk at most)
 *   and the host stream is paused until `onWritable`, so the host kernel's window closes.
 * - half-close: the guest's FIN ends the host stream (`end()`, shutdown(SHUT_WR)) once every byte
 *   before it was written; the host's 'end' becomes our FIN after every byte before it.
 * - reset: a guest RST destroys the host socket with a RST (`resetAndDestroy`); a host error
 *   (ECONNRESET, EPIPE …) aborts the guest connection with a RST.
 */
import type { Duplex } from 'node:stream';
import type { TcpSocket } from '../stack/socket.js';

/** The part of a `node:net` Socket a splice uses. */
export type HostStream = Duplex & { resetAndDestroy?(): unknown };

/** Most bytes read from the synack socket per host write (fewer, larger writes: fewer syscalls). */
export const READ_CHUNK = 256 * 1024;

/**
 * One read buffer shared by a relay's splices (a pool of one), so a bulk upload allocates
 * nothing per write. It is lent for one host write and comes back only when the host stream
 * kept nothing: a `node:net` Socket whose write went to the kernel at once (libuv's write
 * completed synchronously, so `writableLength` is 0 again) holds no reference to the bytes.
 * Anything else keeps its chunk, and the next write gets a new buffer.
 */
export class ReadBuffer {
  /** Buffers made (1 while every host write completes at once). */
  allocated = 0;
  private spare: Uint8Array | null = null;
  take(): Uint8Array {
    let b = this.spare;
    if (b === null) {
      b = new Uint8Array(READ_CHUNK);
      this.allocated++;
    }
    this.spare = null;
    return b;
  }
  give(b: Uint8Array): void {
    this.spare = b;
  }
}

export interface SpliceStats {
  /** Bytes from the guest written to the host. */
  bytesOut: number;
  /** Bytes from the host written to the guest. */
  bytesIn: number;
  /** Times the host stream refused more (write returned false): the guest's window closes. */
  hostStalls: number;
  /** Times the synack send buffer refused a host chunk: the host stream is paused. */
  guestStalls: number;
}

export class Splice {
  readonly stats: SpliceStats = { bytesOut: 0, bytesIn: 0, hostStalls: 0, guestStalls: 0 };
  /** What ended the splice: 'closed' (both sides finished), or the error that reset it. */
  outcome: string | null = null;
  private hostBlocked = false;
  private toGuest: Uint8Array | null = null;
  private hostEnded = false;
  private hostEndSent = false;
  private done = false;

  constructor(
    readonly guest: TcpSocket,
    readonly host: HostStream,
    /** Re-arm the driver's timer after touching the stack from a host event. */
    private readonly kick: () => void,
    /** Called once when the splice is over (both sides closed, or reset). */
    private readonly onDone: (s: Splice) => void,
    /**
     * The relay's shared read buffer, when `host` is a `node:net` Socket (whose synchronous
     * writes keep nothing); without it every write gets a buffer of its own.
     */
    private readonly readBuf: ReadBuffer | null = null,
  ) {
    const g = guest;
    g.onData = () => this.pumpToHost();
    g.onEnd = () => this.pumpToHost();
    g.onWritable = () => this.flushToGuest();
    g.onError = (code) => this.guestFailed(code);
    g.onClose = () => this.finish(this.outcome ?? 'closed');
    // A socket made with `onread` (tcp-relay.ts) calls hostData itself and emits no 'data'.
    host.on('data', (chunk: Uint8Array) => this.hostData(chunk));
    host.on('end', () => {
      this.hostEnded = true;
      if (this.toGuest === null) this.guestShutdown();
    });
    host.on('drain', () => {
      this.hostBlocked = false;
      this.pumpToHost();
    });
    host.on('error', (e: NodeJS.ErrnoException) => this.hostFailed(e.code ?? 'EIO'));
    host.on('close', () => {
      // The host socket is gone; if the guest side still runs, it must not hang.
      if (!this.done && this.guest.state !== 'CLOSED' && !(this.hostEnded && this.hostEndSent)) this.hostFailed('ECONNRESET');
    });
    // Data that arrived with the handshake (or before the host connected) is pumped now.
    this.pumpToHost();
  }

  /** guest → host while the host stream accepts; then the FIN as end(). */
  private pumpToHost(): void {
    if (this.done) return;
    const g = this.guest;
    while (!this.hostBlocked && g.readable > 0) {
      const rb = this.readBuf;
      const buf = rb !== null ? rb.take() : new Uint8Array(Math.min(READ_CHUNK, g.readable));
      const n = g.readInto(buf);
      if (n === 0) {
        rb?.give(buf);
        break;
      }
      this.stats.bytesOut += n;
      const ok = this.host.write(n === buf.length ? buf : buf.subarray(0, n));
      if (rb !== null && this.host.writableLength === 0) rb.give(buf);
      if (!ok) {
        this.hostBlocked = true;
        this.stats.hostStalls++;
      }
    }
    if (g.eof && g.readable === 0 && !this.hostEndSent) {
      this.hostEndSent = true;
      this.host.end();
    }
    this.kick();
    this.maybeFinished();
  }

  /**
   * Bytes from the host stream, to the guest. `chunk` may be a read buffer the host stream
   * reuses (`onread`): what the synack send buffer does not take is copied and kept.
   */
  hostData(chunk: Uint8Array): void {
    if (this.done) return;
    this.stats.bytesIn += chunk.length;
    const n = this.guest.write(chunk);
    if (n < chunk.length) {
      this.toGuest = chunk.slice(n);
      this.stats.guestStalls++;
      this.host.pause();
    }
    this.kick();
  }

  private flushToGuest(): void {
    if (this.done || this.toGuest === null) return;
    const n = this.guest.write(this.toGuest);
    if (n < this.toGuest.length) {
      this.toGuest = this.toGuest.subarray(n);
    } else {
      this.toGuest = null;
      if (this.hostEnded) this.guestShutdown();
      else this.host.resume();
    }
    this.kick();
  }

  private guestShutdown(): void {
    const s = this.guest.state;
    if (s === 'ESTABLISHED' || s === 'CLOSE_WAIT' || s === 'SYN_RECEIVED') this.guest.shutdown();
    this.kick();
    this.maybeFinished();
  }

  /** The guest connection failed: a RST from the guest resets the host socket too. */
  private guestFailed(code: string): void {
    if (this.done) return;
    this.outcome = code;
    if (code === 'ECONNRESET' && typeof this.host.resetAndDestroy === 'function') this.host.resetAndDestroy();
    else this.host.destroy();
  }

  /** The host socket failed: abort the guest connection (a RST), as slirp and pasta do. */
  private hostFailed(code: string): void {
    if (this.done) return;
    this.outcome = code;
    if (this.guest.state !== 'CLOSED') this.guest.abort();
    this.kick();
    this.finish(code);
  }

  /** Both directions finished: the guest connection closes normally (FIN exchanged). */
  private maybeFinished(): void {
    if (this.done) return;
    if (this.hostEnded && this.hostEndSent && this.toGuest === null) {
      const s = this.guest.state;
      if (s === 'CLOSED' || s === 'TIME_WAIT' || s === 'LAST_ACK' || s === 'CLOSING') this.finish('closed');
    }
  }

  private finish(outcome: string): void {
    if (this.done) return;
    this.done = true;
    this.outcome = outcome;
    if (!this.host.destroyed && !(this.hostEnded && this.hostEndSent)) this.host.destroy();
    this.onDone(this);
  }
}
