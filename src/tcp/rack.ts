import { seqDiff, seqGe, seqGt, seqLe, seqLt, type SeqNum } from '../seq.js';
import { NEVER, type Instant } from '../time.js';
import type { Connection } from './connection.js';
import { tsBefore, tsClock } from './clock.js';
import { bump } from '../mib.js';

/**
 * RACK time-based loss detection (RFC 8985 §6), Linux's default loss detection with SACK
 * (LINUX tcp_recovery.c). Per connection, the transmit time of every data segment sent and not
 * yet cumulatively acknowledged; on each ACK the most recently sent segment that was delivered
 * sets RACK.xmit_ts, and every segment sent more than RACK.rtt + RACK.reo_wnd before now and
 * before RACK.xmit_ts is lost — also a lost retransmission, which DupThresh never sees.
 *
 * The segments live in one array of doubles used as a ring of records (start, end, xmit time, flags,
 * transmission number), in sequence order: no per-segment objects. It is allocated at the first
 * send. RFC 8985 §6.2 RACK_sent_after orders transmissions by (xmit_ts, end_seq); a virtual
 * clock sends whole bursts at one instant, where a retransmission sent after new data has the
 * lower end_seq, so the order here is a transmission counter (what the tie-break stands for).
 */

const STRIDE = 5;
/** The segment was retransmitted at least once (its time is the latest transmission's). */
const RETRANS = 1;
/** RACK marked it lost (RFC 8985 §6.2 step 5), and it has not been retransmitted since. */
const LOST = 2;
/** SACKed (RFC 2018). */
const SACKED = 4;
/**
 * Marked lost in this episode, retransmitted since or not, until delivered (LINUX TCPCB_LOST,
 * what lost_out and tcpi_lost count).
 */
const MARKED = 8;
/**
 * The first segment of a packet of the first transmission: where Linux's retransmit queue has
 * an skb boundary (tso_fragment cut the write's skb there).
 */
const PIECE_START = 16;

/**
 * Slots at the head of Rack.b, before the records: RACK's sequence numbers and instants, kept
 * unboxed there rather than as fields (one boxed number each per connection that sends data;
 * see Sender.q in sender.ts for what that costs).
 */
const XMIT_TS = 0;
const END_SEQ = 1;
const RTT = 2;
const MIN_RTT = 3;
const FACK = 4;
const FIRST_ACKT = 5;
const FIRST_SACKT = 6;
const REORD_LOW = 7;
const RXT_FIRST = 8;
const LAST_ACKT = 9;
const LAST_SACKT = 10;
const HEAD = 11;

export class Rack {
  /**
   * A plain array (V8 keeps it unboxed, PACKED_DOUBLE) rather than a Float64Array: a typed array
   * over 64 bytes gets an off-heap backing store (malloc, a finalizer, external-memory pressure
   * on the GC) for every connection that sends data; element access costs the same. The HEAD
   * slots come first, then the ring of records.
   */
  private b: number[];
  private head = 0;
  private n = 0;
  private mask = 0;
  /** RFC 8985 §6.1 RACK.xmit_ts and RACK.end_seq: the most recently sent segment delivered (-1: none yet). */
  get xmitTs(): number { return this.b[XMIT_TS]!; }
  set xmitTs(v: number) { this.b[XMIT_TS] = v; }
  get endSeq(): SeqNum { return this.b[END_SEQ]!; }
  set endSeq(v: SeqNum) { this.b[END_SEQ] = v; }
  /** Transmission number of RACK's segment, and the counter of transmissions. */
  private xmitNo = -1;
  private sends = 0;
  /** The transmission counter when the last ACK arrived: sends after it are one burst. */
  private sendsAtAck = 0;
  /** RFC 8985 §6.1 RACK.rtt: the RTT of that segment's delivery, µs. */
  get rtt(): number { return this.b[RTT]!; }
  set rtt(v: number) { this.b[RTT] = v; }
  /** RFC 8985 §6.1 RACK.min_RTT, µs (∞ before the first sample). */
  get minRtt(): number { return this.b[MIN_RTT]!; }
  set minRtt(v: number) { this.b[MIN_RTT] = v; }
  /** RFC 8985 §6.1 RACK.fack: the highest end sequence delivered. */
  get fack(): SeqNum { return this.b[FACK]!; }
  set fack(v: SeqNum) { this.b[FACK] = v; }
  private hasFack = false;
  /** RFC 8985 §6.1 RACK.reordering_seen. */
  reorderingSeen = false;
  /** How many ACKs showed reordering (LINUX tp->reord_seen, tcpi_reord_seen). */
  reordSeen = 0;
  /** RFC 8985 §6.2 step 4 RACK.reo_wnd_mult, RACK.reo_wnd_persist, RACK.dsack_round. */
  reoWndMult = 1;
  private reoWndPersist = 0;
  private dsackRound: SeqNum | null = null;
  /** Bytes marked lost and not retransmitted since (they left the pipe, RFC 6675 §4 SetPipe). */
  lostBytes = 0;
  /** Bytes marked lost (MARKED) and not yet delivered: LINUX lost_out, in bytes. */
  lostOut = 0;
  /**
   * The last ACK's sequence-based RTT evidence (LINUX tcp_clean_rtx_queue first_ackt and
   * FLAG_RETRANS_DATA_ACKED, tcp_sacktag_one first_sackt): when the first never-retransmitted
   * segment it acknowledged cumulatively was sent, whether it acknowledged any retransmitted
   * data, and when the first never-retransmitted segment it SACKed was sent (-1: none).
   */
  private get firstAckt(): number { return this.b[FIRST_ACKT]!; }
  private set firstAckt(v: number) { this.b[FIRST_ACKT] = v; }
  private retransAcked = false;
  private get firstSackt(): number { return this.b[FIRST_SACKT]!; }
  private set firstSackt(v: number) { this.b[FIRST_SACKT] = v; }
  /** The same for the last (most recently sent) such segments (LINUX last_ackt, last_sackt). */
  private get lastAckt(): number { return this.b[LAST_ACKT]!; }
  private set lastAckt(v: number) { this.b[LAST_ACKT] = v; }
  private get lastSackt(): number { return this.b[LAST_SACKT]!; }
  private set lastSackt(v: number) { this.b[LAST_SACKT] = v; }
  /**
   * The last ACK delivered (cumulatively or by SACK) a segment never retransmitted that ends at or
   * below the recovery's highSeq (LINUX FLAG_ORIG_SACK_ACKED, F-RTO's evidence of a spurious RTO),
   * and whether it newly SACKed anything (LINUX FLAG_DATA_SACKED).
   */
  origDelivered = false;
  newlySacked = false;
  /** Start of the lowest never-retransmitted segment an ACK delivered below RACK.fack (-1: none). */
  private get reordLow(): SeqNum { return this.b[REORD_LOW]!; }
  private set reordLow(v: SeqNum) { this.b[REORD_LOW] = v; }
  /**
   * Timestamp-based undo (RFC 3522 Eifel detection per segment; LINUX tp->retrans_stamp): when
   * the current fast recovery first retransmitted, how many retransmissions it made, and how
   * many of those a cumulative ACK showed unnecessary by echoing a timestamp older than that.
   * (Kept here rather than in the TCB: only SACK connections that sent data pay for them.)
   */
  get rxtFirst(): Instant { return this.b[RXT_FIRST]!; }
  set rxtFirst(v: Instant) { this.b[RXT_FIRST] = v; }
  rxtCount = 0;
  rxtSpurious = 0;

  constructor() {
    // A literal of -0s: V8 makes it an array of unboxed doubles from the start. Room for two
    // records at first (most connections send a few segments; grow() doubles it).
    const b = [-0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0, -0];
    b[XMIT_TS] = -1;
    b[END_SEQ] = 0;
    b[RTT] = 0;
    b[MIN_RTT] = Number.POSITIVE_INFINITY;
    b[FACK] = 0;
    b[FIRST_ACKT] = -1;
    b[FIRST_SACKT] = -1;
    b[REORD_LOW] = -1;
    b[RXT_FIRST] = NEVER;
    b[LAST_ACKT] = -1;
    b[LAST_SACKT] = -1;
    this.b = b;
    this.mask = 1;
  }

  /** Segments tracked. */
  get size(): number { return this.n; }

  private ix(i: number): number {
    return HEAD + ((this.head + i) & this.mask) * STRIDE;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    // -0 (a double, unlike 0) makes the array unboxed doubles before the first write.
    const nb = new Array<number>(HEAD + cap * STRIDE).fill(-0);
    const old = this.b;
    for (let j = 0; j < HEAD; j++) nb[j] = old[j]!;
    for (let i = 0; i < this.n; i++) {
      const k = this.ix(i);
      for (let j = 0; j < STRIDE; j++) nb[HEAD + i * STRIDE + j] = old[k + j]!;
    }
    this.b = nb;
    this.head = 0;
    this.mask = cap - 1;
  }


  private append(start: SeqNum, end: SeqNum, now: Instant, flags: number): void {
    if (this.n > this.mask) this.grow();
    const k = this.ix(this.n++);
    const b = this.b;
    b[k] = start;
    b[k + 1] = end;
    b[k + 2] = now;
    b[k + 3] = flags;
    b[k + 4] = this.sends;
  }

  /** Split record i at `at` (inside it) into [start, at) and [at, end), same time and flags. */
  private split(i: number, at: SeqNum): void {
    if (this.n > this.mask) this.grow();
    const b = this.b;
    for (let j = this.n; j > i + 1; j--) {
      const d = this.ix(j);
      const s = this.ix(j - 1);
      b[d] = b[s]!;
      b[d + 1] = b[s + 1]!;
      b[d + 2] = b[s + 2]!;
      b[d + 3] = b[s + 3]!;
      b[d + 4] = b[s + 4]!;
    }
    this.n++;
    const k = this.ix(i);
    const k1 = this.ix(i + 1);
    b[k1] = at;
    b[k1 + 1] = b[k + 1]!;
    b[k1 + 2] = b[k + 2]!;
    b[k1 + 3] = b[k + 3]! & ~PIECE_START;
    b[k1 + 4] = b[k + 4]!;
    b[k + 1] = at;
  }

  /** Index of the record starting at `seq`, or -1. */
  private indexAt(seq: SeqNum): number {
    if (this.n === 0) return -1;
    const i = this.search(seq);
    return i < this.n && this.b![this.ix(i)] === seq ? i : -1;
  }

  /**
   * A retransmission is one skb of Linux's retransmit queue, cut where the first transmission's
   * packets began (tso_fragment), where SACKs split it (tcp_fragment) and where ACKs trimmed it.
   * Does retransmitting the record at `start` now continue a retransmission of its skb (the
   * record before it, in the same skb and not SACKed, was the last thing sent, at `now`, with no
   * ACK since: one burst, as Linux's one call of tcp_xmit_retransmit_queue)?
   */
  rxtJoinsPrev(start: SeqNum, now: Instant): boolean {
    const i = this.indexAt(start);
    if (i <= 0) return false;
    const b = this.b!;
    const k = this.ix(i);
    const p = this.ix(i - 1);
    if ((b[k + 3]! & PIECE_START) !== 0 || b[p + 1] !== start || (b[p + 3]! & (RETRANS | SACKED)) !== RETRANS) return false;
    return b[p + 2] === now && b[p + 4] === this.sends && this.sends > this.sendsAtAck;
  }

  /**
   * Could the record at `end` go in the same retransmitted skb: same skb, not SACKed, and due
   * (marked lost, or everything unSACKed after a timeout's go-back)?
   */
  rxtNextJoins(end: SeqNum, goBack: boolean): boolean {
    const i = this.indexAt(end);
    if (i < 0) return false;
    const f = this.b![this.ix(i) + 3]!;
    return (f & (PIECE_START | SACKED)) === 0 && (goBack || (f & LOST) !== 0);
  }

  /** Index of the first record ending after `seq` (records are in sequence order). */
  private search(seq: SeqNum): number {
    let lo = 0;
    let hi = this.n;
    const b = this.b;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqGt(b[this.ix(mid) + 1]!, seq)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * [start, end) was just sent (RFC 8985 §6.2 step 1: "RACK.xmit_ts ... updated for every
   * transmission"): new data appends a record; a retransmission gives the records it covers the
   * new time and the retransmitted flag (splitting records at its edges).
   */
  onSend(start: SeqNum, end: SeqNum, now: Instant, retransmission = false, pieceStart = true): void {
    if (!seqLt(start, end)) return;
    this.sends++;
    const lastEnd = this.n > 0 ? this.b[this.ix(this.n - 1) + 1]! : start;
    if (this.n === 0 || seqGe(start, lastEnd)) {
      // (A retransmission of data never recorded: a Fast Open SYN's data, sent with the SYN.)
      this.append(start, end, now, (retransmission ? RETRANS : 0) | (pieceStart ? PIECE_START : 0));
      return;
    }
    let i = this.search(start);
    while (i < this.n) {
      const b = this.b;
      let k = this.ix(i);
      const s = b[k]!;
      if (!seqLt(s, end)) break;
      if (seqLt(s, start)) {
        this.split(i, start);
        i++;
        continue;
      }
      if (seqGt(b[k + 1]!, end)) {
        this.split(i, end);
        k = this.ix(i);
      }
      const f = this.b[k + 3]!;
      if (f & LOST) this.lostBytes -= seqDiff(this.b[k + 1]!, s);
      this.b[k + 2] = now;
      this.b[k + 3] = (f & ~LOST) | RETRANS;
      this.b[k + 4] = this.sends;
      i++;
    }
    if (seqGt(end, lastEnd)) this.append(lastEnd, end, now, 0);
  }

  /**
   * Retransmitted segments not yet delivered (LINUX retrans_out, tcpi_retrans): the records
   * retransmitted and neither SACKed nor cumulatively acknowledged.
   */
  retransOut(): number {
    let k = 0;
    for (let i = 0; i < this.n; i++) if ((this.b![this.ix(i) + 3]! & (RETRANS | SACKED)) === RETRANS) k++;
    return k;
  }

  /** Index of the first record marked lost (-1 when none), for startOf/endOf. */
  firstLostIndex(): number {
    if (this.lostBytes <= 0) return -1;
    const b = this.b;
    for (let i = 0; i < this.n; i++) {
      const k = this.ix(i);
      if ((b[k + 3]! & (LOST | SACKED)) === LOST) return i;
    }
    return -1;
  }

  /** Start and end of record i (from firstLostIndex). */
  startOf(i: number): SeqNum {
    return this.b[this.ix(i)]!;
  }
  endOf(i: number): SeqNum {
    return this.b[this.ix(i) + 1]!;
  }

  /**
   * An ACK arrived (RFC 8985 §6.2 steps 1–4): the records it newly delivers, cumulatively
   * (below `ack`) or selectively (inside the scoreboard's ranges, when `sacks`), update
   * RACK.xmit_ts/end_seq/rtt/min_RTT and RACK.fack/reordering_seen; delivered records leave the
   * lost count, cumulatively acknowledged ones the ring.
   */
  onAck(c: Connection, now: Instant, ack: SeqNum, sacks: boolean, tsEcr: number | null, dsack: boolean): void {
    const spurious = this.rxtSpurious;
    this.sendsAtAck = this.sends;
    this.deliveries(c, now, ack, sacks, tsEcr);
    // Step 4 (the D-SACK part): one increment of the multiplier per round trip that sees a
    // D-SACK (LINUX tcp_rack_update_reo_wnd) — or, here, a retransmission shown unnecessary by
    // its timestamp echo: the same evidence when the D-SACK itself is lost or reordered away.
    if (this.dsackRound !== null && seqGe(c.snd.sndUna, this.dsackRound)) this.dsackRound = null;
    if ((dsack || this.rxtSpurious > spurious) && this.dsackRound === null) {
      this.dsackRound = c.snd.sndMax;
      this.reoWndMult = Math.min(this.reoWndMult + 1, 0xff);
      this.reoWndPersist = 16;
      this.reorderingSeen = true;
    }
  }

  private deliveries(c: Connection, now: Instant, ack: SeqNum, sacks: boolean, tsEcr: number | null): void {
    this.firstAckt = -1;
    this.retransAcked = false;
    this.firstSackt = -1;
    this.lastAckt = -1;
    this.lastSackt = -1;
    this.origDelivered = false;
    this.newlySacked = false;
    if (this.n === 0) return;
    const highSeq = c.snd.rec.highSeq;
    const prevFack = this.fack;
    const hadFack = this.hasFack;
    let b = this.b;
    // LINUX tcp_ack: tcp_sacktag_write_queue before tcp_clean_rtx_queue.
    if (sacks) {
      const sb = c.snd.rec.sb;
      for (let r = 0; r < sb.count; r++) {
        const rs = sb.startAt(r);
        const re = sb.endAt(r);
        for (let i = this.search(rs); i < this.n; i++) {
          const k = this.ix(i);
          const s = b[k]!;
          const e = b[k + 1]!;
          if (!seqLt(s, re)) break;
          const f = b[k + 3]!;
          if (f & SACKED || seqLt(s, rs) || seqGt(e, re)) continue;
          this.deliver(c, now, k, prevFack, hadFack, null);
          if (!(f & RETRANS) && (this.firstSackt < 0 || b[k + 2]! < this.firstSackt)) this.firstSackt = b[k + 2]!;
          if (!(f & RETRANS) && b[k + 2]! > this.lastSackt) this.lastSackt = b[k + 2]!;
          if (!(f & RETRANS) && seqLe(e, highSeq)) this.origDelivered = true;
          this.newlySacked = true;
          if (f & LOST) this.lostBytes -= seqDiff(e, s);
          if (f & MARKED) this.lostOut -= seqDiff(e, s);
          b[k + 3] = (f & ~(LOST | MARKED)) | SACKED;
        }
      }
    }
    b = this.b;
    while (this.n > 0) {
      const k = this.ix(0);
      const s = b[k]!;
      const e = b[k + 1]!;
      const f = b[k + 3]!;
      if (seqLe(e, ack)) {
        if (!(f & SACKED)) this.deliver(c, now, k, prevFack, hadFack, tsEcr);
        if (f & RETRANS) this.retransAcked = true;
        else if (!(f & SACKED)) {
          if (this.firstAckt < 0) this.firstAckt = b[k + 2]!;
          this.lastAckt = b[k + 2]!;
          if (seqLe(e, highSeq)) this.origDelivered = true;
        }
        if ((f & (LOST | SACKED)) === LOST) this.lostBytes -= seqDiff(e, s);
        if ((f & (MARKED | SACKED)) === MARKED) this.lostOut -= seqDiff(e, s);
        this.head = (this.head + 1) & this.mask;
        this.n--;
        continue;
      }
      if (seqLt(s, ack)) {
        if ((f & (LOST | SACKED)) === LOST) this.lostBytes -= seqDiff(ack, s);
        if ((f & (MARKED | SACKED)) === MARKED) this.lostOut -= seqDiff(ack, s);
        b[k] = ack;
      }
      break;
    }
    if (this.lostBytes < 0) this.lostBytes = 0;
    if (this.lostOut < 0) this.lostOut = 0;
    // LINUX tcp_check_sack_reordering: a hole filled below the highest SACK without a
    // retransmission measures the reordering degree (tp->reordering, tcpi_reordering).
    if (this.reordLow !== -1) {
      const mss = c.effMss;
      const metric = seqDiff(this.fack, this.reordLow);
      const sb = c.snd.rec.sb;
      if (metric > sb.dupThresh * mss) sb.dupThresh = Math.min(300, Math.ceil(metric / mss));
      this.reordSeen++; // LINUX: "This exciting event is worth to be remembered."
      this.reordLow = -1;
    }
  }

  /**
   * The RTT sample the last ACK gives from the segments' send times (LINUX tcp_ack_update_rtt:
   * "Prefer RTT measured from ACK's timing to TS-ECR"): from the first never-retransmitted
   * segment it acknowledged cumulatively, unless it also acknowledged retransmitted data (Karn),
   * else from the first never-retransmitted segment it SACKed; -1 when there is none.
   */
  seqRtt(now: Instant): number {
    if (this.firstAckt >= 0 && !this.retransAcked) return now - this.firstAckt;
    if (this.firstSackt >= 0) return now - this.firstSackt;
    return -1;
  }

  /**
   * The RTT the congestion control hears of (LINUX tcp_clean_rtx_queue ca_rtt_us, "RTT of last
   * (S)ACKed packet"): from the most recently sent never-retransmitted segment the last ACK
   * SACKed, else the one it acknowledged cumulatively (not with retransmitted data); -1: none.
   */
  caRtt(now: Instant): number {
    if (this.lastSackt >= 0) return now - this.lastSackt;
    if (this.lastAckt >= 0 && !this.retransAcked) return now - this.lastAckt;
    return -1;
  }

  /** RFC 8985 §6.2 steps 2 and 3 for one newly delivered record. */
  private deliver(c: Connection, now: Instant, k: number, prevFack: SeqNum, hadFack: boolean, tsEcr: number | null): void {
    const b = this.b;
    const e = b[k + 1]!;
    const ts = b[k + 2]!;
    const f = b[k + 3]!;
    c.snd.delivered++; // LINUX tcp_clean_rtx_queue / tcp_sacktag_one: tp->delivered, in packets
    // Step 3: a never-retransmitted segment delivered below RACK.fack arrived out of order.
    if (hadFack && seqLt(e, prevFack) && !(f & RETRANS)) {
      this.reorderingSeen = true;
      if (this.reordLow === -1 || seqLt(b[k]!, this.reordLow)) this.reordLow = b[k]!;
    }
    if (!this.hasFack || seqGt(e, this.fack)) {
      this.fack = e;
      this.hasFack = true;
    }
    const rtt = now - ts;
    if (f & RETRANS) {
      // Step 2: the ACK may be for the original transmission: a timestamp echo older than the
      // retransmission's TSval, or an RTT below the minimum, says so; such a segment is skipped.
      // The echo is only tested on cumulative ACKs (`tsEcr` is null for SACKed segments): for
      // out-of-order data the receiver echoes the last in-order segment's timestamp (RFC 7323
      // §4.3), whichever copy arrived — a SACKed tail loss probe would never count. LINUX
      // tcp_rack_advance uses the min_RTT test alone.
      if (tsEcr !== null && tsBefore(tsEcr, tsClock(c, ts))) {
        // The ACK that fills the hole echoes a timestamp older than the recovery's first
        // retransmission: the original filled it, this retransmission was unnecessary (RFC 3522
        // Eifel detection; LINUX tcp_packet_delayed).
        if (this.rxtFirst !== NEVER && ts >= this.rxtFirst && tsBefore(tsEcr, tsClock(c, this.rxtFirst))) this.rxtSpurious++;
        return;
      }
      if (rtt < this.minRtt) return;
    }
    if (rtt < this.minRtt) this.minRtt = rtt;
    // LINUX tcp_rack_advance: RACK.rtt is the last delivered segment's RTT in the order the ACK is
    // processed (SACKed, then cumulatively acknowledged, each in sequence order), while
    // RACK.xmit_ts/end_seq stay the most recently sent's. (RFC 8985 §6.2 step 2 takes both from
    // the most recently sent; after a partial ACK fills an old hole, Linux's longer RTT keeps later
    // segments out of the lost set a while longer.)
    this.rtt = rtt;
    if (this.xmitNo < 0 || b[k + 4]! > this.xmitNo) {
      this.xmitTs = ts;
      this.endSeq = e;
      this.xmitNo = b[k + 4]!;
    }
  }

  /**
   * RFC 8985 §6.2 step 4 RACK.reo_wnd: 0 while no reordering was seen and the connection is in
   * recovery or DupThresh segments are SACKed (it then behaves like DupThresh); otherwise a
   * quarter of min_RTT, times the D-SACK multiplier, at most SRTT.
   */
  reoWnd(c: Connection): number {
    if (!this.reorderingSeen) {
      if (c.snd.rec.recovering) return 0;
      // LINUX tcp_rack_reo_wnd: as many SACKed as the reordering degree (tp->reordering).
      if (c.snd.rec.sb.sackedBytes >= c.snd.rec.sb.dupThresh * c.effMss) return 0;
    }
    const min = Number.isFinite(this.minRtt) ? this.minRtt : c.snd.rtt.srtt;
    return Math.floor(Math.min((this.reoWndMult * min) / 4, c.snd.rtt.srtt));
  }

  /**
   * RFC 8985 §6.2 step 5 RACK_detect_loss: every segment not delivered that was sent before
   * RACK.xmit_ts (ordered by (xmit_ts, end_seq)) and more than RACK.rtt + RACK.reo_wnd ago is
   * lost. Returns the time until the youngest other candidate is old enough (0: none), which
   * §6.3 arms the reordering timer with.
   */
  detect(c: Connection, now: Instant): number {
    if (this.n === 0 || this.xmitTs < 0) return 0;
    const reo = this.reoWnd(c);
    const b = this.b;
    let timeout = 0;
    let lost = 0;
    for (let i = 0; i < this.n; i++) {
      const k = this.ix(i);
      const e = b[k + 1]!;
      const ts = b[k + 2]!;
      const f = b[k + 3]!;
      if (b[k + 4]! >= this.xmitNo) {
        // Sent after RACK's segment. Records never retransmitted are in transmit order, so
        // every later one was sent later still (and a later retransmitted one later again).
        if (!(f & RETRANS)) break;
        continue;
      }
      if (f & (LOST | SACKED)) continue;
      const remaining = ts + this.rtt + reo - now;
      if (remaining <= 0) {
        b[k + 3] = f | LOST | MARKED;
        this.lostBytes += seqDiff(e, b[k]!);
        if (!(f & MARKED)) this.lostOut += seqDiff(e, b[k]!);
        lost++;
      } else if (remaining > timeout) timeout = remaining;
    }
    if (lost > 0) bump(c.mib, 'TCPRackLoss', lost);
    return Math.ceil(timeout);
  }

  /** Leaving fast or RTO recovery (RFC 8985 §6.2 step 4): 16 D-SACK-free recoveries reset the multiplier. */
  onRecoveryExit(): void {
    if (this.reoWndPersist > 0 && --this.reoWndPersist === 0) this.reoWndMult = 1;
  }

  /**
   * A retransmission timeout: the go-back from SND.UNA resends everything not SACKed, so lost
   * marks are dropped (the retransmissions give each record its new time).
   */
  onRto(): void {
    const b = this.b;
    this.lostBytes = 0;
    this.lostOut = 0;
    // LINUX tcp_enter_loss marks everything not SACKed lost (lost_out).
    for (let i = 0; i < this.n; i++) {
      const k = this.ix(i);
      const f = b[k + 3]!;
      b[k + 3] = f & SACKED ? f & ~(LOST | MARKED) : (f & ~LOST) | MARKED;
      if (!(f & SACKED)) this.lostOut += seqDiff(b[k + 1]!, b[k]!);
    }
  }

  /**
   * An undone timeout (LINUX tcp_undo_cwnd_reduction with unmark_loss): nothing is lost after
   * all; every segment not delivered is in flight again.
   */
  unmarkLost(): void {
    const b = this.b;
    this.lostBytes = 0;
    this.lostOut = 0;
    for (let i = 0; i < this.n; i++) {
      const k = this.ix(i);
      b[k + 3] = b[k + 3]! & ~(LOST | MARKED);
    }
  }

  /** Everything forgotten (connection closed). */
  clear(): void {
    this.n = 0;
    this.head = 0;
    this.lostBytes = 0;
    this.lostOut = 0;
  }
}
