/**
 * The DHCP codec: a real client's DISCOVER parses, emit → parse round-trips, malformed input is
 * rejected with a reason and never throws (fast-check prints the seed and the shrunk
 * counterexample on failure; replay with { seed, path } in fc.assert's options).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BOOTP_MIN_LEN,
  BootpOp,
  DhcpField,
  DhcpOpt,
  DhcpType,
  dhcpAddrOption,
  dhcpClientHw,
  dhcpMessageType,
  dhcpTextOption,
  dhcpU32Option,
  emitDhcp,
  formatDhcp,
  newDhcpMessage,
  parseDhcp,
  textBytes,
  u32Bytes,
  type DhcpMessage,
} from './dhcp.js';

/** A DISCOVER as busybox udhcpc 1.36 sends it (captured with tcpdump -X, options trimmed). */
function udhcpcDiscover(): Uint8Array {
  const m = newDhcpMessage();
  m.op = BootpOp.REQUEST;
  m.xid = 0x3903f326;
  m.chaddr.set([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
  m.options.set(DhcpOpt.MESSAGE_TYPE, new Uint8Array([DhcpType.DISCOVER]));
  m.options.set(DhcpOpt.CLIENT_ID, new Uint8Array([1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56]));
  m.options.set(DhcpOpt.MAX_MESSAGE_SIZE, new Uint8Array([0x02, 0x40]));
  m.options.set(DhcpOpt.PARAM_REQUEST, new Uint8Array([1, 3, 6, 12, 15, 28, 42]));
  m.options.set(DhcpOpt.HOSTNAME, textBytes('guest'));
  return emitDhcp(m);
}

test('a DISCOVER round-trips with every field and option', () => {
  const bytes = udhcpcDiscover();
  assert.equal(bytes.length, BOOTP_MIN_LEN);
  // RFC 2131 §3: the magic cookie, then option 53 first.
  assert.deepEqual([...bytes.subarray(DhcpField.COOKIE, DhcpField.COOKIE + 4)], [99, 130, 83, 99]);
  assert.deepEqual([...bytes.subarray(240, 243)], [53, 1, 1]);
  const m = parseDhcp(bytes) as DhcpMessage;
  assert.equal(typeof m, 'object');
  assert.equal(dhcpMessageType(m), DhcpType.DISCOVER);
  assert.equal(m.xid, 0x3903f326);
  assert.equal(dhcpClientHw(m), '52:54:00:12:34:56');
  assert.equal(dhcpTextOption(m, DhcpOpt.HOSTNAME), 'guest');
  assert.deepEqual([...m.options.get(DhcpOpt.PARAM_REQUEST)!], [1, 3, 6, 12, 15, 28, 42]);
  assert.equal(formatDhcp(m), 'DHCP DISCOVER xid 0x3903f326 chaddr 52:54:00:12:34:56');
  assert.deepEqual(emitDhcp(m), bytes);
});

test('typed accessors read addresses and 32-bit values', () => {
  const m = newDhcpMessage();
  m.op = BootpOp.REPLY;
  m.options.set(DhcpOpt.MESSAGE_TYPE, new Uint8Array([DhcpType.ACK]));
  m.options.set(DhcpOpt.SERVER_ID, new Uint8Array([10, 0, 2, 2]));
  m.options.set(DhcpOpt.LEASE_TIME, u32Bytes(86400));
  const p = parseDhcp(emitDhcp(m)) as DhcpMessage;
  assert.equal(dhcpAddrOption(p, DhcpOpt.SERVER_ID), '10.0.2.2');
  assert.equal(dhcpU32Option(p, DhcpOpt.LEASE_TIME), 86400);
  assert.equal(dhcpU32Option(p, DhcpOpt.RENEWAL_TIME), null);
});

test('RFC 3396: a value longer than 255 octets is split on emit and joined on parse', () => {
  const m = newDhcpMessage();
  m.op = BootpOp.REPLY;
  m.options.set(DhcpOpt.MESSAGE_TYPE, new Uint8Array([DhcpType.OFFER]));
  const long = new Uint8Array(600).map((_, i) => i & 0xff);
  m.options.set(120, long);
  const bytes = emitDhcp(m);
  const p = parseDhcp(bytes) as DhcpMessage;
  assert.deepEqual(p.options.get(120), long);
  // Three pieces: 255 + 255 + 90.
  let pieces = 0;
  for (let i = 240; bytes[i] !== 255; i += 2 + bytes[i + 1]!) if (bytes[i] === 120) pieces++;
  assert.equal(pieces, 3);
});

test('RFC 2132 §9.3: options overloaded into file and sname are read', () => {
  const bytes = udhcpcDiscover();
  // Replace the END with an overload option (3 = both fields), then put options in file and sname.
  const end = bytes.indexOf(255, 240);
  bytes.set([52, 1, 3, 255], end);
  bytes.set([50, 4, 10, 0, 2, 99, 255], DhcpField.FILE);
  bytes.set([54, 4, 10, 0, 2, 2, 255], DhcpField.SNAME);
  const p = parseDhcp(bytes) as DhcpMessage;
  assert.equal(dhcpAddrOption(p, DhcpOpt.REQUESTED_ADDR), '10.0.2.99');
  assert.equal(dhcpAddrOption(p, DhcpOpt.SERVER_ID), '10.0.2.2');
});

test('malformed messages are rejected with a reason', () => {
  const ok = udhcpcDiscover();
  const edit = (fn: (b: Uint8Array) => void): Uint8Array => {
    const b = ok.slice();
    fn(b);
    return b;
  };
  assert.equal(parseDhcp(ok.subarray(0, 239)), 'dhcp-truncated');
  assert.equal(parseDhcp(edit((b) => (b[0] = 3))), 'dhcp-bad-op');
  assert.equal(parseDhcp(edit((b) => (b[2] = 17))), 'dhcp-bad-hlen');
  assert.equal(parseDhcp(edit((b) => (b[236] = 0))), 'dhcp-bad-cookie');
  // Option 53 with length 200 runs past the end.
  assert.equal(parseDhcp(edit((b) => (b[241] = 200)).subarray(0, 260)), 'dhcp-option-overrun');
  // Option 53 with a length of 2 (RFC 2132 §9.6: exactly 1).
  assert.equal(parseDhcp(edit((b) => b.set([53, 2, 1, 0, 255], 240))), 'dhcp-bad-option-length');
  assert.equal(parseDhcp(edit((b) => b.set([53, 1, 9, 255], 240))), 'dhcp-bad-message-type');
  assert.equal(parseDhcp(edit((b) => b.set([0, 0, 0, 255], 240))), 'dhcp-no-message-type');
  // A router list whose length is not a multiple of 4.
  const m = parseDhcp(ok) as DhcpMessage;
  m.options.set(DhcpOpt.ROUTER, new Uint8Array(5));
  assert.equal(parseDhcp(emitDhcp(m)), 'dhcp-bad-option-length');
});

test('emitDhcp names the bad argument', () => {
  const m = newDhcpMessage();
  m.options.set(0, new Uint8Array(1));
  assert.throws(() => emitDhcp(m), /option code 0/);
  const n = newDhcpMessage();
  n.hlen = 20;
  assert.throws(() => emitDhcp(n), /hlen 20/);
});

test('property: random bytes and mutated messages never throw; valid ones round-trip', () => {
  const base = udhcpcDiscover();
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })
    .chain((edits) => fc.nat({ max: base.length }).map((cut) => ({ edits, cut })))
    .map(({ edits, cut }) => {
      const b = base.slice(0, Math.max(cut, 200));
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 400 })), (b) => {
      const m = parseDhcp(b);
      if (typeof m === 'string') return;
      // A message that parses emits again and parses to the same options.
      const again = parseDhcp(emitDhcp(m));
      assert.equal(typeof again, 'object');
      assert.deepEqual((again as DhcpMessage).options, m.options);
    }),
    { numRuns: 3000 },
  );
});
