/**
 * The out-of-order queue under memory pressure, through the stack (issue 11): tiny segments
 * are charged by true size, the window offers no more than receive memory can take, and the
 * queue is pruned from the highest sequence as Linux does, with its counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, A_ADDR } from './helpers.js';
import { ACK, SYN } from '../src/wire/tcp-repr.js';
import { rcvMemLimit, rcvMemRoom, rcvMemUsed } from '../src/tcp/rmem.js';

function receiver(recvBuffer: number) {
  const h = new Harness({ onlyA: true });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 80, 40000, 5000);
  const c = h.a.connect({ remoteAddress: p.addr, remotePort: 80, localPort: 40000, tcp: { recvBuffer, recvBufferMax: recvBuffer } });
  h.runFor(50_000);
  pc.send(SYN | ACK, { mss: 1460, sackOk: true, win: 65535 });
  h.runFor(50_000);
  assert.equal(c.state, 'ESTABLISHED', h.dump());
  const got: number[] = [];
  c.onData = () => {
    for (let b = c.read(); b !== null; b = c.read()) got.push(...b);
  };
  // Payload byte at stream offset o (0 is the first byte after the SYN).
  const byte = (o: number): number => (o * 13 + 5) & 0xff;
  const send = (off: number, len: number): void => {
    const payload = new Uint8Array(len).map((_, i) => byte(off + i));
    pc.send(ACK, { seq: (5001 + off) >>> 0, payload });
    h.runFor(20_000); // longer than the path delay: each segment is in before the next
  };
  return { h, pc, c, conn: c.conn, got, byte, send };
}

test('tiny out-of-order segments are charged by true size: the window closes on memory, its right edge never moves left', () => {
  const { h, pc, conn, send } = receiver(16384);
  const from = pc.rx.length;
  for (let i = 0; i < 60; i++) send(1 + 2 * i, 1);
  assert.equal(conn.reasm.rangeCount, 60);
  assert.equal(conn.reasm.bytes, 60);
  // 60 one-byte ranges cost far more than 60 bytes of memory: the window says so.
  assert.ok(rcvMemRoom(conn) < conn.recvBuf.free - conn.reasm.bytes, `room ${rcvMemRoom(conn)}`);
  assert.equal(conn.receiveWindow(), rcvMemRoom(conn));
  // RFC 9293 §3.8.6 / RFC 7323 §2.4: the edge offered (ACK + window) never moves left.
  let edge = 0;
  for (const s of pc.rx.slice(from)) {
    const e = s.ack + s.win;
    assert.ok(e >= edge, `right edge moved left: ${e} < ${edge}`);
    edge = e;
  }
  assert.equal(h.a.counters.PruneCalled, 0);
});

test('memory pressure: a rising flood is dropped at the top, a lower segment prunes the highest ranges; every byte still arrives', () => {
  const { h, conn, got, byte, send } = receiver(16384);
  const limit = rcvMemLimit(conn);
  // One-byte segments with one-byte gaps, rising: each one would land last, so once memory is
  // full the arriving one is what goes (LINUX tcp_prune_ofo_queue stops below in_skb).
  for (let i = 0; i < 150; i++) send(1 + 2 * i, 1);
  const held = conn.reasm.rangeCount;
  assert.ok(held < 150 && held > 40, `held ${held}`);
  assert.ok(rcvMemUsed(conn) <= limit, `${rcvMemUsed(conn)} > ${limit}`);
  assert.equal(h.a.counters.OfoPruned, 0);
  assert.ok(h.a.counters.PruneCalled! >= 150 - held);
  assert.equal(h.a.counters.RcvPruned, h.a.counters.PruneCalled);
  assert.equal(h.a.counters.TCPOFODrop, 150 - held);
  const top = conn.reasm.ranges()[held - 1]!;

  // A segment filling a gap low in the queue: the highest ranges make room for it.
  send(2, 1);
  assert.equal(h.a.counters.OfoPruned, 1);
  assert.ok(conn.reasm.rangeCount < held - 1, `${conn.reasm.rangeCount}`);
  assert.ok(conn.reasm.ranges().every(([, e]) => ((e - top[1]) | 0) < 0), 'pruned from the top');
  assert.ok(conn.reasm.ranges().some(([s, e]) => s === 5001 + 1 && e === 5001 + 4), 'the new segment is held');
  // LINUX tcp_sack_reset after pruning: only the newest range is reported.
  assert.deepEqual(conn.reasm.blocks(4), [[5001 + 1, 5001 + 4]]);
  assert.ok(rcvMemUsed(conn) <= limit);

  // The peer retransmits everything in order: the stream is exact.
  for (let off = 0; off < 400; off += 100) send(off, 100);
  h.runFor(100_000);
  assert.equal(got.length, 400);
  assert.deepEqual(got, Array.from({ length: 400 }, (_, o) => byte(o)));
  assert.equal(conn.reasm.isEmpty, true);
  assert.equal(h.a.counters.TCPRcvQDrop, 0);
});

test('full-sized segments never reach the memory limit: a whole window out of order is held', () => {
  const { h, conn, got, send } = receiver(65536);
  // Everything the window offers except its first segment, in 1460-byte segments.
  const wnd = conn.receiveWindow();
  let off = 1460;
  for (; off + 1460 <= wnd; off += 1460) send(off, 1460);
  assert.equal(conn.reasm.bytes, off - 1460);
  assert.equal(h.a.counters.PruneCalled, 0);
  send(0, 1460);
  assert.equal(got.length, off);
});
