/**
 * The send half's timers (sender.ts sets them): the retransmission timeout with its backoff
 * (RFC 6298 §5; LINUX tcp_rearm_rto), the tail loss probe (RFC 8985 §7) and the persist timer.
 */
import { NEVER, type Instant } from '../time.js';
import { seqDiff, seqGt } from '../seq.js';
import type { Connection } from './connection.js';
import { Timer } from './timers.js';

/** Current retransmission timeout with backoff. */
export function currentRto(c: Connection): number {
  // LINUX tcp_syn_linear_timeouts: the first SYN retransmissions of an active open keep the RTO.
  const linear = c.state === 'SYN_SENT' ? c.config.synLinearTimeouts : 0;
  return Math.min(c.config.maxRto, c.snd.rtt.rto * 2 ** Math.max(0, c.snd.rtoBackoff - linear));
}

export function armRetransmit(c: Connection, now: Instant): void {
  let at = now + currentRto(c);
  // LINUX tcp_clamp_rto_to_user_timeout: never wait past the user timeout (RFC 5482).
  if (c.config.userTimeout > 0 && c.snd.unackedSince !== NEVER) at = Math.max(now, Math.min(at, c.snd.unackedSince + c.config.userTimeout));
  c.timers.set(Timer.RETRANSMIT, at);
}

/**
 * RFC 8985 §7.2: arm the tail loss probe — 2·SRTT (1 s before any RTT sample), plus the
 * worst-case delayed ACK when one segment is in flight, never later than the RTO. Only with
 * SACK, in the open state, once per episode.
 */
export function armLossProbe(c: Connection, now: Instant): void {
  const s = c.state;
  const snd = c.snd;
  // LINUX tcp_schedule_loss_probe: only in the Open and CWR states (not Disorder: RACK's timer
  // watches the holes SACK has shown).
  if (!c.sackEnabled || (snd.rec.state !== 'Open' && snd.rec.state !== 'CWR') || snd.rec.tlpHighSeq !== null ||
      (s !== 'ESTABLISHED' && s !== 'CLOSE_WAIT' && s !== 'FIN_WAIT_1' && s !== 'CLOSING' && s !== 'LAST_ACK') ||
      !seqGt(snd.sndMax, snd.sndUna)) {
    c.timers.stop(Timer.LOSS_PROBE);
    return;
  }
  let pto = snd.rtt.hasSample ? 2 * snd.rtt.srtt : 1_000_000;
  if (seqDiff(snd.sndMax, snd.sndUna) <= c.effMss) pto += c.config.delAckMax;
  const rto = c.timers.get(Timer.RETRANSMIT);
  c.timers.set(Timer.LOSS_PROBE, Math.min(now + Math.round(pto), rto));
}

/**
 * The persist timer (RFC 9293 §3.8.6.1 zero-window probes, the §3.8.6.2.1 override timeout; LINUX
 * tcp_reset_xmit_timer(ICSK_TIME_PROBE0, tcp_probe0_when)): the RTO backed off once per probe.
 */
export function armPersist(c: Connection, now: Instant): void {
  c.timers.set(Timer.PERSIST, now + Math.min(c.config.maxRto, c.snd.rtt.rto * 2 ** c.snd.persistBackoff));
}
