import { type SeqNum, seqGt } from '../seq.js';
import type { Duration } from '../time.js';

/**
 * RTO estimation as Linux does it (LINUX tcp_rtt_estimator, tcp_set_rto, tcp_bound_rto): RFC 6298
 * §2's SRTT (gain 1/8) and RTO = SRTT + 4·mean deviation, with three differences Linux has kept
 * since Van Jacobson's code. A sample below SRTT moves the deviation by 1/32 of its excess, not
 * 1/4 (an Eifel-like damping: a falling RTT neither raises nor drops the RTO fast); the RTO's
 * variance term (RTTVAR, LINUX rttvar_us) follows the largest deviation seen in a round trip at
 * once and falls back by 1/4 of its excess once per round trip (when SND.UNA passes the
 * SND.NXT of the last decay), not with every sample; and it never falls below minRto, which is
 * how the 200 ms minimum RTO comes about. Karn's rule (RFC 6298 §3) is the caller's: samples
 * never come from retransmitted segments unless timestamps disambiguate them (RFC 7323 §4).
 */
export class RttEstimator {
  /** Smoothed RTT, µs (LINUX srtt_us >> 3). */
  get srtt(): number {
    return Math.floor(this.srtt8 / 8);
  }
  /** The variance term of the RTO over 4, µs (LINUX rttvar_us / 4, what tcpi_rttvar reports). */
  get rttvar(): number {
    return this.rttvar4 / 4;
  }
  /** Latest sample. */
  latest = 0;
  /** Whether any sample has been taken. */
  hasSample = false;
  rto: Duration;
  // Linux's fixed point, in whole µs (LINUX tcp_rtt_estimator's integer arithmetic): small
  // integers V8 keeps in the object. Fractions (srtt + m / 8) made these fields doubles, and V8
  // then boxes such a field in every RttEstimator of the process.
  /** LINUX srtt_us: 8 × the smoothed RTT, µs. */
  private srtt8 = 0;
  /** LINUX mdev_us: 4 × the smoothed mean deviation, µs. */
  private mdev4 = 0;
  /** LINUX mdev_max_us: the largest mdev4 of this round trip (at least minRto). */
  private mdevMax = 0;
  /** LINUX rttvar_us: 4 × RTTVAR, µs. */
  private rttvar4 = 0;
  /** LINUX rtt_seq: the round trip ends when SND.UNA passes it (int32: no boxed number, see sender.ts). */
  #rttSeq = 0;

  constructor(initialRto: Duration) {
    this.rto = initialRto;
  }

  /**
   * A sample `r` µs, taken when SND.UNA is `sndUna` and the highest sequence sent `sndNxt`, with
   * the connection's RTO bounds now (LINUX tcp_rto_min_us, tcp_rto_max: socket options can move them).
   */
  sample(r: Duration, sndUna: SeqNum, sndNxt: SeqNum, minRto: Duration, maxRto: Duration): void {
    if (!(r >= 0)) return;
    r = Math.floor(r);
    this.latest = r;
    if (!this.hasSample) {
      // LINUX: "make sure rto = 3*rtt" (RFC 6298 §2.2: RTTVAR = R/2).
      this.srtt8 = Math.max(1, 8 * r);
      this.mdev4 = 2 * r;
      this.rttvar4 = Math.max(this.mdev4, minRto);
      this.mdevMax = this.rttvar4;
      this.#rttSeq = sndNxt | 0;
      this.hasSample = true;
    } else {
      let m = r - Math.floor(this.srtt8 / 8); // the error in the estimate
      this.srtt8 = Math.max(1, this.srtt8 + m); // srtt = 7/8 srtt + 1/8 r
      if (m < 0) {
        m = -m - Math.floor(this.mdev4 / 4);
        if (m > 0) m = Math.floor(m / 8); // LINUX: "we use finer gain for mdev in this case (alpha*beta)"
      } else {
        m -= Math.floor(this.mdev4 / 4);
      }
      this.mdev4 += m; // mdev = 3/4 mdev + 1/4 |error|
      if (this.mdev4 > this.mdevMax) {
        this.mdevMax = this.mdev4;
        if (this.mdevMax > this.rttvar4) this.rttvar4 = this.mdevMax;
      }
      if (seqGt(sndUna, this.#rttSeq >>> 0)) {
        if (this.mdevMax < this.rttvar4) this.rttvar4 -= Math.floor((this.rttvar4 - this.mdevMax) / 4);
        this.#rttSeq = sndNxt | 0;
        this.mdevMax = minRto;
      }
    }
    // LINUX __tcp_set_rto, tcp_bound_rto: RTTVAR's floor makes the minimum; RFC 6298 §2.5 maximum.
    this.rto = Math.min(maxRto, Math.floor(this.srtt8 / 8) + this.rttvar4);
  }
}
