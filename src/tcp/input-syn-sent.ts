import { seqAdd, seqDiff, seqGt, seqLe, seqLt, seqMin } from '../seq.js';
import { EV } from './events.js';
import { NEVER, type Instant } from '../time.js';
import { ACK, FIN, RST, SYN, type TcpRepr } from '../wire/tcp-repr.js';
import { type Connection } from './connection.js';
import { processFin, receiveText, replyRst } from './input.js';
import { Timer } from './timers.js';
import { initialWindow } from './output.js';
import { tsClock } from './clock.js';
import { onAckAdvance } from './recovery.js';
import { Work } from './work.js';

/** RFC 9293 §3.10.7.3: a segment arrives in SYN_SENT. */
export function synSentInput(c: Connection, now: Instant, seg: TcpRepr): void {
  const hasAck = (seg.flags & ACK) !== 0;
  // First: the ACK must acknowledge our SYN and nothing beyond: ISS < SEG.ACK =< SND.NXT.
  if (hasAck && (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndMax))) {
    if (!(seg.flags & RST)) replyRst(c, seg);
    return;
  }
  // Second: RST. Acceptable only with an acceptable ACK (RFC 5961 §3.2 keeps this rule).
  if (seg.flags & RST) {
    if (hasAck) c.fail('ECONNREFUSED', 'rcv RST,ACK: connection refused');
    return;
  }
  // Fourth: SYN. Anything else is dropped.
  if (!(seg.flags & SYN)) return;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  c.lastAckSent = c.rcvNxt;
  negotiate(c, seg);
  // The window our SYN offered (unscaled) is what the peer may fill first.
  c.rcvAdv = seqAdd(c.rcvNxt, initialWindow(c));
  c.lastRecv = now;
  // §3.10.7.3: SYN windows are never scaled (RFC 7323 §2.2).
  c.sndWnd = seg.window;
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
  if (hasAck) {
    ackNewData(c, now, seg);
    established(c, now, 'rcv SYN,ACK: snd ACK');
    c.pending |= Work.ACK;
    if (seg.payload.length > 0) receiveText(c, now, c.rcvNxt, seg.payload);
    if (seg.flags & FIN && seqAdd(seg.seq, 1 + seg.payload.length) === c.rcvNxt) processFin(c, now);
  } else {
    // Simultaneous open (§3.10.7.3, Figure 8): SYN_RECEIVED, answer with SYN,ACK (same ISS).
    c.setState('SYN_RECEIVED', 'rcv SYN: snd SYN,ACK (simultaneous open)');
    // Our SYN goes again, now with an ACK: a new segment, not a retransmission.
    c.sndNxt = c.iss;
    c.sndMax = c.iss;
  }
}

/** Options from the peer's SYN (RFC 9293 §3.7.1 MSS, RFC 7323 §2.2/§3.2, RFC 2018 §2). */
export function negotiate(c: Connection, seg: TcpRepr): void {
  // RFC 9293 §3.7.1: without the option, assume 536 (IPv4) / 1220 (IPv6).
  // LINUX: an announced MSS below TCP_MIN_MSS (88) is raised to it.
  if (seg.mss > 0) c.peerMss = Math.max(88, seg.mss);
  if (c.config.windowScaling && seg.wscale >= 0) {
    c.wsEnabled = true;
    // RFC 7323 §2.3: a shift above 14 is used as 14.
    c.sndWscale = Math.min(seg.wscale, 14);
    c.rcvWscale = c.config.wscale;
  } else {
    c.wsEnabled = false;
    c.sndWscale = 0;
    c.rcvWscale = 0;
  }
  c.sackEnabled = c.config.sack && seg.sackPermitted;
  c.tsEnabled = c.config.timestamps && seg.hasTimestamp;
  if (c.tsEnabled) c.tsRecent = seg.tsVal;
  c.cc.init(c.effMss, c.config.initialCwnd);
}

/** The handshake is complete (§3.10.7.3 / §3.10.7.4 SYN_RECEIVED). */
export function established(c: Connection, now: Instant, cause: string): void {
  c.setState('ESTABLISHED', cause);
  c.emit(EV.connected);
  c.armKeepalive(now);
  if (c.finQueued) {
    // A shutdown requested during the handshake (§3.10.4: "queue ... until ESTABLISHED").
    c.setState('FIN_WAIT_1', 'shutdown queued during handshake: snd FIN');
  }
}

/**
 * SND.UNA advances (§3.10.7.4 fifth): release acknowledged bytes, take an RTT sample
 * (RFC 6298 with Karn's rule, or RFC 7323 timestamps), reset the backoff, restart or stop the
 * retransmission timer (RFC 6298 §5.2, §5.3), grow the congestion window.
 */
export function ackNewData(c: Connection, now: Instant, seg: TcpRepr): void {
  const ack = seg.ack;
  const prevUna = c.sndUna;
  c.sndUna = ack;
  if (seqGt(ack, c.sndNxt)) c.sndNxt = ack; // after a go-back, an ACK can pass SND.NXT
  const dataEnd = seqAdd(c.sndBufSeq, c.sendBuf.length);
  const dataAcked = seqDiff(seqMin(ack, dataEnd), c.sndBufSeq);
  if (dataAcked > 0) {
    c.sendBuf.consume(dataAcked);
    c.sndBufSeq = seqAdd(c.sndBufSeq, dataAcked);
    c.emit(EV.writable);
  }
  // RTT sample.
  if (c.tsEnabled && seg.hasTimestamp && seg.tsEcr !== 0) {
    const ticks = (tsClock(c, now) - seg.tsEcr) >>> 0;
    if (ticks < 0x7fffffff) c.rtt.sample(ticks * 1000);
  } else if (c.rttStart !== NEVER && seqGt(ack, c.rttSeq)) {
    c.rtt.sample(now - c.rttStart);
    c.rttStart = NEVER;
  }
  c.backoff = 0;
  c.unackedSince = seqLt(c.sndUna, c.sndMax) ? now : NEVER;
  onAckAdvance(c, now, ack, prevUna, dataAcked);
  if (c.sndUna === c.sndMax) c.timers.stop(Timer.RETRANSMIT);
  else c.armRetransmit(now);
  c.armLossProbe(now);
  if (c.lingerPending && c.finAcked()) {
    c.lingerPending = false;
    c.timers.stop(Timer.LINGER);
    c.emit({ type: 'linger', acked: true });
  }
}
