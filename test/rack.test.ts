/**
 * RACK time-based loss detection (RFC 8985 §6): a loss that DupThresh cannot see, reordering
 * within the reordering window, a lost retransmission. (The Mathis check of goodput under random
 * loss, which RACK must not spoil, is in transfer.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTransfer } from '../src/demo/transfer.js';
import { countReceived, lossyTransfer } from './helpers.js';
import { SimWorld } from '../src/driver/world.js';
import { Timer } from '../src/tcp/timers.js';
import { newIpRepr, parseIpHeader } from '../src/wire/ip.js';
import { parseTcp } from '../src/wire/tcp.js';
import { newTcpRepr } from '../src/wire/tcp-repr.js';

const MSS = 1448;

test('RACK: a lost segment is detected by time, where DupThresh would wait for SACKs that cannot come', () => {
  // The receiver's window holds three segments and more data is queued, so neither three SACKed
  // segments (RFC 6675 DupThresh) nor early retransmit (RFC 5827: nothing new to send) can ever
  // trigger: segment 2 is lost, only segment 3 (and then 4, sent when 1 is acknowledged) are
  // SACKed. Before RACK this waited for the tail loss probe and recovered at 230 ms.
  const r = lossyTransfer(20, [MSS], 1, { recvBuffer: 4 * MSS, recvBufferMax: 4 * MSS });
  const dump = r.lines.join('\n');
  assert.equal(r.got, 20 * MSS, dump);
  const [orig, rxt, ...more] = r.sends.get(MSS)!;
  assert.equal(more.length, 0, dump);
  // RFC 8985 §6.2 step 5: lost once RACK.rtt + RACK.reo_wnd have passed since it was sent:
  // the SACK of segment 3 (sent with it) comes one RTT (20 ms) later, with fewer than DupThresh
  // segments SACKed and no reordering seen reo_wnd is min_RTT/4 = 5 ms, armed as the RACK
  // reordering timer (§6.3).
  assert.equal(rxt! - orig!, 25_000, dump);
  assert.equal(r.counters.TCPRackLoss, 1);
  assert.equal(r.counters.TCPSackRecovery, 1);
  assert.equal(r.counters.TCPTimeouts ?? 0, 0, dump);
  assert.equal(r.counters.TCPLossProbes ?? 0, 0, dump);
  assert.equal(r.counters.RetransSegs, 1, dump);
});

test('RACK: reordering within the reordering window causes no retransmission; what was spurious is undone', () => {
  const r = runTransfer({ bytes: 2_000_000, seed: 1, jitterMs: 5, delayMs: 10 });
  assert.equal(r.intact, true);
  // The first flight is reordered before any reordering was seen (RFC 8985 §6.2 step 4: the
  // window is 0 with DupThresh segments SACKed): one spurious retransmission, whose reduction is
  // undone (the ACK that fills the hole echoes a timestamp older than the retransmission,
  // RFC 3522), and which opens the reordering window. Measured: 1 spurious, ~66 Mbit/s.
  assert.ok(r.spuriousRetransmits <= 3, `${r.spuriousRetransmits} spurious retransmissions`);
  assert.ok(r.goodputMbps > 20, `goodput ${r.goodputMbps} Mbit/s`);
});

test('RACK: a lost retransmission is detected and resent without a retransmission timeout', () => {
  // Segment 11 of 40 and its first retransmission are lost. New data sent after the
  // retransmission is SACKed, so RACK.xmit_ts passes the retransmission's time and it is deemed
  // lost in turn (RFC 8985 §6.2: what DupThresh and HighRxt cannot see). Before RACK: an RTO,
  // done at 290 ms.
  const r = lossyTransfer(40, [10 * MSS], 2);
  const dump = r.lines.join('\n');
  assert.equal(r.got, 40 * MSS, dump);
  const copies = r.sends.get(10 * MSS)!;
  assert.equal(copies.length, 3, dump);
  // Fast retransmission one RTT after the original (three SACKed: reo_wnd 0), the second one
  // RTT after the first (in recovery: reo_wnd 0).
  assert.deepEqual([copies[1]! - copies[0]!, copies[2]! - copies[1]!], [20_000, 20_000], dump);
  assert.equal(r.counters.TCPTimeouts ?? 0, 0, dump);
  assert.equal(r.counters.TCPRackLoss, 2, dump);
  assert.equal(r.counters.TCPSackRecovery, 1, dump);
  assert.equal(r.counters.RetransSegs, 2, dump);
  assert.ok(r.doneAt > 0 && r.doneAt < 150_000, `done at ${r.doneAt} µs\n${dump}`);
});

test('tail loss probe: none is pending while SACK shows a hole (Disorder): RACK\'s timer watches it', () => {
  // LINUX tcp_schedule_loss_probe: a probe only in the Open and CWR states; tcp_rack_mark_lost's
  // reordering timeout takes the timer slot a pending probe held. Segment 2 of 20 is lost: from
  // the first SACK until RACK marks it lost (min_RTT/4 later) the sender is in Disorder, and no
  // loss probe may be pending then (one was, armed by the ACK of segment 1 before the SACK came).
  const w = new SimWorld({ seed: 3, path: { delay: 10_000 } });
  const a = w.addHost('a', ['10.0.0.1']);
  const b = w.addHost('b', ['10.0.0.2']);
  const ip = newIpRepr();
  const seg = newTcpRepr();
  let iss = -1;
  let dropped = false;
  w.net.dropNext((f, from) => {
    if (from !== 'a' || parseIpHeader(f, ip, false) !== null || parseTcp(f, ip, seg, false) !== null) return false;
    if (seg.flags & 0x02) iss = seg.seq;
    if (dropped || seg.payload.length === 0 || ((seg.seq - iss - 1) >>> 0) !== MSS) return false;
    dropped = true;
    return true;
  }, 1_000_000);
  const got = countReceived(b.listen({ port: 80 }));
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  c.onConnect = () => c.write(new Uint8Array(20 * MSS));
  let disorderSteps = 0;
  for (let i = 0; i < 200_000 && got() < 20 * MSS; i++) {
    w.sim.run({ maxSteps: 1 });
    if (c.conn.snd.rec.state !== 'Disorder') continue;
    disorderSteps++;
    assert.equal(c.conn.timers.isSet(Timer.LOSS_PROBE), false, `a loss probe pending in Disorder at ${w.now} µs`);
  }
  assert.equal(got(), 20 * MSS);
  assert.ok(dropped && disorderSteps > 0, 'the sender went through Disorder');
  assert.equal(a.counters.TCPLossProbes ?? 0, 0);
});
