/**
 * The byte ring against a model (a plain byte list): pushes, lent pushes inside lending scopes,
 * partial reads, peeks and consumes in any mix give the same bytes in the same order; when a scope
 * ends, the source of a lent push may be overwritten (as a link reuses its frame) without changing
 * what the ring holds. fast-check prints the seed and the shrunk operation list on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteRing, beginLend, endLend } from './ring.js';

type Op =
  | { kind: 'push' | 'pushRef'; len: number; off: number }
  | { kind: 'read' | 'peek'; n: number; from: number }
  | { kind: 'consume'; n: number }
  | { kind: 'scope' }
  | { kind: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('push' as const, 'pushRef' as const), len: fc.nat(300), off: fc.nat(20) }),
  fc.record({ kind: fc.constantFrom('read' as const, 'peek' as const), n: fc.nat(400), from: fc.nat(50) }),
  fc.record({ kind: fc.constant('consume' as const), n: fc.nat(400) }),
  fc.record({ kind: fc.constant('scope' as const) }),
  fc.record({ kind: fc.constant('clear' as const) }),
);

test('ring: pushes, lent pushes, reads and consumes match a model; a lent source may be reused once its scope ends', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), fc.integer({ min: 64, max: 2000 }), (ops, max) => {
      const ring = new ByteRing(max);
      const model: number[] = [];
      let next = 1;
      // Each push's source (a "frame"); those of a scope are overwritten with junk when it ends.
      let sources: Uint8Array[] = [];
      const spoil = (): void => {
        for (const f of sources) f.fill(0xee);
        sources = [];
      };
      let inScope = false;
      for (const op of ops) {
        switch (op.kind) {
          case 'scope':
            if (inScope) {
              endLend();
              spoil();
            } else beginLend();
            inScope = !inScope;
            break;
          case 'push':
          case 'pushRef': {
            const room = Math.max(0, max - model.length);
            const frame = new Uint8Array(op.off + op.len);
            for (let i = 0; i < op.len; i++) frame[op.off + i] = next++ & 0xff;
            sources.push(frame);
            const n = op.kind === 'push' ? ring.push(frame, op.off, op.len) : ring.pushRef(frame, op.off, op.len, room);
            assert.equal(n, Math.min(op.len, room));
            for (let i = 0; i < n; i++) model.push(frame[op.off + i]!);
            break;
          }
          case 'read':
          case 'peek': {
            const from = Math.min(op.from, model.length);
            const n = Math.min(op.n, model.length - from);
            const dst = new Uint8Array(n + 3);
            ring.copyOut(dst, 3, from, n);
            assert.deepEqual([...dst.subarray(3)], model.slice(from, from + n));
            if (op.kind === 'read' && from === 0) {
              ring.consume(n);
              model.splice(0, n);
            }
            break;
          }
          case 'consume':
            ring.consume(op.n);
            model.splice(0, op.n);
            break;
          case 'clear':
            ring.clear();
            model.length = 0;
            break;
        }
        if (!inScope) spoil(); // outside a scope nothing may be held by reference
        assert.equal(ring.length, model.length);
      }
      if (inScope) endLend();
      spoil();
      const all = new Uint8Array(model.length);
      ring.copyOut(all, 0, 0, model.length);
      assert.deepEqual([...all], model);
    }),
  );
});

test('ring: a lent push holds no buffer until its scope ends, and the bytes survive the source', () => {
  const ring = new ByteRing(1 << 16);
  const frame = new Uint8Array([9, 8, 7, 6, 5]);
  beginLend();
  assert.equal(ring.pushRef(frame, 1, 3, 100), 3);
  assert.equal(ring.capacity, 0, 'held by reference');
  const two = new Uint8Array(2);
  ring.copyOut(two, 0, 0, 2);
  ring.consume(2);
  assert.deepEqual([...two], [8, 7]);
  endLend();
  frame.fill(0);
  assert.equal(ring.length, 1);
  assert.ok(ring.capacity > 0, 'copied in at the end of the scope');
  const one = new Uint8Array(1);
  ring.copyOut(one, 0, 0, 1);
  assert.deepEqual([...one], [6]);
  // outside a scope, pushRef copies
  assert.equal(ring.pushRef(frame, 0, 2, 100), 2);
  assert.equal(ring.length, 3);
});
