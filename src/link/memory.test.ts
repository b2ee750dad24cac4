import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryPair } from './memory.js';

test('memoryPair: allocFrame frames are recycled after delivery, and only those', () => {
  const m = memoryPair({ mtu: 1500 });
  const seen: Uint8Array[] = [];
  m.b.onReceive((f) => {
    seen.push(f);
    assert.equal(f[0], f.length & 0xff); // contents intact during delivery
  });
  const f1 = m.a.allocFrame!(100);
  assert.equal(f1.length, 100);
  f1[0] = 100;
  m.a.send(f1);
  m.pump();
  const f2 = m.a.allocFrame!(100);
  assert.equal(f2, f1, 'the delivered frame is reused');
  const f3 = m.a.allocFrame!(100);
  assert.notEqual(f3, f1, 'a lent frame is not lent twice');
  // a frame the sender made itself is never taken into the pool
  const own = new Uint8Array(200);
  own[0] = 200;
  m.a.send(own);
  m.pump();
  assert.notEqual(m.a.allocFrame!(200), own);
});

test('memoryPair: a frame a receiver sends on again is not recycled while queued', () => {
  const m = memoryPair({ mtu: 1500 });
  let hops = 0;
  let last: Uint8Array | null = null;
  m.b.onReceive((f) => {
    if (hops++ < 3) m.b.send(f); // echo the same frame back
  });
  m.a.onReceive((f) => {
    last = f;
    if (hops < 3) m.a.send(f);
  });
  const f = m.a.allocFrame!(64);
  f.fill(9);
  m.a.send(f);
  // while the echo is queued, allocFrame must not hand the frame out again
  m.pump(1);
  assert.notEqual(m.a.allocFrame!(64), f);
  m.pump();
  assert.equal(last, f);
  assert.ok(f.every((x) => x === 9));
});

test('memoryPair: a lent frame sent twice is taken back once (two allocations never share a frame)', () => {
  const m = memoryPair({ mtu: 1500 });
  let delivered = 0;
  m.b.onReceive(() => delivered++);
  const f = m.a.allocFrame!(80);
  m.a.send(f);
  m.a.send(f); // a duplicate, as a fault injector might make
  m.pump();
  assert.equal(delivered, 2);
  const g = m.a.allocFrame!(80);
  const h = m.a.allocFrame!(80);
  assert.equal(g, f, 'the frame is reused');
  assert.notEqual(h, g, 'but only once');
});
