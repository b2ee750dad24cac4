import { negotiateEcn, synEcnFlags } from './ecn.js';
import { seqAdd, seqGt, seqLe, seqLt, seqDiff } from '../seq.js';
import { EV } from './events.js';
import { type Instant } from '../time.js';
import { ACK, FIN, RST, SYN, payloadBytes, payloadOffset, type TcpRepr } from '../wire/tcp-repr.js';
import { type Connection } from './connection.js';
import { processFin, replyRst } from './input.js';
import { enterQuickAck, receiveText } from './receiver.js';
import { Timer } from './timers.js';
import { setTs, tsBefore, tsClock } from './clock.js';
import { Work } from './work.js';
import { ackNewData } from './sender.js';
import { armRetransmit } from './rto.js';
import { sendFromQueue } from './segment-size.js';
import { bump } from '../mib.js';
import { cacheSet, cookieOf, noCookie, synDataSpace, writeCookie } from './fastopen.js';
import { mtupInit } from './mtu-probe.js';

/** RFC 9293 §3.10.7.3: a segment arrives in SYN_SENT. */
export function synSentInput(c: Connection, now: Instant, seg: TcpRepr): void {
  const hasAck = (seg.flags & ACK) !== 0;
  // First: the ACK must acknowledge our SYN and nothing beyond: ISS < SEG.ACK =< SND.NXT.
  if (hasAck && (seqLe(seg.ack, c.snd.iss) || seqGt(seg.ack, c.snd.sndMax))) {
    if (!(seg.flags & RST)) replyRst(c, seg);
    return;
  }
  // LINUX tcp_rcv_synsent_state_process: an ACK whose timestamp echo is not one of our SYNs'
  // (between the first SYN's and now) is repelled with a reset, and the connect goes on
  // (PAWSActiveRejected; RFC 7323 §4.3 "ACK of a SYN must echo").
  if (hasAck && c.config.timestamps && seg.hasTimestamp && seg.tsEcr !== 0 &&
      (tsBefore(seg.tsEcr, tsClock(c, c.snd.lsndtime)) || tsBefore(tsClock(c, now), seg.tsEcr))) {
    bump(c.mib, 'PAWSActive');
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
  c.rcv.irs = seg.seq;
  c.rcv.rcvNxt = seqAdd(seg.seq, 1);
  c.rcv.lastAckSent = c.rcv.rcvNxt;
  negotiate(c, seg, now);
  // The window our SYN offered (unscaled) is what the peer may fill first. (In a simultaneous
  // open our SYN-ACK offers the window instead: writeSyn sets it.)
  if (hasAck) c.rcv.rcvAdv = seqAdd(c.rcv.rcvNxt, initialWindow(c));
  c.lastRecv = now;
  // §3.10.7.3: SYN windows are never scaled (RFC 7323 §2.2).
  c.snd.sndWnd = seg.window;
  c.snd.maxSndWnd = c.snd.sndWnd;
  c.snd.sndWl1 = seg.seq;
  c.snd.sndWl2 = seg.ack;
  if (hasAck) {
    c.snd.delivered++; // the SYN (LINUX tcp_clean_rtx_queue; SYN data goes with it, tcp_rcv_fastopen_synack)
    ackNewData(c, now, seg);
    established(c, now, 'rcv SYN,ACK: snd ACK');
    if (fastOpenSynAck(c, now, seg)) {
      // LINUX tcp_rcv_synsent_state_process: "Save one ACK. Data will be ready after several
      // ticks, if write_pending is set": the write's data will carry it; the ACK waits up to
      // TCP_DELACK_MAX, in quick-ACK mode.
      enterQuickAck(c);
      c.timers.set(Timer.DELAYED_ACK, now + c.config.delAckMax);
    } else c.pending |= Work.ACK;
    if (seg.payload.length > 0) receiveText(c, now, c.rcv.rcvNxt, payloadBytes(seg), payloadOffset(seg), seg.payload.length);
    if (seg.flags & FIN && seqAdd(seg.seq, 1 + seg.payload.length) === c.rcv.rcvNxt) processFin(c, now);
  } else {
    // Simultaneous open (§3.10.7.3, Figure 8): SYN_RECEIVED, answer with SYN,ACK (same ISS).
    c.setState('SYN_RECEIVED', 'rcv SYN: snd SYN,ACK (simultaneous open)');
    // Our SYN goes again, now with an ACK: a new segment, not a retransmission. (Data our Fast
    // Open SYN carried stays outstanding: LINUX tcp_send_synack sends the SYN's own skb, the data
    // being a separate one in the retransmission queue; the peer's SYN data is not taken.)
    c.snd.sndNxt = c.snd.iss;
    const fo = c.fastOpen;
    if (fo !== null && fo.synData > 0) fo.simultaneousSynAck = true;
    else c.snd.sndMax = c.snd.iss;
  }
}

/** Options from the peer's SYN (RFC 9293 §3.7.1 MSS, RFC 7323 §2.2/§3.2, RFC 2018 §2). */
export function negotiate(c: Connection, seg: TcpRepr, now: Instant): void {
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
  // Nothing offered yet: the right edge sits at RCV.NXT until our SYN or SYN-ACK offers a window.
  c.rcv.rcvAdv = c.rcv.rcvNxt;
  c.sackEnabled = c.config.sack && seg.sackPermitted;
  negotiateEcn(c, seg);
  c.tsEnabled = c.config.timestamps && seg.hasTimestamp;
  if (c.tsEnabled) c.rcv.tsRecent = seg.tsVal;
  // LINUX tcp_mtup_init (tcp_connect_init, tcp_init_transfer): PLPMTUD's search range.
  if (c.config.mtuProbing !== 0) mtupInit(c, now);
  c.snd.cc.init(c.effMss, c.config.initialCwnd);
}

/**
 * RFC 7413 §4.2.2, LINUX tcp_fastopen_create_child / tcp_fastopen_add_skb: a TFO child takes
 * the SYN's data (and FIN) at once; its SYN-ACK acknowledges them.
 */
export function fastOpenChild(c: Connection, now: Instant, seg: TcpRepr): void {
  const fo = c.fastOpen!;
  fo.child = true;
  const n = seg.payload.length > 0 ? c.rcv.recvBuf.push(payloadBytes(seg), payloadOffset(seg), seg.payload.length) : 0;
  if (n > 0 || seg.flags & FIN) fo.synDataAcked = true;
  fo.synDataIn = n;
  if (n > 0) {
    c.rcv.rcvNxt = seqAdd(c.rcv.rcvNxt, n);
    c.rcv.lastAckSent = c.rcv.rcvNxt;
    c.rcv.rcvMss = Math.max(c.rcv.rcvMss, Math.min(n, c.advMss));
    c.emit(EV.readable);
  }
  if (seg.flags & FIN && n === seg.payload.length) processFin(c, now);
  c.pending &= ~Work.ACK; // the SYN-ACK acknowledges it all
  c.timers.stop(Timer.DELAYED_ACK);
}

/** The handshake is complete (§3.10.7.3 / §3.10.7.4 SYN_RECEIVED). */
export function established(c: Connection, now: Instant, cause: string): void {
  c.setState('ESTABLISHED', cause);
  c.snd.lsndtime = now; // LINUX tcp_finish_connect / tcp_rcv_state_process: the idle clock starts
  c.emit(EV.connected);
  c.armKeepalive(now);
  if (c.snd.finQueued) {
    // A shutdown requested during the handshake (§3.10.4: "queue ... until ESTABLISHED").
    c.setState('FIN_WAIT_1', 'shutdown queued during handshake: snd FIN');
  }
}

/**
 * LINUX tcp_select_initial_window: the SYN window is the receive space (at most 65535, unscaled
 * in a SYN per RFC 7323 §2.2) rounded down to a multiple of the MSS: 64240 for MSS 1460.
 */
export function initialWindow(c: Connection): number {
  return Math.min(65535, c.rcv.rcvClamp);
}

/**
 * The window of a SYN-ACK: the initial window, but a multiple of the scale unit when rounding it
 * up to one would exceed 65535. Until our SYN is acknowledged a SYN-ACK may have to go again,
 * unscaled and at most 65535 (RFC 7323 §2.2), while an ACK sent meanwhile carries a scaled window
 * that cannot say 64240 in units of 2048 and must not say less (RFC 7323 §2.4): either the ACK or
 * the next SYN-ACK would move the right edge left. (LINUX does not round: with tcp_rmem[2] large
 * enough for a scale of 11 or more it offers 64240, then 32 << 11, then 65535.)
 */
function synAckWindow(c: Connection): number {
  const w = initialWindow(c);
  if (!c.wsEnabled) return w;
  const unit = 2 ** c.rcvWscale;
  return Math.ceil(w / unit) * unit > 65535 ? w - (w % unit) : w;
}

export function writeSyn(c: Connection, now: Instant, out: TcpRepr): void {
  const synAck = c.state !== 'SYN_SENT';
  out.seq = c.snd.iss;
  out.flags = (synAck ? SYN | ACK : SYN) | synEcnFlags(c, synAck);
  out.window = initialWindow(c);
  out.mss = Math.min(c.advMss, c.pathMss); // LINUX tcp_advertise_mss: no more than the path allows
  if (synAck) {
    // Answer only with what the peer offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
    out.ack = c.rcv.rcvNxt;
    out.sackPermitted = c.sackEnabled;
    if (c.wsEnabled) out.wscale = c.rcvWscale;
    if (c.tsEnabled) setTs(c, now, out, c.rcv.tsRecent);
    // RFC 7323 §2.4, RFC 9293 §3.8.6: the right edge never moves left. A SYN-ACK sent after a
    // scaled window went out (a bare ACK in SYN_RECEIVED, its window rounded up to the scale unit:
    // 64800 offered as 507 << 7 = 64896) offers at least that window again, as far as an unscaled
    // SYN window can (LINUX tcp_transmit_skb: a SYN's window is min(tp->rcv_wnd, 65535), rcv_wnd
    // being the window tcp_select_window last offered).
    out.window = Math.min(65535, Math.max(synAckWindow(c), seqDiff(c.rcv.rcvAdv, c.rcv.rcvNxt)));
    const edge = seqAdd(c.rcv.rcvNxt, out.window);
    if (seqGt(edge, c.rcv.rcvAdv)) c.rcv.rcvAdv = edge;
    c.rcv.lastAckSent = c.rcv.rcvNxt;
    c.pending &= ~Work.ACK;
  } else {
    out.sackPermitted = c.config.sack;
    if (c.config.windowScaling) out.wscale = c.config.wscale;
    if (c.config.timestamps) setTs(c, now, out, 0);
  }
  const simultaneousSynData = synAck && c.fastOpen?.simultaneousSynAck === true;
  if (simultaneousSynData) c.fastOpen!.simultaneousSynAck = false;
  const retransmission = seqGt(c.snd.sndMax, c.snd.iss) && !simultaneousSynData;
  let synData = 0;
  // (The SYN-ACK of a simultaneous open carries no Fast Open option: LINUX tcp_send_synack.)
  if (c.fastOpen !== null && !retransmission && !(synAck && c.fastOpen.active)) {
    // RFC 7413 §4.1.2: the cookie (or the request for one) goes in the first SYN / SYN-ACK only
    // (LINUX: inet_rtx_syn_ack and a retransmitted SYN are built without it).
    writeCookie(out, c.fastOpen.cookie);
    if (!synAck && c.fastOpen.withData) synData = writeSynData(c, out);
  }
  if (!retransmission && !synAck) c.snd.lsndtime = now; // the first SYN's time (LINUX retrans_stamp), until ESTABLISHED
  if (retransmission) {
    bump(c.mib, 'RetransSegs');
    c.snd.totalRetrans++;
  } else if (!c.config.timestamps || synAck) {
    c.snd.rttSeq = c.snd.iss;
    c.snd.rttStart = now;
  }
  c.snd.sndNxt = seqAdd(c.snd.iss, 1 + synData);
  if (seqGt(c.snd.sndNxt, c.snd.sndMax)) c.snd.sndMax = c.snd.sndNxt;
  // LINUX tcp_fastopen_synack_timer → inet_rtx_syn_ack: a Fast Open child's timeout resends the
  // SYN-ACK alone; the data it sent stays outstanding for the retransmissions after the handshake.
  if (synAck && ((retransmission && c.fastOpen?.child === true) || simultaneousSynData)) c.snd.sndNxt = c.snd.sndMax;
  if (!c.timers.isSet(Timer.RETRANSMIT)) armRetransmit(c, now);
  c.lastSend = now;
}

/**
 * RFC 7413 §4.1.2, LINUX tcp_send_syn_data: the first SYN carries what the application queued,
 * up to the SYN's data space; a retransmitted SYN goes without it (the data waits for the
 * SYN-ACK, then goes again if the SYN-ACK did not acknowledge it).
 */
function writeSynData(c: Connection, out: TcpRepr): number {
  const fo = c.fastOpen!;
  const n = Math.min(c.snd.sendBuf.length, synDataSpace(fo, c.advMss));
  fo.synData = n;
  if (n > 0) {
    sendFromQueue(c, out, 0, n);
  }
  return n;
}

/**
 * RFC 7413 §4.1.2, LINUX tcp_rcv_fastopen_synack: a SYN-ACK answering our Fast Open SYN. Its
 * cookie and MSS go to the cache; SYN data it did not acknowledge goes again at once, as the
 * first data of the connection (TCPFastOpenActiveFail); fully acknowledged data counts as
 * TCPFastOpenActive. True when the handshake's ACK may wait for a pending write's data.
 */
function fastOpenSynAck(c: Connection, now: Instant, seg: TcpRepr): boolean {
  const fo = c.fastOpen;
  if (fo === null || !fo.active) return false;
  // LINUX tcp_rcv_fastopen_synack: a cookie our SYN did not ask for (no Fast Open option in it:
  // tcp_syn_options left tp->syn_fastopen 0) is ignored, not cached.
  const cookie = fo.noCookie ? noCookie() : cookieOf(seg);
  const dataUnacked = fo.synData > 0 && seqLt(c.snd.sndUna, seqAdd(c.snd.iss, 1 + fo.synData));
  let synDrop = false;
  let tryExp = 0;
  if (fo.noCookie) {
    // (unsolicited: nothing learned)
  } else if (c.snd.totalRetrans > 0) {
    // The SYN timed out: the server presumably saw only the plain retransmitted SYN.
    synDrop = cookie.len < 0 && dataUnacked;
  } else if (cookie.len < 0 && fo.synData === 0) {
    // A cookie asked for and not given: try the other option kind next time.
    tryExp = fo.cookie.exp ? 2 : 1;
  }
  // LINUX: the server's MSS option (the clamp: 536 when it sent none).
  if (fo.cacheEntry !== null) cacheSet(fo.cacheEntry, seg.mss > 0 ? seg.mss : 536, cookie, synDrop, tryExp, now);
  if (dataUnacked) {
    bump(c.mib, 'TCPFastOpenActiveFail');
    c.snd.sndNxt = c.snd.sndUna; // go back: the unacknowledged SYN data is sent again now
    return false;
  }
  if (fo.synData > 0) {
    fo.synDataAcked = true;
    bump(c.mib, 'TCPFastOpenActive');
  }
  return fo.writePending;
}

/** LINUX tcp_check_req: a retransmitted SYN (same ISN) in SYN_RECEIVED gets the SYN-ACK again. */
export function synReceivedRetransmittedSyn(c: Connection, seg: TcpRepr): boolean {
  if ((seg.flags & (SYN | ACK | RST)) !== SYN || seg.seq !== c.rcv.irs) return false;
  // The output engine sends our SYN whenever SND.NXT sits at the ISS (output.ts due()): rewind
  // it so the SYN-ACK really goes out again.
  if (c.snd.sndUna === c.snd.iss) c.snd.sndNxt = c.snd.iss;
  return true;
}

/**
 * Simultaneous open (RFC 9293 Figure 8 line 6): the peer's SYN,ACK repeats the SYN we already
 * took, so it sits one below RCV.NXT; it acknowledges our SYN. LINUX tcp_validate_incoming
 * passes exactly this segment.
 */
export function isSimultaneousOpenSynAck(c: Connection, seg: TcpRepr): boolean {
  return c.state === 'SYN_RECEIVED' && !c.passive && (seg.flags & (SYN | ACK | RST)) === (SYN | ACK) &&
    seqAdd(seg.seq, 1) === c.rcv.rcvNxt && seg.ack === c.snd.sndMax;
}

/**
 * The ACK of our SYN in SYN_RECEIVED (§3.10.7.4 fifth): ESTABLISHED; false when the segment
 * is answered with <SEQ=SEG.ACK><CTL=RST> instead (an unacceptable ACK).
 */
export function synReceivedAck(c: Connection, now: Instant, seg: TcpRepr): boolean {
  const snd = c.snd;
  if (!(seqLt(snd.sndUna, seg.ack) && seqLe(seg.ack, snd.sndMax))) {
    replyRst(c, seg);
    return false;
  }
  snd.sndWnd = seg.window << c.sndWscale; // shift ≤ 14 (RFC 7323 §2.3): < 2^31, a small integer
  snd.maxSndWnd = Math.max(snd.maxSndWnd, snd.sndWnd);
  snd.sndWl1 = seg.seq;
  snd.sndWl2 = seg.ack;
  c.snd.delivered++; // LINUX tcp_rcv_state_process: "SYN-ACK delivery isn't tracked in tcp_ack"
  ackNewData(c, now, seg);
  established(c, now, c.passive ? 'rcv ACK of SYN' : 'rcv SYN,ACK (simultaneous open)');
  return true;
}
