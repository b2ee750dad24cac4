import type { Duration } from '../time.js';

/**
 * RTO estimation (RFC 6298 §2): SRTT/RTTVAR with alpha = 1/8, beta = 1/4, K = 4, clamped to
 * [minRto, maxRto]. Karn's rule (§3) is the caller's: samples never come from retransmitted
 * segments unless timestamps disambiguate them (RFC 7323 §4).
 */
export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** Latest sample. */
  latest = 0;
  /** Whether any sample has been taken. */
  hasSample = false;
  rto: Duration;

  constructor(
    initialRto: Duration,
    private readonly minRto: Duration,
    private readonly maxRto: Duration,
  ) {
    this.rto = initialRto;
  }

  sample(r: Duration): void {
    if (!(r >= 0)) return;
    this.latest = r;
    if (!this.hasSample) {
      // RFC 6298 §2.2
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      // RFC 6298 §2.3
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    // RFC 6298 §2.3 (G is clock granularity; ours is 1 µs); §2.4 minimum; §2.5 maximum.
    // LINUX: the minimum is 200 ms and RTTVAR is floored at it too (tcp_rtt_estimator/ tcp_set_rto).
    // Whole microseconds keep virtual time free of fractions.
    this.rto = Math.round(Math.min(this.maxRto, Math.max(this.minRto, this.srtt + Math.max(4 * this.rttvar, this.minRto))));
  }
}
