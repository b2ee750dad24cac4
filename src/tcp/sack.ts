import { seqDiff, seqGe, seqGt, seqLe, seqLt, type SeqNum } from '../seq.js';

/**
 * The sender's SACK scoreboard (RFC 6675 §3): which bytes above SND.UNA the peer reported
 * holding. Ranges are sorted and disjoint. The connection decides what is lost with RACK
 * (rack.ts, RFC 8985), which reads these ranges; the DupThresh `threshold` below serves the
 * duplicate-ACK path (NewReno without SACK, early retransmit).
 */
export const DUP_THRESH = 3;

/** The ranges of every scoreboard that never saw a SACK block (an idle TCB's array, 32 B, saved). */
const NO_RANGES: number[] = Object.freeze([]) as unknown as number[];

export class Scoreboard {
  /**
   * The reordering degree in segments (RFC 6675 DupThresh; LINUX tp->reordering): 3 to start,
   * raised when D-SACKs show that what looked lost was only reordered.
   */
  dupThresh = DUP_THRESH;
  /** Segments in flight, set by the connection before loss checks (bounds the threshold). */
  flightSegs = 0;
  /** No unsent data is waiting (early retransmit applies), set with flightSegs. */
  noNewData = false;

  /**
   * The threshold in use: the learned degree, but never more than two thirds of what is in
   * flight (RFC 4653 §3's extended limited transmit bound), so a large degree learned from one
   * D-SACK cannot make a small window wait for a timeout.
   */
  get threshold(): number {
    // RFC 5827 early retransmit: with fewer than four segments in flight and nothing new to send,
    // three duplicate ACKs can never arrive; one fewer than the flight suffices.
    // (With a single segment in flight there is nothing to compare it with: no early retransmit.)
    if (this.noNewData && this.flightSegs >= 2 && this.flightSegs < 4) return this.flightSegs - 1;
    return Math.max(DUP_THRESH, Math.min(this.dupThresh, Math.floor((2 * this.flightSegs) / 3)));
  }
  /**
   * [start0, end0, start1, end1, ...]; the shared empty NO_RANGES until the peer first SACKs
   * (add() makes a new array; nothing writes into NO_RANGES).
   */
  private r: number[] = NO_RANGES;
  /** RFC 6675 HighRxt: the highest sequence number retransmitted in this recovery. */
  get highRxt(): SeqNum { return this.#highRxt >>> 0; }
  set highRxt(v: SeqNum) { this.#highRxt = v | 0; }
  /** As int32 (a small integer in the object, no boxed number: sender.ts). */
  #highRxt = 0;

  /** Number of SACKed ranges; startAt/endAt read them in order without allocating. */
  get count(): number {
    return this.r.length >> 1;
  }
  startAt(i: number): SeqNum {
    return this.r[2 * i]!;
  }
  endAt(i: number): SeqNum {
    return this.r[2 * i + 1]!;
  }

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  clear(): void {
    if (this.r.length !== 0) this.r.length = 0;
  }

  /** Highest SACKed sequence number (end of the last range), or `fallback`. */
  highSacked(fallback: SeqNum): SeqNum {
    return this.r.length > 0 ? this.r[this.r.length - 1]! : fallback;
  }



  /** Total bytes SACKed. */
  get sackedBytes(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += seqDiff(this.r[i + 1]!, this.r[i]!);
    return n;
  }

  /** If `seq` is inside a SACKed range, that range's end; otherwise null. */
  sackedEnd(seq: SeqNum): SeqNum | null {
    for (let i = 0; i < this.r.length; i += 2) {
      if (seqLe(this.r[i]!, seq) && seqLt(seq, this.r[i + 1]!)) return this.r[i + 1]!;
    }
    return null;
  }

  /** Drop everything below the cumulative ACK. */
  pruneBelow(una: SeqNum): void {
    const r = this.r;
    if (r.length === 0) return; // the common case: no SACK ranges (and no length store, a runtime call)
    let k = 0;
    for (let i = 0; i < r.length; i += 2) {
      let s = r[i]!;
      const e = r[i + 1]!;
      if (seqLe(e, una)) continue;
      if (seqLt(s, una)) s = una;
      r[k++] = s;
      r[k++] = e;
    }
    if (k !== r.length) r.length = k;
  }

  /**
   * Merge the SACK blocks of an incoming ACK (RFC 2018 §4). Blocks outside (SND.UNA, SND.MAX]
   * are ignored (RFC 6675 §4 checks). Returns true when the first block is a D-SACK (RFC 2883
   * §4: it lies below the cumulative ACK, or inside the second block).
   */
  update(blocks: Uint32Array, count: number, ack: SeqNum, sndMax: SeqNum, segAck: SeqNum = ack): boolean {
    let dsack = false;
    if (count > 0) {
      const s0 = blocks[0]!;
      const e0 = blocks[1]!;
      // Below the ACK field of this segment (RFC 2883 §4), not below SND.UNA: an old ACK that
      // arrives after a newer one (reordered ACKs) carries ordinary blocks below SND.UNA.
      if (seqLe(e0, segAck)) dsack = true;
      else if (count > 1 && seqGe(s0, blocks[2]!) && seqLe(e0, blocks[3]!)) dsack = true;
    }
    for (let i = dsack ? 1 : 0; i < count; i++) {
      let s = blocks[2 * i]!;
      const e = blocks[2 * i + 1]!;
      if (!seqLt(s, e) || seqGt(e, sndMax) || seqLe(e, ack)) continue;
      if (seqLt(s, ack)) s = ack;
      this.add(s, e);
    }
    this.pruneBelow(ack);
    return dsack;
  }

  private add(s: SeqNum, e: SeqNum): void {
    const r = this.r;
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < r.length; i += 2) {
      const a = r[i]!;
      const b = r[i + 1]!;
      if (seqLt(b, s)) out.push(a, b);
      else if (seqLt(e, a)) {
        if (!placed) {
          out.push(s, e);
          placed = true;
        }
        out.push(a, b);
      } else {
        // overlap or touch: absorb
        if (seqLt(a, s)) s = a;
        if (seqGt(b, e)) e = b;
      }
    }
    if (!placed) out.push(s, e);
    this.r = out;
  }

  /** Ranges for tests and snapshots. */
  ranges(): [SeqNum, SeqNum][] {
    const out: [SeqNum, SeqNum][] = [];
    for (let i = 0; i < this.r.length; i += 2) out.push([this.r[i]!, this.r[i + 1]!]);
    return out;
  }
}

