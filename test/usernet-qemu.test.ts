/**
 * A real QEMU on synack's QEMU stream link: `qemu-system-x86_64 -netdev stream` connects to
 * `listenQemuStream`, the virtio NIC's iPXE boot ROM (software emulation, no disk, no kernel)
 * asks for its configuration, and synack's pieces answer it: DhcpServer over IPv4/UDP (frames
 * built here: the IP layer that will do it is not merged yet) and RouterAdvertiser over IPv6.
 * iPXE prints what it configured on the serial console, which the test reads:
 *   net0: 10.0.2.15/255.255.255.0 gw 10.0.2.2
 *   net0: fd00::5054:ff:fe12:3456/64 gw fe80::ff:fe00:2
 *
 * Needs qemu-system-x86_64 and iPXE's virtio ROM (Debian qemu-system-x86, ipxe-qemu); skips with
 * the reason otherwise. Takes a few seconds of emulated BIOS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenQemuStream } from '../src/link/qemu-stream.js';
import { DhcpServer } from '../src/usernet/dhcp-server.js';
import { RouterAdvertiser } from '../src/usernet/router-advert.js';
import { Rng } from '../src/rng.js';
import { parseAddr } from '../src/wire/addr.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from '../src/wire/checksum.js';
import { emitIpv4Header } from '../src/wire/ip.js';
import { parseDhcp, formatDhcp } from '../src/wire/dhcp.js';
import { DnsForwarder } from '../src/usernet/dns-forwarder.js';
import { DNS_CLASS_IN, DnsFlag, DnsRcode, DnsType, emitDns, parseDns } from '../src/wire/dns.js';
import dgram from 'node:dgram';

/** Debian's default boot ROM for virtio-net-pci (legacy PXE and EFI iPXE in one). */
const ROM = '/usr/lib/ipxe/qemu/efi-virtio.rom';

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  try {
    execFileSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' });
  } catch {
    return 'qemu-system-x86_64 is not installed (apt-get install -y qemu-system-x86)';
  }
  if (!existsSync(ROM)) return `${ROM} is missing (apt-get install -y ipxe-qemu)`;
  return null;
}

const GW_MAC = Uint8Array.from([2, 0, 0, 0, 0, 2]);
const BROADCAST = Uint8Array.from([255, 255, 255, 255, 255, 255]);

function ethernet(dst: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(GW_MAC, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

/** An IPv4/UDP datagram from `from`:`srcPort` (10.0.2.2:67 by default; RFC 768 checksum included). */
function udp4(dst: string, dstPort: number, payload: Uint8Array, from = '10.0.2.2', srcPort = 67): Uint8Array {
  const src = parseAddr(from)!;
  const d = parseAddr(dst)!;
  const ulen = 8 + payload.length;
  const p = new Uint8Array(20 + ulen);
  emitIpv4Header(p, 0, src, d, 17, ulen, 64, 0, true);
  p.set([srcPort >> 8, srcPort & 0xff, dstPort >> 8, dstPort & 0xff, ulen >> 8, ulen & 0xff, 0, 0], 20);
  p.set(payload, 28);
  const c = finishChecksum(sum16(p, 20, ulen, pseudoHeaderSum(src, d, 17, ulen))) || 0xffff;
  p[26] = c >> 8;
  p[27] = c & 0xff;
  return p;
}

test('QEMU with iPXE gets its IPv4 address by DHCP and its IPv6 address by RA over the stream link', { timeout: 90_000 }, async (t) => {
  const why = missing();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'synack-qemu-'));
  const srv = await listenQemuStream(join(dir, 'net.sock'), { mtu: 1500 });
  const t0 = performance.now();
  const now = (): number => Math.round((performance.now() - t0) * 1000);
  const dhcp = new DhcpServer({ serverAddr: '10.0.2.2', prefixLength: 24, poolStart: '10.0.2.15', dns: ['10.0.2.3'], mtu: 1500 });
  const ra = new RouterAdvertiser({ source: 'fe80::ff:fe00:2', lladdr: GW_MAC, prefixes: [{ prefix: 'fd00::/64' }], mtu: 1500, dns: ['fd00::3'], rng: new Rng(3) }, now());
  const seen: string[] = [];
  srv.link.onReceive((f) => {
    const type = (f[12]! << 8) | f[13]!;
    if (type === 0x0800 && f[14 + 9] === 17 && ((f[14 + 20 + 2]! << 8) | f[14 + 20 + 3]!) === 67) {
      const ihl = (f[14]! & 15) * 4;
      const payload = f.subarray(14 + ihl + 8);
      const m = parseDhcp(payload);
      if (typeof m !== 'string') seen.push(formatDhcp(m));
      const r = dhcp.handle(payload, now());
      if (r !== null) srv.link.send(ethernet(r.dstMac ?? BROADCAST, 0x0800, udp4(r.dst, r.dstPort, r.payload)));
    } else if (type === 0x86dd && ra.onPacket(f.subarray(14), now())) {
      seen.push('RS');
    }
  });
  // The advertiser's clock: send what is due, as a driver would.
  const timer = setInterval(() => {
    for (const pkt of ra.poll(now())) srv.link.send(ethernet(Uint8Array.from([0x33, 0x33, 0, 0, 0, 1]), 0x86dd, pkt));
  }, 50);
  const serial = join(dir, 'serial.txt');
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-nodefaults', '-nographic', '-m', '64', '-boot', 'order=n', '-serial', `file:${serial}`,
      '-netdev', `stream,id=n0,server=off,addr.type=unix,addr.path=${srv.path}`, '-device', 'virtio-net-pci,netdev=n0'],
    { stdio: 'ignore' },
  );
  try {
    const text = (): string => (existsSync(serial) ? readFileSync(serial, 'latin1') : '');
    const end = Date.now() + 80_000;
    while (!(/net0: 10\.0\.2\.15\/255\.255\.255\.0 gw 10\.0\.2\.2/.test(text()) && /net0: fd00::[0-9a-f:]+\/64 gw fe80::ff:fe00:2/.test(text()))) {
      if (Date.now() > end || qemu.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const out = text();
    assert.match(out, /net0: 10\.0\.2\.15\/255\.255\.255\.0 gw 10\.0\.2\.2/, `serial console:\n${out.slice(-1500)}\nseen: ${seen.join(', ')}`);
    assert.match(out, /net0: fd00::5054:ff:fe12:3456\/64 gw fe80::ff:fe00:2/, `serial console:\n${out.slice(-1500)}`);
    assert.ok(seen.some((s) => s.startsWith('DHCP DISCOVER') && s.includes('52:54:00:12:34:56')));
    assert.ok(seen.some((s) => s.startsWith('DHCP REQUEST')));
    assert.ok(seen.includes('RS'), 'iPXE solicited');
    assert.deepEqual(dhcp.leases(now()).map((l) => [l.addr, l.state, l.chaddr]), [['10.0.2.15', 'bound', '52:54:00:12:34:56']]);
    assert.equal(srv.link.counters.rxBadLength, 0);
  } finally {
    clearInterval(timer);
    qemu.kill('SIGKILL');
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An ARP reply (RFC 826) from the gateway MAC for `ip`, to the asker of `request` (an ARP frame). */
function arpReply(request: Uint8Array, ip: Uint8Array): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 0x08, 0x00, 6, 4, 0, 2], 0);
  a.set(GW_MAC, 8);
  a.set(ip, 14);
  a.set(request.subarray(14 + 8, 14 + 18), 18); // the asker's MAC and IP
  return ethernet(request.subarray(6, 12), 0x0806, a);
}

test('QEMU with iPXE: the DHCP boot file names a host, DnsForwarder resolves it from an upstream on loopback, iPXE connects to the answer', { timeout: 90_000 }, async (t) => {
  const why = missing();
  if (why !== null) {
    t.skip(why);
    return;
  }
  // The upstream: boot.test A 192.0.2.80, nothing else.
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, rinfo) => {
    const q = parseDns(new Uint8Array(msg));
    if (typeof q === 'string') return;
    const hit = q.questions[0]!.name.toLowerCase() === 'boot.test';
    const answers = hit && q.questions[0]!.type === DnsType.A ? [{ name: 'boot.test', type: DnsType.A, class: DNS_CLASS_IN, ttl: 60, data: Uint8Array.from([192, 0, 2, 80]) }] : [];
    upstream.send(emitDns({ id: q.id, flags: DnsFlag.QR | DnsFlag.AA | (hit ? 0 : DnsRcode.NXDOMAIN), questions: q.questions, answers, authority: [], additional: [] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
  const dns = new DnsForwarder({ upstream: `127.0.0.1:${upstream.address().port}`, timeoutMs: 1000 });
  const dir = mkdtempSync(join(tmpdir(), 'synack-qemu-'));
  const srv = await listenQemuStream(join(dir, 'net.sock'), { mtu: 1500 });
  const t0 = performance.now();
  const now = (): number => Math.round((performance.now() - t0) * 1000);
  const dhcp = new DhcpServer({ serverAddr: '10.0.2.2', prefixLength: 24, poolStart: '10.0.2.15', dns: ['10.0.2.3'], bootFile: 'http://boot.test/boot.ipxe' });
  const queries: string[] = [];
  let syn: string | null = null;
  srv.link.onReceive((f) => {
    const type = (f[12]! << 8) | f[13]!;
    if (type === 0x0806 && f[14 + 7] === 1) {
      // ARP request: the gateway and the DNS address are ours.
      const target = f.subarray(14 + 24, 14 + 28);
      if (target[0] === 10 && target[1] === 0 && target[2] === 2 && (target[3] === 2 || target[3] === 3)) srv.link.send(arpReply(f, target.slice()));
      return;
    }
    if (type !== 0x0800) return;
    const ip = f.subarray(14);
    const ihl = (ip[0]! & 15) * 4;
    const dstPort = (ip[ihl + 2]! << 8) | ip[ihl + 3]!;
    if (ip[9] === 17 && dstPort === 67) {
      const r = dhcp.handle(ip.subarray(ihl + 8), now());
      if (r !== null) srv.link.send(ethernet(r.dstMac ?? BROADCAST, 0x0800, udp4(r.dst, r.dstPort, r.payload)));
    } else if (ip[9] === 17 && dstPort === 53 && ip.subarray(16, 20).join('.') === '10.0.2.3') {
      const payload = ip.subarray(ihl + 8).slice();
      const q = parseDns(payload);
      if (typeof q !== 'string') queries.push(`${q.questions[0]!.name} ${q.questions[0]!.type}`);
      const from = ip.subarray(12, 16).join('.');
      const srcPort = (ip[ihl]! << 8) | ip[ihl + 1]!;
      const mac = f.slice(6, 12);
      void dns.answer(payload, 'udp').then((resp) => {
        if (resp !== null) srv.link.send(ethernet(mac, 0x0800, udp4(from, srcPort, resp, '10.0.2.3', 53)));
      });
    } else if (ip[9] === 6 && (ip[ihl + 13]! & 0x12) === 0x02) {
      syn = `${ip.subarray(16, 20).join('.')}:${dstPort}`;
    }
  });
  const serial = join(dir, 'serial.txt');
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-nodefaults', '-nographic', '-m', '64', '-boot', 'order=n', '-serial', `file:${serial}`,
      '-netdev', `stream,id=n0,server=off,addr.type=unix,addr.path=${srv.path}`, '-device', 'virtio-net-pci,netdev=n0'],
    { stdio: 'ignore' },
  );
  try {
    const end = Date.now() + 80_000;
    while (syn === null && Date.now() < end && qemu.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    const out = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
    assert.equal(syn, '192.0.2.80:80', `serial console:\n${out.slice(-1500)}\nqueries: ${queries.join(', ')}`);
    assert.ok(queries.includes('boot.test 1'), `queries: ${queries.join(', ')}`);
    assert.match(out, /http:\/\/boot\.test\/boot\.ipxe/);
    assert.equal(dns.counters.rcodes.NOERROR! >= 1, true);
  } finally {
    qemu.kill('SIGKILL');
    await srv.close();
    dns.close();
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
