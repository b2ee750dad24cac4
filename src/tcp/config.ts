import { congestionControlName, congestionControlNames } from './congestion/registry.js';
import { ms, sec, type Duration } from '../time.js';

/**
 * Per-connection options. Every default follows Linux where the RFCs leave a choice
 * (DESIGN.md "Linux-compatible defaults"); each is named after the sysctl or socket option it
 * mirrors so users can find it.
 */
export interface TcpConfig {
  /** tcp_syn_retries: SYN retransmissions before ETIMEDOUT. LINUX: 6 (RFC 9293 suggests ≥ 3 minutes total). */
  synRetries: number;
  /**
   * tcp_syn_linear_timeouts (Linux 6.5+, default 4 there): this many SYN retransmissions keep the
   * initial RTO before doubling starts. 0 here, the classic doubling of the seed articles
   * (SYNs at 0, 1, 3, 7, 15, 31, 63 s).
   */
  synLinearTimeouts: number;
  /** tcp_synack_retries. LINUX: 5. */
  synAckRetries: number;
  /** tcp_retries2: data retransmissions before giving up. LINUX: 15. */
  retries2: number;
  /** Initial RTO (RFC 6298 §2.1: 1 s). */
  initialRto: Duration;
  /** LINUX: TCP_RTO_MIN 200 ms (RFC 6298 §2.4 says 1 s). */
  minRto: Duration;
  /** TCP_RTO_MAX 120 s (RFC 6298 §2.5 allows a maximum of at least 60 s); LINUX TCP_RTO_MAX_MS sets it per socket (1-120 s). */
  maxRto: Duration;
  /** 2MSL: TIME_WAIT length. LINUX: TCP_TIMEWAIT_LEN 60 s (RFC 9293 §3.4.2 MSL = 2 min). */
  timeWait: Duration;
  /** tcp_fin_timeout: how long an orphaned FIN_WAIT_2 connection waits for the peer's FIN. */
  finTimeout: Duration;
  /** SO_KEEPALIVE. */
  keepAlive: boolean;
  /** TCP_KEEPIDLE / tcp_keepalive_time: 7200 s. */
  keepIdle: Duration;
  /** TCP_KEEPINTVL / tcp_keepalive_intvl: 75 s. */
  keepInterval: Duration;
  /** TCP_KEEPCNT / tcp_keepalive_probes: 9. */
  keepCount: number;
  /** SO_LINGER: null = off; 0 = abortive close (RST); > 0 = close waits up to this long. */
  linger: Duration | null;
  /**
   * What happens when a linger timeout expires before the data and FIN are acknowledged.
   * 'reset' (default): close reports EWOULDBLOCK, unsent data is discarded and the connection is
   * reset, as the seed article (after UNP) describes. 'orphan': LINUX: close returns and the
   * connection goes on closing in the background.
   */
  lingerTimeoutAction: 'reset' | 'orphan';
  /** TCP_USER_TIMEOUT (RFC 5482): 0 = off. */
  userTimeout: Duration;
  /** TCP_NODELAY: disables Nagle (RFC 9293 §3.7.4). */
  noDelay: boolean;
  /**
   * net.ipv4.tcp_ecn (RFC 3168, tcp/ecn.ts): 0 off; 1 ask for ECN on active opens and accept it;
   * 2 accept it when the peer asks (LINUX default).
   */
  ecn: number;
  /**
   * IP_TOS / IPV6_TCLASS: the DSCP bits of the TOS byte on the connection's segments (the ECN
   * field stays TCP's: LINUX __ip_sock_set_tos masks INET_ECN_MASK for stream sockets).
   */
  tos: number;
  /**
   * TCP_CORK (LINUX TCP_NAGLE_CORK): hold a partial last segment until uncorked (or the
   * zero-window probe timer sends it); full segments go (cork.ts).
   */
  cork: boolean;
  /**
   * IP_MTU_DISCOVER (LINUX IP_PMTUDISC_DONT 0, WANT 1, DO 2 the TCP default, PROBE 3): with DONT
   * (0) the connection ignores Fragmentation Needed / Packet Too Big (tcp_v4_mtu_reduced).
   */
  pmtuDisc: number;
  /**
   * TCP_NOTSENT_LOWAT (LINUX tcp_notsent_lowat; the sysctl sets the default, UINT_MAX = off):
   * the application may queue a new chunk only while fewer unsent bytes than this are queued,
   * and the socket polls writable only while twice the unsent bytes are below it.
   */
  notsentLowat: number;
  /** TCP_MAXSEG: clamp on the MSS we announce and use; 0 = from the link MTU. */
  maxSeg: number;
  /** SO_SNDBUF in bytes. LINUX: tcp_wmem[1] 16384 grows by autotuning; we start larger. */
  sendBuffer: number;
  /** SO_RCVBUF in bytes. LINUX: tcp_rmem[1] = 131072. Grows by auto-tuning unless set by the user. */
  recvBuffer: number;
  /** LINUX tcp_moderate_rcvbuf: grow the receive buffer to what the application reads per RTT. */
  moderateRcvbuf: boolean;
  /** LINUX tcp_rmem[2]: the most auto-tuning may grow the receive buffer to (6 MiB). */
  recvBufferMax: number;
  /** tcp_sack (RFC 2018). */
  sack: boolean;
  /** tcp_timestamps (RFC 7323). */
  timestamps: boolean;
  /** tcp_window_scaling (RFC 7323). */
  windowScaling: boolean;
  /** Window scale we announce. LINUX: 7 for the default tcp_rmem[2] of 6 MiB. */
  wscale: number;
  /** Initial congestion window in segments (RFC 6928). */
  initialCwnd: number;
  /** Minimum delayed-ACK timeout. LINUX: TCP_DELACK_MIN 40 ms (RFC 9293 §3.8.6.3 allows up to 500 ms). */
  delAckMin: Duration;
  /** LINUX: TCP_DELACK_MAX 200 ms. */
  delAckMax: Duration;
  /** LINUX: quick-ACK segments at connection start (TCP_MAX_QUICKACKS). */
  quickAcks: number;
  /** LINUX: tcp_invalid_ratelimit 500 ms: at most one challenge/out-of-window ACK per this time. */
  invalidRateLimit: Duration;
  /** LINUX: the RTO lower bound used for the first retransmission of a SYN (same as initialRto). */
  /**
   * tcp_congestion_control: a name registered in congestion/registry.ts ('cubic', the Linux
   * default, or 'reno'; 'newreno' is kept as another name for 'reno').
   */
  congestionControl: string;
  /**
   * tcp_slow_start_after_idle (LINUX default 1): after more than an RTO without sending, the
   * congestion window restarts (RFC 5681 §4.1, RFC 2861; LINUX tcp_cwnd_restart).
   */
  slowStartAfterIdle: boolean;
  /**
   * tcp_frto (LINUX default 2): F-RTO (RFC 5682) detects spurious retransmission timeouts and
   * undoes them (recovery.ts processLoss). Linux runs the same SACK-enhanced algorithm (§3) for
   * any non-zero value; 0 turns it off.
   */
  frto: number;
  /**
   * CUBIC's HyStart (LINUX tcp_cubic module parameter hystart_detect, default 3): which signals end
   * slow start early — 1 the ACK train (ACKs spaced under 2 ms spanning half the minimum RTT),
   * 2 the delay (a round's minimum RTT 1/8 above the connection's), 3 both; 0 turns HyStart off
   * (as the module's hystart=0).
   */
  hystartDetect: number;
  /**
   * tcp_min_tso_segs (LINUX default 2): the fewest segments in one TSO packet (tcp_tso_autosize).
   * synack sends segments of one MSS, but marks PSH where Linux's TSO packets end (sender.ts).
   */
  minTsoSegs: number;
  /**
   * tcp_mtu_probing (LINUX default 0): packetization-layer path MTU discovery (RFC 4821,
   * mtu-probe.ts). 0 off; 1 only once retransmission timeouts suggest an ICMP black hole
   * (tcp_retries1 worth of them); 2 always, starting from tcpBaseMss.
   */
  mtuProbing: number;
  /** tcp_base_mss (LINUX 1024): the segment size probing starts from (search_low). */
  baseMss: number;
  /** tcp_probe_threshold (LINUX 8 bytes): the search stops when its range is narrower. */
  probeThreshold: number;
  /** tcp_probe_interval (LINUX 600 s): a finished search starts again after this long. */
  probeInterval: number;
  /** tcp_mtu_probe_floor (LINUX 48): black-hole detection never lowers the MSS below this. */
  mtuProbeFloor: number;
  /** tcp_retries1 (LINUX 3): timeouts' worth of time after which a black hole is suspected. */
  retries1: number;
}

/** Linux's default for every TCP option (what a connection gets unless told otherwise). */
export const DEFAULT_CONFIG: Readonly<TcpConfig> = Object.freeze({
  synRetries: 6,
  synLinearTimeouts: 0,
  synAckRetries: 5,
  retries2: 15,
  initialRto: sec(1),
  minRto: ms(200),
  maxRto: sec(120),
  timeWait: sec(60),
  finTimeout: sec(60),
  keepAlive: false,
  keepIdle: sec(7200),
  keepInterval: sec(75),
  keepCount: 9,
  linger: null,
  lingerTimeoutAction: 'reset',
  userTimeout: 0,
  noDelay: false,
  ecn: 2,
  tos: 0,
  cork: false,
  pmtuDisc: 2,
  notsentLowat: 0xffffffff,
  maxSeg: 0,
  sendBuffer: 1 << 20,
  recvBuffer: 131072,
  moderateRcvbuf: true,
  recvBufferMax: 6 << 20,
  sack: true,
  timestamps: true,
  windowScaling: true,
  wscale: 7,
  initialCwnd: 10,
  delAckMin: ms(40),
  delAckMax: ms(200),
  quickAcks: 16,
  invalidRateLimit: ms(500),
  congestionControl: 'cubic',
  slowStartAfterIdle: true,
  frto: 2,
  hystartDetect: 3,
  minTsoSegs: 2,
  mtuProbing: 0,
  baseMss: 1024,
  probeThreshold: 8,
  probeInterval: sec(600),
  mtuProbeFloor: 48,
  retries1: 3,
});

const NUMERIC_MIN: Partial<Record<keyof TcpConfig, number>> = {
  synRetries: 0, synLinearTimeouts: 0, synAckRetries: 0, retries2: 0, initialRto: 1, minRto: 1, maxRto: 1, timeWait: 0,
  finTimeout: 0, keepIdle: 1, keepInterval: 1, keepCount: 1, userTimeout: 0, notsentLowat: 1, maxSeg: 0,
  sendBuffer: 1, recvBuffer: 1, recvBufferMax: 1, wscale: 0, initialCwnd: 1, delAckMin: 0, delAckMax: 0, quickAcks: 0,
  invalidRateLimit: 0, minTsoSegs: 1, frto: 0,
  mtuProbing: 0, baseMss: 48, probeThreshold: 0, probeInterval: 0, mtuProbeFloor: 48, retries1: 0,
};

/** Merge user options over defaults, rejecting bad values with an error naming the option. */
export function makeConfig(base: Readonly<TcpConfig>, opts?: Partial<TcpConfig>): TcpConfig {
  const c: TcpConfig = { ...base };
  if (!opts) return c;
  for (const [k, v] of Object.entries(opts) as [keyof TcpConfig, unknown][]) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_CONFIG)) throw new TypeError(`unknown TCP option '${k}'`);
    const def = DEFAULT_CONFIG[k];
    if (k === 'linger') {
      if (v !== null && (typeof v !== 'number' || !(v >= 0))) {
        throw new RangeError(`option 'linger' must be null or a duration >= 0, got ${String(v)}`);
      }
    } else if (typeof def === 'number') {
      const min = NUMERIC_MIN[k] ?? 0;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
        throw new RangeError(`option '${k}' must be a number >= ${min}, got ${String(v)}`);
      }
      if (k === 'hystartDetect' && (v > 3 || !Number.isInteger(v))) throw new RangeError(`option 'hystartDetect' must be 0, 1, 2 or 3 (hystart_detect), got ${v}`);
      if (k === 'frto' && v > 2) throw new RangeError(`option 'frto' must be 0, 1 or 2 (tcp_frto), got ${v}`);
      if (k === 'mtuProbing' && (v > 2 || !Number.isInteger(v))) throw new RangeError(`option 'mtuProbing' must be 0, 1 or 2 (tcp_mtu_probing), got ${v}`);
      if (k === 'tos' && v > 255) throw new RangeError(`option 'tos' must be a TOS byte (0-255), got ${v}`);
      if (k === 'pmtuDisc' && v > 5) throw new RangeError(`option 'pmtuDisc' must be an IP_PMTUDISC_* value (0-5), got ${v}`);
      if (k === 'wscale' && v > 14) throw new RangeError(`option 'wscale' must be <= 14 (RFC 7323 §2.3), got ${v}`);
    } else if (typeof def === 'boolean') {
      if (typeof v !== 'boolean') throw new TypeError(`option '${k}' must be a boolean, got ${String(v)}`);
    } else if (k === 'congestionControl') {
      const name = congestionControlName(v);
      if (name === null) throw new RangeError(`option 'congestionControl' must be one of ${congestionControlNames().join(', ')}, got ${String(v)}`);
      c.congestionControl = name;
      continue;
    } else if (k === 'lingerTimeoutAction') {
      if (v !== 'reset' && v !== 'orphan') throw new RangeError(`option 'lingerTimeoutAction' must be 'reset' or 'orphan', got ${String(v)}`);
    }
    (c as unknown as Record<string, unknown>)[k] = v;
  }
  return c;
}
