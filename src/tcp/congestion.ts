import type { Instant } from '../time.js';

/**
 * Congestion control behind one small interface (RFC 5681), the window kept in bytes:
 * slow start with IW10 (RFC 6928), the loss window after a retransmission timeout, fast
 * recovery (NewReno, RFC 6582, or SACK-based, RFC 6675, driven by the connection), and in
 * congestion avoidance either Reno's one MSS per RTT or CUBIC (RFC 9438), Linux's default.
 */
export type CongestionKind = 'cubic' | 'newreno';

/** RFC 9438 §4.6 β_cubic and §5 C. */
const BETA_CUBIC = 0.7;
const C_CUBIC = 0.4;
/** RFC 9438 §4.3: α_cubic = 3(1 − β)/(1 + β) makes the Reno-friendly estimate fair to Reno. */
const ALPHA_CUBIC = (3 * (1 - BETA_CUBIC)) / (1 + BETA_CUBIC);

export class Congestion {
  cwnd = 0;
  ssthresh = 0x7fffffff;
  private mss = 536;
  /** Bytes acked since cwnd last grew in Reno congestion avoidance. */
  private ackedInCa = 0;
  /** In fast recovery until `recover` is acknowledged. */
  inRecovery = false;
  private recover = 0;
  private sackRecovery = false;
  // CUBIC state (RFC 9438 §4).
  private wMax = 0;
  private k = 0;
  private epochStart = -1;
  private wEst = 0;
  /** Congestion events (for tcp_info-like views). */
  lossEvents = 0;

  constructor(readonly kind: CongestionKind) {}

  /** Connection established: RFC 6928 initial window (IW segments of the effective MSS). */
  init(mss: number, initialCwnd: number): void {
    this.mss = mss;
    this.cwnd = initialCwnd * mss;
  }

  /** New data acknowledged outside recovery (RFC 5681 §3.1). `srtt` in µs. */
  onAck(acked: number, now: Instant = 0, srtt = 0): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start (RFC 5681 §3.1): grow by what was acknowledged. LINUX tcp_slow_start counts
      // every segment an ACK covers (no RFC 3465 L limit), stopping at ssthresh; the rest of the
      // ACK then counts towards congestion avoidance.
      const grown = Math.min(this.cwnd + acked, Math.max(this.ssthresh, this.cwnd));
      acked -= grown - this.cwnd;
      this.cwnd = grown;
      if (acked <= 0 || this.cwnd < this.ssthresh) return;
    }
    if (this.kind === 'newreno') {
      // Congestion avoidance: about one MSS per RTT (RFC 5681 §3.1, equation 3).
      this.ackedInCa += acked;
      if (this.ackedInCa >= this.cwnd) {
        this.ackedInCa -= this.cwnd;
        this.cwnd += this.mss;
      }
      return;
    }
    this.cubicAck(acked, now, srtt);
  }

  /** RFC 9438 §4.2–4.4: grow towards W_cubic(t + RTT), never slower than the Reno estimate. */
  private cubicAck(acked: number, now: Instant, srtt: number): void {
    const mss = this.mss;
    if (this.epochStart < 0) {
      this.epochStart = now;
      const cwndSeg = this.cwnd / mss;
      const wMaxSeg = this.wMax / mss;
      this.k = wMaxSeg > cwndSeg ? Math.cbrt((wMaxSeg - cwndSeg) / C_CUBIC) : 0;
      if (wMaxSeg <= cwndSeg) this.wMax = this.cwnd;
      this.wEst = this.cwnd;
    }
    const t = (now - this.epochStart + srtt) / 1e6;
    const target = (C_CUBIC * (t - this.k) ** 3 + this.wMax / mss) * mss;
    // §4.3 Reno-friendly region: W_est grows by α_cubic MSS per window acknowledged.
    this.wEst += (ALPHA_CUBIC * mss * acked) / this.cwnd;
    let goal = Math.max(target, this.wEst);
    // §4.4: never more than 1.5× the window per RTT.
    goal = Math.min(goal, 1.5 * this.cwnd);
    if (goal > this.cwnd) this.cwnd += ((goal - this.cwnd) * acked) / this.cwnd;
  }

  /** Multiplicative decrease at a congestion event (RFC 5681 eq. 4; RFC 9438 §4.6–4.7). */
  private decrease(flightSize: number): void {
    this.lossEvents++;
    if (this.kind === 'cubic') {
      // §4.7 fast convergence: release bandwidth when the window did not regain W_max.
      this.wMax = this.cwnd < this.wMax ? (this.cwnd * (1 + BETA_CUBIC)) / 2 : this.cwnd;
      this.ssthresh = Math.max(Math.floor(this.cwnd * BETA_CUBIC), 2 * this.mss);
      this.epochStart = -1;
    } else {
      this.ssthresh = Math.max(Math.floor(flightSize / 2), 2 * this.mss);
    }
  }

  private priorCwnd = 0;
  private priorSsthresh = 0x7fffffff;

  /** A reduction that undo() could still revert (no timeout or undo since the last recovery). */
  get undoPossible(): boolean {
    return this.priorCwnd !== 0;
  }

  /**
   * Every retransmission of this episode proved unnecessary (D-SACK, RFC 3708 §3.2): restore the
   * window as it was before the reduction (LINUX tcp_undo_cwnd_reduction).
   */
  undo(): void {
    if (this.priorCwnd === 0) return;
    this.cwnd = Math.max(this.cwnd, this.priorCwnd);
    this.ssthresh = Math.max(this.ssthresh, this.priorSsthresh);
    this.inRecovery = false;
    this.lossEvents--;
    this.priorCwnd = 0;
  }

  /** Retransmission timeout (RFC 5681 §3.1, equations 4 and 5). */
  onRto(flightSize: number): void {
    this.priorCwnd = 0; // LINUX: an RTO's reduction is undone only by F-RTO/timestamps, not here
    if (!this.inRecovery) this.decrease(flightSize);
    this.cwnd = this.mss;
    this.ackedInCa = 0;
    this.inRecovery = false;
  }

  /**
   * Loss detected by duplicate ACKs or SACK (RFC 5681 §3.2 steps 2–3, RFC 6582 §3.2 step 1,
   * RFC 6675 §5 step 4): NewReno inflates by the three segments that left; SACK recovery counts
   * the pipe instead.
   */
  enterRecovery(flightSize: number, sndMax: number, sack = false): void {
    this.priorCwnd = this.cwnd;
    this.priorSsthresh = this.ssthresh;
    this.decrease(flightSize);
    this.sackRecovery = sack;
    this.cwnd = sack ? this.ssthresh : this.ssthresh + 3 * this.mss;
    this.recover = sndMax;
    this.inRecovery = true;
  }

  /** Each further duplicate ACK inflates a NewReno window (RFC 5681 §3.2 step 4). */
  onDupAck(): void {
    if (!this.sackRecovery) this.cwnd += this.mss;
  }

  /**
   * An ACK of new data during recovery. Full ACK (covers `recover`): deflate to ssthresh and leave
   * (RFC 6582 §3.2 step 3). Partial ACK: NewReno deflates by the amount acked plus one MSS and
   * returns true — the next unacknowledged segment must be retransmitted (step 4).
   */
  onRecoveryAck(ack: number, acked: number): boolean {
    if (((ack - this.recover) | 0) >= 0) {
      this.cwnd = this.ssthresh;
      this.inRecovery = false;
      return false;
    }
    if (this.sackRecovery) return false;
    this.cwnd = Math.max(this.mss, this.cwnd - acked + this.mss);
    return true;
  }
}
