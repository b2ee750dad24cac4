/**
 * Header prediction (receivePredicted in src/tcp/input.ts; LINUX tcp_rcv_established "Bulk data
 * transfer: receiver"): the predicted segments skip the full §3.10.7.4 path, and that must change nothing.
 * Seeded transfers under loss, reordering, duplication and corruption, one way and both ways,
 * with and without SACK and timestamps, put the same frames on the wire at the same instants with
 * the prediction on and off, and end with the same counters but TCPHPHits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SimWorld } from '../src/driver/world.js';
import { setHeaderPrediction } from '../src/tcp/input.js';
import type { TcpConfig } from '../src/tcp/config.js';
import { ms } from '../src/time.js';
import { countReceived, writeAll } from './helpers.js';

interface Run {
  wire: string;
  frames: number;
  got: number;
  back: number;
  counters: Record<string, number>;
  hits: number;
}

function transfer(seed: number, tcp: Partial<TcpConfig>, both: boolean, impaired: boolean): Run {
  const w = new SimWorld({
    seed,
    path: impaired ? { delay: ms(5), loss: 0.03, reorder: 0.05, duplicate: 0.02, corrupt: 0.01, jitter: ms(2) } : { delay: ms(5) },
  });
  const a = w.addHost('a', ['10.0.0.1'], { tcp });
  const b = w.addHost('b', ['10.0.0.2'], { tcp });
  const hash = createHash('sha256');
  let frames = 0;
  w.onFrame((ev) => {
    frames++;
    hash.update(`${ev.t} ${ev.from} ${ev.dropped ? 1 : 0} `).update(ev.frame);
  });
  const data = new Uint8Array(300_000).map((_, i) => (i * 31 + seed) & 255);
  const l = b.listen({ port: 80 });
  let back = 0;
  const got = both ? null : countReceived(l);
  if (both) {
    l.onConnection = () => {
      const s = l.accept()!;
      writeAll(s, data.subarray(0, 200_000))();
      s.onData = () => {
        while (s.read() !== null); // a discard server that also sends
      };
    };
  }
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  c.onConnect = () => writeAll(c, data)();
  c.onData = () => {
    for (let d = c.read(); d !== null; d = c.read()) back += d.length;
  };
  w.run(120_000_000);
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...a.counters })) counters[`a.${k}`] = v as number;
  for (const [k, v] of Object.entries({ ...b.counters })) counters[`b.${k}`] = v as number;
  const hits = (a.counters.TCPHPHits ?? 0) + (b.counters.TCPHPHits ?? 0);
  delete counters['a.TCPHPHits'];
  delete counters['b.TCPHPHits'];
  return { wire: hash.digest('hex'), frames, got: got === null ? -1 : got(), back, counters, hits };
}

const CASES: { name: string; tcp: Partial<TcpConfig> }[] = [
  { name: 'SACK and timestamps', tcp: {} },
  { name: 'no SACK', tcp: { sack: false } },
  { name: 'no timestamps', tcp: { timestamps: false } },
];

for (const { name, tcp } of CASES) {
  test(`header prediction changes nothing on the wire (${name}; clean and impaired paths, one way and both ways)`, () => {
    let hits = 0;
    for (const seed of [1, 2, 3]) {
      for (const both of [false, true]) {
        for (const impaired of [false, true]) {
          try {
            setHeaderPrediction(false);
            const slow = transfer(seed, tcp, both, impaired);
            setHeaderPrediction(true);
            const fast = transfer(seed, tcp, both, impaired);
            const what = `seed ${seed}, ${both ? 'both ways' : 'one way'}, ${impaired ? 'impaired' : 'clean'}`;
            assert.equal(slow.hits, 0, `${what}: no hit with the prediction off`);
            assert.ok(slow.frames > 200, `${what}: the transfer ran (${slow.frames} frames)`);
            assert.equal(fast.frames, slow.frames, `${what}: frame count`);
            assert.equal(fast.wire, slow.wire, `${what}: the frames and their instants differ`);
            assert.deepEqual(fast.counters, slow.counters, `${what}: counters`);
            assert.equal(fast.back, slow.back, `${what}: bytes back`);
            hits += fast.hits;
          } finally {
            setHeaderPrediction(true);
          }
        }
      }
    }
    // A bulk receiver takes the prediction for most segments (a test that fails if it never does).
    assert.ok(hits > 200, `the prediction was taken (${hits} hits)`);
  });
}

test('a pure bulk receiver predicts nearly every data segment; TCPHPHits counts them (nstat TcpExtTCPHPHits)', () => {
  const run = transfer(7, {}, false, false);
  assert.equal(run.got, 300_000);
  const dataSegs = Math.ceil(300_000 / 1448);
  assert.ok(run.hits >= dataSegs - 12 && run.hits <= dataSegs, `${run.hits} hits for ${dataSegs} data segments`);
  assert.throws(() => setHeaderPrediction('yes' as unknown as boolean), /on must be a boolean/);
});
