/**
 * How big a segment is: the MSS a segment sent now may carry (less the SACK blocks it will hold),
 * and how many MSS one TSO packet takes (LINUX tcp_current_mss, tcp_tso_autosize, tcp_send_mss).
 * The send policy that uses them is sender.ts's sendData.
 */
import type { Instant } from '../time.js';
import { seqAdd, type SeqNum } from '../seq.js';
import type { Connection } from './connection.js';
import { payloadOfLength, type TcpRepr } from '../wire/tcp-repr.js';

/**
 * A TSO packet starts at SND.NXT (LINUX tcp_write_xmit): as many segments as the congestion
 * window lets out in one packet — half the window, so that at least two packets are in flight
 * (tcp_cwnd_test) — no more than tcp_tso_autosize allows (about 1 ms at the pacing rate, at least
 * tcp_min_tso_segs, at most 64 KB: tcp_tso_segs), and no more than the data and the peer's window
 * hold (tcp_mss_split_point).
 */
export function tsoPacketStart(c: Connection, now: Instant, flight: number, room: number, mss: number): void {
  const snd = c.snd;
  const cwnd = Math.floor(snd.cc.cwnd / mss);
  const quota = Math.min(Math.max(cwnd >> 1, 1), Math.ceil((snd.cc.cwnd - flight) / mss));
  snd.tsoAt = now;
  // (What fits in one segment is a one-segment packet whatever the pacing rate allows.)
  snd.tsoSegs = room <= mss ? 1 : Math.max(1, Math.min(quota, tsoAutosize(c, mss), Math.ceil(room / mss)));
  snd.tsoLeft = snd.tsoSegs;
}

/**
 * LINUX tcp_tso_autosize over tcp_update_pacing_rate: the pacing rate is 200 % (slow start, below
 * half ssthresh) or 120 % of cwnd·MSS per SRTT; a packet holds what that rate sends in 2^-10 s,
 * plus 64 KB >> (min RTT / 512 µs), capped at 64 KB, and at least tcp_min_tso_segs segments.
 */
function tsoAutosize(c: Connection, mss: number): number {
  const snd = c.snd;
  const GSO_MAX = 65536;
  let bytes = 0;
  if (snd.rtt.hasSample && snd.rtt.srtt > 0) {
    const ratio = snd.cc.cwnd < snd.cc.ssthresh / 2 ? 2 : 1.2;
    const rate = (ratio * Math.max(snd.cc.cwnd, snd.inFlight) * 1e6) / snd.rtt.srtt; // bytes/s
    bytes = Math.floor(rate / 1024);
    const minRtt = Number.isFinite(snd.rec.rack.minRtt) ? snd.rec.rack.minRtt : snd.rtt.srtt;
    const r = Math.floor(minRtt / 512);
    if (r < 32) bytes += Math.floor(GSO_MAX / 2 ** r);
  } else {
    bytes = GSO_MAX; // no RTT yet: Linux's pacing rate is still unlimited (~0U)
  }
  return Math.max(Math.floor(Math.min(bytes, GSO_MAX) / mss), c.config.minTsoSegs);
}

/**
 * Payload size of a segment sent now: the effective MSS less the SACK blocks fillAck will add
 * (LINUX tcp_current_mss subtracts the options beyond the usual header). Without this a full
 * segment carrying SACK blocks exceeds the MTU and is lost on the path (RFC 9293 §3.7.1: the
 * MSS counts data only, so options must come out of the segment's data).
 */
export function sendMss(c: Connection): number {
  if (!c.sackEnabled || (c.rcv.reasm.isEmpty && c.rcv.dsackStart === c.rcv.dsackEnd)) return c.effMss;
  const k = Math.min(c.tsEnabled ? 3 : 4, c.rcv.reasm.blockCount(4) + (c.rcv.dsackStart !== c.rcv.dsackEnd ? 1 : 0));
  return Math.max(1, c.effMss - (k > 0 ? 4 + 8 * k : 0));
}

/**
 * How much new data one packet may carry: one MSS, or with TSO (Connection.tsoMaxPayload) as
 * many whole MSS as the link takes in one packet, which it cuts into segments of exactly the MSS
 * (LINUX tcp_tso_autosize / tcp_send_mss: size_goal, a multiple of mss_now up to gso_max_size).
 * Only while the MSS is the link's own: a smaller peer or path MSS would have the link cut
 * segments larger than the peer takes. Retransmissions go one MSS at a time.
 */
export function tsoCap(c: Connection, mss: number): number {
  if (c.tsoMaxPayload === 0 || c.peerMss < c.advMss || c.pathMss < c.advMss) return mss;
  return Math.max(1, Math.floor(c.tsoMaxPayload / mss)) * mss;
}

/**
 * Point an outgoing segment at `len` bytes of the send queue from `off` (TcpRepr.payloadSrc): the
 * IP layer's frame gets them copied straight from the ring when it is written, with no view made
 * and no staging copy when they wrap around the ring.
 */
export function sendFromQueue(c: Connection, out: TcpRepr, off: number, len: number): void {
  out.payload = payloadOfLength(len);
  out.payloadSrc = c.snd.sendBuf;
  out.payloadFrom = off;
}

/**
 * PSH on a retransmitted segment that ends a packet of more than one segment (LINUX
 * __tcp_transmit_skb forces PSH on every GSO packet, retransmissions too; tcp_gso_segment
 * leaves it on the last segment). Linux retransmits one retransmit-queue skb per packet
 * (tcp_retransmit_skb), cut to what cwnd allows (tcp_fragment); synack sends one MSS at a time,
 * so it asks the RACK records where those skbs begin and end (rack.ts): the segment continues
 * a packet when the one before it in the same skb went at this instant, and ends it unless the
 * next one in the same skb is due and the congestion window has room for it. (With SACK only:
 * without it there are no records, and retransmissions carry no such PSH.)
 */
export function rxtPacketEnd(c: Connection, now: Instant, seq: SeqNum, len: number, flight: number, goBack: boolean): boolean {
  const rack = c.sackEnabled ? c.snd.rec.rackIfAny : null;
  if (rack === null || !rack.rxtJoinsPrev(seq, now)) return false;
  const room = c.snd.cc.cwnd - flight - len;
  return !(room >= sendMss(c) && rack.rxtNextJoins(seqAdd(seq, len), goBack));
}
