/**
 * Packetization-layer path MTU discovery (RFC 4821) as Linux does it (tcp_mtu_probing): a
 * binary search for the largest segment the path carries, between search_low (known to work)
 * and search_high (the peer's MSS or the path MTU), in MTU units. With tcp_mtu_probing=2 it runs
 * from the start, sending at search_low; with 1 it starts when retransmission timeouts suggest
 * an ICMP black hole (RFC 4821 §7.7 / RFC 2923 §2.1: big packets vanish without a Fragmentation
 * Needed). A probe is one segment of new data larger than the MSS (RFC 4821 §10.1: probes are
 * data, retransmitted in MSS pieces if lost); its ACK raises search_low and the MSS with it
 * (§7.6.1), its loss — detected as loss of any other segment, but without the congestion
 * response (§7.6.2) — lowers search_high.
 *
 * The state exists only on connections that probe (made when tcp_mtu_probing is non-zero at the
 * handshake, LINUX tcp_mtup_init); every other connection carries a null.
 */
import { NEVER, type Instant } from '../time.js';
import { seqAdd, seqDiff, seqGt, seqLe, type SeqNum } from '../seq.js';
import { bump } from '../mib.js';
import type { Connection } from './connection.js';

/** LINUX TCP_RTO_MIN: the base of retransmits_timed_out's model of backed-off timeouts. */
const RTO_BASE = 200_000;
/** LINUX tcp_min_snd_mss default: no MSS below this. */
const MIN_SND_MSS = 48;

export class MtuProbe {
  /** LINUX icsk_mtup.enabled: probing (and the search_low cap on the MSS) in effect. */
  enabled: boolean;
  /** Largest MTU not known to fail, and the largest known to work (icsk_mtup.search_high/low). */
  searchHigh: number;
  searchLow: number;
  /** MTU of the probe in flight; 0 when none (icsk_mtup.probe_size). */
  probeSize = 0;
  /** When the current search started (icsk_mtup.probe_timestamp). */
  probeTimestamp: Instant;
  /** The probe's sequence range (tp->mtu_probe.probe_seq_start/end). */
  probeSeqStart: SeqNum = 0;
  probeSeqEnd: SeqNum = 0;
  /**
   * No new probe before SND.UNA passes this (LINUX: tcp_simple_retransmit leaves the CA state
   * Loss until high_seq is acknowledged, and tcp_mtu_probe wants the Open state).
   */
  holdSeq: SeqNum;
  /** First retransmission since SND.UNA last advanced (LINUX tp->retrans_stamp), for black holes. */
  rxtStamp: Instant = NEVER;

  constructor(enabled: boolean, searchHigh: number, searchLow: number, now: Instant, sndUna: SeqNum) {
    this.enabled = enabled;
    this.searchHigh = searchHigh;
    this.searchLow = searchLow;
    this.probeTimestamp = now;
    this.holdSeq = sndUna;
  }
}

/** IP + TCP headers and the options every segment carries (LINUX tp->tcp_header_len + net_header_len). */
function headers(c: Connection): number {
  return (c.ipv6 ? 40 : 20) + 20 + (c.tsEnabled ? 12 : 0);
}

/** LINUX tcp_mtu_to_mss: the payload of a segment filling `mtu`, capped by the peer's MSS. */
export function mtuToMss(c: Connection, mtu: number): number {
  const plain = Math.max(MIN_SND_MSS, Math.min(mtu - (c.ipv6 ? 40 : 20) - 20, c.peerMss));
  return plain - (c.tsEnabled ? 12 : 0);
}

/** LINUX tcp_mss_to_mtu. */
export function mssToMtu(c: Connection, mss: number): number {
  return mss + headers(c);
}

/** The path's MTU as far as the connection knows it (LINUX icsk_pmtu_cookie): link or ICMP. */
function pmtu(c: Connection): number {
  return Math.min(c.pathMss, c.advMss) + (c.ipv6 ? 40 : 20) + 20;
}

/**
 * LINUX tcp_mtup_init, at the handshake: the search range runs from tcp_base_mss to the peer's
 * MSS (mss_clamp + headers) within the path MTU; enabled at once with tcp_mtu_probing=2.
 */
export function mtupInit(c: Connection, now: Instant): void {
  const mode = c.config.mtuProbing;
  if (mode === 0) return;
  const high = Math.min(c.peerMss + (c.ipv6 ? 40 : 20) + 20, pmtu(c));
  c.mtup = new MtuProbe(mode > 1, high, mssToMtu(c, c.config.baseMss), now, c.snd.sndUna);
}

/** The cap probing puts on the MSS (LINUX tcp_sync_mss: min with tcp_mtu_to_mss(search_low)). */
export function mtupMssCap(c: Connection): number {
  const m = c.mtup;
  return m !== null && m.enabled ? mtuToMss(c, m.searchLow) + (c.tsEnabled ? 12 : 0) : 0xffff;
}

/**
 * LINUX tcp_mtu_probe's decision, before new data goes out: the payload of a probe to send now,
 * 0 to send nothing until in-flight data drains (so the probe gets its room), -1 for no probe.
 * A probe needs the Open state, a window of at least 11 segments, no SACK blocks in our ACKs,
 * and enough queued data behind it for the probe's loss to be detected by the segments that
 * follow (probe + (reordering + 1) MSS).
 */
export function mtuProbeSize(c: Connection, now: Instant, flight: number): number {
  const m = c.mtup;
  const snd = c.snd;
  if (m === null || !m.enabled || m.probeSize !== 0 || snd.rec.state !== 'Open' || seqGt(m.holdSeq, snd.sndUna)) return -1;
  const mss = c.effMss;
  const cwndSegs = Math.floor(snd.cc.cwnd / mss);
  if (cwndSegs < 11) return -1;
  if (c.sackEnabled && !(c.rcv.reasm.isEmpty && c.rcv.dsackStart === c.rcv.dsackEnd)) return -1;
  const probe = mtuToMss(c, (m.searchHigh + m.searchLow) >> 1);
  const sizeNeeded = probe + (snd.rec.sb.dupThresh + 1) * mss;
  if (probe > mtuToMss(c, m.searchHigh) || m.searchHigh - m.searchLow < c.config.probeThreshold) {
    checkReprobe(c, now);
    return -1;
  }
  if (snd.sendBuf.length - seqDiff(snd.sndNxt, snd.sndBufSeq) < sizeNeeded) return -1;
  if (snd.sndWnd < sizeNeeded) return -1;
  if (seqGt(seqAdd(snd.sndNxt, sizeNeeded), seqAdd(snd.sndUna, snd.sndWnd))) return 0;
  const inFlight = Math.ceil(flight / mss);
  if (inFlight + 2 > cwndSegs) return inFlight === 0 ? -1 : 0;
  return probe;
}

/**
 * LINUX tcp_mtu_check_reprobe: once the search has converged, start over after
 * tcp_probe_interval from the current MSS up to the peer's (a route may have grown).
 */
function checkReprobe(c: Connection, now: Instant): void {
  const m = c.mtup!;
  if (now - m.probeTimestamp < c.config.probeInterval) return;
  m.probeSize = 0;
  m.searchHigh = c.peerMss + (c.ipv6 ? 40 : 20) + 20;
  m.searchLow = mssToMtu(c, c.effMss);
  m.probeTimestamp = now;
}

/**
 * The probe of `len` bytes at `seq` went out. LINUX tcp_mtu_probe takes one segment off the
 * window (snd_cwnd--, "we are sending effectively two packets") and counts the probe as one
 * packet in flight; in bytes that is the window less two MSS plus the probe.
 */
export function mtuProbeSent(c: Connection, seq: SeqNum, len: number): void {
  const m = c.mtup!;
  c.snd.cc.cwnd = Math.max(c.effMss, c.snd.cc.cwnd - probeCwndCost(c, len));
  m.probeSize = mssToMtu(c, len);
  m.probeSeqStart = seq;
  m.probeSeqEnd = seqAdd(seq, len);
}

/** What a probe of `len` bytes takes off the window in bytes: one segment, as one packet in flight. */
function probeCwndCost(c: Connection, len: number): number {
  return 2 * c.effMss - len;
}

/**
 * SND.UNA advanced (LINUX tcp_clean_rtx_queue): the probe arrived — search_low rises to it and
 * the MSS with it; the window keeps its size in bytes, in whole segments of the new MSS
 * (LINUX tcp_mtup_probe_success: cwnd · old MTU / probe MTU segments, ssthresh at least 3/4 of it).
 */
export function mtupOnAck(c: Connection, ack: SeqNum): void {
  const m = c.mtup!;
  m.rxtStamp = NEVER;
  if (m.probeSize === 0 || !seqLe(m.probeSeqEnd, ack)) return;
  const cc = c.snd.cc;
  const oldMss = c.effMss;
  const segs = Math.max(1, Math.floor((Math.floor(cc.cwnd / oldMss) * mssToMtu(c, oldMss)) / m.probeSize));
  m.searchLow = m.probeSize;
  m.probeSize = 0;
  const mss = c.effMss;
  cc.mss = mss;
  cc.cwnd = segs * mss;
  cc.ssthresh = Math.max(cc.ssthresh, (((segs >> 1) + (segs >> 2)) * mss)); // LINUX tcp_current_ssthresh
  bump(c.mib, 'TCPMTUPSuccess');
}

/**
 * Loss was detected in the Open state (LINUX tcp_fastretrans_alert, "MTU probe failure: don't
 * reduce cwnd"): when it is the probe's — it sits at SND.UNA — search_high drops below the
 * probe, the window gets back the segment the probe took, and the probe is resent in MSS-sized
 * pieces without a recovery (tcp_mtup_probe_failed + tcp_simple_retransmit). True when so.
 */
export function mtupProbeLost(c: Connection): boolean {
  const m = c.mtup;
  const snd = c.snd;
  if (m === null || m.probeSize === 0 || (snd.rec.state !== 'Open' && snd.rec.state !== 'Disorder') || snd.sndUna !== m.probeSeqStart) return false;
  m.searchHigh = m.probeSize - 1;
  m.probeSize = 0;
  m.holdSeq = snd.sndMax;
  bump(c.mib, 'TCPMTUPFail');
  snd.cc.cwnd += probeCwndCost(c, seqDiff(m.probeSeqEnd, m.probeSeqStart)); // LINUX: snd_cwnd++
  // With SACK, RACK marked the probe lost and the output engine resends just that (output.ts);
  // without, go back to SND.UNA as for a Fragmentation Needed (stack/tcp-icmp.ts).
  if (!c.sackEnabled) {
    snd.sndNxt = snd.sndUna;
    snd.rttStart = NEVER;
  }
  return true;
}

/**
 * A retransmission timeout (LINUX tcp_write_timeout → tcp_mtu_probing): once the timeouts have
 * lasted what tcp_retries1 backed-off timeouts from 200 ms would (retransmits_timed_out), suspect
 * a black hole — turn probing on (tcp_mtu_probing=1: the MSS drops to tcp_base_mss), or, already
 * on, halve search_low (never below tcp_mtu_probe_floor).
 */
export function mtuProbingOnTimeout(c: Connection, now: Instant): void {
  if (c.config.mtuProbing === 0) return;
  if (c.mtup === null) mtupInit(c, now);
  const m = c.mtup!;
  if (c.snd.retransmits === 0 || m.rxtStamp === NEVER || now - m.rxtStamp < modelTimeout(c.config.retries1)) return;
  if (!m.enabled) {
    m.enabled = true;
    m.probeTimestamp = now;
  } else {
    let mss = mtuToMss(c, m.searchLow) >> 1;
    mss = Math.max(Math.min(c.config.baseMss, mss), c.config.mtuProbeFloor, MIN_SND_MSS);
    m.searchLow = mssToMtu(c, mss);
  }
  c.snd.cc.mss = c.effMss; // LINUX tcp_sync_mss: the retransmission's window is one new MSS
}

/** LINUX tcp_model_timeout: how long `boundary` timeouts take, doubling from TCP_RTO_MIN up to 120 s. */
function modelTimeout(boundary: number): number {
  const linearThresh = 9; // ilog2(TCP_RTO_MAX / TCP_RTO_MIN)
  if (boundary <= linearThresh) return ((2 << boundary) - 1) * RTO_BASE;
  return ((2 << linearThresh) - 1) * RTO_BASE + (boundary - linearThresh) * 120_000_000;
}

/** A retransmission went out: the black-hole clock starts with the first (LINUX retrans_stamp). */
export function mtupRetransmitted(c: Connection, now: Instant): void {
  const m = c.mtup!;
  if (m.rxtStamp === NEVER) m.rxtStamp = now;
}
