import { NEVER, type Instant } from '../time.js';
import { type SeqNum, inWindow, seqAdd, seqDiff, seqGt, seqLt } from '../seq.js';
import type { TcpConfig } from './config.js';
import { Reassembly } from './reassembly.js';
import { ByteRing } from './ring.js';
import { admitSegment, rcvMemRoom } from './rmem.js';
import { ACK, SYN, type TcpRepr, segLen, FIN, RST } from '../wire/tcp-repr.js';
import { type Connection } from './connection.js';
import { EV } from './events.js';
import { Timer } from './timers.js';
import { Work } from './work.js';
import { bump } from '../mib.js';
import { isSynchronized } from './state.js';
import { processFin } from './input.js';
import { setTs } from './clock.js';
import { tsBefore, tsClock } from './clock.js';
import { RCV_BASE } from './slots.js';

/** The empty out-of-order queue every connection reads until it holds data out of order (frozen: a write would be a bug). */
const EMPTY_REASSEMBLY: Reassembly = Object.freeze(new Reassembly()) as Reassembly;

/**
 * Slots of Receiver.q, the connection's slot array (slots.ts): the receive half's instants (see
 * Sender.q in sender.ts); its sequence numbers and TS.Recent are int32 private fields.
 */
const LAST_OOW_ACK = RCV_BASE + 0;
const RCV_SPACE_START = RCV_BASE + 1;

/**
 * The receive half of a connection (gVisor rcv.go): RFC 9293 §3.3.1 receive sequence variables,
 * the receive buffer and out-of-order queue, the window we advertise, and what decides when an
 * ACK goes out; below it, the behaviour: acceptability (RFC 9293 §3.10.7.4 first), segment text
 * (seventh), ACK generation (§3.8.6.3) and the advertised window (§3.8.6.2.2).
 */
export class Receiver extends ByteRing {
  /** The instants' slots above, in the connection's one slot array (slots.ts). */
  private readonly q: number[];
  /**
   * The sequence numbers, as int32 (`v | 0`; the accessors give them back unsigned with `>>> 0`):
   * always small integers, so V8 keeps them in the object itself, with no boxed number and no
   * slot-array load (see Sender).
   */
  #irs = 0;
  #rcvNxt = 0;
  #rcvAdv = 0;
  #tsRecent = 0;
  #lastAckSent = 0;
  #dsackStart = 0;
  #dsackEnd = 0;
  // RFC 9293 §3.3.1 receive sequence variables.
  get irs(): SeqNum { return this.#irs >>> 0; }
  set irs(v: SeqNum) { this.#irs = v | 0; }
  get rcvNxt(): SeqNum { return this.#rcvNxt >>> 0; }
  set rcvNxt(v: SeqNum) { this.#rcvNxt = v | 0; }
  /** Right edge of the window we last advertised (never moved left: RFC 9293 §3.8.6.2.2). */
  get rcvAdv(): SeqNum { return this.#rcvAdv >>> 0; }
  set rcvAdv(v: SeqNum) { this.#rcvAdv = v | 0; }
  /** RFC 7323 §4.3 TS.Recent: the timestamp to echo. */
  get tsRecent(): number { return this.#tsRecent >>> 0; }
  set tsRecent(v: number) { this.#tsRecent = v | 0; }
  /** RCV.NXT carried by the last ACK we sent (RFC 7323 §4.3 Last.ACK.sent). */
  get lastAckSent(): SeqNum { return this.#lastAckSent >>> 0; }
  set lastAckSent(v: SeqNum) { this.#lastAckSent = v | 0; }
  /** A D-SACK block to report in the next ACK (RFC 2883): [start, end), or start === end for none. */
  get dsackStart(): SeqNum { return this.#dsackStart >>> 0; }
  set dsackStart(v: SeqNum) { this.#dsackStart = v | 0; }
  get dsackEnd(): SeqNum { return this.#dsackEnd >>> 0; }
  set dsackEnd(v: SeqNum) { this.#dsackEnd = v | 0; }
  /** When the last challenge or out-of-window ACK went out (LINUX tcp_oow_rate_limited). */
  get lastOowAck(): Instant { return this.q[LAST_OOW_ACK]!; }
  set lastOowAck(v: Instant) { this.q[LAST_OOW_ACK] = v; }
  /** Receive-buffer auto-tuning state (LINUX rcvq_space, rcv_rtt_est): when the current measurement began. */
  get rcvSpaceStart(): Instant { return this.q[RCV_SPACE_START]!; }
  set rcvSpaceStart(v: Instant) { this.q[RCV_SPACE_START] = v; }
  // RFC 9293 §3.3.1 receive sequence variables.

  /**
   * The receive buffer (ring.ts): the receive half itself (Receiver extends ByteRing, one object
   * fewer per connection for the young-generation collector, bench/scale.ts).
   */
  get recvBuf(): ByteRing {
    return this;
  }
  /**
   * The out-of-order queue (reassembly.ts): one shared, frozen, empty queue until a segment first
   * arrives out of order (`ofoQueue()` makes this connection's own); most connections never need one.
   */
  get reasm(): Reassembly { return this.reasmState ?? EMPTY_REASSEMBLY; }
  private reasmState: Reassembly | null = null;
  /** This connection's own out-of-order queue, made on first use. */
  ofoQueue(): Reassembly {
    return (this.reasmState ??= new Reassembly());
  }
  /** Forget everything held out of order (the connection closed). */
  clearOfo(): void {
    this.reasmState?.clear();
  }
  /** Sequence number of a FIN that arrived ahead of missing data. */
  oooFinSeq: SeqNum | null = null;
  /** The peer's FIN has been received (in order). */
  finReceived = false;
  /** The user shut down the receive side. */
  readShutdown = false;

  /** Bytes received in order since the last ACK we sent (delayed-ACK decision). */
  bytesSinceAck = 0;
  /** LINUX icsk_ack.rcv_mss: estimate of the peer's segment size. */
  rcvMss = 536;
  /** LINUX quick-ACK mode: ACKs left to send at once instead of delaying. */
  quickAcks: number;
  /**
   * LINUX icsk_ack.ato, the ACK timeout: 0 until the first data arrives (tcp_event_data_recv) or
   * quick-ACK mode is entered; negative while in interactive ("pingpong") mode, where data is
   * acknowledged by the delayed-ACK timer or by our reply, never at once.
   */
  ato = 0;
  /**
   * LINUX rcv_ssthresh: the window starts at the SYN's window (64240 for MSS 1460) and grows
   * as data arrives, up to the receive buffer, instead of offering the whole buffer at once.
   */
  rcvClamp = 65535;

  rcvSpaceCopied = 0;
  rcvSpace = 0;
  /** Receiver-side RTT estimate from the timestamps echoed in arriving data (µs). */
  rcvRtt = 0;

  constructor(config: Readonly<TcpConfig>, advMss: number, slots: number[]) {
    super(config.recvBuffer);
    const q = (this.q = slots);
    q[LAST_OOW_ACK] = -NEVER;
    q[RCV_SPACE_START] = -1;
    this.quickAcks = config.quickAcks;
    const space = Math.min(65535, config.recvBuffer);
    this.rcvClamp = space > advMss ? Math.floor(space / advMss) * advMss : space;
  }
}

/**
 * The window we would advertise now: free buffer space, and no more than receive memory can
 * still take (rmem.ts) (RFC 9293 §3.8.6.2.2 SWS handled by callers).
 */
export function receiveWindow(c: Connection): number {
  const rcv = c.rcv;
  return Math.max(0, Math.min(rcv.recvBuf.free - rcv.reasm.bytes, rcv.rcvClamp - rcv.recvBuf.length - rcv.reasm.bytes, rcvMemRoom(c)));
}

/** The outcome of the first check (§3.10.7.4): drop, accept, or accept all but the text. */
export const Acceptance = { DROP: 0, OK: 1, ACK_ONLY: 2 } as const;
export type Acceptance = (typeof Acceptance)[keyof typeof Acceptance];

/**
 * The segment an in-order stream sends next (LINUX tcp_rcv_established's header prediction: in
 * sequence, no SYN, RST or FIN, text within the window offered, a timestamp PAWS accepts), in
 * ESTABLISHED: checkSequence would accept it (Acceptance.OK) and do nothing else, so the caller
 * may skip it.
 */
export function inSequence(c: Connection, seg: TcpRepr): boolean {
  const rcv = c.rcv;
  return seg.seq === rcv.rcvNxt && (seg.flags & (SYN | RST | FIN)) === 0 && c.state === 'ESTABLISHED' &&
    seg.payload.length <= seqDiff(rcv.rcvAdv, rcv.rcvNxt) && !(c.tsEnabled && seg.hasTimestamp && tsBefore(seg.tsVal, rcv.tsRecent));
}

/**
 * First check of §3.10.7.4: PAWS (RFC 7323 §5.3 R1), then the sequence-number acceptability
 * table (which a simultaneous open's SYN,ACK, one below RCV.NXT, skips). An unacceptable segment
 * is answered (an ACK, rate-limited) and dropped; at a zero window the segment at RCV.NXT is
 * accepted for its ACK, URG and RST but not its text.
 */
export function checkSequence(c: Connection, now: Instant, seg: TcpRepr, simOpenSynAck: boolean): Acceptance {
  const flags = seg.flags;
  const rcv = c.rcv;
  // RFC 7323 §5.3 R1: PAWS — an old timestamp marks an old duplicate.
  if (c.tsEnabled && seg.hasTimestamp && !(flags & RST) && tsBefore(seg.tsVal, rcv.tsRecent)) {
    bump(c.mib, 'PAWSEstab');
    outOfWindowAck(c, now, seg);
    return Acceptance.DROP;
  }
  if (simOpenSynAck) return Acceptance.OK;
  const edge = rightEdge(c, now, seg);
  if (edge !== null) return edge;
  if (acceptable(c, seg, segLen(seg))) return Acceptance.OK;
  // LINUX tcp_sequence: the left edge is RCV.WUP (what our last ACK acknowledged), not RCV.NXT:
  // a segment ending there — the retransmission of one whose ACK was lost — is taken, so its ACK
  // field counts and its timestamp refreshes TS.Recent (tcp_replace_ts_recent, RFC 7323 §4.3
  // "SEG.SEQ <= Last.ACK.sent"). (Answered as out-of-window, its ACK echoed the stale TS.Recent:
  // an RTT sample that spans every backed-off RTO.) TIME_WAIT keeps its own rules below, as
  // LINUX tcp_timewait_state_process.
  const end = seqAdd(seg.seq, segLen(seg));
  if (!(flags & SYN) && c.state !== 'TIME_WAIT' && seqLt(seg.seq, rcv.rcvNxt) && !seqLt(end, rcv.lastAckSent)) {
    // LINUX tcp_data_queue out_of_window: a duplicate is answered at once, in quick-ACK mode
    // (the seventh step adds the D-SACK for its text).
    if (segLen(seg) > 0) {
      c.pending |= Work.ACK;
      enterQuickAck(c);
    }
    return Acceptance.OK;
  }
  const wnd = Math.max(0, seqDiff(rcv.rcvAdv, rcv.rcvNxt));
  // "special allowance should be made to accept valid ACKs, URGs, and RSTs" at a zero window.
  if (wnd === 0 && seg.seq === rcv.rcvNxt) {
    c.pending |= Work.ACK;
    return Acceptance.ACK_ONLY;
  }
  if (flags & RST) return Acceptance.DROP; // never answer a RST (§3.10.7.4, RFC 5961 §3.2)
  if (c.state === 'TIME_WAIT' && flags & FIN) {
    // §3.10.7.4 TIME-WAIT: the only thing that can arrive is a retransmitted FIN: acknowledge
    // it and restart the 2MSL timeout. Other late segments are dropped with an ACK.
    c.timers.set(Timer.TIME_WAIT, now + c.config.timeWait);
    c.pending |= Work.ACK;
    return Acceptance.DROP;
  }
  outOfWindowAck(c, now, seg);
  return Acceptance.DROP;
}

/**
 * LINUX tcp_sequence (6.18): the right edge. A segment ending past RCV.NXT + RCV.WND is dropped
 * (BeyondWindow, answered with a duplicate ACK) when it starts past the edge too, or when the
 * receive queue holds unread data; while the queue is empty it is taken whole (tcp_data_queue
 * then charges it with sk_forced_mem_schedule: a peer that overruns the window of an idle
 * reader is not stalled). A FIN just past the edge is taken ("Some stacks are known to handle
 * FIN incorrectly"): a peer sending FINs into a zero window gets them acknowledged instead of an
 * ACK loop. Null: the edge is not crossed, the §3.10.7.4 table decides. (RFC 9293 §3.10.7.4
 * would trim the text to the window instead.)
 */
function rightEdge(c: Connection, now: Instant, seg: TcpRepr): Acceptance | null {
  const flags = seg.flags;
  const rcv = c.rcv;
  if (flags & (SYN | RST) || c.state === 'TIME_WAIT') return null;
  const wnd = Math.max(0, seqDiff(rcv.rcvAdv, rcv.rcvNxt));
  const limit = seqAdd(rcv.rcvNxt, wnd);
  const end = seqAdd(seg.seq, segLen(seg));
  if (!seqGt(end, limit)) return null;
  if (!seqGt(flags & FIN ? seqAdd(end, -1) : end, limit)) {
    // LINUX tcp_data_queue: a bare FIN at a zero window is queued with forced memory, and a
    // failed tcp_try_rmem_schedule asks for an ACK now (ICSK_ACK_NOW).
    if (wnd === 0 && seg.payload.length === 0) c.pending |= Work.ACK;
    return seg.payload.length === 0 || wnd > 0 ? Acceptance.OK : zeroWindow(c);
  }
  bump(c.mib, 'BeyondWindow');
  if (seqGt(seg.seq, limit) || rcv.recvBuf.length > 0) {
    outOfWindowAck(c, now, seg);
    return Acceptance.DROP;
  }
  return wnd > 0 ? Acceptance.OK : zeroWindow(c);
}

/**
 * LINUX tcp_data_queue: text at RCV.NXT into a zero window is dropped (TCPZeroWindowDrop) and
 * answered at once in quick-ACK mode; its ACK field still counts.
 */
function zeroWindow(c: Connection): Acceptance {
  bump(c.mib, 'TCPZeroWindowDrop');
  c.rcv.quickAcks = Math.max(c.rcv.quickAcks, c.config.quickAcks);
  c.pending |= Work.ACK;
  return Acceptance.ACK_ONLY;
}

/** LINUX tcp_rcv_rtt_measure_ts: data echoing our timestamp gives the receiver's RTT. */
export function measureRcvRtt(c: Connection, now: Instant, tsEcr: number): void {
  const ticks = (tsClock(c, now) - tsEcr) >>> 0;
  if (ticks >= 0x7fffffff) return;
  const sample = Math.max(1000, ticks * 1000);
  const rcv = c.rcv;
  rcv.rcvRtt = rcv.rcvRtt === 0 ? sample : Math.round(rcv.rcvRtt - rcv.rcvRtt / 8 + sample / 8);
}

/**
 * RECEIVE (RFC 9293 §3.10.3): copy up to dst.length bytes out; returns the count. Opening the
 * window may make an ACK (window update) due.
 */
export function readData(c: Connection, dst: Uint8Array, peek: boolean, now: Instant | undefined): number {
  const rcv = c.rcv;
  const n = Math.min(dst.length, rcv.recvBuf.length);
  if (n === 0) return 0;
  rcv.recvBuf.copyOut(dst, 0, 0, n);
  if (peek) return n;
  rcv.recvBuf.consume(n);
  if (now !== undefined && c.config.moderateRcvbuf) rcvSpaceAdjust(c, now, n);
  // RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.3.3: a window update once the window we could offer
  // exceeds what we last advertised by at least min(half the buffer, one MSS) — receiver-side
  // silly window avoidance — and (LINUX tcp_cleanup_rbuf) is at least twice the advertised one.
  // Compared with the advertised window, so many small reads add up.
  const win = receiveWindow(c);
  const adv = Math.max(0, seqDiff(rcv.rcvAdv, rcv.rcvNxt));
  const threshold = Math.min(c.config.recvBuffer / 2, c.advMss);
  if (isSynchronized(c.state) && win - adv >= threshold && win >= 2 * adv) c.pending |= Work.ACK;
  return n;
}

/**
 * LINUX tcp_rcv_space_adjust (dynamic right-sizing): once per RTT, if the application read more
 * than in any earlier RTT, make the buffer twice that (up to recvBufferMax), so the advertised
 * window can cover the path's bandwidth-delay product while a slow reader still gets a small one.
 */
export function rcvSpaceAdjust(c: Connection, now: Instant, n: number): void {
  const rcv = c.rcv;
  if (rcv.rcvSpaceStart < 0) rcv.rcvSpaceStart = now;
  // Capped below 2^30 (a small integer V8 keeps in the object; past it the field would become a
  // boxed double in every Receiver of the process): only a zero-RTT path, where the measurement
  // never ends, gets near it, and the buffer it sizes stops at recvBufferMax long before.
  rcv.rcvSpaceCopied = Math.min(rcv.rcvSpaceCopied + n, 0x3fffffff);
  const rtt = rcv.rcvRtt > 0 ? rcv.rcvRtt : c.snd.rtt.srtt;
  if (rtt <= 0 || now - rcv.rcvSpaceStart < rtt) return;
  if (rcv.rcvSpaceCopied > rcv.rcvSpace) {
    rcv.rcvSpace = rcv.rcvSpaceCopied;
    const want = Math.min(c.config.recvBufferMax, 2 * rcv.rcvSpaceCopied + 16 * c.advMss);
    if (want > c.config.recvBuffer) {
      c.ownConfig().recvBuffer = want;
      rcv.recvBuf.max = want;
    }
  }
  rcv.rcvSpaceStart = now;
  rcv.rcvSpaceCopied = 0;
}

/**
 * LINUX tcp_rcvbuf_grow from tcp_data_queue_ofo (6.16+, "adjust rcvbuf in presence of
 * reorders"): out-of-order data on an accepted socket grows the buffer to twice the measured
 * receive space plus the span held past RCV.NXT, so the sender is not held back while the hole
 * is repaired (not-yet-accepted and orphaned sockets do not grow: hasSocket). The space before
 * the first measurement is LINUX tcp_init_buffer_space's: min(window, 10 segments).
 */
function rcvbufGrowOfo(c: Connection): void {
  const rcv = c.rcv;
  const space = rcv.rcvSpace > 0 ? rcv.rcvSpace : Math.min(rcv.rcvClamp, 10 * c.advMss);
  const held = Math.max(0, seqDiff(rcv.reasm.highEdge, rcv.rcvNxt));
  // The buffer for that window: LINUX tcp_space_from_win at the default scaling_ratio (half of
  // sk_rcvbuf is window), as SO_RCVBUF and tcp_rmem (recvBuffer) count it.
  const want = Math.min(c.config.recvBufferMax, 2 * (2 * space + held));
  if (want > c.config.recvBuffer) {
    c.ownConfig().recvBuffer = want;
    rcv.recvBuf.max = want;
  }
}

/**
 * ACK, window and options on an outgoing segment of a synchronized connection; sending any ACK
 * cancels a pending delayed ACK.
 */
export function fillAck(c: Connection, now: Instant, out: TcpRepr): void {
  out.flags |= ACK;
  out.ack = c.rcv.rcvNxt;
  out.window = advertise(c);
  if (c.tsEnabled) setTs(c, now, out, c.rcv.tsRecent);
  if (c.sackEnabled && (!c.rcv.reasm.isEmpty || c.rcv.dsackStart !== c.rcv.dsackEnd)) {
    const max = c.tsEnabled ? 3 : 4;
    let k = 0;
    if (c.rcv.dsackStart !== c.rcv.dsackEnd) {
      // RFC 2883 §4: the D-SACK block goes first, once.
      out.sackBlocks[0] = c.rcv.dsackStart;
      out.sackBlocks[1] = c.rcv.dsackEnd;
      c.rcv.dsackStart = c.rcv.dsackEnd;
      k = 1;
    }
    for (const [l, r] of c.rcv.reasm.blocks(max - k)) {
      out.sackBlocks[2 * k] = l;
      out.sackBlocks[2 * k + 1] = r;
      k++;
    }
    out.sackCount = k;
  }
  c.rcv.lastAckSent = c.rcv.rcvNxt;
  c.pending &= ~Work.ACK;
  c.rcv.bytesSinceAck = 0;
  c.timers.stop(Timer.DELAYED_ACK);
  c.lastSend = now;
}

/**
 * The window field to send (RFC 9293 §3.8.6.2.2 receiver SWS avoidance, RFC 7323 §2.3 scaling):
 * never move the right edge left; move it right only by at least min(buffer/2, MSS).
 */
export function advertise(c: Connection): number {
  const free = receiveWindow(c);
  const cur = Math.max(0, seqDiff(c.rcv.rcvAdv, c.rcv.rcvNxt));
  let wnd = free;
  if (wnd - cur < Math.min(c.config.recvBuffer / 2, c.advMss)) wnd = cur;
  // Integer arithmetic (windows are below 2^31): shifts instead of Math.ceil(x / 2 ** scale).
  const scale = c.rcvWscale;
  const unit = 1 << scale;
  let raw = (wnd + unit - 1) >>> scale;
  if (raw * unit > Math.max(free, cur)) raw = wnd >>> scale;
  // Rounding down must not pull the right edge left of what we offered (RFC 7323 §2.4, RFC 9293
  // §3.8.6): LINUX tcp_select_window rounds the current window up instead ("Never shrink the
  // offered window": ALIGN(cur_win, 1 << wscale)), even past the free buffer — receiveText takes
  // what the offered window allows. The window still closes: the edge stays, and data fills it.
  const curUp = (cur + unit - 1) >>> scale;
  if (raw * unit < cur) raw = curUp;
  if (raw > 65535) raw = 65535;
  const edge = seqAdd(c.rcv.rcvNxt, raw * unit);
  if (seqGt(edge, c.rcv.rcvAdv) || raw === 0) c.rcv.rcvAdv = seqGt(edge, c.rcv.rcvAdv) ? edge : c.rcv.rcvAdv;
  return raw;
}

/** §3.10.7.4 table: is any part of the segment inside the receive window? */
export function acceptable(c: Connection, seg: TcpRepr, len: number): boolean {
  const wnd = Math.max(0, seqDiff(c.rcv.rcvAdv, c.rcv.rcvNxt));
  if (len === 0) return wnd === 0 ? seg.seq === c.rcv.rcvNxt : inWindow(seg.seq, c.rcv.rcvNxt, wnd);
  if (wnd === 0) return false;
  return inWindow(seg.seq, c.rcv.rcvNxt, wnd) || inWindow(seqAdd(seg.seq, len - 1), c.rcv.rcvNxt, wnd);
}

/** Bytes past RCV.NXT the receive buffer takes: its free space, or up to the offered edge. */
function inOrderRoom(c: Connection): number {
  return Math.max(c.rcv.recvBuf.free, seqDiff(c.rcv.rcvAdv, c.rcv.rcvNxt));
}

/**
 * In-order data goes to the receive buffer, later data to reassembly (§3.10.7.4 seventh). The
 * text is buf[off, off + len) (the frame it arrived in: no view is made of it).
 */
export function receiveText(c: Connection, now: Instant, seq: number, buf: Uint8Array, off: number, len: number): void {
  const skip = seqDiff(c.rcv.rcvNxt, seq);
  if (skip > 0) {
    // RFC 2883 §4.1: report the duplicate part as the first (D-SACK) block.
    if (c.sackEnabled) {
      c.rcv.dsackStart = seq;
      c.rcv.dsackEnd = seqAdd(seq, Math.min(skip, len));
    }
    if (skip >= len) {
      c.pending |= Work.ACK; // a complete duplicate: ACK at once (RFC 5681 §4.2)
      return;
    }
    off += skip;
    len -= skip;
    seq = c.rcv.rcvNxt;
  }
  // LINUX tcp_data_queue: in-order text for an empty receive queue is taken whole, whatever the
  // window and memory (sk_forced_mem_schedule; rightEdge let it in).
  const forced = seq === c.rcv.rcvNxt && c.rcv.recvBuf.length === 0;
  // Otherwise trim what does not fit in the buffer or the window we offered (which may reach past
  // the buffer by less than one scale unit: advertise rounds up rather than move the edge left).
  const fits = seqDiff(seqAdd(c.rcv.rcvNxt, inOrderRoom(c)), seq);
  const room = forced ? len : fits;
  if (forced && len > fits) c.pending |= Work.ACK; // over memory: ICSK_ACK_NOW
  if (room <= 0) {
    c.pending |= Work.ACK;
    return;
  }
  if (len > room) len = room;
  // LINUX tcp_data_queue / tcp_data_queue_ofo: charge the segment to receive memory first.
  if (!admitSegment(c, seq, len, forced)) {
    c.pending |= Work.ACK;
    return;
  }
  c.rcv.rcvMss = Math.max(c.rcv.rcvMss, Math.min(len, c.advMss));

  if (seq !== c.rcv.rcvNxt) {
    // Out of order: hold it and send an immediate duplicate ACK (RFC 5681 §4.2, RFC 9293 §3.10.7.4).
    if (!c.rcv.ofoQueue().insert(seq, buf.subarray(off, off + len)) && c.sackEnabled) {
      // RFC 2883 §4.2: a duplicate of out-of-order data held already.
      c.rcv.dsackStart = seq;
      c.rcv.dsackEnd = seqAdd(seq, len);
    }
    bump(c.mib, 'TCPOFOQueue');
    if (c.hasSocket && c.config.moderateRcvbuf) rcvbufGrowOfo(c);
    c.pending |= Work.ACK;
    return;
  }
  const hadHoles = !c.rcv.reasm.isEmpty;
  // By reference when the queue is empty and the stack lends (ring.ts): a reader in its data
  // callback then copies from the frame, once.
  let n = c.rcv.recvBuf.pushRef(buf, off, len, forced ? len : inOrderRoom(c));
  c.rcv.rcvNxt = seqAdd(c.rcv.rcvNxt, n);
  for (let more = c.rcv.reasm.takeContiguous(c.rcv.rcvNxt); more !== null; more = c.rcv.reasm.takeContiguous(c.rcv.rcvNxt)) {
    const m = c.rcv.recvBuf.push(more, 0, more.length, inOrderRoom(c));
    c.rcv.rcvNxt = seqAdd(c.rcv.rcvNxt, m);
    n += m;
  }
  // RFC 2883 §4.2: in-order data that covered held out-of-order data reports it as a duplicate.
  const dup = hadHoles ? c.rcv.reasm.takeDuplicate() : null;
  if (dup !== null && c.sackEnabled && c.rcv.dsackStart === c.rcv.dsackEnd) {
    c.rcv.dsackStart = dup[0];
    c.rcv.dsackEnd = dup[1];
  }
  c.rcv.bytesSinceAck += n;
  if (c.rcv.ato === 0) c.rcv.ato = c.config.delAckMin; // LINUX tcp_event_data_recv: the first data
  c.lastDataRecv = now; // LINUX tcp_event_data_recv: icsk_ack.lrcvtime
  // LINUX tcp_grow_window (simplified): open the clamp by twice what arrived.
  if (c.rcv.rcvClamp < c.config.recvBuffer) c.rcv.rcvClamp = Math.min(c.config.recvBuffer, c.rcv.rcvClamp + 2 * n);
  c.emit(EV.readable);
  if (c.rcv.oooFinSeq !== null && c.rcv.oooFinSeq === c.rcv.rcvNxt) {
    c.rcv.oooFinSeq = null;
    processFin(c, now);
    return;
  }
  scheduleAck(c, now, hadHoles);
}

/**
 * Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2) with Linux's timing: quick-ACK mode at the
 * start, then an ACK for every second full-sized segment or after the delayed-ACK timeout.
 */
export function scheduleAck(c: Connection, now: Instant, filledHole: boolean): void {
  // LINUX tcp_in_quickack_mode: quick ACKs are for a connection that is not interactive.
  if (filledHole || (c.rcv.quickAcks > 0 && c.rcv.ato >= 0)) {
    if (c.rcv.quickAcks > 0) c.rcv.quickAcks--;
    c.pending |= Work.ACK;
    return;
  }
  // LINUX __tcp_ack_snd_check: more than one full frame received since the last ACK.
  if (c.rcv.bytesSinceAck > c.rcv.rcvMss) {
    c.pending |= Work.ACK;
    return;
  }
  if (!c.timers.isSet(Timer.DELAYED_ACK)) c.timers.set(Timer.DELAYED_ACK, now + c.config.delAckMin);
}

/** LINUX tcp_enter_quickack_mode: ACK the next segments at once, leave interactive mode. */
export function enterQuickAck(c: Connection): void {
  c.rcv.quickAcks = Math.max(c.rcv.quickAcks, c.config.quickAcks);
  c.rcv.ato = c.config.delAckMin;
}

/**
 * Data goes out (LINUX tcp_event_data_sent): sent within the ACK timeout of the last data
 * received, it is a reply, and the connection becomes interactive ("pingpong"): its peer's next
 * data waits for the delayed-ACK timer or our next reply instead of a quick ACK.
 */
export function replySent(c: Connection, now: Instant): void {
  if (c.rcv.ato > 0 && now - c.lastDataRecv < c.rcv.ato) c.rcv.ato = -c.rcv.ato;
}

/**
 * The delayed-ACK timer finds an ACK owed (LINUX tcp_delack_timer_handler): a missed reply ends
 * interactive mode.
 */
export function delayedAckDue(c: Connection): void {
  if (c.rcv.ato < 0) c.rcv.ato = c.config.delAckMin;
  c.pending |= Work.ACK;
}

/**
 * RFC 5961 challenge ACK, LINUX-rate-limited per connection (tcp_invalid_ratelimit, 500 ms).
 */
export function challengeAck(c: Connection, now: Instant): void {
  if (now - c.rcv.lastOowAck < c.config.invalidRateLimit) {
    bump(c.mib, 'TCPACKSkippedChallenge');
    return;
  }
  c.rcv.lastOowAck = now;
  bump(c.mib, 'TCPChallengeACK');
  c.pending |= Work.ACK;
}

/** ACK for an unacceptable segment (§3.10.7.4). LINUX tcp_oow_rate_limited: pure ACKs only. */
export function outOfWindowAck(c: Connection, now: Instant, seg: TcpRepr): void {
  if (seg.flags & SYN && isSynchronized(c.state)) {
    // LINUX tcp_validate_incoming: a SYN out of the window goes to syn_challenge, the
    // rate-limited challenge ACK (RFC 5961 §4.2), like one inside it.
    bump(c.mib, 'TCPSYNChallenge');
    challengeAck(c, now);
    return;
  }
  const len = segLen(seg);
  if (len > 0 && seqLt(seg.seq, c.rcv.rcvNxt) && isSynchronized(c.state)) {
    // An old duplicate: RFC 2883 §4.1 D-SACK for it (LINUX tcp_send_dupack, which also
    // re-enters quick-ACK mode: the peer is retransmitting, our ACKs may have been lost).
    if (c.sackEnabled) {
      c.rcv.dsackStart = seg.seq;
      const end = seqAdd(seg.seq, len);
      c.rcv.dsackEnd = seqLt(end, c.rcv.rcvNxt) ? end : c.rcv.rcvNxt;
    }
    enterQuickAck(c);
  }
  // LINUX tcp_oow_rate_limited: "Data packets without SYNs are not likely part of an ACK loop".
  if ((seg.payload.length === 0 || seg.flags & SYN) && now - c.rcv.lastOowAck < c.config.invalidRateLimit) {
    bump(c.mib, 'TCPACKSkippedSeq');
    return;
  }
  c.rcv.lastOowAck = now;
  c.pending |= Work.ACK;
}
