/**
 * Congestion control behind a small interface (RFC 5681). The window is kept in bytes.
 * This is the basic algorithm: slow start with IW10 (RFC 6928), congestion avoidance, the loss
 * window after a retransmission timeout. NewReno fast recovery (RFC 6582) and CUBIC (RFC 9438)
 * plug in here (the data-path issue); `kind` already records which one the connection asked for.
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
  }
}
