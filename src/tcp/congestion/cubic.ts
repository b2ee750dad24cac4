import type { Duration, Instant } from '../../time.js';
import type { AckedSample, CongestionAlgorithm, CongestionControl, IdleEvent } from './control.js';
import { slowStart } from './control.js';
import { seqGt } from '../../seq.js';

/** RFC 9438 §4.6 β_cubic and §5 C. */
const BETA_CUBIC = 0.7;
const C_CUBIC = 0.4;
/** RFC 9438 §4.3: α_cubic = 3(1 − β)/(1 + β) makes the Reno-friendly estimate fair to Reno. */
const ALPHA_CUBIC = (3 * (1 - BETA_CUBIC)) / (1 + BETA_CUBIC);

// LINUX tcp_cubic.c HyStart: the detection bits, samples per round before the delay check, the
// window (packets) below which it does not run, the ACK spacing of a train (µs), and the delay
// threshold's bounds (µs).
const HYSTART_ACK_TRAIN = 1;
const HYSTART_DELAY = 2;
const HYSTART_MIN_SAMPLES = 8;
const HYSTART_LOW_WINDOW = 16;
const HYSTART_ACK_DELTA = 2000;
const HYSTART_DELAY_MIN = 4000;
const HYSTART_DELAY_MAX = 16000;

/** CUBIC (RFC 9438), Linux's default (LINUX tcp_cubic.c). */
class Cubic implements CongestionControl {
  readonly name = 'cubic';
  cwnd = 0;
  ssthresh = 0x7fffffff;
  mss = 536;
  // RFC 9438 §4 state.
  private wMax = 0;
  private k = 0;
  private epochStart = -1;
  private wEst = 0;
  /** HyStart's state, made at the first RTT sample (an idle connection carries none). */
  private hs: HyStart | null = null;

  init(mss: number, initialCwnd: number): void {
    this.mss = mss;
    this.cwnd = initialCwnd * mss;
  }

  /** RFC 9438 §4.2–4.4: grow towards W_cubic(t + RTT), never slower than the Reno estimate. */
  onAck(acked: number, now: Instant, _srtt: number): void {
    acked = slowStart(this, acked);
    if (acked <= 0) return;
    const mss = this.mss;
    if (this.epochStart < 0) {
      this.epochStart = now;
      const cwndSeg = this.cwnd / mss;
      const wMaxSeg = this.wMax / mss;
      this.k = wMaxSeg > cwndSeg ? Math.cbrt((wMaxSeg - cwndSeg) / C_CUBIC) : 0;
      if (wMaxSeg <= cwndSeg) this.wMax = this.cwnd;
      this.wEst = this.cwnd;
    }
    // LINUX bictcp_update: the target is W_cubic one minimum RTT ahead (t += delay_min), not one
    // smoothed RTT (RFC 9438 §4.2's "RTT"): queueing delay does not make the window grow faster.
    const t = (now - this.epochStart + (this.hs?.delayMin ?? 0)) / 1e6;
    const target = (C_CUBIC * (t - this.k) ** 3 + this.wMax / mss) * mss;
    // §4.3 Reno-friendly region: W_est grows by α_cubic MSS per window acknowledged.
    this.wEst += (ALPHA_CUBIC * mss * acked) / this.cwnd;
    let goal = Math.max(target, this.wEst);
    // §4.4: never more than 1.5× the window per RTT.
    goal = Math.min(goal, 1.5 * this.cwnd);
    if (goal > this.cwnd) this.cwnd += ((goal - this.cwnd) * acked) / this.cwnd;
  }

  /**
   * LINUX cubictcp_acked: the minimum RTT, and HyStart while in slow start. Samples within a
   * second of the epoch's start (a recovery just ended) are discarded.
   */
  onPktsAcked(rtt: number, now: Instant, s: AckedSample): void {
    if (rtt < 0) return;
    if (this.epochStart >= 0 && now - this.epochStart < 1e6) return;
    const hs = (this.hs ??= new HyStart());
    const delay = Math.max(1, rtt);
    if (hs.delayMin === 0 || hs.delayMin > delay) hs.delayMin = delay;
    if (!hs.found && this.cwnd < this.ssthresh && s.hystartDetect !== 0) {
      const cwndPkts = Math.floor(this.cwnd / this.mss);
      if (hs.update(delay, now, s, cwndPkts)) this.ssthresh = cwndPkts * this.mss;
    }
  }

  /** RFC 9438 §4.6 multiplicative decrease, §4.7 fast convergence. */
  onLoss(): void {
    // §4.7: release bandwidth when the window did not regain W_max.
    this.wMax = this.cwnd < this.wMax ? (this.cwnd * (1 + BETA_CUBIC)) / 2 : this.cwnd;
    this.ssthresh = Math.max(Math.floor(this.cwnd * BETA_CUBIC), 2 * this.mss);
    this.epochStart = -1;
  }

  /**
   * LINUX cubictcp_state (TCP_CA_Loss): bictcp_reset forgets everything CUBIC learnt — W_max,
   * the epoch, the minimum RTT, HyStart's finding — and bictcp_hystart_reset starts a round
   * that ends once what was sent before the timeout is acknowledged.
   */
  onRto(now: Instant, sndNxt: number): void {
    this.wMax = 0;
    this.k = 0;
    this.epochStart = -1;
    this.wEst = 0;
    (this.hs ??= new HyStart()).reset(now, sndNxt);
  }

  /**
   * LINUX cubictcp_cwnd_event (CA_EVENT_TX_START): the application left the connection idle, so
   * shift the epoch by the idle time — W_cubic(t) goes on from where it was instead of jumping
   * by the idle time's worth of growth (RFC 9438 §5.8), but never past now.
   */
  onIdle(event: IdleEvent, idle: Duration, now: Instant): void {
    if (event !== 'txStart' || this.epochStart < 0 || idle <= 0) return;
    this.epochStart = Math.min(this.epochStart + idle, now);
  }
}

/**
 * HyStart (LINUX struct bictcp's found, round_start, last_ack, end_seq, curr_rtt, sample_cnt and
 * the connection's minimum RTT delay_min), µs.
 */
class HyStart {
  found = false;
  delayMin = 0;
  private roundStarted = false;
  private roundStart = 0;
  private lastAck = 0;
  private endSeq = 0;
  private currRtt = 0; // 0: no sample in this round yet (LINUX ~0U)
  private sampleCnt = 0;

  /**
   * LINUX hystart_update: true when slow start should end (ssthresh = cwnd): once the window is
   * at least hystart_low_window packets and either ACKs arriving in a train (each within 2 ms of
   * the last) span more than half the minimum RTT since the round began, or, after
   * HYSTART_MIN_SAMPLES samples, the round's smallest RTT is above the connection's by 1/8
   * (clamped to 4..16 ms).
   */
  update(delay: number, now: Instant, s: AckedSample, cwndPkts: number): boolean {
    if (!this.roundStarted) {
      // LINUX cubictcp_init resets the round when the connection is established, with SND.NXT
      // then below any data: the first sampled ACK of data ends that round. Here the round is
      // started by that ACK directly.
      this.roundStarted = true;
      this.endSeq = (s.sndUna - 1) >>> 0;
    }
    if (seqGt(s.sndUna, this.endSeq)) this.startRound(now, s.sndNxt);
    if (cwndPkts < HYSTART_LOW_WINDOW) return false;
    if (s.hystartDetect & HYSTART_ACK_TRAIN && now - this.lastAck <= HYSTART_ACK_DELTA) {
      this.lastAck = now;
      // "Hystart ack train triggers if we get ack past ca->delay_min/2": synack does not pace
      // (LINUX SK_PACING_NONE), so the threshold, with its allowance for TSO/GRO delays, is halved.
      const threshold = Math.floor((this.delayMin + s.ackDelay) / 2);
      if (now - this.roundStart > threshold) this.found = true;
    }
    if (s.hystartDetect & HYSTART_DELAY) {
      // The round's smallest RTT: a sample that lowers it counts even after the 8th
      // (LINUX b344579ca847 "fix spurious HYSTART_DELAY exit upon drop in min RTT").
      if (this.currRtt === 0 || this.currRtt > delay) this.currRtt = delay;
      if (this.sampleCnt < HYSTART_MIN_SAMPLES) {
        this.sampleCnt++;
      } else {
        const thresh = Math.min(HYSTART_DELAY_MAX, Math.max(HYSTART_DELAY_MIN, this.delayMin >>> 3));
        if (this.currRtt > this.delayMin + thresh) this.found = true;
      }
    }
    return this.found;
  }

  /** LINUX bictcp_hystart_reset: a round starts now and ends once SND.NXT is acknowledged. */
  private startRound(now: Instant, sndNxt: number): void {
    this.roundStart = this.lastAck = now;
    this.endSeq = sndNxt;
    this.currRtt = 0;
    this.sampleCnt = 0;
  }

  /**
   * A timeout (LINUX cubictcp_state, TCP_CA_Loss): bictcp_reset forgets the finding and the
   * minimum RTT, bictcp_hystart_reset starts a round that ends once what was sent before the
   * timeout is acknowledged.
   */
  reset(now: Instant, sndNxt: number): void {
    this.found = false;
    this.delayMin = 0;
    this.roundStarted = true;
    this.startRound(now, sndNxt);
  }
}

export const cubic: CongestionAlgorithm = {
  name: 'cubic',
  description: 'CUBIC (RFC 9438), the Linux default',
  create: () => new Cubic(),
};
