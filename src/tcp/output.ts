import { seqAdd, seqDiff, seqGt, seqLt } from '../seq.js';
import { NEVER, type Instant } from '../time.js';
import { ACK, FIN, PSH, RST, SYN, clearTcpRepr, segLen, type TcpRepr } from '../wire/tcp-repr.js';
import { bump, type Connection } from './connection.js';
import { Timer } from './timers.js';
import { pipe } from './recovery.js';
import { tsClock } from './clock.js';
import { Work, type WorkBit } from './work.js';
import { assertNever } from './state.js';
export { tsClock } from './clock.js';

/**
 * LINUX tcp_select_initial_window: the SYN window is the receive space (at most 65535, unscaled
 * in a SYN per RFC 7323 §2.2) rounded down to a multiple of the MSS: 64240 for MSS 1460.
 */
export function initialWindow(c: Connection): number {
  return Math.min(65535, c.rcvClamp);
}

/**
 * The work due now (work.ts): the bits input and timers set, plus what the TCB implies — our SYN
 * whenever SND.NXT sits at the ISS (first send, or rewound to retransmit it), lost segments to
 * retransmit in SACK recovery, and data. Only RSTs leave a CLOSED connection; a SYN goes alone.
 */
function due(c: Connection): number {
  const rsts = c.pending & (Work.REPLY_RST | Work.RST);
  const s = c.state;
  if (s === 'CLOSED' || s === 'LISTEN') return rsts;
  if (c.sndNxt === c.iss && c.sndUna === c.iss) return rsts | Work.SYN;
  if (s === 'SYN_SENT') return rsts;
  let w = c.pending & ~Work.FORCE_SEND;
  if (s === 'SYN_RECEIVED') return w; // nothing but the SYN-ACK and ACKs until the handshake completes
  if (c.rec.inRecovery && c.sackEnabled && c.rec.rack.lostBytes > 0) w |= Work.LOST;
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
  for (let work = due(c); work !== 0; work &= work - 1) {
    if (serve(c, now, out, (work & -work) as WorkBit)) return true;
  }
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
      out.seq = c.sndMax;
      out.ack = c.rcvNxt;
      out.flags = RST | ACK;
      if (c.tsEnabled) setTs(c, now, out, c.tsRecent); // LINUX tcp_send_active_reset carries TS
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
      const end = c.finSent() ? c.finSeq : c.sndMax;
      const start = seqDiff(end, c.sndUna) > c.effMss ? seqAdd(end, -c.effMss) : c.sndUna;
      return c.state !== 'SYN_RECEIVED' && retransmitAt(c, now, out, start);
    }
    case Work.LOST:
      return retransmitLost(c, now, out);
    case Work.DATA:
      return sendData(c, now, out);
    case Work.PROBE:
      // Keepalive (RFC 1122 §4.2.3.6) and zero-window probes: SEG.SEQ = SND.UNA - 1, no data,
      // which the peer must answer with an ACK (LINUX tcp_xmit_probe_skb).
      c.pending &= ~Work.PROBE;
      out.seq = seqAdd(c.sndUna, -1);
      fillAck(c, now, out);
      return true;
    case Work.ACK:
      // A bare ACK carries the highest sequence number sent, not SND.NXT: after a retransmission
      // timeout SND.NXT is rewound (go-back-N), and an ACK at a SEG.SEQ below the peer's RCV.NXT
      // fails its acceptability test (RFC 9293 §3.10.7.4) and is dropped, ACK field and all; two
      // such ends deadlock. LINUX tcp_acceptable_seq: snd_nxt, the highest sent.
      out.seq = c.sndMax;
      fillAck(c, now, out);
      return true;
    case Work.FORCE_SEND:
      return false; // a modifier of DATA, never due on its own
    default:
      return assertNever(bit, 'work bit');
  }
}

/**
 * Fast retransmit: with SACK in recovery the first segment RACK marked lost (RFC 8985 §6.2
 * step 5), usually SND.UNA's; otherwise the segment at SND.UNA (RFC 5681 §3.2, RFC 6582 §3.2).
 */
function retransmitHead(c: Connection, now: Instant, out: TcpRepr): boolean {
  const lost = c.sackEnabled && c.rec.inRecovery ? c.rec.rack.firstLostIndex() : -1;
  if (lost >= 0) {
    const rack = c.rec.rack;
    if (!retransmitAt(c, now, out, rack.startOf(lost), seqDiff(rack.endOf(lost), rack.startOf(lost)))) return false;
    const end = seqAdd(out.seq, segLen(out));
    if (seqLt(c.rec.sb.highRxt, end)) c.rec.sb.highRxt = end;
    return true;
  }
  if (!retransmitAt(c, now, out, c.sndUna)) return false;
  const end = seqAdd(c.sndUna, segLen(out));
  if (c.sackEnabled && seqLt(c.rec.sb.highRxt, end)) c.rec.sb.highRxt = end;
  return true;
}

/**
 * RFC 6675 §5 step (C) with RACK's marks (RFC 8985 §6.2): while the pipe has room, retransmit
 * the first segment marked lost (lost retransmissions included), before new data.
 */
function retransmitLost(c: Connection, now: Instant, out: TcpRepr): boolean {
  if (c.cc.cwnd - pipe(c) < sendMss(c)) return false;
  const rack = c.rec.rack;
  const i = rack.firstLostIndex();
  if (i < 0 || !retransmitAt(c, now, out, rack.startOf(i), seqDiff(rack.endOf(i), rack.startOf(i)))) return false;
  // HighRxt (RFC 6675 §2) stays the highest retransmitted, for D-SACK accounting.
  const end = seqAdd(out.seq, segLen(out));
  if (seqLt(c.rec.sb.highRxt, end)) c.rec.sb.highRxt = end;
  return true;
}

function writeSyn(c: Connection, now: Instant, out: TcpRepr): void {
  const synAck = c.state !== 'SYN_SENT';
  out.seq = c.iss;
  out.flags = synAck ? SYN | ACK : SYN;
  out.window = initialWindow(c);
  out.mss = c.advMss;
  if (synAck) {
    // Answer only with what the peer offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
    out.ack = c.rcvNxt;
    out.sackPermitted = c.sackEnabled;
    if (c.wsEnabled) out.wscale = c.rcvWscale;
    if (c.tsEnabled) setTs(c, now, out, c.tsRecent);
    c.rcvAdv = seqAdd(c.rcvNxt, out.window);
    c.lastAckSent = c.rcvNxt;
    c.pending &= ~Work.ACK;
  } else {
    out.sackPermitted = c.config.sack;
    if (c.config.windowScaling) out.wscale = c.config.wscale;
    if (c.config.timestamps) setTs(c, now, out, 0);
  }
  const retransmission = seqGt(c.sndMax, c.iss);
  if (retransmission) {
    bump(c.mib, 'RetransSegs');
    c.totalRetrans++;
  } else if (!c.config.timestamps || synAck) {
    c.rttSeq = c.iss;
    c.rttStart = now;
  }
  c.sndNxt = seqAdd(c.iss, 1);
  if (seqGt(c.sndNxt, c.sndMax)) c.sndMax = c.sndNxt;
  if (!c.timers.isSet(Timer.RETRANSMIT)) c.armRetransmit(now);
  c.lastSend = now;
}

function setTs(c: Connection, now: Instant, out: TcpRepr, ecr: number): void {
  out.hasTimestamp = true;
  out.tsVal = tsClock(c, now);
  out.tsEcr = ecr >>> 0;
}

/**
 * Data and FIN (RFC 9293 §3.8.6 send policy): at most min(SND.WND, cwnd) in flight, segments of
 * the effective MSS, Nagle (§3.7.4) unless TCP_NODELAY, sender SWS avoidance (§3.8.6.2.1),
 * FIN on the last segment once the user has closed. Arms the persist timer when a zero window
 * blocks everything.
 */
function sendData(c: Connection, now: Instant, out: TcpRepr): boolean {
  const s = c.state;
  const mayFin = s === 'FIN_WAIT_1' || s === 'CLOSING' || s === 'LAST_ACK';
  const off = seqDiff(c.sndNxt, c.sndBufSeq);
  const avail = c.sendBuf.length - off;
  const finDue = mayFin && c.finQueued && avail <= 0 && c.sndNxt === c.finSeq;
  if (avail <= 0 && !finDue) return false;
  // After a timeout we go back to SND.UNA; skip what the peer SACKed (RFC 6675 §5.1).
  while (seqLt(c.sndNxt, c.sndMax) && c.sackEnabled) {
    // ... and what this recovery already retransmitted (below HighRxt, RFC 6675 §2): it is in
    // the pipe, and resending it again would not grow the pipe (a storm of tiny segments).
    const end = c.rec.inRecovery && seqLt(c.sndNxt, c.rec.sb.highRxt) ? (seqLt(c.rec.sb.highRxt, c.sndMax) ? c.rec.sb.highRxt : c.sndMax) : c.rec.sb.sackedEnd(c.sndNxt);
    if (end === null) break;
    c.sndNxt = end;
    return sendData(c, now, out);
  }
  // The peer's window and the congestion window. What counts as in flight is RFC 6675's pipe
  // whenever SACK is on (LINUX tcp_packets_in_flight: SACKed segments have left the network), so
  // the first duplicate ACKs let new data out — limited transmit (RFC 3042) — and, without SACK,
  // the first two duplicate ACKs each allow one more segment (RFC 3042 §2).
  // After a timeout (the Loss state) everything not SACKed counts as lost: only what has been sent
  // again since going back is in flight (LINUX tcp_enter_loss marks it all lost).
  const flight = flightForSend(c);
  // Whole bytes only: CUBIC's cwnd is fractional, and a fractional `usable` made a 0.6-byte
  // "segment" that sent an empty ACK without advancing SND.NXT, 100000 times in a row.
  const usable = Math.floor(Math.min(seqDiff(seqAdd(c.sndUna, c.sndWnd), c.sndNxt), c.cc.cwnd - flight));
  const retransmission = seqLt(c.sndNxt, c.sndMax);
  if (usable <= 0) {
    // Nothing fits. With nothing in flight only the persist timer will get us going again.
    if (c.sndWnd === 0 && c.inFlight === 0 && !c.timers.isSet(Timer.PERSIST)) {
      c.timers.stop(Timer.RETRANSMIT);
      c.timers.set(Timer.PERSIST, now + Math.min(c.config.maxRto, c.rtt.rto * 2 ** c.persistBackoff));
    }
    return false;
  }
  const mss = sendMss(c);
  let len = Math.max(0, Math.min(avail, mss, usable));
  const lastOfQueue = len === avail;
  const force = (c.pending & Work.FORCE_SEND) !== 0;
  c.pending &= ~Work.FORCE_SEND;
  if (len > 0 && len < mss && !retransmission && !force) {
    // Blocked by the rules below with nothing in flight: the persist timer is the override
    // timeout of §3.8.6.2.1 that eventually sends what the window allows.
    if (c.inFlight === 0 && !c.timers.isSet(Timer.PERSIST) && !lastOfQueue) {
      c.timers.set(Timer.PERSIST, now + Math.min(c.config.maxRto, c.rtt.rto * 2 ** c.persistBackoff));
    }
    // Sender SWS avoidance: a small segment only if it empties the queue or is at least half
    // the largest window the peer offered (§3.8.6.2.1).
    if (!lastOfQueue && len < c.maxSndWnd / 2) return false;
    // Nagle: one small segment in flight at a time, unless TCP_NODELAY or it carries the FIN.
    if (lastOfQueue && !c.config.noDelay && c.inFlight > 0 && !(mayFin && c.finQueued)) return false;
  }
  let flags = ACK;
  // PSH on the last segment of what can go out now: the end of the queued data (RFC 9293 §3.9.1
  // "push" at the end of a SEND), or the segment that fills the window. LINUX: a TSO burst's last
  // segment carries the PSH (tcp_gso_segment), which is what captures of Linux show.
  // (A "burst" is two or more new segments sent at the same instant; a lone segment let out by a
  // duplicate ACK — limited transmit — or in recovery carries no PSH, as on Linux.)
  if (c.burstAt !== now) {
    c.burstAt = now;
    c.burstSegs = 0;
  }
  c.burstSegs++;
  // The persist timer's window-filling send carries PSH too (LINUX tcp_write_wakeup).
  if (len > 0 && (lastOfQueue || force || (len >= usable && c.burstSegs >= 2 && !c.rec.inRecovery && !retransmission))) flags |= PSH;
  const fin = mayFin && c.finQueued && lastOfQueue && len + 1 <= usable;
  if (fin) flags |= FIN;
  if (len === 0 && !fin) return false;
  out.seq = c.sndNxt;
  out.flags = flags;
  out.payload = len > 0 ? c.sendBuf.view(off, len, scratchFor(c, len)) : out.payload;
  fillAck(c, now, out);
  const end = seqAdd(c.sndNxt, len + (fin ? 1 : 0));
  if (c.sackEnabled) c.rec.rack.onSend(c.sndNxt, end, now); // RFC 8985 §6.2 step 1
  if (retransmission) {
    bump(c.mib, 'RetransSegs');
    c.totalRetrans++;
    // RFC 6675 §2 HighRxt, as the other retransmission paths keep it: without this the pipe
    // never counted go-back retransmissions and recovery sent a storm of tiny segments.
    if (c.sackEnabled && seqGt(end, c.rec.sb.highRxt)) c.rec.sb.highRxt = end;
  } else if (c.rttStart === NEVER && !c.tsEnabled) {
    c.rttSeq = c.sndNxt;
    c.rttStart = now;
  }
  if (c.sndUna === c.sndMax) c.unackedSince = now; // the oldest outstanding data starts now
  c.sndNxt = end;
  if (seqGt(end, c.sndMax)) c.sndMax = end;
  if (!c.timers.isSet(Timer.RETRANSMIT)) c.armRetransmit(now);
  if (!retransmission) c.armLossProbe(now);
  c.timers.stop(Timer.PERSIST);
  len = 0;
  return true;
}

/** What counts as in flight when deciding how much may be sent (the congestion window's measure). */
function flightForSend(c: Connection): number {
  const st = c.rec.state;
  switch (st) {
    case 'Loss':
      // After a timeout everything not SACKed counts as lost: only what has been sent again
      // since going back is in flight (LINUX tcp_enter_loss marks it all lost).
      return c.inFlight;
    case 'Recovery':
      return c.sackEnabled ? pipe(c) : c.inFlight;
    case 'Open':
    case 'Disorder':
    case 'CWR':
      // Without SACK the first two duplicate ACKs each allow one more segment (RFC 3042 §2).
      return c.sackEnabled ? pipe(c) : Math.max(0, c.inFlight - Math.min(c.rec.dupAcks, 2) * c.effMss);
    default:
      return assertNever(st, 'recovery state');
  }
}

/**
 * Retransmit one segment starting at `seq` (fast retransmit, RFC 5681 §3.2; a SACK hole,
 * RFC 6675) without moving SND.NXT.
 */
function retransmitAt(c: Connection, now: Instant, out: TcpRepr, seq: number, max = Number.POSITIVE_INFINITY): boolean {
  if (!seqLt(seq, c.sndMax) || seqLt(seq, c.sndUna)) return false;
  const off = seqDiff(seq, c.sndBufSeq);
  const avail = c.sendBuf.length - off;
  // Only what was sent before: bytes past SND.MAX are new data, sent (and counted) by sendData.
  // (Retransmitting them here left SND.MAX behind what the peer then acknowledged: deadlock.)
  const sentEnd = c.finSent() ? c.finSeq : c.sndMax;
  const len = Math.max(0, Math.min(avail, sendMss(c), max, seqDiff(sentEnd, seq)));
  const fin = c.finQueued && len === avail && seqLt(c.finSeq, c.sndMax);
  if (len === 0 && !fin) return false;
  out.seq = seq;
  if (c.rec.inRecovery) {
    c.rec.undoRetrans++;
    if (c.sackEnabled && c.rec.rack.rxtCount++ === 0) c.rec.rack.rxtFirst = now;
  }
  out.flags = ACK | (fin ? FIN : 0) | (len > 0 && len === avail ? PSH : 0);
  out.payload = len > 0 ? c.sendBuf.view(off, len, scratchFor(c, len)) : out.payload;
  fillAck(c, now, out);
  if (c.sackEnabled) c.rec.rack.onSend(seq, seqAdd(seq, len + (fin ? 1 : 0)), now); // RFC 8985 §6.2 step 1
  bump(c.mib, 'RetransSegs');
  c.totalRetrans++;
  c.rttStart = NEVER; // Karn's rule
  c.armRetransmit(now);
  return true;
}

/**
 * Payload size of a segment sent now: the effective MSS less the SACK blocks fillAck will add
 * (LINUX tcp_current_mss subtracts the options beyond the usual header). Without this a full
 * segment carrying SACK blocks exceeds the MTU and is lost on the path (RFC 9293 §3.7.1: the
 * MSS counts data only, so options must come out of the segment's data).
 */
function sendMss(c: Connection): number {
  if (!c.sackEnabled || (c.reasm.isEmpty && c.dsackStart === c.dsackEnd)) return c.effMss;
  const k = Math.min(c.tsEnabled ? 3 : 4, c.reasm.blockCount(4) + (c.dsackStart !== c.dsackEnd ? 1 : 0));
  return Math.max(1, c.effMss - (k > 0 ? 4 + 8 * k : 0));
}

let scratch = new Uint8Array(0);
/** Scratch space for a segment whose bytes wrap around the send ring (shared: used synchronously). */
function scratchFor(_c: Connection, n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, 65536));
  return scratch;
}

/**
 * ACK, window and options on an outgoing segment of a synchronized connection; sending any ACK
 * cancels a pending delayed ACK.
 */
export function fillAck(c: Connection, now: Instant, out: TcpRepr): void {
  out.flags |= ACK;
  out.ack = c.rcvNxt;
  out.window = advertise(c);
  if (c.tsEnabled) setTs(c, now, out, c.tsRecent);
  if (c.sackEnabled && (!c.reasm.isEmpty || c.dsackStart !== c.dsackEnd)) {
    const max = c.tsEnabled ? 3 : 4;
    let k = 0;
    if (c.dsackStart !== c.dsackEnd) {
      // RFC 2883 §4: the D-SACK block goes first, once.
      out.sackBlocks[0] = c.dsackStart;
      out.sackBlocks[1] = c.dsackEnd;
      c.dsackStart = c.dsackEnd;
      k = 1;
    }
    for (const [l, r] of c.reasm.blocks(max - k)) {
      out.sackBlocks[2 * k] = l;
      out.sackBlocks[2 * k + 1] = r;
      k++;
    }
    out.sackCount = k;
  }
  c.lastAckSent = c.rcvNxt;
  c.pending &= ~Work.ACK;
  c.bytesSinceAck = 0;
  c.timers.stop(Timer.DELAYED_ACK);
  c.lastSend = now;
}

/**
 * The window field to send (RFC 9293 §3.8.6.2.2 receiver SWS avoidance, RFC 7323 §2.3 scaling):
 * never move the right edge left; move it right only by at least min(buffer/2, MSS).
 */
function advertise(c: Connection): number {
  const free = c.receiveWindow();
  const cur = Math.max(0, seqDiff(c.rcvAdv, c.rcvNxt));
  let wnd = free;
  if (wnd - cur < Math.min(c.config.recvBuffer / 2, c.advMss)) wnd = cur;
  // Integer arithmetic (windows are below 2^31): shifts instead of Math.ceil(x / 2 ** scale).
  const scale = c.rcvWscale;
  const unit = 1 << scale;
  let raw = (wnd + unit - 1) >>> scale;
  if (raw * unit > Math.max(free, cur)) raw = wnd >>> scale;
  // Rounding down must not pull the right edge left of what we offered (RFC 9293 §3.8.6):
  // LINUX tcp_select_window rounds the current window up instead (ALIGN(cur_win, 1 << wscale)).
  // (Only while the buffer really has that room: when it is full the window must be able to close.)
  const curUp = (cur + unit - 1) >>> scale;
  if (raw * unit < cur && curUp * unit <= c.recvBuf.free - c.reasm.bytes) raw = curUp;
  if (raw > 65535) raw = 65535;
  const edge = seqAdd(c.rcvNxt, raw * unit);
  if (seqGt(edge, c.rcvAdv) || raw === 0) c.rcvAdv = seqGt(edge, c.rcvAdv) ? edge : c.rcvAdv;
  return raw;
}
