import { seqAdd, seqDiff, seqGt, type SeqNum } from '../seq.js';
import { EV, stateEvent } from './events.js';
import { NEVER, type Instant } from '../time.js';
import type { TcpRepr } from '../wire/tcp-repr.js';
import { makeConfig, DEFAULT_CONFIG, type TcpConfig } from './config.js';
import type { ConnEvent, TcpErrorCode } from './events.js';
import { ERROR_MESSAGES } from './events.js';
import { Reassembly } from './reassembly.js';
import { rcvMemRoom } from './rmem.js';
import { ByteRing } from './ring.js';
import { RttEstimator } from './rtt.js';
import { isSynchronized, type TcpStateName } from './state.js';
import { Timer, TimerTable } from './timers.js';
import { isLegalTransition } from './transitions.js';
import { onSegment } from './input.js';
import { pollTransmit } from './output.js';
import { onTimer } from './timer-handlers.js';
import { createCongestionControl, type CongestionControl } from './congestion/registry.js';
import { Recovery } from './recovery.js';
import { snapshotOf, type ConnSnapshot } from './snapshot.js';
export type { ConnSnapshot } from './snapshot.js';
import { TcpUsageError } from '../errors.js';
import { bump, newMib, type Mib } from '../mib.js';
import { Work } from './work.js';

/** The four numbers that name a connection. */
export interface Endpoints {
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
}

/** Counters shared with the stack (MIB/nstat names, typed in src/mib.ts), incremented in place. */
export { bump, type Mib };

export interface ConnectionInit extends Endpoints {
  /** Initial send sequence number (RFC 6528), from the stack's generator. */
  iss: SeqNum;
  /** Our MSS from the link MTU (RFC 9293 §3.7.1: MTU minus fixed IP and TCP headers). */
  linkMss: number;
  /** IPv6 connections default to MSS 1220 when the peer sends none (RFC 9293 §3.7.1). */
  ipv6: boolean;
  /** Timestamp-clock offset for this connection (LINUX: per-connection random offset). */
  tsOffset: number;
  config?: Partial<TcpConfig>;
  /** Defaults the stack applies before `config` (its sysctls). */
  base?: Readonly<TcpConfig>;
  mib?: Mib;
}

/**
 * One TCP connection's control block and behaviour: the sans-I/O core (DESIGN.md principle 1).
 * Inputs: `onSegment(now, seg)`, user calls, `onTimeout(now)`. Outputs are pulled:
 * `pollTransmit(now, out)`, `pollEvent()`, `nextDeadline()`.
 *
 * Where things live: segment arrival (RFC 9293 §3.10.7) in input.ts — SYN_SENT in
 * input-syn-sent.ts, SYN_RECEIVED and the synchronized states in input.ts; segment
 * construction in output.ts; timers in timer-handlers.ts.
 */
export class Connection implements Endpoints {
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  /**
   * This connection's settings. Connections with the stack's defaults share one frozen object
   * (a config copy per connection cost ~280 B); change settings only through ownConfig().
   */
  config: Readonly<TcpConfig>;
  readonly mib: Mib;
  readonly ipv6: boolean;

  state: TcpStateName = 'CLOSED';
  /** Active open (connect) or passive (a child of a listener). */
  passive = false;

  // RFC 9293 §3.3.1 send sequence variables.
  iss: SeqNum;
  sndUna: SeqNum;
  sndNxt: SeqNum;
  /** Highest sequence number sent (sndNxt goes back on retransmission timeout; this does not). */
  sndMax: SeqNum;
  sndWnd = 0;
  sndWl1: SeqNum = 0;
  sndWl2: SeqNum = 0;
  /** Largest window the peer ever offered (RFC 9293 §3.8.6.2.1, RFC 5961 §5.2 MAX.SND.WND). */
  maxSndWnd = 0;
  // Receive sequence variables.
  irs: SeqNum = 0;
  rcvNxt: SeqNum = 0;
  /** Right edge of the window we last advertised (never moved left: RFC 9293 §3.8.6.2.2). */
  rcvAdv: SeqNum = 0;

  // Negotiated options.
  /** Our announced MSS. */
  advMss: number;
  /** Peer's MSS (536 / 1220 when it sent none). */
  peerMss: number;
  sndWscale = 0;
  rcvWscale = 0;
  wsEnabled = false;
  tsEnabled = false;
  sackEnabled = false;
  tsRecent = 0;
  readonly tsOffset: number;

  // Buffers.
  readonly sendBuf: ByteRing;
  /** Sequence number of sendBuf's first byte. */
  sndBufSeq: SeqNum;
  readonly recvBuf: ByteRing;
  readonly reasm = new Reassembly();
  /** Sequence number of a FIN that arrived ahead of missing data. */
  oooFinSeq: SeqNum | null = null;
  /** The stack's idle-buffer sweep holds this connection (its rings own memory). */
  inBufferSweep = false;

  // Close bookkeeping.
  /** The user has shut down the send side (FIN queued at sndBufSeq + sendBuf.length). */
  finQueued = false;
  /** The peer's FIN has been received (in order). */
  finReceived = false;
  /** The user called close(): the connection is an orphan. */
  userClosed = false;
  /** The user shut down the receive side. */
  readShutdown = false;
  lingerPending = false;

  /** What the output engine owes the peer: one bitset of work.ts `Work` bits, served in bit order. */
  pending = 0;
  /** The instant of the current transmit burst and how many data segments it has sent (PSH). */
  burstAt: Instant = -1;
  burstSegs = 0;
  /** A D-SACK block to report in the next ACK (RFC 2883): [start, end), or start === end for none. */
  dsackStart: SeqNum = 0;
  dsackEnd: SeqNum = 0;
  /** SEG.SEQ of the RST answering one bad segment (Work.REPLY_RST; e.g. an unacceptable ACK in SYN_SENT). */
  replyRstSeq: SeqNum = 0;
  /** RCV.NXT carried by the last ACK we sent (RFC 7323 §4.3 Last.ACK.sent). */
  lastAckSent: SeqNum = 0;
  /** Bytes received in order since the last ACK we sent (delayed-ACK decision). */
  bytesSinceAck = 0;
  /** LINUX icsk_ack.rcv_mss: estimate of the peer's segment size. */
  rcvMss = 536;
  /**
   * LINUX rcv_ssthresh: the window starts at the SYN's window (64240 for MSS 1460) and grows
   * as data arrives, up to the receive buffer, instead of offering the whole buffer at once.
   */
  rcvClamp = 65535;

  readonly timers = new TimerTable();
  readonly rtt: RttEstimator;
  /** The congestion-control algorithm's window (congestion/, chosen by config.congestionControl). */
  readonly cc: CongestionControl;
  /** Loss recovery: its state (Open … Loss), the SACK scoreboard, RACK and undo (recovery.ts). */
  readonly rec: Recovery;
  /** Consecutive retransmission timeouts (backoff exponent). */
  backoff = 0;
  /**
   * Since when the oldest outstanding data has been waiting for its ACK (its send time, or the
   * last ACK that advanced SND.UNA past older data): the TCP_USER_TIMEOUT clock (RFC 5482).
   */
  unackedSince: Instant = NEVER;
  /** Non-timestamp RTT timing of one segment (Karn's rule: cleared by retransmission). */
  rttSeq: SeqNum = 0;
  rttStart: Instant = NEVER;
  keepaliveProbes = 0;
  persistBackoff = 0;
  /** Zero-window probes sent since the peer last answered. */
  persistProbes = 0;
  lastRecv: Instant = 0;
  lastSend: Instant = 0;
  quickAcks: number;
  lastOowAck: Instant = -NEVER;
  /** Segments retransmitted over the life of the connection (tcpi_total_retrans). */
  totalRetrans = 0;

  /** The error that closed the connection, if any. */
  error: TcpErrorCode | null = null;
  /**
   * The event queue: four slots in the TCB as a ring (a connection's events between two drains
   * rarely number more), then an overflow array made only when needed. An array per connection
   * cost an allocation per burst of events (~15 % of a short connection's allocation, bench cps).
   */
  private ev0: ConnEvent | undefined = undefined;
  private ev1: ConnEvent | undefined = undefined;
  private ev2: ConnEvent | undefined = undefined;
  private ev3: ConnEvent | undefined = undefined;
  private evHead = 0;
  private evCount = 0;
  /** Events queued behind a full ring, oldest first (null when none). */
  private evMore: ConnEvent[] | null = null;
  /** Opaque owner slot for the stack (listener, socket handle ...). */
  owner: unknown = null;
  /** The stack's timer-queue slot (util/heap.ts HeapItem). */
  heapIndex = -1;
  heapKey = 0;
  heapSeq = 0;

  constructor(init: ConnectionInit) {
    this.localAddr = init.localAddr;
    this.localPort = init.localPort;
    this.remoteAddr = init.remoteAddr;
    this.remotePort = init.remotePort;
    this.config = init.config === undefined && init.base !== undefined && Object.isFrozen(init.base) ? init.base : makeConfig(init.base ?? DEFAULT_CONFIG, init.config);
    this.mib = init.mib ?? newMib();
    this.ipv6 = init.ipv6;
    this.iss = init.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndBufSeq = seqAdd(this.iss, 1);
    this.tsOffset = init.tsOffset >>> 0;
    this.advMss = this.config.maxSeg > 0 ? Math.min(this.config.maxSeg, init.linkMss) : init.linkMss;
    this.peerMss = init.ipv6 ? 1220 : 536;
    this.sendBuf = new ByteRing(this.config.sendBuffer);
    this.recvBuf = new ByteRing(this.config.recvBuffer);
    this.rtt = new RttEstimator(this.config.initialRto, this.config.minRto, this.config.maxRto);
    this.cc = createCongestionControl(this.config.congestionControl);
    this.rec = new Recovery(this.cc, this.iss);
    this.quickAcks = this.config.quickAcks;
    const space = Math.min(65535, this.config.recvBuffer);
    this.rcvClamp = space > this.advMss ? Math.floor(space / this.advMss) * this.advMss : space;
  }

  // ---------------------------------------------------------------- state

  /**
   * The one place state changes (DESIGN.md principle 8): checks the transition table, keeps
   * CurrEstab, publishes an event.
   */
  setState(next: TcpStateName, cause: string): void {
    const prev = this.state;
    if (prev === next) return;
    if (!isLegalTransition(prev, next)) {
      throw new Error(`illegal TCP transition ${prev} -> ${next} (${cause})`);
    }
    this.state = next;
    // RFC 4022 tcpCurrEstab: connections in ESTABLISHED or CLOSE_WAIT.
    const wasEstab = prev === 'ESTABLISHED' || prev === 'CLOSE_WAIT';
    const isEstab = next === 'ESTABLISHED' || next === 'CLOSE_WAIT';
    if (isEstab && !wasEstab) bump(this.mib, 'CurrEstab');
    if (wasEstab && !isEstab) bump(this.mib, 'CurrEstab', -1);
    // RFC 4022 tcpActiveOpens / tcpPassiveOpens / tcpAttemptFails / tcpEstabResets.
    if (next === 'SYN_SENT') bump(this.mib, 'ActiveOpens');
    else if (next === 'SYN_RECEIVED' && prev === 'LISTEN') bump(this.mib, 'PassiveOpens');
    else if (next === 'CLOSED' && (prev === 'SYN_SENT' || prev === 'SYN_RECEIVED')) bump(this.mib, 'AttemptFails');
    else if (next === 'CLOSED' && wasEstab) bump(this.mib, 'EstabResets');
    this.emit(stateEvent(prev, next, cause));
    if (next === 'CLOSED') {
      this.timers.stopAll();
      this.sendBuf.clear();
      this.reasm.clear();
      if (this.lingerPending) {
        this.lingerPending = false;
        this.emit({ type: 'linger', acked: false });
      }
      this.emit(EV.closed);
    }
  }

  emit(ev: ConnEvent): void {
    if (this.evCount === 4 || this.evMore !== null) {
      (this.evMore ??= []).push(ev);
      return;
    }
    this.setSlot((this.evHead + this.evCount) & 3, ev);
    this.evCount++;
  }

  private setSlot(i: number, ev: ConnEvent | undefined): void {
    if (i === 0) this.ev0 = ev;
    else if (i === 1) this.ev1 = ev;
    else if (i === 2) this.ev2 = ev;
    else this.ev3 = ev;
  }

  /** Report an error to the application; `fatal` closes the connection. */
  fail(code: TcpErrorCode, cause: string): void {
    this.error = code;
    this.emit({ type: 'error', code, message: ERROR_MESSAGES[code] });
    this.setState('CLOSED', cause);
  }

  pollEvent(): ConnEvent | undefined {
    if (this.evCount === 0) return undefined;
    const i = this.evHead;
    const ev = i === 0 ? this.ev0 : i === 1 ? this.ev1 : i === 2 ? this.ev2 : this.ev3;
    this.setSlot(i, undefined);
    this.evHead = (i + 1) & 3;
    this.evCount--;
    const more = this.evMore;
    if (more !== null) {
      // Refill the ring from the overflow, in order; drop the overflow array once empty.
      this.setSlot((this.evHead + this.evCount) & 3, more.shift());
      this.evCount++;
      if (more.length === 0) this.evMore = null;
    }
    return ev;
  }

  /** An ACK is due now (the stack services such a connection at once). */
  get ackNow(): boolean {
    return (this.pending & Work.ACK) !== 0;
  }

  get hasEvents(): boolean {
    return this.evCount > 0;
  }

  // ---------------------------------------------------------------- driving

  /** A segment for this connection arrived (the stack has demultiplexed and validated it). */
  onSegment(now: Instant, seg: TcpRepr): void {
    onSegment(this, now, seg);
  }

  /** Fill `out` with the next segment to send; false when there is nothing to send now. */
  pollTransmit(now: Instant, out: TcpRepr): boolean {
    return pollTransmit(this, now, out);
  }

  nextDeadline(): Instant {
    return this.timers.next();
  }

  /** Run every timer that has expired by `now`. */
  onTimeout(now: Instant): void {
    for (let guard = 0; guard < 16; guard++) {
      const kind = this.timers.expired(now);
      if (kind === -1) return;
      this.timers.stop(kind);
      onTimer(this, now, kind);
    }
  }

  // ---------------------------------------------------------------- user calls (RFC 9293 §3.10)

  /** Active OPEN (§3.10.1): send SYN, enter SYN_SENT. `from` is LISTEN when a listener turns active. */
  open(now: Instant, from: 'CLOSED' | 'LISTEN' = 'CLOSED'): void {
    if (this.state !== 'CLOSED') throw new Error(`open() in state ${this.state}`);
    this.state = from;
    this.lastRecv = now;
    this.setState('SYN_SENT', from === 'LISTEN' ? 'SEND on a listening socket (active open)' : 'connect: snd SYN');
  }

  /** Bytes the application may still write before the send buffer is full. */
  get writableBytes(): number {
    return this.finQueued || !this.canSend() ? 0 : this.sendBuf.free;
  }

  private canSend(): boolean {
    const s = this.state;
    return s === 'ESTABLISHED' || s === 'CLOSE_WAIT' || s === 'SYN_SENT' || s === 'SYN_RECEIVED';
  }

  /**
   * SEND (§3.10.2): queue bytes; returns how many were taken (0 when the buffer is full).
   * Throws for a connection that cannot send (the socket layer maps this to EPIPE / ENOTCONN).
   */
  send(data: Uint8Array, off = 0, len = data.length - off): number {
    if (this.finQueued) throw new TcpUsageError('EPIPE', 'send after shutdown of the send side');
    if (!this.canSend()) {
      throw new TcpUsageError(this.state === 'CLOSED' ? (this.error ?? 'EPIPE') : 'EPIPE', `send in state ${this.state}`);
    }
    return this.sendBuf.push(data, off, len);
  }

  /** Bytes ready to read. */
  get readableBytes(): number {
    return this.recvBuf.length;
  }

  /**
   * True once every byte is read and no more can come to the application: the peer's FIN arrived,
   * or the application shut down its receive side (LINUX tcp_recvmsg: after SHUT_RD a read of an
   * empty queue returns 0 instead of EAGAIN; data already queued is still delivered).
   */
  get eof(): boolean {
    return (this.finReceived || this.readShutdown) && this.recvBuf.length === 0;
  }

  /**
   * RECEIVE (§3.10.3): copy up to dst.length bytes out; returns the count (0 = nothing now;
   * check `eof`). Opening the window may make an ACK (window update) due.
   */
  receive(dst: Uint8Array, peek = false, now?: Instant): number {
    const n = Math.min(dst.length, this.recvBuf.length);
    if (n === 0) return 0;
    this.recvBuf.copyOut(dst, 0, 0, n);
    if (peek) return n;
    this.recvBuf.consume(n);
    if (now !== undefined && this.config.moderateRcvbuf) this.rcvSpaceAdjust(now, n);
    // RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.3.3: a window update once the window we could offer
    // exceeds what we last advertised by at least min(half the buffer, one MSS) — receiver-side
    // silly window avoidance — and (LINUX tcp_cleanup_rbuf) is at least twice the advertised one.
    // Compared with the advertised window, so many small reads add up.
    const win = this.receiveWindow();
    const adv = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
    const threshold = Math.min(this.config.recvBuffer / 2, this.advMss);
    if (isSynchronized(this.state) && win - adv >= threshold && win >= 2 * adv) {
      this.pending |= Work.ACK;
    }
    return n;
  }

  // Receive-buffer auto-tuning state (LINUX rcvq_space, rcv_rtt_est).
  private rcvSpaceStart: Instant = -1;
  private rcvSpaceCopied = 0;
  private rcvSpace = 0;
  /** Receiver-side RTT estimate from the timestamps echoed in arriving data (µs). */
  rcvRtt = 0;

  /**
   * LINUX tcp_rcv_space_adjust (dynamic right-sizing): once per RTT, if the application read more
   * than in any earlier RTT, make the buffer twice that (up to recvBufferMax), so the advertised
   * window can cover the path's bandwidth-delay product while a slow reader still gets a small one.
   */
  private rcvSpaceAdjust(now: Instant, n: number): void {
    if (this.rcvSpaceStart < 0) this.rcvSpaceStart = now;
    this.rcvSpaceCopied += n;
    const rtt = this.rcvRtt > 0 ? this.rcvRtt : this.rtt.srtt;
    if (rtt <= 0 || now - this.rcvSpaceStart < rtt) return;
    if (this.rcvSpaceCopied > this.rcvSpace) {
      this.rcvSpace = this.rcvSpaceCopied;
      const want = Math.min(this.config.recvBufferMax, 2 * this.rcvSpaceCopied + 16 * this.advMss);
      if (want > this.config.recvBuffer) {
        this.ownConfig().recvBuffer = want;
        this.recvBuf.max = want;
      }
    }
    this.rcvSpaceStart = now;
    this.rcvSpaceCopied = 0;
  }

  /**
   * The window we would advertise now: free buffer space, and no more than receive memory can
   * still take (rmem.ts) (RFC 9293 §3.8.6.2.2 SWS handled by callers).
   */
  receiveWindow(): number {
    return Math.max(0, Math.min(this.recvBuf.free - this.reasm.bytes, this.rcvClamp - this.recvBuf.length - this.reasm.bytes, rcvMemRoom(this)));
  }

  /** shutdown(SHUT_WR): half-close (§3.10.4 CLOSE of the send direction). */
  shutdown(now: Instant): void {
    if (this.finQueued) return;
    switch (this.state) {
      case 'CLOSED':
      case 'LISTEN':
        throw new TcpUsageError('ENOTCONN', `shutdown in state ${this.state}`);
      case 'SYN_SENT':
        // RFC 9293 §3.10.4: queue the FIN until ESTABLISHED.
        this.finQueued = true;
        return;
      case 'SYN_RECEIVED':
      case 'ESTABLISHED':
        this.finQueued = true;
        this.setState('FIN_WAIT_1', 'close/shutdown: snd FIN');
        break;
      case 'CLOSE_WAIT':
        this.finQueued = true;
        this.setState('LAST_ACK', 'close/shutdown: snd FIN');
        break;
      default:
        return; // already closing
    }
    this.lastSend = now;
  }

  /** shutdown(SHUT_RD): reads see end-of-file once the queue is empty (see `eof`). */
  shutdownRead(): void {
    this.readShutdown = true;
  }

  /**
   * close() with SO_LINGER semantics (the seed article's three cases):
   * - unread data, or linger = 0: abortive close, RST, no TIME_WAIT (LINUX tcp_close);
   * - linger off: FIN, close returns at once, the orphan finishes in the background;
   * - linger > 0: FIN, and a 'linger' event reports whether data+FIN were acked in time.
   */
  close(now: Instant): void {
    if (this.userClosed) return;
    this.userClosed = true;
    switch (this.state) {
      case 'CLOSED':
        return;
      case 'LISTEN':
        this.setState('CLOSED', 'close');
        return;
      case 'SYN_SENT':
        // RFC 9293 §3.10.4: delete the TCB; nothing is sent.
        this.setState('CLOSED', 'close in SYN_SENT');
        return;
      default:
        break;
    }
    const unread = this.recvBuf.length > 0;
    if (unread || this.config.linger === 0) {
      // LINUX tcp_close: data_was_unread → RST (RFC 2525 §2.17); SO_LINGER 0 → RST.
      bump(this.mib, unread ? 'TCPAbortOnClose' : 'TCPAbortOnData');
      this.abort(now, unread ? 'close with unread data: snd RST' : 'close with SO_LINGER 0: snd RST');
      return;
    }
    this.shutdown(now);
    this.recvBuf.clear();
    if (this.config.linger !== null && this.config.linger > 0 && !this.finAcked()) {
      this.lingerPending = true;
      this.timers.set(Timer.LINGER, now + this.config.linger);
    }
    if (this.state === 'FIN_WAIT_2') this.armFinWait2(now);
  }

  /** ABORT (§3.10.5): RST to the peer if synchronized, then CLOSED. No error is reported to us. */
  abort(now: Instant, cause = 'abort: snd RST', forceRst = false): void {
    const s = this.state;
    if (s === 'CLOSED') return;
    // LINUX tcp_need_reset: RST from SYN_RECEIVED and every synchronized state but the closing ones.
    const sendRst = s === 'ESTABLISHED' || s === 'CLOSE_WAIT' || s === 'FIN_WAIT_1' || s === 'FIN_WAIT_2' || s === 'SYN_RECEIVED' ||
      (forceRst && s !== 'SYN_SENT' && s !== 'TIME_WAIT' && s !== 'LISTEN');
    if (sendRst) {
      this.pending |= Work.RST;
      bump(this.mib, 'OutRsts');
    }
    this.lastSend = now;
    this.setState('CLOSED', cause);
  }

  // ---------------------------------------------------------------- helpers used by input/output/timers

  /** Sequence number our FIN has (or will have). */
  get finSeq(): SeqNum {
    return seqAdd(this.sndBufSeq, this.sendBuf.length);
  }

  /** Whether our FIN has been sent and acknowledged. */
  finAcked(): boolean {
    return this.finQueued && seqGt(this.sndUna, this.finSeq);
  }

  /** Whether our FIN has been sent at least once. */
  finSent(): boolean {
    return this.finQueued && seqGt(this.sndMax, this.finSeq);
  }

  /** Bytes in flight (sent, not acknowledged), counting SYN/FIN. */
  get inFlight(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  /** Effective send MSS: peer's MSS capped by ours, less the timestamp option (LINUX mss_cache). */
  get effMss(): number {
    const base = Math.min(this.peerMss, this.advMss);
    return Math.max(1, base - (this.tsEnabled ? 12 : 0));
  }

  /** Current retransmission timeout with backoff. */
  currentRto(): number {
    // LINUX tcp_syn_linear_timeouts: the first SYN retransmissions of an active open keep the RTO.
    const linear = this.state === 'SYN_SENT' ? this.config.synLinearTimeouts : 0;
    return Math.min(this.config.maxRto, this.rtt.rto * 2 ** Math.max(0, this.backoff - linear));
  }

  armRetransmit(now: Instant): void {
    let at = now + this.currentRto();
    // LINUX tcp_clamp_rto_to_user_timeout: never wait past the user timeout (RFC 5482).
    if (this.config.userTimeout > 0 && this.unackedSince !== NEVER) at = Math.max(now, Math.min(at, this.unackedSince + this.config.userTimeout));
    this.timers.set(Timer.RETRANSMIT, at);
  }

  /**
   * RFC 8985 §7.2: arm the tail loss probe — 2·SRTT (1 s before any RTT sample), plus the
   * worst-case delayed ACK when one segment is in flight, never later than the RTO. Only with
   * SACK, in the open state, once per episode.
   */
  armLossProbe(now: Instant): void {
    const s = this.state;
    if (!this.sackEnabled || this.rec.recovering || this.rec.tlpHighSeq !== null ||
        (s !== 'ESTABLISHED' && s !== 'CLOSE_WAIT' && s !== 'FIN_WAIT_1' && s !== 'CLOSING' && s !== 'LAST_ACK') ||
        !seqGt(this.sndMax, this.sndUna)) {
      this.timers.stop(Timer.LOSS_PROBE);
      return;
    }
    let pto = this.rtt.hasSample ? 2 * this.rtt.srtt : 1_000_000;
    if (seqDiff(this.sndMax, this.sndUna) <= this.effMss) pto += this.config.delAckMax;
    const rto = this.timers.get(Timer.RETRANSMIT);
    this.timers.set(Timer.LOSS_PROBE, Math.min(now + Math.round(pto), rto));
  }

  armFinWait2(now: Instant): void {
    // LINUX: an orphaned FIN_WAIT_2 socket waits tcp_fin_timeout for the peer's FIN.
    if (this.userClosed && !this.timers.isSet(Timer.FIN_WAIT_2)) this.timers.set(Timer.FIN_WAIT_2, now + this.config.finTimeout);
  }

  armKeepalive(now: Instant): void {
    if (this.config.keepAlive && (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT')) {
      this.timers.set(Timer.KEEPALIVE, Math.max(now, this.lastRecv) + (this.keepaliveProbes > 0 ? this.config.keepInterval : this.config.keepIdle));
    } else this.timers.stop(Timer.KEEPALIVE);
  }

  /** Enter TIME_WAIT: every other timer stops; 2MSL starts (RFC 9293 §3.10.7.4). */
  enterTimeWait(now: Instant, cause: string): void {
    this.setState('TIME_WAIT', cause);
    this.timers.stopAll();
    this.timers.set(Timer.TIME_WAIT, now + this.config.timeWait);
    this.sendBuf.clear();
    if (this.lingerPending) {
      this.lingerPending = false;
      this.emit({ type: 'linger', acked: true });
    }
  }

  /** The settings, made this connection's own (copied from the shared defaults) before a change. */
  ownConfig(): TcpConfig {
    if (Object.isFrozen(this.config)) this.config = { ...this.config };
    return this.config as TcpConfig;
  }

  /** Change options at run time (setsockopt). */
  setOption<K extends keyof TcpConfig>(name: K, value: TcpConfig[K], now: Instant): void {
    const merged = makeConfig(this.config, { [name]: value } as Partial<TcpConfig>);
    (this.ownConfig() as unknown as Record<string, unknown>)[name] = merged[name];
    if (name === 'keepAlive' || name === 'keepIdle' || name === 'keepInterval') this.armKeepalive(now);
    if (name === 'sendBuffer') this.sendBuf.max = merged.sendBuffer;
    if (name === 'recvBuffer') {
      this.recvBuf.max = merged.recvBuffer;
      this.ownConfig().moderateRcvbuf = false; // LINUX: SO_RCVBUF locks the buffer size (SOCK_RCVBUF_LOCK)
    }
  }

  /** Read-only view for netstat, viz, tcp_info and tests (RFC 9293 §3.3.1 names): snapshot.ts. */
  snapshot(now: Instant): ConnSnapshot {
    return snapshotOf(this, now);
  }

}


/** A user call that is not allowed now (defined with every other error in src/errors.ts). */
export { TcpUsageError };

