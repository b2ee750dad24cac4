import { bump, type Connection } from './connection.js';
import { Reassembly } from './reassembly.js';
import type { SeqNum } from '../seq.js';

/**
 * Receive memory: what the connection holds (the in-order buffer and the out-of-order queue by
 * true size) against its limit, like LINUX sk_rmem_alloc against sk_rcvbuf.
 *
 * The limit is twice the receive buffer: the buffer bounds the window in payload bytes, and
 * LINUX (tcp_adv_win_scale = 1, the default before per-flow scaling_ratio) sizes sk_rcvbuf at
 * twice the window so that a full window of segments fits with its overhead. Full-sized
 * segments therefore never reach the limit; a peer that spends the window on tiny segments
 * (true size many times the payload) does, and then the queue is pruned.
 */
export function rcvMemLimit(c: Connection): number {
  return 2 * c.recvBuf.max;
}

export function rcvMemUsed(c: Connection): number {
  return c.recvBuf.length + c.reasm.truesize;
}

/**
 * Room left in receive memory: the window must not offer more than this (LINUX tcp_space:
 * the window comes from sk_rcvbuf less sk_rmem_alloc, which counts the out-of-order queue by
 * true size).
 */
export function rcvMemRoom(c: Connection): number {
  return rcvMemLimit(c) - rcvMemUsed(c);
}

/**
 * Make room for `len` bytes arriving at `seq` (LINUX tcp_try_rmem_schedule → tcp_prune_queue):
 * when they do not fit (LINUX tcp_can_ingest), prune the out-of-order queue from the highest
 * sequence (LINUX tcp_prune_ofo_queue, goal sk_rcvbuf >> 3 per round). False when the segment
 * must be dropped (counted as LINUX does: PruneCalled, OfoPruned, RcvPruned, then TCPOFODrop or
 * TCPRcvQDrop for the segment). `forced`: in-order text for an empty receive queue, taken anyway.
 */
export function admitSegment(c: Connection, seq: SeqNum, len: number, forced = false): boolean {
  const inOrder = seq === c.rcvNxt;
  const size = inOrder ? len : Reassembly.truesizeOf(len);
  if (rcvMemUsed(c) + size <= rcvMemLimit(c)) return true; // the common case
  return pruneToAdmit(c, seq, size, inOrder, forced);
}

/**
 * admitSegment's slow path, in its own function: the closure it makes would otherwise have V8
 * allocate a context on every call of admitSegment, once per segment.
 */
function pruneToAdmit(c: Connection, seq: SeqNum, size: number, inOrder: boolean, forced: boolean): boolean {
  const limit = rcvMemLimit(c);
  const canIngest = (): boolean => rcvMemUsed(c) + size <= limit;
  bump(c.mib, 'PruneCalled');
  // No LINUX tcp_collapse_ofo_queue pass: chunks coalesce as they arrive, so chunk overhead is
  // already under half the payload, and what fills memory is then the per-range cost of many
  // tiny ranges, which repacking cannot shrink.
  if (c.reasm.pruneFromTop(seq, limit >> 3, canIngest)) bump(c.mib, 'OfoPruned');
  // LINUX tcp_data_queue: an empty receive queue takes the segment anyway (sk_forced_mem_schedule).
  if (canIngest() || forced) return true;
  bump(c.mib, 'RcvPruned');
  bump(c.mib, inOrder ? 'TCPRcvQDrop' : 'TCPOFODrop');
  return false;
}
