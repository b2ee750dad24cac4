import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureFormatError, readCapture, stripLink } from './pcap-read.js';

// ---- packet and file builders -------------------------------------------------------------------

const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const be16 = (v: number): Uint8Array => bytes(v >> 8, v & 0xff);

/** A minimal IPv4 packet (20-byte header + `payload` bytes), marked with `tag` in the payload. */
function ipv4(tag: number, payload = 20): Uint8Array {
  const p = new Uint8Array(20 + payload);
  p[0] = 0x45;
  p.set(be16(20 + payload), 2);
  p[8] = 64;
  p[9] = 6;
  p.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  p[20] = tag;
  return p;
}
function ipv6(tag: number, payload = 20): Uint8Array {
  const p = new Uint8Array(40 + payload);
  p[0] = 0x60;
  p.set(be16(payload), 4);
  p[6] = 6;
  p[7] = 64;
  p[40] = tag;
  return p;
}
const MACS = new Uint8Array(12).fill(0xaa);
const eth = (type: number, payload: Uint8Array, vlans: number[] = []): Uint8Array =>
  cat(MACS, ...vlans.flatMap((tpid) => [be16(tpid), be16(100)]), be16(type), payload);
const sll = (proto: number, p: Uint8Array): Uint8Array => cat(bytes(0, 0, 0, 1, 0, 6), new Uint8Array(8), be16(proto), p);
const sll2 = (proto: number, p: Uint8Array): Uint8Array =>
  cat(be16(proto), bytes(0, 0, 0, 0, 0, 2, 0, 1, 0, 6), new Uint8Array(8), p);
const nullHdr = (af: number, le: boolean, p: Uint8Array): Uint8Array => {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, af, le);
  return cat(h, p);
};

interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
}
function pcap(le: boolean, nano: boolean, linkType: number, recs: Rec[]): Uint8Array {
  const h = new DataView(new ArrayBuffer(24));
  h.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  h.setUint16(4, 2, le);
  h.setUint16(6, 4, le);
  h.setUint32(16, 65535, le);
  h.setUint32(20, linkType, le);
  const parts: Uint8Array[] = [new Uint8Array(h.buffer)];
  for (const r of recs) {
    const rh = new DataView(new ArrayBuffer(16));
    rh.setUint32(0, r.sec, le);
    rh.setUint32(4, r.frac, le);
    rh.setUint32(8, r.data.length, le);
    rh.setUint32(12, r.data.length, le);
    parts.push(new Uint8Array(rh.buffer), r.data);
  }
  return cat(...parts);
}

/** pcapng block: type, body (padded to 4), and both length fields. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = cat(body, new Uint8Array((4 - (body.length % 4)) % 4));
  const len = 12 + padded.length;
  const head = new DataView(new ArrayBuffer(8));
  head.setUint32(0, type, le);
  head.setUint32(4, len, le);
  const tail = new DataView(new ArrayBuffer(4));
  tail.setUint32(0, len, le);
  return cat(new Uint8Array(head.buffer), padded, new Uint8Array(tail.buffer));
}
function shb(le: boolean): Uint8Array {
  const b = new DataView(new ArrayBuffer(16));
  b.setUint32(0, 0x1a2b3c4d, le);
  b.setUint16(4, 1, le);
  b.setBigInt64(8, -1n, le);
  return block(le, 0x0a0d0d0a, new Uint8Array(b.buffer));
}
function idb(le: boolean, linkType: number, opts: { tsresol?: number; tsoffset?: bigint } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const fixed = new DataView(new ArrayBuffer(8));
  fixed.setUint16(0, linkType, le);
  fixed.setUint32(4, 262144, le);
  parts.push(new Uint8Array(fixed.buffer));
  const opt = (code: number, value: Uint8Array): void => {
    const h = new DataView(new ArrayBuffer(4));
    h.setUint16(0, code, le);
    h.setUint16(2, value.length, le);
    parts.push(new Uint8Array(h.buffer), value, new Uint8Array((4 - (value.length % 4)) % 4));
  };
  opt(2, new TextEncoder().encode('eth0')); // if_name, to be ignored
  if (opts.tsresol !== undefined) opt(9, bytes(opts.tsresol));
  if (opts.tsoffset !== undefined) {
    const v = new DataView(new ArrayBuffer(8));
    v.setBigInt64(0, opts.tsoffset, le);
    opt(14, new Uint8Array(v.buffer));
  }
  opt(0, new Uint8Array(0));
  return block(le, 1, cat(...parts));
}
function epb(le: boolean, ifId: number, ts: bigint, data: Uint8Array): Uint8Array {
  const h = new DataView(new ArrayBuffer(20));
  h.setUint32(0, ifId, le);
  h.setUint32(4, Number(ts >> 32n), le);
  h.setUint32(8, Number(ts & 0xffffffffn), le);
  h.setUint32(12, data.length, le);
  h.setUint32(16, data.length, le);
  return block(le, 6, cat(new Uint8Array(h.buffer), data));
}
function spb(le: boolean, data: Uint8Array): Uint8Array {
  const h = new DataView(new ArrayBuffer(4));
  h.setUint32(0, data.length, le);
  return block(le, 3, cat(new Uint8Array(h.buffer), data));
}

const T0 = 1_700_000_000;

// ---- classic pcap -------------------------------------------------------------------------------

test('classic pcap, little-endian, microseconds, Ethernet: IP kept, ARP skipped, padding trimmed', () => {
  const small = ipv4(3, 6); // 26 bytes: Ethernet pads it to 46
  const file = pcap(true, false, 1, [
    { sec: T0, frac: 250_000, data: eth(0x0800, ipv4(1)) },
    { sec: T0 + 1, frac: 1, data: eth(0x86dd, ipv6(2)) },
    { sec: T0 + 2, frac: 0, data: eth(0x0806, new Uint8Array(28)) },
    { sec: T0 + 3, frac: 0, data: eth(0x0800, cat(small, new Uint8Array(20))) },
  ]);
  const c = readCapture(file);
  assert.equal(c.linkType, 'ethernet');
  assert.equal(c.skipped, 1);
  assert.equal(c.packets.length, 3);
  assert.equal(c.packets[0]!.t, T0 * 1e6 + 250_000);
  assert.deepEqual(c.packets[0]!.frame, ipv4(1));
  assert.deepEqual(c.packets[1]!.frame, ipv6(2));
  assert.equal(c.packets[1]!.t, (T0 + 1) * 1e6 + 1);
  assert.deepEqual(c.packets[2]!.frame, small);
  assert.equal(c.packets[0]!.frame.buffer, file.buffer, 'frames are views, not copies');
});

test('classic pcap, big-endian, nanoseconds, raw IP', () => {
  const c = readCapture(pcap(false, true, 101, [
    { sec: T0, frac: 123_456_789, data: ipv4(1) },
    { sec: T0, frac: 999_999_999, data: ipv6(2) },
    { sec: T0, frac: 0, data: bytes(0x20, 1, 2, 3) }, // not IP
  ]));
  assert.equal(c.linkType, 'raw');
  assert.deepEqual(c.packets.map((p) => p.t), [T0 * 1e6 + 123_456, T0 * 1e6 + 999_999]);
  assert.equal(c.skipped, 1);
});

test('classic pcap, big-endian microseconds and little-endian nanoseconds', () => {
  assert.equal(readCapture(pcap(false, false, 101, [{ sec: 1, frac: 2, data: ipv4(1) }])).packets[0]!.t, 1_000_002);
  assert.equal(readCapture(pcap(true, true, 101, [{ sec: 1, frac: 2500, data: ipv4(1) }])).packets[0]!.t, 1_000_002);
});

test('Ethernet with 802.1Q and QinQ VLAN tags', () => {
  const c = readCapture(pcap(true, false, 1, [
    { sec: 1, frac: 0, data: eth(0x0800, ipv4(1), [0x8100]) },
    { sec: 2, frac: 0, data: eth(0x86dd, ipv6(2), [0x88a8, 0x8100]) },
    { sec: 3, frac: 0, data: eth(0x0806, new Uint8Array(28), [0x8100]) },
    { sec: 4, frac: 0, data: bytes(1, 2, 3) }, // runt frame
  ]));
  assert.deepEqual(c.packets.map((p) => p.frame), [ipv4(1), ipv6(2)]);
  assert.equal(c.skipped, 2);
});

test('Linux cooked captures: SLL (113) and SLL2 (276)', () => {
  const a = readCapture(pcap(true, false, 113, [
    { sec: 1, frac: 0, data: sll(0x0800, ipv4(1)) },
    { sec: 1, frac: 1, data: sll(0x86dd, ipv6(2)) },
    { sec: 1, frac: 2, data: sll(0x0806, new Uint8Array(28)) },
  ]));
  assert.equal(a.linkType, 'linux-sll');
  assert.deepEqual(a.packets.map((p) => p.frame), [ipv4(1), ipv6(2)]);
  assert.equal(a.skipped, 1);
  const b = readCapture(pcap(true, false, 276, [{ sec: 1, frac: 0, data: sll2(0x86dd, ipv6(7)) }]));
  assert.equal(b.linkType, 'linux-sll2');
  assert.deepEqual(b.packets[0]!.frame, ipv6(7));
});

test('BSD null (0) in either byte order, LOOP (108), IPv4/IPv6 link types 228/229', () => {
  const n = readCapture(pcap(true, false, 0, [
    { sec: 1, frac: 0, data: nullHdr(2, true, ipv4(1)) },
    { sec: 1, frac: 0, data: nullHdr(30, true, ipv6(2)) }, // macOS AF_INET6
    { sec: 1, frac: 0, data: nullHdr(24, false, ipv6(3)) }, // captured on a big-endian BSD
    { sec: 1, frac: 0, data: nullHdr(17, true, new Uint8Array(20)) }, // something else
  ]));
  assert.equal(n.linkType, 'null');
  assert.deepEqual(n.packets.map((p) => p.frame[0]! >> 4), [4, 6, 6]);
  assert.equal(n.skipped, 1);
  const l = readCapture(pcap(true, false, 108, [{ sec: 1, frac: 0, data: nullHdr(2, false, ipv4(1)) }]));
  assert.equal(l.linkType, 'loop');
  assert.equal(l.packets.length, 1);
  const v4 = readCapture(pcap(true, false, 228, [{ sec: 1, frac: 0, data: ipv4(1) }, { sec: 1, frac: 0, data: ipv6(1) }]));
  assert.equal(v4.linkType, 'ipv4');
  assert.deepEqual([v4.packets.length, v4.skipped], [1, 1]);
  const v6 = readCapture(pcap(true, false, 229, [{ sec: 1, frac: 0, data: ipv6(1) }]));
  assert.equal(v6.packets.length, 1);
  assert.equal(stripLink(105, ipv4(1)), undefined, 'unknown link types carry nothing we can read');
});

// ---- pcapng -------------------------------------------------------------------------------------

test('pcapng: two interfaces with their own link types and resolutions; SPB; unknown blocks skipped', () => {
  const le = true;
  const file = cat(
    shb(le),
    idb(le, 1), // default resolution: microseconds
    idb(le, 113, { tsresol: 9 }), // nanoseconds
    block(le, 4, new Uint8Array(8)), // name resolution block: ignored
    epb(le, 0, BigInt(T0) * 1_000_000n + 5n, eth(0x0800, ipv4(1))),
    epb(le, 1, BigInt(T0) * 1_000_000_000n + 7_999n, sll(0x86dd, ipv6(2))),
    epb(le, 0, BigInt(T0) * 1_000_000n + 9n, eth(0x0806, new Uint8Array(28))),
    spb(le, eth(0x0800, ipv4(3))),
    block(le, 0x40000bad, new Uint8Array(4)), // custom block
  );
  const c = readCapture(file);
  assert.equal(c.linkType, 'ethernet,linux-sll');
  assert.equal(c.skipped, 1);
  assert.deepEqual(c.packets.map((p) => p.frame[0]! >> 4), [4, 6, 4]);
  assert.equal(c.packets[0]!.t, T0 * 1e6 + 5);
  assert.equal(c.packets[1]!.t, T0 * 1e6 + 7);
  assert.equal(c.packets[2]!.t, T0 * 1e6 + 9, 'an SPB has no timestamp: it takes the last one seen');
});

test('pcapng: big-endian section, binary resolution, if_tsoffset, a second section resets interfaces', () => {
  const file = cat(
    shb(false),
    idb(false, 101, { tsresol: 0x80 | 10, tsoffset: 100n }), // 2^-10 s units
    epb(false, 0, 1024n * 3n + 512n, ipv4(1)),
    shb(true),
    idb(true, 276),
    epb(true, 0, 42n, sll2(0x0800, ipv4(2))),
  );
  const c = readCapture(file);
  assert.equal(c.linkType, 'raw,linux-sll2');
  assert.deepEqual(c.packets.map((p) => p.t), [103_500_000, 42]);
  assert.deepEqual(c.packets.map((p) => p.frame[20]), [1, 2]);
});

test('pcapng: packets on an unsupported interface are skipped', () => {
  const c = readCapture(cat(shb(true), idb(true, 105), idb(true, 101), epb(true, 0, 1n, ipv4(1)), epb(true, 1, 2n, ipv4(2))));
  assert.equal(c.packets.length, 1);
  assert.equal(c.skipped, 1);
  assert.equal(c.linkType, 'linktype 105,raw');
});

// ---- bad input ----------------------------------------------------------------------------------

test('bad input throws CaptureFormatError with a clear message', () => {
  const bad = (b: Uint8Array, re: RegExp): void => {
    assert.throws(() => readCapture(b), (e: unknown) => e instanceof CaptureFormatError && re.test(e.message));
  };
  const good = pcap(true, false, 1, [{ sec: 1, frac: 0, data: eth(0x0800, ipv4(1)) }]);
  bad(new Uint8Array(0), /not a capture file: only 0 bytes/);
  bad(new TextEncoder().encode('hello, world'), /unknown magic number 0x68656c6c/);
  bad(good.subarray(0, 20), /truncated capture: pcap file header/);
  bad(good.subarray(0, 30), /truncated capture: record header 1/);
  bad(good.subarray(0, good.length - 1), /truncated capture: packet data of record 1 at offset 40 needs 54 bytes, the file has 53 left/);
  bad(pcap(true, false, 105, []), /unsupported link type 105/);
  const big = pcap(true, false, 1, [{ sec: 1, frac: 0, data: new Uint8Array(0) }]);
  new DataView(big.buffer).setUint32(32, 0x7fffffff, true);
  bad(big, /claims 2147483647 bytes/);
  bad(pcap(true, false, 1, [{ sec: 1, frac: 1_000_000, data: ipv4(1) }]), /out of range/);

  const ng = cat(shb(true), idb(true, 1), epb(true, 0, 1n, eth(0x0800, ipv4(1))));
  bad(ng.subarray(0, ng.length - 8), /truncated capture: block of type 0x6/);
  bad(ng.subarray(0, 20), /truncated capture: section header block/);
  const mismatch = ng.slice();
  new DataView(mismatch.buffer).setUint32(mismatch.length - 4, 12, true);
  bad(mismatch, /trailing length 12 does not match/);
  bad(cat(shb(true), epb(true, 0, 1n, ipv4(1))), /refers to interface 0, but only 0 are described/);
  const badLen = ng.slice();
  new DataView(badLen.buffer).setUint32(28 + 4, 13, true); // the IDB's length
  bad(badLen, /invalid length 13/);
  const badBom = shb(true);
  new DataView(badBom.buffer).setUint32(8, 0xdeadbeef, true);
  bad(badBom, /bad byte-order magic/);
  const shortEpb = cat(shb(true), idb(true, 1), block(true, 6, new Uint8Array(8)));
  bad(shortEpb, /enhanced packet block at offset \d+ is too short/);
});

// ---- a real capture, when tcpdump is available --------------------------------------------------

test('live: tcpdump capture of a loopback connection', async (t) => {
  const probe = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    console.log('# skipped live capture test: tcpdump is not installed');
    t.skip('tcpdump is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'synack-pcap-'));
  try {
    const server = createServer((s) => s.end('hello')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const file = join(dir, 'lo.pcap');
    const dump = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-w', file, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const started = await new Promise<boolean>((resolve) => {
      dump.stderr.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) resolve(true);
      });
      dump.once('exit', () => resolve(false));
    });
    if (!started) {
      server.close();
      console.log('# skipped live capture test: tcpdump could not capture (needs CAP_NET_RAW)');
      t.skip('tcpdump could not capture');
      return;
    }
    await new Promise((r) => setTimeout(r, 500)); // "listening" is printed just before the filter is live
    await new Promise<void>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('data', () => undefined);
      c.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 300));
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
    server.close();
    const cap = readCapture(readFileSync(file));
    assert.ok(cap.packets.length >= 6, `expected a handshake, data and teardown, got ${cap.packets.length} packets`);
    assert.ok(cap.packets.every((p) => p.frame[0]! >> 4 === 4));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
