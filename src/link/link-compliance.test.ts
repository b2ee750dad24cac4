/**
 * ONE compliance suite for every Link (DESIGN.md principle 13): a factory builds a connected
 * pair plus a way to let time pass; the suite checks frames arrive intact, in order, in both
 * directions, and that the mtu is reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Link } from './link.js';
import { memoryPair } from './memory.js';
import { pcapLink, PcapWriter } from './pcap.js';
import { traceLink } from './trace.js';
import { faultLink } from './fault.js';
import { Simulator } from '../driver/sim.js';
import { SimNetwork } from '../driver/sim-network.js';
import { SimSwitch, simTimers } from '../driver/sim-ethernet.js';
import { EthernetInterface } from './ethernet.js';
import { Rng } from '../rng.js';
import type { Duration } from '../time.js';

interface Pair {
  a: Link;
  b: Link;
  /** Let every queued frame be delivered. */
  flush(): void;
  /** The mtu both ends must report. */
  mtu: number;
}

const A = [10, 0, 0, 1];
const B = [10, 0, 0, 2];

/** An IPv4-shaped frame (so routed links can route it) with a recognisable payload. */
function frame(dst: number[], len: number, tag: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 20; i < len; i++) f[i] = (tag * 31 + i) & 0xff;
  f[0] = 0x45;
  f[2] = len >> 8;
  f[3] = len & 0xff;
  f.set(dst, 16);
  if (len > 21) {
    f[20] = tag & 0xff;
    f[21] = tag >> 8;
  }
  return f;
}

function linkCompliance(name: string, make: () => Pair): void {
  test(`${name}: reports the mtu`, () => {
    const p = make();
    assert.equal(p.a.mtu, p.mtu);
    assert.equal(p.b.mtu, p.mtu);
  });

  test(`${name}: frames arrive intact and in order, both directions`, () => {
    const p = make();
    const atB: Uint8Array[] = [];
    const atA: Uint8Array[] = [];
    p.b.onReceive((f) => atB.push(f.slice()));
    p.a.onReceive((f) => atA.push(f.slice()));
    const sentAB: Uint8Array[] = [];
    const sentBA: Uint8Array[] = [];
    const lens = [20, 21, 40, 576, 1280, p.mtu];
    for (let i = 0; i < 100; i++) {
      const f1 = frame(B, lens[i % lens.length]!, i);
      const f2 = frame(A, lens[(i + 3) % lens.length]!, 1000 + i);
      sentAB.push(f1.slice());
      sentBA.push(f2.slice());
      p.a.send(f1);
      p.b.send(f2);
    }
    p.flush();
    assert.equal(atB.length, 100);
    assert.equal(atA.length, 100);
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(atB[i], sentAB[i], `a→b frame ${i}`);
      assert.deepEqual(atA[i], sentBA[i], `b→a frame ${i}`);
    }
  });

  test(`${name}: frames sent from a receive callback are delivered (echo)`, () => {
    const p = make();
    const echoed: Uint8Array[] = [];
    p.b.onReceive((f) => {
      const reply = f.slice();
      reply.set(A, 16);
      p.b.send(reply);
    });
    p.a.onReceive((f) => echoed.push(f.slice()));
    for (let i = 0; i < 10; i++) p.a.send(frame(B, 64, i));
    p.flush();
    assert.equal(echoed.length, 10);
    assert.deepEqual(
      echoed.map((f) => f[20]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  test(`${name}: every receiver registered sees every frame`, () => {
    const p = make();
    let n1 = 0;
    let n2 = 0;
    p.b.onReceive(() => n1++);
    p.b.onReceive(() => n2++);
    for (let i = 0; i < 5; i++) p.a.send(frame(B, 40, i));
    p.flush();
    assert.equal(n1, 5);
    assert.equal(n2, 5);
  });
}

// --- the links -----------------------------------------------------------------------------

linkCompliance('memoryPair', () => {
  const m = memoryPair({ mtu: 1500 });
  return { a: m.a, b: m.b, flush: () => void m.pump(), mtu: 1500 };
});

linkCompliance('memoryPair (mtu 9000, offload)', () => {
  const m = memoryPair({ mtu: 9000, checksumOffload: true });
  assert.equal(m.a.checksumOffload, true);
  return { a: m.a, b: m.b, flush: () => void m.pump(), mtu: 9000 };
});

linkCompliance('SimNetwork pair', () => {
  const sim = new Simulator({ seed: 3 });
  const net = new SimNetwork(sim, { delay: 1000, bandwidthBps: 100_000_000 });
  const a = net.attach('a', ['10.0.0.1']);
  const b = net.attach('b', ['10.0.0.2']);
  return { a, b, flush: () => sim.run(), mtu: 1500 };
});

linkCompliance('EthernetInterface pair on a SimSwitch (ARP-resolved)', () => {
  const sim = new Simulator({ seed: 3 });
  const sw = new SimSwitch(sim, { port: { delay: 100 } });
  const timers = simTimers(sim);
  const a = new EthernetInterface(sw.attach('a'), { mac: '02:00:00:00:00:01', addresses: ['10.0.0.1/24'], linkLocal: false, timers, rng: new Rng(1) });
  const b = new EthernetInterface(sw.attach('b'), { mac: '02:00:00:00:00:02', addresses: ['10.0.0.2/24'], linkLocal: false, timers, rng: new Rng(2) });
  return { a: a.link, b: b.link, flush: () => sim.run(), mtu: 1500 };
});

linkCompliance('pcapLink(memoryPair)', () => {
  const m = memoryPair();
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c));
  let t = 0;
  const clock = () => t++;
  return { a: pcapLink(m.a, w, clock), b: pcapLink(m.b, w, clock), flush: () => void m.pump(), mtu: 1500 };
});

linkCompliance('traceLink(memoryPair)', () => {
  const m = memoryPair();
  const seen: string[] = [];
  return {
    a: traceLink(m.a, (d) => seen.push(`a ${d}`)),
    b: traceLink(m.b, (d) => seen.push(`b ${d}`)),
    flush: () => void m.pump(),
    mtu: 1500,
  };
});

linkCompliance('faultLink(memoryPair) with zero impairment', () => {
  const m = memoryPair();
  const rng = new Rng(1);
  const never = (_d: Duration, _fn: () => void): void => assert.fail('zero impairment must not schedule');
  return { a: faultLink(m.a, rng, {}, never), b: faultLink(m.b, rng, { loss: 0 }, never), flush: () => void m.pump(), mtu: 1500 };
});

linkCompliance('faultLink(SimNetwork pair) with a fixed delay', () => {
  const sim = new Simulator({ seed: 5 });
  const net = new SimNetwork(sim);
  const rng = sim.rng.fork();
  const schedule = (d: Duration, fn: () => void): void => void sim.after(d, fn);
  const a = faultLink(net.attach('a', ['10.0.0.1']), rng, { delay: 2000 }, schedule);
  const b = faultLink(net.attach('b', ['10.0.0.2']), rng, { delay: 2000 }, schedule);
  return { a, b, flush: () => sim.run(), mtu: 1500 };
});

// --- link-specific behaviour outside the common contract ----------------------------------

test('memoryPair: pump returns the count, rejects oversize frames, grows past its ring', () => {
  const m = memoryPair({ mtu: 100 });
  assert.throws(() => m.a.send(new Uint8Array(101)), RangeError);
  let got = 0;
  m.b.onReceive(() => got++);
  for (let i = 0; i < 1000; i++) m.a.send(new Uint8Array(10));
  assert.equal(m.pump(), 1000);
  assert.equal(got, 1000);
  assert.equal(m.pump(), 0);
});

test('memoryPair: pump(limit) stops an endless ping-pong', () => {
  const m = memoryPair();
  m.a.onReceive((f) => m.a.send(f));
  m.b.onReceive((f) => m.b.send(f));
  m.a.send(new Uint8Array(1));
  assert.equal(m.pump(50), 50);
});

test('traceLink reports both directions in order', () => {
  const m = memoryPair();
  const log: string[] = [];
  const a = traceLink(m.a, (d, f) => log.push(`a ${d} ${f[0]}`));
  const b = traceLink(m.b, (d, f) => log.push(`b ${d} ${f[0]}`));
  b.onReceive((f) => b.send(Uint8Array.of(f[0]! + 1)));
  a.send(Uint8Array.of(1));
  m.pump();
  assert.deepEqual(log, ['a out 1', 'b in 1', 'b out 2', 'a in 2']);
});

test('faultLink: loss 1 drops everything, duplicate 1 doubles, corrupt flips one bit, both directions', () => {
  const queue: (() => void)[] = [];
  const schedule = (_d: Duration, fn: () => void): void => void queue.push(fn);
  const run = (): void => {
    while (queue.length) queue.shift()!();
  };
  const lossy = memoryPair();
  let got = 0;
  lossy.b.onReceive(() => got++);
  const la = faultLink(lossy.a, new Rng(1), { loss: 1 }, schedule);
  for (let i = 0; i < 10; i++) la.send(new Uint8Array(20));
  lossy.pump();
  assert.equal(got, 0);

  const dupe = memoryPair();
  const db = faultLink(dupe.b, new Rng(1), { duplicate: 1 }, schedule);
  let gotIn = 0;
  db.onReceive(() => gotIn++);
  dupe.a.send(new Uint8Array(20)); // impaired on b's receive side
  dupe.pump();
  run();
  assert.equal(gotIn, 2);

  const bad = memoryPair();
  const ca = faultLink(bad.a, new Rng(9), { corrupt: 1 }, schedule);
  const recv: Uint8Array[] = [];
  bad.b.onReceive((f) => recv.push(f.slice()));
  const sent = new Uint8Array(64).fill(0x5a);
  ca.send(sent);
  bad.pump();
  assert.equal(recv.length, 1);
  let bits = 0;
  for (let i = 0; i < 64; i++) {
    let x = recv[0]![i]! ^ 0x5a;
    while (x) {
      bits += x & 1;
      x >>= 1;
    }
  }
  assert.equal(bits, 1);
  assert.ok(sent.every((v) => v === 0x5a), 'the caller frame is not modified');
});

test('faultLink validates its configuration', () => {
  const m = memoryPair();
  assert.throws(() => faultLink(m.a, new Rng(1), { loss: 2 }, () => {}), /loss/);
  assert.throws(() => faultLink(m.a, new Rng(1), { delay: -5 }, () => {}), /delay/);
});
