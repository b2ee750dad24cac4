import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOptionBytes, formatOptions, formatPacket, formatTcpLine } from './format.js';
import { buildTcpPacket } from './tcp.js';
import { ACK, FIN, newTcpRepr, PSH, RST, SYN, URG } from './tcp-repr.js';
import type { TcpRepr } from './tcp-repr.js';
import { LINUX_SYN } from './fixtures.test-util.js';

function repr(fields: Partial<TcpRepr>): TcpRepr {
  return Object.assign(newTcpRepr(), fields);
}

test('formatOptions follows emitTcp order', () => {
  const synOpts = { flags: SYN, mss: 1460, wscale: 7, sackPermitted: true, hasTimestamp: true, tsVal: 1 };
  assert.equal(formatOptions(repr(synOpts)), 'mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7');
  assert.equal(formatOptions(repr({ ...synOpts, hasTimestamp: false })), 'mss 1460,nop,nop,sackOK,nop,wscale 7');
  assert.equal(formatOptions(repr({ ...synOpts, sackPermitted: false })), 'mss 1460,nop,nop,TS val 1 ecr 0,nop,wscale 7');
  assert.equal(formatOptions(repr({ flags: SYN, wscale: 0 })), 'nop,wscale 0');
  const ack = repr({ flags: ACK, hasTimestamp: true, tsVal: 5, tsEcr: 6, sackCount: 1, mss: 1460 });
  ack.sackBlocks.set([1001, 2001]);
  assert.equal(formatOptions(ack), 'nop,nop,TS val 5 ecr 6,nop,nop,sack 1 {1001:2001}');
  assert.equal(formatOptions(repr({ flags: ACK })), '');
});

test('formatTcpLine prints fields as tcpdump -S does', () => {
  const a = '10.0.0.1';
  const b = '10.0.0.2';
  // A bare ACK occupies no sequence space: tcpdump prints no seq.
  assert.equal(
    formatTcpLine(a, b, repr({ srcPort: 1, dstPort: 2, seq: 5, ack: 7, flags: ACK, window: 502 })),
    '10.0.0.1.1 > 10.0.0.2.2: Flags [.], ack 7, win 502, length 0',
  );
  assert.equal(
    formatTcpLine(a, b, repr({ srcPort: 1, dstPort: 2, seq: 5, flags: RST })),
    '10.0.0.1.1 > 10.0.0.2.2: Flags [R], seq 5, win 0, length 0',
  );
  assert.equal(
    formatTcpLine(a, b, repr({ srcPort: 1, dstPort: 2, seq: 9, ack: 3, flags: FIN | ACK, window: 1 })),
    '10.0.0.1.1 > 10.0.0.2.2: Flags [F.], seq 9, ack 3, win 1, length 0',
  );
  const wrap = repr({ srcPort: 1, dstPort: 2, seq: 0xffffffff, ack: 1, flags: PSH | ACK | URG, urgent: 2 });
  wrap.payload = new Uint8Array(3);
  assert.equal(
    formatTcpLine(a, b, wrap),
    '10.0.0.1.1 > 10.0.0.2.2: Flags [PU.], seq 4294967295:2, ack 1, win 0, urg 2, length 3',
  );
  assert.equal(
    formatTcpLine('2001:db8::1', '::1', repr({ srcPort: 443, dstPort: 5, flags: SYN | ACK, mss: 1440 })),
    '2001:db8::1.443 > ::1.5: Flags [S.], seq 0, ack 0, win 0, options [mss 1440], length 0',
  );
  assert.equal(formatTcpLine(a, b, repr({ flags: 0 })), '10.0.0.1.0 > 10.0.0.2.0: Flags [none], win 0, length 0');
});

/** LINUX_SYN with its 20 option bytes replaced (checksums left stale: formatPacket ignores them). */
function synWithOptions(opts: number[]): Uint8Array {
  const f = LINUX_SYN.slice();
  f.set(opts, 40);
  return f;
}

test('formatPacket prints options in on-wire order from the raw bytes', () => {
  const line = formatPacket(synWithOptions([1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 1, 1, 3, 3, 9, 4, 2, 1]));
  assert.match(line, /options \[nop,nop,TS val 5 ecr 6,nop,nop,wscale 9,sackOK,nop\], length 0$/);
  const withEol = formatPacket(synWithOptions([2, 4, 5, 180, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]));
  assert.match(withEol, /options \[mss 1460,eol\]/);
  const unknown = formatPacket(synWithOptions([253, 4, 0xf9, 0x89, 34, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
  assert.match(unknown, /options \[unknown-253 0xf989,unknown-34,nop,/);
  const r = repr({ srcPort: 1, dstPort: 2, flags: ACK, hasTimestamp: true, tsVal: 5, tsEcr: 6, sackCount: 1 });
  r.sackBlocks.set([1001, 2001]);
  assert.equal(
    formatPacket(buildTcpPacket('10.0.0.1', '10.0.0.2', r)),
    '10.0.0.1.1 > 10.0.0.2.2: Flags [.], ack 0, win 0, options [nop,nop,TS val 5 ecr 6,nop,nop,sack 1 {1001:2001}], length 0',
  );
});

test('formatPacket: non-TCP and malformed packets', () => {
  const other = LINUX_SYN.slice();
  other[9] = 99;
  assert.equal(formatPacket(other), '10.0.0.1 > 10.0.0.2: ip-proto-99 40');
  assert.equal(formatPacket(new Uint8Array(3)), '[malformed: bad-ip-version] 3 bytes');
  assert.equal(formatPacket(LINUX_SYN.subarray(0, 30)), '[malformed: bad-ip-total-length] 30 bytes');
  assert.equal(formatPacket(synWithOptions([2, 0])), '[malformed: bad-tcp-option] 60 bytes');
});

test('formatOptionBytes copes with malformed bytes as tcpdump does', () => {
  const b = (...x: number[]): Uint8Array => new Uint8Array(x);
  assert.equal(formatOptionBytes(b(2, 0, 0, 0), 0, 4), '[bad opt]');
  assert.equal(formatOptionBytes(b(1, 8), 0, 2), 'nop,[bad opt]');
  assert.equal(formatOptionBytes(b(2, 5, 1, 2, 3), 0, 5), 'mss 258[len 5]');
  assert.equal(formatOptionBytes(b(5, 5, 0, 0, 0), 0, 5), 'sack invalid sack');
  assert.equal(formatOptionBytes(b(3, 2), 0, 2), 'wscale[len 2]');
  assert.equal(formatOptionBytes(b(), 0, 0), '');
});
