import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotList } from './slot-list.js';

interface Item {
  name: string;
  slot: number;
}
const list = (): SlotList<Item> =>
  new SlotList<Item>(
    (x) => x.slot,
    (x, i) => {
      x.slot = i;
    },
  );
const item = (name: string): Item => ({ name, slot: -1 });

test('SlotList: add, has, delete with the last item moved into the hole, slots kept true', () => {
  const l = list();
  const [a, b, c] = [item('a'), item('b'), item('c')];
  l.add(a);
  l.add(b);
  l.add(c);
  l.add(b); // already in: no duplicate
  assert.equal(l.size, 3);
  assert.ok(l.delete(a));
  assert.equal(a.slot, -1);
  assert.equal(l.has(a), false);
  assert.equal(c.slot, 0); // the last item took a's place
  assert.equal(l.delete(a), false);
  assert.deepEqual([...l].map((x) => x.name).sort(), ['b', 'c']);
  // An item of another list with a stale slot is not taken for a member.
  const stranger = { name: 'x', slot: 0 };
  assert.equal(l.has(stranger), false);
  assert.equal(l.delete(stranger), false);
  assert.equal(l.size, 2);
});

test('SlotList: deleting each item while iterating visits every item once; clear resets slots', () => {
  const l = list();
  const items = Array.from({ length: 50 }, (_, i) => item(String(i)));
  for (const x of items) l.add(x);
  const seen: string[] = [];
  for (const x of l) {
    seen.push(x.name);
    l.delete(x);
  }
  assert.equal(seen.length, 50);
  assert.equal(new Set(seen).size, 50);
  assert.equal(l.size, 0);
  for (const x of items.slice(0, 5)) l.add(x);
  l.clear();
  assert.equal(l.size, 0);
  assert.ok(items.every((x) => x.slot === -1));
});
