/**
 * Packetization-layer path MTU discovery (RFC 4821, src/tcp/mtu-probe.ts) on the simulator: a
 * path that silently drops frames over 1280 bytes (an ICMP black hole: no Fragmentation Needed)
 * between two hosts whose links carry 1500. Virtual time throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import type { Stack } from '../src/stack/stack.js';
import { sec } from '../src/time.js';
import { writeAll } from './helpers.js';

const N = 2_000_000;

/** b sends N bytes to a across the black hole with tcp_mtu_probing = `mode`; runs `seconds`. */
function download(mode: number, seconds: number): { got: number; intact: boolean; b: Stack; mss: number } {
  const w = new SimWorld({ seed: 7, path: { mtu: 1280 } });
  const b = w.addHost('b', ['10.0.0.2/24'], { mtu: 1500, tcp: { mtuProbing: mode } });
  const a = w.addHost('a', ['10.0.0.1/24'], { mtu: 1500 });
  const data = new Uint8Array(N).map((_, i) => (i * 31 + 7) & 0xff);
  const l = b.listen({ port: 80 });
  let mss = 0;
  l.onConnection = (s) => {
    writeAll(s, data, () => {
      mss = b.connections()[0]!.snapshot(w.now).mss;
      s.close();
    })();
  };
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  const chunks: Uint8Array[] = [];
  c.onData = () => {
    for (let d = c.read(); d !== null; d = c.read()) chunks.push(d);
  };
  w.run(w.now + sec(seconds));
  const got = Buffer.concat(chunks);
  return { got: got.length, intact: got.length === N && Buffer.from(data).equals(got), b, mss };
}

test('PLPMTUD black hole, tcp_mtu_probing=1: timeouts turn probing on, the MSS drops to tcp_base_mss, the search climbs to the hole and the transfer completes', () => {
  const r = download(1, 60);
  assert.ok(r.intact, `received ${r.got} of ${N}`);
  const c = r.b.counters;
  // Five timeouts (3 s after the first retransmission: tcp_retries1) before the MSS drops to 1024.
  assert.equal(c.TCPTimeouts, 5);
  // In MTU (timestamps on: base MSS 1024 is MTU 1076): a probe of 1288, the middle of [1076, 1500],
  // vanishes; 1181, 1234, 1260, 1273 and 1280 pass, and the range [1280, 1287] is below
  // tcp_probe_threshold: the MSS ends at exactly what the hole lets through, 1280 - 52.
  assert.equal(c.TCPMTUPFail, 1);
  assert.equal(c.TCPMTUPSuccess, 5);
  assert.equal(r.mss, 1228);
});

test('PLPMTUD black hole, tcp_mtu_probing=0: full-sized segments vanish and nothing gets through (what probing fixes)', () => {
  const r = download(0, 60);
  assert.ok(r.got < N / 10, `received ${r.got} of ${N}`);
  assert.equal(r.b.counters.TCPMTUPSuccess ?? 0, 0);
});

test('PLPMTUD, tcp_mtu_probing=2: starts at tcp_base_mss, so the black hole costs no timeout; probes find the path MTU', () => {
  const r = download(2, 60);
  assert.ok(r.intact, `received ${r.got} of ${N}`);
  assert.equal(r.b.counters.TCPTimeouts ?? 0, 0);
  assert.equal(r.b.counters.TCPMTUPFail, 1);
  assert.equal(r.b.counters.TCPMTUPSuccess, 5);
  assert.equal(r.mss, 1228);
});
