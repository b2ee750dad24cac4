/**
 * A byte ring buffer that grows on demand up to a maximum, so an idle connection holds no
 * buffer memory (a 2 KiB-per-idle-connection budget), and a busy one copies each byte in once
 * and out once.
 *
 * Memory: nothing until the first byte; then a power of two from MIN_CAPACITY, doubled as needed
 * (capped at `max`) and kept while the connection is busy, so a steady transfer allocates
 * nothing per segment. Emptying the ring does not free it: its owner calls `release()` once the
 * connection has been idle for a while (the stack's idle sweep), which frees an empty buffer.
 *
 * Lending (`pushRef`): inside a lending scope (`beginLend`/`endLend`, which the stack opens
 * around one segment's input), in-order data for an empty ring is held by reference to the
 * frame, not copied; an application that reads in its data callback, within that scope, then
 * copies straight from the frame, and what it leaves is copied in when the scope ends, before the
 * link takes its frame back. Like LINUX, which queues the skb itself (tcp_queue_rcv) and copies
 * once, into the reader's buffer; here the frame only lives as long as its delivery, so a byte
 * not read by then is copied in as before.
 */
import { copyBytes } from '../util/bytes.js';

const EMPTY = new Uint8Array(0);
/** First allocation: small enough for V8 to keep it on the JS heap (no external backing store). */
const MIN_CAPACITY = 64;
/** The most a push may take past `max`: one TSO packet's worth (64 KiB, LINUX GSO_MAX_SIZE). */
const MAX_EXCESS = 65536;
/**
 * Free first-size buffers, shared by all rings: short connections (a request and a response)
 * reuse them instead of allocating two per connection. A buffer is only here while no ring
 * holds it (views a ring hands out are used before the ring changes).
 */
const SMALL: Uint8Array[] = [];
const SMALL_KEEP = 4096;

function recycle(buf: Uint8Array): void {
  if (buf.length === MIN_CAPACITY && SMALL.length < SMALL_KEEP) SMALL.push(buf);
}

/**
 * The one ring holding bytes by reference (at most one: a segment feeds one connection), and
 * those bytes: lentSrc[lentOff, lentOff+lentLen), logically after the ring's own bytes.
 */
let lentRing: ByteRing | null = null;
let lentSrc: Uint8Array = EMPTY;
let lentOff = 0;
let lentLen = 0;
let lendDepth = 0;

/** Forget the loan (its bytes were copied in, read, or cleared). */
function dropLoan(): void {
  lentRing = null;
  lentSrc = EMPTY;
  lentLen = 0;
}

/** Open a lending scope: until `endLend`, `pushRef` may keep references to its source bytes. */
export function beginLend(): void {
  lendDepth++;
}

/** Close a lending scope: bytes still held by reference are copied into their ring. */
export function endLend(): void {
  if (lendDepth > 0) lendDepth--;
  // Settled at every end, nested ones included: a nested scope's source lives no longer than it.
  if (lentRing !== null) ByteRing.settleLent();
}

export class ByteRing {
  private buf: Uint8Array = EMPTY;
  private head = 0;
  private len = 0;

  constructor(public max: number) {}

  /** Bytes held, lent ones included. */
  get length(): number {
    return this.len;
  }

  /** Bytes in the ring's own buffer (all but the lent ones). */
  private get own(): number {
    return lentRing === this ? this.len - lentLen : this.len;
  }

  /** Copy the lent bytes into their ring and end the loan (endLend, or an operation that needs them in order). */
  static settleLent(): void {
    const r = lentRing;
    if (r === null) return;
    const src = lentSrc;
    const off = lentOff;
    const n = lentLen;
    dropLoan();
    r.len -= n;
    r.push(src, off, n, n);
  }

  /**
   * `push`, or, inside a lending scope when the ring is empty, hold src[off, off+n) by reference
   * until the scope ends (see the file comment). Returns how many bytes were taken.
   */
  pushRef(src: Uint8Array, off: number, len: number, room: number): number {
    const n = Math.min(len, room);
    if (n <= 0) return 0;
    if (lendDepth === 0 || this.len !== 0) return this.push(src, off, len, room);
    if (lentRing !== null) ByteRing.settleLent();
    lentRing = this;
    lentSrc = src;
    lentOff = off;
    lentLen = n;
    this.len = n;
    return n;
  }

  /** Bytes that can still be pushed. */
  get free(): number {
    return Math.max(0, this.max - this.len);
  }

  /** Bytes of buffer held (0 when released). */
  get capacity(): number {
    return this.buf.length;
  }

  private grow(need: number): void {
    let cap = Math.max(this.buf.length, MIN_CAPACITY);
    while (cap < need) cap *= 2;
    // Past the limit (a send queue may pass its buffer by one size goal, send-queue.ts; a receive
    // window may reach past the buffer) leave room for the largest such excess at once: grown to
    // exactly `need`, every later push a few bytes further copied the whole ring again.
    cap = need > this.max ? Math.max(need, this.max + MAX_EXCESS) : Math.min(cap, this.max);
    const next = cap === MIN_CAPACITY ? SMALL.pop() ?? new Uint8Array(MIN_CAPACITY) : new Uint8Array(cap);
    this.copyOwn(next, 0, 0, this.own);
    recycle(this.buf);
    this.buf = next;
    this.head = 0;
  }

  /**
   * Append up to `room` bytes (default: `free`) of src[off, off+len); returns how many were taken.
   * (The receiver passes a larger room when the window it offered reaches past the buffer.)
   */
  push(src: Uint8Array, off = 0, len = src.length - off, room = this.free): number {
    const n = Math.min(len, room);
    if (n <= 0) return 0;
    if (lentRing === this) ByteRing.settleLent(); // the lent bytes come first
    if (this.len + n > this.buf.length) this.grow(this.len + n);
    const cap = this.buf.length;
    let tail = (this.head + this.len) % cap;
    const first = Math.min(n, cap - tail);
    copyBytes(this.buf, tail, src, off, first);
    if (first < n) copyBytes(this.buf, 0, src, off + first, n - first);
    tail = (tail + n) % cap;
    this.len += n;
    return n;
  }

  /** Drop n bytes from the front. */
  consume(n: number): void {
    n = Math.min(n, this.len);
    if (n <= 0) return;
    if (lentRing === this && n > this.len - lentLen) {
      // All the own bytes and the front of the lent ones.
      const fromLent = n - (this.len - lentLen);
      this.len -= n;
      this.head = 0;
      lentOff += fromLent;
      lentLen -= fromLent;
      if (lentLen === 0) dropLoan();
      return;
    }
    this.len -= n;
    this.head = this.len === 0 ? 0 : (this.head + n) % this.buf.length;
  }

  /** Copy bytes [from, from+n) of the ring into dst at dstOff. */
  copyOut(dst: Uint8Array, dstOff: number, from: number, n: number): void {
    if (n <= 0) return;
    const own = this.own;
    if (from + n > own) {
      // Lent bytes: straight from their source.
      const a = Math.max(0, own - from);
      if (a > 0) this.copyOwn(dst, dstOff, from, a);
      copyBytes(dst, dstOff + a, lentSrc, lentOff + from + a - own, n - a);
      return;
    }
    this.copyOwn(dst, dstOff, from, n);
  }

  private copyOwn(dst: Uint8Array, dstOff: number, from: number, n: number): void {
    if (n <= 0) return;
    const cap = this.buf.length;
    const start = (this.head + from) % cap;
    const first = Math.min(n, cap - start);
    copyBytes(dst, dstOff, this.buf, start, first);
    if (first < n) copyBytes(dst, dstOff + first, this.buf, 0, n - first);
  }

  /** Free the buffer if the ring is empty (an idle connection keeps nothing); true when none is held. */
  release(): boolean {
    if (this.len === 0) {
      recycle(this.buf);
      this.buf = EMPTY;
      this.head = 0;
    }
    return this.buf.length === 0;
  }

  clear(): void {
    if (lentRing === this) dropLoan();
    this.len = 0;
    this.head = 0;
    recycle(this.buf);
    this.buf = EMPTY;
  }
}
