import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from '../seq.js';
import { EV } from './events.js';
import { type Instant } from '../time.js';
import { ACK, FIN, RST, SYN, segLen, type TcpRepr } from '../wire/tcp-repr.js';
import { bump, type Connection } from './connection.js';
import { established, synSentInput } from './handshake.js';
import { ackNewData } from './sender.js';
import { Timer } from './timers.js';
import { tsBefore, tsClock } from './clock.js';
import { detectLoss, onAckSacks } from './recovery.js';
import { Work } from './work.js';
import { acceptable, challengeAck, outOfWindowAck, receiveText } from './receiver.js';

/**
 * Segment arrival, RFC 9293 §3.10.7. SYN_SENT is in input-syn-sent.ts; everything here is
 * SYN_RECEIVED and the synchronized states (§3.10.7.4), in the RFC's order of checks:
 * sequence number, RST, SYN, ACK, text, FIN. CLOSED and LISTEN never reach a Connection: the
 * stack answers those (§3.10.7.1, §3.10.7.2).
 */
export function onSegment(c: Connection, now: Instant, seg: TcpRepr): void {
  switch (c.state) {
    case 'CLOSED':
    case 'LISTEN':
      return;
    case 'SYN_SENT':
      synSentInput(c, now, seg);
      return;
    default:
      synchronizedInput(c, now, seg);
  }
}

function synchronizedInput(c: Connection, now: Instant, seg: TcpRepr): void {
  const flags = seg.flags;
  const len = segLen(seg);

  if (c.state === 'SYN_RECEIVED') {
    // LINUX tcp_check_req: a retransmitted SYN (same ISN) gets the SYN-ACK again.
    if ((flags & (SYN | ACK | RST)) === SYN && seg.seq === c.rcv.irs) {
      // The output engine sends our SYN whenever SND.NXT sits at the ISS (output.ts due()):
      // rewind it so the SYN-ACK really goes out again.
      if (c.snd.sndUna === c.snd.iss) c.snd.sndNxt = c.snd.iss;
      return;
    }
  }
  // Simultaneous open (RFC 9293 Figure 8 line 6): the peer's SYN,ACK repeats the SYN we already
  // took, so it sits one below RCV.NXT; it acknowledges our SYN. LINUX tcp_validate_incoming
  // passes exactly this segment.
  const simOpenSynAck =
    c.state === 'SYN_RECEIVED' && !c.passive && (flags & (SYN | ACK | RST)) === (SYN | ACK) &&
    seqAdd(seg.seq, 1) === c.rcv.rcvNxt && seg.ack === c.snd.sndMax;

  // RFC 7323 §5.3 R1: PAWS — an old timestamp marks an old duplicate.
  if (c.tsEnabled && seg.hasTimestamp && !(flags & RST) && tsBefore(seg.tsVal, c.rcv.tsRecent)) {
    bump(c.mib, 'PAWSEstab');
    outOfWindowAck(c, now, seg);
    return;
  }

  // First: sequence number acceptability (§3.10.7.4 table).
  let dropText = false;
  if (!simOpenSynAck && !acceptable(c, seg, len)) {
    const wnd = Math.max(0, seqDiff(c.rcv.rcvAdv, c.rcv.rcvNxt));
    // "special allowance should be made to accept valid ACKs, URGs, and RSTs" at a zero window.
    if (wnd === 0 && seg.seq === c.rcv.rcvNxt) {
      dropText = true;
      c.pending |= Work.ACK;
    } else {
      if (flags & RST) return; // never answer a RST (§3.10.7.4, RFC 5961 §3.2)
      if (c.state === 'TIME_WAIT') {
        // §3.10.7.4 TIME-WAIT: the only thing that can arrive is a retransmitted FIN:
        // acknowledge it and restart the 2MSL timeout. Other late segments are dropped with an ACK.
        if (flags & FIN) {
          c.timers.set(Timer.TIME_WAIT, now + c.config.timeWait);
          c.pending |= Work.ACK;
        } else outOfWindowAck(c, now, seg);
        return;
      }
      outOfWindowAck(c, now, seg);
      return;
    }
  }

  c.lastRecv = now;
  c.keepaliveProbes = 0;
  c.snd.persistProbes = 0;
  // RFC 7323 §4.3: remember the peer's timestamp if the segment covers Last.ACK.sent — done
  // below, once its ACK field has been found acceptable too (LINUX tcp_ack FLAG_UPDATE_TS_RECENT:
  // a segment acknowledging data never sent must not move TS.Recent).
  const updateTsRecent = c.tsEnabled && seg.hasTimestamp && seqLe(seg.seq, c.rcv.lastAckSent) && !tsBefore(seg.tsVal, c.rcv.tsRecent);

  // Second: RST (RFC 5961 §3.2 replaces §3.10.7.4's "in window" rule).
  if (flags & RST) {
    if (seg.seq === c.rcv.rcvNxt) resetByPeer(c);
    else challengeAck(c, now);
    return;
  }

  // Fourth: SYN in a synchronized state (RFC 5961 §4.2: challenge ACK, whatever its sequence).
  if (flags & SYN && !simOpenSynAck) {
    if (c.state === 'SYN_RECEIVED' && c.passive) {
      // LINUX tcp_check_req embryonic_reset: a different SYN kills the request with a RST.
      replyRst(c, seg);
      c.setState('CLOSED', 'rcv SYN in SYN_RECEIVED: snd RST, request dropped');
      return;
    }
    challengeAck(c, now);
    return;
  }

  // Fifth: ACK. Without it the segment is dropped (§3.10.7.4).
  if (!(flags & ACK)) return;
  if (c.state === 'SYN_RECEIVED') {
    if (seqLt(c.snd.sndUna, seg.ack) && seqLe(seg.ack, c.snd.sndMax)) {
      c.snd.sndWnd = seg.window << c.sndWscale; // shift ≤ 14 (RFC 7323 §2.3): < 2^31, a small integer
      c.snd.maxSndWnd = Math.max(c.snd.maxSndWnd, c.snd.sndWnd);
      c.snd.sndWl1 = seg.seq;
      c.snd.sndWl2 = seg.ack;
      ackNewData(c, now, seg);
      established(c, now, c.passive ? 'rcv ACK of SYN' : 'rcv SYN,ACK (simultaneous open)');
      if (simOpenSynAck) return;
    } else {
      // §3.10.7.4: an unacceptable ACK in SYN_RECEIVED gets <SEQ=SEG.ACK><CTL=RST>.
      replyRst(c, seg);
      return;
    }
  } else if (seqGt(seg.ack, c.snd.sndMax)) {
    // §3.10.7.4 / RFC 5961 §5.2: it acknowledges something not yet sent: ACK and drop.
    challengeAck(c, now);
    return;
  } else if (seqLt(seg.ack, seqAdd(c.snd.sndUna, -c.snd.maxSndWnd - 1))) {
    // RFC 5961 §5.2: too old to be acceptable.
    challengeAck(c, now);
    return;
  } else {
    onAckSacks(c, now, seg.ack, seg.sackBlocks, seg.sackCount, c.tsEnabled && seg.hasTimestamp ? seg.tsEcr : null);
    if (seqGt(seg.ack, c.snd.sndUna)) {
      ackNewData(c, now, seg);
    } else if (seg.ack === c.snd.sndUna && len === 0 && c.snd.inFlight > 0 && (seg.window << c.sndWscale) === c.snd.sndWnd) {
      // RFC 5681 §2 duplicate ACK; the third starts fast retransmit (§3.2).
      c.snd.rec.onDupAck();
    }
    detectLoss(c, now);
  }
  if (updateTsRecent) c.rcv.tsRecent = seg.tsVal;
  // Window update (§3.10.7.4 ESTABLISHED): only from a segment newer than the last update.
  if (seqLt(c.snd.sndWl1, seg.seq) || (c.snd.sndWl1 === seg.seq && seqLe(c.snd.sndWl2, seg.ack))) {
    const wasZero = c.snd.sndWnd === 0;
    c.snd.sndWnd = seg.window << c.sndWscale;
    c.snd.maxSndWnd = Math.max(c.snd.maxSndWnd, c.snd.sndWnd);
    c.snd.sndWl1 = seg.seq;
    c.snd.sndWl2 = seg.ack;
    if (wasZero && c.snd.sndWnd > 0) {
      c.timers.stop(Timer.PERSIST);
      c.snd.persistBackoff = 0;
    }
  }

  switch (c.state) {
    case 'CLOSING':
      if (c.snd.finAcked()) c.enterTimeWait(now, 'rcv ACK of FIN');
      return;
    case 'LAST_ACK':
      if (c.snd.finAcked()) c.setState('CLOSED', 'rcv ACK of FIN');
      return;
    case 'TIME_WAIT':
      return; // nothing else to do for a duplicate in TIME_WAIT
    default:
      break;
  }

  // Seventh: segment text (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2 only).
  const s = c.state;
  if (seg.payload.length > 0 && !dropText && (s === 'ESTABLISHED' || s === 'FIN_WAIT_1' || s === 'FIN_WAIT_2')) {
    if (c.userClosed && seqGt(seqAdd(seg.seq, seg.payload.length), c.rcv.rcvNxt)) {
      // LINUX tcp_rcv_state_process: new data for a socket the application closed cannot be
      // delivered: reset (TCPAbortOnData). The RFC would keep receiving.
      bump(c.mib, 'TCPAbortOnData');
      replyRst(c, seg);
      c.setState('CLOSED', 'rcv data after close: snd RST');
      return;
    }
    if (c.tsEnabled && seg.hasTimestamp && seg.tsEcr !== 0) {
      // LINUX tcp_rcv_rtt_measure_ts: the data echoes our timestamp; the gap is the receiver's RTT.
      const ticks = (tsClock(c, now) - seg.tsEcr) >>> 0;
      if (ticks < 0x7fffffff) {
        const sample = Math.max(1000, ticks * 1000);
        c.rcv.rcvRtt = c.rcv.rcvRtt === 0 ? sample : Math.round(c.rcv.rcvRtt - c.rcv.rcvRtt / 8 + sample / 8);
      }
    }
    receiveText(c, now, seg.seq, seg.payload);
  }

  // Eighth: FIN.
  if (flags & FIN && !dropText) {
    const finSeq = seqAdd(seg.seq, seg.payload.length);
    if (finSeq === c.rcv.rcvNxt) processFin(c, now);
    else if (seqGt(finSeq, c.rcv.rcvNxt)) c.rcv.oooFinSeq = finSeq; // held until the gap fills
  }

  // FIN_WAIT_1 → FIN_WAIT_2 once our FIN is acknowledged. Decided after the FIN step so that a
  // FIN+ACK (with or without data) goes straight to TIME_WAIT (§3.10.7.4 eighth: "If our FIN has
  // been ACKed (perhaps in this segment), then enter TIME-WAIT").
  if (c.state === 'FIN_WAIT_1' && c.snd.finAcked()) {
    c.setState('FIN_WAIT_2', 'rcv ACK of FIN');
    c.armFinWait2(now);
  }
}

/** The peer's FIN, in order (§3.10.7.4 eighth). */
export function processFin(c: Connection, now: Instant): void {
  const dataReceived = seqDiff(c.rcv.rcvNxt, c.rcv.irs) > 1;
  c.rcv.rcvNxt = seqAdd(c.rcv.rcvNxt, 1);
  c.rcv.finReceived = true;
  // LINUX tcp_fin → tcp_sack_reset: the FIN clears pending SACK and D-SACK information.
  c.rcv.dsackStart = c.rcv.dsackEnd;
  if ((c.state === 'ESTABLISHED' || c.state === 'SYN_RECEIVED') && dataReceived) {
    // LINUX tcp_fin: entering CLOSE_WAIT switches to delayed-ACK ("pingpong") mode, expecting the
    // application to close soon so that its FIN carries the ACK (the three-segment close). The
    // delay is the ACK timeout, TCP_ATO_MIN once data has arrived; before any data it is 0.
    if (!c.timers.isSet(Timer.DELAYED_ACK)) c.timers.set(Timer.DELAYED_ACK, now + c.config.delAckMin);
  } else c.pending |= Work.ACK;
  // The state changes first, then the application hears of the end of the stream.
  try {
    finTransition(c, now);
  } finally {
    c.emit(EV.end);
  }
}

function finTransition(c: Connection, now: Instant): void {
  switch (c.state) {
    case 'SYN_RECEIVED':
    case 'ESTABLISHED':
      c.setState('CLOSE_WAIT', 'rcv FIN: snd ACK');
      break;
    case 'FIN_WAIT_1':
      if (c.snd.finAcked()) c.enterTimeWait(now, 'rcv FIN,ACK of our FIN: snd ACK');
      else c.setState('CLOSING', 'rcv FIN: snd ACK (simultaneous close)');
      break;
    case 'FIN_WAIT_2':
      c.enterTimeWait(now, 'rcv FIN: snd ACK');
      break;
    case 'TIME_WAIT':
      c.timers.set(Timer.TIME_WAIT, now + c.config.timeWait);
      break;
    default:
      break; // CLOSE_WAIT, CLOSING, LAST_ACK: remain
  }
}

/** A RST for this connection's peer (§3.10.7.4 second, after RFC 5961's exact-match test). */
function resetByPeer(c: Connection): void {
  switch (c.state) {
    case 'SYN_RECEIVED':
      if (c.passive) c.setState('CLOSED', 'rcv RST: request dropped, listener stays in LISTEN');
      else c.fail('ECONNREFUSED', 'rcv RST in SYN_RECEIVED');
      return;
    case 'ESTABLISHED':
    case 'FIN_WAIT_1':
    case 'FIN_WAIT_2':
      c.fail('ECONNRESET', 'rcv RST');
      return;
    case 'CLOSE_WAIT':
      // LINUX tcp_reset: EPIPE in CLOSE_WAIT (the application already saw EOF).
      c.fail('EPIPE', 'rcv RST');
      return;
    default:
      // CLOSING, LAST_ACK, TIME_WAIT: §3.10.7.4 "enter the CLOSED state, delete the TCB".
      c.setState('CLOSED', 'rcv RST');
  }
}

/** Answer `seg` with a RST (§3.10.7.1 rules: <SEQ=SEG.ACK> if it had an ACK). */
export function replyRst(c: Connection, seg: TcpRepr): void {
  c.pending |= Work.REPLY_RST;
  c.replyRstSeq = seg.flags & ACK ? seg.ack : 0;
  bump(c.mib, 'OutRsts');
}
