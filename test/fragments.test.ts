/**
 * Fragmentation and reassembly on the simulator: ping -s 4000 both ways (IPv4, IPv6), and
 * crafted fragment trains: out of order, duplicated, overlapping, missing, and a flood against
 * the memory cap. Virtual time throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import type { Stack } from '../src/stack/stack.js';
import type { Link } from '../src/link/link.js';
import { ms, sec } from '../src/time.js';
import { emitIpv4Header, emitIpv6Header, isFragment, newIpRepr, parseIpHeader } from '../src/wire/ip.js';
import { parseAddr } from '../src/wire/addr.js';
import { fillIcmpChecksum } from '../src/wire/icmp.js';
import { emitFragmentHeader, REASM_MEM_MAX, REASM_MEM_PER_SOURCE } from '../src/ip/fragments.js';
import { formatPacket } from '../src/wire/format.js';
import { Rng } from '../src/rng.js';

test('ping -s 4000: the request and the reply travel in fragments and arrive whole (IPv4 and IPv6)', async () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.0.1', 'fd00::1']);
  const b = w.addHost('b', ['10.0.0.2', 'fd00::2']);
  const frames: string[] = [];
  w.onFrame((ev) => frames.push(`${ev.from} ${ev.frame.length} ${formatPacket(ev.frame)}`));
  for (const dst of ['10.0.0.2', 'fd00::2']) {
    const p = a.ping(dst, { size: 4000, id: 1, seq: 1 });
    w.run(w.now + sec(1));
    const r = await p;
    assert.equal(r.bytes, 4008);
  }
  assert.ok(frames.every((f) => Number(f.split(' ')[1]) <= 1500), frames.join('\n'));
  assert.equal(a.counters.IpFragOKs, 1);
  assert.equal(a.counters.IpFragCreates, 3);
  assert.equal(b.counters.IpReasmOKs, 1);
  assert.equal(b.counters.IpFragCreates, 3);
  assert.equal(a.counters.IpReasmOKs, 1);
  assert.equal(a.counters.Ip6FragCreates, 3);
  assert.equal(b.counters.Ip6ReasmOKs, 1);
  assert.ok(frames.some((f) => /frag id \d+ offset 1480 flags \[\+\] proto 1/.test(f)), frames.join('\n'));
});

/** An ICMP echo request of `size` data bytes from src to dst, cut into fragments of `step` bytes. */
function echoFragments(src: string, dst: string, size: number, step: number, ident: number): Uint8Array[] {
  const v6 = src.includes(':');
  const s = parseAddr(src)!;
  const d = parseAddr(dst)!;
  const m = new Uint8Array(8 + size);
  m[0] = v6 ? 128 : 8;
  m[5] = 7;
  m[7] = 1;
  for (let i = 0; i < size; i++) m[8 + i] = (i * 13) & 0xff;
  fillIcmpChecksum(m, 0, m.length, s, d);
  const out: Uint8Array[] = [];
  for (let off = 0; off < m.length; off += step) {
    const n = Math.min(step, m.length - off);
    const more = off + n < m.length;
    if (!v6) {
      const f = new Uint8Array(20 + n);
      emitIpv4Header(f, 0, s, d, 1, n, 64, ident, true, (more ? 0x2000 : 0) | (off >> 3));
      f.set(m.subarray(off, off + n), 20);
      out.push(f);
    } else {
      const f = new Uint8Array(48 + n);
      emitIpv6Header(f, 0, s, d, 44, 8 + n, 64);
      emitFragmentHeader(f, 40, 58, off, more, ident);
      f.set(m.subarray(off, off + n), 48);
      out.push(f);
    }
  }
  return out;
}

function withPeer(): { w: SimWorld; a: Stack; peer: Link; got: Uint8Array[] } {
  const w = new SimWorld({ path: { mtu: 9000 } });
  const a = w.addHost('a', ['10.0.0.1', 'fd00::1'], { mtu: 9000 });
  const peer = w.net.attach('p', ['10.0.0.9', 'fd00::9'], { mtu: 9000 });
  const got: Uint8Array[] = [];
  peer.onReceive((f) => got.push(f.slice()));
  return { w, a, peer, got };
}

function replyData(f: Uint8Array): Uint8Array {
  const ip = newIpRepr();
  assert.equal(parseIpHeader(f, ip, true), null);
  assert.equal(isFragment(ip), false);
  return f.subarray(ip.headerLength + 8, ip.headerLength + ip.payloadLength);
}

test('reassembly: out of order and duplicated fragments make one datagram; the reply carries every byte', () => {
  for (const [src, dst] of [['10.0.0.9', '10.0.0.1'], ['fd00::9', 'fd00::1']] as const) {
    const { w, a, peer, got } = withPeer();
    const frags = echoFragments(src, dst, 3000, 512, 77);
    const rng = new Rng(5);
    const order = frags.map((f, i) => ({ f, k: rng.u32() + i })).sort((x, y) => x.k - y.k).map((x) => x.f);
    order.splice(2, 0, order[1]!.slice()); // a duplicate in the middle
    for (const f of order) peer.send(f);
    w.run(w.now + ms(10));
    assert.equal(got.length, 1, src);
    const data = replyData(got[0]!);
    assert.equal(data.length, 3000);
    assert.ok(data.every((x, i) => x === ((i * 13) & 0xff)));
    const v = src.includes(':') ? 'Ip6' : 'Ip';
    assert.equal(a.counters[`${v}ReasmOKs`], 1);
    assert.equal(a.counters[`${v}ReasmReqds`], frags.length + 1);
    assert.equal(a.counters['Drop.reasm-duplicate'], 1);
    assert.equal(a.ip.reasm.memory, 0);
  }
});

test('reassembly: an overlapping fragment discards the datagram (RFC 5722; LINUX IPFRAG_OVERLAP)', () => {
  const { w, a, peer, got } = withPeer();
  const frags = echoFragments('10.0.0.9', '10.0.0.1', 3000, 512, 78);
  const evil = echoFragments('10.0.0.9', '10.0.0.1', 3000, 256, 78)[3]!; // bytes 768..1024 overlap frag 1
  for (const f of [frags[0]!, frags[1]!, evil, ...frags.slice(2)]) peer.send(f);
  w.run(w.now + ms(10));
  assert.equal(got.length, 0);
  assert.equal(a.counters['Drop.reasm-overlap'], 1);
  assert.ok(a.counters.IpReasmFails! >= 1);
});

test('reassembly: a missing fragment times out after 30 s with ICMP time exceeded (code 1) only if fragment zero came', () => {
  for (const [src, dst] of [['10.0.0.9', '10.0.0.1'], ['fd00::9', 'fd00::1']] as const) {
    const { w, a, peer, got } = withPeer();
    const withFirst = echoFragments(src, dst, 3000, 512, 90);
    const noFirst = echoFragments(src, dst, 3000, 512, 91);
    for (const f of [...withFirst.slice(0, 3), ...noFirst.slice(1)]) peer.send(f);
    w.run(w.now + sec(29));
    assert.equal(got.length, 0);
    assert.equal(a.ip.reasm.size, 2);
    w.run(w.now + sec(2));
    assert.equal(got.length, 1, src);
    assert.match(formatPacket(got[0]!), src.includes(':') ? /ICMP6, time exceeded/ : /ICMP time exceeded/);
    assert.equal(got[0]![src.includes(':') ? 41 : 21], 1, 'code 1: fragment reassembly time exceeded');
    assert.equal(a.ip.reasm.size, 0);
    assert.equal(a.ip.reasm.memory, 0);
    if (!src.includes(':')) assert.equal(a.counters.IpReasmTimeout, 2);
  }
});

test('reassembly memory cap: a fragment flood from one source stays within its share; another source still gets through', () => {
  const { w, a, peer, got } = withPeer();
  // 3000 datagrams that never complete, 1 KiB each: 3 MiB offered.
  for (let id = 0; id < 3000; id++) peer.send(echoFragments('10.0.0.9', '10.0.0.1', 3000, 1024, id)[0]!);
  w.run(w.now + ms(100));
  assert.ok(a.ip.reasm.memory <= REASM_MEM_PER_SOURCE, `${a.ip.reasm.memory}`);
  assert.ok(a.counters['Drop.reasm-mem']! > 1000);
  assert.ok(REASM_MEM_PER_SOURCE < REASM_MEM_MAX);
  // A second host on the link is not starved.
  const other = w.net.attach('q', ['10.0.0.10'], { mtu: 9000 });
  const got2: Uint8Array[] = [];
  other.onReceive((f) => got2.push(f));
  for (const f of echoFragments('10.0.0.10', '10.0.0.1', 3000, 1024, 5)) other.send(f);
  w.run(w.now + ms(100));
  assert.equal(got2.length, 1);
  assert.equal(got.length, 0);
  // Everything is released when the queues expire.
  w.run(w.now + sec(31));
  assert.equal(a.ip.reasm.memory, 0);
});

test('TCP is never fragmented: DF on every segment', () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.0.1']);
  const b = w.addHost('b', ['10.0.0.2']);
  b.listen({ port: 80 });
  const s = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  let df = 0;
  let all = 0;
  w.onFrame((ev) => {
    all++;
    if (ev.frame[6]! & 0x40) df++;
  });
  s.onConnect = () => s.write(new Uint8Array(100_000));
  w.run(w.now + sec(1));
  assert.ok(all > 50);
  assert.equal(df, all);
});
