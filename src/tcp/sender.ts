import { NEVER, type Duration, type Instant } from '../time.js';
import { seqAdd, type SeqNum, seqDiff, seqGt, seqLt, seqMin, seqLe } from '../seq.js';
import type { TcpConfig } from './config.js';
import { createCongestionControl, type CongestionControl } from './congestion/registry.js';
import { cwndRestart, type AckedSample } from './congestion/control.js';
import { Recovery, onAckAdvance, pipe, detectLoss, onAckSacks, prrReduce, prrSent, processLoss, flightInLoss, sackGrowth } from './recovery.js';
import { ByteRing } from './ring.js';
import { newDataDropped } from './local-drop.js';
import { RttEstimator } from './rtt.js';
import { ACK, FIN, PSH, type TcpRepr, segLen } from '../wire/tcp-repr.js';
import { type Connection } from './connection.js';
import { EV } from './events.js';
import { Timer } from './timers.js';
import { Work } from './work.js';
import { armLossProbe, armPersist, armRetransmit, currentRto } from './rto.js';
import { SND_BASE, SND_SLOTS } from './slots.js';
import { assertNever } from './state.js';
import { bump } from '../mib.js';
import { fillAck, challengeAck, replySent } from './receiver.js';
import { tsClock } from './clock.js';
import { CwndValidation, cwndValidate } from './cwnd-validate.js';
import { clampToRecord, endsRecord } from './records.js';
import { mtuProbeSent, mtuProbeSize, mtupOnAck, mtupRetransmitted } from './mtu-probe.js';
import { rxtPacketEnd, sendFromQueue, sendMss, tsoCap, tsoPacketStart } from './segment-size.js';

/**
 * Slots of Sender.q, the connection's slot array (slots.ts): the instants of the send half. A µs
 * instant is no small integer for V8, so as a plain field each would be a separate boxed number
 * per connection, copied by every young-generation collection while the connection lives. The
 * sequence numbers are int32 private fields instead (below): small integers, kept in the object.
 */
const TSO_AT = SND_BASE + 0;
const UNACKED_SINCE = SND_BASE + 1;
const RTT_START = SND_BASE + 2;
const LSNDTIME = SND_BASE + 3;
const PROBES_TSTAMP = SND_BASE + 4;
if (PROBES_TSTAMP + 1 !== SND_BASE + SND_SLOTS) throw new Error('sender.ts: the send half has SND_SLOTS slots from SND_BASE (slots.ts)');

/**
 * The send half of a connection (gVisor snd.go): RFC 9293 §3.3.1 send sequence variables, the
 * send queue, the RTT estimator and retransmission backoff, the persist state, and loss
 * recovery with its congestion control; below it, the behaviour: ACK processing (RFC 9293
 * §3.10.7.4 fifth), segmentation and the send policy (§3.8.6), retransmission, timers to arm.
 */
export class Sender extends RttEstimator {
  /** The instants' slots above, in the connection's one slot array (slots.ts). */
  private readonly q: number[];
  /**
   * The sequence numbers, as int32 (`v | 0`; the accessors give them back unsigned with `>>> 0`):
   * always small integers, so V8 keeps them in the object itself, with no boxed number and no
   * slot-array load (a 1-byte ping-pong runs ~5 % faster than with them in the slot array).
   */
  #iss = 0;
  #sndUna = 0;
  #sndNxt = 0;
  #sndMax = 0;
  #sndWl1 = 0;
  #sndWl2 = 0;
  #sndBufSeq = 0;
  #rttSeq = 0;
  #sndSml = 0;
  // RFC 9293 §3.3.1 send sequence variables.
  get iss(): SeqNum { return this.#iss >>> 0; }
  get sndUna(): SeqNum { return this.#sndUna >>> 0; }
  set sndUna(v: SeqNum) { this.#sndUna = v | 0; }
  get sndNxt(): SeqNum { return this.#sndNxt >>> 0; }
  set sndNxt(v: SeqNum) { this.#sndNxt = v | 0; }
  /** Highest sequence number sent (sndNxt goes back on retransmission timeout; this does not). */
  get sndMax(): SeqNum { return this.#sndMax >>> 0; }
  set sndMax(v: SeqNum) { this.#sndMax = v | 0; }
  get sndWl1(): SeqNum { return this.#sndWl1 >>> 0; }
  set sndWl1(v: SeqNum) { this.#sndWl1 = v | 0; }
  get sndWl2(): SeqNum { return this.#sndWl2 >>> 0; }
  set sndWl2(v: SeqNum) { this.#sndWl2 = v | 0; }
  sndWnd = 0;
  /** Largest window the peer ever offered (RFC 9293 §3.8.6.2.1, RFC 5961 §5.2 MAX.SND.WND). */
  maxSndWnd = 0;

  readonly sendBuf: ByteRing;
  /** Sequence number of sendBuf's first byte. */
  get sndBufSeq(): SeqNum { return this.#sndBufSeq >>> 0; }
  set sndBufSeq(v: SeqNum) { this.#sndBufSeq = v | 0; }
  /** The user has shut down the send side (FIN queued at sndBufSeq + sendBuf.length). */
  finQueued = false;
  /**
   * The TSO packet Linux would be sending now (PSH): the instant it started, its size in
   * segments and how many of them are still to go (tsoPacketStart).
   */
  get tsoAt(): Instant { return this.q[TSO_AT]!; }
  set tsoAt(v: Instant) { this.q[TSO_AT] = v; }
  tsoSegs = 0;
  tsoLeft = 0;

  /**
   * The RTT estimator (rtt.ts): the send half itself (Sender extends RttEstimator, one object
   * fewer per connection for the young-generation collector, bench/scale.ts).
   */
  get rtt(): RttEstimator {
    return this;
  }
  /**
   * Retransmission timeouts since SND.UNA last advanced (LINUX icsk_retransmits): what the
   * give-up limits count.
   */
  retransmits = 0;
  /**
   * The RTO's backoff exponent (LINUX icsk_backoff, with icsk_rto = RTO · 2^rtoBackoff): one more
   * per timeout, cleared only by an RTT sample (rttSample), not by every ACK of new data.
   */
  rtoBackoff = 0;
  /**
   * Since when the oldest outstanding data has been waiting for its ACK (its send time, or the
   * last ACK that advanced SND.UNA past older data): the TCP_USER_TIMEOUT clock (RFC 5482).
   */
  get unackedSince(): Instant { return this.q[UNACKED_SINCE]!; }
  set unackedSince(v: Instant) { this.q[UNACKED_SINCE] = v; }
  /** Non-timestamp RTT timing of one segment (Karn's rule: cleared by retransmission). */
  get rttSeq(): SeqNum { return this.#rttSeq >>> 0; }
  set rttSeq(v: SeqNum) { this.#rttSeq = v | 0; }
  get rttStart(): Instant { return this.q[RTT_START]!; }
  set rttStart(v: Instant) { this.q[RTT_START] = v; }
  persistBackoff = 0;
  /**
   * New data went out in this burst: the loss probe is armed once the burst ends (output.ts
   * pollTransmit), as LINUX tcp_write_xmit calls tcp_schedule_loss_probe once after its loop.
   * (A field, not a bit of Connection.flags: it is written per segment, and an accessor call
   * there costs more than the field.)
   */
  lossProbeDue = false;
  /** Zero-window probes sent since the peer last answered (with keepalive's, tcpi_probes). */
  persistProbes = 0;
  /** When the probe timer first fired with data waiting (LINUX icsk_probes_tstamp; NEVER: not probing). */
  get probesTstamp(): Instant { return this.q[PROBES_TSTAMP]!; }
  set probesTstamp(v: Instant) { this.q[PROBES_TSTAMP] = v; }
  /** Segments retransmitted over the life of the connection (tcpi_total_retrans). */
  totalRetrans = 0;
  /** When data was last sent (LINUX tp->lsndtime; set at establishment): the idle clock. */
  get lsndtime(): Instant { return this.q[LSNDTIME]!; }
  set lsndtime(v: Instant) { this.q[LSNDTIME] = v; }
  /**
   * Segments delivered, cumulatively or selectively acknowledged, the handshake counting one
   * (LINUX tp->delivered, tcpi_delivered).
   */
  delivered = 0;
  /** The end of the last small (less than a full MSS) segment sent (LINUX tp->snd_sml, Nagle). */
  get sndSml(): SeqNum { return this.#sndSml >>> 0; }
  set sndSml(v: SeqNum) { this.#sndSml = v | 0; }

  /** The congestion-control algorithm's window (congestion/, chosen by config.congestionControl). */
  readonly cc: CongestionControl;
  /** Loss recovery: its state (Open … Loss), the SACK scoreboard, RACK and undo (recovery.ts). */
  readonly rec: Recovery;
  /**
   * Whether cwnd is what limits the sender (RFC 7661 as Linux applies it: cwnd-validate.ts). Made
   * at the first data sent or acknowledged: a connection that never carries data never needs it.
   */
  get cwndv(): CwndValidation {
    let v = this.cwndvState;
    if (v === null) {
      v = this.cwndvState = new CwndValidation();
      v.usageSeq = this.iss;
    }
    return v;
  }
  private cwndvState: CwndValidation | null = null;

  constructor(iss: SeqNum, config: Readonly<TcpConfig>, slots: number[]) {
    super(config.initialRto);
    const q = (this.q = slots);
    this.#iss = iss | 0;
    this.#sndUna = iss | 0;
    this.#sndNxt = iss | 0;
    this.#sndMax = iss | 0;
    this.#sndBufSeq = seqAdd(iss, 1) | 0;
    q[TSO_AT] = -1;
    q[UNACKED_SINCE] = NEVER;
    q[RTT_START] = NEVER;
    q[LSNDTIME] = 0;
    this.#sndSml = iss | 0;
    q[PROBES_TSTAMP] = NEVER;
    this.sendBuf = new ByteRing(config.sendBuffer);
    this.cc = createCongestionControl(config.congestionControl);
    this.rec = new Recovery(this.cc, iss, q);
  }

  /** Sequence number our FIN has (or will have). */
  get finSeq(): SeqNum {
    return seqAdd(this.sndBufSeq, this.sendBuf.length);
  }

  /** Whether our FIN has been sent and acknowledged. */
  finAcked(): boolean {
    return this.finQueued && seqGt(this.sndUna, this.finSeq);
  }

  /** Whether our FIN has been sent at least once. */
  finSent(): boolean {
    return this.finQueued && seqGt(this.sndMax, this.finSeq);
  }

  /** Bytes in flight (sent, not acknowledged), counting SYN/FIN. */
  get inFlight(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }
}

/**
 * An RTT sample: SRTT, RTTVAR and the RTO (rtt.ts), and the end of the RTO's backoff.
 * LINUX tcp_ack_update_rtt: "RFC6298: only reset backoff on valid RTT measurement" (RFC 6298 §5,
 * the note after 5.7) — an ACK that acknowledges only retransmitted data without timestamps
 * (Karn) leaves the RTO doubled (tcp_retransmit_timer doubles icsk_rto, tcp_set_rto recomputes it).
 */
function rttSample(c: Connection, r: Duration): void {
  c.snd.rtt.sample(r, c.snd.sndUna, c.snd.sndMax, c.config.minRto, c.config.maxRto); // (LINUX snd_nxt: the highest sent)
  c.snd.rtoBackoff = 0;
}

/**
 * Fifth step of §3.10.7.4 in the synchronized states: an ACK of something not yet sent, or too
 * old (RFC 5961 §5.2), is answered with a challenge ACK and the segment dropped (false);
 * otherwise SACK information, new data acknowledged, duplicate ACKs and loss detection.
 */
export function processAck(c: Connection, now: Instant, seg: TcpRepr): boolean {
  const snd = c.snd;
  if (seqGt(seg.ack, snd.sndMax) || seqLt(seg.ack, seqAdd(snd.sndUna, -snd.maxSndWnd - 1))) {
    challengeAck(c, now);
    return false;
  }
  // LINUX tcp_data_snd_check: after every accepted segment the queue is pushed with the socket's
  // own Nagle setting, so a MSG_MORE write's hold ends here (TCP_CORK's does not).
  if (c.corkState !== null) c.corkState.more = false;
  const sackedBefore = c.sackEnabled ? snd.rec.sb.sackedBytes : 0;
  const lostBefore = c.sackEnabled ? snd.rec.rackIfAny?.lostBytes ?? 0 : 0;
  onAckSacks(c, now, seg.ack, seg.sackBlocks, seg.sackCount, c.tsEnabled && seg.hasTimestamp ? seg.tsEcr : null);
  const advanced = seqGt(seg.ack, snd.sndUna);
  const delivered = newlyDelivered(c, advanced ? seqDiff(seg.ack, snd.sndUna) : 0, sackedBefore);
  if (advanced) {
    ackNewData(c, now, seg, delivered);
  } else {
    // LINUX tcp_ack_update_rtt: an ACK that only SACKs gives the RTT of what it SACKed.
    const sackRtt = c.sackEnabled && seg.ack === snd.sndUna ? (snd.rec.rackIfAny?.seqRtt(now) ?? -1) : -1;
    if (sackRtt >= 0) {
      const srttBefore = snd.rtt.srtt;
      rttSample(c, Math.max(1, sackRtt));
      pktsAcked(c, now, Math.max(1, snd.rec.rack.caRtt(now)), srttBefore); // LINUX: pkts_acked runs for every ACK
    }
    // RFC 5681 §2 duplicate ACK; the third starts fast retransmit (§3.2).
    const dupAck = seg.ack === snd.sndUna && segLen(seg) === 0 && snd.inFlight > 0 && (seg.window << c.sndWscale) === snd.sndWnd;
    if (dupAck) snd.rec.onDupAck();
    if (snd.rec.state === 'Loss') processLoss(c, seg.ack, snd.sndUna, false, dupAck); // F-RTO step 3a
  }
  detectLoss(c, now);
  // LINUX tcp_ack: the loss probe or RTO is set after tcp_fastretrans_alert has moved the state,
  // unless RACK armed its reordering timer (tcp_identify_packet_loss clears FLAG_SET_XMIT_TIMER).
  if (advanced && !c.timers.isSet(Timer.REORDER)) armLossProbe(c, now);
  // LINUX tcp_cong_control: in a recovery, PRR sets the window from what this ACK delivered.
  if (c.sackEnabled && snd.rec.inRecovery) prrReduce(c, delivered, (snd.rec.rackIfAny?.lostBytes ?? 0) > lostBefore, advanced);
  else if (!advanced && delivered > 0) sackGrowth(c, now, delivered);
  return true;
}

/**
 * What an ACK that moves SND.UNA by `advanced` newly delivered (LINUX tcp_newly_delivered, the
 * amount tcp_cong_control grows the window by): bytes not SACKed before it, plus what it SACKs
 * now. Without SACK, the duplicate ACKs before it already stood for delivered segments (LINUX
 * tcp_remove_reno_sacks: max(acked - sacked_out, 1) segments). So a window does not grow twice
 * for the same data, and the growth credited to SACKs arrives with the ACK that covers them.
 */
function newlyDelivered(c: Connection, advanced: number, sackedBefore: number): number {
  const snd = c.snd;
  if (c.sackEnabled) {
    snd.rec.sb.pruneBelow(seqAdd(snd.sndUna, advanced)); // what the ACK covers is no longer SACKed
    return Math.max(0, advanced + snd.rec.sb.sackedBytes - sackedBefore);
  }
  if (snd.rec.dupAcks === 0 || snd.rec.inRecovery) return advanced;
  const mss = c.effMss;
  return Math.max(Math.min(mss, advanced), advanced - Math.min(snd.rec.dupAcks, Math.ceil(snd.inFlight / mss)) * mss);
}

/** Window update (§3.10.7.4 ESTABLISHED): only from a segment newer than the last update. */
export function updateSendWindow(c: Connection, seg: TcpRepr): void {
  const snd = c.snd;
  if (!(seqLt(snd.sndWl1, seg.seq) || (snd.sndWl1 === seg.seq && seqLe(snd.sndWl2, seg.ack)))) return;
  const wasZero = snd.sndWnd === 0;
  snd.sndWnd = seg.window << c.sndWscale; // shift ≤ 14 (RFC 7323 §2.3): < 2^31, a small integer
  snd.maxSndWnd = Math.max(snd.maxSndWnd, snd.sndWnd);
  snd.sndWl1 = seg.seq;
  snd.sndWl2 = seg.ack;
  if (wasZero && snd.sndWnd > 0) {
    c.timers.stop(Timer.PERSIST);
    snd.persistBackoff = 0;
    snd.probesTstamp = NEVER; // LINUX tcp_ack_probe
  }
}

/**
 * SND.UNA advances (§3.10.7.4 fifth): release acknowledged bytes, take an RTT sample
 * (RFC 6298 with Karn's rule, or RFC 7323 timestamps), reset the backoff, restart or stop the
 * retransmission timer (RFC 6298 §5.2, §5.3), grow the congestion window.
 */
export function ackNewData(c: Connection, now: Instant, seg: TcpRepr, delivered = seqDiff(seg.ack, c.snd.sndUna)): void {
  const ack = seg.ack;
  const prevUna = c.snd.sndUna;
  c.snd.sndUna = ack;
  if (seqGt(ack, c.snd.sndNxt)) c.snd.sndNxt = ack; // after a go-back, an ACK can pass SND.NXT
  const dataEnd = seqAdd(c.snd.sndBufSeq, c.snd.sendBuf.length);
  const dataAcked = seqDiff(seqMin(ack, dataEnd), c.snd.sndBufSeq);
  // Without SACK there are no per-segment records (rack.ts counts them with SACK): whole
  // segments' worth of what this ACK took. (A Fast Open SYN's data is the SYN's packet.)
  if (!c.sackEnabled && dataAcked > 0 && c.state !== 'SYN_SENT') c.snd.delivered += Math.ceil(dataAcked / c.effMss);
  if (dataAcked > 0) {
    c.snd.sendBuf.consume(dataAcked);
    c.snd.sndBufSeq = seqAdd(c.snd.sndBufSeq, dataAcked);
    c.emit(EV.writable);
  }
  // RTT sample: LINUX tcp_ack_update_rtt prefers the segments' own send times (never-retransmitted
  // ones, tcp_clean_rtx_queue) to the timestamp echo, which after lost ACKs can be the stale
  // TS.Recent of a receiver that answered a retransmission as a duplicate.
  // With SACK the per-segment records (rack.ts) are Linux's retransmission queue: they give every
  // sample Linux takes from send times, and none when the ACK covers retransmitted data (Karn,
  // FLAG_RETRANS_DATA_ACKED) — not even from the one timed segment of RFC 6298 below.
  const records = c.sackEnabled ? c.snd.rec.rackIfAny : null;
  const seqRtt = records?.seqRtt(now) ?? -1;
  const srttBefore = c.snd.rtt.srtt;
  let rtt = -1;
  if (seqRtt >= 0) {
    rtt = Math.max(1, seqRtt);
    rttSample(c, rtt);
    c.snd.rttStart = NEVER;
  } else if (c.tsEnabled && seg.hasTimestamp && seg.tsEcr !== 0) {
    const ticks = (tsClock(c, now) - seg.tsEcr) >>> 0;
    if (ticks < 0x7fffffff) rttSample(c, (rtt = ticks * 1000));
  } else if (records === null && c.snd.rttStart !== NEVER && seqGt(ack, c.snd.rttSeq)) {
    rttSample(c, (rtt = now - c.snd.rttStart));
    c.snd.rttStart = NEVER;
  }
  // LINUX: the congestion control's sample is the last (S)ACKed segment's (ca_rtt_us).
  if (dataAcked > 0) pktsAcked(c, now, seqRtt >= 0 ? Math.max(1, c.snd.rec.rack.caRtt(now)) : rtt, srttBefore);
  c.snd.retransmits = 0; // LINUX tcp_ack: icsk_retransmits = 0 once SND.UNA advances
  if (c.mtup !== null) mtupOnAck(c, ack);
  c.snd.unackedSince = seqLt(c.snd.sndUna, c.snd.sndMax) ? now : NEVER;
  onAckAdvance(c, now, ack, prevUna, Math.min(dataAcked, delivered), c.tsEnabled && seg.hasTimestamp ? seg.tsEcr : null);
  if (c.snd.sndUna === c.snd.sndMax) c.timers.stop(Timer.RETRANSMIT);
  else armRetransmit(c, now);
  // (The loss probe is processAck's to arm, once loss detection has run. The handshake's calls
  // need none: armLossProbe only arms in the synchronized states.)
  if (c.lingerPending && c.snd.finAcked()) {
    c.lingerPending = false;
    c.timers.stop(Timer.LINGER);
    c.emit({ type: 'linger', acked: true });
  }
}

/**
 * LINUX tcp_clean_rtx_queue → pkts_acked: the algorithm hears of the acknowledgement and its RTT
 * sample, with the ACK delay HyStart allows for pacing (LINUX hystart_ack_delay: the time a
 * 64 KB GSO burst takes at the pacing rate, at most 1 ms; tcp_update_pacing_rate sets that rate
 * to 200 % of cwnd/srtt in slow start below half ssthresh, else 120 %).
 */
function pktsAcked(c: Connection, now: Instant, rtt: number, srtt: number): void {
  const cc = c.snd.cc;
  if (cc.onPktsAcked === undefined) return;
  const ratio = cc.cwnd < cc.ssthresh / 2 ? 2 : 1.2;
  const rate = srtt > 0 ? (Math.max(cc.cwnd, c.snd.inFlight) * ratio * 1e6) / srtt : 0;
  const ackDelay = rate > 0 ? Math.min(1000, Math.floor((65536 * 4 * 1e6) / rate)) : 0;
  const ack = ACK_SAMPLE;
  ack.sndUna = c.snd.sndUna;
  ack.sndNxt = c.snd.sndMax;
  ack.hystartDetect = c.config.hystartDetect;
  ack.ackDelay = ackDelay;
  cc.onPktsAcked(rtt, now, ack);
}

/** pktsAcked's argument, reused (an object per ACK was ~200 B of garbage per short connection). */
const ACK_SAMPLE: AckedSample = { sndUna: 0, sndNxt: 0, hystartDetect: 0, ackDelay: 0 };

/**
 * Data and FIN (RFC 9293 §3.8.6 send policy): at most min(SND.WND, cwnd) in flight, segments of
 * the effective MSS, Nagle (§3.7.4) unless TCP_NODELAY, sender SWS avoidance (§3.8.6.2.1),
 * FIN on the last segment once the user has closed. Arms the persist timer when a zero window
 * blocks everything.
 */
export function sendData(c: Connection, now: Instant, out: TcpRepr): boolean {
  const s = c.state;
  const mayFin = s === 'FIN_WAIT_1' || s === 'CLOSING' || s === 'LAST_ACK';
  const off = seqDiff(c.snd.sndNxt, c.snd.sndBufSeq);
  const avail = c.snd.sendBuf.length - off;
  const finDue = mayFin && c.snd.finQueued && avail <= 0 && c.snd.sndNxt === c.snd.finSeq;
  if (avail <= 0 && !finDue) return false;
  // After a timeout we go back to SND.UNA; skip what the peer SACKed (RFC 6675 §5.1).
  while (seqLt(c.snd.sndNxt, c.snd.sndMax) && c.sackEnabled) {
    // ... and what this recovery already retransmitted (below HighRxt, RFC 6675 §2): it is in
    // the pipe, and resending it again would not grow the pipe (a storm of tiny segments).
    const end = c.snd.rec.inRecovery && seqLt(c.snd.sndNxt, c.snd.rec.sb.highRxt) ? (seqLt(c.snd.rec.sb.highRxt, c.snd.sndMax) ? c.snd.rec.sb.highRxt : c.snd.sndMax) : c.snd.rec.sb.sackedEnd(c.snd.sndNxt);
    if (end === null) break;
    c.snd.sndNxt = end;
    return sendData(c, now, out);
  }
  // The peer's window and the congestion window. What counts as in flight is RFC 6675's pipe
  // whenever SACK is on (LINUX tcp_packets_in_flight: SACKed segments have left the network), so
  // the first duplicate ACKs let new data out — limited transmit (RFC 3042) — and, without SACK,
  // the first two duplicate ACKs each allow one more segment (RFC 3042 §2).
  // After a timeout (the Loss state) everything not SACKed counts as lost: only what has been sent
  // again since going back is in flight (LINUX tcp_enter_loss marks it all lost).
  const retransmission = seqLt(c.snd.sndNxt, c.snd.sndMax);
  // (Not while the peer's window is closed: Linux checks when data is queued and when the window
  // opens, so zero-window probing keeps the window it had. LINUX tcp_ack_update_window.)
  if (!retransmission && seqGt(seqAdd(c.snd.sndUna, c.snd.sndWnd), c.snd.sndNxt)) slowStartAfterIdleCheck(c, now);
  const flight = flightForSend(c);
  // A loss probe's new segment (FORCE_SEND with data in flight) goes out even when the
  // congestion window is full (LINUX tcp_write_xmit with push_one 2: "Force out a loss probe pkt").
  const probe = (c.pending & Work.FORCE_SEND) !== 0 && c.snd.inFlight > 0 && !retransmission;
  const cwndRoom = probe ? Math.max(c.snd.cc.cwnd - flight, c.effMss) : c.snd.cc.cwnd - flight;
  // Whole bytes only: CUBIC's cwnd is fractional, and a fractional `usable` made a 0.6-byte
  // "segment" that sent an empty ACK without advancing SND.NXT, 100000 times in a row.
  const usable = Math.floor(Math.min(seqDiff(seqAdd(c.snd.sndUna, c.snd.sndWnd), c.snd.sndNxt), cwndRoom));
  if (usable <= 0) {
    // The congestion window, not the peer's, holds the sender back (LINUX tcp_write_xmit's
    // is_cwnd_limited, for tcp_cwnd_validate).
    if (!retransmission && c.snd.cc.cwnd - flight < c.effMss && c.snd.sndWnd > 0) cwndValidate(c, now, true, currentRto(c));
    // Nothing fits. With nothing in flight only the persist timer will get us going again.
    if (c.snd.sndWnd === 0 && c.snd.inFlight === 0 && !c.timers.isSet(Timer.PERSIST)) {
      c.timers.stop(Timer.RETRANSMIT);
      armPersist(c, now);
    }
    return false;
  }
  const mss = sendMss(c);
  // LINUX tcp_write_xmit → tcp_mtu_probe: a PLPMTUD probe first, or nothing while one waits for
  // room (RFC 4821 §7.4). Not for a loss probe or a forced send (push_one), nor across a record end.
  let probeLen = c.mtup !== null && !retransmission && (c.pending & Work.FORCE_SEND) === 0 ? mtuProbeSize(c, now, flight) : -1;
  if (probeLen === 0) return false;
  if (probeLen > 0 && clampToRecord(c, c.snd.sndNxt, probeLen) < probeLen) probeLen = -1;
  let len = probeLen > 0 ? probeLen : clampToRecord(c, c.snd.sndNxt, Math.max(0, Math.min(avail, retransmission ? mss : tsoCap(c, mss), usable)));
  const lastOfQueue = len === avail;
  const recordEnd = endsRecord(c, seqAdd(c.snd.sndNxt, len));
  const force = (c.pending & Work.FORCE_SEND) !== 0;
  c.pending &= ~Work.FORCE_SEND;
  if (len > 0 && len < mss && !retransmission && !force) {
    // A partial segment the congestion window cut short: cwnd is what limits (tcp_cwnd_validate).
    if (len === usable && len < avail && c.snd.cc.cwnd - flight < mss) cwndValidate(c, now, true, currentRto(c));
    // TCP_CORK or a MSG_MORE write holds the queue's partial tail (LINUX tcp_nagle_check with
    // TCP_NAGLE_CORK) unless TCP_NAGLE_PUSH or the FIN says go (tcp_nagle_test); cork.ts.
    const cs = c.corkState;
    const pushed = cs !== null && cs.push;
    const corked = lastOfQueue && !pushed && (c.config.cork || (cs !== null && cs.more)) && !(mayFin && c.snd.finQueued);
    // Blocked by the rules below with nothing in flight: the persist timer is the override
    // timeout of §3.8.6.2.1 that eventually sends what the window allows (LINUX
    // tcp_check_probe_timer, also for corked data: tcp_write_wakeup sends it).
    if (c.snd.inFlight === 0 && !c.timers.isSet(Timer.PERSIST) && (!lastOfQueue || corked)) {
      armPersist(c, now);
    }
    // Sender SWS avoidance: a small segment only if it empties the queue or is at least half
    // the largest window the peer offered (§3.8.6.2.1).
    if (!lastOfQueue && !recordEnd && len < c.snd.maxSndWnd / 2) return false;
    if (corked) return false;
    // Nagle: one small segment in flight at a time, unless TCP_NODELAY or it carries the FIN.
    // Linux holds a small segment back only while an earlier small segment is unacknowledged
    // (LINUX tcp_nagle_check / tcp_minshall_check, Minshall's variant): full-sized segments in
    // flight do not hold back the small end of a write.
    // (A Fast Open child's SYN-ACK is not data in flight: LINUX sends it from the request sock,
    // so the child's packets_out is 0 and tcp_nagle_test lets its first small write out.)
    const synAckOnly = c.state === 'SYN_RECEIVED' && c.snd.inFlight <= 1;
    const smallInFlight = seqGt(c.snd.sndSml, c.snd.sndUna) && !seqGt(c.snd.sndSml, c.snd.sndNxt);
    if (lastOfQueue && !pushed && !c.config.noDelay && c.snd.inFlight > 0 && smallInFlight && !synAckOnly && !(mayFin && c.snd.finQueued)) return false;
  }
  // The host's egress queue drops everything: new data stays queued (local-drop.ts).
  if (c.xmitDrop && len > 0 && !retransmission) return newDataDropped(c, now);
  let flags = ACK;
  // PSH where Linux's would be: on the end of what the user wrote (LINUX tcp_push marks the
  // write's last skb, RFC 9293 §3.9.1 "push" at the end of a SEND), and on every TSO packet of
  // more than one segment (LINUX __tcp_transmit_skb: "Force a PSH flag on all (GSO) packets to
  // expedite GRO flush at receiver"); GSO puts it on such a packet's last segment
  // (tcp_gso_segment). synack sends one MSS at a time, so it tracks where Linux's packets end.
  // A lone segment (limited transmit, PRR's one-for-one in recovery) carries none.
  let packetStart = true;
  if (len > 0 && !retransmission && probeLen < 0) {
    packetStart = c.snd.tsoAt !== now || c.snd.tsoLeft <= 0;
    if (packetStart) tsoPacketStart(c, now, flight, Math.min(avail, seqDiff(seqAdd(c.snd.sndUna, c.snd.sndWnd), c.snd.sndNxt)), mss);
    c.snd.tsoLeft--;
  }
  // The persist timer's window-filling send (nothing in flight) carries PSH too (LINUX
  // tcp_write_wakeup); a loss probe's new segment is sent like any other (tcp_write_xmit).
  const wakeup = force && c.snd.inFlight === 0;
  // (After MSG_MORE writes the queue's end is no push point: the PSH mark stays where the last
  // write without it ended, LINUX tcp_mark_push.)
  const pushMark = lastOfQueue && (c.corkState === null || seqGt(c.corkState.pushEnd, c.snd.sndNxt));
  const tsoEnd = retransmission ? rxtPacketEnd(c, now, c.snd.sndNxt, len, flight, true) : c.snd.tsoLeft === 0 && c.snd.tsoSegs > 1;
  if (len > 0 && probeLen < 0 && (pushMark || recordEnd || wakeup || tsoEnd || (retransmission && endsSynData(c, seqAdd(c.snd.sndNxt, len))))) flags |= PSH;
  const fin = mayFin && c.snd.finQueued && lastOfQueue && len + 1 <= usable;
  if (fin) flags |= FIN;
  if (len === 0 && !fin) return false;
  out.seq = c.snd.sndNxt;
  out.flags = flags;
  if (len > 0) sendFromQueue(c, out, off, len);
  fillAck(c, now, out);
  if (len > 0) dataSent(c, now, flight);
  prrSent(c, len);
  if (probeLen > 0) {
    mtuProbeSent(c, c.snd.sndNxt, len);
    c.snd.tsoLeft = 0; // what follows the probe is a packet of its own (LINUX: a separate skb)
  }
  const end = seqAdd(c.snd.sndNxt, len + (fin ? 1 : 0));
  if (c.sackEnabled) c.snd.rec.rack.onSend(c.snd.sndNxt, end, now, retransmission, packetStart); // RFC 8985 §6.2 step 1
  if (retransmission) {
    bump(c.mib, 'RetransSegs');
    c.snd.totalRetrans++;
    if (c.mtup !== null) mtupRetransmitted(c, now);
    if (c.snd.rec.state === 'Loss') lossRetransmitted(c.snd.rec, end, now);
    // RFC 6675 §2 HighRxt, as the other retransmission paths keep it: without this the pipe
    // never counted go-back retransmissions and recovery sent a storm of tiny segments.
    if (c.sackEnabled && seqGt(end, c.snd.rec.sb.highRxt)) c.snd.rec.sb.highRxt = end;
  } else {
    if (len > 0 && len < mss) c.snd.sndSml = end; // LINUX tcp_minshall_update
    if (c.snd.rttStart === NEVER && !c.tsEnabled) {
      c.snd.rttSeq = c.snd.sndNxt;
      c.snd.rttStart = now;
    }
  }
  if (c.snd.sndUna === c.snd.sndMax) c.snd.unackedSince = now; // the oldest outstanding data starts now
  c.snd.sndNxt = end;
  if (seqGt(end, c.snd.sndMax)) c.snd.sndMax = end;
  if (!c.timers.isSet(Timer.RETRANSMIT)) armRetransmit(c, now);
  if (!retransmission) {
    c.snd.lossProbeDue = true; // armed when the burst ends (pollTransmit): only the last arming counts
    if (len > 0) cwndValidate(c, now, c.snd.cc.cwnd - flight - len < mss, currentRto(c));
  }
  c.timers.stop(Timer.PERSIST);
  c.snd.probesTstamp = NEVER;
  return true;
}

/**
 * Slow start after idle (LINUX tcp_slow_start_after_idle_check, run by tcp_skb_entail when the
 * application queues data and by tcp_ack_update_window when a window opens on queued data: both
 * are the moment new data would go out here): with nothing outstanding and no data sent for more
 * than the RTO, restart the congestion window (cwndRestart, LINUX tcp_cwnd_restart).
 */
export function slowStartAfterIdleCheck(c: Connection, now: Instant): void {
  const snd = c.snd;
  // LINUX: only with tcp_slow_start_after_idle and no packets out (tp->packets_out == 0).
  if (!c.config.slowStartAfterIdle || snd.sndUna !== snd.sndMax) return;
  const idle = now - snd.lsndtime;
  const rto = currentRto(c);
  if (idle <= rto) return;
  const st = snd.rec.state;
  cwndRestart(snd.cc, idle, now, rto, c.config.initialCwnd, st === 'CWR' || st === 'Recovery');
}

/**
 * A segment carrying data goes out (LINUX tcp_event_data_sent): when nothing was in flight the
 * algorithm hears CA_EVENT_TX_START with the time since data was last sent; then that time is now.
 */
export function dataSent(c: Connection, now: Instant, flight: number): void {
  if (flight === 0) c.snd.cc.onIdle?.('txStart', now - c.snd.lsndtime, now);
  c.snd.lsndtime = now;
  replySent(c, now);
}

/**
 * A retransmission ending where a Fast Open SYN's data ended carries PSH, as that data's own
 * packet did (LINUX tcp_send_syn_data queues it with TCPHDR_ACK | TCPHDR_PSH, and a
 * retransmission keeps its packet's flags).
 */
export function endsSynData(c: Connection, end: SeqNum): boolean {
  const fo = c.fastOpen;
  return fo !== null && fo.synData > 0 && end === seqAdd(c.snd.iss, 1 + fo.synData);
}


/** A retransmission in the Loss state up to `end`: rxtEnd and the first retransmission's time. */
export function lossRetransmitted(rec: Recovery, end: SeqNum, now: Instant): void {
  if (seqGt(end, rec.rxtEnd)) rec.rxtEnd = end;
  if (rec.lossRxtFirst === NEVER) rec.lossRxtFirst = now; // LINUX tcp_retransmit_skb: retrans_stamp
}

/** What counts as in flight when deciding how much may be sent (the congestion window's measure). */
export function flightForSend(c: Connection): number {
  const st = c.snd.rec.state;
  switch (st) {
    case 'Loss':
      return flightInLoss(c);
    case 'Recovery':
      return c.sackEnabled ? pipe(c) : c.snd.inFlight;
    case 'Open':
    case 'Disorder':
    case 'CWR':
      // Without SACK the first two duplicate ACKs each allow one more segment (RFC 3042 §2).
      return c.sackEnabled ? pipe(c) : Math.max(0, c.snd.inFlight - Math.min(c.snd.rec.dupAcks, 2) * c.effMss);
    default:
      return assertNever(st, 'recovery state');
  }
}
