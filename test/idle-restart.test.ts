import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, A_ADDR, B_ADDR } from './helpers.js';
import { cwndRestart, type IdleEvent } from '../src/tcp/congestion/control.js';
import { createCongestionControl, registerCongestionControl, type CongestionControl } from '../src/tcp/congestion/registry.js';

/**
 * Slow start after idle (LINUX tcp_slow_start_after_idle / tcp_cwnd_restart, RFC 5681 §4.1):
 * A sends a bulk transfer to B over a 20 ms RTT path, stays idle for `idleUs`, then writes
 * another bulk; returns how many data segments A sent in the first RTT after the second write.
 */
function burstAfterIdle(slowStartAfterIdle: boolean, idleUs: number, congestionControl = 'cubic'): { burst: number; dump: string; writeAt: number } {
  const h = new Harness({ seed: 7, delay: 10_000 });
  const chunk = new Uint8Array(300_000);
  const l = h.B.listen({ port: 80 });
  let got = 0;
  let writeAt = -1;
  l.onConnection = () => {
    const s = l.accept()!;
    s.onData = () => {
      for (let d = s.read(); d !== null; d = s.read()) got += d.length;
      // The first bulk is in (sent 10 ms ago): the second one `idleUs` from now.
      if (got === chunk.length && writeAt < 0) {
        writeAt = h.now + idleUs;
        h.at(writeAt, () => sock.write(chunk));
      }
    };
  };
  const sock = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, tcp: { slowStartAfterIdle, congestionControl } });
  sock.onConnect = () => sock.write(chunk);
  while (writeAt < 0 && h.now < 3_000_000) h.runFor(5_000);
  assert.ok(writeAt > 0, 'the first bulk was delivered');
  h.run(writeAt + 19_000); // less than one RTT after the write: only the first flight
  const burst = h.segs.filter((s) => s.src === A_ADDR && s.len > 0 && s.t >= writeAt).length;
  return { burst, dump: h.dump(), writeAt };
}

test('slow start after idle: after more than an RTO idle the next flight is the restart window', () => {
  const on = burstAfterIdle(true, 3_000_000);
  // The first bulk grew cwnd far past IW (10); idle for 3 s ≫ RTO (~220 ms) halves it down to IW.
  assert.equal(on.burst, 10, `burst after idle with tcp_slow_start_after_idle=1: ${on.burst}\n${on.dump}`);
  const off = burstAfterIdle(false, 3_000_000);
  assert.ok(off.burst >= 30, `with tcp_slow_start_after_idle=0 the window survives the idle time: ${off.burst}`);
  // A pause shorter than the RTO does not restart the window.
  const short = burstAfterIdle(true, 100_000);
  assert.ok(short.burst >= 30, `idle 100 ms < RTO: burst ${short.burst}`);
});

test('tcp_cwnd_restart arithmetic: halve per RTO elapsed, floor min(IW, cwnd), ssthresh keeps 3/4', () => {
  const mss = 1000;
  const cc = createCongestionControl('reno');
  cc.init(mss, 10);
  // slow-start-after-idle.pkt: cwnd 36, 2 s idle, RTO 300 ms: 36 → 18 → 9, floored at IW 10.
  cc.cwnd = 36 * mss;
  cwndRestart(cc, 2_000_000, 0, 300_000, 10, false);
  assert.equal(cc.cwnd, 10 * mss);
  assert.equal(cc.ssthresh, 0x7fffffff); // LINUX tcp_current_ssthresh: max(ssthresh, 27) keeps infinity
  // 650 ms idle, RTO 300 ms: Linux's loop halves while (delta -= RTO) > 0.
  cc.cwnd = 100 * mss;
  cc.ssthresh = 20 * mss;
  cwndRestart(cc, 650_000, 0, 300_000, 10, false);
  assert.equal(cc.cwnd, 25 * mss); // 650 − 300 > 0: 50; 350 − 300 > 0: 25; 50 − 300 ≤ 0: stop
  assert.equal(cc.ssthresh, 75 * mss); // (100 >> 1) + (100 >> 2)
  // In a window reduction (CWR, Recovery) ssthresh is left alone.
  cc.cwnd = 40 * mss;
  cc.ssthresh = 20 * mss;
  cwndRestart(cc, 10_000_000, 0, 300_000, 10, true);
  assert.equal(cc.ssthresh, 20 * mss);
  assert.equal(cc.cwnd, 10 * mss);
  // A window already below IW is kept (restart_cwnd = min(IW, cwnd)).
  cc.cwnd = 4 * mss;
  cwndRestart(cc, 10_000_000, 0, 300_000, 10, false);
  assert.equal(cc.cwnd, 4 * mss);
});

/** CUBIC after a loss at W_max = 100 segments, then `idleUs` of idle, then ACKs for one RTT. */
function cubicGrowthAfterIdle(idleUs: number, notify: boolean): number {
  const mss = 1000;
  const srtt = 20_000;
  const cc = createCongestionControl('cubic');
  cc.init(mss, 10);
  cc.cwnd = 100 * mss;
  cc.onLoss(cc.cwnd);
  cc.cwnd = cc.ssthresh; // 70 segments: congestion avoidance from here
  let now = 1_000_000;
  cc.onAck(mss, now, srtt); // the epoch starts
  now += 50_000;
  cc.onAck(mss, now, srtt);
  now += idleUs;
  if (notify) cc.onIdle?.('txStart', idleUs, now);
  const before = cc.cwnd;
  for (let i = 0; i < 10; i++) cc.onAck(mss, now + i * 2_000, srtt);
  return (cc.cwnd - before) / mss;
}

test('CUBIC shifts its epoch by the idle time on TX_START (LINUX cubictcp_cwnd_event)', () => {
  const idle = 2_000_000;
  const shifted = cubicGrowthAfterIdle(idle, true);
  const unshifted = cubicGrowthAfterIdle(idle, false);
  const noIdle = cubicGrowthAfterIdle(0, false);
  // Without the shift the 2 s of idle count as time on the curve: W_cubic(t) is far past W_max and
  // the window jumps (bounded only by the 1.5×-per-RTT cap); with it, growth is what it was before the pause.
  assert.ok(unshifted > 5 * shifted, `growth over 10 ACKs: shifted ${shifted.toFixed(2)}, unshifted ${unshifted.toFixed(2)} segments`);
  assert.ok(Math.abs(shifted - noIdle) < 0.01, `shifted ${shifted} vs no idle ${noIdle}`);
  // Reno has no TX_START hook: the optional member is absent.
  assert.equal(createCongestionControl('reno').onIdle, undefined);
});

/** Records the idle events the sender raises; a fixed window of 20 segments otherwise. */
const seen: { event: IdleEvent; idle: number; now: number }[] = [];
class IdleRecorder implements CongestionControl {
  readonly name = 'idlerec';
  cwnd = 0;
  ssthresh = 0x7fffffff;
  mss = 536;
  init(mss: number): void {
    this.mss = mss;
    this.cwnd = 20 * mss;
  }
  onAck(): void {}
  onLoss(): void {}
  onRto(): void {}
  onIdle(event: IdleEvent, idle: number, now: number): void {
    seen.push({ event, idle, now });
  }
}
registerCongestionControl({ name: 'idlerec', description: 'records onIdle (test)', create: () => new IdleRecorder() });

test('the sender raises onIdle: cwndRestart then txStart after an idle period, txStart alone with the setting off', () => {
  seen.length = 0;
  const on = burstAfterIdle(true, 1_000_000, 'idlerec');
  const after = seen.filter((e) => e.now >= on.writeAt);
  // The restart (CA_EVENT_CWND_RESTART) comes first, then the transmission (CA_EVENT_TX_START), both
  // at the write, with the idle time since the last data segment (1 s plus the 10 ms one-way delay).
  assert.deepEqual(after.map((e) => e.event), ['cwndRestart', 'txStart'], JSON.stringify(seen));
  for (const e of after) {
    assert.equal(e.now, on.writeAt);
    assert.ok(Math.abs(e.idle - 1_010_000) <= 1_000, `idle ${e.idle}`);
  }
  // The restart halved the recorder's 20 segments down to the initial window of 10.
  assert.equal(on.burst, 10);
  // The first flight of the connection also starts with nothing in flight (TX_START, idle since establishment).
  assert.equal(seen[0]!.event, 'txStart');
  seen.length = 0;
  const off = burstAfterIdle(false, 1_000_000, 'idlerec');
  assert.deepEqual(seen.filter((e) => e.now >= off.writeAt).map((e) => e.event), ['txStart']);
  assert.equal(off.burst, 20);
});
