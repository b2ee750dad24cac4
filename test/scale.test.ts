/**
 * Issue 14's scale item, as a size test rather than a timed one: 20,000 idle connections between
 * two stacks on virtual time (bench/scale.ts, the same code `npm run bench -- --only scale` runs
 * at 100k and 1M) must each cost at most 2 KiB of heap per TCB (both ends counted), all be
 * ESTABLISHED, and leave no connection timer queued while idle (keepalive is off by default).
 * 20,000 to one server port fills 71 % of that destination's ephemeral range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaleIdle } from '../bench/scale.js';
import { B, Pair } from '../bench/pair.js';

test('20,000 idle established connections: <= 1600 B of heap per TCB (the goal: 2 KiB), no timer queued while idle', () => {
  scaleIdle(2000); // warm-up: the JIT's code and the handshake path's one-off allocations
  const r = scaleIdle(20_000);
  assert.equal(r.serverPorts, 1);
  assert.equal(r.tcbs, 40_000);
  assert.ok(r.heapBytesPerTcb <= 2048, `heap per idle TCB ${r.heapBytesPerTcb.toFixed(0)} B > 2048 B`);
  // What the merged TCB parts (the next test) are worth: 1,482 B here, 1,619 B before the merge.
  assert.ok(r.heapBytesPerTcb <= 1600, `heap per idle TCB ${r.heapBytesPerTcb.toFixed(0)} B > 1600 B`);
  assert.ok(r.heapBytesPerTcb > 200, `heap per idle TCB ${r.heapBytesPerTcb.toFixed(0)} B: the measurement missed the connections`);
  assert.equal(r.idleWithoutTimers, true, 'an idle connection keeps a timer queued');
});

test("a TCB's timer table, RTT estimator, receive ring and SACK scoreboard are no objects of their own", () => {
  const p = new Pair({ mtu: 1500, checksumOffload: false });
  p.b.listen({ port: 80 });
  p.a.connect({ remoteAddress: B, remotePort: 80 });
  p.pump();
  const c = p.a.connections()[0]!;
  assert.equal(c.state, 'ESTABLISHED');
  // Each part is its owner's superclass (fewer objects for the young-generation collector to copy).
  assert.equal(c.timers, c);
  assert.equal(c.snd.rtt, c.snd);
  assert.equal(c.rcv.recvBuf, c.rcv);
  assert.equal(c.snd.rec.sb, c.snd.rec);
});
