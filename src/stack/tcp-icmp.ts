/**
 * ICMP errors reaching TCP (RFC 5927, RFC 1122 §4.2.3.9; LINUX tcp_v4_err / tcp_v6_err):
 *   - the quoted segment must belong to a connection and its sequence number lie in
 *     [SND.UNA, SND.NXT] (RFC 5927 §4.1; LINUX OUTOFWINDOWICMPS), else it is ignored;
 *   - Fragmentation Needed / Packet Too Big: the path MTU was lowered by the IP layer; the
 *     connection's MSS follows and what is in flight is retransmitted at once, with no
 *     congestion response (RFC 1191 §6.4, RFC 8201 §5.4; LINUX tcp_v4_mtu_reduced →
 *     tcp_sync_mss + tcp_simple_retransmit);
 *   - during SYN_SENT any other error ends the connect with its errno (LINUX: tcp_done_with_error
 *     for SYN_SENT/SYN_RECV); a passive child in SYN_RECEIVED is dropped for net/host
 *     unreachable, time exceeded and parameter problem (LINUX tcp_req_err); a Fast Open child
 *     not yet accepted is ended with the errno, its SYN data still readable;
 *   - otherwise the error is soft: remembered, and reported if the connection later times out.
 */
import type { IcmpErrorInfo } from '../ip/layer.js';
import { seqGe, seqLe } from '../seq.js';
import { bump, type Connection } from '../tcp/connection.js';
import { armRetransmit } from '../tcp/rto.js';
import type { TcpErrorCode } from '../tcp/events.js';
import { NEVER } from '../time.js';
import { u16, u32 } from '../wire/icmp.js';
import { addrKeyOfText } from '../wire/addr.js';
import type { Stack } from './stack.js';

export function tcpIcmpError(st: Stack, err: IcmpErrorInfo): void {
  if (err.payload.length < 8) return;
  const srcPort = u16(err.payload, 0);
  const dstPort = u16(err.payload, 2);
  const seq = u32(err.payload, 4);
  const c = st.conns.get(err.src, addrKeyOfText(err.src), srcPort, err.dst, addrKeyOfText(err.dst), dstPort);
  if (c === undefined) return;
  // RFC 5927 §4.1: only an error quoting a sequence number in flight is believed.
  if (!(seqGe(seq, c.sndUna) && seqLe(seq, c.sndMax))) {
    bump(st.counters, 'OutOfWindowIcmps');
    return;
  }
  const now = st.now();
  if (err.errno === 'EMSGSIZE') {
    // LINUX tcp_v4_mtu_reduced: a socket set to IP_PMTUDISC_DONT keeps its MSS.
    if (c.config.pmtuDisc !== 0) mtuReduced(c, err.mtu, now);
    st.service(c);
    return;
  }
  const code = err.errno as TcpErrorCode;
  if (c.state === 'SYN_SENT') {
    c.fail(code, `ICMP ${err.version === 6 ? 'v6 ' : ''}type ${err.type} code ${err.code} from ${err.from}`);
    st.service(c);
    return;
  }
  if (c.state === 'SYN_RECEIVED' && c.fastOpen?.child === true && !c.fastOpen.accepted) {
    // LINUX tcp_v4_err: a Fast Open child not yet accepted is a full socket: the error ends it
    // (sk_err, tcp_done), and it stays in the accept queue with the SYN's data to read first.
    c.fail(code, `ICMP type ${err.type} code ${err.code} from ${err.from} (Fast Open child)`);
    st.service(c);
    return;
  }
  // (An accepted Fast Open child is treated as a connected socket: a soft error, below.)
  if (c.state === 'SYN_RECEIVED' && c.passive && c.fastOpen?.child !== true) {
    const abort = err.version === 4 ? err.type === 12 || err.type === 11 || (err.type === 3 && err.code <= 1) : err.type === 4 || err.type === 3 || (err.type === 1 && (err.code === 0 || err.code === 3));
    if (abort) {
      c.setState('CLOSED', `request dropped: ICMP type ${err.type} code ${err.code}`);
      st.service(c);
    }
    return;
  }
  c.softError = code;
}

/** LINUX tcp_v4_mtu_reduced: lower the MSS to the new path MTU and resend what is in flight. */
function mtuReduced(c: Connection, pmtu: number, now: number): void {
  if (c.state === 'LISTEN' || c.state === 'CLOSED' || pmtu <= 0) return;
  const mss = pmtu - (c.ipv6 ? 40 : 20) - 20;
  if (mss >= c.pathMss) return;
  c.pathMss = mss;
  // LINUX tcp_sync_mss: PLPMTUD never searches above the path MTU ICMP reported.
  if (c.mtup !== null) c.mtup.searchHigh = Math.min(c.mtup.searchHigh, pmtu);
  if (c.state === 'SYN_SENT' && (c.fastOpen?.synData ?? 0) > 0) {
    // LINUX tcp_simple_retransmit: "a fastopen SYN request ... we can assume that the fastopen SYN
    // was lost": the SYN goes again at once, without its data (a retransmitted SYN never
    // carries any), announcing the smaller MSS; the data follows the SYN-ACK.
    c.snd.sndNxt = c.snd.sndUna;
    c.snd.rttStart = NEVER;
    armRetransmit(c, now);
    return;
  }
  if (c.state === 'SYN_SENT' || c.state === 'SYN_RECEIVED') return;
  c.snd.cc.mss = c.effMss; // LINUX tcp_sync_mss: the window counts in segments of the new MSS
  // tcp_simple_retransmit: segments larger than the new MSS are lost; resend from SND.UNA now,
  // without reducing the congestion window (the loss was not congestion).
  c.snd.sndNxt = c.snd.sndUna;
  c.snd.rec.sb.highRxt = c.snd.sndUna;
  c.snd.rttStart = NEVER;
  armRetransmit(c, now);
}
