import { seqDiff, seqLt, type SeqNum } from '../seq.js';
import type { Instant } from '../time.js';
import type { Connection } from './connection.js';

/**
 * Congestion window validation as Linux applies RFC 7661 (LINUX tcp_cwnd_validate,
 * tcp_is_cwnd_limited, tcp_cwnd_application_limited): the window grows only while it is what
 * limits the sender, and a window the application has not used for an RTO shrinks towards what
 * it did use. Without this, an application-limited sender's window grows on every ACK to sizes
 * it never tested, then bursts them into the network.
 */
export class CwndValidation {
  /** LINUX is_cwnd_limited: the sender was held back by cwnd in the current window. */
  limited = false;
  /** LINUX max_packets_out (here bytes): the most outstanding in the current window. */
  maxOut = 0;
  /** LINUX cwnd_usage_seq: SND.NXT when the current window's tracking began. */
  usageSeq: SeqNum = 0;
  /** LINUX snd_cwnd_used (bytes) and snd_cwnd_stamp: use of the window while it is not the limit. */
  used = 0;
  stamp: Instant = 0;
}

/**
 * After a send (LINUX tcp_write_xmit → tcp_cwnd_validate): record whether cwnd held the sender
 * back (`cwndLimited`) and how much was outstanding, once per window of data; while not
 * cwnd-limited, after an RTO's worth of time, moderate the window (tcp_cwnd_application_limited).
 */
export function cwndValidate(c: Connection, now: Instant, cwndLimited: boolean, rto: number): void {
  const snd = c.snd;
  const v = snd.cwndv;
  const out = seqDiff(snd.sndMax, snd.sndUna);
  if (!seqLt(snd.sndUna, v.usageSeq) || cwndLimited || (!v.limited && out > v.maxOut)) {
    v.limited = cwndLimited;
    v.maxOut = out;
    v.usageSeq = snd.sndNxt;
  }
  if (isCwndLimited(c)) {
    v.used = 0;
    v.stamp = now;
    return;
  }
  if (out > v.used) v.used = out;
  if (c.config.slowStartAfterIdle && now - v.stamp >= rto) applicationLimited(c, now);
}

/**
 * LINUX tcp_is_cwnd_limited: the window may grow when it limited the sender in this window, or,
 * in slow start, while it is less than twice the most that was outstanding (so that a window
 * doubles to cover what the last one delivered).
 */
export function isCwndLimited(c: Connection): boolean {
  const v = c.snd.cwndv;
  if (v.limited) return true;
  const cc = c.snd.cc;
  return cc.cwnd < cc.ssthresh && cc.cwnd < 2 * v.maxOut;
}

/**
 * LINUX tcp_cwnd_application_limited (RFC 7661 §4.3 as Linux does it): in the Open state, when
 * the application (or the peer's window) used less than the window for an RTO, ssthresh keeps
 * 3/4 of the window and the window drops halfway to what was used (never below the initial).
 */
function applicationLimited(c: Connection, now: Instant): void {
  const snd = c.snd;
  const v = snd.cwndv;
  const cc = snd.cc;
  if (snd.rec.state === 'Open' && snd.sendBuf.free > 0) {
    const mss = cc.mss;
    const used = Math.max(Math.ceil(v.used / mss), c.config.initialCwnd);
    const cwnd = Math.floor(cc.cwnd / mss);
    if (used < cwnd) {
      cc.ssthresh = Math.max(cc.ssthresh, ((cwnd >> 1) + (cwnd >> 2)) * mss); // LINUX tcp_current_ssthresh
      cc.cwnd = ((cwnd + used) >> 1) * mss;
    }
    v.used = 0;
  }
  v.stamp = now;
}
