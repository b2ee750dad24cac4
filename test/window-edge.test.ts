/**
 * RFC 7323 §2.4 / RFC 9293 §3.8.6: the right edge of the receive window we advertise
 * (SEG.ACK + SEG.WND, the window scaled except in a SYN) never moves left. Found after a
 * simultaneous open with window scaling (issue #11): the bare ACK advertised 64896 (507 << 7,
 * the SYN's 64800 rounded up to the scale unit), and the retransmitted SYN-ACK then 64800.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seqAdd, seqLt } from '../src/seq.js';
import { sec } from '../src/time.js';
import { ACK, SYN } from '../src/wire/tcp-repr.js';
import { A_ADDR, Harness, type Seg } from './helpers.js';

/** The right edge each segment from `from` advertises, in order (SYN windows unscaled, RFC 7323 §2.2). */
function edges(segs: Seg[], from: string, shift: number): { seg: Seg; edge: number; wnd: number }[] {
  return segs
    .filter((s) => s.from === from && s.flags & ACK && !s.dropped)
    .map((s) => {
      const wnd = s.flags & SYN ? s.win : s.win * 2 ** shift;
      return { seg: s, edge: seqAdd(s.ack, wnd), wnd };
    });
}

test('simultaneous open with window scaling: the retransmitted SYN-ACK does not pull the right edge left of the bare ACK before it', () => {
  // MTU 1480: MSS 1440, so the SYN window is 45 · 1440 = 64800, not a multiple of 128.
  const h = new Harness({ onlyA: true, a: { mtu: 1480 } });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 80, 40000, 5000);
  const sock = h.a.connect({ remoteAddress: p.addr, remotePort: 80, localPort: 40000 });
  h.runFor(25_000);
  // The peer's own SYN crosses ours (RFC 9293 Figure 8): A enters SYN_RECEIVED and answers SYN,ACK.
  pc.send(SYN, { mss: 1440, wscale: 7, sackOk: true });
  h.runFor(25_000);
  assert.equal(sock.state, 'SYN_RECEIVED');
  // A segment outside the window: A answers with a bare ACK (RFC 9293 §3.10.7.4 first check).
  pc.send(ACK, { seq: 5000 + 200_000, ack: 0 });
  h.runFor(25_000);
  // Nothing more from the peer: A's retransmission timer resends the SYN-ACK.
  h.runFor(sec(1.5));
  const e = edges(h.segs, 'A', 7);
  const kinds = e.map((x) => `${x.seg.f} ${x.wnd}`);
  assert.deepEqual(kinds, ['S. 64800', '. 64896', 'S. 64896'], h.dump());
  for (let i = 1; i < e.length; i++) {
    assert.ok(!seqLt(e[i]!.edge, e[i - 1]!.edge), `right edge moved left: ${kinds[i - 1]} then ${kinds[i]}\n${h.dump()}`);
  }
  // The handshake still completes on the retransmitted SYN-ACK.
  pc.send(ACK);
  h.runFor(25_000);
  assert.equal(sock.state, 'ESTABLISHED');
});
