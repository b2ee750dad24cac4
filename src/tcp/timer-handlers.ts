import { seqAdd, seqDiff, seqGt } from '../seq.js';
import { NEVER, type Instant } from '../time.js';
import type { Connection } from './connection.js';
import { bump } from '../mib.js';
import { Timer, type TimerKind } from './timers.js';
import { enterLoss, rackDetectAndRecover } from './recovery.js';
import { isSynchronized } from './state.js';
import { Work } from './work.js';
import { armPersist, armRetransmit } from './rto.js';
import { mtuProbingOnTimeout } from './mtu-probe.js';
import { delayedAckDue } from './receiver.js';
import { resourceProbe } from './local-drop.js';

/** A timer of `c` expired at `now` (the table has already cleared it). */
export function onTimer(c: Connection, now: Instant, kind: TimerKind): void {
  switch (kind) {
    case Timer.RETRANSMIT:
      return retransmitTimeout(c, now);
    case Timer.PERSIST:
      return persistTimeout(c, now);
    case Timer.KEEPALIVE:
      return keepaliveTimeout(c, now);
    case Timer.DELAYED_ACK:
      // RFC 9293 §3.8.6.3: the delayed ACK is due.
      if (c.state !== 'CLOSED') delayedAckDue(c);
      return;
    case Timer.TIME_WAIT:
      // RFC 9293 §3.10.8: "If the time-wait timeout expires ... delete the TCB".
      if (c.state === 'TIME_WAIT') c.setState('CLOSED', '2MSL timeout');
      return;
    case Timer.LINGER:
      return lingerTimeout(c, now);
    case Timer.LOSS_PROBE:
      return lossProbe(c, now);
    case Timer.REORDER:
      // RFC 8985 §6.3: the reordering window has passed for the youngest candidate: detect again.
      if (c.sackEnabled && isSynchronized(c.state)) rackDetectAndRecover(c, now, true);
      return;
    case Timer.FIN_WAIT_2:
      // LINUX: an orphan in FIN_WAIT_2 is forgotten after tcp_fin_timeout, silently.
      if (c.state === 'FIN_WAIT_2' && c.userClosed) c.setState('CLOSED', 'tcp_fin_timeout in FIN_WAIT_2');
      return;
  }
}

/**
 * RFC 6298 §5.4–5.7: retransmit the earliest unacknowledged segment, back off the timer (double,
 * up to maxRto), give up after the configured number of retries with ETIMEDOUT. Retransmission
 * is go-back-N from SND.UNA in slow start (RFC 5681 §3.1 loss window).
 */
function retransmitTimeout(c: Connection, now: Instant): void {
  if (!seqGt(c.snd.sndMax, c.snd.sndUna)) return; // nothing outstanding
  // LINUX: the loss probe and the RTO are one timer (tcp_schedule_loss_probe clamps the probe to
  // the RTO and takes its place): a probe due now goes first and restarts the RTO.
  if (c.timers.isSet(Timer.LOSS_PROBE) && c.timers.get(Timer.LOSS_PROBE) <= now) {
    c.timers.stop(Timer.LOSS_PROBE);
    lossProbe(c, now);
    if (c.timers.isSet(Timer.RETRANSMIT)) return;
  }
  const s = c.state;
  bump(c.mib, 'TCPTimeouts');
  const handshake = s === 'SYN_SENT' || s === 'SYN_RECEIVED';
  // LINUX tcp_fastopen_synack_timer: a Fast Open child gets one SYN-ACK retry more, then
  // tcp_write_err (the application holds it: ETIMEDOUT).
  const tfoChild = s === 'SYN_RECEIVED' && c.fastOpen?.child === true;
  const limit = handshake ? (c.passive ? c.config.synAckRetries + (tfoChild ? 1 : 0) : c.config.synRetries) : c.config.retries2;
  // RFC 5482: data unacknowledged for longer than the user timeout ends the connection.
  const userTimedOut = c.config.userTimeout > 0 && c.snd.unackedSince !== NEVER && now - c.snd.unackedSince >= c.config.userTimeout;
  if (c.snd.retransmits >= limit || userTimedOut) {
    if (s === 'SYN_RECEIVED' && c.passive && !tfoChild) {
      // LINUX: the request is dropped; nobody has seen this connection yet.
      c.setState('CLOSED', 'SYN-ACK retransmissions exhausted');
      return;
    }
    // LINUX tcp_write_err: no RST is sent when retransmissions are exhausted.
    c.fail('ETIMEDOUT', s === 'SYN_SENT' ? `no answer to SYN after ${c.snd.retransmits} retransmissions` : 'retransmissions exhausted');
    return;
  }
  if (!handshake) {
    // LINUX tcp_write_timeout: black-hole detection before the retransmission, which then
    // goes out at the MSS it chose.
    if (c.config.mtuProbing !== 0) mtuProbingOnTimeout(c, now);
    enterLoss(c, now);
  }
  c.snd.retransmits++;
  c.snd.rtoBackoff++; // LINUX tcp_retransmit_timer: icsk_backoff++, icsk_rto doubled
  c.snd.sndNxt = c.snd.sndUna; // go back: the output engine resends from SND.UNA (the SYN if unacked)
  c.snd.rec.sb.highRxt = c.snd.sndUna;
  c.snd.rttStart = NEVER; // Karn's rule (RFC 6298 §3)
  c.snd.rec.dupAcks = 0;
  armRetransmit(c, now);
}

/**
 * RFC 8985 §7.3: the tail loss probe. Send one new segment if the window allows, otherwise
 * retransmit the last one, so that a lost tail is reported by SACK (and recovered by fast
 * recovery with early retransmit) instead of waiting for the RTO.
 */
function lossProbe(c: Connection, now: Instant): void {
  if (c.snd.rec.inRecovery || c.snd.rec.state === 'Loss' || c.snd.rec.tlpHighSeq !== null || !seqGt(c.snd.sndMax, c.snd.sndUna)) return;
  const unsent = c.snd.sendBuf.length - seqDiff(c.snd.sndMax, c.snd.sndBufSeq);
  if (unsent > 0 && seqDiff(seqAdd(c.snd.sndUna, c.snd.sndWnd), c.snd.sndMax) >= Math.min(unsent, c.effMss)) c.pending |= Work.FORCE_SEND;
  else c.pending |= Work.TLP;
  c.snd.rec.tlpHighSeq = c.snd.sndMax;
  bump(c.mib, 'TCPLossProbes');
  armRetransmit(c, now); // §7.3: the RTO is restarted after the probe
}

/** RFC 9293 §3.8.6.1: probe a zero window, backing off like the RTO. */
function persistTimeout(c: Connection, now: Instant): void {
  if (c.state === 'CLOSED' || c.snd.inFlight > 0) return;
  const pending = c.snd.sendBuf.length - seqDiff(c.snd.sndNxt, c.snd.sndBufSeq) > 0 || (c.snd.finQueued && c.snd.sndNxt === c.snd.finSeq);
  if (!pending) {
    c.snd.probesTstamp = NEVER;
    return;
  }
  // The probe would not leave the host (local-drop.ts).
  if (c.xmitDrop) return resourceProbe(c, now);
  if (c.snd.sndWnd > 0) {
    // A small window that silly-window avoidance would not fill: send what fits
    // (RFC 9293 §3.8.6.2.1 override timeout; LINUX tcp_write_wakeup).
    c.pending |= Work.FORCE_SEND;
    return;
  }
  // LINUX tcp_probe_timer: give up after tcp_retries2 probes the peer never answered.
  if (c.snd.persistProbes >= c.config.retries2) {
    c.fail('ETIMEDOUT', 'zero-window probes unanswered');
    return;
  }
  c.pending |= Work.PROBE;
  c.snd.persistProbes++;
  c.snd.persistBackoff++;
  bump(c.mib, 'TCPWinProbe');
  armPersist(c, now);
}

/** RFC 1122 §4.2.3.6 keepalive with Linux's idle/interval/count; no answer: RST and ETIMEDOUT. */
function keepaliveTimeout(c: Connection, now: Instant): void {
  if (!c.config.keepAlive || (c.state !== 'ESTABLISHED' && c.state !== 'CLOSE_WAIT')) return;
  // LINUX tcp_keepalive_timer: data in flight or queued means the retransmission timer watches.
  if (c.snd.inFlight > 0 || c.snd.sendBuf.length > 0) {
    c.timers.set(Timer.KEEPALIVE, now + c.config.keepIdle);
    return;
  }
  const idle = now - c.lastRecv;
  const due = c.keepaliveProbes === 0 ? c.config.keepIdle : c.config.keepIdle + c.keepaliveProbes * c.config.keepInterval;
  if (idle < due) {
    c.timers.set(Timer.KEEPALIVE, c.lastRecv + due);
    return;
  }
  if (c.keepaliveProbes >= c.config.keepCount) {
    c.pending |= Work.RST;
    bump(c.mib, 'OutRsts');
    bump(c.mib, 'TCPKeepAliveTimeouts');
    c.fail('ETIMEDOUT', `keepalive: ${c.keepaliveProbes} probes unanswered: snd RST`);
    return;
  }
  c.pending |= Work.PROBE;
  c.keepaliveProbes++;
  bump(c.mib, 'TCPKeepAlive');
  c.timers.set(Timer.KEEPALIVE, now + c.config.keepInterval);
}

/** SO_LINGER timeout: the data and FIN were not acknowledged in time (seed article case 3b). */
function lingerTimeout(c: Connection, now: Instant): void {
  if (!c.lingerPending) return;
  c.lingerPending = false;
  c.emit({ type: 'linger', acked: false });
  if (c.config.lingerTimeoutAction === 'reset') {
    // After UNP: close reports EWOULDBLOCK and the data still in the send buffer is lost; we
    // discard it with a RST so the peer knows. LINUX instead lets the orphan go on ('orphan').
    c.emit({ type: 'error', code: 'EWOULDBLOCK', message: 'linger timeout: data and FIN not acknowledged' });
    c.abort(now, 'linger timeout: unsent data discarded, snd RST', true);
  }
}
