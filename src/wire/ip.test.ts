import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { finishChecksum, pseudoHeaderSumAt, sum16 } from './checksum.js';
import { DROP_REASONS, emitIpv4Header, emitIpv6Header, newIpRepr, parseIpHeader } from './ip.js';
import type { DropReason } from './ip.js';
import { buildTcpPacket, parseTcp } from './tcp.js';
import { ACK, newTcpRepr } from './tcp-repr.js';
import { formatPacket } from './format.js';
import { IPV6_SYN, LINUX_SYN } from './fixtures.test-util.js';

/** Parse with checksums verified: the first reason, or null. */
function why(frame: Uint8Array): DropReason | null {
  const ip = newIpRepr();
  return parseIpHeader(frame, ip, true) ?? parseTcp(frame, ip, newTcpRepr(), true);
}

/** Recompute the IPv4 header checksum (when v4) and the TCP checksum of a crafted packet. */
function fixSums(f: Uint8Array, tcpOff = f[0]! >> 4 === 4 ? (f[0]! & 15) * 4 : 40): Uint8Array {
  const v4 = f[0]! >> 4 === 4;
  if (v4) {
    f[10] = f[11] = 0;
    const c = finishChecksum(sum16(f, 0, (f[0]! & 15) * 4));
    f[10] = c >> 8;
    f[11] = c & 0xff;
  }
  const len = (v4 ? (f[2]! << 8) | f[3]! : 40 + ((f[4]! << 8) | f[5]!)) - tcpOff;
  if (tcpOff + 18 > f.length || len < 18) return f;
  f[tcpOff + 16] = f[tcpOff + 17] = 0;
  const c = finishChecksum(sum16(f, tcpOff, len, pseudoHeaderSumAt(f, v4 ? 12 : 8, v4 ? 16 : 24, v4 ? 4 : 16, 6, len)));
  f[tcpOff + 16] = c >> 8;
  f[tcpOff + 17] = c & 0xff;
  return f;
}

function edit(base: Uint8Array, fn: (f: Uint8Array) => void, resum = true): Uint8Array {
  const f = base.slice();
  fn(f);
  return resum ? fixSums(f) : f;
}

/** A data segment with TS option (12 option bytes) and 4 bytes of payload, IPv4 or IPv6. */
function dataPacket(v6 = false): Uint8Array {
  const r = newTcpRepr();
  r.srcPort = 1234;
  r.dstPort = 80;
  r.flags = ACK;
  r.hasTimestamp = true;
  r.payload = new Uint8Array([1, 2, 3, 4]);
  return v6 ? buildTcpPacket('2001:db8::1', '2001:db8::2', r) : buildTcpPacket('192.0.2.1', '192.0.2.2', r);
}

/** Replace the 12 option bytes of dataPacket() (TCP header at 20, options at 40..52). */
function withOptions(opts: number[]): Uint8Array {
  assert.equal(opts.length, 12);
  return edit(dataPacket(), (f) => f.set(opts, 40));
}

test('the crafted baselines are valid', () => {
  assert.equal(why(dataPacket()), null);
  assert.equal(why(dataPacket(true)), null);
  assert.equal(why(fixSums(LINUX_SYN.slice())), null);
});

const cases: [string, Uint8Array, DropReason][] = [
  ['empty frame', new Uint8Array(0), 'truncated'],
  ['IPv4 shorter than 20 bytes', LINUX_SYN.subarray(0, 19), 'truncated'],
  ['IPv6 shorter than 40 bytes', IPV6_SYN.subarray(0, 39), 'truncated'],
  ['IHL longer than the frame', edit(LINUX_SYN.subarray(0, 30), (f) => (f[0] = 0x4f), false), 'truncated'],
  ['TCP segment shorter than 20 bytes', edit(LINUX_SYN, (f) => (f[3] = 30)), 'truncated'],
  ['version 5', edit(LINUX_SYN, (f) => (f[0] = 0x55)), 'bad-ip-version'],
  ['version 0', new Uint8Array([0]), 'bad-ip-version'],
  ['IHL 4', edit(LINUX_SYN, (f) => (f[0] = 0x44), false), 'bad-ip-header-length'],
  ['total length > frame', edit(LINUX_SYN, (f) => (f[3] = 61)), 'bad-ip-total-length'],
  ['total length < IHL', edit(LINUX_SYN, (f) => (f[3] = 19)), 'bad-ip-total-length'],
  ['IPv6 payload length > frame', edit(IPV6_SYN, (f) => (f[5] = 41)), 'bad-ip-total-length'],
  ['bad IPv4 header checksum', edit(LINUX_SYN, (f) => (f[11] ^= 1), false), 'bad-ip-checksum'],
  ['IPv4 more-fragments', edit(LINUX_SYN, (f) => (f[6] = 0x20)), 'ip-fragment'],
  ['IPv4 fragment offset', edit(LINUX_SYN, (f) => (f[7] = 1)), 'ip-fragment'],
  ['IPv6 fragment header', edit(IPV6_SYN, (f) => (f[6] = 44)), 'ip-fragment'],
  ['IPv6 hop-by-hop not first', v6Ext([60, 0]), 'bad-ip-ext-header'],
  ['IPv4 option with length 1', v4Options([7, 1, 0, 0]), 'bad-ip-option'],
  ['IPv4 option past the header', v4Options([1, 130, 11, 0]), 'bad-ip-option'],
  ['IPv4 option with no length byte', v4Options([1, 1, 1, 68]), 'bad-ip-option'],
  ['IPv6 ext header past the payload', edit(IPV6_SYN, (f) => ((f[6] = 60), (f[41] = 5))), 'bad-ip-ext-header'],
  ['UDP', edit(LINUX_SYN, (f) => (f[9] = 17)), 'not-tcp'],
  ['data offset 4', edit(LINUX_SYN, (f) => (f[32] = 0x40)), 'bad-tcp-header-length'],
  ['data offset past the segment', edit(LINUX_SYN, (f) => (f[32] = 0xb0)), 'bad-tcp-header-length'],
  ['bad TCP checksum (IPv4)', edit(dataPacket(), (f) => (f[f.length - 1] ^= 0x80), false), 'bad-tcp-checksum'],
  ['bad TCP checksum (IPv6)', edit(dataPacket(true), (f) => (f[40] ^= 1), false), 'bad-tcp-checksum'],
  ['zero-length option', withOptions([30, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 'bad-tcp-option'],
  ['option length 1', withOptions([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 30, 1]), 'bad-tcp-option'],
  ['option past the header', withOptions([1, 1, 1, 1, 1, 1, 8, 10, 0, 0, 0, 0]), 'bad-tcp-option'],
  ['kind without a length byte', withOptions([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]), 'bad-tcp-option'],
  ['MSS with length 5', withOptions([2, 5, 5, 180, 0, 1, 1, 1, 1, 1, 1, 1]), 'bad-tcp-option'],
  ['window scale with length 4', withOptions([3, 4, 7, 0, 1, 1, 1, 1, 1, 1, 1, 1]), 'bad-tcp-option'],
  ['sackOK with length 3', withOptions([4, 3, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 'bad-tcp-option'],
  ['SACK with no block', withOptions([5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 'bad-tcp-option'],
  ['SACK with half a block', withOptions([5, 6, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]), 'bad-tcp-option'],
  ['TS with length 8', withOptions([8, 8, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1]), 'bad-tcp-option'],
];

/** The IPv4 SYN with 4 bytes of IP options (IHL 6): RFC 791 §3.1 option encoding. */
function v4Options(opts: number[]): Uint8Array {
  const f = new Uint8Array(LINUX_SYN.length + 4);
  f.set(LINUX_SYN.subarray(0, 20), 0);
  f.set(opts, 20);
  f.set(LINUX_SYN.subarray(20), 24);
  f[0] = 0x46;
  f[3] = f[3]! + 4;
  return fixSums(f);
}

test('IPv4 options that are well formed are skipped: NOP, EOL, record route', () => {
  const ip = newIpRepr();
  for (const opts of [[1, 1, 1, 1], [1, 0, 0, 0], [0, 9, 9, 9], [7, 3, 4, 0]]) {
    assert.equal(why(v4Options(opts)), null, `options ${opts.join(',')}`);
    assert.equal(parseIpHeader(v4Options(opts), ip, true), null);
    assert.equal(ip.headerLength, 24);
  }
});

/** The IPv6 SYN with 8-byte extension headers of the given types chained in front of its TCP. */
function v6Ext(types: number[]): Uint8Array {
  const tcp = IPV6_SYN.subarray(40);
  const f = new Uint8Array(40 + 8 * types.length + tcp.length);
  f.set(IPV6_SYN.subarray(0, 40));
  f[5] = 8 * types.length + tcp.length;
  f[6] = types[0] ?? 6;
  types.forEach((_, i) => (f[40 + 8 * i] = types[i + 1] ?? 6)); /* Next Header; Hdr Ext Len 0 */
  f.set(tcp, 40 + 8 * types.length);
  return fixSums(f, 40 + 8 * types.length);
}

const UNVERIFIED = new Set<DropReason>(['bad-ip-checksum', 'bad-tcp-checksum', 'not-tcp']);

for (const [name, frame, reason] of cases) {
  test(`drop: ${name} -> ${reason}`, () => {
    assert.equal(why(frame), reason);
    // formatPacket does not verify checksums, so only the other reasons make it say malformed.
    if (reason === 'ip-fragment') assert.match(formatPacket(frame), / > .*: frag id \d+ offset \d+/);
    else if (!UNVERIFIED.has(reason)) assert.equal(formatPacket(frame), `[malformed: ${reason}] ${frame.length} bytes`);
  });
}

test('every DropReason is produced by some crafted packet', () => {
  assert.deepEqual(new Set(cases.map((c) => c[2])), new Set(DROP_REASONS));
});

test('IPv6 hop-by-hop and destination options are skipped', () => {
  const f = v6Ext([0, 60]); /* hop-by-hop, then destination options, then TCP */
  const ip = newIpRepr();
  assert.equal(parseIpHeader(f, ip, true), null);
  assert.equal(ip.protocol, 6);
  assert.equal(ip.headerLength, 56);
  assert.equal(ip.payloadLength, 40);
  const tcp = newTcpRepr();
  assert.equal(parseTcp(f, ip, tcp, true), null);
  assert.equal(tcp.mss, 1440);
});

test('unknown options with a sane length are skipped; EOL ends the list', () => {
  const ip = newIpRepr();
  const tcp = newTcpRepr();
  const f = withOptions([30, 4, 0xab, 0xcd, 8, 10, 0, 0, 0, 9, 0, 0]);
  assert.equal(why(f), 'bad-tcp-option'); /* the TS now runs past the header */
  const g = withOptions([30, 4, 0xab, 0xcd, 2, 4, 1, 0, 0, 99, 99, 99]);
  assert.equal(parseIpHeader(g, ip, true), null);
  assert.equal(parseTcp(g, ip, tcp, true), null);
  assert.equal(tcp.mss, 256);
  assert.equal(tcp.hasTimestamp, false);
  assert.equal(formatPacket(g).includes('options [unknown-30 0xabcd,mss 256,eol]'), true);
});

test('parseIpHeader does not verify the IPv4 checksum when told not to', () => {
  const f = edit(LINUX_SYN, (x) => (x[11] ^= 1), false);
  assert.equal(parseIpHeader(f, newIpRepr(), false), null);
});

test('emitIpv4Header / emitIpv6Header', () => {
  const buf = new Uint8Array(64);
  const src = new Uint8Array([10, 0, 0, 1]);
  const dst = new Uint8Array([10, 0, 0, 2]);
  assert.equal(emitIpv4Header(buf, 2, src, dst, 6, 40, 64, 0x4a3b, true), 20);
  assert.deepEqual(buf.subarray(2, 22), LINUX_SYN.subarray(0, 20));
  const s6 = IPV6_SYN.slice(8, 24);
  const d6 = IPV6_SYN.slice(24, 40);
  assert.equal(emitIpv6Header(buf, 0, s6, d6, 6, 40, 64), 40);
  assert.deepEqual(buf.subarray(0, 40), IPV6_SYN.subarray(0, 40));
});

test('emitIpv4Header: the header checksum verifies for any field values (summed from the values, not read back)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.record({ proto: fc.nat(255), len: fc.nat(65515), ttl: fc.nat(255), id: fc.nat(0xffff), frag: fc.nat(0xffff), tos: fc.nat(255), off: fc.nat(7) }),
      (src, dst, f) => {
        const buf = new Uint8Array(40).fill(0xa5);
        emitIpv4Header(buf, f.off, src, dst, f.proto, f.len, f.ttl, f.id, true, f.frag, f.tos);
        assert.equal(finishChecksum(sum16(buf, f.off, 20, 0)), 0);
        const ip = newIpRepr();
        assert.equal(parseIpHeader(buf.subarray(f.off, f.off + 20), ip, true, true), null);
      },
    ),
  );
});

test('tos: the IPv4 Type of Service byte and the IPv6 Traffic Class (across bytes 0 and 1)', () => {
  const ip = newIpRepr();
  const v4 = LINUX_SYN.slice();
  v4[1] = 0xb9;
  assert.equal(parseIpHeader(v4, ip, false), null);
  assert.equal(ip.tos, 0xb9);
  const v6 = IPV6_SYN.slice();
  v6[0] = 0x6b;
  v6[1] = (0x9 << 4) | (v6[1]! & 0xf);
  assert.equal(parseIpHeader(v6, ip, false), null);
  assert.equal(ip.tos, 0xb9);
});
