import type { Duration, Instant } from '../../time.js';

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
  /**
   * The segment size the window counts in (recovery inflates and floors the window in these
   * units): init()'s, then the MSS in effect after each change (LINUX tcp_sync_mss; Linux's
   * window is in packets, so its size in bytes follows the MSS).
   */
  mss: number;
  /** The handshake completed: RFC 6928 initial window of `initialCwnd` segments of `mss`. */
  init(mss: number, initialCwnd: number): void;
  /** New data acknowledged outside recovery (LINUX cong_avoid); `srtt` in µs. */
  onAck(acked: number, now: Instant, srtt: number): void;
  /**
   * Optional: data was acknowledged (LINUX pkts_acked), before onAck; `rtt` is this ACK's RTT
   * sample in µs, or -1 when it has none. CUBIC's HyStart runs here.
   */
  onPktsAcked?(rtt: Duration, now: Instant, s: AckedSample): void;
  /** A congestion event (loss detected or timeout): set ssthresh (LINUX ssthresh()). */
  onLoss(flightSize: number): void;
  /**
   * A retransmission timeout: forget per-episode growth state (LINUX set_state(TCP_CA_Loss)).
   * `sndNxt`: the highest sequence sent (LINUX tp->snd_nxt, synack's SND.MAX).
   */
  onRto(now: Instant, sndNxt: number): void;
  /**
   * Optional: the connection was idle (LINUX cwnd_event). 'txStart': data goes out with nothing
   * in flight, `idle` µs after the last data sent (CA_EVENT_TX_START, CUBIC shifts its epoch by
   * it); 'cwndRestart': slow start after idle is about to restart the window (CA_EVENT_CWND_RESTART,
   * before cwndRestart() below changes cwnd and ssthresh). An algorithm without it keeps its state.
   */
  onIdle?(event: IdleEvent, idle: Duration, now: Instant): void;
}

/** What onPktsAcked is told besides the RTT sample (one object reused for every call: do not keep it). */
export interface AckedSample {
  /**
   * SND.UNA after this ACK, and the highest sequence sent (LINUX tp->snd_una, tp->snd_nxt:
   * synack's SND.MAX, as SND.NXT goes back after a timeout).
   */
  sndUna: number;
  sndNxt: number;
  /** The HyStart signals in use (TcpConfig.hystartDetect). */
  hystartDetect: number;
  /** LINUX hystart_ack_delay: how long pacing may hold back ACKs' packets, µs (0: no pacing rate). */
  ackDelay: Duration;
}

/** The idle events of LINUX enum tcp_ca_event the sender raises (onIdle). */
export type IdleEvent = 'txStart' | 'cwndRestart';

/** A registered algorithm: its name and a factory for one connection's state. */
export interface CongestionAlgorithm {
  readonly name: string;
  /** One line for listings (tcp_available_congestion_control, `--help`). */
  readonly description: string;
  /** A new instance for one connection. */
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

/**
 * Slow start after idle, shared by the algorithms (LINUX tcp_cwnd_restart, RFC 2861 §3 as Linux
 * applies it; RFC 5681 §4.1 asks for at most the restart window RW = min(IW, cwnd)): after `idle`
 * µs without sending, halve the window once per RTO that elapsed, but not below
 * min(initial window, cwnd); ssthresh keeps 3/4 of the old window (LINUX tcp_current_ssthresh,
 * unless in a window reduction). Counted in whole segments as Linux's snd_cwnd is.
 */
export function cwndRestart(cc: CongestionControl, idle: Duration, now: Instant, rto: Duration, initialCwnd: number, inReduction: boolean): void {
  cc.onIdle?.('cwndRestart', idle, now);
  const mss = cc.mss;
  const seg = Math.floor(cc.cwnd / mss);
  // LINUX tcp_current_ssthresh: max(ssthresh, cwnd/2 + cwnd/4) in packets.
  if (!inReduction) cc.ssthresh = Math.max(cc.ssthresh, ((seg >> 1) + (seg >> 2)) * mss);
  const restart = Math.min(initialCwnd, seg);
  let cwnd = seg;
  while ((idle -= rto) > 0 && cwnd > restart) cwnd >>= 1;
  if (cwnd !== seg) cc.cwnd = Math.max(cwnd, restart) * mss;
}
