import { seqDiff } from '../seq.js';
import type { Instant } from '../time.js';
import type { Connection, Endpoints } from './connection.js';
import type { TcpErrorCode } from './events.js';
import { assertNever, type TcpStateName } from './state.js';
import type { CaState } from './recovery.js';
import { currentRto } from './rto.js';

/** A connection's state for netstat, viz, tcp_info and tests (RFC 9293 §3.3.1 names). */
export interface ConnSnapshot extends Endpoints {
  state: TcpStateName;
  iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  sndMax: number;
  sndWnd: number;
  sndWl1: number;
  sndWl2: number;
  rcvNxt: number;
  rcvWnd: number;
  sndWscale: number;
  rcvWscale: number;
  mss: number;
  advMss: number;
  peerMss: number;
  timestamps: boolean;
  sack: boolean;
  rto: number;
  srtt: number;
  rttvar: number;
  /** The RTO's backoff exponent (LINUX icsk_backoff, tcpi_backoff). */
  backoff: number;
  /** Timeouts since SND.UNA last advanced (LINUX icsk_retransmits, tcpi_retransmits). */
  retransmits: number;
  cwnd: number;
  ssthresh: number;
  sendQueue: number;
  unacked: number;
  recvQueue: number;
  outOfOrderBytes: number;
  totalRetrans: number;
  /** Linux's congestion-avoidance state machine, as tcp_info reports it (tcpi_ca_state). */
  caState: 'open' | 'disorder' | 'cwr' | 'recovery' | 'loss';
  /** Bytes the peer SACKed above SND.UNA. */
  sackedBytes: number;
  keepaliveProbes: number;
  timers: { name: string; remaining: number }[];
  error: TcpErrorCode | null;
}

export function snapshotOf(c: Connection, now: Instant): ConnSnapshot {
  return {
    state: c.state,
    localAddr: c.localAddr,
    localPort: c.localPort,
    remoteAddr: c.remoteAddr,
    remotePort: c.remotePort,
    iss: c.snd.iss,
    irs: c.rcv.irs,
    sndUna: c.snd.sndUna,
    sndNxt: c.snd.sndNxt,
    sndMax: c.snd.sndMax,
    sndWnd: c.snd.sndWnd,
    sndWl1: c.snd.sndWl1,
    sndWl2: c.snd.sndWl2,
    rcvNxt: c.rcv.rcvNxt,
    rcvWnd: Math.max(0, seqDiff(c.rcv.rcvAdv, c.rcv.rcvNxt)),
    sndWscale: c.sndWscale,
    rcvWscale: c.rcvWscale,
    mss: c.effMss,
    advMss: c.advMss,
    peerMss: c.peerMss,
    timestamps: c.tsEnabled,
    sack: c.sackEnabled,
    rto: currentRto(c),
    srtt: c.snd.rtt.srtt,
    rttvar: c.snd.rtt.rttvar,
    backoff: c.snd.rtoBackoff,
    retransmits: c.snd.retransmits,
    cwnd: c.snd.cc.cwnd,
    ssthresh: c.snd.cc.ssthresh,
    sendQueue: c.snd.sendBuf.length,
    unacked: Math.max(0, seqDiff(c.snd.sndMax, c.snd.sndUna)),
    recvQueue: c.rcv.recvBuf.length,
    outOfOrderBytes: c.rcv.reasm.bytes,
    totalRetrans: c.snd.totalRetrans,
    caState: caStateName(c.snd.rec.state),
    sackedBytes: c.snd.rec.sb.sackedBytes,
    keepaliveProbes: c.keepaliveProbes,
    timers: c.timers.list().map((t) => ({ name: t.name, remaining: t.at - now })),
    error: c.error,
  };
}

/** tcp_info's spelling of the recovery state (LINUX tcpi_ca_state). */
function caStateName(s: CaState): ConnSnapshot['caState'] {
  switch (s) {
    case 'Open': return 'open';
    case 'Disorder': return 'disorder';
    case 'CWR': return 'cwr';
    case 'Recovery': return 'recovery';
    case 'Loss': return 'loss';
    default: return assertNever(s, 'recovery state');
  }
}
