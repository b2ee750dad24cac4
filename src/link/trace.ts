/**
 * Trace wrapper (smoltcp `phy::Tracer`): calls `cb` with every frame in both directions, then
 * passes it on untouched. The callback may read the frame only during the call.
 */
import type { Link } from './link.js';

/** Wrap a link so `cb` sees every frame in and out. */
export function traceLink(link: Link, cb: (dir: 'in' | 'out', frame: Uint8Array) => void): Link {
  const receivers: ((frame: Uint8Array) => void)[] = [];
  // One inner registration, so frames are traced once however many receivers are added.
  link.onReceive((frame) => {
    cb('in', frame);
    for (const r of receivers) r(frame);
  });
  return {
    mtu: link.mtu,
    checksumOffload: link.checksumOffload,
    gsoMaxSize: link.gsoMaxSize,
    send(frame: Uint8Array, nextHop?: string): void {
      cb('out', frame);
      link.send(frame, nextHop);
    },
    onReceive(r: (frame: Uint8Array) => void): void {
      receivers.push(r);
    },
  };
}
