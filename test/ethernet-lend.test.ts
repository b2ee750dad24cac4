/**
 * An Ethernet interface over a frame link that lends one reused transmit buffer (a TAP device,
 * src/link/tun.ts): the stack's packets are written 14 bytes into that buffer and framed in place
 * (no allocation per frame, DESIGN.md principle 5), and what the neighbour table queues while it
 * resolves is a copy, so the buffer's next use cannot change a queued packet. Virtual time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addEthernetHost, SimSwitch, simTimers } from '../src/driver/sim-ethernet.js';
import { SimWorld } from '../src/driver/world.js';
import { EthernetInterface } from '../src/link/ethernet.js';
import type { Link } from '../src/link/link.js';
import { Stack } from '../src/stack/stack.js';
import { writeAll } from './helpers.js';

/** A link over `port` that lends one buffer and, like a TAP write, copies each frame before send returns. */
function lendingLink(port: Link): Link & { inPlace: number; copied: number; copiedIp: number; lends: number } {
  const buf = new Uint8Array(port.mtu + 14);
  const l = {
    inPlace: 0,
    copied: 0,
    /** IPv4 frames sent from a buffer of their own. */
    copiedIp: 0,
    lends: 0,
    mtu: port.mtu,
    allocFrame(len: number): Uint8Array {
      l.lends++;
      return buf.subarray(0, len);
    },
    send(frame: Uint8Array): void {
      if (frame.buffer === buf.buffer) l.inPlace++;
      else {
        l.copied++;
        if (frame[12] === 0x08 && frame[13] === 0x00) l.copiedIp++;
      }
      port.send(frame.slice());
    },
    onReceive: (cb: (f: Uint8Array) => void) => port.onReceive(cb),
  };
  return l;
}

test('Ethernet over a lending link: packets are framed in the lent buffer; packets queued during ARP are copies', () => {
  const w = new SimWorld({ seed: 9 });
  const sw = new SimSwitch(w.sim, { port: { delay: 100 } });
  const lend = lendingLink(sw.attach('a'));
  const eth = new EthernetInterface(lend, { mac: '02:00:00:00:00:0a', addresses: ['10.0.0.1/24'], timers: simTimers(w.sim), rng: w.sim.rng.fork() });
  const a = new Stack({ name: 'a', addresses: ['10.0.0.1/24'], clock: () => w.sim.now, seed: 1 });
  a.attach(eth.link);
  w.sim.addTimerClient(a);
  const b = addEthernetHost(w, sw, 'b', { mac: '02:00:00:00:00:0b', addresses: ['10.0.0.2/24'] }).stack;

  const lens: number[] = [];
  const l = b.listen({ port: 80 });
  l.onConnection = () => {
    const s = l.accept()!;
    let got = 0;
    s.onData = () => {
      for (let d = s.read(); d !== null; d = s.read()) {
        for (let i = 0; i < d.length; i++) assert.equal(d[i], (got + i) & 0xff, `byte ${got + i} of ${s.remotePort}`);
        got += d.length;
      }
    };
    s.onEnd = () => {
      lens.push(got);
      s.close();
    };
  };
  // Two connections opened before b's MAC is known: both SYNs wait in the ARP queue, the second
  // written into the same lent buffer as the first.
  const data = new Uint8Array(200_000).map((_, i) => i & 0xff);
  const established: number[] = [];
  for (let k = 0; k < 2; k++) {
    const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
    const pump = writeAll(c, data, () => c.shutdown());
    c.onConnect = () => {
      established.push(w.sim.now);
      pump();
    };
  }
  assert.equal(eth.neighbors().find((n) => n.address === '10.0.0.2')?.queued, 2, 'both SYNs queued while resolving');
  w.run(5_000_000);
  // Queued as copies: both connections establish on the first SYN (no 1 s retransmission).
  assert.equal(established.length, 2);
  for (const t of established) assert.ok(t < 100_000, `established at ${t} µs`);
  assert.deepEqual(lens, [data.length, data.length]);
  // Everything the stack sent after resolution went out in the lent buffer itself.
  assert.ok(lend.inPlace > 100, `${lend.inPlace} frames framed in place`);
  assert.ok(lend.lends >= lend.inPlace);
  // What was not: ARP (built by the interface) and the two SYNs released from the queue.
  assert.equal(lend.copiedIp, 2, `${lend.copiedIp} IPv4 frames not in the lent buffer`);
  assert.ok(lend.copied > lend.copiedIp, 'ARP frames are the interface\'s own');
});
