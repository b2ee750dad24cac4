import { inWindow, seqAdd, seqDiff, seqGt, seqLe, seqLt } from '../seq.js';
import { EV } from './events.js';
import { NEVER, type Instant } from '../time.js';
import { ACK, FIN, RST, SYN, segLen, type TcpRepr } from '../wire/tcp-repr.js';
import { bump, type Connection } from './connection.js';
import { ackNewData, established, synSentInput } from './input-syn-sent.js';
import { Timer } from './timers.js';
import { tsBefore, tsClock } from './clock.js';
import { detectLoss, onAckSacks } from './recovery.js';
import { isSynchronized } from './state.js';
import { admitSegment } from './rmem.js';
import { Work } from './work.js';

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
    if ((flags & (SYN | ACK | RST)) === SYN && seg.seq === c.irs) {
      // The output engine sends our SYN whenever SND.NXT sits at the ISS (output.ts due()):
      // rewind it so the SYN-ACK really goes out again.
      if (c.sndUna === c.iss) c.sndNxt = c.iss;
      return;
    }
  }
  // Simultaneous open (RFC 9293 Figure 8 line 6): the peer's SYN,ACK repeats the SYN we already
  // took, so it sits one below RCV.NXT; it acknowledges our SYN. LINUX tcp_validate_incoming
  // passes exactly this segment.
  const simOpenSynAck =
    c.state === 'SYN_RECEIVED' && !c.passive && (flags & (SYN | ACK | RST)) === (SYN | ACK) &&
    seqAdd(seg.seq, 1) === c.rcvNxt && seg.ack === c.sndMax;

  // RFC 7323 §5.3 R1: PAWS — an old timestamp marks an old duplicate.
  if (c.tsEnabled && seg.hasTimestamp && !(flags & RST) && tsBefore(seg.tsVal, c.tsRecent)) {
    bump(c.mib, 'PAWSEstab');
    outOfWindowAck(c, now, seg);
    return;
  }

  // First: sequence number acceptability (§3.10.7.4 table).
  let dropText = false;
  if (!simOpenSynAck && !acceptable(c, seg, len)) {
    const wnd = Math.max(0, seqDiff(c.rcvAdv, c.rcvNxt));
    // "special allowance should be made to accept valid ACKs, URGs, and RSTs" at a zero window.
    if (wnd === 0 && seg.seq === c.rcvNxt) {
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
  c.persistProbes = 0;
  // RFC 7323 §4.3: remember the peer's timestamp if the segment covers Last.ACK.sent — done
  // below, once its ACK field has been found acceptable too (LINUX tcp_ack FLAG_UPDATE_TS_RECENT:
  // a segment acknowledging data never sent must not move TS.Recent).
  const updateTsRecent = c.tsEnabled && seg.hasTimestamp && seqLe(seg.seq, c.lastAckSent) && !tsBefore(seg.tsVal, c.tsRecent);

  // Second: RST (RFC 5961 §3.2 replaces §3.10.7.4's "in window" rule).
  if (flags & RST) {
    if (seg.seq === c.rcvNxt) resetByPeer(c);
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
    if (seqLt(c.sndUna, seg.ack) && seqLe(seg.ack, c.sndMax)) {
      c.sndWnd = seg.window << c.sndWscale; // shift ≤ 14 (RFC 7323 §2.3): < 2^31, a small integer
      c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
      c.sndWl1 = seg.seq;
      c.sndWl2 = seg.ack;
      ackNewData(c, now, seg);
      established(c, now, c.passive ? 'rcv ACK of SYN' : 'rcv SYN,ACK (simultaneous open)');
      if (simOpenSynAck) return;
    } else {
      // §3.10.7.4: an unacceptable ACK in SYN_RECEIVED gets <SEQ=SEG.ACK><CTL=RST>.
      replyRst(c, seg);
      return;
    }
  } else if (seqGt(seg.ack, c.sndMax)) {
    // §3.10.7.4 / RFC 5961 §5.2: it acknowledges something not yet sent: ACK and drop.
    challengeAck(c, now);
    return;
  } else if (seqLt(seg.ack, seqAdd(c.sndUna, -c.maxSndWnd - 1))) {
    // RFC 5961 §5.2: too old to be acceptable.
    challengeAck(c, now);
    return;
  } else {
    onAckSacks(c, now, seg.ack, seg.sackBlocks, seg.sackCount, c.tsEnabled && seg.hasTimestamp ? seg.tsEcr : null);
    if (seqGt(seg.ack, c.sndUna)) {
      ackNewData(c, now, seg);
    } else if (seg.ack === c.sndUna && len === 0 && c.inFlight > 0 && (seg.window << c.sndWscale) === c.sndWnd) {
      // RFC 5681 §2 duplicate ACK; the third starts fast retransmit (§3.2).
      c.rec.onDupAck();
    }
    detectLoss(c, now);
  }
  if (updateTsRecent) c.tsRecent = seg.tsVal;
  // Window update (§3.10.7.4 ESTABLISHED): only from a segment newer than the last update.
  if (seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLe(c.sndWl2, seg.ack))) {
    const wasZero = c.sndWnd === 0;
    c.sndWnd = seg.window << c.sndWscale;
    c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    if (wasZero && c.sndWnd > 0) {
      c.timers.stop(Timer.PERSIST);
      c.persistBackoff = 0;
    }
  }

  switch (c.state) {
    case 'CLOSING':
      if (c.finAcked()) c.enterTimeWait(now, 'rcv ACK of FIN');
      return;
    case 'LAST_ACK':
      if (c.finAcked()) c.setState('CLOSED', 'rcv ACK of FIN');
      return;
    case 'TIME_WAIT':
      return; // nothing else to do for a duplicate in TIME_WAIT
    default:
      break;
  }

  // Seventh: segment text (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2 only).
  const s = c.state;
  if (seg.payload.length > 0 && !dropText && (s === 'ESTABLISHED' || s === 'FIN_WAIT_1' || s === 'FIN_WAIT_2')) {
    if (c.userClosed && seqGt(seqAdd(seg.seq, seg.payload.length), c.rcvNxt)) {
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
        c.rcvRtt = c.rcvRtt === 0 ? sample : Math.round(c.rcvRtt - c.rcvRtt / 8 + sample / 8);
      }
    }
    receiveText(c, now, seg.seq, seg.payload);
  }

  // Eighth: FIN.
  if (flags & FIN && !dropText) {
    const finSeq = seqAdd(seg.seq, seg.payload.length);
    if (finSeq === c.rcvNxt) processFin(c, now);
    else if (seqGt(finSeq, c.rcvNxt)) c.oooFinSeq = finSeq; // held until the gap fills
  }

  // FIN_WAIT_1 → FIN_WAIT_2 once our FIN is acknowledged. Decided after the FIN step so that a
  // FIN+ACK (with or without data) goes straight to TIME_WAIT (§3.10.7.4 eighth: "If our FIN has
  // been ACKed (perhaps in this segment), then enter TIME-WAIT").
  if (c.state === 'FIN_WAIT_1' && c.finAcked()) {
    c.setState('FIN_WAIT_2', 'rcv ACK of FIN');
    c.armFinWait2(now);
  }
}

/** §3.10.7.4 table: is any part of the segment inside the receive window? */
function acceptable(c: Connection, seg: TcpRepr, len: number): boolean {
  const wnd = Math.max(0, seqDiff(c.rcvAdv, c.rcvNxt));
  if (len === 0) return wnd === 0 ? seg.seq === c.rcvNxt : inWindow(seg.seq, c.rcvNxt, wnd);
  if (wnd === 0) return false;
  return inWindow(seg.seq, c.rcvNxt, wnd) || inWindow(seqAdd(seg.seq, len - 1), c.rcvNxt, wnd);
}

/** In-order data goes to the receive buffer, later data to reassembly (§3.10.7.4 seventh). */
export function receiveText(c: Connection, now: Instant, seq: number, data: Uint8Array): void {
  const skip = seqDiff(c.rcvNxt, seq);
  if (skip > 0) {
    // RFC 2883 §4.1: report the duplicate part as the first (D-SACK) block.
    if (c.sackEnabled) {
      c.dsackStart = seq;
      c.dsackEnd = seqAdd(seq, Math.min(skip, data.length));
    }
    if (skip >= data.length) {
      c.pending |= Work.ACK; // a complete duplicate: ACK at once (RFC 5681 §4.2)
      return;
    }
    data = data.subarray(skip);
    seq = c.rcvNxt;
  }
  // Trim what does not fit in the buffer (the advertised window never exceeds it).
  const room = seqDiff(seqAdd(c.rcvNxt, c.recvBuf.free), seq);
  if (room <= 0) {
    c.pending |= Work.ACK;
    return;
  }
  if (data.length > room) data = data.subarray(0, room);
  // LINUX tcp_data_queue / tcp_data_queue_ofo: charge the segment to receive memory first.
  if (!admitSegment(c, seq, data.length)) {
    c.pending |= Work.ACK;
    return;
  }
  c.rcvMss = Math.max(c.rcvMss, Math.min(data.length, c.advMss));

  if (seq !== c.rcvNxt) {
    // Out of order: hold it and send an immediate duplicate ACK (RFC 5681 §4.2, RFC 9293 §3.10.7.4).
    if (!c.reasm.insert(seq, data) && c.sackEnabled) {
      // RFC 2883 §4.2: a duplicate of out-of-order data held already.
      c.dsackStart = seq;
      c.dsackEnd = seqAdd(seq, data.length);
    }
    bump(c.mib, 'TCPOFOQueue');
    c.pending |= Work.ACK;
    return;
  }
  const hadHoles = !c.reasm.isEmpty;
  let n = c.recvBuf.push(data);
  c.rcvNxt = seqAdd(c.rcvNxt, n);
  for (let more = c.reasm.takeContiguous(c.rcvNxt); more !== null; more = c.reasm.takeContiguous(c.rcvNxt)) {
    const m = c.recvBuf.push(more);
    c.rcvNxt = seqAdd(c.rcvNxt, m);
    n += m;
  }
  // RFC 2883 §4.2: in-order data that covered held out-of-order data reports it as a duplicate.
  const dup = hadHoles ? c.reasm.takeDuplicate() : null;
  if (dup !== null && c.sackEnabled && c.dsackStart === c.dsackEnd) {
    c.dsackStart = dup[0];
    c.dsackEnd = dup[1];
  }
  c.bytesSinceAck += n;
  // LINUX tcp_grow_window (simplified): open the clamp by twice what arrived.
  if (c.rcvClamp < c.config.recvBuffer) c.rcvClamp = Math.min(c.config.recvBuffer, c.rcvClamp + 2 * n);
  c.emit(EV.readable);
  if (c.oooFinSeq !== null && c.oooFinSeq === c.rcvNxt) {
    c.oooFinSeq = null;
    processFin(c, now);
    return;
  }
  scheduleAck(c, now, hadHoles);
}

/**
 * Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2) with Linux's timing: quick-ACK mode at the
 * start, then an ACK for every second full-sized segment or after the delayed-ACK timeout.
 */
function scheduleAck(c: Connection, now: Instant, filledHole: boolean): void {
  if (filledHole || c.quickAcks > 0) {
    if (c.quickAcks > 0) c.quickAcks--;
    c.pending |= Work.ACK;
    return;
  }
  // LINUX __tcp_ack_snd_check: more than one full frame received since the last ACK.
  if (c.bytesSinceAck > c.rcvMss) {
    c.pending |= Work.ACK;
    return;
  }
  if (!c.timers.isSet(Timer.DELAYED_ACK)) c.timers.set(Timer.DELAYED_ACK, now + c.config.delAckMin);
}

/** The peer's FIN, in order (§3.10.7.4 eighth). */
export function processFin(c: Connection, now: Instant): void {
  const dataReceived = seqDiff(c.rcvNxt, c.irs) > 1;
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.finReceived = true;
  // LINUX tcp_fin → tcp_sack_reset: the FIN clears pending SACK and D-SACK information.
  c.dsackStart = c.dsackEnd;
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
      if (c.finAcked()) c.enterTimeWait(now, 'rcv FIN,ACK of our FIN: snd ACK');
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

/**
 * RFC 5961 challenge ACK, LINUX-rate-limited per connection (tcp_invalid_ratelimit, 500 ms).
 */
export function challengeAck(c: Connection, now: Instant): void {
  if (now - c.lastOowAck < c.config.invalidRateLimit) {
    bump(c.mib, 'TCPACKSkippedChallenge');
    return;
  }
  c.lastOowAck = now;
  bump(c.mib, 'TCPChallengeACK');
  c.pending |= Work.ACK;
}

/** ACK for an unacceptable segment (§3.10.7.4). LINUX tcp_oow_rate_limited: pure ACKs only. */
function outOfWindowAck(c: Connection, now: Instant, seg: TcpRepr): void {
  const len = segLen(seg);
  if (len > 0 && seqLt(seg.seq, c.rcvNxt) && isSynchronized(c.state)) {
    // An old duplicate: RFC 2883 §4.1 D-SACK for it (LINUX tcp_send_dupack, which also
    // re-enters quick-ACK mode: the peer is retransmitting, our ACKs may have been lost).
    if (c.sackEnabled) {
      c.dsackStart = seg.seq;
      const end = seqAdd(seg.seq, len);
      c.dsackEnd = seqLt(end, c.rcvNxt) ? end : c.rcvNxt;
    }
    c.quickAcks = Math.max(c.quickAcks, c.config.quickAcks);
  }
  if (seg.payload.length === 0 && !(seg.flags & SYN) && now - c.lastOowAck < c.config.invalidRateLimit) {
    bump(c.mib, 'TCPACKSkippedSeq');
    return;
  }
  c.lastOowAck = now;
  c.pending |= Work.ACK;
}

/** Answer `seg` with a RST (§3.10.7.1 rules: <SEQ=SEG.ACK> if it had an ACK). */
export function replyRst(c: Connection, seg: TcpRepr): void {
  c.pending |= Work.REPLY_RST;
  c.replyRstSeq = seg.flags & ACK ? seg.ack : 0;
  bump(c.mib, 'OutRsts');
}
