/**
 * The binary heap against a model (a list kept in (key, insertion order) order): pushes, pops,
 * removals and key updates in any mix give the same items in the same order, FIFO among equal
 * keys, with every item's heapIndex pointing at itself. fast-check prints the seed and the shrunk
 * operation list on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Heap, type HeapItem } from './heap.js';

class Item implements HeapItem {
  heapIndex = -1;
  constructor(readonly id: number) {}
}

type Op = { kind: 'push' | 'update'; id: number; key: number } | { kind: 'remove'; id: number } | { kind: 'pop' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), id: fc.nat(15), key: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e12, noNaN: true }), fc.constant(Number.POSITIVE_INFINITY)) }),
  fc.record({ kind: fc.constant('update' as const), id: fc.nat(15), key: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('remove' as const), id: fc.nat(15) }),
  fc.record({ kind: fc.constant('pop' as const) }),
);

test('heap: any mix of push, update, remove and pop matches a model, FIFO among equal keys', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
      const heap = new Heap<Item>();
      const items = Array.from({ length: 16 }, (_, i) => new Item(i));
      // The model: queued entries with their key and the order they were queued in.
      let model: { id: number; key: number; seq: number }[] = [];
      let seq = 0;
      const queue = (id: number, key: number): void => {
        const at = model.find((e) => e.id === id);
        if (at === undefined) model.push({ id, key, seq: seq++ });
        else at.key = key; // update keeps the original insertion order, as the heap does
      };
      const first = (): { id: number; key: number; seq: number } | undefined =>
        model.reduce<(typeof model)[number] | undefined>((b, e) => (b === undefined || e.key < b.key || (e.key === b.key && e.seq < b.seq) ? e : b), undefined);
      for (const op of ops) {
        if (op.kind === 'push') {
          heap.push(items[op.id]!, op.key);
          queue(op.id, op.key);
        } else if (op.kind === 'update') {
          heap.update(items[op.id]!, op.key);
          queue(op.id, op.key);
        } else if (op.kind === 'remove') {
          heap.remove(items[op.id]!);
          model = model.filter((e) => e.id !== op.id);
        } else {
          const want = first();
          assert.equal(heap.pop()?.id, want?.id);
          if (want !== undefined) model = model.filter((e) => e !== want);
        }
        assert.equal(heap.size, model.length);
        assert.equal(heap.peekKey(), first()?.key ?? Number.POSITIVE_INFINITY);
        for (const it of items) assert.equal(it.heapIndex >= 0, model.some((e) => e.id === it.id), `item ${it.id} queued`);
      }
      // Drain: everything comes out in model order.
      while (model.length > 0) {
        const want = first()!;
        assert.equal(heap.pop()?.id, want.id);
        model = model.filter((e) => e !== want);
      }
      assert.equal(heap.pop(), undefined);
    }),
    { numRuns: 300 },
  );
});
