import type { Duration, Instant } from '../../time.js';
import type { CongestionAlgorithm, CongestionControl, IdleEvent } from './control.js';
import { slowStart } from './control.js';

/** RFC 9438 §4.6 β_cubic and §5 C. */
const BETA_CUBIC = 0.7;
const C_CUBIC = 0.4;
/** RFC 9438 §4.3: α_cubic = 3(1 − β)/(1 + β) makes the Reno-friendly estimate fair to Reno. */
const ALPHA_CUBIC = (3 * (1 - BETA_CUBIC)) / (1 + BETA_CUBIC);

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

  init(mss: number, initialCwnd: number): void {
    this.mss = mss;
    this.cwnd = initialCwnd * mss;
  }

  /** RFC 9438 §4.2–4.4: grow towards W_cubic(t + RTT), never slower than the Reno estimate. */
  onAck(acked: number, now: Instant, srtt: number): void {
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
    const t = (now - this.epochStart + srtt) / 1e6;
    const target = (C_CUBIC * (t - this.k) ** 3 + this.wMax / mss) * mss;
    // §4.3 Reno-friendly region: W_est grows by α_cubic MSS per window acknowledged.
    this.wEst += (ALPHA_CUBIC * mss * acked) / this.cwnd;
    let goal = Math.max(target, this.wEst);
    // §4.4: never more than 1.5× the window per RTT.
    goal = Math.min(goal, 1.5 * this.cwnd);
    if (goal > this.cwnd) this.cwnd += ((goal - this.cwnd) * acked) / this.cwnd;
  }

  /** RFC 9438 §4.6 multiplicative decrease, §4.7 fast convergence. */
  onLoss(): void {
    // §4.7: release bandwidth when the window did not regain W_max.
    this.wMax = this.cwnd < this.wMax ? (this.cwnd * (1 + BETA_CUBIC)) / 2 : this.cwnd;
    this.ssthresh = Math.max(Math.floor(this.cwnd * BETA_CUBIC), 2 * this.mss);
    this.epochStart = -1;
  }

  onRto(): void {
    // The epoch restarts at the next loss or the next ACK after onLoss; nothing else to forget.
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

export const cubic: CongestionAlgorithm = {
  name: 'cubic',
  description: 'CUBIC (RFC 9438), the Linux default',
  create: () => new Cubic(),
};
