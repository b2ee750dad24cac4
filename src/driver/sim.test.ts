import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator, type TimerClient } from './sim.js';
import { SimNetwork, type FrameEvent } from './sim-network.js';
import { NEVER, ms, sec } from '../time.js';

test('events at equal times run in FIFO order, earlier times first', () => {
  const sim = new Simulator();
  const log: string[] = [];
  sim.schedule(20, () => log.push('c'));
  sim.schedule(10, () => log.push('a1'));
  sim.schedule(10, () => log.push('a2'));
  sim.schedule(10, () => {
    log.push('a3');
    sim.schedule(10, () => log.push('a4 (scheduled during a3)'));
  });
  sim.run();
  assert.deepEqual(log, ['a1', 'a2', 'a3', 'a4 (scheduled during a3)', 'c']);
  assert.equal(sim.now, 20);
});

test('schedule in the past throws a RangeError naming at; after() is relative', () => {
  const sim = new Simulator();
  sim.schedule(100, () => {});
  sim.run();
  assert.throws(() => sim.schedule(99, () => {}), (e: unknown) => e instanceof RangeError && /\bat\b/.test(e.message));
  let when = -1;
  sim.after(ms(5), () => (when = sim.now));
  sim.run();
  assert.equal(when, 100 + 5000);
});

test('cancel removes an event; cancelling twice or after it ran is a no-op', () => {
  const sim = new Simulator();
  const log: number[] = [];
  const e1 = sim.schedule(1, () => log.push(1));
  const e2 = sim.schedule(2, () => log.push(2));
  sim.schedule(3, () => log.push(3));
  sim.cancel(e2);
  sim.cancel(e2);
  assert.equal(e2.pending, false);
  assert.equal(sim.step(), true);
  sim.cancel(e1);
  sim.run();
  assert.deepEqual(log, [1, 3]);
  assert.equal(sim.step(), false);
});

test('run until stops before later events and sets now = until; maxSteps limits', () => {
  const sim = new Simulator();
  const log: number[] = [];
  for (const t of [10, 20, 30]) sim.schedule(t, () => log.push(t));
  sim.run({ until: 20 });
  assert.deepEqual(log, [10, 20]);
  assert.equal(sim.now, 20);
  sim.runFor(5);
  assert.equal(sim.now, 25);
  assert.deepEqual(log, [10, 20]);
  sim.run({ until: 1000, maxSteps: 0 });
  assert.equal(sim.now, 25);
  sim.run({ until: 1000 });
  assert.equal(sim.now, 1000);
  assert.deepEqual(log, [10, 20, 30]);
  assert.throws(() => sim.run({ until: 5 }), RangeError);
});

/** A client with a list of deadlines, like a connection's timer table. */
class ListClient implements TimerClient {
  readonly calls: number[] = [];
  constructor(
    private deadlines: number[],
    readonly name = 'list',
  ) {}
  nextDeadline(): number {
    return this.deadlines[0] ?? NEVER;
  }
  onTimer(now: number): void {
    this.calls.push(now);
    while (this.deadlines.length > 0 && this.deadlines[0]! <= now) this.deadlines.shift();
  }
}

test('timer clients are polled at their deadlines; ties go to events, then registration order', () => {
  const sim = new Simulator();
  const log: string[] = [];
  const a: TimerClient = {
    d: 100,
    nextDeadline() {
      return this.d;
    },
    onTimer(now: number) {
      log.push(`A@${now}`);
      this.d = NEVER;
    },
  } as TimerClient & { d: number };
  const b: TimerClient = {
    d: 100,
    nextDeadline() {
      return this.d;
    },
    onTimer(now: number) {
      log.push(`B@${now}`);
      this.d = NEVER;
    },
  } as TimerClient & { d: number };
  sim.addTimerClient(a);
  sim.addTimerClient(b);
  sim.schedule(100, () => log.push('E1@100'));
  sim.schedule(50, () => log.push('E0@50'));
  sim.run();
  assert.deepEqual(log, ['E0@50', 'E1@100', 'A@100', 'B@100']);

  const c = new ListClient([sec(1), sec(3), sec(7)]);
  sim.addTimerClient(c);
  sim.run();
  assert.deepEqual(c.calls, [sec(1), sec(3), sec(7)]);
  sim.removeTimerClient(c);
  assert.equal(sim.step(), false);
});

test('an event that moves a client deadline is seen before the client runs', () => {
  const sim = new Simulator();
  const c = new ListClient([500]);
  sim.addTimerClient(c);
  sim.schedule(500, () => (c as unknown as { deadlines: number[] }).deadlines.splice(0, 1, 900));
  sim.run();
  assert.deepEqual(c.calls, [900]);
});

test('an overdue client deadline runs at now, never in the past', () => {
  const sim = new Simulator();
  sim.schedule(1000, () => {});
  sim.run();
  const c = new ListClient([10]);
  sim.addTimerClient(c);
  sim.run();
  assert.deepEqual(c.calls, [1000]);
});

test('a client stuck at a deadline <= now is reported by name', () => {
  const sim = new Simulator({ stallLimit: 1000 });
  sim.addTimerClient({ name: 'stuck-stack', nextDeadline: () => 5, onTimer: () => {} });
  assert.throws(() => sim.run(), /stuck-stack/);
});

test('a 127 s SYN give-up schedule completes in milliseconds of wall time', () => {
  const sim = new Simulator();
  // tcp_syn_retries = 6: SYNs at 0,1,3,7,15,31,63 s, ETIMEDOUT at 127 s (DESIGN.md).
  const c = new ListClient([0, 1, 3, 7, 15, 31, 63, 127].map(sec));
  sim.addTimerClient(c);
  let ticks = 0;
  const tick = (): void => {
    ticks++;
    if (sim.now < sec(127)) sim.after(ms(1), tick);
  };
  sim.after(0, tick);
  const t0 = performance.now();
  sim.run();
  const wall = performance.now() - t0;
  assert.equal(sim.now, sec(127));
  assert.equal(c.calls.length, 8);
  assert.equal(ticks, 127_001);
  assert.ok(wall < 2000, `took ${wall} ms`);
});

/** A busy two-host run under every impairment; returns the tap log as text. */
function scenario(seed: number): string[] {
  const sim = new Simulator({ seed });
  const net = new SimNetwork(sim, { delay: ms(2), jitter: ms(1), loss: 0.2, duplicate: 0.1, reorder: 0.1, corrupt: 0.1 });
  const a = net.attach('a', ['10.0.0.1']);
  const b = net.attach('b', ['10.0.0.2']);
  const log: string[] = [];
  net.onFrame((ev: FrameEvent) => {
    log.push(`${ev.t} ${ev.from}>${ev.to} ${ev.dropped ? 'drop ' + ev.reason : 'at ' + ev.deliverAt} ${ev.reason ?? ''} ${ev.duplicate ? 'dup' : ''} ${Buffer.from(ev.frame).toString('hex')}`);
  });
  b.onReceive((f) => log.push(`${sim.now} b got ${Buffer.from(f).toString('hex')}`));
  a.onReceive((f) => log.push(`${sim.now} a got ${Buffer.from(f).toString('hex')}`));
  const frame = (dst: number, i: number): Uint8Array => {
    const f = new Uint8Array(28);
    f[0] = 0x45;
    f.set([10, 0, 0, dst], 16);
    f[20] = i;
    return f;
  };
  for (let i = 0; i < 200; i++) {
    sim.schedule(i * 300, () => a.send(frame(2, i)));
    sim.schedule(i * 300 + 150, () => b.send(frame(1, i)));
  }
  sim.run();
  return log;
}

test('same seed gives an identical FrameEvent sequence; a different seed differs under loss', () => {
  const r1 = scenario(42);
  const r2 = scenario(42);
  assert.ok(r1.length > 400);
  assert.deepEqual(r1, r2);
  const r3 = scenario(43);
  assert.notDeepEqual(r1, r3);
});
