/**
 * The relay protocol's frames: each type round-trips; malformed messages are reasons, not
 * exceptions; bad fields to encode throw naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRelay, encodeRelay, RelayType, type RelayFrame } from './relay-protocol.js';

test('every frame type round-trips', () => {
  const frames: RelayFrame[] = [
    { type: RelayType.OPEN_TCP, id: 1, port: 443, addr: Uint8Array.from([93, 184, 216, 34]) },
    { type: RelayType.OPEN_UDP, id: 0xffffffff, port: 53, addr: new Uint8Array(16).fill(0xfd, 0, 1) },
    { type: RelayType.OPENED, id: 2 },
    { type: RelayType.ERROR, id: 3, errno: 'ECONNREFUSED' },
    { type: RelayType.DATA, id: 4, data: Uint8Array.from([1, 2, 3]) },
    { type: RelayType.DATA, id: 4, data: new Uint8Array(0) },
    { type: RelayType.END, id: 5 },
    { type: RelayType.CLOSE, id: 6 },
    { type: RelayType.CREDIT, id: 7, bytes: 0xfffffffe },
  ];
  for (const f of frames) assert.deepEqual(decodeRelay(encodeRelay(f)), f);
  assert.deepEqual([...encodeRelay({ type: RelayType.CREDIT, id: 0x01020304, bytes: 5 })], [8, 1, 2, 3, 4, 0, 0, 0, 5]);
});

test('malformed messages are reasons; bad fields throw', () => {
  assert.equal(decodeRelay(Uint8Array.from([5, 0, 0])), 'relay-truncated');
  assert.equal(decodeRelay(Uint8Array.from([99, 0, 0, 0, 1])), 'relay-bad-type');
  assert.equal(decodeRelay(Uint8Array.from([1, 0, 0, 0, 1, 0, 80, 1, 2, 3])), 'relay-bad-address');
  assert.equal(decodeRelay(Uint8Array.from([4, 0, 0, 0, 1, 0x65])), 'relay-bad-errno');
  assert.equal(decodeRelay(Uint8Array.from([3, 0, 0, 0, 1, 0])), 'relay-truncated');
  assert.equal(decodeRelay(Uint8Array.from([8, 0, 0, 0, 1, 0, 0])), 'relay-truncated');
  assert.throws(() => encodeRelay({ type: RelayType.OPENED, id: -1 }), /id/);
  assert.throws(() => encodeRelay({ type: RelayType.OPEN_TCP, id: 1, port: 70000, addr: new Uint8Array(4) }), /port/);
  assert.throws(() => encodeRelay({ type: RelayType.ERROR, id: 1, errno: 'nope' }), /errno/);
});
