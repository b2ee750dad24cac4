import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTransfer } from '../src/demo/transfer.js';
import { makeConfig, DEFAULT_CONFIG } from '../src/tcp/config.js';
import {
  congestionControlNames,
  createCongestionControl,
  registerCongestionControl,
  type CongestionAlgorithm,
  type CongestionControl,
} from '../src/tcp/congestion/registry.js';

/**
 * A toy algorithm, written the way docs/congestion-control.md tells: one object implementing
 * CongestionControl and one registerCongestionControl() line. Its window is SEGMENTS segments,
 * whatever happens; it counts the hooks the connection calls.
 */
const SEGMENTS = 4;
const calls = { init: 0, onAck: 0 };
class FixedCwnd implements CongestionControl {
  readonly name = 'fixed';
  cwnd = 0;
  ssthresh = 0x7fffffff;
  mss = 536;
  init(mss: number): void {
    calls.init++;
    this.mss = mss;
    this.cwnd = SEGMENTS * mss;
  }
  onAck(): void {
    calls.onAck++;
    this.cwnd = SEGMENTS * this.mss;
  }
  onLoss(): void {
    this.ssthresh = SEGMENTS * this.mss;
  }
  onRto(): void {}
}
const fixed: CongestionAlgorithm = { name: 'fixed', description: 'a fixed window (test toy)', create: () => new FixedCwnd() };

test('congestion registry: a toy fixed-cwnd algorithm, registered with one line, runs a transfer at its window', () => {
  registerCongestionControl(fixed);
  assert.ok(congestionControlNames().includes('fixed'));
  // A window of 4 segments on a loss-free 20 ms RTT path: one window per RTT, so the transfer takes
  // bytes / (4 · MSS) round trips (plus the handshake) — CUBIC, growing from 10 segments, is many times faster.
  const bytes = 400_000;
  const mss = 1500 - 20 - 20 - 12;
  const r = runTransfer({ bytes, seed: 1, delayMs: 10, cc: 'fixed', dataPathOnly: true });
  assert.equal(r.intact, true, r.error ?? 'not intact');
  assert.ok(calls.init >= 1 && calls.onAck > 0, `hooks called: ${JSON.stringify(calls)}`);
  assert.equal(r.finalCwnd, SEGMENTS * mss);
  const rtts = bytes / (SEGMENTS * mss);
  const expected = rtts * 0.02;
  assert.ok(r.virtualSeconds > 0.8 * expected && r.virtualSeconds < 1.3 * expected, `${r.virtualSeconds} s virtual, expected ~${expected.toFixed(2)} s`);
  const cubic = runTransfer({ bytes, seed: 1, delayMs: 10, cc: 'cubic', dataPathOnly: true });
  assert.ok(cubic.virtualSeconds < r.virtualSeconds / 3, `cubic ${cubic.virtualSeconds} s vs fixed ${r.virtualSeconds} s`);
});

test('congestion registry: names are checked where they enter (config, registration)', () => {
  assert.deepEqual(congestionControlNames().slice(0, 2), ['reno', 'cubic']);
  assert.equal(makeConfig(DEFAULT_CONFIG, { congestionControl: 'newreno' }).congestionControl, 'reno');
  assert.throws(() => makeConfig(DEFAULT_CONFIG, { congestionControl: 'vegas' }), /option 'congestionControl' must be one of reno, cubic/);
  assert.throws(() => createCongestionControl('vegas'), /'vegas' is not registered/);
  assert.throws(() => registerCongestionControl({ ...fixed, name: 'cubic' }), /algo.name 'cubic' is already registered/);
  assert.throws(() => registerCongestionControl({ ...fixed, name: 'newreno' }), /already registered/);
  assert.throws(() => registerCongestionControl({ ...fixed, name: 'Bad Name' }), /algo.name must be/);
  assert.throws(() => registerCongestionControl(null as unknown as CongestionAlgorithm), /algo must be/);
});

// LINUX bictcp_update: W_cubic is evaluated one *minimum* RTT ahead (t += delay_min), so the smoothed
// RTT the sender passes (which queueing inflates) does not change how fast CUBIC grows.
test('CUBIC aims W_cubic one minimum RTT ahead, as Linux does, whatever the smoothed RTT', () => {
  const grow = (srtt: number): number => {
    const cc = createCongestionControl('cubic');
    cc.init(1000, 10);
    cc.onPktsAcked?.(10_000, 0, { sndUna: 1, sndNxt: 10_001, hystartDetect: 0, ackDelay: 0 }); // min RTT 10 ms
    cc.cwnd = 20_000;
    cc.onLoss(20_000); // W_max 20 segments, ssthresh 14
    cc.cwnd = cc.ssthresh;
    for (let t = 1; t <= 200; t++) cc.onAck(1000, t * 10_000, srtt); // 2 s of ACKs in congestion avoidance
    return cc.cwnd;
  };
  const atMinRtt = grow(10_000);
  assert.ok(atMinRtt > 14_000, `the window grew (${atMinRtt})`);
  assert.equal(grow(400_000), atMinRtt, 'a smoothed RTT of 400 ms made CUBIC grow differently');
});
