import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFragment, newIpRepr, parseIpHeader } from './ip.js';
import type { IpRepr } from './ip.js';
import { buildTcpPacket, emitTcp, parseTcp, tcpDataOffset, tcpHeaderLength, tcpOptionsLength } from './tcp.js';
import { ACK, newTcpRepr, payloadOfLength, PSH, SYN } from './tcp-repr.js';
import type { TcpRepr } from './tcp-repr.js';
import { formatPacket, formatTcpLine } from './format.js';
import { DATA_TS_SACK, IPV6_SYN, LINUX_SYN, LINUX_SYNACK } from './fixtures.test-util.js';
import { addrKeyOfText } from './addr.js';

function parse(frame: Uint8Array): { ip: IpRepr; tcp: TcpRepr } {
  const ip = newIpRepr();
  const tcp = newTcpRepr();
  assert.equal(parseIpHeader(frame, ip, true), null);
  assert.equal(parseTcp(frame, ip, tcp, true), null);
  return { ip, tcp };
}

function roundTrip(frame: Uint8Array, ip: IpRepr, tcp: TcpRepr, ipId: number): void {
  const again = buildTcpPacket(ip.src, ip.dst, tcp, { ttl: ip.ttl, ipId });
  assert.deepEqual(again, frame);
}

test('Linux SYN (IPv4): every field, re-emitted byte for byte, tcpdump line', () => {
  const { ip, tcp } = parse(LINUX_SYN);
  assert.deepEqual(ipCore(ip), { version: 4, src: '10.0.0.1', dst: '10.0.0.2', srcKey: addrKeyOfText('10.0.0.1'), dstKey: addrKeyOfText('10.0.0.2'), protocol: 6, ttl: 64, headerLength: 20, payloadLength: 40 });
  assert.equal(tcp.srcPort, 40000);
  assert.equal(tcp.dstPort, 80);
  assert.equal(tcp.seq, 2873126594);
  assert.equal(tcp.ack, 0);
  assert.equal(tcp.flags, SYN);
  assert.equal(tcp.window, 64240);
  assert.equal(tcp.urgent, 0);
  assert.equal(tcp.mss, 1460);
  assert.equal(tcp.wscale, 7);
  assert.equal(tcp.sackPermitted, true);
  assert.equal(tcp.hasTimestamp, true);
  assert.equal(tcp.tsVal, 3011226339);
  assert.equal(tcp.tsEcr, 0);
  assert.equal(tcp.sackCount, 0);
  assert.equal(tcp.payload.length, 0);
  assert.equal(tcpOptionsLength(tcp), 20);
  assert.equal(tcpHeaderLength(tcp), 40);
  roundTrip(LINUX_SYN, ip, tcp, 0x4a3b);
  const want =
    '10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 2873126594, win 64240, options [mss 1460,sackOK,TS val 3011226339 ecr 0,nop,wscale 7], length 0';
  assert.equal(formatPacket(LINUX_SYN), want);
  assert.equal(formatTcpLine(ip.src, ip.dst, tcp), want);
});

test('Linux SYN-ACK: every field, re-emitted byte for byte, tcpdump line', () => {
  const { ip, tcp } = parse(LINUX_SYNACK);
  assert.deepEqual(ipCore(ip), { version: 4, src: '10.0.0.2', dst: '10.0.0.1', srcKey: addrKeyOfText('10.0.0.2'), dstKey: addrKeyOfText('10.0.0.1'), protocol: 6, ttl: 64, headerLength: 20, payloadLength: 40 });
  assert.equal(tcp.srcPort, 80);
  assert.equal(tcp.dstPort, 40000);
  assert.equal(tcp.seq, 1234567890);
  assert.equal(tcp.ack, 2873126595);
  assert.equal(tcp.flags, SYN | ACK);
  assert.equal(tcp.window, 65160);
  assert.equal(tcp.mss, 1460);
  assert.equal(tcp.wscale, 7);
  assert.equal(tcp.sackPermitted, true);
  assert.equal(tcp.hasTimestamp, true);
  assert.equal(tcp.tsVal, 3905678901);
  assert.equal(tcp.tsEcr, 3011226339);
  assert.equal(tcp.sackCount, 0);
  assert.equal(tcp.payload.length, 0);
  roundTrip(LINUX_SYNACK, ip, tcp, 0);
  const want =
    '10.0.0.2.80 > 10.0.0.1.40000: Flags [S.], seq 1234567890, ack 2873126595, win 65160, options [mss 1460,sackOK,TS val 3905678901 ecr 3011226339,nop,wscale 7], length 0';
  assert.equal(formatPacket(LINUX_SYNACK), want);
  assert.equal(formatTcpLine(ip.src, ip.dst, tcp), want);
});

test('data segment with TS and SACK blocks: payload is a view, round trip, tcpdump line', () => {
  const { ip, tcp } = parse(DATA_TS_SACK);
  assert.deepEqual(ipCore(ip), { version: 4, src: '10.0.0.1', dst: '10.0.0.2', srcKey: addrKeyOfText('10.0.0.1'), dstKey: addrKeyOfText('10.0.0.2'), protocol: 6, ttl: 64, headerLength: 20, payloadLength: 58 });
  assert.equal(tcp.seq, 2873126595);
  assert.equal(tcp.ack, 1234567891);
  assert.equal(tcp.flags, PSH | ACK);
  assert.equal(tcp.window, 502);
  assert.equal(tcp.mss, -1);
  assert.equal(tcp.wscale, -1);
  assert.equal(tcp.sackPermitted, false);
  assert.equal(tcp.hasTimestamp, true);
  assert.equal(tcp.tsVal, 5);
  assert.equal(tcp.tsEcr, 6);
  assert.equal(tcp.sackCount, 2);
  assert.deepEqual([...tcp.sackBlocks.subarray(0, 4)], [1001, 2001, 3001, 4001]);
  assert.equal(Buffer.from(tcp.payload).toString(), 'hello\n');
  assert.equal(tcp.payload.buffer, DATA_TS_SACK.buffer, 'payload must be a view, not a copy');
  assert.equal(tcp.payload.byteOffset, DATA_TS_SACK.byteOffset + 72);
  roundTrip(DATA_TS_SACK, ip, tcp, 0x4a3c);
  const want =
    '10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 2873126595:2873126601, ack 1234567891, win 502, options [nop,nop,TS val 5 ecr 6,nop,nop,sack 2 {1001:2001}{3001:4001}], length 6';
  assert.equal(formatPacket(DATA_TS_SACK), want);
  assert.equal(formatTcpLine(ip.src, ip.dst, tcp), want);
});

test('IPv6 SYN: every field, re-emitted byte for byte, tcpdump line', () => {
  const { ip, tcp } = parse(IPV6_SYN);
  assert.deepEqual(ipCore(ip), { version: 6, src: 'fe80::1', dst: 'fe80::2', srcKey: addrKeyOfText('fe80::1'), dstKey: addrKeyOfText('fe80::2'), protocol: 6, ttl: 64, headerLength: 40, payloadLength: 40 });
  assert.equal(tcp.srcPort, 40000);
  assert.equal(tcp.dstPort, 80);
  assert.equal(tcp.seq, 1);
  assert.equal(tcp.flags, SYN);
  assert.equal(tcp.window, 64800);
  assert.equal(tcp.mss, 1440);
  assert.equal(tcp.wscale, 7);
  assert.equal(tcp.sackPermitted, true);
  assert.equal(tcp.tsVal, 7);
  assert.equal(tcp.tsEcr, 0);
  roundTrip(IPV6_SYN, ip, tcp, 0);
  const want = 'fe80::1.40000 > fe80::2.80: Flags [S], seq 1, win 64800, options [mss 1440,sackOK,TS val 7 ecr 0,nop,wscale 7], length 0';
  assert.equal(formatPacket(IPV6_SYN), want);
  assert.equal(formatTcpLine(ip.src, ip.dst, tcp), want);
});

test('trailing link padding beyond IPv4 total length is ignored', () => {
  const padded = new Uint8Array(LINUX_SYN.length + 6);
  padded.set(LINUX_SYN);
  const { ip, tcp } = parse(padded);
  assert.equal(ip.payloadLength, 40);
  assert.equal(tcp.payload.length, 0);
});

function syn(): TcpRepr {
  const r = newTcpRepr();
  r.flags = SYN;
  r.mss = 1460;
  r.wscale = 7;
  r.sackPermitted = true;
  r.hasTimestamp = true;
  r.tsVal = 1;
  return r;
}

function optionBytes(r: TcpRepr): number[] {
  const pkt = buildTcpPacket('10.0.0.1', '10.0.0.2', r);
  return [...pkt.subarray(40, 20 + tcpHeaderLength(r))];
}

test('SYN option layouts are exactly Linux tcp_options_write()', () => {
  const all = syn();
  assert.deepEqual(optionBytes(all), [2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
  const noTs = syn();
  noTs.hasTimestamp = false;
  assert.deepEqual(optionBytes(noTs), [2, 4, 5, 180, 1, 1, 4, 2, 1, 3, 3, 7]);
  const tsOnly = syn();
  tsOnly.sackPermitted = false;
  tsOnly.mss = -1;
  tsOnly.wscale = -1;
  assert.deepEqual(optionBytes(tsOnly), [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]);
  const mssOnly = syn();
  mssOnly.sackPermitted = mssOnly.hasTimestamp = false;
  mssOnly.wscale = -1;
  assert.deepEqual(optionBytes(mssOnly), [2, 4, 5, 180]);
  const bare = newTcpRepr();
  bare.flags = SYN;
  assert.equal(tcpOptionsLength(bare), 0);
});

test('non-SYN: SYN-only options are not written; SACK blocks trimmed to fit 40 bytes', () => {
  const r = syn();
  r.flags = ACK;
  r.sackCount = 4;
  r.sackBlocks.set([10, 20, 30, 40, 50, 60, 70, 80]);
  assert.equal(tcpOptionsLength(r), 40); /* 12 TS + 4 + 3*8 */
  const o = optionBytes(r);
  assert.deepEqual(o.slice(0, 16), [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 5, 26]);
  r.hasTimestamp = false;
  assert.equal(tcpOptionsLength(r), 36); /* 4 + 4*8 */
  assert.deepEqual(optionBytes(r).slice(0, 4), [1, 1, 5, 34]);
  r.flags = SYN | ACK; /* SACK blocks are never sent on a SYN */
  assert.equal(tcpOptionsLength(r), 12);
});

test('emitTcp writes at an offset, honours computeChecksum=false and the AE bit', () => {
  const r = newTcpRepr();
  r.srcPort = 1;
  r.dstPort = 2;
  r.flags = 0x100 | ACK;
  r.payload = new Uint8Array([1, 2, 3]);
  const buf = new Uint8Array(40).fill(0xee);
  const src = new Uint8Array([1, 1, 1, 1]);
  const n = emitTcp(buf, 5, r, src, src, false);
  assert.equal(n, 23);
  assert.equal(buf[4], 0xee);
  assert.equal(buf[5 + 12], 0x51);
  assert.equal(buf[5 + 13], ACK);
  assert.deepEqual([buf[5 + 16], buf[5 + 17]], [0, 0]);
  assert.deepEqual([...buf.subarray(25, 29)], [1, 2, 3, 0xee]);
});

test('buildTcpPacket: TypeError naming the bad argument', () => {
  const r = newTcpRepr();
  assert.throws(() => buildTcpPacket('10.0.0.300', '10.0.0.1', r), { name: 'TypeError', message: /\bsrc\b/ });
  assert.throws(() => buildTcpPacket('10.0.0.1', 'x', r), { name: 'TypeError', message: /\bdst\b/ });
  assert.throws(() => buildTcpPacket('10.0.0.1', '::1', r), { name: 'TypeError', message: /IPv6 but src/ });
  const pkt = buildTcpPacket('::1', '::1', r, { ttl: 3 });
  assert.equal(pkt.length, 60);
  assert.equal(pkt[7], 3);
  const noSum = buildTcpPacket('1.2.3.4', '5.6.7.8', r, { checksum: false });
  assert.deepEqual([noSum[10], noSum[11], noSum[36], noSum[37]], [0, 0, 0, 0]);
});

/** The address and length fields of an IpRepr; the fragment fields are checked as isFragment() === false. */
function ipCore(ip: IpRepr): Partial<IpRepr> {
  assert.equal(isFragment(ip), false);
  const { version, src, dst, srcKey, dstKey, protocol, ttl, headerLength, payloadLength } = ip;
  return { version, src, dst, srcKey, dstKey, protocol, ttl, headerLength, payloadLength };
}

test('snapped: a capture cut inside the payload parses with the lengths from the IP header, IPv4 and IPv6; unsnapped it is dropped', () => {
  for (const [src, dst] of [['10.0.0.1', '10.0.0.2'], ['fd00::1', 'fd00::2']] as const) {
    const r = newTcpRepr();
    r.srcPort = 40000;
    r.dstPort = 80;
    r.seq = 1000;
    r.flags = ACK | PSH;
    r.hasTimestamp = true;
    r.tsVal = 7;
    r.payload = new Uint8Array(1000).fill(0x61);
    const whole = buildTcpPacket(src, dst, r);
    const cut = whole.subarray(0, 128);
    const ip = newIpRepr();
    const tcp = newTcpRepr();
    assert.notEqual(parseIpHeader(cut, ip, false), null, 'unsnapped, the IP header claims more than arrived');
    assert.equal(parseIpHeader(cut, ip, false, true), null);
    assert.equal(parseTcp(cut, ip, tcp, false, true), null);
    assert.equal(tcpDataOffset(cut, ip), 32);
    assert.equal(ip.payloadLength - tcpDataOffset(cut, ip), 1000, 'the segment length comes from the header');
    assert.equal(tcp.payload.length, 128 - ip.headerLength - 32, 'the payload is what was captured');
    assert.equal(tcp.tsVal, 7);
    // The header itself cut short is still truncated.
    assert.equal(parseTcp(whole.subarray(0, ip.headerLength + 24), ip, tcp, false, true), 'truncated');
  }
});

test('a segment whose bytes come from a payload source: emitTcp copies them (wrapping around a ring) and checksums them', () => {
  // A ring of 8 bytes whose contents start at index 5: "abcdefgh" stored as fgh|abcde.
  const ring = new TextEncoder().encode('fghabcde');
  const head = 3;
  const src = {
    copyOut(dst: Uint8Array, dstOff: number, from: number, n: number): void {
      for (let i = 0; i < n; i++) dst[dstOff + i] = ring[(head + from + i) % ring.length]!;
    },
  };
  const r = newTcpRepr();
  r.srcPort = 80;
  r.dstPort = 40000;
  r.seq = 0xfffffff0;
  r.ack = 7;
  r.flags = ACK | PSH;
  r.window = 1000;
  r.payload = payloadOfLength(6); // "cdefgh": bytes 2..8 of the ring's contents, across the wrap
  r.payloadSrc = src;
  r.payloadFrom = 2;
  const pkt = buildTcpPacket('10.0.0.1', '10.0.0.2', r);
  const ip = newIpRepr();
  assert.equal(parseIpHeader(pkt, ip, true), null);
  const back = newTcpRepr();
  assert.equal(parseTcp(pkt, ip, back, true), null, 'the checksum covers the copied bytes');
  assert.equal(new TextDecoder().decode(back.payload), 'cdefgh');
  assert.equal(back.payloadSrc, null);
  // The stand-in is one zero array per length, never the data.
  assert.equal(payloadOfLength(6), r.payload);
  assert.deepEqual([...payloadOfLength(6)], [0, 0, 0, 0, 0, 0]);
  assert.equal(payloadOfLength(0).length, 0);
  assert.throws(() => payloadOfLength(65536), /exceeds/);
});
