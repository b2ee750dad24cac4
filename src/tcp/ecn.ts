import { seqGe, type SeqNum } from '../seq.js';
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
  return asksForEcn(c) && c.snd.backoff === 0 ? ECE | CWR : 0;
}

/**
 * A segment about to leave (LINUX tcp_ecn_send): new data is ECT(0) and carries the queued CWR;
 * everything else is Not-ECT; every segment carries ECE while the peer owes us a CWR. `sndMax`
 * is SND.MAX before this segment: data at or above it is new.
 */
export function ecnOnSend(c: Connection, out: TcpRepr, sndMax: SeqNum): void {
  out.ipEcn = IpEcn.NOT_ECT;
  const f = c.ecnFlags;
  if (!(f & EcnFlag.OK) || out.flags & SYN) return;
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
  if (!(c.ecnFlags & EcnFlag.OK) || seg.payload.length === 0) return false;
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
 * An acceptable ACK (LINUX tcp_ack with FLAG_ECE from tcp_ecn_rcv_ecn_echo): an ECE on an ECN
 * connection is a congestion signal; outside a recovery the window is reduced once (the CWR state,
 * RFC 3168 §6.1.2) and CWR goes out on the next new data.
 */
export function ecnOnAck(c: Connection, seg: TcpRepr): void {
  if (!(c.ecnFlags & EcnFlag.OK) || !(seg.flags & ECE) || seg.flags & SYN) return;
  bump(c.mib, 'TCPDeliveredCE');
  if (c.snd.rec.enterCwr(c.snd.inFlight, c.snd.sndMax)) queueCwr(c);
}

/** A window reduction (CWR, Recovery or Loss) tells the peer with CWR (LINUX tcp_ecn_queue_cwr). */
export function queueCwr(c: Connection): void {
  if (c.ecnFlags & EcnFlag.OK) c.ecnFlags |= EcnFlag.QUEUE_CWR;
}
