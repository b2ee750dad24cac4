/**
 * Loss recovery on the wire: SACK recovery of several holes in one window (RFC 6675), NewReno
 * without SACK (RFC 6582), and adaptation to reordering through D-SACK (RFC 2883, RFC 3708 undo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTransfer } from '../src/demo/transfer.js';
import { lossyTransfer } from './helpers.js';

test('reordering without loss: D-SACK raises the reordering degree, so spurious retransmissions stop', () => {
  const r = runTransfer({ bytes: 2_000_000, seed: 1, jitterMs: 5, delayMs: 10 });
  assert.equal(r.intact, true);
  // Before D-SACK adaptation this run retransmitted 30 segments, all spurious, at 3.3 Mbit/s.
  assert.ok(r.spuriousRetransmits <= 3, `${r.spuriousRetransmits} spurious retransmissions`);
  assert.ok(r.goodputMbps > 20, `goodput ${r.goodputMbps} Mbit/s`);
});

/** Ten segments from a to b; the data segments at the stream offsets in `lose` are lost once. */
function holes(sack: boolean, lose: number[]): { lines: string[]; retrans: number[]; timeouts: number; probes: number; got: number; doneAt: number } {
  const r = lossyTransfer(10, lose, 1, { sack }, { sack });
  // One entry per extra copy, so "one retransmission each" stays checkable.
  const retrans = [...r.sends].flatMap(([off, times]) => times.slice(1).map(() => off));
  return { lines: r.lines, retrans, timeouts: r.counters.TCPTimeouts ?? 0, probes: r.counters.TCPLossProbes ?? 0, got: r.got, doneAt: r.doneAt };
}

test('SACK recovers several holes in one window with one retransmission each, no timeout', () => {
  const mss = 1448;
  const r = holes(true, [1 * mss, 4 * mss, 6 * mss]);
  assert.equal(r.got, 10 * mss, r.lines.join('\n'));
  assert.deepEqual(r.retrans.sort((x, y) => x - y), [1 * mss, 4 * mss, 6 * mss], r.lines.join('\n'));
  assert.equal(r.timeouts, 0, r.lines.join('\n'));
  assert.ok(r.lines.some((l) => / b .*sack 3 /.test(l)), 'the receiver reports three SACK blocks');
});

test('NewReno without SACK: partial ACKs retransmit the next hole (RFC 6582)', () => {
  const mss = 1448;
  const r = holes(false, [1 * mss, 4 * mss]);
  assert.equal(r.got, 10 * mss, r.lines.join('\n'));
  assert.deepEqual(r.retrans.sort((x, y) => x - y), [1 * mss, 4 * mss], r.lines.join('\n'));
  assert.equal(r.timeouts, 0, r.lines.join('\n'));
  assert.ok(!r.lines.some((l) => /sack/.test(l)));
});

test('a lost tail is recovered by a tail loss probe and early retransmit, not the RTO (RFC 8985 §7, RFC 5827)', () => {
  const mss = 1448;
  const r = holes(true, [8 * mss, 9 * mss]);
  assert.equal(r.got, 10 * mss, r.lines.join('\n'));
  assert.equal(r.timeouts, 0, r.lines.join('\n'));
  assert.equal(r.probes, 1, r.lines.join('\n'));
  // Handshake 40 ms, data at 40 ms, the probe 2·SRTT after the last ACK; all done well before
  // the first RTO (at least 200 ms + SRTT after the data) would fire.
  assert.ok(r.doneAt > 0 && r.doneAt < 240_000, `done at ${r.doneAt} µs\n${r.lines.join('\n')}`);
});
