import { ecnAfterAck, ecnBeforeAck, ecnOnData } from './ecn.js';
import { seqAdd, seqDiff, seqGt, seqLe } from '../seq.js';
import { EV } from './events.js';
import { type Instant } from '../time.js';
import { ACK, FIN, PSH, RST, SYN, payloadBytes, payloadOffset, type TcpRepr } from '../wire/tcp-repr.js';
import type { Connection } from './connection.js';
import { bump } from '../mib.js';
import { synSentInput, isSimultaneousOpenSynAck, synReceivedAck, synReceivedRetransmittedSyn } from './handshake.js';
import { updateSendWindow, processAck } from './sender.js';
import { Timer } from './timers.js';
import { tsBefore } from './clock.js';
import { Work } from './work.js';
import { challengeAck, enterQuickAck, receiveText, Acceptance, checkSequence, inSequence, measureRcvRtt } from './receiver.js';
import { assertNever } from './state.js';
import { onAckSacks } from './recovery.js';

/**
 * Segment arrival, RFC 9293 §3.10.7. SYN_SENT is in handshake.ts; everything here is
 * SYN_RECEIVED and the synchronized states (§3.10.7.4), in the RFC's order of checks:
 * sequence number, RST, SYN, ACK, text, FIN — after header prediction (receivePredicted), which
 * takes a pure receiver's next in-order segment in fewer steps. CLOSED and LISTEN never reach a Connection: the
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
      if (!receivePredicted(c, now, seg)) synchronizedInput(c, now, seg);
  }
}

/**
 * §3.10.7.4 for SYN_RECEIVED and the synchronized states, in the RFC's order of checks. Each step
 * belongs to the half it concerns: acceptability and text to the receiver, the ACK to the sender
 * (or to the handshake in SYN_RECEIVED); the state transitions stay here.
 */
function synchronizedInput(c: Connection, now: Instant, seg: TcpRepr): void {
  const flags = seg.flags;
  if (c.state === 'SYN_RECEIVED' && synReceivedRetransmittedSyn(c, seg)) return;
  // (Tests of rare cases are behind a cheap one on the hot path: V8 inlines a callee whole, and
  // the inlined bytes of a per-segment function are a budget.)
  const simOpenSynAck = c.state === 'SYN_RECEIVED' && isSimultaneousOpenSynAck(c, seg);

  // First: sequence number acceptability (PAWS, then the §3.10.7.4 table).
  const acceptance = inSequence(c, seg) ? Acceptance.OK : checkSequence(c, now, seg, simOpenSynAck);
  if (acceptance === Acceptance.DROP) return;
  heardFromPeer(c, now);
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
    bump(c.mib, 'TCPSYNChallenge');
    challengeAck(c, now);
    return;
  }
  // Fifth: ACK. Without it the segment is dropped (§3.10.7.4).
  if (!(flags & ACK)) return;
  if (c.state === 'SYN_RECEIVED') {
    if (!synReceivedAck(c, now, seg)) return;
    if (simOpenSynAck) {
      // LINUX tcp_data_queue: the SYN it repeats is an old duplicate (its end is RCV.NXT): a
      // D-SACK for it (RFC 2883) and an ACK at once, in quick-ACK mode.
      if (c.sackEnabled) {
        c.rcv.dsackStart = seg.seq;
        c.rcv.dsackEnd = seqAdd(seg.seq, 1);
      }
      enterQuickAck(c);
      c.pending |= Work.ACK;
      return;
    }
  } else {
    const prevUna = c.snd.sndUna;
    ecnBeforeAck(c, seg);
    if (!processAck(c, now, seg)) return;
    ecnAfterAck(c, prevUna);
  }
  if (updateTsRecent) c.rcv.tsRecent = seg.tsVal;
  updateSendWindow(c, seg);
  if (c.state !== 'ESTABLISHED' && afterAck(c, now)) return;

  // Seventh: segment text (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2 only).
  const dropText = acceptance === Acceptance.ACK_ONLY;
  if (seg.payload.length > 0 && !dropText && !segmentText(c, now, seg)) return;
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

/** The ACK's effect on the closing states (§3.10.7.4 fifth); true when processing ends here. */
function afterAck(c: Connection, now: Instant): boolean {
  const s = c.state;
  switch (s) {
    case 'CLOSING':
      if (c.snd.finAcked()) c.enterTimeWait(now, 'rcv ACK of FIN');
      return true;
    case 'LAST_ACK':
      if (c.snd.finAcked()) c.setState('CLOSED', 'rcv ACK of FIN');
      return true;
    case 'TIME_WAIT':
      return true; // nothing else to do for a duplicate in TIME_WAIT
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN_SENT':
    case 'SYN_RECEIVED':
    case 'ESTABLISHED':
    case 'FIN_WAIT_1':
    case 'FIN_WAIT_2':
    case 'CLOSE_WAIT':
      return false;
    default:
      return assertNever(s, 'TCP state');
  }
}

/**
 * Seventh step: text in ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2; false when it reset the connection
 * (data for a socket the application closed).
 */
function segmentText(c: Connection, now: Instant, seg: TcpRepr): boolean {
  const s = c.state;
  if (s !== 'ESTABLISHED' && s !== 'FIN_WAIT_1' && s !== 'FIN_WAIT_2') return true;
  // LINUX tcp_rcv_state_process (TCP_FIN_WAIT1/2 with RCV_SHUTDOWN): new data for a socket the
  // application closed, or shut down both ways, cannot be delivered: reset (TCPAbortOnData), and
  // a socket still open reads ECONNRESET (tcp_reset). The RFC would keep receiving.
  const rcvShut = c.userClosed || (c.rcv.readShutdown && s !== 'ESTABLISHED');
  if (rcvShut && seqGt(seqAdd(seg.seq, seg.payload.length), c.rcv.rcvNxt)) {
    bump(c.mib, 'TCPAbortOnData');
    replyRst(c, seg);
    if (c.userClosed) c.setState('CLOSED', 'rcv data after close: snd RST');
    else c.fail('ECONNRESET', 'rcv data after shutdown(SHUT_RDWR): snd RST');
    return false;
  }
  queueText(c, now, seg);
  return true;
}

/** An acceptable segment arrived: the peer is alive (keepalive and zero-window probing restart). */
function heardFromPeer(c: Connection, now: Instant): void {
  c.lastRecv = now;
  c.keepaliveProbes = 0;
  c.snd.persistProbes = 0;
}

/** The text of an acceptable segment, to the receiver (both paths of the seventh step). */
function queueText(c: Connection, now: Instant, seg: TcpRepr): void {
  if (c.tsEnabled && seg.hasTimestamp && seg.tsEcr !== 0) measureRcvRtt(c, now, seg.tsEcr);
  const ackNow = ecnOnData(c, seg);
  receiveText(c, now, seg.seq, payloadBytes(seg), payloadOffset(seg), seg.payload.length);
  if (ackNow) c.pending |= Work.ACK; // RFC 3168 §6.1.3 / LINUX tcp_enter_quickack_mode
}

let headerPrediction = true;

/**
 * Turn header prediction off (every segment then takes the full path) or on again; returns the
 * setting now in use. For the test that checks both paths put the same bytes on the wire, and
 * for benchmarks that measure what the prediction saves.
 */
export function setHeaderPrediction(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new TypeError(`on must be a boolean, got ${String(on)}`);
  headerPrediction = on;
  return headerPrediction;
}

/**
 * Header prediction for a pure receiver (LINUX tcp_rcv_established, "Bulk data transfer:
 * receiver"): the next in-order segment of a stream whose ACK field repeats SND.UNA is queued
 * without the rest of §3.10.7.4. Linux's fast path takes such a segment when its header is the
 * predicted one (pred_flags: only ACK, PSH ignored; the usual options; RCV.NXT in sequence) and
 * the ACK acknowledges nothing new, and then skips tcp_ack altogether (tcp_update_wl only).
 *
 * Here the prediction is narrower, so that taking it changes nothing synchronizedInput would do:
 * in sequence (inSequence: ESTABLISHED, RCV.NXT, text within the offered window, PAWS passed),
 * nothing of ours in flight, recovery Open with no duplicate ACKs or SACK state, no SACK blocks,
 * nothing held out of order, a socket not closed. The ACK step (processAck) then has nothing to
 * act on and no state transition is possible: what remains is the timestamp, the window update
 * and the text. A bulk receiver takes this path for almost every segment (its ACK field never
 * moves); everything else goes the full way. Counted as TcpExtTCPHPHits. Returns true when the
 * segment was taken here.
 */
function receivePredicted(c: Connection, now: Instant, seg: TcpRepr): boolean {
  if ((seg.flags & ~PSH) !== ACK || seg.payload.length === 0 || !headerPrediction || !inSequence(c, seg)) return false;
  const snd = c.snd;
  const rec = snd.rec;
  const ack = seg.ack;
  const ts = c.tsEnabled;
  if (ack !== snd.sndUna || ack !== snd.sndMax || seg.sackCount !== 0 || ts !== seg.hasTimestamp) return false;
  // (LINUX tcp_fast_path_check: no out-of-order queue.)
  if (!c.rcv.reasm.isEmpty || c.userClosed || rec.state !== 'Open' || rec.dupAcks !== 0 || !rec.sb.isEmpty) return false;

  c.mib.TCPHPHits!++;
  heardFromPeer(c, now);
  // What processAck does with an ACK that acknowledges nothing, with nothing in flight: a
  // MSG_MORE hold ends (tcp_data_snd_check), RACK clears its per-ACK state and its timer.
  if (c.corkState !== null) c.corkState.more = false;
  if (c.sackEnabled) {
    if (rec.rackIfAny !== null) onAckSacks(c, now, ack, seg.sackBlocks, 0, ts ? seg.tsEcr : null);
    c.timers.stop(Timer.REORDER);
  }
  // RFC 7323 §4.3 (LINUX: rcv_nxt == rcv_wup in the fast path): SEG.SEQ <= Last.ACK.sent.
  if (ts && seqLe(seg.seq, c.rcv.lastAckSent)) c.rcv.tsRecent = seg.tsVal;
  updateSendWindow(c, seg);
  queueText(c, now, seg);
  return true;
}

/** The peer's FIN, in order (§3.10.7.4 eighth). */
export function processFin(c: Connection, now: Instant): void {
  // (A Fast Open child's SYN data does not count: LINUX tcp_fastopen_add_skb queues it without
  // tcp_event_data_recv, so the ACK timeout is still 0 and the FIN is acknowledged at once.)
  const dataReceived = seqDiff(c.rcv.rcvNxt, c.rcv.irs) > 1 + (c.fastOpen?.synDataIn ?? 0);
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
      // LINUX tcp_reset: a Fast Open child, which the application may hold, reports ECONNRESET.
      if (c.fastOpen?.child === true) c.fail('ECONNRESET', 'rcv RST in SYN_RECEIVED (Fast Open child)');
      else if (c.passive) c.setState('CLOSED', 'rcv RST: request dropped, listener stays in LISTEN');
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
