import type { CongestionAlgorithm, CongestionControl } from './control.js';
import { slowStart } from './control.js';

/**
 * Reno congestion avoidance (RFC 5681 §3.1): one MSS per window acknowledged, half the flight
 * at a loss (equation 4). Fast recovery's NewReno inflation (RFC 6582) is recovery.ts's.
 * LINUX tcp_reno_cong_avoid / tcp_reno_ssthresh.
 */
class Reno implements CongestionControl {
  readonly name = 'reno';
  cwnd = 0;
  ssthresh = 0x7fffffff;
  mss = 536;
  /** Bytes acked since cwnd last grew in congestion avoidance. */
  private ackedInCa = 0;

  init(mss: number, initialCwnd: number): void {
    this.mss = mss;
    this.cwnd = initialCwnd * mss;
  }

  onAck(acked: number): void {
    acked = slowStart(this, acked);
    if (acked <= 0) return;
    // RFC 5681 §3.1 equation 3: about one MSS per RTT.
    this.ackedInCa += acked;
    if (this.ackedInCa >= this.cwnd) {
      this.ackedInCa -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onLoss(flightSize: number): void {
    // RFC 5681 §3.1 equation 4.
    this.ssthresh = Math.max(Math.floor(flightSize / 2), 2 * this.mss);
  }

  onRto(): void {
    this.ackedInCa = 0;
  }
}

export const reno: CongestionAlgorithm = {
  name: 'reno',
  description: 'Reno/NewReno (RFC 5681, RFC 6582)',
  create: () => new Reno(),
};
