import { seqAdd, seqDiff, seqLt } from '../seq.js';
import { NEVER, type Instant } from '../time.js';
import { ACK, FIN, PSH, RST, clearTcpRepr, segLen, type TcpRepr } from '../wire/tcp-repr.js';
import { bump } from '../mib.js';
import { type Connection } from './connection.js';
import { pipe, prrSent } from './recovery.js';
import { clampToRecord, endsRecord } from './records.js';
import { mtupRetransmitted } from './mtu-probe.js';
import { Work, type WorkBit } from './work.js';
import { assertNever } from './state.js';
import { fillAck } from './receiver.js';
import { dataSent, endsSynData, flightForSend, lossRetransmitted, sendData } from './sender.js';
import { armLossProbe, armRetransmit } from './rto.js';
import { rxtPacketEnd, sendFromQueue, sendMss } from './segment-size.js';
import { writeSyn } from './handshake.js';
import { setTs } from './clock.js';
import { chronoAfterTransmit } from './chrono.js';
import { ecnOnSend } from './ecn.js';

/**
 * The work due now (work.ts): the bits input and timers set, plus what the TCB implies — our SYN
 * whenever SND.NXT sits at the ISS (first send, or rewound to retransmit it), lost segments to
 * retransmit in SACK recovery, and data. Only RSTs leave a CLOSED connection; a SYN goes alone.
 */
function due(c: Connection): number {
  const rsts = c.pending & (Work.REPLY_RST | Work.RST);
  const s = c.state;
  if (s === 'CLOSED' || s === 'LISTEN') return rsts;
  // (A Fast Open connect with a cookie waits for the first write: LINUX tcp_fastopen_defer_connect.)
  if (c.snd.sndNxt === c.snd.iss && c.snd.sndUna === c.snd.iss) return c.fastOpen?.deferConnect === true ? rsts : rsts | Work.SYN;
  if (s === 'SYN_SENT') return rsts;
  let w = c.pending & ~Work.FORCE_SEND;
  // Nothing but the SYN-ACK and ACKs until the handshake completes, except from a Fast Open
  // child, which may send data right after its SYN-ACK (RFC 7413 §4.2.2, LINUX tcp_sendmsg).
  if (s === 'SYN_RECEIVED' && c.fastOpen?.child !== true) return w;
  // Lost segments go again in a recovery, and outside one after a PLPMTUD probe was lost (LINUX
  // tcp_simple_retransmit: only what was marked lost, with no congestion response).
  if (c.sackEnabled && (c.snd.rec.inRecovery || (c.mtup !== null && !c.snd.rec.recovering)) && c.snd.rec.rack.lostBytes > 0) w |= Work.LOST;
  return w | Work.DATA;
}

/**
 * The next segment this connection wants to send, written into `out`; false when none. Serves
 * the due work lowest bit first (work.ts gives the order); a bit that produces no segment (Nagle,
 * a closed window, nothing left to retransmit) yields to the next. The caller loops until false.
 */
export function pollTransmit(c: Connection, now: Instant, out: TcpRepr): boolean {
  clearTcpRepr(out);
  out.srcPort = c.localPort;
  out.dstPort = c.remotePort;
  const sndMax = c.snd.sndMax;
  for (let work = due(c); work !== 0; work &= work - 1) {
    if (serve(c, now, out, (work & -work) as WorkBit)) {
      ecnOnSend(c, out, sndMax);
      out.ipDscp = c.config.tos & ~3;
      out.ipDf = c.config.pmtuDisc !== 0;
      return true;
    }
  }
  // The burst is over: arm the loss probe once for the new data it sent (LINUX tcp_write_xmit
  // calls tcp_schedule_loss_probe after its loop).
  if (c.snd.lossProbeDue) {
    c.snd.lossProbeDue = false;
    armLossProbe(c, now);
  }
  chronoAfterTransmit(c, now);
  return false;
}

/** One kind of work: true when it wrote a segment into `out`. */
function serve(c: Connection, now: Instant, out: TcpRepr, bit: WorkBit): boolean {
  switch (bit) {
    case Work.REPLY_RST:
      // §3.10.7.1 form: <SEQ=SEG.ACK><CTL=RST> (our caller recorded SEG.ACK, or 0 without ACK).
      c.pending &= ~Work.REPLY_RST;
      out.seq = c.replyRstSeq;
      out.flags = RST;
      return true;
    case Work.RST:
      // Abortive close (§3.10.5): LINUX tcp_send_active_reset sends RST,ACK at SND.NXT, window 0.
      c.pending &= ~Work.RST;
      out.seq = c.snd.sndMax;
      out.ack = c.rcv.rcvNxt;
      out.flags = RST | ACK;
      if (c.tsEnabled) setTs(c, now, out, c.rcv.tsRecent); // LINUX tcp_send_active_reset carries TS
      c.lastSend = now;
      return true;
    case Work.SYN:
      writeSyn(c, now, out);
      return true;
    case Work.RETRANSMIT_HEAD:
      c.pending &= ~Work.RETRANSMIT_HEAD;
      return c.state !== 'SYN_RECEIVED' && retransmitHead(c, now, out);
    case Work.TLP: {
      // The tail loss probe retransmits the last segment sent (RFC 8985 §7.3).
      c.pending &= ~Work.TLP;
      const end = c.snd.finSent() ? c.snd.finSeq : c.snd.sndMax;
      const start = seqDiff(end, c.snd.sndUna) > c.effMss ? seqAdd(end, -c.effMss) : c.snd.sndUna;
      if (c.state === 'SYN_RECEIVED' || !retransmitAt(c, now, out, start)) return false;
      // HighRxt covers it, so a D-SACK for the probe is known for a retransmission of ours.
      const rxtEnd = seqAdd(start, segLen(out));
      if (c.sackEnabled && seqLt(c.snd.rec.sb.highRxt, rxtEnd)) c.snd.rec.sb.highRxt = rxtEnd;
      return true;
    }
    case Work.LOST:
      return retransmitLost(c, now, out);
    case Work.DATA:
      return sendData(c, now, out);
    case Work.PROBE:
      // Keepalive (RFC 1122 §4.2.3.6) and zero-window probes: SEG.SEQ = SND.UNA - 1, no data,
      // which the peer must answer with an ACK (LINUX tcp_xmit_probe_skb).
      c.pending &= ~Work.PROBE;
      out.seq = seqAdd(c.snd.sndUna, -1);
      fillAck(c, now, out);
      return true;
    case Work.ACK:
      return sendAck(c, now, out);
    case Work.FORCE_SEND:
      return false; // a modifier of DATA, never due on its own
    default:
      return assertNever(bit, 'work bit');
  }
}

/**
 * A bare ACK carries the highest sequence number sent, not SND.NXT: after a retransmission
 * timeout SND.NXT is rewound (go-back-N), and an ACK at a SEG.SEQ below the peer's RCV.NXT
 * fails its acceptability test (RFC 9293 §3.10.7.4) and is dropped, ACK field and all; two
 * such ends deadlock. LINUX tcp_acceptable_seq: snd_nxt, the highest sent.
 */
function sendAck(c: Connection, now: Instant, out: TcpRepr): boolean {
  out.seq = c.snd.sndMax;
  fillAck(c, now, out);
  return true;
}

/**
 * Fast retransmit: with SACK in recovery the first segment RACK marked lost (RFC 8985 §6.2
 * step 5), usually SND.UNA's; otherwise the segment at SND.UNA (RFC 5681 §3.2, RFC 6582 §3.2).
 */
function retransmitHead(c: Connection, now: Instant, out: TcpRepr): boolean {
  const lost = c.sackEnabled && c.snd.rec.inRecovery ? c.snd.rec.rack.firstLostIndex() : -1;
  if (lost >= 0) {
    const rack = c.snd.rec.rack;
    if (!retransmitAt(c, now, out, rack.startOf(lost), seqDiff(rack.endOf(lost), rack.startOf(lost)))) return false;
    const end = seqAdd(out.seq, segLen(out));
    if (seqLt(c.snd.rec.sb.highRxt, end)) c.snd.rec.sb.highRxt = end;
    return true;
  }
  if (!retransmitAt(c, now, out, c.snd.sndUna)) return false;
  const end = seqAdd(c.snd.sndUna, segLen(out));
  if (c.sackEnabled && seqLt(c.snd.rec.sb.highRxt, end)) c.snd.rec.sb.highRxt = end;
  return true;
}

/**
 * RFC 6675 §5 step (C) with RACK's marks (RFC 8985 §6.2): while the pipe has room, retransmit
 * the first segment marked lost (lost retransmissions included), before new data.
 */
function retransmitLost(c: Connection, now: Instant, out: TcpRepr): boolean {
  if (c.snd.cc.cwnd - pipe(c) < sendMss(c)) return false;
  const rack = c.snd.rec.rack;
  const i = rack.firstLostIndex();
  if (i < 0 || !retransmitAt(c, now, out, rack.startOf(i), seqDiff(rack.endOf(i), rack.startOf(i)))) return false;
  // HighRxt (RFC 6675 §2) stays the highest retransmitted, for D-SACK accounting.
  const end = seqAdd(out.seq, segLen(out));
  if (seqLt(c.snd.rec.sb.highRxt, end)) c.snd.rec.sb.highRxt = end;
  return true;
}

/**
 * Retransmit one segment starting at `seq` (fast retransmit, RFC 5681 §3.2; a SACK hole,
 * RFC 6675) without moving SND.NXT.
 */
export function retransmitAt(c: Connection, now: Instant, out: TcpRepr, seq: number, max = Number.POSITIVE_INFINITY): boolean {
  if (!seqLt(seq, c.snd.sndMax) || seqLt(seq, c.snd.sndUna)) return false;
  const off = seqDiff(seq, c.snd.sndBufSeq);
  const avail = c.snd.sendBuf.length - off;
  // Only what was sent before: bytes past SND.MAX are new data, sent (and counted) by sendData.
  // (Retransmitting them here left SND.MAX behind what the peer then acknowledged: deadlock.)
  const sentEnd = c.snd.finSent() ? c.snd.finSeq : c.snd.sndMax;
  const len = clampToRecord(c, seq, Math.max(0, Math.min(avail, sendMss(c), max, seqDiff(sentEnd, seq))));
  const fin = c.snd.finQueued && len === avail && seqLt(c.snd.finSeq, c.snd.sndMax);
  if (len === 0 && !fin) return false;
  out.seq = seq;
  if (c.snd.rec.inRecovery) {
    c.snd.rec.undoRetrans++;
    if (c.sackEnabled && c.snd.rec.rack.rxtCount++ === 0) c.snd.rec.rack.rxtFirst = now;
  }
  const tsoEnd = len > 0 && rxtPacketEnd(c, now, seq, len, flightForSend(c), false);
  out.flags = ACK | (fin ? FIN : 0) | (len > 0 && (len === avail || endsRecord(c, seqAdd(seq, len)) || endsSynData(c, seqAdd(seq, len)) || tsoEnd) ? PSH : 0);
  if (len > 0) sendFromQueue(c, out, off, len);
  fillAck(c, now, out);
  if (len > 0) dataSent(c, now, flightForSend(c));
  prrSent(c, len);
  if (c.sackEnabled) c.snd.rec.rack.onSend(seq, seqAdd(seq, len + (fin ? 1 : 0)), now, true); // RFC 8985 §6.2 step 1
  bump(c.mib, 'RetransSegs');
  c.snd.totalRetrans++;
  if (c.mtup !== null) mtupRetransmitted(c, now);
  const end = seqAdd(seq, len + (fin ? 1 : 0));
  if (c.snd.rec.state === 'Loss') lossRetransmitted(c.snd.rec, end, now);
  c.snd.rttStart = NEVER; // Karn's rule
  armRetransmit(c, now);
  return true;
}
