/**
 * Fuzz property of UDP input (fast-check prints the seed and the shrunk counterexample on
 * failure; replay with `{ seed, path }` in fc.assert's options): random IPv4/IPv6 UDP frames,
 * valid ones and ones with mutated headers, lengths, checksums and payloads, never throw from
 * `stack.input`, and every frame is accounted for: delivered to a socket, or dropped and counted
 * under a reason (Drop.<reason>), and the Udp/Udp6 error counters agree with those reasons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Stack } from '../src/stack/stack.js';
import { buildUdpPacket } from '../src/wire/udp.js';

const HOST4 = '10.0.0.2';
const HOST6 = 'fd00::2';

const frameArb = fc.record({
  v6: fc.boolean(),
  sport: fc.integer({ min: 0, max: 65535 }),
  dport: fc.constantFrom(7, 9, 53, 65535),
  payload: fc.uint8Array({ maxLength: 64 }),
  toBroadcast: fc.boolean(),
  // Mutations of the UDP part: [offset from the UDP header, new byte].
  edits: fc.array(fc.tuple(fc.nat(71), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
  zeroChecksum: fc.boolean(),
});

test('property: random UDP frames never throw and every one is delivered or counted as a drop by reason', () => {
  const st = new Stack({ addresses: [`${HOST4}/24`, `${HOST6}/64`], clock: () => 0 });
  const sinks = [7, 53].map((port) => {
    const s = st.udp.open(6);
    s.bind('::', port);
    s.setRecvBufferSize(1 << 20);
    return s;
  });
  let delivered = 0;
  for (const s of sinks) {
    s.onReadable = () => {
      delivered++;
      while (s.recv() !== null);
    };
  }
  const drops = (): number => Object.entries(st.counters).filter(([k]) => k.startsWith('Drop.')).reduce((t, [, v]) => t + v, 0);
  fc.assert(
    fc.property(fc.array(frameArb, { minLength: 1, maxLength: 20 }), (frames) => {
      const before = { delivered, drops: drops() };
      for (const f of frames) {
        const src = f.v6 ? 'fd00::1' : '10.0.0.1';
        const dst = f.v6 ? HOST6 : f.toBroadcast ? '10.0.0.255' : HOST4;
        const pkt = buildUdpPacket(src, dst, f.sport, f.dport, f.payload);
        const udp = f.v6 ? 40 : 20;
        if (f.zeroChecksum) pkt[udp + 6] = pkt[udp + 7] = 0;
        for (const [off, b] of f.edits) if (udp + off < pkt.length) pkt[udp + off] = b;
        st.input(pkt);
      }
      assert.equal(delivered - before.delivered + drops() - before.drops, frames.length, 'each frame delivered or dropped by reason');
    }),
  );
  const c = st.counters;
  assert.equal(c['Drop.bad-udp-checksum'] ?? 0, c.UdpInCsumErrors! + c.Udp6InCsumErrors! - (c['Drop.udp-zero-checksum-v6'] ?? 0));
  assert.equal(
    c.UdpInErrors! + c.Udp6InErrors!,
    (c['Drop.bad-udp-checksum'] ?? 0) + (c['Drop.udp-zero-checksum-v6'] ?? 0) + (c['Drop.bad-udp-length'] ?? 0) + (c['Drop.udp-truncated'] ?? 0) + (c['Drop.udp-rcvbuf'] ?? 0),
  );
  assert.equal(c['Drop.udp-no-port'] ?? 0, c.UdpNoPorts! + c.Udp6NoPorts!);
  assert.equal(c['Drop.udp-no-port-multi'] ?? 0, c.UdpIgnoredMulti! + c.Udp6IgnoredMulti!);
  assert.ok(delivered > 0 && (c['Drop.bad-udp-checksum'] ?? 0) > 0 && c.UdpNoPorts! > 0 && c.UdpIgnoredMulti! > 0, 'the generator reaches every path');
});
