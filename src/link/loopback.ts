/**
 * The loopback link (LINUX drivers/net/loopback.c): what a host sends to itself. A frame sent
 * is queued and handed back to the host's own input later, from its timer (`poll`), never from
 * inside `send`: Linux's loopback_xmit likewise defers delivery to the receive softirq
 * (netif_rx), so a connection never sees its own packet while it is still sending.
 *
 * Bounded: LINUX net.core.netdev_max_backlog (1000) frames; beyond that frames are dropped and
 * counted in `dropped`, as netif_rx drops when the backlog is full.
 */
import type { Link } from './link.js';

/** LINUX loopback MTU (64 KiB since 3.13, "loopback: set default mtu to 64K"). */
export const LOOPBACK_MTU = 65536;
/** LINUX net.core.netdev_max_backlog. */
export const LOOPBACK_BACKLOG = 1000;

export class LoopbackLink implements Link {
  readonly mtu: number;
  readonly checksumOffload = false;
  /** Frames dropped because the backlog was full. */
  dropped = 0;
  private queue: Uint8Array[] = [];
  private readonly receivers: ((frame: Uint8Array) => void)[] = [];

  constructor(mtu = LOOPBACK_MTU) {
    if (!Number.isInteger(mtu) || mtu < 68) throw new RangeError(`mtu must be an integer >= 68, got ${mtu}`);
    this.mtu = mtu;
  }

  /** Frames waiting to be delivered. */
  get pending(): number {
    return this.queue.length;
  }

  send(frame: Uint8Array): void {
    if (this.queue.length >= LOOPBACK_BACKLOG) {
      this.dropped++;
      return;
    }
    this.queue.push(frame);
  }

  onReceive(cb: (frame: Uint8Array) => void): void {
    this.receivers.push(cb);
  }

  /**
   * Deliver what is queued, including frames the deliveries themselves send, up to `max`
   * frames. Returns how many were delivered.
   */
  poll(max = 100_000): number {
    let n = 0;
    while (this.queue.length > 0 && n < max) {
      const batch = this.queue;
      this.queue = [];
      let i = 0;
      for (; i < batch.length && n < max; i++, n++) for (const r of this.receivers) r(batch[i]!);
      if (i < batch.length) this.queue = batch.slice(i).concat(this.queue);
    }
    return n;
  }
}
