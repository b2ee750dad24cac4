/**
 * ICMP and ICMPv6 on the simulator: echo, protocol unreachable, the never-send rules, rate
 * limits, errors reaching TCP (EHOSTUNREACH through a router, PMTUD through a 1280-byte hop),
 * martians refused. Virtual time throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import type { Stack } from '../src/stack/stack.js';
import type { Link } from '../src/link/link.js';
import { ms, sec } from '../src/time.js';
import { newIpRepr, parseIpHeader, emitIpv4Header, emitIpv6Header, IPV4_DF } from '../src/wire/ip.js';
import { parseAddr } from '../src/wire/addr.js';
import { fillIcmpChecksum } from '../src/wire/icmp.js';
import { buildTcpPacket } from '../src/wire/tcp.js';
import { newTcpRepr, SYN } from '../src/wire/tcp-repr.js';
import { formatPacket } from '../src/wire/format.js';
import { formatCounters } from '../src/diag/netstat.js';
import { writeAll } from './helpers.js';

/** A raw IP datagram: header (IPv4 with DF unless told) + payload. */
function datagram(src: string, dst: string, proto: number, payload: Uint8Array, opts: { ttl?: number; frag?: number } = {}): Uint8Array {
  const s = parseAddr(src)!;
  const d = parseAddr(dst)!;
  const hl = s.length === 4 ? 20 : 40;
  const f = new Uint8Array(hl + payload.length);
  if (s.length === 4) emitIpv4Header(f, 0, s, d, proto, payload.length, opts.ttl ?? 64, 7, true, opts.frag ?? IPV4_DF);
  else emitIpv6Header(f, 0, s, d, proto, payload.length, opts.ttl ?? 64);
  f.set(payload, hl);
  return f;
}

function icmpMsg(src: string, dst: string, type: number, code: number, body: Uint8Array): Uint8Array {
  const v6 = src.includes(':');
  const m = new Uint8Array(8 + body.length);
  m[0] = type;
  m[1] = code;
  m.set(body, 8);
  fillIcmpChecksum(m, 0, m.length, parseAddr(src)!, parseAddr(dst)!);
  return datagram(src, dst, v6 ? 58 : 1, m);
}

/** A world with host a (10.0.0.1, fd00::1) and a raw peer p (10.0.0.9, fd00::9) whose frames we see. */
function withPeer(): { w: SimWorld; a: Stack; peer: Link; got: Uint8Array[] } {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.0.1', 'fd00::1']);
  const peer = w.net.attach('p', ['10.0.0.9', 'fd00::9']);
  const got: Uint8Array[] = [];
  peer.onReceive((f) => got.push(f.slice()));
  return { w, a, peer, got };
}

test('ping: echo answered with the same id, seq and payload, IPv4 and IPv6; rtt = 2 x delay', async () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.0.1', 'fd00::1']);
  const b = w.addHost('b', ['10.0.0.2', 'fd00::2']);
  w.net.setLink('a', 'b', { delay: ms(10) });
  const lines: string[] = [];
  w.onFrame((ev) => lines.push(formatPacket(ev.frame)));
  for (const dst of ['10.0.0.2', 'fd00::2']) {
    const p = a.ping(dst, { size: 100, id: 42, seq: 3 });
    w.run(w.now + sec(1));
    const r = await p;
    assert.equal(r.rtt, ms(20));
    assert.equal(r.bytes, 108);
    assert.equal(r.id, 42);
    assert.equal(r.seq, 3);
    assert.equal(r.from, dst);
  }
  assert.ok(lines.includes('10.0.0.1 > 10.0.0.2: ICMP echo request, id 42, seq 3, length 108'), lines.join('\n'));
  assert.ok(lines.includes('10.0.0.2 > 10.0.0.1: ICMP echo reply, id 42, seq 3, length 108'));
  assert.ok(lines.includes('fd00::2 > fd00::1: ICMP6, echo reply, id 42, seq 3, length 108'));
  assert.equal(b.counters.IcmpInEchos, 1);
  assert.equal(b.counters.IcmpOutEchoReps, 1);
  assert.equal(b.counters.IcmpMsgInType8, 1);
  assert.equal(b.counters.Icmp6InEchos, 1);
  assert.equal(b.counters.Icmp6OutEchoReplies, 1);
  // nstat-style output (synack netstat --counters) names them as nstat does.
  const nstat = formatCounters(b.snapshot().counters);
  for (const name of ['IpInReceives', 'IpInDelivers', 'IcmpInEchos', 'IcmpOutEchoReps', 'IcmpMsgInType8', 'IcmpMsgOutType0', 'Ip6InReceives', 'Icmp6InEchos', 'Icmp6OutEchoReplies', 'Icmp6InType128']) {
    assert.match(nstat, new RegExp(`^${name} +\\d+$`, 'm'), name);
  }
  // Loopback and nobody there.
  const lo = a.ping('127.0.0.1');
  const none = a.ping('10.0.0.77', { timeout: ms(500) });
  w.run(w.now + sec(1));
  assert.equal((await lo).from, '127.0.0.1');
  await assert.rejects(none, /ETIMEDOUT/);
  assert.throws(() => a.ping('nope'), /dst/);
  assert.throws(() => a.ping('10.0.0.2', { size: 70000 }), /size/);
});

test('the echo reply carries the request data byte for byte (checked on the wire)', () => {
  const { w, peer, got } = withPeer();
  const data = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
  const m = new Uint8Array(8 + data.length);
  m[0] = 8;
  m.set([0, 9, 0, 1], 4);
  m.set(data, 8);
  fillIcmpChecksum(m, 0, m.length, parseAddr('10.0.0.9')!, parseAddr('10.0.0.1')!);
  peer.send(datagram('10.0.0.9', '10.0.0.1', 1, m));
  w.run(w.now + ms(10));
  assert.equal(got.length, 1);
  const r = got[0]!;
  assert.equal(r[20], 0);
  assert.deepEqual([...r.subarray(24, 28)], [0, 9, 0, 1]);
  assert.deepEqual(r.subarray(28), data);
});

test('protocol unreachable for an unknown protocol; never about an ICMP error, a broadcast or a later fragment', () => {
  const { w, a, peer, got } = withPeer();
  peer.send(datagram('10.0.0.9', '10.0.0.1', 99, new Uint8Array(16)));
  w.run(w.now + ms(10));
  assert.equal(got.length, 1);
  assert.match(formatPacket(got[0]!), /^10\.0\.0\.1 > 10\.0\.0\.9: ICMP protocol unreachable, length 44$/);
  assert.equal(a.counters.IpInUnknownProtos, 1);
  // IPv6: parameter problem, code 1 (unrecognized Next Header), pointer 6.
  peer.send(datagram('fd00::9', 'fd00::1', 99, new Uint8Array(16)));
  w.run(w.now + ms(10));
  assert.equal(got.length, 2);
  assert.deepEqual([got[1]![40], got[1]![41], got[1]![47]], [4, 1, 6]);
  got.length = 0;
  // An ICMP error with an unknown code about a datagram that is not ours: no error back.
  peer.send(icmpMsg('10.0.0.9', '10.0.0.1', 3, 3, datagram('10.0.0.1', '10.0.0.9', 99, new Uint8Array(8)).subarray(0, 28)));
  // To the broadcast address, to a multicast group, from a fragment at offset 8: silence.
  peer.send(datagram('10.0.0.9', '255.255.255.255', 99, new Uint8Array(16)));
  peer.send(datagram('10.0.0.9', '10.0.0.1', 99, new Uint8Array(16), { frag: 1 }));
  w.run(w.now + ms(10));
  assert.equal(got.length, 0, got.map(formatPacket).join('\n'));
});

test('rate limits: errors to one host come 6 at once then 1 per second (LINUX icmp_ratelimit); echo replies are not limited', () => {
  const { w, a, peer, got } = withPeer();
  for (let i = 0; i < 20; i++) peer.send(datagram('10.0.0.9', '10.0.0.1', 99, new Uint8Array(8)));
  w.run(w.now + ms(10));
  assert.equal(got.length, 6);
  assert.equal(a.counters.IcmpOutRateLimitHost, 14);
  w.run(w.now + sec(1));
  got.length = 0;
  for (let i = 0; i < 5; i++) peer.send(datagram('10.0.0.9', '10.0.0.1', 99, new Uint8Array(8)));
  w.run(w.now + ms(10));
  assert.equal(got.length, 1);
  got.length = 0;
  const m = new Uint8Array(8);
  m[0] = 8;
  fillIcmpChecksum(m, 0, 8, parseAddr('10.0.0.9')!, parseAddr('10.0.0.1')!);
  for (let i = 0; i < 30; i++) peer.send(datagram('10.0.0.9', '10.0.0.1', 1, m));
  w.run(w.now + ms(10));
  assert.equal(got.length, 30);
});

/** a (10.0.1.2) — r (10.0.1.1 | 10.0.2.1) — b (10.0.2.2); r forwards. */
function routed(opts: { bMtu?: number; rEth1Mtu?: number } = {}): { w: SimWorld; a: Stack; b: Stack; r: Stack } {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.1.2/24', 'fd01::2/64'], { gateway: ['10.0.1.1', 'fd01::1'] });
  const b = w.addHost('b', ['10.0.2.2/24', 'fd02::2/64'], { gateway: ['10.0.2.1', 'fd02::1'], ...(opts.bMtu ? { mtu: opts.bMtu } : {}) });
  const r = w.addHost('r', ['10.0.1.1/24', 'fd01::1/64']);
  r.addInterface('eth1', w.net.attach('r:eth1', ['10.0.2.1', 'fd02::1'], opts.rEth1Mtu ? { mtu: opts.rEth1Mtu } : {}), ['10.0.2.1/24', 'fd02::1/64']);
  r.ip.forwarding = true;
  return { w, a, b, r };
}

test('a router answering host unreachable ends a connect with EHOSTUNREACH at once (LINUX tcp_v4_err in SYN_SENT)', () => {
  for (const dst of ['10.0.3.5', 'fd03::5']) {
    const { w, a, r } = routed();
    r.addUnreachableRoute('10.0.3.0/24');
    r.addUnreachableRoute('fd03::/64');
    const s = a.connect({ remoteAddress: dst, remotePort: 80 });
    let err = '';
    s.onError = (code) => (err = code);
    w.run(w.now + ms(50));
    assert.equal(err, 'EHOSTUNREACH', dst);
    assert.equal(s.state, 'CLOSED');
    // And the router itself refuses at once.
    assert.throws(() => r.connect({ remoteAddress: dst, remotePort: 80 }), /EHOSTUNREACH/);
  }
  // No route at all on the router: net unreachable → ENETUNREACH.
  const { w, a } = routed();
  const s = a.connect({ remoteAddress: '192.0.2.1', remotePort: 80 });
  let err = '';
  s.onError = (code) => (err = code);
  w.run(w.now + ms(50));
  assert.equal(err, 'ENETUNREACH');
});

test('an ESTABLISHED connection keeps going on a soft error and reports it when it times out (LINUX sk_err_soft)', () => {
  const { w, a, b, r } = routed();
  b.listen({ port: 80 });
  const s = a.connect({ remoteAddress: '10.0.2.2', remotePort: 80, tcp: { retries2: 3 } });
  w.run(w.now + ms(50));
  assert.equal(s.state, 'ESTABLISHED');
  r.addUnreachableRoute('10.0.2.2/32');
  let err = '';
  s.onError = (code) => (err = code);
  s.write('hello');
  w.run(w.now + ms(50));
  assert.equal(s.state, 'ESTABLISHED', 'host unreachable is soft once connected');
  w.run(w.now + sec(120));
  assert.equal(err, 'EHOSTUNREACH');
});

test('PMTUD: a 1280-byte hop answers Fragmentation Needed / Packet Too Big; the sender lowers its MSS, retransmits, delivers intact', () => {
  for (const [server, client] of [['10.0.2.2', '10.0.1.2'], ['fd02::2', 'fd01::2']] as const) {
    // b serves, a downloads; the router's link towards a carries 1280 bytes.
    const w = new SimWorld();
    const b = w.addHost('b', ['10.0.2.2/24', 'fd02::2/64'], { gateway: ['10.0.2.1', 'fd02::1'] });
    const a = w.addHost('a', ['10.0.1.2/24', 'fd01::2/64'], { gateway: ['10.0.1.1', 'fd01::1'] });
    const r = w.addHost('r', ['10.0.2.1/24', 'fd02::1/64']);
    r.addInterface('eth1', w.net.attach('r:eth1', ['10.0.1.1', 'fd01::1'], { mtu: 1280 }), ['10.0.1.1/24', 'fd01::1/64']);
    r.ip.forwarding = true;
    const l = b.listen({ port: 80, address: server.includes(':') ? '::' : '0.0.0.0' });
    const N = 300_000;
    const data = new Uint8Array(N).map((_, i) => (i * 31 + 7) & 0xff);
    l.onConnection = (s) => {
      writeAll(s, data, () => s.close())();
    };
    const c = a.connect({ remoteAddress: server, remotePort: 80 });
    const chunks: Uint8Array[] = [];
    c.onData = () => {
      for (let d = c.read(); d !== null; d = c.read()) chunks.push(d);
    };
    w.run(w.now + sec(5));
    const got = Buffer.concat(chunks);
    assert.equal(got.length, N, server);
    assert.ok(Buffer.from(data).equals(got), 'intact');
    const pm = b.ip.pmtu.list(w.now);
    assert.deepEqual(pm.map((e) => [e.dst, e.mtu]), [[client, 1280]]);
    const conn = b.connections().find((x) => x.remoteAddr === client)!;
    assert.equal(conn.snapshot(w.now).mss, 1280 - (server.includes(':') ? 40 : 20) - 20 - 12);
    assert.ok((r.counters.IcmpOutDestUnreachs ?? 0) + (r.counters.Icmp6OutPktTooBigs ?? 0) >= 1);
    // The cache entry ages out after 10 minutes (LINUX ip_rt_mtu_expires).
    w.run(w.now + sec(601));
    assert.deepEqual(b.ip.pmtu.list(w.now), []);
  }
});

test('martians: connect to broadcast/multicast fails with ENETUNREACH at once; to 0.0.0.0 goes to lo (ECONNREFUSED)', () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.0.1/24', 'fd00::1/64']);
  for (const d of ['255.255.255.255', '224.0.0.1', '10.0.0.255', 'ff02::1', '240.0.0.1']) {
    assert.throws(() => a.connect({ remoteAddress: d, remotePort: 80 }), /ENETUNREACH/, d);
  }
  for (const d of ['0.0.0.0', '::', '127.0.0.1', '::1']) {
    const s = a.connect({ remoteAddress: d, remotePort: 7 });
    let err = '';
    s.onError = (c) => (err = c);
    w.run(w.now + 1);
    assert.equal(err, 'ECONNREFUSED', d);
  }
});

test('martians: a SYN from a broadcast, multicast, loopback, zero or own source is dropped and counted, never answered', () => {
  const { w, a, peer, got } = withPeer();
  a.listen({ port: 80 });
  const syn = newTcpRepr();
  syn.srcPort = 1234;
  syn.dstPort = 80;
  syn.seq = 1;
  syn.flags = SYN;
  syn.window = 1000;
  const srcs = ['255.255.255.255', '224.0.0.5', '127.0.0.1', '0.0.0.0', '0.1.2.3', '10.0.0.1'];
  for (const s of srcs) peer.send(buildTcpPacket(s, '10.0.0.1', syn));
  for (const s of ['ff02::1', '::1', '::', 'fd00::1']) peer.send(buildTcpPacket(s, 'fd00::1', syn));
  // 127.0.0.1 as a destination from outside too.
  peer.send(buildTcpPacket('10.0.0.9', '127.0.0.1', syn), '10.0.0.1');
  w.run(w.now + ms(10));
  assert.equal(got.length, 0);
  assert.equal(a.counters['Drop.martian'], srcs.length + 4 + 1);
  assert.equal(a.counters.PassiveOpens, 0);
  // The same SYN from a proper source is answered.
  peer.send(buildTcpPacket('10.0.0.9', '10.0.0.1', syn));
  w.run(w.now + ms(10));
  assert.equal(got.length, 1);
  const ip = newIpRepr();
  assert.equal(parseIpHeader(got[0]!, ip, true), null);
  assert.equal(ip.dst, '10.0.0.9');
});

test('IP_PMTUDISC_DONT (pmtuDisc 0): DF clear on the wire, and a Fragmentation Needed does not lower the MSS (LINUX tcp_v4_mtu_reduced)', () => {
  for (const pmtuDisc of [0, 2]) {
    const w = new SimWorld();
    const b = w.addHost('b', ['10.0.2.2/24'], { gateway: ['10.0.2.1'] });
    const a = w.addHost('a', ['10.0.1.2/24'], { gateway: ['10.0.1.1'] });
    const r = w.addHost('r', ['10.0.2.1/24']);
    r.addInterface('eth1', w.net.attach('r:eth1', ['10.0.1.1'], { mtu: 1280 }), ['10.0.1.1/24']);
    r.ip.forwarding = true;
    // A router that answers Fragmentation Needed for every datagram too big for its next hop,
    // DF or not (and, as synack's routers do, does not fragment in transit).
    const dfSeen: boolean[] = [];
    r.ip.forwardHook = (ip, frame) => {
      if (ip.src === '10.0.2.2' && ip.headerLength + ip.payloadLength > 1280) {
        dfSeen.push(ip.dontFragment);
        r.ip.icmp.sendError(ip, frame, 3, 4, 1280);
      }
      return false;
    };
    const l = b.listen({ port: 80, address: '0.0.0.0', tcp: { pmtuDisc } });
    l.onConnection = (s) => s.write(new Uint8Array(20_000));
    a.connect({ remoteAddress: '10.0.2.2', remotePort: 80 });
    w.run(w.now + sec(2));
    const conn = b.connections().find((x) => x.remoteAddr === '10.0.1.2')!;
    assert.ok(dfSeen.length > 0);
    assert.ok(dfSeen.every((df) => df === (pmtuDisc !== 0)), `DF ${dfSeen.join()} with pmtuDisc ${pmtuDisc}`);
    assert.equal(conn.snapshot(w.now).mss, pmtuDisc === 0 ? 1460 - 12 : 1280 - 20 - 20 - 12);
  }
});
