import { seqDiff, seqGe, seqGt, seqLt, type SeqNum } from '../seq.js';
import { flightForSend } from './sender.js';
import { bump } from '../mib.js';
import { ACK, CWR, ECE, SYN, type TcpRepr } from '../wire/tcp-repr.js';
import type { Connection } from './connection.js';

/**
 * Explicit Congestion Notification (RFC 3168) as Linux does it (net/ipv4/tcp_input.c and
 * tcp_output.c, the tcp_ecn_* functions; net.ipv4.tcp_ecn: 0 off, 1 ask on active opens and accept,
 * 2 accept when the peer asks — the default).
 *
 * Negotiation (§6.1.1): the SYN carries ECE and CWR, the SYN-ACK ECE alone. Once on, new data goes
 * out as ECT(0) (§6.1.2; retransmissions and pure ACKs Not-ECT, §6.1.5/§6.1.6). A CE mark on data
 * received makes every segment carry ECE until a segment with CWR arrives (§6.1.3). An ECE on an
 * ACK reduces the congestion window once (the CWR state, recovery.ts enterCwr) and the next new
 * data segment carries CWR (§6.1.2).
 */
export const EcnFlag = {
  /** Negotiated (LINUX TCP_ECN_OK). */
  OK: 1,
  /** Send CWR on the next new data segment (TCP_ECN_QUEUE_CWR). */
  QUEUE_CWR: 2,
  /** CE seen: set ECE until the peer's CWR (TCP_ECN_DEMAND_CWR). */
  DEMAND_CWR: 4,
  /** An ECT or CE segment arrived (TCP_ECN_SEEN, tcpi_options TCPI_OPT_ECN_SEEN). */
  SEEN: 8,
} as const;

/** PRR's counters for the CWR state's reduction (LINUX prior_cwnd, prr_delivered, prr_out; segments). */
export class CwrReduction {
  /** The window when the reduction began, bytes (0: none under way). */
  priorCwnd = 0;
  delivered = 0;
  out = 0;
}

/** The IP ECN field's codepoints (RFC 3168 §5). */
export const IpEcn = { NOT_ECT: 0, ECT1: 1, ECT0: 2, CE: 3 } as const;

/**
 * ECN from the peer's SYN or SYN-ACK (called where the other options are negotiated):
 * LINUX tcp_ecn_create_request (passive: the SYN asks with ECE+CWR and is itself Not-ECT, and
 * tcp_ecn is on), tcp_ecn_rcv_synack (active: ECE without CWR), tcp_ecn_rcv_syn (simultaneous
 * open: ECE and CWR).
 */
export function negotiateEcn(c: Connection, seg: TcpRepr): void {
  const ece = (seg.flags & ECE) !== 0;
  const cwr = (seg.flags & CWR) !== 0;
  let ok: boolean;
  if (c.passive && !(seg.flags & ACK)) ok = c.config.ecn !== 0 && ece && cwr && seg.ipEcn === IpEcn.NOT_ECT;
  else if (seg.flags & ACK) ok = asksForEcn(c) && ece && !cwr;
  else ok = asksForEcn(c) && ece && cwr;
  c.ecnFlags = ok ? EcnFlag.OK : 0;
}

/** LINUX tcp_ecn_send_syn: tcp_ecn = 1 asks; a retransmitted SYN stops asking (tcp_ecn_fallback). */
function asksForEcn(c: Connection): boolean {
  return c.config.ecn === 1;
}

/** The ECN flags of our SYN or SYN-ACK (LINUX tcp_ecn_send_syn, tcp_ecn_make_synack). */
export function synEcnFlags(c: Connection, synAck: boolean): number {
  if (synAck) return c.ecnFlags & EcnFlag.OK ? ECE : 0;
  // LINUX tcp_ecn_clear_syn: a retransmitted SYN goes without ECE/CWR (a middlebox may drop them).
  return asksForEcn(c) && c.snd.retransmits === 0 ? ECE | CWR : 0;
}

/**
 * A segment about to leave (LINUX tcp_ecn_send): new data is ECT(0) and carries the queued CWR;
 * everything else is Not-ECT; every segment carries ECE while the peer owes us a CWR. `sndMax`
 * is SND.MAX before this segment: data at or above it is new.
 */
export function ecnOnSend(c: Connection, out: TcpRepr, sndMax: SeqNum): void {
  out.ipEcn = IpEcn.NOT_ECT;
  // The test inline, the work out of line: a connection without ECN (most) pays one load here,
  // and the callers' inlining budget is not spent on the body (V8 counts an inlinee's whole size).
  if (c.ecnFlags & EcnFlag.OK && !(out.flags & SYN)) ecnMarkOutgoing(c, out, sndMax);
}

function ecnMarkOutgoing(c: Connection, out: TcpRepr, sndMax: SeqNum): void {
  const f = c.ecnFlags;
  // LINUX tcp_write_xmit / tcp_retransmit_skb: prr_out counts what left during the reduction.
  if (c.snd.rec.state === 'CWR' && out.payload.length > 0) c.cwr.out += Math.ceil(out.payload.length / c.snd.cc.mss);
  if (out.payload.length > 0 && seqGe(out.seq, sndMax)) {
    out.ipEcn = IpEcn.ECT0;
    if (f & EcnFlag.QUEUE_CWR) {
      c.ecnFlags &= ~EcnFlag.QUEUE_CWR;
      out.flags |= CWR;
    }
  }
  if (c.ecnFlags & EcnFlag.DEMAND_CWR) out.flags |= ECE;
}

/**
 * A data segment arrived (LINUX tcp_ecn_accept_cwr, then __tcp_ecn_check_ce): CWR ends our echo;
 * CE starts it (with an immediate ACK: the sender's window may be tiny). Returns true when the
 * segment must be acknowledged at once.
 */
export function ecnOnData(c: Connection, seg: TcpRepr): boolean {
  return (c.ecnFlags & EcnFlag.OK) !== 0 && seg.payload.length > 0 && ecnDataMarks(c, seg);
}

function ecnDataMarks(c: Connection, seg: TcpRepr): boolean {
  let ackNow = false;
  if (seg.flags & CWR) {
    c.ecnFlags &= ~EcnFlag.DEMAND_CWR;
    ackNow = true;
  }
  switch (seg.ipEcn) {
    case IpEcn.CE:
      if (!(c.ecnFlags & EcnFlag.DEMAND_CWR)) {
        c.ecnFlags |= EcnFlag.DEMAND_CWR;
        ackNow = true;
      }
      c.ecnFlags |= EcnFlag.SEEN;
      break;
    case IpEcn.ECT0:
    case IpEcn.ECT1:
      c.ecnFlags |= EcnFlag.SEEN;
      break;
    default:
      break;
  }
  return ackNow;
}

/**
 * Before an ACK is processed (LINUX tcp_ack: FLAG_ECE from tcp_ecn_rcv_ecn_echo, then
 * tcp_fastretrans_alert → tcp_try_to_open → tcp_enter_cwr): an ECE on an ACK that is not old, on
 * an ECN connection, outside a recovery, starts the CWR state — ssthresh from the algorithm, the
 * window then brought down by PRR as ACKs arrive (RFC 3168 §6.1.2: once per window of data;
 * RFC 6937) — and CWR goes out on the next new data.
 */
export function ecnBeforeAck(c: Connection, seg: TcpRepr): void {
  if (c.ecnFlags & EcnFlag.OK && (seg.flags & (ECE | SYN)) === ECE) ecnEchoed(c, seg);
}

function ecnEchoed(c: Connection, seg: TcpRepr): void {
  const snd = c.snd;
  if (seqLt(seg.ack, snd.sndUna) || seqGt(seg.ack, snd.sndMax)) return;
  bump(c.mib, 'TCPDeliveredCE');
  const prior = snd.cc.cwnd;
  if (!snd.rec.enterCwr(snd.inFlight, snd.sndMax)) return;
  c.cwr.priorCwnd = prior;
  c.cwr.delivered = 0;
  c.cwr.out = 0;
  queueCwr(c);
}

/**
 * After an acceptable ACK in the CWR state (LINUX tcp_fastretrans_alert's exit test, then
 * tcp_cong_control → tcp_cwnd_reduction): once something above highSeq is acknowledged the
 * reduction ends at ssthresh (tcp_end_cwnd_reduction, so the CWR flag has reached the peer);
 * before that each ACK sets the window by PRR (RFC 6937 §3, in segments as Linux counts).
 */
export function ecnAfterAck(c: Connection, prevUna: SeqNum): void {
  if (c.snd.rec.state === 'CWR') cwrReduce(c, prevUna);
}

function cwrReduce(c: Connection, prevUna: SeqNum): void {
  const snd = c.snd;
  const rec = snd.rec;
  const cc = snd.cc;
  const mss = cc.mss;
  if (seqGt(snd.sndUna, rec.highSeq)) {
    cc.cwnd = Math.max(mss, Math.floor(cc.ssthresh / mss) * mss);
    rec.state = 'Open';
    return;
  }
  const acked = Math.ceil(seqDiff(snd.sndUna, prevUna) / mss);
  const p = c.cwr;
  if (acked <= 0 || p.priorCwnd === 0) return;
  const flight = Math.ceil(flightForSend(c) / mss);
  const ssthresh = Math.floor(cc.ssthresh / mss);
  const prior = Math.max(1, Math.floor(p.priorCwnd / mss));
  const delta = ssthresh - flight;
  p.delivered += acked;
  let sndcnt: number;
  if (delta < 0) sndcnt = Math.floor((ssthresh * p.delivered + prior - 1) / prior) - p.out; // proportional
  else sndcnt = Math.min(delta, Math.max(p.delivered - p.out, acked)); // PRR-CRB (SND.UNA advanced)
  sndcnt = Math.max(sndcnt, p.out > 0 ? 0 : 1);
  cc.cwnd = (flight + sndcnt) * mss;
}

/** A window reduction (CWR, Recovery or Loss) tells the peer with CWR (LINUX tcp_ecn_queue_cwr). */
export function queueCwr(c: Connection): void {
  if (c.ecnFlags & EcnFlag.OK) c.ecnFlags |= EcnFlag.QUEUE_CWR;
}
