import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, inWindow, seqMax } from './seq.js';

test('comparisons wrap at 2^32', () => {
  assert.ok(seqLt(0xffff_fff0, 0x10));
  assert.ok(seqGt(0x10, 0xffff_fff0));
  assert.ok(seqLe(5, 5) && seqGe(5, 5) && !seqLt(5, 5));
  assert.equal(seqAdd(0xffff_ffff, 2), 1);
  assert.equal(seqDiff(1, 0xffff_ffff), 2);
  assert.equal(seqMax(0xffff_fff0, 3), 3);
});

test('inWindow handles wrap and empty windows', () => {
  assert.ok(inWindow(2, 0xffff_fffe, 10));
  assert.ok(!inWindow(8, 0xffff_fffe, 10));
  assert.ok(!inWindow(5, 5, 0));
});
