import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAddr, parseAddr } from './addr.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import { ArpOp, emitArp, newArpRepr, parseArp } from './arp.js';
import { emitEthernetHeader, EtherType, formatMac, ipv4MulticastMac, ipv6MulticastMac, linkLocalFromMac, parseMac, solicitedNodeAddr } from './ethernet.js';
import { formatFrame } from './format.js';
import { newIpRepr, parseIpHeader } from './ip.js';
import { emitNdp, NaFlag, ndpPacketLength, NdpType, newNdpRepr, parseNdp } from './ndp.js';
import { buildTcpPacket } from './tcp.js';
import { newTcpRepr, SYN } from './tcp-repr.js';
import { LINKTYPE_ETHERNET, PcapWriter } from '../link/pcap.js';

const MAC_A = parseMac('02:00:00:00:00:0a')!;
const MAC_B = parseMac('52:54:00:12:34:56')!;

function arp(op: number, dst: Uint8Array, spa: string, tha: Uint8Array, tpa: string): Uint8Array {
  const f = new Uint8Array(42);
  emitEthernetHeader(f, dst, MAC_A, EtherType.ARP);
  emitArp(f, 14, op, MAC_A, parseAddr(spa)!, tha, parseAddr(tpa)!);
  return f;
}

function ndp(type: 135 | 136, src: string, dst: string, target: string, flags: number, ll: boolean): Uint8Array {
  const f = new Uint8Array(14 + ndpPacketLength(ll));
  emitEthernetHeader(f, ipv6MulticastMac(parseAddr(dst)!), MAC_A, EtherType.IPV6);
  emitNdp(f.subarray(14), 0, type, parseAddr(src)!, parseAddr(dst)!, parseAddr(target)!, flags, ll ? MAC_A : null);
  return f;
}

test('MAC text, EUI-64 link-local (RFC 4291 App. A), solicited-node (§2.7.1) and multicast MACs (RFC 1112, 2464)', () => {
  assert.equal(formatMac(MAC_B), '52:54:00:12:34:56');
  assert.deepEqual(parseMac('52-54-00-12-34-56'), MAC_B);
  for (const bad of ['52:54:00:12:34', '52:54:00:12:34:5g', '52:54-00:12:34:56', '']) assert.equal(parseMac(bad), null, bad);
  // The address QEMU's default NIC gets from Linux: the U/L bit flipped, ff:fe in the middle.
  assert.equal(formatAddr(linkLocalFromMac(MAC_B), 0, 16), 'fe80::5054:ff:fe12:3456');
  const sn = solicitedNodeAddr(parseAddr('fd00::1:2:3')!);
  assert.equal(formatAddr(sn, 0, 16), 'ff02::1:ff02:3');
  assert.equal(formatMac(ipv6MulticastMac(sn)), '33:33:ff:02:00:03');
  assert.equal(formatMac(ipv4MulticastMac(parseAddr('224.128.0.1')!)), '01:00:5e:00:00:01', 'only the low 23 bits map');
});

test('ARP parse/emit round trip and the reasons a packet is refused', () => {
  const f = arp(ArpOp.REQUEST, new Uint8Array(6).fill(0xff), '10.0.0.1', new Uint8Array(6), '10.0.0.2');
  const r = newArpRepr();
  assert.equal(parseArp(f, 14, f.length, r), null);
  assert.equal(r.op, ArpOp.REQUEST);
  assert.equal(r.spaText, '10.0.0.1');
  assert.equal(r.tpaText, '10.0.0.2');
  assert.deepEqual(r.sha, MAC_A);
  assert.equal(parseArp(f, 14, 41, r), 'arp-truncated');
  const cases: [number, number, string][] = [
    [15, 6, 'arp-bad-hardware'], // htype 6 (IEEE 802)
    [18, 8, 'arp-bad-hardware'], // hlen 8
    [16, 0x86, 'arp-bad-protocol'], // ptype 0x86dd
    [21, 3, 'arp-bad-op'], // RARP request
  ];
  for (const [at, v, why] of cases) {
    const g = f.slice();
    g[at] = v;
    assert.equal(parseArp(g, 14, g.length, r), why, `byte ${at} = ${v}`);
  }
});

test('NS/NA parse/emit round trip and RFC 4861 §7.1 validation', () => {
  const ip = newIpRepr();
  const n = newNdpRepr();
  const ns = ndp(NdpType.NEIGHBOR_SOLICIT, 'fd00::1', 'ff02::1:ff00:2', 'fd00::2', 0, true).subarray(14);
  assert.equal(parseIpHeader(ns, ip, true), null);
  assert.equal(parseNdp(ns, ip, n), null);
  assert.equal(n.type, NdpType.NEIGHBOR_SOLICIT);
  assert.equal(n.targetText, 'fd00::2');
  assert.equal(n.hasLladdr, true);
  assert.deepEqual(n.lladdr, MAC_A);
  const na = ndp(NdpType.NEIGHBOR_ADVERT, 'fd00::2', 'fd00::1', 'fd00::2', NaFlag.SOLICITED | NaFlag.OVERRIDE, true).subarray(14);
  parseIpHeader(na, ip, true);
  assert.equal(parseNdp(na, ip, n), null);
  assert.equal(n.flags, NaFlag.SOLICITED | NaFlag.OVERRIDE);
  const broken = (pkt: Uint8Array, at: number, v: number): string | null => {
    const g = pkt.slice();
    g[at] = v;
    parseIpHeader(g, ip, false);
    return parseNdp(g, ip, n);
  };
  assert.equal(broken(ns, 7, 64), 'ndp-bad-hop-limit', 'RFC 4861 §7.1.1: hop limit 255');
  assert.equal(broken(ns, 50, 0x12), 'ndp-bad-checksum');
  // A zero-length option (§4.6), with the checksum recomputed so the option check is what refuses it.
  const zero = ns.slice();
  zero[65] = 0;
  zero[42] = zero[43] = 0;
  const c = finishChecksum(sum16(zero, 40, 32, pseudoHeaderSum(zero.subarray(8, 24), zero.subarray(24, 40), 58, 32)));
  zero[42] = c >> 8;
  zero[43] = c & 0xff;
  parseIpHeader(zero, ip, true);
  assert.equal(parseNdp(zero, ip, n), 'ndp-bad-option');
  // DAD: from :: without a source link-layer option is fine; with one it is not (§7.1.1).
  const dad = ndp(NdpType.NEIGHBOR_SOLICIT, '::', 'ff02::1:ff00:2', 'fd00::2', 0, false).subarray(14);
  parseIpHeader(dad, ip, true);
  assert.equal(parseNdp(dad, ip, n), null);
  assert.equal(n.fromUnspecified, true);
  const dadLl = ndp(NdpType.NEIGHBOR_SOLICIT, '::', 'ff02::1:ff00:2', 'fd00::2', 0, true).subarray(14);
  parseIpHeader(dadLl, ip, true);
  assert.equal(parseNdp(dadLl, ip, n), 'ndp-dad-with-lladdr');
  const mcastNa = ndp(NdpType.NEIGHBOR_ADVERT, 'fd00::2', 'ff02::1', 'fd00::2', NaFlag.SOLICITED, true).subarray(14);
  parseIpHeader(mcastNa, ip, true);
  assert.equal(parseNdp(mcastNa, ip, n), 'ndp-solicited-to-multicast');
});

const FRAMES = (): { frame: Uint8Array; line: string }[] => {
  const tcp = newTcpRepr();
  Object.assign(tcp, { srcPort: 40000, dstPort: 80, seq: 1, flags: SYN, window: 64240, mss: 1460 });
  const pkt = buildTcpPacket('10.0.0.1', '10.0.0.2', tcp);
  const ipf = new Uint8Array(14 + pkt.length);
  emitEthernetHeader(ipf, MAC_B, MAC_A, EtherType.IPV4);
  ipf.set(pkt, 14);
  return [
    { frame: arp(ArpOp.REQUEST, new Uint8Array(6).fill(0xff), '10.0.0.1', new Uint8Array(6), '10.0.0.2'), line: 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28' },
    { frame: arp(ArpOp.REPLY, MAC_B, '10.0.0.2', MAC_B, '10.0.0.1'), line: 'ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:0a, length 28' },
    { frame: arp(ArpOp.REQUEST, MAC_B, '10.0.0.1', MAC_B, '10.0.0.2'), line: 'ARP, Request who-has 10.0.0.2 (52:54:00:12:34:56) tell 10.0.0.1, length 28' },
    { frame: ndp(NdpType.NEIGHBOR_SOLICIT, 'fd00::1', 'ff02::1:ff00:2', 'fd00::2', 0, true), line: 'fd00::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fd00::2, length 32' },
    { frame: ndp(NdpType.NEIGHBOR_ADVERT, 'fd00::2', 'ff02::1', 'fd00::2', NaFlag.OVERRIDE, true), line: 'fd00::2 > ff02::1: ICMP6, neighbor advertisement, tgt is fd00::2, length 32' },
    { frame: ipf, line: '10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 64240, options [mss 1460], length 0' },
  ];
};

test('formatFrame prints ARP, NS/NA and IP over Ethernet in tcpdump words', () => {
  for (const { frame, line } of FRAMES()) assert.equal(formatFrame(frame, LINKTYPE_ETHERNET), line);
  assert.equal(formatFrame(new Uint8Array(10), LINKTYPE_ETHERNET), '[malformed: runt] 10 bytes');
  const odd = new Uint8Array(20);
  odd[12] = 0x88;
  odd[13] = 0xcc;
  assert.equal(formatFrame(odd, LINKTYPE_ETHERNET), 'ethertype 0x88cc, length 20');
});

test('formatFrame agrees with tcpdump itself on the same frames (Linux is the oracle)', (t) => {
  if (spawnSync('sh', ['-c', 'command -v tcpdump']).status !== 0) {
    t.skip('tcpdump is not installed');
    return;
  }
  const frames = FRAMES();
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c), { linktype: LINKTYPE_ETHERNET });
  frames.forEach((f, i) => w.write(i * 1000, f.frame));
  const dir = mkdtempSync(join(tmpdir(), 'synack-eth-'));
  try {
    const file = join(dir, 'eth.pcap');
    writeFileSync(file, Buffer.concat(chunks));
    const r = spawnSync('tcpdump', ['-nr', file, '-t', '-S'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = r.stdout.trim().split('\n').map((l) => l.replace(/^IP6? /, ''));
    assert.deepEqual(theirs, frames.map((f) => f.line));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
