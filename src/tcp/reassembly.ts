import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, type SeqNum } from '../seq.js';

/**
 * Out-of-order segments held for reassembly (RFC 9293 §3.10.7.4 "segments with higher
 * beginning sequence numbers may be held for later processing"). Ranges are kept sorted and
 * disjoint; each holds its own copy of the bytes (the packet buffer is not retained).
 * The receive window bounds what is accepted, so memory is bounded by the window.
 */
export interface OooRange {
  start: SeqNum;
  end: SeqNum;
  data: Uint8Array;
  /** When the range last received data (a counter): SACK blocks are reported most recent first. */
  touched: number;
}

export class Reassembly {
  readonly ranges: OooRange[] = [];

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Bytes held. */
  get bytes(): number {
    let n = 0;
    for (const r of this.ranges) n += r.data.length;
    return n;
  }

  /**
   * Hold data beginning at `seq` (already trimmed to the window by the caller). Overlaps with
   * held ranges keep the bytes already held (first copy wins, like Linux's ofo queue).
   * Returns true when any new byte was stored.
   */
  insert(seq: SeqNum, data: Uint8Array): boolean {
    const touched = ++this.clock;
    let start = seq;
    const end = seqAdd(seq, data.length);
    let stored = false;
    let i = 0;
    // Walk held ranges in order, filling the gaps between them with parts of the new data.
    while (seqLt(start, end)) {
      while (i < this.ranges.length && seqLe(this.ranges[i]!.end, start)) i++;
      const next = this.ranges[i];
      if (next !== undefined && seqLe(next.start, start)) {
        next.touched = touched; // covered already, but a SACK block's recency counts arrivals
        start = next.end;
        continue;
      }
      const gapEnd = next !== undefined && seqLt(next.start, end) ? next.start : end;
      const piece = data.slice(seqDiff(start, seq), seqDiff(gapEnd, seq));
      this.ranges.splice(i, 0, { start, end: gapEnd, data: piece, touched });
      stored = true;
      i++;
      start = gapEnd;
    }
    if (stored) this.coalesce();
    return stored;
  }

  private coalesce(): void {
    const r = this.ranges;
    for (let i = 0; i + 1 < r.length; ) {
      const a = r[i]!;
      const b = r[i + 1]!;
      if (a.end === b.start) {
        const merged = new Uint8Array(a.data.length + b.data.length);
        merged.set(a.data, 0);
        merged.set(b.data, a.data.length);
        r.splice(i, 2, { start: a.start, end: b.end, data: merged, touched: Math.max(a.touched, b.touched) });
      } else i++;
    }
  }

  /**
   * Remove and return the bytes that now continue the in-order stream at rcvNxt (trimming any
   * part already received), or null when the first held range does not touch rcvNxt.
   */
  takeContiguous(rcvNxt: SeqNum): Uint8Array | null {
    // Ranges entirely below rcvNxt are duplicates of what arrived in order meanwhile.
    while (this.ranges.length > 0 && seqLe(this.ranges[0]!.end, rcvNxt)) {
      const r = this.ranges.shift()!;
      this.noteDuplicate(r.start, r.end);
    }
    const first = this.ranges[0];
    if (first === undefined || seqGt(first.start, rcvNxt)) return null;
    this.ranges.shift();
    if (seqLt(first.start, rcvNxt)) this.noteDuplicate(first.start, rcvNxt);
    return first.data.subarray(seqDiff(rcvNxt, first.start));
  }

  /**
   * The first held range that in-order data duplicated since the last `takeDuplicate()`
   * (RFC 2883 §4.2 D-SACK; LINUX tcp_ofo_queue reports the first one).
   */
  private dupStart: SeqNum = 0;
  private dupEnd: SeqNum = 0;
  private hasDup = false;

  private noteDuplicate(start: SeqNum, end: SeqNum): void {
    if (!this.hasDup) {
      this.dupStart = start;
      this.dupEnd = end;
      this.hasDup = true;
    }
  }

  takeDuplicate(): [SeqNum, SeqNum] | null {
    if (!this.hasDup) return null;
    this.hasDup = false;
    return [this.dupStart, this.dupEnd];
  }

  /** Arrival counter for `touched`. */
  private clock = 0;

  /**
   * SACK blocks (RFC 2018 §4): the block holding the most recently received segment first, then
   * the others by recency (LINUX tcp_sack_new_ofo_skb keeps the list most-recent-first).
   */
  blocks(max: number): [SeqNum, SeqNum][] {
    const out: [SeqNum, SeqNum][] = [];
    if (max <= 0) return out;
    const byRecency = this.ranges.length > 1 ? [...this.ranges].sort((a, b) => b.touched - a.touched) : this.ranges;
    for (const r of byRecency) {
      if (out.length >= max) break;
      out.push([r.start, r.end]);
    }
    return out;
  }

  /** Drop everything at or beyond `limit` (the window shrank: not expected, but bounded). */
  trimAbove(limit: SeqNum): void {
    for (let i = this.ranges.length - 1; i >= 0; i--) {
      const r = this.ranges[i]!;
      if (seqGe(r.start, limit)) this.ranges.splice(i, 1);
      else if (seqGt(r.end, limit)) {
        r.data = r.data.slice(0, seqDiff(limit, r.start));
        r.end = limit;
      }
    }
  }

  clear(): void {
    this.ranges.length = 0;
    this.hasDup = false;
  }
}
