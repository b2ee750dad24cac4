import { seqLe, seqLt, type SeqNum } from '../seq.js';

/**
 * The ordered index of the out-of-order queue: a treap (a binary search tree kept balanced in
 * expectation by random heap priorities) of disjoint byte ranges keyed by sequence number, so
 * finding, inserting and removing a range costs O(log n) however many ranges are held.
 * LINUX keeps its out_of_order_queue in an rb-tree for the same reason (tcp_data_queue_ofo).
 *
 * Keys compare with sequence arithmetic: every held range lies inside the receive window
 * (less than 2^30 above RCV.NXT), so seqLt is a total order over them.
 */
export interface Chunk {
  data: Uint8Array;
  prev: Chunk | null;
  next: Chunk | null;
}

export interface OfoNode {
  start: SeqNum;
  end: SeqNum;
  /** The range's bytes as a list of chunks, in sequence order. */
  head: Chunk;
  tail: Chunk;
  chunks: number;
  /** False once the range left the tree (delivered, pruned, or absorbed by a neighbour). */
  alive: boolean;
  left: OfoNode | null;
  right: OfoNode | null;
  prio: number;
}

// Priorities: a xorshift32 stream shared by every queue in the process. The tree's shape only
// affects speed, never what is sent, so runs stay deterministic; sharing the stream means one
// peer's arrivals cannot line up with a predictable per-connection priority sequence.
let prioState = 0x9e3779b9;
export function nextPriority(): number {
  let x = prioState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  prioState = x >>> 0;
  return prioState;
}

/** Output of split (module-level so splitting allocates nothing). */
let splitL: OfoNode | null = null;
let splitR: OfoNode | null = null;

/** Split `t` into ranges ending before `seq` (not even adjacent) and the rest. */
function splitEndBefore(t: OfoNode | null, seq: SeqNum): void {
  if (t === null) {
    splitL = splitR = null;
    return;
  }
  if (seqLt(t.end, seq)) {
    splitEndBefore(t.right, seq);
    t.right = splitL;
    splitL = t;
  } else {
    splitEndBefore(t.left, seq);
    t.left = splitR;
    splitR = t;
  }
}

/** Split `t` into ranges starting at or before `seq` and those starting after it. */
function splitStartAtOrBefore(t: OfoNode | null, seq: SeqNum): void {
  if (t === null) {
    splitL = splitR = null;
    return;
  }
  if (seqLe(t.start, seq)) {
    splitStartAtOrBefore(t.right, seq);
    t.right = splitL;
    splitL = t;
  } else {
    splitStartAtOrBefore(t.left, seq);
    t.left = splitR;
    splitR = t;
  }
}

/**
 * Cut the tree into three: ranges wholly before [start, end) and not touching it, ranges that
 * overlap or touch it (the ones a segment there merges with), and ranges wholly after it.
 */
export function split3(t: OfoNode | null, start: SeqNum, end: SeqNum): [OfoNode | null, OfoNode | null, OfoNode | null] {
  splitEndBefore(t, start);
  const before = splitL;
  splitStartAtOrBefore(splitR, end);
  const r: [OfoNode | null, OfoNode | null, OfoNode | null] = [before, splitL, splitR];
  splitL = splitR = null;
  return r;
}

/** Join two trees, every key of `a` below every key of `b`. */
export function merge(a: OfoNode | null, b: OfoNode | null): OfoNode | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.prio > b.prio) {
    a.right = merge(a.right, b);
    return a;
  }
  b.left = merge(a, b.left);
  return b;
}

/** The nodes of `t` in sequence order, appended to `out`. */
export function inOrder(t: OfoNode | null, out: OfoNode[]): OfoNode[] {
  if (t === null) return out;
  inOrder(t.left, out);
  out.push(t);
  inOrder(t.right, out);
  return out;
}

export function first(t: OfoNode | null): OfoNode | null {
  if (t === null) return null;
  while (t.left !== null) t = t.left;
  return t;
}

export function last(t: OfoNode | null): OfoNode | null {
  if (t === null) return null;
  while (t.right !== null) t = t.right;
  return t;
}

/** `t` without its lowest range. */
export function removeFirst(t: OfoNode): OfoNode | null {
  if (t.left === null) return t.right;
  t.left = removeFirst(t.left);
  return t;
}

/** `t` without its highest range. */
export function removeLast(t: OfoNode): OfoNode | null {
  if (t.right === null) return t.left;
  t.right = removeLast(t.right);
  return t;
}

/** Depth of the tree (tests check the balance). */
export function depth(t: OfoNode | null): number {
  return t === null ? 0 : 1 + Math.max(depth(t.left), depth(t.right));
}
