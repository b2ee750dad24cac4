/**
 * An in-process wire with no time (smoltcp's `Loopback`/quinn's `Pair`): `send` queues a frame,
 * `pump()` delivers queued frames in order until both directions are empty. Used by benchmarks
 * and unit tests; scenarios that need time use src/driver/sim-network.ts.
 *
 * Allocation-free per frame: each direction is a ring buffer of references that only grows
 * (doubling) when a burst outruns it. Frames are not copied (Link ownership: `send` hands the
 * frame over; a receiver reads it only during its callback). Frames taken with `allocFrame` come
 * from a pool shared by both ends and go back to it once delivered, so a steady transfer
 * allocates no frame buffers either.
 */
import type { Link } from './link.js';
import { simdSlab } from '../wire/checksum-simd.js';

/**
 * A FIFO ring of frame references, each with a flag: whether the frame pool lent it (and so
 * takes it back once it is delivered). The flag travels beside the frame, not on it: a property
 * on a Uint8Array lives in a separate property array, one more cold cache line per frame.
 */
class Ring {
  private buf: (Uint8Array | undefined)[];
  private lent: Uint8Array;
  private head = 0;
  count = 0;
  /** The flag of the frame `shift()` returned last. */
  lastLent = false;

  constructor(capacity: number) {
    this.buf = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.lent = new Uint8Array(capacity);
  }

  push(f: Uint8Array, lent: boolean): void {
    if (this.count === this.buf.length) this.grow();
    const i = (this.head + this.count) % this.buf.length;
    this.buf[i] = f;
    this.lent[i] = lent ? 1 : 0;
    this.count++;
  }

  shift(): Uint8Array {
    const f = this.buf[this.head]!;
    this.lastLent = this.lent[this.head] === 1;
    this.buf[this.head] = undefined; // drop the reference so the frame can be collected
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return f;
  }

  private grow(): void {
    const old = this.buf;
    const oldLent = this.lent;
    const next = new Array<Uint8Array | undefined>(old.length * 2).fill(undefined);
    const nextLent = new Uint8Array(old.length * 2);
    for (let i = 0; i < this.count; i++) {
      next[i] = old[(this.head + i) % old.length];
      nextLent[i] = oldLent[(this.head + i) % old.length]!;
    }
    this.buf = next;
    this.lent = nextLent;
    this.head = 0;
  }
}

/**
 * Frames lent by `allocFrame`, recycled after delivery: free lists by exact length (a transfer
 * uses few lengths: full segments and ACKs), bounded in total bytes. Only frames this pool lent
 * are taken back, and not one a receiver sent on again during its delivery. A frame counts as
 * lent when it is the one `alloc` returned last and is sent before the next `alloc` (what IP
 * output does); a frame sent twice is lent only the first time, so it cannot enter a free list
 * twice. Others are left to the garbage collector.
 */
class FramePool {
  private readonly free = new Map<number, Uint8Array[]>();
  private pooledBytes = 0;
  /** The frame being delivered, and whether a receiver passed it to `send` again meanwhile. */
  delivering: Uint8Array | null = null;
  resent = false;

  constructor(
    private readonly maxBytes: number,
    /**
     * Carve slabs from the SIMD checksum's arena: only when the link computes checksums, which
     * then run in place. With checksum offload nothing reads the frames in the module, and copies
     * into and out of its memory measured ~9 % slower at MTU 65535 than into ordinary buffers.
     */
    private readonly arena: boolean,
  ) {}

  alloc(len: number): Uint8Array {
    const list = this.free.get(len);
    let f: Uint8Array;
    if (list !== undefined && list.length > 0) {
      f = list.pop()!;
      this.pooledBytes -= len;
    } else f = this.carve(len);
    this.lastLent = f;
    return f;
  }

  /**
   * A new frame, cut from a slab: frames share a few large ArrayBuffers (one allocation per
   * slab, and the checksum's word view of a slab is reused), 8-byte aligned.
   */
  private carve(len: number): Uint8Array {
    if (len > SLAB_BYTES / 4) return new Uint8Array(len);
    if (this.slabOff + len > this.slab.byteLength) {
      // Slabs from the SIMD checksum's arena while it lasts: a frame's checksum then runs in
      // place instead of copying the frame into the module first (src/wire/checksum-simd.ts).
      this.slab = (this.arena ? simdSlab(SLAB_BYTES) : null) ?? new Uint8Array(SLAB_BYTES);
      this.slabOff = 0;
    }
    const f = this.slab.subarray(this.slabOff, this.slabOff + len);
    this.slabOff += (len + 7) & ~7;
    return f;
  }

  private slab: Uint8Array = new Uint8Array(0);
  private slabOff = 0;

  /** The frame `alloc` returned last, until it is sent (see `taken`). */
  private lastLent: Uint8Array | null = null;

  /** `send(f)`: whether `f` is the frame lent last (it is then no longer the last lent). */
  taken(f: Uint8Array): boolean {
    if (f !== this.lastLent) return false;
    this.lastLent = null;
    return true;
  }

  /** A lent frame was delivered: take it back unless a receiver queued it again. */
  delivered(f: Uint8Array): void {
    if (this.resent) return;
    if (this.pooledBytes + f.length > this.maxBytes) return;
    let list = this.free.get(f.length);
    if (list === undefined) {
      list = [];
      this.free.set(f.length, list);
    }
    list.push(f);
    this.pooledBytes += f.length;
  }
}

const SLAB_BYTES = 1 << 20;
/** Bytes of idle frames the pool keeps (more than the largest windows in flight need). */
const POOL_BYTES = 32 << 20;

class MemoryEnd implements Link {
  readonly receivers: ((frame: Uint8Array) => void)[] = [];
  constructor(
    readonly mtu: number,
    readonly checksumOffload: boolean,
    private readonly out: Ring,
    private readonly pool: FramePool,
  ) {}

  send(frame: Uint8Array): void {
    if (frame.length > this.mtu) tooBig(frame, this.mtu);
    if (frame === this.pool.delivering) this.pool.resent = true;
    this.out.push(frame, this.pool.taken(frame));
  }

  allocFrame(len: number): Uint8Array {
    return this.pool.alloc(len);
  }

  onReceive(cb: (frame: Uint8Array) => void): void {
    this.receivers.push(cb);
  }
}

function tooBig(frame: Uint8Array, mtu: number): never {
  throw new RangeError(`frame of ${frame.length} bytes exceeds the link mtu ${mtu}`);
}

/** Two links joined back to back (what `memoryPair` returns). */
export interface MemoryPair {
  a: Link;
  b: Link;
  /**
   * Deliver queued frames, alternating one a→b and one b→a, including frames sent during
   * delivery, until both queues are empty (or `limit` frames were delivered, to stop a
   * ping-pong that never ends). Returns how many frames were delivered.
   */
  pump(limit?: number): number;
}

/** Two in-memory links wired to each other, with no time: frames wait until `pump()` delivers them. */
export function memoryPair(opts: { mtu?: number; checksumOffload?: boolean } = {}): MemoryPair {
  const mtu = opts.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 1) throw new RangeError(`mtu must be a positive integer, got ${mtu}`);
  const offload = opts.checksumOffload ?? false;
  const ab = new Ring(64);
  const ba = new Ring(64);
  const pool = new FramePool(POOL_BYTES, !offload);
  const a = new MemoryEnd(mtu, offload, ab, pool);
  const b = new MemoryEnd(mtu, offload, ba, pool);
  const deliver = (q: Ring, to: MemoryEnd): void => {
    const f = q.shift();
    const lent = q.lastLent;
    pool.delivering = f;
    pool.resent = false;
    try {
      for (const cb of to.receivers) cb(f);
    } finally {
      pool.delivering = null;
      if (lent) pool.delivered(f);
    }
  };
  let pumping = false;
  const pump = (limit = Number.POSITIVE_INFINITY): number => {
    if (pumping) throw new Error('pump() called re-entrantly from a receive callback');
    pumping = true;
    let n = 0;
    try {
      while ((ab.count > 0 || ba.count > 0) && n < limit) {
        if (ab.count > 0) {
          deliver(ab, b);
          n++;
        }
        if (ba.count > 0 && n < limit) {
          deliver(ba, a);
          n++;
        }
      }
    } finally {
      pumping = false;
    }
    return n;
  };
  return { a, b, pump };
}
