/**
 * Ethernet links on virtual time: hosts with MACs on a simulated learning switch, resolving each
 * other with ARP (RFC 826) and NDP (RFC 4861) through the neighbour cache with Linux's NUD timing.
 * Every scenario reads what happened on the switch (the frames in order) and the neighbour tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addEthernetHost, SimSwitch, type EthernetHost, type SwitchFrameEvent } from '../src/driver/sim-ethernet.js';
import { SimWorld } from '../src/driver/world.js';
import { newArpRepr, parseArp, ArpOp } from '../src/wire/arp.js';
import { EtherType, etherType, formatMac } from '../src/wire/ethernet.js';
import { formatFrame } from '../src/wire/format.js';
import { LINKTYPE_ETHERNET } from '../src/link/pcap.js';
import { formatNeighbors } from '../src/link/neighbor.js';
import type { TcpSocket } from '../src/stack/socket.js';
import { buildTcpPacket } from '../src/wire/tcp.js';
import { newTcpRepr, SYN } from '../src/wire/tcp-repr.js';

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';
const S = 1_000_000;

interface Lan {
  w: SimWorld;
  sw: SimSwitch;
  a: EthernetHost;
  b: EthernetHost;
  /** Every frame delivered by the switch, as a tcpdump line with time and ports. */
  log: { t: number; from: string; to: string; line: string; frame: Uint8Array }[];
}

function lan(opts: { seed?: number } = {}): Lan {
  const w = new SimWorld({ seed: opts.seed ?? 5 });
  const sw = new SimSwitch(w.sim, { port: { delay: 100 } });
  const log: Lan['log'] = [];
  sw.onFrame((ev: SwitchFrameEvent) => {
    if (!ev.dropped) log.push({ t: ev.t, from: ev.from, to: ev.to, line: formatFrame(ev.frame, LINKTYPE_ETHERNET), frame: ev.frame });
  });
  const a = addEthernetHost(w, sw, 'a', { mac: MAC_A, addresses: ['10.0.0.1/24', 'fd00::1/64'] });
  const b = addEthernetHost(w, sw, 'b', { mac: MAC_B, addresses: ['10.0.0.2/24', 'fd00::2/64'] });
  return { w, sw, a, b, log };
}

function arpOf(frame: Uint8Array): ReturnType<typeof newArpRepr> | null {
  if (etherType(frame) !== EtherType.ARP) return null;
  const r = newArpRepr();
  return parseArp(frame, 14, frame.length, r) === null ? r : null;
}

function state(h: EthernetHost, addr: string): string | undefined {
  return h.eth.neighbors().find((n) => n.address === addr)?.state;
}

/** A listening server on b that counts bytes, and a client on a that sends `n` bytes. */
function transfer(l: Lan, dst: string, n: number): { got: () => number; client: TcpSocket } {
  const srv = l.b.stack.listen({ port: 80, address: dst.includes(':') ? '::' : '0.0.0.0' });
  let got = 0;
  srv.onConnection = () => {
    const s = srv.accept()!;
    s.onData = () => {
      for (let d = s.read(); d !== null; d = s.read()) got += d.length;
    };
  };
  const c = l.a.stack.connect({ remoteAddress: dst, remotePort: 80 });
  let sent = 0;
  const pump = (): void => {
    while (sent < n) {
      const k = c.write(new Uint8Array(Math.min(65536, n - sent)).fill(sent & 0xff));
      if (k === 0) return;
      sent += k;
    }
  };
  c.onConnect = pump;
  c.onWritable = pump;
  return { got: () => got, client: c };
}

test('ARP: the first SYN waits for an ARP request/reply; the peer learns the sender from the request', () => {
  const l = lan();
  l.w.run(1000); // the boot announcements (gratuitous ARP, unsolicited NA) go out first
  const boot = l.log.length;
  // b was plugged in after a, so a hears b's announcement.
  assert.ok(l.log.some((e) => e.from === 'b' && e.line === 'ARP, Request who-has 10.0.0.2 tell 10.0.0.2, length 28'), 'gratuitous ARP at boot');
  // LINUX arp_accept=0: a gratuitous ARP does not create an entry in a peer's cache.
  assert.equal(state(l.a, '10.0.0.2'), undefined);
  transfer(l, '10.0.0.2', 1000);
  l.w.run(l.w.now + 200_000);
  const lines = l.log.slice(boot).filter((e) => e.to !== 'a' || e.from !== 'b' || true).map((e) => `${e.from}>${e.to} ${e.line}`);
  assert.equal(lines[0], 'a>b ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28');
  assert.equal(lines[1], `b>a ARP, Reply 10.0.0.2 is-at ${MAC_B}, length 28`);
  assert.match(lines[2]!, /^a>b 10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.80: Flags \[S\]/);
  assert.equal(state(l.a, '10.0.0.2'), 'REACHABLE');
  assert.equal(l.a.eth.neighbors().find((n) => n.address === '10.0.0.2')?.lladdr, MAC_B);
  // LINUX neigh_event_ns: the request addressed to b left a's MAC in b's cache (STALE, then in
  // use by the SYN-ACK: DELAY). The handshake's last ACK acknowledges b's SYN, so b's next
  // segment confirms the entry (tcp_ack → sk_dst_confirm): REACHABLE within the 5 s DELAY, no probe.
  assert.ok(['STALE', 'DELAY', 'REACHABLE'].includes(state(l.b, '10.0.0.1')!));
  l.w.run(l.w.now + 7 * S);
  assert.equal(l.log.filter((e) => e.from === 'b' && arpOf(e.frame)?.op === ArpOp.REQUEST && arpOf(e.frame)?.tpaText === '10.0.0.1').length, 0, 'b did not need to probe a');
  assert.equal(state(l.b, '10.0.0.1'), 'REACHABLE');
});

test('ARP: packets sent while resolving are queued and leave in order after one request', () => {
  const l = lan();
  l.w.run(1000);
  const srv = l.b.stack.listen({ port: 80 });
  srv.onConnection = () => srv.accept();
  const socks = [0, 1, 2, 3].map(() => l.a.stack.connect({ remoteAddress: '10.0.0.2', remotePort: 80 }));
  assert.equal(l.a.eth.neighbors()[0]?.queued, 4);
  l.w.run(l.w.now + 100_000);
  const fromA = l.log.filter((e) => e.from === 'a' && e.t >= 1000);
  assert.equal(fromA.filter((e) => arpOf(e.frame) !== null).length, 1, 'one ARP request for four SYNs');
  assert.deepEqual(fromA.slice(1, 5).map((e) => / Flags \[S\]/.test(e.line)), [true, true, true, true]);
  for (const s of socks) assert.equal(s.snapshot().state, 'ESTABLISHED');
});

test('ARP: an unanswered address gets 3 requests 1 s apart, then FAILED: queued packets dropped, onUnreachable fires', () => {
  const l = lan();
  l.w.run(1000);
  const t0 = l.w.now;
  const unreachable: { t: number; dst: string; dropped: number }[] = [];
  l.a.eth.onUnreachable((dst, dropped) => unreachable.push({ t: l.w.now - t0, dst, dropped }));
  l.a.stack.connect({ remoteAddress: '10.0.0.9', remotePort: 80 });
  l.w.run(t0 + 3 * S - 1);
  const reqs = (): number[] => l.log.filter((e) => e.from === 'a' && e.to === 'b' && arpOf(e.frame)?.tpaText === '10.0.0.9').map((e) => e.t - t0);
  // LINUX: mcast_solicit 3, retrans_time 1 s; neigh_timer_handler fails the entry at the 4th tick.
  assert.deepEqual(reqs(), [0, S, 2 * S]);
  assert.equal(state(l.a, '10.0.0.9'), 'INCOMPLETE');
  assert.equal(unreachable.length, 0);
  l.w.run(t0 + 3 * S);
  assert.equal(unreachable.length, 1);
  assert.deepEqual(unreachable[0], { t: 3 * S, dst: '10.0.0.9', dropped: 2 }, 'the SYN and its 1 s retransmission were queued');
  assert.equal(l.a.eth.neighStats.resFailed, 1);
  // LINUX __neigh_event_send: the next packet to a FAILED entry starts a new resolution: the SYN
  // retransmitted at 3 s (a second round, failing at 6 s), then the one at 7 s.
  l.w.run(t0 + 6.5 * S);
  assert.equal(state(l.a, '10.0.0.9'), 'FAILED');
  l.w.run(t0 + 7.5 * S);
  assert.deepEqual(reqs(), [0, S, 2 * S, 3 * S, 4 * S, 5 * S, 7 * S]);
  assert.deepEqual(unreachable.map((u) => u.t), [3 * S, 6 * S]);
  assert.equal(state(l.a, '10.0.0.9'), 'INCOMPLETE');
});

test('ARP: REACHABLE expires to STALE after the randomised reachable time; use then DELAY 5 s, unicast PROBE, REACHABLE', () => {
  const l = lan();
  l.w.run(1000);
  const { client } = transfer(l, '10.0.0.2', 100);
  l.w.run(l.w.now + 300_000);
  assert.equal(state(l.a, '10.0.0.2'), 'REACHABLE');
  // LINUX: reachable_time = base_reachable_time (30 s) × uniform[0.5, 1.5).
  l.w.run(l.w.now + 14.9 * S);
  assert.equal(state(l.a, '10.0.0.2'), 'REACHABLE', 'not before 15 s');
  l.w.run(l.w.now + 31 * S);
  assert.equal(state(l.a, '10.0.0.2'), 'STALE', 'by 45 s');
  const before = l.log.length;
  client.write(new Uint8Array(10));
  l.w.run(l.w.now + 1000);
  assert.equal(state(l.a, '10.0.0.2'), 'DELAY', 'RFC 4861 §7.3.3: sending to STALE moves to DELAY');
  assert.ok(l.log.slice(before).every((e) => arpOf(e.frame) === null), 'the data went at once, with the stale MAC');
  const tUse = l.w.now;
  l.w.run(tUse + 6 * S);
  const probes = l.log.slice(before).filter((e) => e.from === 'a' && arpOf(e.frame)?.op === ArpOp.REQUEST);
  assert.equal(probes.length, 1);
  assert.ok(probes[0]!.t - tUse >= 4.99 * S && probes[0]!.t - tUse <= 5.01 * S, `probe after delay_first_probe_time 5 s (${probes[0]!.t - tUse})`);
  assert.equal(formatMac(probes[0]!.frame, 0), MAC_B, 'unicast probe');
  assert.equal(state(l.a, '10.0.0.2'), 'REACHABLE');
});

test('ARP: a gratuitous ARP from a new MAC for a known address updates the peer cache; traffic follows it', () => {
  const l = lan();
  l.w.run(1000);
  transfer(l, '10.0.0.2', 100);
  l.w.run(l.w.now + 300_000);
  assert.equal(l.a.eth.neighbors().find((n) => n.address === '10.0.0.2')?.lladdr, MAC_B);
  // b fails over to new hardware with the same address: b2 announces itself.
  l.sw.detach('b');
  const b2 = addEthernetHost(l.w, l.sw, 'b2', { mac: '02:00:00:00:00:bb', addresses: ['10.0.0.2/24'] });
  l.w.run(l.w.now + 1000);
  const n = l.a.eth.neighbors().find((x) => x.address === '10.0.0.2')!;
  assert.equal(n.lladdr, '02:00:00:00:00:bb');
  assert.equal(n.state, 'STALE');
  const srv = b2.stack.listen({ port: 81 });
  let accepted = 0;
  srv.onConnection = () => {
    srv.accept();
    accepted++;
  };
  l.a.stack.connect({ remoteAddress: '10.0.0.2', remotePort: 81 });
  l.w.run(l.w.now + 100_000);
  assert.equal(accepted, 1);
});

test('ARP: a non-gratuitous reply within locktime does not replace a cached MAC (LINUX arp locktime)', () => {
  const l = lan();
  l.w.run(1000);
  transfer(l, '10.0.0.2', 10);
  l.w.run(l.w.now + 100_000);
  // An unsolicited reply claiming 10.0.0.2 from another MAC, right after the last update.
  const spoof = new Uint8Array(60);
  const hdr = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0xee, 0x08, 0x06];
  spoof.set(hdr);
  spoof.set([0, 1, 8, 0, 6, 4, 0, 2, 2, 0, 0, 0, 0, 0xee, 10, 0, 0, 2, 2, 0, 0, 0, 0, 0x0a, 10, 0, 0, 1], 14);
  const port = l.sw.attach('x');
  port.send(spoof);
  l.w.run(l.w.now + 1000);
  // The reply was broadcast, not to us: STALE at most, and within locktime, ignored entirely.
  assert.equal(l.a.eth.neighbors().find((n) => n.address === '10.0.0.2')?.lladdr, MAC_B);
});

test('NDP: neighbour solicitation to the solicited-node group, solicited advertisement back, then TCP over IPv6', () => {
  const l = lan();
  l.w.run(1000);
  assert.ok(l.log.some((e) => e.from === 'b' && / > ff02::1: ICMP6, neighbor advertisement, tgt is fd00::2/.test(e.line)), 'unsolicited NA at boot');
  const boot = l.log.length;
  const { got } = transfer(l, 'fd00::2', 200_000);
  l.w.run(l.w.now + 2 * S);
  const first = l.log.slice(boot);
  assert.match(first[0]!.line, /^fd00::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fd00::2, length 32$/);
  assert.equal(formatMac(first[0]!.frame, 0), '33:33:ff:00:00:02', 'RFC 2464 §7 multicast MAC');
  assert.match(first[1]!.line, /^fd00::2 > fd00::1: ICMP6, neighbor advertisement, tgt is fd00::2, length 32$/);
  assert.equal(state(l.a, 'fd00::2'), 'REACHABLE');
  assert.equal(l.a.eth.neighbors().find((n) => n.address === 'fd00::2')?.lladdr, MAC_B);
  assert.equal(got(), 200_000);
  assert.equal(l.b.eth.counters.rxNeighborSolicits >= 1, true);
});

test('NDP: an unanswered IPv6 neighbour fails after 3 solicitations; link-local addresses come from the MAC (EUI-64)', () => {
  const l = lan();
  assert.ok(l.a.eth.hostAddresses().includes('fe80::ff:fe00:a'));
  l.w.run(1000);
  const t0 = l.w.now;
  let failed = -1;
  l.a.eth.onUnreachable(() => (failed = l.w.now - t0));
  l.a.stack.connect({ remoteAddress: 'fd00::9', remotePort: 80 });
  l.w.run(t0 + 3 * S - 1);
  const ns = l.log.filter((e) => e.from === 'a' && /neighbor solicitation, who has fd00::9/.test(e.line));
  assert.deepEqual(ns.map((e) => e.t - t0), [0, S, 2 * S]);
  assert.equal(formatMac(ns[0]!.frame, 0), '33:33:ff:00:00:09');
  l.w.run(t0 + 3 * S);
  assert.equal(failed, 3 * S);
});

test('a TCP transfer over the switch with loss arrives intact (v4), and unknown destinations are not routed', () => {
  const l = lan({ seed: 9 });
  l.sw.setPort('b', { loss: 0.02, delay: 2000 });
  l.sw.setPort('a', { loss: 0.02, delay: 2000 });
  const { got } = transfer(l, '10.0.0.2', 1_000_000);
  l.w.run(60 * S);
  assert.equal(got(), 1_000_000);
  // Off-link without a gateway: the IP layer has no route, so connect fails at once as Linux's
  // does (ENETUNREACH); a packet handed to the interface with no next hop and no route of its
  // own is counted, and the IP layer is told.
  assert.throws(() => l.a.stack.connect({ remoteAddress: '192.0.2.1', remotePort: 80 }), /ENETUNREACH/);
  let told = '';
  l.a.eth.onUnreachable((d) => (told = d));
  const syn = newTcpRepr();
  syn.srcPort = 40000;
  syn.dstPort = 80;
  syn.flags = SYN;
  l.a.eth.link.send(buildTcpPacket(l.a.stack.primary.addrs[0]!.addr, '192.0.2.1', syn));
  assert.equal(l.a.eth.drops['tx-no-route'], 1);
  assert.equal(told, '192.0.2.1');
});

test('a gateway is resolved instead of an off-link destination', () => {
  const w = new SimWorld({ seed: 2 });
  const sw = new SimSwitch(w.sim);
  const a = addEthernetHost(w, sw, 'a', { mac: MAC_A, addresses: ['10.0.0.1/24'], gateway: '10.0.0.254' });
  const asked: string[] = [];
  sw.onFrame((ev) => {
    const r = arpOf(ev.frame);
    if (r && ev.from === 'a' && r.op === ArpOp.REQUEST && r.spaText !== r.tpaText) asked.push(r.tpaText);
  });
  sw.attach('b');
  a.stack.connect({ remoteAddress: '192.0.2.1', remotePort: 80 });
  w.run(10_000);
  assert.deepEqual(asked, ['10.0.0.254']);
  assert.throws(() => a.eth.setGateway('192.0.2.9'), /not on any of this interface's prefixes/);
  // The next hop the routing table chose wins over the adapter's own decision.
  const pkt = new Uint8Array(20);
  pkt[0] = 0x45;
  pkt.set([10, 0, 0, 7], 16);
  a.eth.link.send(pkt, '10.0.0.253');
  w.run(w.now + 10_000);
  assert.deepEqual(asked, ['10.0.0.254', '10.0.0.253']);
  // Not IP, or larger than the MTU: counted and dropped before anything is resolved.
  a.eth.link.send(new Uint8Array(20), '10.0.0.1');
  const big = new Uint8Array(1501);
  big[0] = 0x45;
  a.eth.link.send(big);
  assert.equal(a.eth.drops['tx-malformed'], 1);
  assert.equal(a.eth.drops['tx-too-big'], 1);
});

test('the neighbour table and its resolution queue are bounded', () => {
  const w = new SimWorld({ seed: 2 });
  const sw = new SimSwitch(w.sim);
  const a = addEthernetHost(w, sw, 'a', { mac: MAC_A, addresses: ['10.0.0.1/16'], neigh: { maxEntries: 8, unresQlenBytes: 3000 } });
  for (let i = 0; i < 20; i++) a.stack.connect({ remoteAddress: `10.0.1.${i + 1}`, remotePort: 80 });
  assert.equal(a.eth.neighbors().length, 8);
  assert.equal(a.eth.neighStats.tableFulls, 12);
  for (let i = 0; i < 40; i++) a.stack.connect({ remoteAddress: '10.0.1.1', remotePort: 80 });
  const q = a.eth.neighbors().find((n) => n.address === '10.0.1.1')!;
  assert.ok(q.queued * 60 <= 3000 && q.queued > 0, `queue bounded by bytes (${q.queued})`);
  assert.ok(a.eth.neighStats.unresDiscards > 0);
  w.run(10 * S);
  // FAILED entries are evicted first when new ones need room.
  a.stack.connect({ remoteAddress: '10.0.2.1', remotePort: 80 });
  assert.equal(state(a, '10.0.2.1'), 'INCOMPLETE');
});

test('NDP: a stale IPv6 neighbour in use is re-probed with a unicast NS to its own address, and confirmed', () => {
  const l = lan();
  l.w.run(1000);
  const { client } = transfer(l, 'fd00::2', 100);
  l.w.run(l.w.now + 300_000);
  assert.equal(state(l.a, 'fd00::2'), 'REACHABLE');
  l.w.run(l.w.now + 46 * S);
  assert.equal(state(l.a, 'fd00::2'), 'STALE');
  const before = l.log.length;
  client.write(new Uint8Array(10));
  l.w.run(l.w.now + 6 * S);
  const probes = l.log.slice(before).filter((e) => e.from === 'a' && /neighbor solicitation/.test(e.line));
  assert.equal(probes.length, 1);
  // RFC 4861 §7.2.2: a unicast probe goes to the cached MAC and to the target address itself.
  assert.match(probes[0]!.line, /^fd00::1 > fd00::2: ICMP6, neighbor solicitation, who has fd00::2/);
  assert.equal(formatMac(probes[0]!.frame, 0), MAC_B);
  assert.equal(state(l.a, 'fd00::2'), 'REACHABLE');
});

test('confirmNeighbor (TCP progress) keeps an entry REACHABLE without probes; formatNeighbors prints ip neigh lines', () => {
  const l = lan();
  l.w.run(1000);
  transfer(l, '10.0.0.2', 100);
  l.w.run(l.w.now + 300_000);
  const before = l.log.length;
  for (let i = 0; i < 12; i++) {
    l.a.eth.confirmNeighbor('10.0.0.2');
    l.w.run(l.w.now + 10 * S);
  }
  assert.equal(state(l.a, '10.0.0.2'), 'REACHABLE');
  assert.equal(l.log.slice(before).filter((e) => e.from === 'a' && arpOf(e.frame)?.op === ArpOp.REQUEST).length, 0, 'a never probed b');
  l.a.stack.connect({ remoteAddress: '10.0.0.77', remotePort: 80 });
  assert.equal(formatNeighbors(l.a.eth.neighbors(), 'eth0'), `10.0.0.2 dev eth0 lladdr ${MAC_B} REACHABLE\n10.0.0.77 dev eth0 INCOMPLETE`);
});

test('TCP progress confirms the neighbour (LINUX sk_dst_confirm): a sender whose data is ACKed never re-probes; a pure receiver does', () => {
  const l = lan();
  l.w.run(1000);
  const srv = l.b.stack.listen({ port: 80 });
  let got = 0;
  srv.onConnection = () => {
    const s = srv.accept()!;
    s.onData = () => {
      for (let d = s.read(); d !== null; d = s.read()) got += d.length;
    };
  };
  const c = l.a.stack.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  l.w.run(l.w.now + S);
  const start = l.log.length;
  // 1 KB a second for 150 s: far past the 15-45 s reachable time.
  for (let i = 0; i < 150; i++) {
    c.write(new Uint8Array(1000).fill(i & 0xff));
    l.w.run(l.w.now + S);
  }
  assert.equal(got, 150_000);
  const requests = (from: string) => l.log.slice(start).filter((e) => e.from === from && arpOf(e.frame)?.op === ArpOp.REQUEST).length;
  // a's segments after each ACK confirm b: the entry stays REACHABLE and a never asks again.
  assert.equal(requests('a'), 0, 'the sender re-probed although its data was being ACKed');
  assert.equal(state(l.a, '10.0.0.2'), 'REACHABLE');
  // b only receives (its ACKs acknowledge nothing new): its entry for a goes STALE and is
  // re-probed by unicast ARP when used, as on Linux.
  assert.ok(requests('b') >= 2, `the receiver re-probed ${requests('b')} times`);
});

test('the switch learns where each MAC is: after ARP, unicast goes to one port only; broadcast floods; ageing forgets', () => {
  const l = lan();
  let toC = 0;
  const c = l.sw.attach('c');
  c.onReceive(() => toC++);
  l.w.run(1000);
  transfer(l, '10.0.0.2', 50_000);
  l.w.run(l.w.now + S);
  const fdb = new Map(l.sw.fdb().map((e) => [e.mac, e.port]));
  assert.equal(fdb.get(MAC_A), 'a');
  assert.equal(fdb.get(MAC_B), 'b');
  // c saw the broadcast ARP request and nothing of the unicast conversation.
  assert.equal(toC, 1);
  assert.ok(l.sw.stats.forwarded > 20);
  // 802.1D ageing (300 s): an entry not refreshed is flooded again.
  l.w.run(l.w.now + 400 * S); // past the last neighbour probe plus 300 s
  const before = l.sw.stats.flooded;
  const frame = new Uint8Array(60);
  frame.set(parseMacBytes(MAC_B), 0);
  frame.set(parseMacBytes('02:00:00:00:00:cc'), 6);
  c.send(frame);
  assert.equal(l.sw.stats.flooded, before + 1, 'the aged-out MAC was flooded');
});

function parseMacBytes(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}

test('bad arguments throw errors naming the argument', () => {
  const w = new SimWorld({ seed: 1 });
  const sw = new SimSwitch(w.sim);
  const mk = (o: Record<string, unknown>): unknown => addEthernetHost(w, sw, `h${Math.random()}`, { mac: MAC_A, addresses: ['10.0.0.1/24'], ...o } as never);
  assert.throws(() => mk({ mac: '01:00:5e:00:00:01' }), /options\.mac must be a unicast MAC/);
  assert.throws(() => mk({ mac: '00:00:00:00:00:00' }), /options\.mac/);
  assert.throws(() => mk({ mac: 'nonsense' }), /options\.mac/);
  assert.throws(() => mk({ addresses: ['10.0.0.1/33'] }), /address: prefix in '10\.0\.0\.1\/33' must be 1\.\.32/);
  assert.throws(() => mk({ addresses: ['224.0.0.1/4'] }), /cannot be a host address/);
  assert.throws(() => mk({ addresses: ['10.0.0.1/24', '10.0.0.1/16'] }), /already on this interface/);
  assert.throws(() => mk({ gateway: 'gw' }), /gateway: 'gw' is not an IP address/);
  assert.throws(() => mk({ neigh: { retransTime: -1 } }), /neighbour config retransTime/);
  assert.throws(() => sw.attach('p', { loss: 2 }), /loss must be a probability/);
});
