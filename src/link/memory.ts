/**
 * An in-process wire with no time (smoltcp's `Loopback`/quinn's `Pair`): `send` queues a frame,
 * `pump()` delivers queued frames in order until both directions are empty. Used by benchmarks
 * and unit tests; scenarios that need time use src/driver/sim-network.ts.
 *
 * Allocation-free per frame: each direction is a ring buffer of references that only grows
 * (doubling) when a burst outruns it. Frames are not copied (Link ownership: `send` hands the
 * frame over; a receiver reads it only during its callback).
 */
import type { Link } from './link.js';

/** A FIFO ring of frame references. */
class Ring {
  private buf: (Uint8Array | undefined)[];
  private head = 0;
  count = 0;

  constructor(capacity: number) {
    this.buf = new Array<Uint8Array | undefined>(capacity).fill(undefined);
  }

  push(f: Uint8Array): void {
    if (this.count === this.buf.length) this.grow();
    this.buf[(this.head + this.count) % this.buf.length] = f;
    this.count++;
  }

  shift(): Uint8Array {
    const f = this.buf[this.head]!;
    this.buf[this.head] = undefined; // drop the reference so the frame can be collected
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return f;
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<Uint8Array | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) % old.length];
    this.buf = next;
    this.head = 0;
  }
}

class MemoryEnd implements Link {
  readonly receivers: ((frame: Uint8Array) => void)[] = [];
  constructor(
    readonly mtu: number,
    readonly checksumOffload: boolean,
    private readonly out: Ring,
  ) {}

  send(frame: Uint8Array): void {
    if (frame.length > this.mtu) {
      throw new RangeError(`frame of ${frame.length} bytes exceeds the link mtu ${this.mtu}`);
    }
    this.out.push(frame);
  }

  onReceive(cb: (frame: Uint8Array) => void): void {
    this.receivers.push(cb);
  }
}

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

export function memoryPair(opts: { mtu?: number; checksumOffload?: boolean } = {}): MemoryPair {
  const mtu = opts.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 1) throw new RangeError(`mtu must be a positive integer, got ${mtu}`);
  const offload = opts.checksumOffload ?? false;
  const ab = new Ring(64);
  const ba = new Ring(64);
  const a = new MemoryEnd(mtu, offload, ab);
  const b = new MemoryEnd(mtu, offload, ba);
  const deliver = (q: Ring, to: MemoryEnd): void => {
    const f = q.shift();
    for (const cb of to.receivers) cb(f);
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
