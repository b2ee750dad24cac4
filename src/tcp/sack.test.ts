import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scoreboard } from './sack.js';

const blk = (...p: number[]): Uint32Array => Uint32Array.from(p);

test('scoreboard merges blocks, prunes below the ACK, detects D-SACK', () => {
  const sb = new Scoreboard();
  assert.equal(sb.update(blk(3000, 4000, 5000, 6000), 2, 1000, 10000), false);
  assert.deepEqual(sb.ranges(), [[3000, 4000], [5000, 6000]]);
  sb.update(blk(4000, 5000), 1, 1000, 10000);
  assert.deepEqual(sb.ranges(), [[3000, 6000]]);
  assert.equal(sb.sackedBytes, 3000);
  // D-SACK: first block below the cumulative ACK (RFC 2883 §4.1)
  assert.equal(sb.update(blk(500, 1000, 3000, 6000), 2, 1000, 10000), true);
  // D-SACK inside the second block (§4.2)
  assert.equal(sb.update(blk(3500, 4000, 3000, 6000), 2, 1000, 10000), true);
  sb.pruneBelow(4000);
  assert.deepEqual(sb.ranges(), [[4000, 6000]]);
  // blocks beyond SND.MAX are ignored
  sb.update(blk(20000, 21000), 1, 4000, 10000);
  assert.deepEqual(sb.ranges(), [[4000, 6000]]);
});

test('the DupThresh threshold: 3, raised by learned reordering up to 2/3 of the flight, early retransmit below 4 segments', () => {
  const sb = new Scoreboard();
  sb.flightSegs = 30;
  assert.equal(sb.threshold, 3);
  sb.dupThresh = 10;
  assert.equal(sb.threshold, 10);
  sb.flightSegs = 9;
  assert.equal(sb.threshold, 6); // RFC 4653 bound: 2/3 of what is in flight
  sb.flightSegs = 3;
  sb.noNewData = true;
  assert.equal(sb.threshold, 2); // RFC 5827 early retransmit: oseg - 1
  sb.flightSegs = 1;
  assert.equal(sb.threshold, 3); // one segment: nothing to compare with
});

test('sequence wrap: ranges across 2^32 merge, count and answer sackedEnd', () => {
  const sb = new Scoreboard();
  const base = 0xffff_f000;
  sb.update(blk((base + 0x2000) >>> 0, (base + 0x4000) >>> 0), 1, base, (base + 0x8000) >>> 0);
  sb.update(blk((base + 0x4000) >>> 0, (base + 0x6000) >>> 0), 1, base, (base + 0x8000) >>> 0);
  assert.equal(sb.sackedBytes, 0x4000);
  assert.deepEqual(sb.ranges(), [[(base + 0x2000) >>> 0, (base + 0x6000) >>> 0]]);
  assert.equal(sb.sackedEnd((base + 0x3000) >>> 0), (base + 0x6000) >>> 0);
  assert.equal(sb.sackedEnd(base), null);
  assert.equal(sb.highSacked(base), (base + 0x6000) >>> 0);
});
