/**
 * Router advertisements: the packet's fields and options byte by byte (RFC 4861 §4.2, §4.6,
 * RFC 8106 §5.1), router solicitation validation (§6.1.1), and the advertiser's schedule on
 * virtual time: initial RAs at most 16 s apart, then [Min, Max]; answers to solicitations after
 * ≤ 0.5 s but never within 3 s of the last RA (§6.2.4, §6.2.6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { ms, sec } from '../time.js';
import { finishChecksum, pseudoHeaderSumAt, sum16 } from '../wire/checksum.js';
import { emitIpv6Header } from '../wire/ip.js';
import { emitRouterAdvert, parseRouterSolicit, routerAdvertOptions, NdOpt } from '../wire/ndp-ra.js';
import { parseAddr } from '../wire/addr.js';
import { RouterAdvertiser } from './router-advert.js';

const MAC = Uint8Array.from([2, 0, 0, 0, 0, 2]);

/** A router solicitation from `src` (with a source link-layer option unless from '::'). */
function rs(src: string, opts: { hop?: number; lladdr?: boolean; badSum?: boolean; zeroOpt?: boolean } = {}): Uint8Array {
  const withLl = opts.lladdr ?? src !== '::';
  const len = 8 + (withLl || opts.zeroOpt ? 8 : 0);
  const p = new Uint8Array(40 + len);
  emitIpv6Header(p, 0, parseAddr(src)!, parseAddr('ff02::2')!, 58, len, opts.hop ?? 255);
  p[40] = 133;
  if (withLl) p.set([1, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56], 48);
  if (opts.zeroOpt) p.set([1, 0], 48);
  const c = finishChecksum(sum16(p, 40, len, pseudoHeaderSumAt(p, 8, 24, 16, 58, len)));
  p[42] = c >> 8;
  p[43] = (c & 0xff) ^ (opts.badSum ? 1 : 0);
  return p;
}

test('an RA carries the flags, lifetimes and options byte for byte, with a valid checksum', () => {
  const p = emitRouterAdvert({
    source: 'fe80::ff:fe00:2',
    destination: 'ff02::1',
    lladdr: MAC,
    mtu: 1400,
    prefixes: [{ prefix: 'fd00::1234/64' }],
    dns: ['fd00::3'],
  });
  // IPv6: hop limit 255, ICMPv6, from the link-local address.
  assert.deepEqual([p[6], p[7]], [58, 255]);
  assert.equal(finishChecksum(sum16(p, 40, p.length - 40, pseudoHeaderSumAt(p, 8, 24, 16, 58, p.length - 40))), 0);
  // Type 134, code 0, cur hop limit 64, M/O clear, router lifetime 1800, reachable/retrans 0.
  assert.deepEqual([...p.subarray(40, 56)].filter((_, i) => i !== 2 && i !== 3), [134, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]);
  const o = routerAdvertOptions(p)!;
  assert.deepEqual(o.map((x) => x.type), [NdOpt.SOURCE_LLADDR, NdOpt.MTU, NdOpt.PREFIX_INFO, NdOpt.RDNSS]);
  assert.deepEqual([...o[0]!.body], [...MAC]);
  assert.deepEqual([...o[1]!.body], [0, 0, 0, 0, 0x05, 0x78]);
  // Prefix: length 64, L and A set, 86400 / 14400 s, host bits cleared.
  const pi = o[2]!.body;
  assert.deepEqual([...pi.subarray(0, 10)], [64, 0xc0, 0, 1, 0x51, 0x80, 0, 0, 0x38, 0x40]);
  assert.deepEqual([...pi.subarray(14, 30)], [...parseAddr('fd00::')!]);
  // RDNSS: length 3 (1 + 2 × 1), lifetime 1800, the address.
  assert.equal(p[p.length - 24 + 1], 3);
  assert.deepEqual([...o[3]!.body.subarray(2, 6)], [0, 0, 0x07, 0x08]);
  assert.deepEqual([...o[3]!.body.subarray(6)], [...parseAddr('fd00::3')!]);
});

test('emitRouterAdvert names bad arguments', () => {
  const base = { source: 'fe80::1', destination: 'ff02::1' };
  assert.throws(() => emitRouterAdvert({ ...base, source: 'fd00::1' }), /link-local/);
  assert.throws(() => emitRouterAdvert({ ...base, mtu: 1000 }), /mtu/);
  assert.throws(() => emitRouterAdvert({ ...base, prefixes: [{ prefix: '10.0.0.0/8' }] }), /prefix/);
  assert.throws(() => emitRouterAdvert({ ...base, prefixes: [{ prefix: 'fd00::/64', validLifetime: 10, preferredLifetime: 20 }] }), /preferredLifetime/);
  assert.throws(() => emitRouterAdvert({ ...base, dns: ['10.0.2.3'] }), /dns/);
});

test('router solicitations are validated (RFC 4861 §6.1.1)', () => {
  assert.deepEqual(parseRouterSolicit(rs('fe80::5054:ff:fe12:3456')), { source: 'fe80::5054:ff:fe12:3456', lladdr: Uint8Array.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]) });
  assert.deepEqual(parseRouterSolicit(rs('::')), { source: '::', lladdr: null });
  assert.equal(parseRouterSolicit(rs('fe80::1', { hop: 64 })), 'rs-bad-hop-limit');
  assert.equal(parseRouterSolicit(rs('fe80::1', { badSum: true })), 'rs-bad-checksum');
  assert.equal(parseRouterSolicit(rs('::', { lladdr: true })), 'rs-unspecified-with-lladdr');
  assert.equal(parseRouterSolicit(rs('fe80::1', { lladdr: false, zeroOpt: true })), 'rs-bad-option');
  assert.equal(parseRouterSolicit(rs('fe80::1').subarray(0, 44)), 'rs-truncated');
});

function advertiser(seed = 1): RouterAdvertiser {
  return new RouterAdvertiser({ source: 'fe80::ff:fe00:2', lladdr: MAC, prefixes: [{ prefix: 'fd00::/64' }], mtu: 1500, dns: ['fd00::3'], rng: new Rng(seed) }, 0);
}

test('unsolicited RAs: three initial ones at most 16 s apart, then every 200..600 s', () => {
  const ra = advertiser();
  const times: number[] = [];
  for (let now = 0; times.length < 8; now = ra.nextDeadline()) {
    const out = ra.poll(now);
    assert.equal(out.length, 1);
    times.push(now);
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.slice(0, 3).every((g) => g <= sec(16)), `initial gaps ${gaps}`);
  assert.ok(gaps.slice(3).every((g) => g >= sec(200) && g <= sec(600)), `later gaps ${gaps}`);
  assert.equal(ra.counters.advertsSent, 8);
  // Nothing before the deadline.
  assert.deepEqual(ra.poll(ra.nextDeadline() - 1), []);
});

test('a solicitation is answered within 0.5 s, but not within 3 s of the last RA', () => {
  const ra = advertiser(7);
  for (let now = 0, n = 0; n < 4; now = ra.nextDeadline(), n++) ra.poll(now);
  // The last RA went out long ago: answer within MAX_RA_DELAY_TIME.
  const t0 = ra.nextDeadline() - sec(100);
  assert.equal(ra.onPacket(rs('fe80::5054:ff:fe12:3456'), t0), true);
  assert.ok(ra.nextDeadline() >= t0 && ra.nextDeadline() <= t0 + ms(500), 'answer within 0.5 s');
  const sent = ra.nextDeadline();
  assert.equal(ra.poll(sent).length, 1);
  // Another solicitation 1 s later is answered no sooner than 3 s after that RA.
  ra.onPacket(rs('fe80::5054:ff:fe12:3456'), sent + sec(1));
  assert.ok(ra.nextDeadline() >= sent + sec(3), 'rate limited');
  // Invalid solicitations are counted, not answered; other packets are not ours.
  const before = ra.nextDeadline();
  assert.equal(ra.onPacket(rs('fe80::1', { hop: 1 }), sent + sec(2)), true);
  assert.equal(ra.nextDeadline(), before);
  assert.deepEqual(ra.counters.solicitsDropped, { 'rs-bad-hop-limit': 1 });
  assert.equal(ra.onPacket(new Uint8Array(60), 0), false);
  assert.equal(ra.counters.solicitsReceived, 2);
});
