import { seqAdd, seqDiff, type SeqNum } from '../seq.js';
import { EV, stateEvent } from './events.js';
import { type Instant } from '../time.js';
import type { TcpRepr } from '../wire/tcp-repr.js';
import { makeConfig, DEFAULT_CONFIG, type TcpConfig } from './config.js';
import type { ConnEvent, TcpErrorCode } from './events.js';
import { ERROR_MESSAGES } from './events.js';
import type { Reassembly } from './reassembly.js';
import { ByteRing } from './ring.js';
import { stateNum, type TcpStateName } from './state.js';
import { Timer, TimerTable } from './timers.js';
import { isLegalTransitionNum } from './transitions.js';
import { onSegment } from './input.js';
import { pollTransmit } from './output.js';
import { onTimer } from './timer-handlers.js';
import { type CongestionControl } from './congestion/registry.js';
import { snapshotOf, type ConnSnapshot } from './snapshot.js';
export type { ConnSnapshot } from './snapshot.js';
import { TcpUsageError } from '../errors.js';
import { bump, newMib, type Mib } from '../mib.js';
import { Work } from './work.js';
import { Receiver, readData, receiveWindow } from './receiver.js';
import { Sender } from './sender.js';
import type { ConnFastOpen } from './fastopen.js';
import { admitChunk, SendChunks } from './send-queue.js';
import { CorkState } from './cork.js';
import { Chronograph } from './chrono.js';
import { CwrReduction } from './ecn.js';
import { RecordMarks } from './records.js';
import { mtupMssCap, type MtuProbe } from './mtu-probe.js';
import { abortCall, closeCall, shutdownSend } from './close-calls.js';
import { CONN_BASE, newTcbSlots } from './slots.js';

/** The connection's instants in its slot array (slots.ts): last data in, last segment in, out. */
const LAST_DATA_RECV = CONN_BASE + 0;
const LAST_RECV = CONN_BASE + 1;
const LAST_SEND = CONN_BASE + 2;

/** Counters shared with the stack (MIB/nstat names, typed in src/mib.ts), incremented in place. */
export { bump, type Mib };

/** The four numbers that name a connection. */
export interface Endpoints {
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
}

export interface ConnectionInit extends Endpoints {
  /** Initial send sequence number (RFC 6528), from the stack's generator. */
  iss: SeqNum;
  /** Our MSS from the link MTU (RFC 9293 §3.7.1: MTU minus fixed IP and TCP headers). */
  linkMss: number;
  /**
   * The route's link takes TCP packets of up to this many IP bytes and cuts them into
   * MTU-sized segments itself (TSO; Link.gsoMaxSize, LINUX sk_gso_max_size). Absent: no TSO.
   */
  gsoMaxSize?: number;
  /** IPv6 connections default to MSS 1220 when the peer sends none (RFC 9293 §3.7.1). */
  ipv6: boolean;
  /** Timestamp-clock offset for this connection (LINUX: per-connection random offset). */
  tsOffset: number;
  config?: Partial<TcpConfig>;
  /** Defaults the stack applies before `config` (its sysctls). */
  base?: Readonly<TcpConfig>;
  mib?: Mib;
}

/** Connection.flags bits. */
const F_IPV6 = 1;
const F_PASSIVE = 2;
const F_WS = 4;
const F_TS = 8;
const F_SACK = 16;
const F_USER_CLOSED = 64;
const F_LINGER_PENDING = 256;

/**
 * One TCP connection's control block and behaviour: the sans-I/O core (DESIGN.md principle 1).
 * Inputs: `onSegment(now, seg)`, user calls, `onTimeout(now)`. Outputs are pulled:
 * `pollTransmit(now, out)`, `pollEvent()`, `nextDeadline()`.
 *
 * Where things live (split by responsibility, as gVisor's rcv.go / snd.go / connect.go):
 * - this class: identity, settings, negotiated options, the state and its one transition
 *   function, user calls, the event queue, the timer table;
 * - receiver.ts (`rcv`): receive sequence variables and buffers; acceptability, text, ACK
 *   generation and the advertised window;
 * - sender.ts (`snd`): send sequence variables and queue, RTT and backoff, persist; ACK
 *   processing, the send policy, retransmission; it owns loss recovery (recovery.ts: the
 *   tcp_ca_state machine with SACK scoreboard, RACK and undo) and the congestion-control
 *   algorithm (congestion/, by name from the registry);
 * - handshake.ts: SYN_SENT input, option negotiation, SYN_RECEIVED checks, the SYN we send;
 * - input.ts: segment arrival (RFC 9293 §3.10.7) step by step, FIN and RST transitions;
 * - output.ts: what to send, from one bitset of pending work (work.ts);
 * - timer-handlers.ts: what each timer does.
 */
export class Connection extends TimerTable implements Endpoints {
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

  state: TcpStateName = 'CLOSED';
  /**
   * The boolean state below, one bit each (nine fields cost 64 B more per connection; the
   * accessors keep the names).
   */
  private flags = 0;
  get ipv6(): boolean { return (this.flags & F_IPV6) !== 0; }
  /** Active open (connect) or passive (a child of a listener). */
  get passive(): boolean { return (this.flags & F_PASSIVE) !== 0; }
  set passive(v: boolean) { this.flags = v ? this.flags | F_PASSIVE : this.flags & ~F_PASSIVE; }
  get wsEnabled(): boolean { return (this.flags & F_WS) !== 0; }
  set wsEnabled(v: boolean) { this.flags = v ? this.flags | F_WS : this.flags & ~F_WS; }
  get tsEnabled(): boolean { return (this.flags & F_TS) !== 0; }
  set tsEnabled(v: boolean) { this.flags = v ? this.flags | F_TS : this.flags & ~F_TS; }
  get sackEnabled(): boolean { return (this.flags & F_SACK) !== 0; }
  set sackEnabled(v: boolean) { this.flags = v ? this.flags | F_SACK : this.flags & ~F_SACK; }
  /**
   * Where the stack's idle-buffer sweep holds this connection (its rings own memory): an index
   * in the stack's list, -1 when not held. An index, not a Set entry: adding and removing is a
   * store, not a hash-table update, once or twice per connection.
   */
  bufferSlot = -1;
  /** Where the listener's SYN queue holds this connection (util/slot-list.ts), -1 when not held. */
  synSlot = -1;
  /** The user called close(): the connection is an orphan. */
  get userClosed(): boolean { return (this.flags & F_USER_CLOSED) !== 0; }
  set userClosed(v: boolean) { this.flags = v ? this.flags | F_USER_CLOSED : this.flags & ~F_USER_CLOSED; }
  /**
   * LINUX sk_dst_pending_confirm: the peer showed progress; the next segment out confirms its
   * neighbour (stack). (A field, not a bit of `flags`: it is read and written per segment.)
   */
  dstPendingConfirm = false;
  get lingerPending(): boolean { return (this.flags & F_LINGER_PENDING) !== 0; }
  set lingerPending(v: boolean) {
    this.flags = v ? this.flags | F_LINGER_PENDING : this.flags & ~F_LINGER_PENDING;
  }

  /** The send half: send sequence variables, queue, RTT, recovery and congestion (sender.ts). */
  readonly snd: Sender;
  /**
   * What has limited the sender and for how long (tcpi_busy_time, tcpi_rwnd_limited); made when
   * data is first queued or sent. These four sub-objects are made on first use: an idle
   * connection never needs them (test/scale.test.ts holds an idle TCB to 2 KiB of heap).
   */
  get chrono(): Chronograph {
    return (this.chronoState ??= new Chronograph());
  }
  /** The chronograph if one was made (null: nothing was ever timed). */
  chronoState: Chronograph | null = null;
  /** ECN state (ecn.ts EcnFlag bits; LINUX tp->ecn_flags). */
  ecnFlags = 0;
  /** MSG_EOR record boundaries in the send queue (records.ts); null until the first MSG_EOR. */
  recordsState: RecordMarks | null = null;
  get records(): RecordMarks {
    return (this.recordsState ??= new RecordMarks());
  }
  /** The CWR state's window reduction (ecn.ts). */
  get cwr(): CwrReduction {
    return (this.cwrState ??= new CwrReduction());
  }
  private cwrState: CwrReduction | null = null;
  /** When data last arrived, or the connection was established (LINUX icsk_ack.lrcvtime). */
  get lastDataRecv(): Instant { return this.at[LAST_DATA_RECV]!; }
  set lastDataRecv(v: Instant) { this.at[LAST_DATA_RECV] = v; }
  /** The chunks of the send queue, for TCP_NOTSENT_LOWAT (send-queue.ts). */
  get chunks(): SendChunks {
    return (this.chunksState ??= new SendChunks(this.snd.sndBufSeq));
  }
  private chunksState: SendChunks | null = null;
  /** TCP_CORK / MSG_MORE state (cork.ts); null until either is first used. */
  corkState: CorkState | null = null;
  get cork(): CorkState {
    return (this.corkState ??= new CorkState(seqAdd(this.snd.sndBufSeq, this.snd.sendBuf.length)));
  }
  /** The receive half: receive sequence variables, buffers, window, ACK state (receiver.ts). */
  readonly rcv: Receiver;

  // Negotiated options (the handshake sets them; both halves read them).
  /** Our announced MSS. */
  advMss: number;
  /** Peer's MSS (536 / 1220 when it sent none). */
  peerMss: number;
  sndWscale = 0;
  rcvWscale = 0;
  readonly tsOffset: number;


  /** What the output engine owes the peer: one bitset of work.ts `Work` bits, served in bit order. */
  pending = 0;
  /** SEG.SEQ of the RST answering one bad segment (Work.REPLY_RST; e.g. an unacceptable ACK in SYN_SENT). */
  replyRstSeq: SeqNum = 0;

  /** The timer table (timers.ts): the connection itself, one object fewer per TCB (bench/scale.ts). */
  get timers(): TimerTable {
    return this;
  }
  keepaliveProbes = 0;
  /**
   * The host's egress queue drops every packet (a qdisc with no room; LINUX NET_XMIT_DROP), as
   * the stack last saw it: new data is held back and the probe timer retries (local-drop.ts).
   */
  xmitDrop = false;
  /** When a segment last arrived (LINUX rcv_tstamp). */
  get lastRecv(): Instant { return this.at[LAST_RECV]!; }
  set lastRecv(v: Instant) { this.at[LAST_RECV] = v; }
  /** When a segment was last sent (LINUX lsndtime). */
  get lastSend(): Instant { return this.at[LAST_SEND]!; }
  set lastSend(v: Instant) { this.at[LAST_SEND] = v; }

  /** The error that closed the connection, if any. */
  error: TcpErrorCode | null = null;
  /**
   * LINUX sk_err_soft: the last ICMP error seen on a connection that kept trying (RFC 1122
   * §4.2.3.9: soft errors do not abort); a later timeout reports it instead of ETIMEDOUT.
   */
  softError: TcpErrorCode | null = null;
  /** TCP Fast Open state (RFC 7413; fastopen.ts), null on an ordinary connection. */
  fastOpen: ConnFastOpen | null = null;
  /** The path MTU's cap on segment size (LINUX tcp_sync_mss): PMTU - IP - TCP headers. */
  pathMss = 0xffff;
  /** Packetization-layer PMTU discovery (RFC 4821, mtu-probe.ts); null unless tcp_mtu_probing is on. */
  mtup: MtuProbe | null = null;
  /** Largest payload of one TSO packet (0: the link does not cut segments; see sender.ts tsoCap). */
  tsoMaxPayload = 0;
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

  /**
   * LINUX sk->sk_socket: an application holds a socket for this connection — not a child still
   * in an accept queue (its owner says `accepted: false`), not an orphan the application closed.
   */
  get hasSocket(): boolean {
    const o = this.owner as { readonly accepted?: boolean } | null;
    return o !== null && o.accepted === true && !this.userClosed;
  }
  /** The stack's timer-queue slot (util/heap.ts HeapItem). */
  heapIndex = -1;
  /** The 4-tuple's hash in the stack's connection table (conn-table.ts), set when it is entered. */
  tableHash = -1;

  constructor(init: ConnectionInit) {
    super(newTcbSlots());
    this.localAddr = init.localAddr;
    this.localPort = init.localPort;
    this.remoteAddr = init.remoteAddr;
    this.remotePort = init.remotePort;
    this.config = init.config === undefined && init.base !== undefined && Object.isFrozen(init.base) ? init.base : makeConfig(init.base ?? DEFAULT_CONFIG, init.config);
    this.mib = init.mib ?? newMib();
    if (init.ipv6) this.flags = F_IPV6;
    // int32, a small integer kept in the object (a uint32 above 2^30 would be a boxed number);
    // tsClock's >>> 0 gives the same clock.
    this.tsOffset = init.tsOffset | 0;
    this.advMss = this.config.maxSeg > 0 ? Math.min(this.config.maxSeg, init.linkMss) : init.linkMss;
    this.peerMss = init.ipv6 ? 1220 : 536;
    // The link cuts a TSO packet at its own MTU: only right while our MSS is the link's
    // (tsoCap checks the peer's and the path's at each send). 60: the largest TCP header.
    if ((init.gsoMaxSize ?? 0) > 0 && this.advMss === init.linkMss) this.tsoMaxPayload = Math.max(0, init.gsoMaxSize! - (init.ipv6 ? 40 : 20) - 60);
    const slots = this.at; // the instants and the timer deadlines (slots.ts)
    slots[LAST_DATA_RECV] = 0;
    slots[LAST_RECV] = 0;
    slots[LAST_SEND] = 0;
    this.snd = new Sender(init.iss >>> 0, this.config, slots);
    this.rcv = new Receiver(this.config, this.advMss, slots);
  }

  // ------------------------------------------------- the surface used outside src/tcp
  // The stack, packetdrill, diag and demo read (and the passive open sets up) these through the
  // connection; inside src/tcp the code uses the halves directly.

  get iss(): SeqNum { return this.snd.iss; }
  get sndUna(): SeqNum { return this.snd.sndUna; }
  get sndNxt(): SeqNum { return this.snd.sndNxt; }
  set sndNxt(v: SeqNum) { this.snd.sndNxt = v; }
  get sndMax(): SeqNum { return this.snd.sndMax; }
  set sndMax(v: SeqNum) { this.snd.sndMax = v; }
  get sndWnd(): number { return this.snd.sndWnd; }
  set sndWnd(v: number) { this.snd.sndWnd = v; }
  get maxSndWnd(): number { return this.snd.maxSndWnd; }
  set maxSndWnd(v: number) { this.snd.maxSndWnd = v; }
  get sndWl1(): SeqNum { return this.snd.sndWl1; }
  set sndWl1(v: SeqNum) { this.snd.sndWl1 = v; }
  get sendBuf(): ByteRing { return this.snd.sendBuf; }
  get cc(): CongestionControl { return this.snd.cc; }
  get irs(): SeqNum { return this.rcv.irs; }
  set irs(v: SeqNum) { this.rcv.irs = v; }
  get rcvNxt(): SeqNum { return this.rcv.rcvNxt; }
  set rcvNxt(v: SeqNum) { this.rcv.rcvNxt = v; }
  get rcvAdv(): SeqNum { return this.rcv.rcvAdv; }
  set rcvAdv(v: SeqNum) { this.rcv.rcvAdv = v; }
  get lastAckSent(): SeqNum { return this.rcv.lastAckSent; }
  set lastAckSent(v: SeqNum) { this.rcv.lastAckSent = v; }
  get tsRecent(): number { return this.rcv.tsRecent; }
  get recvBuf(): ByteRing { return this.rcv.recvBuf; }
  get reasm(): Reassembly { return this.rcv.reasm; }
  /** The window we would advertise now (receiver.ts receiveWindow). */
  receiveWindow(): number { return receiveWindow(this); }
  get rcvMss(): number { return this.rcv.rcvMss; }
  get finReceived(): boolean { return this.rcv.finReceived; }
  /** Whether our FIN has been sent and acknowledged. */
  finAcked(): boolean { return this.snd.finAcked(); }

  // ---------------------------------------------------------------- state

  /**
   * The one place state changes (DESIGN.md principle 8): checks the transition table, keeps
   * CurrEstab, publishes an event.
   */
  setState(next: TcpStateName, cause: string): void {
    const prev = this.state;
    if (prev === next) return;
    if (!isLegalTransitionNum(stateNum(prev), stateNum(next))) {
      throw new Error(`illegal TCP transition ${prev} -> ${next} (${cause})`);
    }
    this.state = next;
    // RFC 4022 tcpCurrEstab: connections in ESTABLISHED or CLOSE_WAIT.
    const wasEstab = prev === 'ESTABLISHED' || prev === 'CLOSE_WAIT';
    const isEstab = next === 'ESTABLISHED' || next === 'CLOSE_WAIT';
    // (Named increments for the counters every connection moves: bump()'s access by a name that
    // varies is a megamorphic keyed load and store, ~600 instructions a connection.)
    if (isEstab && !wasEstab) this.mib.CurrEstab++;
    if (next === 'ESTABLISHED' && (prev === 'SYN_SENT' || prev === 'SYN_RECEIVED')) this.lastDataRecv = this.lastRecv; // LINUX tcp_finish_connect
    if (wasEstab && !isEstab) this.mib.CurrEstab--;
    // RFC 4022 tcpActiveOpens / tcpPassiveOpens / tcpAttemptFails / tcpEstabResets.
    if (next === 'SYN_SENT') this.mib.ActiveOpens++;
    else if (next === 'SYN_RECEIVED' && prev === 'LISTEN') this.mib.PassiveOpens++;
    else if (next === 'CLOSED' && (prev === 'SYN_SENT' || prev === 'SYN_RECEIVED')) bump(this.mib, 'AttemptFails');
    else if (next === 'CLOSED' && wasEstab) bump(this.mib, 'EstabResets');
    this.emit(stateEvent(prev, next, cause));
    if (next === 'CLOSED') {
      this.timers.stopAll();
      this.snd.sendBuf.clear();
      this.rcv.clearOfo();
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
    // LINUX tcp_write_err: sk_err = sk_err_soft ? : ETIMEDOUT.
    if (code === 'ETIMEDOUT' && this.softError !== null) code = this.softError;
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

  get hasEvents(): boolean { return this.evCount > 0; }

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
  get writableBytes(): number { return this.snd.finQueued || !this.canSend() ? 0 : this.snd.sendBuf.free; }

  private canSend(): boolean {
    const s = this.state;
    return s === 'ESTABLISHED' || s === 'CLOSE_WAIT' || s === 'SYN_SENT' || s === 'SYN_RECEIVED';
  }

  /**
   * SEND (§3.10.2): queue bytes; returns how many were taken (0 when the buffer is full).
   * Throws for a connection that cannot send (the socket layer maps this to EPIPE / ENOTCONN).
   */
  send(data: Uint8Array, off = 0, len = data.length - off, more = false): number {
    if (this.snd.finQueued) throw new TcpUsageError('EPIPE', 'send after shutdown of the send side');
    if (!this.canSend()) {
      throw new TcpUsageError(this.state === 'CLOSED' ? (this.error ?? 'EPIPE') : 'EPIPE', `send in state ${this.state}`);
    }
    const unsentBefore = seqDiff(seqAdd(this.snd.sndBufSeq, this.snd.sendBuf.length), this.snd.sndMax);
    let n: number;
    if (this.config.notsentLowat >= 0xffffffff && len <= this.snd.sendBuf.free) {
      n = this.snd.sendBuf.push(data, off, len);
    } else {
      // More than the send buffer has room for, or TCP_NOTSENT_LOWAT: one chunk at a time, as
      // Linux builds its write queue (send-queue.ts); the caller transmits and asks again.
      const k = admitChunk(this, len);
      n = this.snd.sendBuf.push(data, off, k, k);
    }
    // MSG_MORE: the write's end is no push point and its partial segment waits (cork.ts).
    if (more || this.corkState !== null) this.cork.wrote(seqAdd(this.snd.sndBufSeq, this.snd.sendBuf.length), more, unsentBefore <= 0);
    // RFC 7413 §4.1.2: a deferred Fast Open connect sends its SYN with the first write (LINUX
    // tcp_sendmsg_fastopen: even an empty one).
    if (this.fastOpen !== null && this.fastOpen.deferConnect) this.fastOpen.deferConnect = false;
    return n;
  }

  /**
   * MSG_EOR: the data queued so far ends a record; later data is never sent in the same segment
   * (LINUX tcp_sendmsg_locked sets the tail skb's eor bit once the whole message is queued).
   */
  endRecord(): void {
    this.records.add(seqAdd(this.snd.sndBufSeq, this.snd.sendBuf.length));
  }

  /** Bytes ready to read. */
  get readableBytes(): number { return this.rcv.recvBuf.length; }

  /**
   * True once every byte is read and no more can come to the application: the peer's FIN arrived,
   * or the application shut down its receive side (LINUX tcp_recvmsg: after SHUT_RD a read of an
   * empty queue returns 0 instead of EAGAIN; data already queued is still delivered).
   */
  get eof(): boolean {
    return (this.rcv.finReceived || this.rcv.readShutdown) && this.rcv.recvBuf.length === 0;
  }

  /**
   * RECEIVE (§3.10.3): copy up to dst.length bytes out; returns the count (0 = nothing now;
   * check `eof`). Opening the window may make an ACK (window update) due.
   */
  receive(dst: Uint8Array, peek = false, now?: Instant): number {
    return readData(this, dst, peek, now);
  }

  /** shutdown(SHUT_WR): half-close (§3.10.4 CLOSE of the send direction; close-calls.ts). */
  shutdown(now: Instant): void {
    shutdownSend(this, now);
  }

  /** shutdown(SHUT_RD): reads see end-of-file once the queue is empty (see `eof`). */
  shutdownRead(): void {
    this.rcv.readShutdown = true;
  }

  /** close() with SO_LINGER semantics and Linux's rules (close-calls.ts). */
  close(now: Instant): void {
    closeCall(this, now);
  }

  /** ABORT (§3.10.5): RST to the peer if synchronized, then CLOSED (close-calls.ts). */
  abort(now: Instant, cause = 'abort: snd RST', forceRst = false): void {
    abortCall(this, now, cause, forceRst);
  }

  // ---------------------------------------------------------------- helpers used by input/output/timers

  /**
   * Effective send MSS: peer's MSS capped by ours, the path's and PLPMTUD's search_low, less the
   * timestamp option (LINUX mss_cache, tcp_sync_mss).
   */
  get effMss(): number {
    const base = Math.min(this.peerMss, this.advMss, this.pathMss, this.mtup === null ? 0xffff : mtupMssCap(this));
    return Math.max(1, base - (this.tsEnabled ? 12 : 0));
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
    this.snd.sendBuf.clear();
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
    if (name === 'sendBuffer') this.snd.sendBuf.max = merged.sendBuffer;
    // LINUX __tcp_sock_set_cork / __tcp_sock_set_nodelay: uncorking a TCP_NODELAY socket, or
    // setting TCP_NODELAY, pushes what is queued (TCP_NAGLE_PUSH); the caller transmits.
    if (name === 'cork' && value === true) this.cork.push = false;
    if ((name === 'cork' && value === false && merged.noDelay) || (name === 'noDelay' && value === true && this.corkState !== null)) this.cork.push = true;
    if (name === 'recvBuffer') {
      this.rcv.recvBuf.max = merged.recvBuffer;
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
