import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTable, median } from '../bench/compare.js';

test('bench compare: medians and the ratio of before and after per figure', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const before = [{ cps: 100, throughput1500Gbps: 4 }, { cps: 120, throughput1500Gbps: 5 }, { cps: 110, throughput1500Gbps: 4.5 }];
  const after = [{ cps: 90, throughput1500Gbps: 4 }, { cps: 99, throughput1500Gbps: 5.5 }, { cps: 121, throughput1500Gbps: 4.5 }];
  const rows = compareTable(before, after);
  assert.equal(rows.length, 3);
  const cps = rows.find((r) => r.startsWith('cps'))!.split(/\s+/);
  assert.equal(cps[1], '110'); // before median
  assert.equal(cps[2], '99.00'); // after median
  assert.equal(cps[3], '0.900'); // ratio of the medians
  assert.equal(cps[4], '0.900'); // median of 0.9, 0.825, 1.1
  // A figure only one build reports is left out.
  assert.equal(compareTable([{ a: 1, b: 2 }], [{ a: 2 }]).length, 2);
});

test('bench ping-pong: every write is answered, and the figure is the time per round trip', async () => {
  const { synackPingPong } = await import('../bench/cps.js');
  const r = synackPingPong({ warmMs: 20, ms: 100 });
  assert.ok(r.roundTrips >= 1000, `round trips ${r.roundTrips}`);
  assert.ok(r.usPerRoundTrip > 0 && r.usPerRoundTrip < 1000, `${r.usPerRoundTrip} µs`);
});
