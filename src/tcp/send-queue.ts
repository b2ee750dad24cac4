import { seqAdd, seqDiff, seqGt, type SeqNum } from '../seq.js';
import type { Connection } from './connection.js';

/**
 * How the application's bytes enter the send queue when TCP_NOTSENT_LOWAT limits it, in the chunks
 * Linux builds its write queue from (LINUX tcp_sendmsg_locked: data is appended to the unsent tail
 * chunk until it reaches the size goal; a new chunk is started only while the socket's memory is
 * "free", which with TCP_NOTSENT_LOWAT means fewer unsent bytes than the limit, tcp_stream_memory_free).
 * The outcome the application sees is how many bytes one write() takes: 59000 bytes offered to
 * a connection that can send 10000 now, with a 4000-byte limit and a 16000-byte size goal, take
 * 26000 (10000 sent + one full unsent chunk), as on Linux.
 */
export class SendChunks {
  /** Sequence number where the last chunk started (its end is the end of the queued data). */
  tailStart: SeqNum;

  constructor(start: SeqNum) {
    this.tailStart = start;
  }
}

/**
 * LINUX tcp_xmit_size_goal: the chunk size, a multiple of the MSS up to the largest GSO packet
 * (64 KB less the headers), and at most half the largest window the peer offered
 * (tcp_bound_to_half_wnd), so that two chunks are in flight.
 */
export function sizeGoal(c: Connection): number {
  const mss = c.effMss;
  let goal = 65536 - 1 - 320; // LINUX: sk_gso_max_size - 1 - MAX_TCP_HEADER
  const maxWnd = c.maxSndWnd;
  const cutoff = maxWnd > 536 ? maxWnd >> 1 : maxWnd;
  if (cutoff > 0 && goal > cutoff) goal = Math.max(cutoff, 68 - 20);
  return Math.max(mss, Math.floor(goal / mss) * mss);
}

/** Unsent bytes queued (LINUX write_seq - snd_nxt). */
export function notsentBytes(c: Connection): number {
  const writeSeq = seqAdd(c.snd.sndBufSeq, c.snd.sendBuf.length);
  return Math.max(0, seqDiff(writeSeq, c.snd.sndNxt));
}

/**
 * LINUX tcp_stream_memory_free(sk, wake): room for a new chunk (wake = 0, sendmsg) or for poll to
 * report writable (wake = 1: twice the unsent bytes must be below the limit, so a writer woken up
 * has room to add a good amount).
 */
export function notsentBelowLowat(c: Connection, wake: 0 | 1): boolean {
  const lowat = c.config.notsentLowat;
  if (lowat >= 0xffffffff) return true;
  return notsentBytes(c) * (wake + 1) < lowat;
}

/**
 * LINUX __sk_stream_is_writeable(sk, 1): what wakes a writer blocked on the send buffer
 * (sk_stream_write_space) and makes poll report writable: the free space is at least half the
 * queued bytes (sk_stream_wspace >= sk_stream_min_wspace, so at most 2/3 of the buffer is in
 * use), the buffer is not full, and TCP_NOTSENT_LOWAT's wake test holds. (Linux counts skb
 * true sizes, sk_wmem_queued; synack counts payload bytes.)
 */
export function streamWriteable(c: Connection): boolean {
  const buf = c.snd.sendBuf;
  return buf.max - buf.length >= buf.length >> 1 && buf.length < buf.max && notsentBelowLowat(c, 1);
}

/**
 * How many of `len` offered bytes one step of a write may queue now: the room left in the unsent
 * tail chunk, else (when the memory is free: fewer bytes queued than the send buffer, LINUX
 * sk_stream_memory_free, and TCP_NOTSENT_LOWAT's test) a new chunk of the size goal. As on Linux
 * the chunks may take the queue past the send buffer by up to one size goal. 0 means the write
 * must wait. The caller queues them (with this room), lets the connection transmit (LINUX
 * tcp_push_one) and asks again.
 */
export function admitChunk(c: Connection, len: number): number {
  const snd = c.snd;
  const writeSeq = seqAdd(snd.sndBufSeq, snd.sendBuf.length);
  const goal = sizeGoal(c);
  const q = c.chunks;
  // The unsent part of the tail chunk: what has been sent of it left the write queue
  // (LINUX tso_fragment splits the chunk; the unsent remainder stays the tail).
  if (seqGt(writeSeq, snd.sndNxt)) {
    const start = seqGt(q.tailStart, snd.sndNxt) ? q.tailStart : snd.sndNxt;
    // Bounded still: past the send buffer by at most one size goal. (A sender that keeps up sends
    // the tail as it is refilled, and the refills alone grew the queue without end.)
    const room = Math.min(goal - seqDiff(writeSeq, start), snd.sendBuf.max + goal - snd.sendBuf.length);
    if (room > 0) return Math.min(room, len);
  }
  if (snd.sendBuf.length >= snd.sendBuf.max || !notsentBelowLowat(c, 0)) return 0;
  q.tailStart = writeSeq;
  return Math.min(goal, len);
}
