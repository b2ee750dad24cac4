/**
 * The UDP flow table on virtual time: conntrack's 30 s / 120 s idle timeouts and its 2 s stream
 * mark, eviction of non-stream flows from a full table, refusal when all are streams, and a
 * property that the table never exceeds its bound and never keeps an expired flow after
 * `expire` (fast-check prints the seed on failure; replay with { seed, path }).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NEVER, ms, sec } from '../time.js';
import { UdpNat, type UdpFlowKey } from './udp-nat.js';

const key = (guestPort: number, dstPort = 53, dstAddr = '10.0.2.3'): UdpFlowKey => ({ guestAddr: '10.0.2.15', guestPort, dstAddr, dstPort });

test('a one-way flow lives 30 s after its last datagram', () => {
  const nat = new UdpNat();
  const r = nat.outbound(key(5000), 40, 0)!;
  assert.equal(r.created, true);
  assert.equal(nat.nextDeadline(), sec(30));
  // A second datagram at 10 s refreshes it to 40 s.
  assert.equal(nat.outbound(key(5000), 40, sec(10))!.created, false);
  assert.equal(r.flow.expires, sec(40));
  assert.deepEqual(nat.expire(sec(39)), []);
  assert.deepEqual(nat.expire(sec(40)), [r.flow]);
  assert.equal(nat.size, 0);
  assert.equal(nat.nextDeadline(), NEVER);
  assert.deepEqual(nat.counters, { created: 1, expired: 1, earlyDrop: 0, drop: 0, removed: 0 });
  assert.equal(r.flow.packetsOut, 2);
  assert.equal(r.flow.bytesOut, 80);
});

test('LINUX nf_conntrack_udp_packet: a reply within 2 s keeps 30 s; traffic both ways past 2 s gives 120 s', () => {
  const nat = new UdpNat();
  const { flow } = nat.outbound(key(5000), 40, 0)!;
  assert.equal(nat.inbound(flow, 100, ms(50)), true);
  assert.equal(flow.replied, true);
  assert.equal(flow.assured, false);
  assert.equal(flow.expires, ms(50) + sec(30));
  nat.outbound(key(5000), 40, sec(3));
  assert.equal(flow.assured, true);
  assert.equal(flow.expires, sec(3) + sec(120));
  assert.deepEqual(nat.expire(sec(122)), []);
  assert.deepEqual(nat.expire(sec(123)), [flow]);
  // A reply to a flow that is gone is refused.
  assert.equal(nat.inbound(flow, 10, sec(124)), false);
});

test('a DNS-like exchange (query, answer, silence) is gone after 30 s', () => {
  const nat = new UdpNat();
  const { flow } = nat.outbound(key(40000), 40, 0)!;
  nat.inbound(flow, 120, ms(20));
  assert.equal(nat.lookup(key(40000), sec(30)), flow);
  assert.equal(nat.lookup(key(40000), ms(20) + sec(30)), null);
});

test('a full table evicts the stalest non-stream flow and refuses when all are streams', () => {
  const nat = new UdpNat({ maxFlows: 3 });
  const a = nat.outbound(key(1), 1, 0)!.flow;
  const b = nat.outbound(key(2), 1, sec(1))!.flow;
  const c = nat.outbound(key(3), 1, sec(2))!.flow;
  // a is refreshed: b is now the stalest.
  nat.outbound(key(1), 1, sec(3));
  const d = nat.outbound(key(4), 1, sec(4))!;
  assert.deepEqual(d.closed, [b]);
  assert.equal(nat.counters.earlyDrop, 1);
  assert.deepEqual(nat.flows().map((f) => f.key.guestPort).sort(), [1, 3, 4]);
  // Make every flow a stream: nothing can be evicted.
  for (const f of [a, c, d.flow]) nat.inbound(f, 1, sec(10));
  assert.ok(nat.flows().every((f) => f.assured));
  assert.equal(nat.outbound(key(5), 1, sec(11)), null);
  assert.equal(nat.counters.drop, 1);
  // An expired stream makes room (and is handed back to close).
  const e = nat.outbound(key(5), 1, sec(10) + sec(120))!;
  assert.equal(e.closed.length, 1);
  assert.equal(nat.counters.expired, 1);
});

test('an expired flow met again is replaced by a new one and handed back to close', () => {
  const nat = new UdpNat();
  const first = nat.outbound(key(7), 1, 0)!.flow;
  const again = nat.outbound(key(7), 1, sec(31))!;
  assert.equal(again.created, true);
  assert.deepEqual(again.closed, [first]);
  assert.notEqual(again.flow.id, first.id);
});

test('keys are canonical (IPv6 text forms are one flow); remove; bad arguments throw', () => {
  const nat = new UdpNat();
  const v6 = { guestAddr: 'fd00:0:0::15', guestPort: 1, dstAddr: 'FD00::3', dstPort: 53 };
  const f = nat.outbound(v6, 1, 0)!.flow;
  assert.equal(nat.outbound({ ...v6, guestAddr: 'fd00::15', dstAddr: 'fd00::3' }, 1, 0)!.flow, f);
  assert.equal(f.key.dstAddr, 'fd00::3');
  assert.equal(nat.remove(f), true);
  assert.equal(nat.remove(f), false);
  assert.equal(nat.counters.removed, 1);
  assert.throws(() => nat.outbound({ ...v6, guestAddr: 'nope' }, 1, 0), /key\.guestAddr/);
  assert.throws(() => nat.outbound({ ...v6, dstPort: 70000 }, 1, 0), /key\.dstPort/);
  assert.throws(() => new UdpNat({ maxFlows: 0 }), /maxFlows/);
  assert.throws(() => new UdpNat({ timeout: -1 }), /timeout/);
});

test('property: the table stays bounded, expire leaves no expired flow, deadlines are honest', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('out' as const), port: fc.integer({ min: 1, max: 12 }), dt: fc.integer({ min: 0, max: 5_000_000 }) }),
    fc.record({ kind: fc.constant('in' as const), port: fc.integer({ min: 1, max: 12 }), dt: fc.integer({ min: 0, max: 5_000_000 }) }),
    fc.record({ kind: fc.constant('expire' as const), port: fc.constant(0), dt: fc.integer({ min: 0, max: 60_000_000 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 80 }), (maxFlows, ops) => {
      const nat = new UdpNat({ maxFlows });
      let now = 0;
      const live = new Set<number>();
      for (const o of ops) {
        now += o.dt;
        if (o.kind === 'out') {
          const r = nat.outbound(key(o.port), 10, now);
          if (r !== null) {
            for (const c of r.closed) assert.ok(live.delete(c.id), 'closed flows were live');
            live.add(r.flow.id);
          }
        } else if (o.kind === 'in') {
          const f = nat.lookup(key(o.port), now);
          if (f !== null) assert.equal(nat.inbound(f, 10, now), true);
        } else {
          const deadline = nat.nextDeadline();
          const gone = nat.expire(now);
          for (const g of gone) assert.ok(live.delete(g.id));
          // Nothing expired before the announced deadline.
          if (now < deadline) assert.equal(gone.length, 0);
          assert.ok(nat.flows().every((f) => f.expires > now));
        }
        assert.ok(nat.size <= maxFlows);
        // Every flow the table holds is one the caller was told about, and vice versa.
        assert.deepEqual(new Set(nat.flows().map((f) => f.id)), live);
      }
    }),
    { numRuns: 500 },
  );
});
