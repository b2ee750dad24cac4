import type { Instant } from '../../time.js';

/**
 * One congestion-control algorithm's window, behind the small interface the connection calls
 * (LINUX struct tcp_congestion_ops; quinn-proto's `Controller`; gVisor's congestionControl).
 * The window is in bytes. Loss recovery (recovery.ts) decides when each hook runs and does what
 * every algorithm shares: the recovery window, NewReno inflation, undo.
 *
 * To add an algorithm: one file in this directory exporting a `CongestionAlgorithm`, and one
 * entry in registry.ts's BUILTIN list (docs/congestion-control.md).
 */
export interface CongestionControl {
  /** The name the registry knows this algorithm by (LINUX tcp_congestion_ops.name). */
  readonly name: string;
  /** Congestion window, bytes (may be fractional: whole bytes are taken by the sender). */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh: number;
  /** The segment size init() gave (recovery inflates and floors the window in these units). */
  readonly mss: number;
  /** The handshake completed: RFC 6928 initial window of `initialCwnd` segments of `mss`. */
  init(mss: number, initialCwnd: number): void;
  /** New data acknowledged outside recovery (LINUX cong_avoid); `srtt` in µs. */
  onAck(acked: number, now: Instant, srtt: number): void;
  /** A congestion event (loss detected or timeout): set ssthresh (LINUX ssthresh()). */
  onLoss(flightSize: number): void;
  /** A retransmission timeout: forget per-episode growth state (LINUX CA_EVENT_LOSS). */
  onRto(): void;
}

/** A registered algorithm: its name and a factory for one connection's state. */
export interface CongestionAlgorithm {
  readonly name: string;
  /** One line for listings (tcp_available_congestion_control, `--help`). */
  readonly description: string;
  create(): CongestionControl;
}

/**
 * Slow start (RFC 5681 §3.1), shared by the algorithms: grow by what was acknowledged. LINUX
 * tcp_slow_start counts every segment an ACK covers (no RFC 3465 L limit), stopping at ssthresh;
 * returns what is left of `acked` for congestion avoidance (0 while still in slow start).
 */
export function slowStart(cc: CongestionControl, acked: number): number {
  if (cc.cwnd >= cc.ssthresh) return acked;
  const grown = Math.min(cc.cwnd + acked, Math.max(cc.ssthresh, cc.cwnd));
  acked -= grown - cc.cwnd;
  cc.cwnd = grown;
  if (acked <= 0 || cc.cwnd < cc.ssthresh) return 0;
  return acked;
}
