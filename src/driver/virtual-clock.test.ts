import { test } from 'node:test';
import assert from 'node:assert/strict';
import timers from 'node:timers';
import { Simulator } from './sim.js';
import { DEFAULT_EPOCH_MS, VirtualClock } from './virtual-clock.js';

/** Install a clock on a fresh simulator for the duration of `fn` (always uninstalled after). */
function withClock(fn: (sim: Simulator, clock: VirtualClock) => void): void {
  const sim = new Simulator();
  const clock = new VirtualClock(sim);
  clock.install();
  try {
    fn(sim, clock);
  } finally {
    clock.uninstall();
  }
}

test("VirtualClock: timers follow Node's rules on virtual time", () => {
  const log: string[] = [];
  withClock((sim) => {
    const at = (what: string) => () => log.push(`${what}@${sim.now / 1000}`);
    setTimeout(at('a'), 1500);
    setTimeout(at('clamped'), -5); // Node: outside [1, 2^31-1] ms is 1 ms
    const cleared = setTimeout(at('never'), 10);
    clearTimeout(Number(cleared)); // by its primitive id, as Node allows
    let n = 0;
    const iv = setInterval(() => {
      at('tick')();
      if (++n === 3) clearInterval(iv);
    }, 400);
    setImmediate(at('immediate'));
    const r = setTimeout(at('refreshed'), 1000);
    setTimeout(() => r.refresh(), 500); // restarts the countdown: fires at 1500
    setTimeout(at('housekeeping'), 5000).unref(); // keeps no run() alive
    sim.run();
  });
  assert.deepEqual(log, ['immediate@0', 'clamped@1', 'tick@400', 'tick@800', 'tick@1200', 'a@1500', 'refreshed@1500']);
});

test('VirtualClock: Date and performance.now read the virtual clock; explicit dates pass through; uninstall restores', () => {
  const realDate = Date;
  const realSetTimeout = setTimeout;
  withClock((sim) => {
    sim.run({ until: 2_500_000 });
    assert.equal(Date.now(), DEFAULT_EPOCH_MS + 2500);
    assert.equal(new Date().toISOString(), '2000-01-01T00:00:02.500Z');
    assert.equal(new Date(0).getTime(), 0);
    assert.ok(new Date() instanceof realDate);
    assert.equal(typeof Date(), 'string');
    assert.equal(Date.UTC(2001, 0, 1), realDate.UTC(2001, 0, 1));
    assert.equal(performance.now(), 2500);
    assert.notEqual(timers.setTimeout, realSetTimeout, 'node:timers is virtual too');
  });
  assert.equal(Date, realDate);
  assert.equal(setTimeout, realSetTimeout);
  assert.equal(timers.setTimeout, realSetTimeout);
  assert.ok(Date.now() > DEFAULT_EPOCH_MS + 20 * 365 * 86_400_000, 'the wall clock again');
});

test('VirtualClock: one per process; install nests', () => {
  const a = new VirtualClock(new Simulator());
  const b = new VirtualClock(new Simulator());
  a.install();
  a.install();
  try {
    assert.throws(() => b.install(), /another VirtualClock is installed/);
    a.uninstall();
    assert.equal(a.installed, true, 'still installed once');
  } finally {
    a.uninstall();
  }
  assert.equal(a.installed, false);
  b.install();
  b.uninstall();
  assert.throws(() => new VirtualClock(new Simulator(), { epochMs: Number.NaN }), /epochMs/);
});
