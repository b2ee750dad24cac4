/**
 * An EthernetInterface over a frame link that lends its one transmit buffer (a TAP's
 * allocFrame): the stack's packets are framed in that buffer (the frame the link gets is the
 * buffer it lent: no allocation per packet), and a packet the neighbour table holds while ARP
 * resolves is a copy, intact after later packets reuse the buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from '../driver/sim.js';
import { simTimers } from '../driver/sim-ethernet.js';
import { Rng } from '../rng.js';
import { parseAddr } from '../wire/addr.js';
import { ArpOp, emitArp } from '../wire/arp.js';
import { emitEthernetHeader, EtherType } from '../wire/ethernet.js';
import { emitIpv4Header } from '../wire/ip.js';
import { EthernetInterface } from './ethernet.js';
import type { Link } from './link.js';

const OUR_MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);
const A4 = parseAddr('10.0.0.1')!;
const P4 = parseAddr('10.0.0.2')!;

/** An IPv4 UDP packet of `n` payload bytes, all `fill`, written into `into`. */
function udpInto(into: Uint8Array, n: number, fill: number): Uint8Array {
  emitIpv4Header(into, 0, A4, P4, 17, 8 + n, 64, 1, true);
  into.fill(fill, 20, 28 + n);
  return into;
}

test('over a link with allocFrame: packets are framed in the link\'s buffer; one queued while ARP resolves is kept intact', () => {
  const sim = new Simulator({ seed: 1 });
  const buf = new Uint8Array(1514);
  const sent: { frame: Uint8Array; copy: Uint8Array }[] = [];
  let rx: (f: Uint8Array) => void = () => {};
  const frames: Link = {
    mtu: 1500,
    allocFrame: (len) => buf.subarray(0, len),
    send: (f) => sent.push({ frame: f, copy: f.slice() }),
    onReceive: (cb) => (rx = cb),
  };
  const eth = new EthernetInterface(frames, { mac: OUR_MAC, addresses: ['10.0.0.1/24'], linkLocal: false, timers: simTimers(sim), rng: new Rng(1) });
  const before = sent.length; // the gratuitous ARP

  // 10.0.0.2 is not resolved yet: the first packet waits for ARP in the neighbour table.
  const p1 = udpInto(eth.link.allocFrame!(20 + 8 + 100), 100, 0x11);
  assert.equal(p1.buffer, buf.buffer, 'the packet is written into the link\'s buffer');
  eth.link.send(p1, '10.0.0.2');
  const arp = sent.length;
  // The next packet takes the same buffer and overwrites it; it is queued behind the first.
  eth.link.send(udpInto(eth.link.allocFrame!(20 + 8 + 50), 50, 0x22), '10.0.0.2');
  assert.equal(sent.length, arp, 'nothing but the ARP request left before the reply');

  const reply = new Uint8Array(42);
  emitEthernetHeader(reply, OUR_MAC, PEER_MAC, EtherType.ARP);
  emitArp(reply, 14, ArpOp.REPLY, PEER_MAC, P4, OUR_MAC, A4);
  rx(reply);
  const released = sent.slice(arp);
  assert.equal(released.length, 2);
  assert.equal(released[0]!.copy.length, 14 + 128);
  assert.ok(released[0]!.copy.subarray(14 + 28).every((b) => b === 0x11), 'the first packet is intact');
  assert.ok(released[1]!.copy.subarray(14 + 28).every((b) => b === 0x22), 'the second packet is intact');

  // Resolved: a packet goes out in the very buffer the link lent, framed in place.
  const p3 = udpInto(eth.link.allocFrame!(20 + 8 + 200), 200, 0x33);
  eth.link.send(p3, '10.0.0.2');
  const last = sent[sent.length - 1]!;
  assert.equal(last.frame.buffer, buf.buffer, 'the frame is the link\'s own buffer');
  assert.equal(last.frame.byteOffset, 0);
  assert.deepEqual([...last.copy.subarray(0, 6)], [...PEER_MAC]);
  assert.ok(last.copy.subarray(14 + 28).every((b) => b === 0x33));
  assert.ok(sent.length > before);
});
