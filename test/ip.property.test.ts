/**
 * Fuzz properties of the IP layer (fast-check prints the seed and the shrunk counterexample on
 * failure; replay with { seed, path } in fc.assert's options). Frames: IPv4 with random
 * options, ICMP and ICMPv6 messages with correct checksums (echo, errors quoting random or real
 * datagrams), fragments, and mutations of all of them. For every frame:
 *   - stack input never throws;
 *   - it has exactly one fate: dropped (one drop event and one Drop.<reason> counter), or
 *     delivered to a protocol (Ip/Ip6InDelivers), or held by reassembly (ReasmReqds);
 *   - the stack keeps working afterwards (timers run out without errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SimWorld } from '../src/driver/world.js';
import { emitIpv4Header, emitIpv6Header } from '../src/wire/ip.js';
import { parseAddr } from '../src/wire/addr.js';
import { fillIcmpChecksum } from '../src/wire/icmp.js';
import { finishChecksum, sum16 } from '../src/wire/checksum.js';
import { buildTcpPacket } from '../src/wire/tcp.js';
import { newTcpRepr, SYN } from '../src/wire/tcp-repr.js';
import { emitFragmentHeader } from '../src/ip/fragments.js';
import { sec } from '../src/time.js';

const A4 = '10.0.0.1';
const P4 = '10.0.0.9';
const A6 = 'fd00::1';
const P6 = 'fd00::9';

/** IPv4 header with `opts` as options (padded to 4 bytes), then payload; checksum correct. */
function v4(opts: Uint8Array, proto: number, payload: Uint8Array, fragWord: number, dst = A4): Uint8Array {
  const olen = (opts.length + 3) & ~3;
  const hl = 20 + olen;
  const f = new Uint8Array(hl + payload.length);
  emitIpv4Header(f, 0, parseAddr(P4)!, parseAddr(dst)!, proto, payload.length, 64, 99, false, fragWord);
  f.set(opts, 20);
  f[0] = 0x40 | (hl >> 2);
  f[2] = f.length >> 8;
  f[3] = f.length & 0xff;
  f.set(payload, hl);
  const c = finishChecksum(sum16(f, 0, hl, 0));
  f[10] = c >> 8;
  f[11] = c & 0xff;
  return f;
}

function icmp(v6: boolean, type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + body.length);
  m[0] = type;
  m[1] = code;
  m[4] = rest >>> 24;
  m[5] = (rest >>> 16) & 0xff;
  m[6] = (rest >>> 8) & 0xff;
  m[7] = rest & 0xff;
  m.set(body, 8);
  fillIcmpChecksum(m, 0, m.length, parseAddr(v6 ? P6 : P4)!, parseAddr(v6 ? A6 : A4)!);
  return m;
}

function v6(nh: number, payload: Uint8Array, frag?: { off: number; more: boolean; id: number }): Uint8Array {
  const extra = frag ? 8 : 0;
  const f = new Uint8Array(40 + extra + payload.length);
  emitIpv6Header(f, 0, parseAddr(P6)!, parseAddr(A6)!, frag ? 44 : nh, extra + payload.length, 64);
  if (frag) emitFragmentHeader(f, 40, nh, frag.off, frag.more, frag.id);
  f.set(payload, 40 + extra);
  return f;
}

const syn = (() => {
  const r = newTcpRepr();
  r.srcPort = 40000;
  r.dstPort = 80;
  r.seq = 1;
  r.flags = SYN;
  return r;
})();
/** Datagrams the ICMP errors may quote: one of our SYNs (a connection exists), random bytes. */
const quotes = fc.oneof(
  fc.constant(buildTcpPacket(A4, P4, syn).subarray(0, 28)),
  fc.constant(buildTcpPacket(A6, P6, syn).subarray(0, 48)),
  fc.uint8Array({ maxLength: 60 }),
);

const ipv4Frames = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.constantFrom([1], [0], [7, 7, 4, 0, 0, 0, 0], [68, 4, 5, 0], [130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0], [148, 4, 0, 0]), { maxLength: 5 }).map((xs) => Uint8Array.from(xs.flat().slice(0, 40))),
    ),
    fc.constantFrom(1, 6, 17, 99),
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom(0x4000, 0, 0x2000, 0x2001, 1, 0x2000 | 0x1fff),
    fc.constantFrom(A4, '255.255.255.255', '224.0.0.1', '127.0.0.1'),
  )
  .map(([o, p, pl, fw, dst]) => v4(o, p, pl, fw, dst));

const icmpFrames = fc
  .tuple(fc.boolean(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xffffffff }), quotes)
  .map(([six, type, code, rest, body]) => (six ? v6(58, icmp(true, type, code, rest, body)) : v4(new Uint8Array(0), 1, icmp(false, type, code, rest, body), 0)));

const fragFrames = fc
  .tuple(fc.boolean(), fc.integer({ min: 0, max: 8 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 8, maxLength: 64 }))
  .map(([six, k, more, id, pl]) => (six ? v6(58, pl, { off: k * 8, more, id }) : v4(new Uint8Array(0), 1, pl, (more ? 0x2000 : 0) | k)));

const mutated = fc.tuple(fc.oneof(ipv4Frames, icmpFrames, fragFrames), fc.array(fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 })).map(([f, muts]) => {
  const g = f.slice();
  for (const m of muts) g[m.at % g.length] = m.v;
  return g;
});

test('property: IPv4 options, ICMP/ICMPv6 and fragments never throw; each frame is dropped (counted by reason), delivered or queued', () => {
  const w = new SimWorld({ seed: 9 });
  const a = w.addHost('a', [A4, A6]);
  const peer = w.net.attach('p', [P4, P6]);
  peer.onReceive(() => undefined);
  a.listen({ port: 80 });
  a.connect({ remoteAddress: P4, remotePort: 80, localPort: 40000 });
  a.connect({ remoteAddress: P6, remotePort: 80, localPort: 40000 });
  let drops = 0;
  a.observe((ev) => {
    if (ev.type === 'drop') drops++;
  });
  const dropCounters = (): number => Object.entries(a.counters).reduce((n, [k, v]) => (k.startsWith('Drop.') ? n + v : n), 0);
  const c = a.counters;
  fc.assert(
    fc.property(fc.oneof(ipv4Frames, icmpFrames, fragFrames, mutated), (frame) => {
      const before = { drops, dc: dropCounters(), del: c.IpInDelivers! + c.Ip6InDelivers!, q: c.IpReasmReqds! + c.Ip6ReasmReqds!, ok: c.IpReasmOKs! + c.Ip6ReasmOKs! };
      a.input(frame);
      const dDrop = drops - before.drops;
      const dDel = c.IpInDelivers! + c.Ip6InDelivers! - before.del;
      const dQ = c.IpReasmReqds! + c.Ip6ReasmReqds! - before.q;
      const dOk = c.IpReasmOKs! + c.Ip6ReasmOKs! - before.ok;
      assert.equal(dropCounters() - before.dc, dDrop, 'every drop event has its Drop.<reason> counter');
      // IP-level fate: dropped before delivery, delivered, or taken by reassembly (which may
      // complete a datagram, delivered in the same call). Upper layers may drop after delivery.
      if (dQ > 0) assert.ok(dOk === 0 ? dDel === 0 : dDel === 1 || dDrop >= 1, `reassembly: ok ${dOk} del ${dDel} drops ${dDrop}`);
      else assert.ok(dDel === 1 || (dDel === 0 && dDrop >= 1), `del ${dDel} drops ${dDrop}`);
      w.run(w.now + 1000);
    }),
    { numRuns: 3000 },
  );
  // Dropped for many different reasons, and the ICMP path was exercised.
  const reasons = Object.entries(c).filter(([k, v]) => k.startsWith('Drop.') && (v ?? 0) > 0).map(([k]) => k);
  assert.ok(reasons.length >= 8, reasons.join(' '));
  assert.ok(c.IcmpInMsgs! > 100 && c.Icmp6InMsgs! > 100);
  assert.ok(reasons.includes('Drop.bad-ip-option'), reasons.join(' '));
  w.run(w.now + sec(200)); // reassembly and PMTU timers run out without errors
  assert.equal(a.ip.reasm.memory, 0);
});
