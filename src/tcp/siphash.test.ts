import { test } from 'node:test';
import assert from 'node:assert/strict';
import { le64Bytes, sipHash24, sipKeyFromBytes } from './siphash.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KEY = sipKeyFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i));

test('SipHash-2-4: the paper\'s Appendix A vector (key 00..0f, message 00..0e)', () => {
  const msg = Uint8Array.from({ length: 15 }, (_, i) => i);
  assert.equal(sipHash24(KEY, msg), 0xa129ca6149be45e5n);
});

test('SipHash-2-4: the reference implementation\'s vectors (vectors.h, lengths 0, 1, 7, 8, 63)', () => {
  const out = (n: number): string => hex(le64Bytes(sipHash24(KEY, Uint8Array.from({ length: n }, (_, i) => i))));
  assert.equal(out(0), '310e0edd47db6f72');
  assert.equal(out(1), 'fd67dc93c539f874');
  assert.equal(out(7), '37d1018bf50002ab');
  assert.equal(out(8), '6224939a79f5f593');
  assert.equal(out(63), '724506eb4c328a95');
});

test('sipKeyFromBytes names its argument', () => {
  assert.throws(() => sipKeyFromBytes(new Uint8Array(15)), /key must be 16 bytes/);
});
