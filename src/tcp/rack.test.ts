import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from './connection.js';
import { Rack } from './rack.js';
import { Scoreboard } from './sack.js';

/** The few TCB fields RACK reads. */
function tcb(una: number, max: number): Connection & { sb: Scoreboard } {
  const sb = new Scoreboard();
  return {
    snd: { sndUna: una, sndMax: max, rec: { sb, recovering: false }, rtt: { srtt: 20_000 } },
    sb,
    effMss: 1000,
    mib: {},
    tsOffset: 0,
  } as unknown as Connection & { sb: Scoreboard };
}
const blk = (...p: number[]): Uint32Array => Uint32Array.from(p);

test('RACK: a burst sent at one instant is ordered by transmission; the hole is lost after RTT + reo_wnd', () => {
  const r = new Rack();
  for (let i = 0; i < 5; i++) r.onSend(1000 + i * 1000, 2000 + i * 1000, 0); // [1000, 6000) at t=0
  assert.equal(r.size, 5);
  const c = tcb(1000, 6000);
  // At 20 ms: [1000, 2000) acknowledged, [3000, 4000) SACKed: [2000, 3000) is a candidate.
  c.sb.update(blk(3000, 4000), 1, 2000, 6000);
  r.onAck(c, 20_000, 2000, true, null, false);
  c.snd.sndUna = 2000;
  assert.equal(r.size, 4);
  assert.equal(r.rtt, 20_000);
  assert.equal(r.minRtt, 20_000);
  // One SACKed, no reordering seen: reo_wnd = min_RTT / 4; lost 5 ms from now.
  assert.equal(r.reoWnd(c), 5_000);
  assert.equal(r.detect(c, 20_000), 5_000);
  assert.equal(r.lostBytes, 0);
  assert.equal(r.detect(c, 25_000), 0);
  assert.equal(r.lostBytes, 1000);
  assert.equal(c.mib.TCPRackLoss, 1);
  const i = r.firstLostIndex();
  assert.deepEqual([r.startOf(i), r.endOf(i)], [2000, 3000]);
  // Its retransmission, at the same instant as new data sent before it, is the later send.
  r.onSend(6000, 7000, 25_000);
  r.onSend(2000, 3000, 25_000);
  assert.equal(r.lostBytes, 0);
  assert.equal(r.firstLostIndex(), -1);
  // The new data is SACKed at 45 ms: RACK's segment is [6000, 7000); the retransmission,
  // sent after it, is no candidate even though both left at 25 ms.
  c.snd.sndMax = 7000;
  c.sb.update(blk(6000, 7000, 3000, 4000), 2, 2000, 7000);
  r.onAck(c, 45_000, 2000, true, null, false);
  assert.equal(r.endSeq, 7000);
  r.detect(c, 1_000_000);
  // [4000, 6000) sent at 0 are lost by now; [2000, 3000) is not.
  assert.equal(r.lostBytes, 2000);
  assert.deepEqual([r.startOf(r.firstLostIndex()), r.endOf(r.firstLostIndex())], [4000, 5000]);
});

test('RACK: a retransmission covering part of a record splits it; cumulative ACKs prune', () => {
  const r = new Rack();
  r.onSend(0, 3000, 0);
  r.onSend(3000, 4000, 0);
  r.onSend(1000, 2000, 10_000); // middle of the first record
  assert.equal(r.size, 4);
  assert.deepEqual([0, 1, 2, 3].map((i) => [r.startOf(i), r.endOf(i)]), [[0, 1000], [1000, 2000], [2000, 3000], [3000, 4000]]);
  const c = tcb(0, 4000);
  r.onAck(c, 20_000, 2500, false, null, false);
  assert.equal(r.size, 2);
  assert.deepEqual([r.startOf(0), r.endOf(0)], [2500, 3000]);
  // RFC 8985 §6.2 step 2: the retransmission at 10 ms, acknowledged 10 ms later — less than
  // min_RTT (20 ms, from [0, 1000)) — may have been acknowledged for its original: it does not
  // become RACK's segment.
  assert.equal(r.minRtt, 20_000);
  assert.equal(r.xmitTs, 0);
  assert.equal(r.endSeq, 1000);
  // Retransmitting past the last record appends the new part.
  r.onSend(3000, 5000, 30_000);
  assert.equal(r.size, 3);
  assert.deepEqual([r.startOf(2), r.endOf(2)], [4000, 5000]);
});
