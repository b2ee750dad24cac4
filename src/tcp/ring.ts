/**
 * A byte ring buffer that grows on demand up to a maximum, so an idle connection holds no
 * buffer memory (a 2 KiB-per-idle-connection budget), and a busy one copies each byte in once
 * and out once.
 *
 * Memory: nothing until the first byte; then a power of two from MIN_CAPACITY, doubled as needed
 * (capped at `max`) and kept while the connection is busy, so a steady transfer allocates
 * nothing per segment. Emptying the ring does not free it: its owner calls `release()` once the
 * connection has been idle for a while (the stack's idle sweep), which frees an empty buffer.
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

export class ByteRing {
  private buf: Uint8Array = EMPTY;
  private head = 0;
  private len = 0;

  constructor(public max: number) {}

  get length(): number {
    return this.len;
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
    this.copyOut(next, 0, 0, this.len);
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
    this.len -= n;
    this.head = this.len === 0 ? 0 : (this.head + n) % this.buf.length;
  }

  /** Copy bytes [from, from+n) of the ring into dst at dstOff. */
  copyOut(dst: Uint8Array, dstOff: number, from: number, n: number): void {
    const cap = this.buf.length;
    if (n <= 0) return;
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
    this.len = 0;
    this.head = 0;
    recycle(this.buf);
    this.buf = EMPTY;
  }
}
