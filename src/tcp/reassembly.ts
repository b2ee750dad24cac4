import { seqAdd, seqDiff, seqGt, seqLe, seqLt, type SeqNum } from '../seq.js';
import { first, inOrder, last, merge, nextPriority, removeFirst, removeLast, split3, type Chunk, type OfoNode } from './ofo-tree.js';

/**
 * Out-of-order segments held for reassembly (RFC 9293 §3.10.7.4 "segments with higher
 * beginning sequence numbers may be held for later processing").
 *
 * - Ranges are disjoint and maximal (touching ranges merge) in an ordered tree (ofo-tree.ts):
 *   a segment costs O(log n) plus the ranges it merges with, however many are held.
 * - A range keeps its bytes as a list of chunks, copies of the new part of each segment (the
 *   packet buffer is not retained). A range that grows links the new chunk in and never copies
 *   what it holds; neighbouring chunks that together are smaller than COALESCE_BELOW are merged
 *   into one (a copy of less than that), so any two neighbours hold at least COALESCE_BELOW
 *   bytes and chunk overhead stays under half the payload plus one chunk per range (LINUX:
 *   what tcp_collapse_ofo_queue does later, under pressure, is done here as data arrives).
 * - Memory is accounted by true size (payload plus a fixed charge per chunk and per range, the
 *   heap V8 spends on them) so the receiver can charge it against its buffer (LINUX: skb
 *   truesize against sk_rcvbuf) and prune from the highest sequence when it is exceeded.
 * - SACK blocks come from a recency list of at most MAX_SACK_RANGES ranges (LINUX:
 *   tp->selective_acks, kept by tcp_sack_new_ofo_skb), not from a sort of every range.
 */
export const COALESCE_BELOW = 1024;
/** Heap per chunk beyond its payload: the Uint8Array, its ArrayBuffer and the list cell (measured: ~250 B). */
export const CHUNK_TRUESIZE = 256;
/** Heap per range: its tree node (measured: ~115 B). */
export const RANGE_TRUESIZE = 128;
/** RFC 2018 §3: at most 4 SACK blocks fit in the options. */
export const MAX_SACK_RANGES = 4;

/** The empty recency list, shared: an idle connection allocates none (the 2 KiB budget). */
const NO_RANGES: readonly OfoNode[] = [];

export class Reassembly {
  private root: OfoNode | null = null;
  private nRanges = 0;
  private nChunks = 0;
  private payload = 0;
  /** Ranges by the recency of their last arrival, most recent first (RFC 2018 §4). */
  private recent: readonly OfoNode[] = NO_RANGES;

  get isEmpty(): boolean {
    return this.root === null;
  }

  /** Payload bytes held. */
  get bytes(): number {
    return this.payload;
  }

  /** Memory held, by true size (payload plus the per-chunk and per-range charges). */
  get truesize(): number {
    return this.payload + this.nChunks * CHUNK_TRUESIZE + this.nRanges * RANGE_TRUESIZE;
  }

  /** The end of the highest range held (LINUX ooo_last_skb's end_seq); only when not empty. */
  get highEdge(): SeqNum {
    return last(this.root)?.end ?? 0;
  }

  get rangeCount(): number {
    return this.nRanges;
  }

  get chunkCount(): number {
    return this.nChunks;
  }

  /** True size a segment of `len` new bytes adds at most (a new range of one chunk). */
  static truesizeOf(len: number): number {
    return len + CHUNK_TRUESIZE + RANGE_TRUESIZE;
  }

  /** The held ranges in sequence order (for tests and diagnostics: O(n)). */
  ranges(): [SeqNum, SeqNum][] {
    return inOrder(this.root, []).map((r) => [r.start, r.end]);
  }

  /** The chunk sizes of every range in sequence order (for tests: O(n)). */
  chunkSizes(): number[][] {
    return inOrder(this.root, []).map((r) => {
      const out: number[] = [];
      for (let c: Chunk | null = r.head; c !== null; c = c.next) out.push(c.data.length);
      return out;
    });
  }

  /**
   * Hold data beginning at `seq` (already trimmed to the window by the caller). Overlaps with
   * held ranges keep the bytes already held (first copy wins, like Linux's ofo queue).
   * Returns true when any new byte was stored.
   */
  insert(seq: SeqNum, data: Uint8Array): boolean {
    if (data.length === 0) return false;
    const end = seqAdd(seq, data.length);
    const [before, touching, after] = split3(this.root, seq, end);
    const held = inOrder(touching, []);
    const only = held[0];
    let node: OfoNode;
    let stored = false;
    if (only !== undefined && held.length === 1 && seqLe(only.start, seq) && seqLe(end, only.end)) {
      node = only; // every byte is held already
    } else {
      stored = true;
      node = this.join(seq, data, held);
    }
    this.root = merge(merge(before, node), after);
    this.noteRecent(node);
    return stored;
  }

  /** One range of the new bytes and the held ranges they touch (sorted), copying only the gaps. */
  private join(seq: SeqNum, data: Uint8Array, held: OfoNode[]): OfoNode {
    const end = seqAdd(seq, data.length);
    const piece = (from: SeqNum, to: SeqNum): Chunk => ({ data: data.slice(seqDiff(from, seq), seqDiff(to, seq)), prev: null, next: null });
    let node: OfoNode;
    let cur: SeqNum;
    const h0 = held[0];
    if (h0 !== undefined && seqLe(h0.start, seq)) {
      node = h0;
      cur = h0.end;
    } else {
      // A new range, or new bytes in front of the first held one.
      const to = h0 !== undefined && seqLt(h0.start, end) ? h0.start : end;
      const c = piece(seq, to);
      node = { start: seq, end: to, head: c, tail: c, chunks: 1, alive: true, left: null, right: null, prio: nextPriority() };
      this.nRanges++;
      this.nChunks++;
      this.payload += c.data.length;
      cur = to;
    }
    node.left = node.right = null;
    for (let i = node === h0 ? 1 : 0; i < held.length; i++) {
      const h = held[i]!;
      if (seqLt(cur, h.start)) this.appendPiece(node, data.subarray(seqDiff(cur, seq), seqDiff(h.start, seq)));
      this.absorb(node, h);
      cur = h.end;
    }
    if (seqLt(cur, end)) this.appendPiece(node, data.subarray(seqDiff(cur, seq), data.length));
    return node;
  }

  /** Append new bytes at the end of `node`: into its last chunk when both are small (a copy under COALESCE_BELOW). */
  private appendPiece(node: OfoNode, bytes: Uint8Array): void {
    const t = node.tail;
    this.payload += bytes.length;
    node.end = seqAdd(node.end, bytes.length);
    if (t.data.length + bytes.length < COALESCE_BELOW) {
      const merged = new Uint8Array(t.data.length + bytes.length);
      merged.set(t.data, 0);
      merged.set(bytes, t.data.length);
      t.data = merged;
      return;
    }
    const c: Chunk = { data: bytes.slice(), prev: t, next: null };
    t.next = c;
    node.tail = c;
    node.chunks++;
    this.nChunks++;
  }

  /** Link the chunks of `h` (the range right after `node`) onto `node`, without copying them. */
  private absorb(node: OfoNode, h: OfoNode): void {
    h.alive = false;
    this.nRanges--;
    node.end = h.end;
    const x = node.tail;
    const y = h.head;
    if (x.data.length + y.data.length < COALESCE_BELOW) {
      const merged = new Uint8Array(x.data.length + y.data.length);
      merged.set(x.data, 0);
      merged.set(y.data, x.data.length);
      x.data = merged;
      x.next = y.next;
      if (y.next !== null) y.next.prev = x;
      node.tail = h.tail === y ? x : h.tail;
      node.chunks += h.chunks - 1;
      this.nChunks--;
      return;
    }
    x.next = y;
    y.prev = x;
    node.tail = h.tail;
    node.chunks += h.chunks;
  }

  /** RFC 2018 §4: the range holding the latest segment reports first (LINUX tcp_sack_new_ofo_skb). */
  private noteRecent(node: OfoNode): void {
    const r = this.recent;
    const next = [node];
    for (let i = 0; i < r.length && next.length < MAX_SACK_RANGES; i++) if (r[i] !== node && r[i]!.alive) next.push(r[i]!);
    this.recent = next;
  }

  private dropRecent(): void {
    if (this.recent.some((x) => !x.alive)) this.recent = this.recent.filter((x) => x.alive);
  }

  /**
   * Remove and return the next bytes that continue the in-order stream at rcvNxt (one chunk;
   * call again for more), trimming any part already received, or null when the lowest held
   * range does not reach rcvNxt.
   */
  takeContiguous(rcvNxt: SeqNum): Uint8Array | null {
    for (let r = first(this.root); r !== null; r = first(this.root)) {
      if (seqGt(r.start, rcvNxt)) return null;
      if (seqLt(r.start, rcvNxt)) {
        // Bytes that arrived in order meanwhile: report them (RFC 2883) and drop them.
        this.noteDuplicate(r.start, seqLe(r.end, rcvNxt) ? r.end : rcvNxt);
        while (seqLe(seqAdd(r.start, r.head.data.length), rcvNxt) && this.popHead(r));
        if (!r.alive) continue;
      }
      const c = r.head;
      const out = r.start === rcvNxt ? c.data : c.data.subarray(seqDiff(rcvNxt, r.start));
      this.popHead(r);
      return out;
    }
    return null;
  }

  /** Remove the first chunk of the lowest range (and the range once empty); false when the range went. */
  private popHead(r: OfoNode): boolean {
    const c = r.head;
    this.payload -= c.data.length;
    this.nChunks--;
    r.start = seqAdd(r.start, c.data.length);
    if (c.next === null) {
      this.root = removeFirst(this.root!);
      this.nRanges--;
      r.alive = false;
      this.dropRecent();
      return false;
    }
    r.head = c.next;
    r.head.prev = null;
    r.chunks--;
    return true;
  }

  /**
   * Drop held data from the highest sequence down (LINUX tcp_prune_ofo_queue): a chunk at a time,
   * never a chunk starting below `inSeq` (the segment being received would then land last and be
   * dropped itself: LINUX stops there too); after each `goal` bytes of true size, stop when
   * `enough()` says the segment now fits. Returns true when anything was dropped; SACK state is
   * then reset (LINUX tcp_sack_reset: a pruned range must not stay SACKed).
   */
  pruneFromTop(inSeq: SeqNum, goal: number, enough: () => boolean): boolean {
    let pruned = false;
    let left = goal;
    for (let r = last(this.root); r !== null; r = last(this.root)) {
      const c = r.tail;
      const cStart = seqAdd(r.end, -c.data.length);
      if (seqGt(inSeq, cStart)) break;
      pruned = true;
      this.payload -= c.data.length;
      this.nChunks--;
      left -= c.data.length + CHUNK_TRUESIZE;
      if (c.prev === null) {
        this.root = removeLast(this.root!);
        this.nRanges--;
        r.alive = false;
        left -= RANGE_TRUESIZE;
      } else {
        r.tail = c.prev;
        r.tail.next = null;
        r.end = cStart;
        r.chunks--;
      }
      if (this.root === null || left <= 0) {
        if (enough()) break;
        left = goal;
      }
    }
    if (pruned) this.recent = NO_RANGES;
    return pruned;
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

  /** How many SACK blocks `blocks` would return, at most `max`. */
  blockCount(max: number): number {
    return Math.max(0, Math.min(max, this.recent.length));
  }

  /**
   * SACK blocks (RFC 2018 §4): the block holding the most recently received segment first, then
   * the others by recency (LINUX tcp_sack_new_ofo_skb keeps the list most-recent-first).
   */
  blocks(max: number): [SeqNum, SeqNum][] {
    const out: [SeqNum, SeqNum][] = [];
    for (let i = 0; i < this.recent.length && out.length < max; i++) out.push([this.recent[i]!.start, this.recent[i]!.end]);
    return out;
  }

  clear(): void {
    this.root = null;
    this.nRanges = this.nChunks = this.payload = 0;
    this.recent = NO_RANGES;
    this.hasDup = false;
  }
}
