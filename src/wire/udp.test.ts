import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddr } from './addr.js';
import { formatPacket } from './format.js';
import { emitIpv4Header, IPPROTO_UDP, newIpRepr, parseIpHeader } from './ip.js';
import { buildUdpPacket, newUdpRepr, parseUdp } from './udp.js';

function parse(f: Uint8Array) {
  const ip = newIpRepr();
  assert.equal(parseIpHeader(f, ip, true), null);
  const u = newUdpRepr();
  return { why: parseUdp(f, ip, u, true), u };
}

test('UDP emit → parse round trip, IPv4 and IPv6 (RFC 768 pseudo-header checksum)', () => {
  for (const [a, b] of [['10.0.0.1', '10.0.0.2'], ['fd00::1', 'fd00::2']] as const) {
    const f = buildUdpPacket(a, b, 5353, 53, new TextEncoder().encode('hello'));
    const { why, u } = parse(f);
    assert.equal(why, null);
    assert.deepEqual([u.srcPort, u.dstPort, u.payloadLength], [5353, 53, 5]);
    assert.equal(new TextDecoder().decode(f.subarray(u.payloadOffset, u.payloadOffset + u.payloadLength)), 'hello');
    assert.notEqual(u.checksum, 0);
  }
});

test('UDP checksum rules: zero means none on IPv4, refused on IPv6; a flipped bit is caught; a computed 0 is sent as 0xffff', () => {
  const v4 = buildUdpPacket('10.0.0.1', '10.0.0.2', 1, 2, new Uint8Array([1, 2, 3]));
  v4[26] = 0;
  v4[27] = 0;
  assert.equal(parse(v4).why, null, 'IPv4 checksum 0: accepted (RFC 768)');
  const v6 = buildUdpPacket('fd00::1', 'fd00::2', 1, 2, new Uint8Array([1, 2, 3]));
  v6[46] = 0;
  v6[47] = 0;
  assert.equal(parse(v6).why, 'udp-zero-checksum-v6', 'RFC 8200 §8.1');
  const bad = buildUdpPacket('10.0.0.1', '10.0.0.2', 1, 2, new Uint8Array([1, 2, 3]));
  bad[29] ^= 0x10;
  assert.equal(parse(bad).why, 'bad-udp-checksum');
  // Find a payload whose checksum computes to 0: then it must go out as 0xffff.
  let found = false;
  for (let x = 0; x < 0x10000 && !found; x++) {
    const f = buildUdpPacket('10.0.0.1', '10.0.0.2', 1, 2, new Uint8Array([x >> 8, x & 0xff]));
    if (f[26] === 0xff && f[27] === 0xff) {
      found = true;
      assert.equal(parse(f).why, null, '0xffff verifies (it is -0 in one\'s complement)');
    }
    assert.ok(!(f[26] === 0 && f[27] === 0), 'a computed checksum is never sent as 0');
  }
  assert.ok(found, 'some 2-byte payload has a computed checksum of 0');
});

test('UDP length rules: shorter than 8 or longer than the IP payload is dropped; bytes past it are ignored', () => {
  const f = buildUdpPacket('10.0.0.1', '10.0.0.2', 1, 2, new Uint8Array(10));
  const tooLong = f.slice();
  tooLong[25] = 30; // claims 30 > 18
  assert.equal(parse(tooLong).why, 'bad-udp-length');
  const tooShort = f.slice();
  tooShort[25] = 4;
  assert.equal(parse(tooShort).why, 'bad-udp-length');
  // A UDP Length of 8 inside a 12-byte IP payload: the 4 bytes after it are not data.
  const padded = buildUdpPacket('10.0.0.1', '10.0.0.2', 1, 2, new Uint8Array([9, 9, 9, 9]));
  padded[24] = 0;
  padded[25] = 8;
  padded[26] = 0; // checksum 0: none (IPv4), so the edit needs no new checksum
  padded[27] = 0;
  const { why, u } = parse(padded);
  assert.equal(why, null);
  assert.equal(u.payloadLength, 0);
  // An IP payload too short for the UDP header.
  const stub = new Uint8Array(24);
  emitIpv4Header(stub, 0, parseAddr('10.0.0.1')!, parseAddr('10.0.0.2')!, IPPROTO_UDP, 4, 64, 0, true);
  assert.equal(parse(stub).why, 'udp-truncated');
});

test('formatPacket prints UDP in tcpdump\'s words', () => {
  const f = buildUdpPacket('10.0.0.1', '10.0.0.2', 5353, 53, new Uint8Array(32));
  assert.equal(formatPacket(f), '10.0.0.1.5353 > 10.0.0.2.53: UDP, length 32');
  const f6 = buildUdpPacket('fd00::1', 'fd00::2', 7, 9, new Uint8Array(3));
  assert.equal(formatPacket(f6), 'fd00::1.7 > fd00::2.9: UDP, length 3');
  const bad = f.slice();
  bad[25] = 200;
  assert.equal(formatPacket(bad), '10.0.0.1.5353 > 10.0.0.2.53: UDP, bad length 192 > 32');
});
