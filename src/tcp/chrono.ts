import type { Instant } from '../time.js';
import type { Connection } from './connection.js';
import { seqAdd, seqDiff } from '../seq.js';

/**
 * What limits the sender, timed (LINUX tcp_chrono_start/tcp_chrono_stop, enum tcp_chrono): busy
 * (data outstanding or queued), limited by the peer's receive window, or by the send buffer.
 * One condition is timed at a time, the highest-numbered that holds; tcp_info reports the totals
 * (tcpi_busy_time is all of them, tcpi_rwnd_limited and tcpi_sndbuf_limited their own).
 */
export const CHRONO = { UNSPEC: 0, BUSY: 1, RWND_LIMITED: 2, SNDBUF_LIMITED: 3 } as const;
export type ChronoType = (typeof CHRONO)[keyof typeof CHRONO];

export class Chronograph {
  type: ChronoType = CHRONO.UNSPEC;
  start: Instant = 0;
  // Accumulated µs per condition (fields, not an array: one object per connection that sends).
  private busy = 0;
  private rwndLimited = 0;
  private sndbufLimited = 0;

  /** LINUX tcp_chrono_set: close the running period, start the new one. */
  set(now: Instant, type: ChronoType): void {
    if (type === this.type) return;
    const d = now - this.start;
    if (this.type === CHRONO.BUSY) this.busy += d;
    else if (this.type === CHRONO.RWND_LIMITED) this.rwndLimited += d;
    else if (this.type === CHRONO.SNDBUF_LIMITED) this.sndbufLimited += d;
    this.type = type;
    this.start = now;
  }

  /** Total µs of one condition up to now (LINUX tcp_get_info_chrono_stats). */
  total(now: Instant, type: Exclude<ChronoType, 0>): number {
    const sum = type === CHRONO.BUSY ? this.busy : type === CHRONO.RWND_LIMITED ? this.rwndLimited : this.sndbufLimited;
    return sum + (this.type === type ? now - this.start : 0);
  }
}

/** LINUX tcp_chrono_start: a more interesting condition takes over. */
function chronoStart(c: Connection, now: Instant, type: ChronoType): void {
  if (type > c.chrono.type) c.chrono.set(now, type);
}

/** LINUX tcp_chrono_stop: with the queues empty nothing is timed; else back to busy. */
function chronoStop(c: Connection, now: Instant, type: ChronoType, queuesEmpty: boolean): void {
  if (queuesEmpty) c.chrono.set(now, CHRONO.UNSPEC);
  else if (type === c.chrono.type) c.chrono.set(now, CHRONO.BUSY);
}

/**
 * After a transmit pass (LINUX tcp_write_xmit's end): receive-window limited when the next unsent
 * segment does not fit the peer's window (tcp_snd_wnd_test); busy while anything is queued or in
 * flight (tcp_skb_entail starts it, the ACK of everything stops it).
 */
export function chronoAfterTransmit(c: Connection, now: Instant): void {
  const snd = c.snd;
  const writeEnd = seqAdd(snd.sndBufSeq, snd.sendBuf.length);
  const unsent = Math.max(0, seqDiff(writeEnd, snd.sndNxt));
  const queuesEmpty = unsent === 0 && snd.sndUna === snd.sndMax;
  if (queuesEmpty) {
    if (c.chronoState !== null && c.chronoState.type !== CHRONO.UNSPEC) c.chronoState.set(now, CHRONO.UNSPEC);
    return;
  }
  // LINUX: the chronograph times the write queue; a SYN in flight is not data (tcp_connect sends
  // it without tcp_skb_entail), so the handshake starts nothing.
  if (unsent === 0 && (c.state === 'SYN_SENT' || c.state === 'SYN_RECEIVED')) return;
  chronoStart(c, now, CHRONO.BUSY);
  const wndEnd = seqAdd(snd.sndUna, snd.sndWnd);
  const rwndLimited = unsent > 0 && seqDiff(wndEnd, snd.sndNxt) < Math.min(unsent, c.effMss);
  if (rwndLimited) chronoStart(c, now, CHRONO.RWND_LIMITED);
  else chronoStop(c, now, CHRONO.RWND_LIMITED, queuesEmpty);
}
