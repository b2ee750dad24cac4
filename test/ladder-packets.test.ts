/**
 * ARP, ICMP and UDP in the views: a capture's non-TCP packets become 'packet' events in tcpdump's
 * words (formatPacket/formatFrame) beside the reconstructed TCP connection, and the text ladder
 * and the browser ladder's rows draw them as arrows with that label.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../src/diag/pcap-read.js';
import { PcapWriter } from '../src/link/pcap.js';
import { captureToResult } from '../src/viz/capture.js';
import { renderLadder } from '../src/viz/ladder.js';
import { eventText, ladderLayout, rowSvg } from '../src/viz/ladder-view.js';
import type { DemoEvent, DemoResult } from '../src/demo/events.js';
import { emitArp } from '../src/wire/arp.js';
import { emitEthernetHeader } from '../src/wire/ethernet.js';
import { formatFrame } from '../src/wire/format.js';
import { fillIcmpChecksum } from '../src/wire/icmp.js';
import { emitIpv4Header, IPPROTO_ICMP } from '../src/wire/ip.js';
import { buildTcpPacket } from '../src/wire/tcp.js';
import { ACK, newTcpRepr, SYN } from '../src/wire/tcp-repr.js';
import { buildUdpPacket } from '../src/wire/udp.js';

const A = new Uint8Array([10, 0, 0, 1]);
const B = new Uint8Array([10, 0, 0, 2]);

function seg(src: string, dst: string, sp: number, dp: number, flags: number, seq: number, ack: number): Uint8Array {
  const r = newTcpRepr();
  Object.assign(r, { srcPort: sp, dstPort: dp, flags, seq, ack, window: 65535 });
  return buildTcpPacket(src, dst, r);
}

/** An ICMP echo request id 1 seq 1 with 56 data bytes (ping's default: "length 64"). */
function ping(): Uint8Array {
  const f = new Uint8Array(20 + 64);
  emitIpv4Header(f, 0, A, B, IPPROTO_ICMP, 64, 64, 1, true);
  f.set([8, 0, 0, 0, 0, 1, 0, 1], 20);
  fillIcmpChecksum(f, 20, 64, A, B);
  return f;
}

function capture(): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c));
  const frames = [
    ping(),
    seg('10.0.0.1', '10.0.0.2', 40000, 80, SYN, 100, 0),
    seg('10.0.0.2', '10.0.0.1', 80, 40000, SYN | ACK, 500, 101),
    seg('10.0.0.1', '10.0.0.2', 40000, 80, ACK, 101, 501),
    buildUdpPacket('10.0.0.2', '10.0.0.1', 53, 40001, new Uint8Array(32)),
  ];
  frames.forEach((f, i) => w.write(1_000_000 + i * 1000, f));
  return Buffer.concat(chunks);
}

test('a capture\'s ICMP and UDP packets appear in the viz result and the text ladder in tcpdump\'s words, in time order beside the TCP connection', () => {
  const res = captureToResult(capture(), 'mixed');
  assert.equal(res.connections, 1);
  const pk = res.events.filter((e) => e.type === 'packet') as Extract<DemoEvent, { type: 'packet' }>[];
  assert.deepEqual(pk.map((e) => [e.host, e.text]), [
    ['10.0.0.1', 'ICMP echo request, id 1, seq 1, length 64'], // hosts named by address, as reconstruct names them
    ['10.0.0.2', 'UDP, length 32'],
  ]);
  assert.equal(res.events[0]!.type, 'packet', 'the ping came first');
  assert.equal(res.events[res.events.length - 1]!.type, 'packet', 'the UDP datagram came last');
  const ladder = renderLadder(res, { ascii: true });
  const icmp = ladder.split('\n').find((l) => l.includes('ICMP echo request'))!;
  assert.match(icmp, /^\s+0\.000000 .*-- ICMP echo request, id 1, seq 1, length 64 -+>$/, 'client to server: a rightward arrow');
  const udp = ladder.split('\n').find((l) => l.includes('UDP, length 32'))!;
  assert.match(udp, /<-+ UDP, length 32 -+/, 'server to client: a leftward arrow');
});

/** An Ethernet frame around `ip` (IPv4) or an ARP request from A for B when `ip` is undefined. */
function ether(ip?: Uint8Array): Uint8Array {
  const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  const f = new Uint8Array(14 + (ip?.length ?? 28));
  emitEthernetHeader(f, ip ? new Uint8Array([2, 0, 0, 0, 0, 2]) : new Uint8Array(6).fill(0xff), mac, ip ? 0x0800 : 0x0806);
  if (ip) f.set(ip, 14);
  else emitArp(f, 14, 1, mac, A, new Uint8Array(6), B);
  return f;
}

test('an Ethernet capture\'s ARP request is kept by the pcap reader and shown by the viz result and `synack read` in tcpdump\'s words, with ICMP and UDP', () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c), { linktype: 1 });
  w.write(2_000_000, ether());
  w.write(2_001_000, ether(ping()));
  w.write(2_002_000, ether(buildUdpPacket('10.0.0.2', '10.0.0.1', 53, 40001, new Uint8Array(32))));
  const bytes = Buffer.concat(chunks);
  const cap = readCapture(bytes);
  assert.equal(cap.packets.length, 2);
  assert.equal(cap.skipped, 1, 'ARP carries no IP: still counted as skipped');
  assert.equal(cap.arp.length, 1);
  const res = captureToResult(bytes, 'eth');
  assert.equal(res.connections, 0);
  assert.deepEqual(res.events.map((e) => (e.type === 'packet' ? `${e.t} ${e.src}>${e.dst} ${e.text}` : e.type)), [
    '0 10.0.0.1>10.0.0.2 ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28',
    '0.001 10.0.0.1>10.0.0.2 ICMP echo request, id 1, seq 1, length 64',
    '0.002 10.0.0.2>10.0.0.1 UDP, length 32',
  ]);
  assert.deepEqual(Object.values(res.hosts).sort(), ['10.0.0.1', '10.0.0.2'], 'a UDP/ICMP-only capture still has its two hosts');
  assert.match(renderLadder(res, { ascii: true }), /ARP, Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1, length 28 -+>/);
  const dir = mkdtempSync(join(tmpdir(), 'synack-ladder-'));
  try {
    const file = join(dir, 'eth.pcap');
    writeFileSync(file, bytes);
    const main = new URL('../src/cli/main.js', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [main, 'read', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').slice(-4), [
      '== 3 other packets (not TCP)',
      '  0.000000  10.0.0.1 > 10.0.0.2: ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28',
      '  0.001000  10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
      '  0.002000  10.0.0.2 > 10.0.0.1: UDP, length 32',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the ladders draw an ARP request as tcpdump words it (formatFrame), in text and SVG', () => {
  const f = new Uint8Array(14 + 28);
  const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  emitEthernetHeader(f, new Uint8Array(6).fill(0xff), mac, 0x0806);
  emitArp(f, 14, 1, mac, A, new Uint8Array(6), B);
  const line = formatFrame(f, 1);
  assert.equal(line, 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28');
  const e: DemoEvent = { t: 0.5, type: 'packet', host: 'client', src: '10.0.0.1', dst: '10.0.0.2', text: line, dropped: false };
  const res: DemoResult = { scenario: 'arp', hosts: { client: '10.0.0.1', server: '10.0.0.2' }, events: [e], summary: {} };
  assert.match(renderLadder(res, { ascii: true }), /0\.500000 .*-- ARP, Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1, length 28 -+>/);
  const L = ladderLayout(res.hosts, res.events, { client: '#a00', server: '#00a' });
  assert.equal(eventText(e, L), 'client ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28');
  const svg = rowSvg(e, L, 0);
  assert.match(svg, /<line class="seg pkt"[^>]*marker-end/);
  assert.match(svg, /who-has 10\.0\.0\.2 tell 10\.0\.0\.1/);
});
