/**
 * Fuzz properties of the Ethernet adapter: random frames, and random mutations of valid ARP,
 * neighbour solicitation/advertisement and IP frames, never make it throw, and no frame vanishes
 * uncounted: each one is delivered to IP, consumed as a valid ARP packet, or counted under a drop
 * reason. The neighbour table stays bounded throughout. fast-check prints the seed and the shrunk
 * counterexample on failure; replay with `{ seed, path }` in fc.assert's options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Simulator } from '../driver/sim.js';
import { simTimers } from '../driver/sim-ethernet.js';
import { Rng } from '../rng.js';
import { parseAddr } from '../wire/addr.js';
import { ArpOp, emitArp } from '../wire/arp.js';
import { emitEthernetHeader, EtherType, ipv6MulticastMac, solicitedNodeAddr } from '../wire/ethernet.js';
import { emitIpv4Header, emitIpv6Header } from '../wire/ip.js';
import { emitNdp, NaFlag, ndpPacketLength, NdpType } from '../wire/ndp.js';
import { ETH_DROP_REASONS, EthernetInterface } from './ethernet.js';
import type { Link } from './link.js';

const OUR_MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);
const BCAST = new Uint8Array(6).fill(0xff);
const A4 = parseAddr('10.0.0.1')!;
const P4 = parseAddr('10.0.0.2')!;
const A6 = parseAddr('fd00::1')!;
const P6 = parseAddr('fd00::2')!;

function arpFrame(op: number, dst: Uint8Array, tpa: Uint8Array): Uint8Array {
  const f = new Uint8Array(42);
  emitEthernetHeader(f, dst, PEER_MAC, EtherType.ARP);
  emitArp(f, 14, op, PEER_MAC, P4, op === ArpOp.REPLY ? OUR_MAC : new Uint8Array(6), tpa);
  return f;
}

function ndpFrame(type: 135 | 136, dstIp: Uint8Array, dstMac: Uint8Array, target: Uint8Array, flags: number): Uint8Array {
  const f = new Uint8Array(14 + ndpPacketLength(true));
  emitEthernetHeader(f, dstMac, PEER_MAC, EtherType.IPV6);
  emitNdp(f.subarray(14), 0, type, P6, dstIp, target, flags, PEER_MAC);
  return f;
}

function ipFrame(v6: boolean): Uint8Array {
  const f = new Uint8Array(14 + (v6 ? 40 : 20) + 8);
  emitEthernetHeader(f, OUR_MAC, PEER_MAC, v6 ? EtherType.IPV6 : EtherType.IPV4);
  if (v6) emitIpv6Header(f.subarray(14), 0, P6, A6, 17, 8, 64);
  else emitIpv4Header(f.subarray(14), 0, P4, A4, 17, 8, 64, 1, true);
  return f;
}

const VALID = [
  arpFrame(ArpOp.REQUEST, BCAST, A4),
  arpFrame(ArpOp.REQUEST, BCAST, P4),
  arpFrame(ArpOp.REPLY, OUR_MAC, P4),
  ndpFrame(NdpType.NEIGHBOR_SOLICIT, solicitedNodeAddr(A6), ipv6MulticastMac(solicitedNodeAddr(A6)), A6, 0),
  ndpFrame(NdpType.NEIGHBOR_ADVERT, A6, OUR_MAC, P6, NaFlag.SOLICITED | NaFlag.OVERRIDE),
  ipFrame(false),
  ipFrame(true),
];

function harness(): { eth: EthernetInterface; inject: (f: Uint8Array) => void; delivered: () => number; sim: Simulator } {
  const sim = new Simulator({ seed: 1 });
  let rx: (f: Uint8Array) => void = () => {};
  const frames: Link = { mtu: 1500, send: () => {}, onReceive: (cb) => (rx = cb) };
  const eth = new EthernetInterface(frames, { mac: OUR_MAC, addresses: ['10.0.0.1/24', 'fd00::1/64'], timers: simTimers(sim), rng: new Rng(1), neigh: { maxEntries: 16 } });
  let n = 0;
  eth.link.onReceive(() => n++);
  return { eth, inject: (f) => rx(f), delivered: () => n, sim };
}

function accounted(eth: EthernetInterface, delivered: number): number {
  const drops = ETH_DROP_REASONS.reduce((s, r) => s + eth.drops[r], 0);
  return drops + delivered + eth.counters.rxArpRequests + eth.counters.rxArpReplies;
}

function exercise(frames: Uint8Array[]): void {
  const h = harness();
  for (const f of frames) {
    const before = accounted(h.eth, h.delivered());
    h.inject(f);
    assert.ok(accounted(h.eth, h.delivered()) > before, `a ${f.length}-byte frame left no trace`);
    h.sim.run({ until: h.sim.now + 500_000 });
    assert.ok(h.eth.neighbors().length <= 16);
  }
  assert.equal(h.eth.counters.rxFrames, frames.length);
}

test('random frames never make the Ethernet adapter throw, and every frame is delivered, consumed or counted', () => {
  const type = fc.constantFrom(0x0800, 0x0806, 0x86dd, 0x8100, 0x1234);
  const mac = fc.oneof(fc.constant(OUR_MAC), fc.constant(BCAST), fc.uint8Array({ minLength: 6, maxLength: 6 }));
  const frame = fc.tuple(mac, type, fc.uint8Array({ maxLength: 100 }), fc.boolean()).map(([d, t, body, runt]) => {
    if (runt) return body.subarray(0, 13);
    const f = new Uint8Array(14 + body.length);
    emitEthernetHeader(f, d, PEER_MAC, t);
    f.set(body, 14);
    return f;
  });
  fc.assert(fc.property(fc.array(frame, { maxLength: 20 }), exercise), { numRuns: 400 });
});

test('mutations of valid ARP, NS, NA and IP frames never throw and are all accounted for', () => {
  const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  const one = fc.tuple(fc.constantFrom(...VALID), fc.array(mutation, { maxLength: 4 }), fc.nat(), fc.boolean()).map(([b, muts, cut, truncate]) => {
    const f = b.slice();
    // Mutate past the Ethernet header mostly, so the frames reach the ARP/NDP parsers.
    for (const m of muts) f[14 + (m.at % (f.length - 14))] = m.value;
    return truncate ? f.subarray(0, cut % (f.length + 1)) : f;
  });
  fc.assert(fc.property(fc.array(one, { minLength: 1, maxLength: 20 }), exercise), { numRuns: 600 });
});

test('unmutated valid frames are handled as such (the fuzz corpus is meaningful)', () => {
  const h = harness();
  for (const f of VALID) h.inject(f);
  assert.equal(ETH_DROP_REASONS.reduce((s, r) => s + h.eth.drops[r], 0), 0, JSON.stringify(h.eth.drops));
  assert.equal(h.eth.counters.rxArpRequests, 2);
  assert.equal(h.eth.counters.rxArpReplies, 1);
  assert.equal(h.eth.counters.rxNeighborSolicits, 1);
  assert.equal(h.eth.counters.rxNeighborAdverts, 1);
  assert.equal(h.eth.counters.txArpReplies, 1, 'the request for our address was answered');
  assert.equal(h.eth.counters.txNeighborAdverts >= 1, true);
  assert.equal(h.delivered(), 4, 'NS, NA and the two IP frames go up to IP');
});
