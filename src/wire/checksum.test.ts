import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { finishChecksum, pseudoHeaderSum, pseudoHeaderSumAt, sum16 } from './checksum.js';

/** The obvious reference: words, then fold with BigInt so no carry is ever lost. */
function naive(b: Uint8Array): number {
  let s = 0n;
  for (let i = 0; i < b.length; i += 2) s += BigInt((b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0));
  while (s > 0xffffn) s = (s & 0xffffn) + (s >> 16n);
  return Number(~s & 0xffffn);
}

test('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
  const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  const acc = sum16(b, 0, b.length);
  let folded = acc;
  while (folded > 0xffff) folded = (folded & 0xffff) + Math.floor(folded / 0x10000);
  assert.equal(folded, 0xddf2);
  assert.equal(finishChecksum(acc), 0x220d);
});

test('odd lengths pad the last byte on the right', () => {
  assert.equal(sum16(new Uint8Array([0xab]), 0, 1), 0xab00);
  assert.equal(sum16(new Uint8Array([1, 2, 3]), 0, 3), 0x0102 + 0x0300);
  assert.equal(sum16(new Uint8Array([9, 1, 2, 3, 9]), 1, 3), 0x0102 + 0x0300);
  assert.equal(finishChecksum(sum16(new Uint8Array(0), 0, 0)), 0xffff);
});

test('chaining sums equals one sum; a correct checksum verifies to 0', () => {
  const b = new Uint8Array(1001).map((_, i) => (i * 37 + 11) & 0xff);
  // (equal after folding: long inputs return a sum congruent mod 0xffff, not the exact sum)
  assert.equal(finishChecksum(sum16(b, 500, 501, sum16(b, 0, 500))), finishChecksum(sum16(b, 0, 1001)));
  const c = finishChecksum(sum16(b, 0, 1001));
  const withSum = new Uint8Array(1003);
  withSum.set(b.subarray(0, 1000));
  withSum[1000] = c >> 8;
  withSum[1001] = c & 0xff;
  withSum[1002] = b[1000]!;
  assert.equal(finishChecksum(sum16(withSum, 0, 1003)), 0);
});

test('agrees with a naive reference on random data (incl. 100 KiB)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), (b) => {
      assert.equal(finishChecksum(sum16(b, 0, b.length)), naive(b));
    }),
    { numRuns: 300 },
  );
  const big = new Uint8Array(100_003).fill(0xff);
  assert.equal(finishChecksum(sum16(big, 0, big.length)), naive(big));
  const rnd = new Uint8Array(70_001).map((_, i) => (i * 2654435761) >>> 24);
  assert.equal(finishChecksum(sum16(rnd, 0, rnd.length)), naive(rnd));
});

test('any offset, length and memory alignment agrees with the reference (wide 32-bit path)', () => {
  const ab = new ArrayBuffer(4200);
  const whole = new Uint8Array(ab);
  for (let i = 0; i < whole.length; i++) whole[i] = (i * 2654435761) >>> 24;
  fc.assert(
    fc.property(fc.nat(7), fc.nat(7), fc.nat(4000), (viewOff, off, len) => {
      const view = new Uint8Array(ab, viewOff, 4200 - viewOff);
      len = Math.min(len, view.length - off);
      assert.equal(finishChecksum(sum16(view, off, len)), naive(whole.subarray(viewOff + off, viewOff + off + len)));
    }),
    { numRuns: 500 },
  );
  const ones = new Uint8Array(4096).fill(0xff);
  assert.equal(finishChecksum(sum16(ones, 0, ones.length)), 0);
  const zeros = new Uint8Array(4096);
  assert.equal(finishChecksum(sum16(zeros, 0, zeros.length)), 0xffff);
});

test('pseudo-headers: IPv4 (RFC 9293 §3.1) and IPv6 (RFC 8200 §8.1)', () => {
  const s4 = new Uint8Array([10, 0, 0, 1]);
  const d4 = new Uint8Array([10, 0, 0, 2]);
  const ph4 = new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 40]);
  assert.equal(finishChecksum(pseudoHeaderSum(s4, d4, 6, 40)), naive(ph4));
  const s6 = new Uint8Array(16).fill(0xfe);
  const d6 = new Uint8Array(16).fill(0x01);
  const ph6 = new Uint8Array(40);
  ph6.set(s6, 0);
  ph6.set(d6, 16);
  ph6.set([0x00, 0x01, 0x00, 0x28, 0, 0, 0, 6], 32); /* length 65576: the 32-bit field */
  assert.equal(finishChecksum(pseudoHeaderSum(s6, d6, 6, 65576)), naive(ph6));
  const frame = new Uint8Array(40);
  frame.set(s6, 8);
  frame.set(d6, 24);
  assert.equal(pseudoHeaderSumAt(frame, 8, 24, 16, 6, 65576), pseudoHeaderSum(s6, d6, 6, 65576));
});
