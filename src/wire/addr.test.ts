import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrVersion, canonicalAddr, formatAddr, parseAddr, parseAddrInto, parseAddrMemo } from './addr.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

test('parseAddr: IPv4 dotted quads', () => {
  assert.deepEqual(parseAddr('10.0.0.1'), bytes(10, 0, 0, 1));
  assert.deepEqual(parseAddr('255.255.255.255'), bytes(255, 255, 255, 255));
  assert.deepEqual(parseAddr('0.0.0.0'), bytes(0, 0, 0, 0));
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.04', '1..2.3', '1.2.3.4.', ' 1.2.3.4', 'a.b.c.d', '1.2.3.-4']) {
    assert.equal(parseAddr(bad), null, bad);
  }
});

test('parseAddr: every RFC 4291 §2.2 IPv6 text form', () => {
  const full = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a);
  assert.deepEqual(parseAddr('2001:DB8:0:0:8:800:200C:417A'), full);
  assert.deepEqual(parseAddr('2001:db8::8:800:200c:417a'), full);
  assert.deepEqual(parseAddr('2001:0db8:0000:0000:0008:0800:200c:417a'), full);
  assert.deepEqual(parseAddr('::'), new Uint8Array(16));
  assert.deepEqual(parseAddr('::1'), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseAddr('fe80::'), bytes(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(parseAddr('::ffff:1.2.3.4'), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4));
  assert.deepEqual(parseAddr('0:0:0:0:0:ffff:1.2.3.4'), parseAddr('::ffff:1.2.3.4'));
  assert.deepEqual(parseAddr('::13.1.68.3'), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 1, 68, 3));
  assert.deepEqual(parseAddr('1:2:3:4:5:6:7::'), bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0));
  assert.deepEqual(parseAddr('::2:3:4:5:6:7:8'), bytes(0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
  const bad = [
    ':', ':::', '1:2', '1::2::3', ':1::2', '1::2:', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12345::',
    'g::1', '::1.2.3', '::1.2.3.256', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', '1:2:3:4:5:6:7', '::ffff:1.2.3.4:1',
  ];
  for (const s of bad) assert.equal(parseAddr(s), null, s);
});

test('parseAddrInto writes in place and reports the length', () => {
  const out = new Uint8Array(20);
  assert.equal(parseAddrInto('1.2.3.4', out, 2), 4);
  assert.deepEqual(out.subarray(2, 6), bytes(1, 2, 3, 4));
  assert.equal(parseAddrInto('::1', out, 4), 16);
  assert.equal(out[19], 1);
  assert.equal(parseAddrInto('nope', out, 0), 0);
});

test('formatAddr: RFC 5952 canonical text', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: first of equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3: longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one 0 group is not compressed
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0000::0001', 'fe80::1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], // §5: IPv4-mapped keeps the dotted quad
    ['0:0:0:0:0:FFFF:0A00:0001', '::ffff:10.0.0.1'],
    ['10.0.0.1', '10.0.0.1'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalAddr(input), want, input);
  assert.equal(canonicalAddr('bogus'), null);
  const frame = bytes(9, 9, 192, 168, 1, 2);
  assert.equal(formatAddr(frame, 2, 4), '192.168.1.2');
  assert.equal(formatAddr(parseAddr('::1')!), '::1');
  assert.throws(() => formatAddr(frame, 4, 4), RangeError);
});

test('addrVersion', () => {
  assert.equal(addrVersion('127.0.0.1'), 4);
  assert.equal(addrVersion('::1'), 6);
  assert.equal(addrVersion('localhost'), 0);
});

test('parseAddrMemo answers like parseAddrInto across memo hits, evictions and invalid texts', () => {
  const texts = ['10.0.0.1', '2001:db8::1', 'nope', '10.0.0.2', '::ffff:1.2.3.4', '10.0.0.1', '192.168.1.1', 'nope', '2001:db8::1'];
  for (let round = 0; round < 3; round++) {
    for (const t of texts) {
      const want = new Uint8Array(20).fill(0xee);
      const got = new Uint8Array(20).fill(0xee);
      assert.equal(parseAddrMemo(t, got, 2), parseAddrInto(t, want, 2), t);
      assert.deepEqual(got, want, t);
    }
  }
});
