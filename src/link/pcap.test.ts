import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter, pcapLink } from './pcap.js';
import { pcapFile } from './pcap-file.js';
import { memoryPair } from './memory.js';
import { sec, usec } from '../time.js';
import { buildTcpPacket } from '../wire/tcp.js';
import { ACK, PSH, newTcpRepr } from '../wire/tcp-repr.js';
import { checksumsOk, newVirtioNetHdr, prepareOffloadTx } from './virtio-net.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const concat = (chunks: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(chunks));

test('global header and record headers are byte-exact', () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c));
  w.write(sec(1.5), Uint8Array.of(0x45, 0x00, 0x00, 0x14));
  w.write(sec(2) + usec(1), Uint8Array.of(0x60, 1, 2));
  const out = hex(concat(chunks));
  const expected =
    // magic a1b2c3d4 LE, version 2.4, thiszone 0, sigfigs 0, snaplen 65535, LINKTYPE_RAW 101
    'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '65000000' +
    // t = 1.5 s: ts_sec 1, ts_usec 500000 (0x07a120), incl 4, orig 4
    '01000000' + '20a10700' + '04000000' + '04000000' + '45000014' +
    // t = 2.000001 s: ts_sec 2, ts_usec 1, incl 3, orig 3
    '02000000' + '01000000' + '03000000' + '03000000' + '600102';
  assert.equal(out, expected);
});

test('snaplen truncates incl_len but keeps orig_len; bad times are rejected', () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c), { snaplen: 2 });
  w.write(0, Uint8Array.of(1, 2, 3, 4, 5));
  assert.equal(hex(chunks[0]!.subarray(16, 20)), '02000000');
  assert.equal(hex(chunks[1]!), '00000000' + '00000000' + '02000000' + '05000000' + '0102');
  assert.throws(() => w.write(-1, new Uint8Array(1)), RangeError);
});

test('pcapLink records both directions at the clock time', () => {
  const m = memoryPair();
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c));
  let now = 0;
  const a = pcapLink(m.a, w, () => now);
  m.b.onReceive((f) => m.b.send(f.slice()));
  a.onReceive(() => {});
  now = 7;
  a.send(Uint8Array.of(0x45));
  m.pump();
  assert.equal(chunks.length, 3);
  assert.equal(hex(chunks[1]!), '00000000' + '07000000' + '01000000' + '01000000' + '45');
  assert.equal(hex(chunks[2]!), hex(chunks[1]!), 'the echo is recorded on receive');
});

/** RFC 1071 Internet checksum over the concatenation of `parts`. */
function checksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = false;
  for (const p of parts) {
    for (const byte of p) {
      sum += odd ? byte : byte << 8;
      odd = !odd;
    }
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A hand-made IPv4 + TCP packet with correct checksums (RFC 791, RFC 9293 §3.1). */
function tcpPacket(opts: { seq: number; ack: number; flags: number; payload?: string; mss?: boolean }): Uint8Array {
  const payload = new TextEncoder().encode(opts.payload ?? '');
  const optBytes = opts.mss ? Uint8Array.of(2, 4, 0x05, 0xb4) : new Uint8Array(0); // MSS 1460
  const tcpLen = 20 + optBytes.length + payload.length;
  const f = new Uint8Array(20 + tcpLen);
  const v = new DataView(f.buffer);
  f[0] = 0x45;
  v.setUint16(2, f.length);
  v.setUint16(4, 0x1234); // identification
  v.setUint16(6, 0x4000); // DF
  f[8] = 64; // TTL
  f[9] = 6; // TCP
  f.set([192, 0, 2, 1], 12);
  f.set([192, 0, 2, 2], 16);
  v.setUint16(10, checksum(f.subarray(0, 20)));
  const t = f.subarray(20);
  const tv = new DataView(t.buffer, t.byteOffset);
  tv.setUint16(0, 40000);
  tv.setUint16(2, 80);
  tv.setUint32(4, opts.seq);
  tv.setUint32(8, opts.ack);
  t[12] = ((20 + optBytes.length) / 4) << 4;
  t[13] = opts.flags;
  tv.setUint16(14, 65535);
  t.set(optBytes, 20);
  t.set(payload, 20 + optBytes.length);
  const pseudo = new Uint8Array(12);
  pseudo.set(f.subarray(12, 20), 0);
  pseudo[9] = 6;
  new DataView(pseudo.buffer).setUint16(10, tcpLen);
  tv.setUint16(16, checksum(pseudo, t));
  return f;
}

test('hand-made packets verify and are written to a pcap file; tshark finds nothing malformed', (t) => {
  const pkts = [
    tcpPacket({ seq: 1000, ack: 0, flags: 0x02, mss: true }), // SYN
    tcpPacket({ seq: 1001, ack: 5001, flags: 0x10 }), // ACK
    tcpPacket({ seq: 1001, ack: 5001, flags: 0x18, payload: 'GET / HTTP/1.0\r\n\r\n' }), // PSH|ACK
    tcpPacket({ seq: 1019, ack: 5001, flags: 0x11 }), // FIN|ACK
  ];
  // RFC 1071 §3 worked example: the one's complement sum of 0001 f203 f4f5 f6f7 is ddf2.
  assert.equal(checksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)), ~0xddf2 & 0xffff);
  for (const p of pkts) {
    assert.equal(checksum(p.subarray(0, 20)), 0, 'IPv4 header checksum verifies');
    const pseudo = new Uint8Array(12);
    pseudo.set(p.subarray(12, 20), 0);
    pseudo[9] = 6;
    new DataView(pseudo.buffer).setUint16(10, p.length - 20);
    assert.equal(checksum(pseudo, p.subarray(20)), 0, 'TCP checksum verifies');
  }
  const dir = mkdtempSync(join(tmpdir(), 'synack-pcap-'));
  try {
    const path = join(dir, 'cap.pcap');
    const file = pcapFile(path);
    pkts.forEach((p, i) => file.writer.write(sec(1) + i * 1000, p));
    file.close();
    file.close(); // idempotent
    assert.throws(() => file.writer.write(0, pkts[0]!), /closed/);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, 24 + pkts.reduce((n, p) => n + 16 + p.length, 0));
    assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4);

    let hasTshark = true;
    try {
      execFileSync('which', ['tshark'], { stdio: 'ignore' });
    } catch {
      hasTshark = false;
    }
    if (!hasTshark) {
      t.skip('tshark not installed');
      return;
    }
    const out = execFileSync('tshark', ['-r', path, '-o', 'tcp.check_checksum:TRUE'], { encoding: 'utf8' });
    assert.equal(out.trim().split('\n').length, pkts.length, out);
    assert.doesNotMatch(out, /Malformed/);
    assert.doesNotMatch(out, /incorrect|Bad/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pcapLink over an offloading link records real segments: a TSO packet cut to the MTU, partial checksums finished', () => {
  const records: Uint8Array[] = [];
  const w = new PcapWriter((c) => records.push(c));
  const sent: Uint8Array[] = [];
  const inner = { mtu: 1500, checksumOffload: true, gsoMaxSize: 65535, send: (f: Uint8Array) => void sent.push(f), onReceive: () => {} };
  const link = pcapLink(inner, w, () => 0);
  assert.equal(link.gsoMaxSize, 65535);
  const r = newTcpRepr();
  r.srcPort = 1;
  r.dstPort = 2;
  r.flags = ACK | PSH;
  r.payload = new Uint8Array(10_000).fill(1);
  const pkt = buildTcpPacket('10.0.0.1', '10.0.0.2', r, { checksum: false });
  prepareOffloadTx(pkt, 0, 65535, newVirtioNetHdr(), { off: 0, protocol: 0, end: 0 }); // partial checksum, as a kernel GSO packet has
  link.send(pkt);
  assert.equal(sent.length, 1, 'the link itself gets the TSO packet');
  const frames = records.slice(1).map((rec) => rec.subarray(16));
  assert.equal(frames.length, Math.ceil(10_000 / 1460));
  for (const f of frames) {
    assert.ok(f.length <= 1500);
    assert.equal(checksumsOk(f, 0, { off: 0, protocol: 0, end: 0 }), true);
  }
});
