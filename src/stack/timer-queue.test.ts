/**
 * The timer queue moves entries later lazily (timer-queue.ts): against an eager model (a heap
 * whose keys are always the connections' true deadlines), any mix of deadline changes, removals
 * and pops gives the same top deadline after every step and pops the same connections in the
 * same order. fast-check prints the seed and the shrunk operation list on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Connection } from '../tcp/connection.js';
import { Heap } from '../util/heap.js';
import { TimerQueue } from './timer-queue.js';

class Fake {
  heapIndex = -1;
  deadline = Number.POSITIVE_INFINITY;
  constructor(readonly id: number) {}
  nextDeadline(): number {
    return this.deadline;
  }
}

type Op = { kind: 'set'; id: number; key: number } | { kind: 'remove'; id: number } | { kind: 'pop'; now: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), id: fc.nat(11), key: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(Number.POSITIVE_INFINITY)) }),
  fc.record({ kind: fc.constant('remove' as const), id: fc.nat(11) }),
  fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 40 }) }),
);

test('timer queue: lazy later keys fire exactly as an eagerly updated heap', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => {
      const lazy = new TimerQueue();
      const lazyConns = Array.from({ length: 12 }, (_, i) => new Fake(i));
      const eager = new Heap<Fake>();
      const eagerConns = Array.from({ length: 12 }, (_, i) => new Fake(i));
      const asConn = (f: Fake): Connection => f as unknown as Connection;
      for (const op of ops) {
        if (op.kind === 'set') {
          lazyConns[op.id]!.deadline = op.key;
          eagerConns[op.id]!.deadline = op.key;
          lazy.schedule(asConn(lazyConns[op.id]!));
          if (op.key === Number.POSITIVE_INFINITY) eager.remove(eagerConns[op.id]!);
          else eager.update(eagerConns[op.id]!, op.key);
        } else if (op.kind === 'remove') {
          lazy.remove(asConn(lazyConns[op.id]!));
          eager.remove(eagerConns[op.id]!);
        } else {
          // What Stack.onTimer does: pop every due connection; a popped one's timers ran, so it
          // has no deadline until it is scheduled again.
          for (;;) {
            const c = lazy.popDue(op.now) as unknown as Fake | undefined;
            const e: Fake | undefined = eager.peekKey() <= op.now ? eager.pop() : undefined;
            assert.equal(c?.id, e?.id);
            if (c === undefined || e === undefined) break;
            c.deadline = Number.POSITIVE_INFINITY;
            e.deadline = Number.POSITIVE_INFINITY;
          }
        }
        assert.equal(lazy.top(), eager.peekKey());
      }
    }),
  );
});
