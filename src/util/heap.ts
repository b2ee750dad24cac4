/**
 * A binary min-heap of items keyed by a number (deadline), with stable FIFO order among equal
 * keys and O(log n) removal/update through a position index stored on the item. Used for the
 * stack's timer queue (one entry per connection, keyed by its earliest deadline) and for the
 * simulator's event queue.
 *
 * Keys and tie-breakers live in the heap's own arrays, parallel to the items, not on the items:
 * a comparison reads two numbers next to each other instead of two objects (and, for a key that
 * is not a small integer, the box V8 keeps it in) scattered over a heap of a million
 * connections, and an item carries one field instead of three (bench/scale.ts: 16 B of fields
 * and a 16-byte number box less per TCB).
 */
export interface HeapItem {
  /** Index in the heap, -1 when not queued. Owned by the heap. */
  heapIndex: number;
}

export class Heap<T extends HeapItem> {
  private readonly items: T[] = [];
  /** keys[i] is items[i]'s key (a packed array of doubles). */
  private readonly keys: number[] = [];
  /** seqs[i] is items[i]'s insertion number: FIFO order among equal keys. */
  private readonly seqs: number[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Earliest key, or +Infinity when empty. */
  peekKey(): number {
    return this.items.length > 0 ? this.keys[0]! : Number.POSITIVE_INFINITY;
  }

  push(item: T, key: number): void {
    if (item.heapIndex >= 0) {
      this.update(item, key);
      return;
    }
    const i = this.items.length;
    this.items.push(item);
    this.keys.push(key);
    this.seqs.push(this.seq++);
    this.up(i, item, key, this.seqs[i]!);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  remove(item: T): void {
    if (item.heapIndex >= 0) this.removeAt(item.heapIndex);
  }

  /** Change an item's key (inserting it if absent). */
  update(item: T, key: number): void {
    const i = item.heapIndex;
    if (i < 0) {
      this.push(item, key);
      return;
    }
    const old = this.keys[i]!;
    if (key < old) this.up(i, item, key, this.seqs[i]!);
    else if (key > old) this.down(i, item, key, this.seqs[i]!);
  }

  /**
   * Insert the item, or move its key earlier; a later key leaves it where it is. For a queue whose
   * owner checks the top against the item's true key before using it (TimerQueue.top in
   * stack/timer-queue.ts): a deadline pushed later, the common case (an RTO restarted by every
   * ACK), then costs no sift.
   */
  lower(item: T, key: number): void {
    const i = item.heapIndex;
    if (i < 0) this.push(item, key);
    else if (key < this.keys[i]!) this.up(i, item, key, this.seqs[i]!);
  }

  private removeAt(i: number): void {
    const items = this.items;
    const item = items[i]!;
    const last = items.pop()!;
    const lastKey = this.keys.pop()!;
    const lastSeq = this.seqs.pop()!;
    item.heapIndex = -1;
    if (i < items.length) {
      this.down(i, last, lastKey, lastSeq);
      if (last.heapIndex === i) this.up(i, last, lastKey, lastSeq);
    }
  }

  /** Sift (item, key, seq) up from the hole at i and store it where it stops. */
  private up(i: number, item: T, key: number, seq: number): void {
    const { items, keys, seqs } = this;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p]!;
      if (!(key < pk || (key === pk && seq < seqs[p]!))) break;
      const parent = items[p]!;
      items[i] = parent;
      keys[i] = pk;
      seqs[i] = seqs[p]!;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    keys[i] = key;
    seqs[i] = seq;
    item.heapIndex = i;
  }

  /** Sift (item, key, seq) down from the hole at i and store it where it stops. */
  private down(i: number, item: T, key: number, seq: number): void {
    const { items, keys, seqs } = this;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (keys[r]! < keys[l]! || (keys[r] === keys[l] && seqs[r]! < seqs[l]!)) ? r : l;
      const ck = keys[c]!;
      if (!(ck < key || (ck === key && seqs[c]! < seq))) break;
      const child = items[c]!;
      items[i] = child;
      keys[i] = ck;
      seqs[i] = seqs[c]!;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    keys[i] = key;
    seqs[i] = seq;
    item.heapIndex = i;
  }
}
