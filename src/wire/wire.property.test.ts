/**
 * Property tests: no byte input makes the parsers or the formatter throw, and every valid
 * TcpRepr survives emit -> parse unchanged. fast-check prints the seed and the shrunk
 * counterexample on failure; replay with { seed, path } in fc.assert's options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalAddr, formatAddr, parseAddr } from './addr.js';
import { formatPacket, formatTcpLine } from './format.js';
import { newIpRepr, parseIpHeader } from './ip.js';
import type { IpRepr } from './ip.js';
import { buildTcpPacket, parseTcp } from './tcp.js';
import { newTcpRepr, SYN } from './tcp-repr.js';
import type { TcpRepr } from './tcp-repr.js';
import { DATA_TS_SACK, IPV6_SYN, LINUX_SYN, LINUX_SYNACK } from './fixtures.test-util.js';

const ip = newIpRepr();
const tcp = newTcpRepr();

/** Run every entry point on `frame`; the assertion is that none of them throws. */
function exercise(frame: Uint8Array): void {
  for (const verify of [true, false]) {
    if (parseIpHeader(frame, ip, verify) === null) {
      const why = parseTcp(frame, ip, tcp, verify);
      if (why === null) {
        assert.ok(tcp.payload.length <= frame.length);
        if (tcp.payload.length > 0) assert.equal(tcp.payload.buffer, frame.buffer); // a view, never a copy
      }
    }
  }
  assert.equal(typeof formatPacket(frame), 'string');
}

test('random byte arrays never make the parsers or formatPacket throw', () => {
  const first = fc.oneof(fc.constant(0x45), fc.constant(0x4f), fc.constant(0x60), fc.integer({ min: 0, max: 255 }));
  const frame = fc
    .tuple(first, fc.uint8Array({ minLength: 0, maxLength: 120 }))
    .map(([b0, rest]) => Uint8Array.from([b0, ...rest]));
  fc.assert(fc.property(fc.oneof(frame, fc.uint8Array({ maxLength: 80 })), exercise), { numRuns: 3000 });
});

test('random mutations of valid packets never make the parsers or formatPacket throw', () => {
  const base = fc.constantFrom(LINUX_SYN, LINUX_SYNACK, DATA_TS_SACK, IPV6_SYN);
  const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  const arb = fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.nat(), fc.boolean());
  fc.assert(
    fc.property(arb, ([b, muts, cut, truncate]) => {
      const f = b.slice();
      for (const m of muts) f[m.at % f.length] = m.value;
      exercise(truncate ? f.subarray(0, cut % (f.length + 1)) : f);
    }),
    { numRuns: 5000 },
  );
});

test('parseTcp never throws even with an inconsistent IpRepr', () => {
  const anyNum = fc.oneof(fc.integer({ min: -100, max: 200 }), fc.constant(Number.NaN));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), anyNum, anyNum, fc.constantFrom(4, 6), (f, hl, pl, v) => {
      const bogus: IpRepr = { ...newIpRepr(), version: v as 4 | 6, protocol: 6, headerLength: hl, payloadLength: pl };
      parseTcp(f, bogus, tcp, true);
    }),
  );
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

/** A TcpRepr emitTcp can represent exactly: SYN-only options on SYN, SACK blocks off SYN, and fit. */
const validRepr: fc.Arbitrary<TcpRepr> = fc
  .record({
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0x1ff }),
    window: u16,
    urgent: u16,
    mss: fc.oneof(fc.constant(-1), u16),
    wscale: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 255 })),
    sackPermitted: fc.boolean(),
    hasTimestamp: fc.boolean(),
    tsVal: u32,
    tsEcr: u32,
    sack: fc.array(fc.tuple(u32, u32), { maxLength: 4 }),
    payload: fc.uint8Array({ maxLength: 64 }),
  })
  .map((x) => {
    const r = Object.assign(newTcpRepr(), {
      srcPort: x.srcPort,
      dstPort: x.dstPort,
      seq: x.seq,
      ack: x.ack,
      flags: x.flags,
      window: x.window,
      urgent: x.urgent,
      hasTimestamp: x.hasTimestamp,
      tsVal: x.hasTimestamp ? x.tsVal : 0,
      tsEcr: x.hasTimestamp ? x.tsEcr : 0,
      payload: x.payload,
    });
    if (x.flags & SYN) {
      r.mss = x.mss;
      r.wscale = x.wscale;
      r.sackPermitted = x.sackPermitted;
    } else {
      r.sackCount = Math.min(x.sack.length, x.hasTimestamp ? 3 : 4);
      for (let i = 0; i < r.sackCount; i++) r.sackBlocks.set(x.sack[i]!, 2 * i);
    }
    return r;
  });

function plain(r: TcpRepr): object {
  const { sackBlocks, payload, ...rest } = r;
  return { ...rest, sack: [...sackBlocks.subarray(0, 2 * r.sackCount)], payload: [...payload] };
}

test('a random valid TcpRepr survives emit -> parse unchanged (IPv4 and IPv6)', () => {
  const addrs = fc.oneof(fc.tuple(fc.ipV4(), fc.ipV4()), fc.tuple(fc.ipV6(), fc.ipV6()));
  fc.assert(
    fc.property(validRepr, addrs, (r, [src, dst]) => {
      const pkt = buildTcpPacket(src, dst, r);
      const ipr = newIpRepr();
      const out = newTcpRepr();
      assert.equal(parseIpHeader(pkt, ipr, true), null);
      assert.equal(parseTcp(pkt, ipr, out, true), null);
      assert.equal(ipr.src, canonicalAddr(src));
      assert.equal(ipr.dst, canonicalAddr(dst));
      assert.deepEqual(plain(out), plain(r));
      // On-wire option order (formatPacket) and emit order (formatTcpLine) agree.
      assert.equal(formatPacket(pkt), formatTcpLine(ipr.src, ipr.dst, r));
    }),
    { numRuns: 2000 },
  );
});

test('addresses: format -> parse is the identity; IPv6 text matches the WHATWG serializer', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const s = formatAddr(b);
      assert.deepEqual(parseAddr(s), b);
      // WHATWG's IPv6 serializer is RFC 5952 without the §5 dotted-quad form for mapped addresses.
      if (!s.startsWith('::ffff:') || !s.includes('.')) assert.equal(s, new URL(`http://[${s}]/`).hostname.slice(1, -1));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.ipV6(), (s) => {
      const b = parseAddr(s);
      assert.ok(b !== null, s);
      assert.deepEqual(parseAddr(new URL(`http://[${s}]/`).hostname.slice(1, -1)), b);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.ipV4(), (s) => {
      assert.equal(canonicalAddr(s), s);
    }),
  );
});
