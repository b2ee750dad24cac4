/**
 * Congestion control behind a small interface (RFC 5681). The window is kept in bytes.
 * Slow start with IW10 (RFC 6928), congestion avoidance, the loss window after a retransmission
 * timeout, fast retransmit and NewReno fast recovery (RFC 6582). CUBIC (RFC 9438) and SACK-based
 * recovery plug in here (the data-path issue); `kind` already records which one was asked for.
 */
export class Congestion {
  cwnd = 0;
  ssthresh = 0x7fffffff;
  private mss = 536;
  /** Bytes acked since cwnd last grew in congestion avoidance. */
  private ackedInCa = 0;

  constructor(readonly kind: 'cubic' | 'newreno') {}

  /** Connection established: RFC 6928 initial window (IW segments of the effective MSS). */
  init(mss: number, initialCwnd: number): void {
    this.mss = mss;
    this.cwnd = initialCwnd * mss;
  }

  /** New data acknowledged (RFC 5681 §3.1). */
  onAck(acked: number): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start: grow by at most one MSS per ACK (RFC 5681 §3.1, equation 2; RFC 3465 L=1).
      this.cwnd += Math.min(acked, this.mss);
    } else {
      // Congestion avoidance: about one MSS per RTT (RFC 5681 §3.1, equation 3).
      this.ackedInCa += acked;
      if (this.ackedInCa >= this.cwnd) {
        this.ackedInCa -= this.cwnd;
        this.cwnd += this.mss;
      }
    }
  }

  /** Retransmission timeout (RFC 5681 §3.1, equations 4 and 5). */
  onRto(flightSize: number): void {
    this.ssthresh = Math.max(Math.floor(flightSize / 2), 2 * this.mss);
    this.cwnd = this.mss;
    this.ackedInCa = 0;
    this.inRecovery = false;
  }

  /** In fast recovery (RFC 6582) until `recover` is acknowledged. */
  inRecovery = false;
  private recover = 0;

  /** Third duplicate ACK (RFC 5681 §3.2 steps 2–3, RFC 6582 §3.2 step 1). */
  enterRecovery(flightSize: number, sndMax: number): void {
    this.ssthresh = Math.max(Math.floor(flightSize / 2), 2 * this.mss);
    this.cwnd = this.ssthresh + 3 * this.mss;
    this.recover = sndMax;
    this.inRecovery = true;
  }

  /** Each further duplicate ACK inflates the window (RFC 5681 §3.2 step 4). */
  onDupAck(): void {
    this.cwnd += this.mss;
  }

  /**
   * An ACK of new data during recovery. Full ACK (covers `recover`): deflate to ssthresh and leave
   * (RFC 6582 §3.2 step 3). Partial ACK: deflate by the amount acked, add back one MSS, and
   * return true: the next unacknowledged segment must be retransmitted (step 4).
   */
  onRecoveryAck(ack: number, acked: number): boolean {
    if (((ack - this.recover) | 0) >= 0) {
      this.cwnd = Math.min(this.ssthresh, this.cwnd);
      this.inRecovery = false;
      return false;
    }
    this.cwnd = Math.max(this.mss, this.cwnd - acked + this.mss);
    return true;
  }
}
