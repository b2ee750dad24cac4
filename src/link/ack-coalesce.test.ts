/**
 * ACK thinning over a receive batch (ack-coalesce.ts): only a pure ACK made redundant by a later
 * one of the same connection disappears; everything else is written, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTcpPacket } from '../wire/tcp.js';
import { ACK, FIN, newTcpRepr } from '../wire/tcp-repr.js';
import { AckCoalescer, pureAckAt } from './ack-coalesce.js';

function seg(opts: { ack: number; port?: number; flags?: number; data?: number; sack?: boolean; v6?: boolean }): Uint8Array {
  const r = newTcpRepr();
  r.srcPort = opts.port ?? 80;
  r.dstPort = 40000;
  r.seq = 1;
  r.ack = opts.ack >>> 0;
  r.flags = opts.flags ?? ACK;
  r.window = 1000;
  r.hasTimestamp = true;
  r.tsVal = 5;
  r.tsEcr = 6;
  if (opts.sack) {
    r.sackCount = 1;
    r.sackBlocks[0] = 100;
    r.sackBlocks[1] = 200;
  }
  r.payload = new Uint8Array(opts.data ?? 0);
  return opts.v6 ? buildTcpPacket('fd00::1', 'fd00::2', r) : buildTcpPacket('10.0.0.1', '10.0.0.2', r);
}

function harness(): { c: AckCoalescer; out: number[][] } {
  const out: number[][] = [];
  // Each written frame as [ack, payload length, flags]: enough to tell them apart.
  const c = new AckCoalescer((f) => out.push([((f[28]! << 24) | (f[29]! << 16) | (f[30]! << 8) | f[31]!) >>> 0, f.length, f[33]!]), () => 0);
  return { c, out };
}

test('pureAckAt: a pure ACK (with or without timestamps) gives its ACK number; data, FIN and SACK blocks do not', () => {
  assert.equal(pureAckAt(seg({ ack: 0xfffffff0 }), 0), 0xfffffff0);
  assert.equal(pureAckAt(seg({ ack: 7, v6: true }), 0), 7);
  assert.equal(pureAckAt(seg({ ack: 7, data: 1 }), 0), -1);
  assert.equal(pureAckAt(seg({ ack: 7, flags: ACK | FIN }), 0), -1);
  assert.equal(pureAckAt(seg({ ack: 7, sack: true }), 0), -1);
});

test('in a batch, a later pure ACK of the same connection that acks more replaces the held one', () => {
  const { c, out } = harness();
  c.begin();
  c.send(seg({ ack: 1000 }));
  c.send(seg({ ack: 2000 }));
  c.send(seg({ ack: 3000 }));
  assert.deepEqual(out, [], 'held until the batch ends');
  c.end();
  assert.deepEqual(out.map((o) => o[0]), [3000]);
  assert.equal(c.coalesced, 2);
  // Across the 2^32 wrap (RFC 9293 §3.4), too.
  c.begin();
  c.send(seg({ ack: 0xffffff00 }));
  c.send(seg({ ack: 0x10 }));
  c.end();
  assert.deepEqual(out.map((o) => o[0]), [3000, 0x10]);
});

test('duplicate ACKs, other connections, data, SACK-bearing ACKs and frames outside a batch are all written, in order', () => {
  const { c, out } = harness();
  c.send(seg({ ack: 1 }));
  c.send(seg({ ack: 2 }));
  assert.deepEqual(out.map((o) => o[0]), [1, 2], 'outside a batch nothing is held');
  out.length = 0;
  c.begin();
  c.send(seg({ ack: 10 }));
  c.send(seg({ ack: 10 })); // a duplicate ACK: the peer counts them
  c.send(seg({ ack: 20, port: 81 })); // another connection
  c.send(seg({ ack: 30, data: 100 })); // data: the held ACK goes first
  c.send(seg({ ack: 40 }));
  c.send(seg({ ack: 50, sack: true })); // SACK blocks are information a later ACK may not repeat
  c.send(seg({ ack: 60 }));
  c.end();
  assert.deepEqual(out.map((o) => o[0]), [10, 10, 20, 30, 40, 50, 60]);
  assert.equal(c.coalesced, 0);
});
