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

test('IsLost needs DupThresh segments SACKed above; NextSeg walks holes past HighRxt', () => {
  const sb = new Scoreboard();
  const mss = 1000;
  sb.highRxt = 1000;
  sb.update(blk(2000, 3000), 1, 1000, 10000);
  assert.equal(sb.nextLostHole(1000, mss), null); // only 1 MSS above
  sb.update(blk(2000, 5000, 6000, 9000), 2, 1000, 10000);
  assert.deepEqual(sb.nextLostHole(1000, mss), [1000, 1000]);
  sb.highRxt = 2000;
  assert.deepEqual(sb.nextLostHole(1000, mss), [5000, 1000]);
  sb.highRxt = 6000;
  assert.equal(sb.nextLostHole(1000, mss), null); // [9000,10000) has nothing SACKed above it
  // pipe: outstanding 9000, sacked 6000, lost-not-retransmitted 0 (both holes retransmitted)
  assert.equal(sb.pipe(1000, 10000, mss), 3000);
  sb.highRxt = 1000;
  assert.equal(sb.pipe(1000, 10000, mss), 1000);
});

test('sequence wrap', () => {
  const sb = new Scoreboard();
  const base = 0xffff_f000;
  sb.highRxt = base; // set at recovery entry (RFC 6675 §5: HighRxt = HighACK)
  sb.update(blk((base + 0x2000) >>> 0, (base + 0x6000) >>> 0), 1, base, (base + 0x8000) >>> 0);
  assert.equal(sb.sackedBytes, 0x4000);
  assert.deepEqual(sb.nextLostHole(base, 1000), [base, 1000]);
});
