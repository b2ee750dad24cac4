/**
 * A set of objects that each remember their own index in it (an intrusive list): add and delete
 * are a store and a swap, with no hashing, for sets a connection joins and leaves once or twice
 * in its life (a listener's SYN queue, the stack's idle-buffer sweep). Iteration order is not
 * insertion order once something was deleted. An object is in at most one list per slot field.
 */
export class SlotList<T> implements Iterable<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly getSlot: (x: T) => number,
    private readonly setSlot: (x: T, i: number) => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(x: T): boolean {
    const i = this.getSlot(x);
    return i >= 0 && i < this.items.length && this.items[i] === x;
  }

  add(x: T): void {
    if (this.has(x)) return;
    this.setSlot(x, this.items.length);
    this.items.push(x);
  }

  /** Remove `x` (the last item takes its place); false when it was not in the list. */
  delete(x: T): boolean {
    if (!this.has(x)) return false;
    const i = this.getSlot(x);
    const last = this.items.pop()!;
    if (last !== x) {
      this.items[i] = last;
      this.setSlot(last, i);
    }
    this.setSlot(x, -1);
    return true;
  }

  clear(): void {
    for (const x of this.items) this.setSlot(x, -1);
    this.items.length = 0;
  }

  /** The items, last first: deleting the current item while iterating is safe. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.items.length - 1; i >= 0; i--) if (i < this.items.length) yield this.items[i]!;
  }
}
