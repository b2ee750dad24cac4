/**
 * F-RTO (RFC 5682) end to end on the simulator: a delay spike on the data path makes the
 * retransmission timeout fire while the originals are still on their way. F-RTO sends new data
 * on the first ACK after the timeout instead of going back, and the ACK of the delayed originals
 * (never retransmitted) shows the timeout spurious: it is undone (LINUX tcp_try_undo_loss,
 * TCPSpuriousRTOs, TCPLossUndo). With tcp_frto = 0 the whole flight is resent. With timestamps,
 * Linux looks at the echo first (tcp_may_undo → tcp_packet_delayed, RFC 3522): it shows the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { countReceived } from './helpers.js';

function spike(frto: number, timestamps: boolean): { counters: Record<string, number>; got: number; cwnd: number } {
  const MSS = 1448;
  const w = new SimWorld({ seed: 7, path: { delay: 10_000 } });
  const a = w.addHost('a', ['10.0.0.1'], { tcp: { frto, timestamps } });
  const b = w.addHost('b', ['10.0.0.2']);
  const got = countReceived(b.listen({ port: 80 }));
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  w.run(100_000);
  // The data path takes 400 ms (longer than the 230 ms RTO) for what is sent in the next 300 ms:
  // the first flight, the loss probe and the retransmission.
  w.net.setPath('a', 'b', { delay: 400_000 });
  c.write(new Uint8Array(40 * MSS));
  w.run(400_000);
  w.net.setPath('a', 'b', { delay: 10_000 });
  w.run(900_000);
  const cwnd = c.snapshot().cwnd;
  w.run(20_000_000);
  return { counters: a.counters as Record<string, number>, got: got(), cwnd };
}

test('F-RTO: a timeout during a delay spike is detected as spurious and undone (RFC 5682 §3)', () => {
  const on = spike(2, false);
  assert.equal(on.got, 40 * 1448);
  assert.equal(on.counters.TCPTimeouts, 1);
  assert.equal(on.counters.TCPSpuriousRTOs, 1);
  assert.equal(on.counters.TCPLossUndo, 1);
  const off = spike(0, false);
  assert.equal(off.got, 40 * 1448);
  assert.equal(off.counters.TCPSpuriousRTOs ?? 0, 0);
  // Undone, the window is back where it was (10 segments) and grows; without F-RTO it restarts
  // from one segment, and the go-back resends the delayed flight.
  assert.ok(on.cwnd > off.cwnd, `cwnd ${on.cwnd} with F-RTO, ${off.cwnd} without`);
  assert.ok((on.counters.RetransSegs ?? 0) < (off.counters.RetransSegs ?? 0), `retransmissions ${on.counters.RetransSegs} with F-RTO, ${off.counters.RetransSegs} without`);
});

test('a spurious timeout is also undone by the timestamp echo, before F-RTO looks (LINUX tcp_try_undo_loss via tcp_packet_delayed)', () => {
  for (const frto of [2, 0]) {
    const r = spike(frto, true);
    assert.equal(r.got, 40 * 1448);
    assert.equal(r.counters.TCPTimeouts, 1);
    assert.equal(r.counters.TCPLossUndo, 1, `tcp_frto ${frto}`);
    assert.equal(r.counters.TCPSpuriousRTOs ?? 0, 0, `tcp_frto ${frto}`);
  }
});
