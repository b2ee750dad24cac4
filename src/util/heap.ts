/**
 * A binary min-heap of items keyed by a number (deadline), with stable FIFO order among equal
 * keys and O(log n) removal/update through a position index stored on the item. Used for the
 * stack's timer queue (one entry per connection, keyed by its earliest deadline) and for the
 * simulator's event queue.
 */
export interface HeapItem {
  /** Index in the heap, -1 when not queued. Owned by the heap. */
  heapIndex: number;
  /** Sort key. Owned by the heap while queued (use update()). */
  heapKey: number;
  /** Tie-breaker assigned by the heap on insert (FIFO among equal keys). */
  heapSeq: number;
}

export class Heap<T extends HeapItem> {
  private items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Earliest key, or +Infinity when empty. */
  peekKey(): number {
    return this.items.length > 0 ? this.items[0]!.heapKey : Number.POSITIVE_INFINITY;
  }

  push(item: T, key: number): void {
    if (item.heapIndex >= 0) {
      this.update(item, key);
      return;
    }
    item.heapKey = key;
    item.heapSeq = this.seq++;
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
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
    if (item.heapIndex < 0) {
      this.push(item, key);
      return;
    }
    const old = item.heapKey;
    item.heapKey = key;
    if (key < old) this.up(item.heapIndex);
    else if (key > old) this.down(item.heapIndex);
  }

  private removeAt(i: number): void {
    const items = this.items;
    const item = items[i]!;
    const last = items.pop()!;
    item.heapIndex = -1;
    if (i < items.length) {
      items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  private less(a: T, b: T): boolean {
    return a.heapKey < b.heapKey || (a.heapKey === b.heapKey && a.heapSeq < b.heapSeq);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.less(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!this.less(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
