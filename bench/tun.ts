/**
 * `npm run bench:tun` (root, /dev/net/tun, ip netns, the addon): synack against the Linux kernel
 * over a TUN device, in a throw-away network namespace.
 *
 *   node dist/bench/tun.js [--json] [--seconds S] [--mb N] [--connects N] [--mtu N] [--kind tun|tap|all] [--offload on|off]
 *
 * --kind tap runs 2 and 3 over a TAP device instead (Ethernet frames, ARP, synack's
 * EthernetInterface in the path); 1 is TUN-only. --kind all (what `npm run bench` uses) runs 2
 * and 3 over TUN and over TAP and 4, and prints each figure's ratio to the kernel's.
 * --offload off opens the devices without IFF_VNET_HDR (MTU-sized packets, full checksums).
 *
 * 1. Raw device packet rate (no TCP): packets/s the addon delivers to JS (kernel → TUN, a C
 *    sendmmsg() UDP flood compiled on the fly, python3 if there is no C compiler) and packets/s
 *    JS writes into the kernel (TUN → kernel, 64-byte UDP packets).
 * 2. TCP throughput, both directions: curl downloading /bytes/N from synack's HTTP server
 *    (synack → kernel) and a node:net client in the namespace writing N bytes to synack's
 *    discard service (kernel → synack).
 * 3. Connection setup latency, both directions: sequential connects, median and p99 of
 *    connect() → established as the connecting side sees it.
 * 4. The reference, in the same run: the kernel against itself over a veth pair between two
 *    namespaces (device MTU as above), measured with the same programs: curl downloading from a
 *    node:net server, node:net uploading to a node:net discard server, node:net connects.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openTun, configureTun, tunUnavailableReason } from '../src/link/tun.js';
import { Netns, netnsUnavailableReason } from '../src/tun/netns.js';
import { startTapStack, startTunStack } from '../src/tun/run.js';
import { discardService, httpService } from '../src/tun/services.js';
import { buildUdp } from './tun-udp.js';

const US = '10.77.0.2';
const KERNEL = '10.77.0.1';

const FLOOD_C = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
int main(int argc, char **argv) {
  double secs = atof(argv[2]);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET; a.sin_port = htons(9); inet_pton(AF_INET, argv[1], &a.sin_addr);
  connect(s, (struct sockaddr *)&a, sizeof a);
  char buf[32] = {0};
  struct mmsghdr m[64]; struct iovec v[64];
  for (int i = 0; i < 64; i++) { v[i].iov_base = buf; v[i].iov_len = sizeof buf; memset(&m[i], 0, sizeof m[i]); m[i].msg_hdr.msg_iov = &v[i]; m[i].msg_hdr.msg_iovlen = 1; }
  struct timespec t0, t; clock_gettime(CLOCK_MONOTONIC, &t0);
  long sent = 0;
  for (;;) {
    int n = sendmmsg(s, m, 64, 0);
    if (n > 0) sent += n;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > secs) break;
  }
  printf("%ld\n", sent);
  return 0;
}
`;

const PY_FLOOD = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((sys.argv[1], 9))
end = time.monotonic() + float(sys.argv[2]); n = 0; b = bytes(32)
while time.monotonic() < end:
    for _ in range(256):
        s.send(b)
    n += 256
print(n)
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** 1. Raw packet rates through the addon. */
async function rawRates(seconds: number): Promise<Record<string, number | string>> {
  const ns = Netns.create();
  const dir = mkdtempSync(join(tmpdir(), 'synack-bench-'));
  try {
    const tun = openTun({ netns: ns.name, name: 'skb0' });
    try {
      configureTun({ dev: tun.name, netns: ns.name, addr: `${KERNEL}/24` });
      let rx = 0;
      tun.onReceive(() => rx++);
      // kernel → TUN
      let flooder = 'python3';
      let cmd = 'python3';
      let args = ['-c', PY_FLOOD, US, String(seconds)];
      const src = join(dir, 'flood.c');
      writeFileSync(src, FLOOD_C);
      if (spawnSync('cc', ['-O2', '-o', join(dir, 'flood'), src]).status === 0) {
        flooder = 'C sendmmsg';
        cmd = join(dir, 'flood');
        args = [US, String(seconds)];
      }
      const before = tun.stats();
      const t0 = performance.now();
      const r = await ns.run(cmd, args, { timeout: (seconds + 10) * 1000 });
      await sleep(50);
      const dt = (performance.now() - t0) / 1000;
      const after = tun.stats();
      const sent = Number(r.stdout.toString().trim());
      const inPps = rx / dt;
      const batch = (after.rxPackets - before.rxPackets) / Math.max(1, after.rxBatches - before.rxBatches);

      // TUN → kernel: valid UDP packets to the kernel's discard port (no listener: dropped, the
      // kernel's ICMP answers are rate-limited).
      const pkts = Array.from({ length: 64 }, (_, i) => buildUdp(US, KERNEL, 40000 + i, 9, 32));
      let written = 0;
      const w0 = performance.now();
      const end = w0 + seconds * 1000;
      while (performance.now() < end) {
        for (let i = 0; i < 4096; i++) tun.send(pkts[i & 63]!);
        written += 4096;
        await new Promise((r2) => setImmediate(r2)); // let the loop breathe like a real sender
      }
      const wdt = (performance.now() - w0) / 1000;
      const st = tun.stats();
      return {
        flooder,
        kernelSentPkts: sent,
        inPktsPerSec: Math.round(inPps),
        inPktsPerJsCall: Math.round(batch * 10) / 10,
        inLossPct: Math.round((1 - rx / Math.max(1, sent)) * 1000) / 10,
        outPktsPerSec: Math.round(written / wdt),
        outErrors: st.txErrors + st.txDropped,
      };
    } finally {
      tun.close();
    }
  } finally {
    ns.delete();
    rmSync(dir, { recursive: true, force: true });
  }
}

const NODE_SENDER = `
import net from 'node:net';
const [host, port, total] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const chunk = Buffer.alloc(65536, 7);
const t0 = performance.now();
const s = net.connect({ host, port }, () => {
  let left = total;
  const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return s.once('drain', pump); } s.end(); };
  pump();
});
s.on('data', () => {});
s.on('close', () => console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000 })));
`;

/**
 * Connects made and not counted before the measured ones, on every side alike (veth too): the
 * figures are steady state, after the JIT has compiled both ends' connect paths (300 cold
 * connects into synack measured 1.6-1.9x the median of 2,000 warm ones).
 */
const WARM_CONNECTS = 1000;

const NODE_CONNECTS = `
import net from 'node:net';
const [host, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const times = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  await new Promise((res, rej) => { const s = net.connect({ host, port }, () => { times.push(performance.now() - t0); s.destroy(); res(); }); s.on('error', rej); });
}
console.log(JSON.stringify(times));
`;

/** 2 + 3: TCP throughput and connection setup latency against the kernel. */
async function tcp(mb: number, connects: number, mtu: number, kind: 'tun' | 'tap', offload: boolean): Promise<Record<string, number>> {
  const ns = Netns.create();
  const ts = (kind === 'tap' ? startTapStack : startTunStack)({ netns: ns.name, dev: 'skb1', addr: `${US}/24`, peer: KERNEL, seed: 3, mtu, offload });
  try {
    httpService(ts.stack, 80);
    discardService(ts.stack, 9);
    const l = ts.stack.listen({ port: 7000, backlog: 4096 });
    l.onConnection = () => {
      for (let s = l.accept(); s !== null; s = l.accept()) {
        const sock = s;
        sock.onEnd = () => sock.close();
      }
    };
    const bytes = mb * 1024 * 1024;
    // warm-up
    await ns.run('curl', ['-sS', '-o', '/dev/null', `http://${US}/bytes/${8 << 20}`]);
    const down = await ns.run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{time_total} %{time_starttransfer}', `http://${US}/bytes/${bytes}`], { timeout: 120_000 });
    const [size, total] = down.stdout.toString().trim().split(' ').map(Number) as [number, number];
    if (size !== bytes) throw new Error(`curl got ${size} bytes: ${down.stderr}`);
    await ns.run(process.execPath, ['--input-type=module', '-e', NODE_SENDER, US, '9', String(16 << 20)], { timeout: 120_000 }); // warm-up
    const up = await ns.run(process.execPath, ['--input-type=module', '-e', NODE_SENDER, US, '9', String(bytes)], { timeout: 120_000 });
    const upSec = (JSON.parse(up.stdout.toString()) as { seconds: number }).seconds;

    // connect latency, kernel → synack
    const c = await ns.run(process.execPath, ['--input-type=module', '-e', NODE_CONNECTS, US, '7000', String(WARM_CONNECTS + connects)], { timeout: 120_000 });
    const inTimes = (JSON.parse(c.stdout.toString()) as number[]).slice(WARM_CONNECTS);
    // connect latency, synack → kernel (a node:net listener in the namespace)
    const srv = ns.spawn(process.execPath, ['--input-type=module', '-e', `import net from 'node:net'; net.createServer((s) => { s.on('error', () => {}); s.on('end', () => s.end()); s.resume(); }).listen({ host: '${KERNEL}', port: 7001, backlog: 4096 }, () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => srv.stdout!.once('data', () => resolve()));
    const outTimes: number[] = [];
    for (let i = 0; i < WARM_CONNECTS + connects; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const s = ts.stack.connect({ remoteAddress: KERNEL, remotePort: 7001 });
        s.onConnect = () => {
          outTimes.push(performance.now() - t0);
          s.close();
          ts.driver.kick();
          resolve();
        };
        s.onError = (code) => reject(new Error(code));
        ts.driver.kick();
      });
    }
    outTimes.splice(0, WARM_CONNECTS);
    return {
      mb,
      mtu,
      downMbitPerSec: Math.round(((bytes * 8) / total) / 1e5) / 10,
      upMbitPerSec: Math.round(((bytes * 8) / upSec) / 1e5) / 10,
      connects,
      inConnectMedianUs: Math.round(quantile(inTimes, 0.5) * 1000),
      inConnectP99Us: Math.round(quantile(inTimes, 0.99) * 1000),
      outConnectMedianUs: Math.round(quantile(outTimes, 0.5) * 1000),
      outConnectP99Us: Math.round(quantile(outTimes, 0.99) * 1000),
      retransSegs: ts.stack.counters.RetransSegs ?? 0,
    };
  } finally {
    ts.close();
    ns.delete();
  }
}

/** A node:net server in the namespace: GET /bytes/N answers N bytes; port+1 discards; port+2 accepts and closes. */
const KERNEL_SERVERS = String.raw`
import net from 'node:net';
const [host, port] = [process.argv[1], Number(process.argv[2])];
const chunk = Buffer.alloc(65536, 7);
let up = 0;
const ready = () => { if (++up === 3) console.log('ready'); };
net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', (d) => {
    const n = Number(/GET \/bytes\/(\d+)/.exec(d.toString())?.[1] ?? 0);
    s.write('HTTP/1.1 200 OK\r\nContent-Length: ' + n + '\r\nConnection: close\r\n\r\n');
    let left = n;
    const pump = () => { while (left > 0) { const k = Math.min(left, chunk.length); left -= k; if (!s.write(k === chunk.length ? chunk : chunk.subarray(0, k))) return s.once('drain', pump); } s.end(); };
    pump();
  });
}).listen({ host, port }, ready);
net.createServer((s) => { s.on('error', () => {}); s.on('end', () => s.end()); s.resume(); }).listen({ host, port: port + 1 }, ready);
net.createServer((s) => { s.on('error', () => {}); s.on('end', () => s.end()); s.resume(); }).listen({ host, port: port + 2, backlog: 4096 }, ready);
`;

/** 4. The kernel against itself: two namespaces joined by a veth pair, the same programs as 2 and 3. */
async function veth(mb: number, connects: number, mtu: number): Promise<Record<string, number>> {
  const a = Netns.create();
  const b = Netns.create();
  const A = '10.78.0.1';
  const B = '10.78.0.2';
  try {
    a.ip('link', 'add', 'vth0', 'type', 'veth', 'peer', 'name', 'vth1', 'netns', b.name);
    for (const [ns, dev, addr] of [[a, 'vth0', A], [b, 'vth1', B]] as const) {
      ns.ip('link', 'set', 'dev', dev, 'mtu', String(mtu));
      ns.ip('addr', 'add', `${addr}/24`, 'dev', dev);
      ns.ip('link', 'set', 'dev', dev, 'up');
    }
    const srv = a.spawn(process.execPath, ['--input-type=module', '-e', KERNEL_SERVERS, A, '80'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => srv.stdout!.once('data', () => resolve()));
      const bytes = mb * 1024 * 1024;
      await b.run('curl', ['-sS', '-o', '/dev/null', `http://${A}/bytes/${8 << 20}`]);
      const down = await b.run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', `http://${A}/bytes/${bytes}`], { timeout: 120_000 });
      const [size, total] = down.stdout.toString().trim().split(' ').map(Number) as [number, number];
      if (size !== bytes) throw new Error(`curl got ${size} bytes over veth: ${down.stderr}`);
      await b.run(process.execPath, ['--input-type=module', '-e', NODE_SENDER, A, '81', String(16 << 20)], { timeout: 120_000 }); // warm-up, as for synack
      const up = await b.run(process.execPath, ['--input-type=module', '-e', NODE_SENDER, A, '81', String(bytes)], { timeout: 120_000 });
      const upSec = (JSON.parse(up.stdout.toString()) as { seconds: number }).seconds;
      const c = await b.run(process.execPath, ['--input-type=module', '-e', NODE_CONNECTS, A, '82', String(WARM_CONNECTS + connects)], { timeout: 120_000 });
      const times = (JSON.parse(c.stdout.toString()) as number[]).slice(WARM_CONNECTS);
      return {
        mb,
        mtu,
        downMbitPerSec: Math.round(((bytes * 8) / total) / 1e5) / 10,
        upMbitPerSec: Math.round(((bytes * 8) / upSec) / 1e5) / 10,
        connects,
        connectMedianUs: Math.round(quantile(times, 0.5) * 1000),
        connectP99Us: Math.round(quantile(times, 0.99) * 1000),
      };
    } finally {
      srv.kill();
    }
  } finally {
    a.delete();
    b.delete();
  }
}

/** Each synack figure over the kernel's veth figure (throughput: higher is better; connect: lower). */
function ratios(t: Record<string, number>, v: Record<string, number>): Record<string, number> {
  const r = (x: number, y: number): number => Math.round((x / y) * 100) / 100;
  return {
    downVsVeth: r(t.downMbitPerSec!, v.downMbitPerSec!),
    upVsVeth: r(t.upMbitPerSec!, v.upMbitPerSec!),
    inConnectVsVeth: r(t.inConnectMedianUs!, v.connectMedianUs!),
    outConnectVsVeth: r(t.outConnectMedianUs!, v.connectMedianUs!),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, seconds: { type: 'string', default: '3' }, mb: { type: 'string', default: '200' }, connects: { type: 'string', default: '500' }, mtu: { type: 'string', default: '1500' }, kind: { type: 'string', default: 'tun' }, offload: { type: 'string', default: 'on' } } });
  const kind = values.kind as 'tun' | 'tap' | 'all';
  if (kind !== 'tun' && kind !== 'tap' && kind !== 'all') throw new RangeError(`--kind must be tun, tap or all, got '${values.kind}'`);
  if (values.offload !== 'on' && values.offload !== 'off') throw new RangeError(`--offload must be on or off, got '${values.offload}'`);
  const reason = netnsUnavailableReason() ?? tunUnavailableReason();
  if (reason !== null) {
    console.error(`bench:tun: skipped: ${reason}`);
    process.exitCode = 0;
    return;
  }
  const [mb, connects, mtu, offload] = [Number(values.mb), Number(values.connects), Number(values.mtu), values.offload === 'on'];
  const raw = kind !== 'tap' ? await rawRates(Number(values.seconds)) : null;
  const kinds = kind === 'all' ? (['tun', 'tap'] as const) : [kind];
  const runs: Record<string, Record<string, number>> = {};
  for (const k of kinds) runs[k] = await tcp(mb, connects, mtu, k, offload);
  const ref = kind === 'all' ? await veth(mb, connects, mtu) : null;
  const vs = ref === null ? null : Object.fromEntries(kinds.map((k) => [k, ratios(runs[k]!, ref)]));
  // `tcp` stays the first kind's figures (what `npm run bench` has always read).
  const result = { kind, offload, raw, tcp: runs[kinds[0]!]!, tap: runs.tap ?? null, veth: ref, vsVeth: vs };
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  if (raw !== null) {
    console.log(`TUN device, raw packets (64-byte UDP, ${raw.flooder} flood):`);
    console.log(`  kernel → synack (read until EAGAIN, batched): ${raw.inPktsPerSec} pkt/s, ${raw.inPktsPerJsCall} packets per JS call, ${raw.inLossPct}% dropped by the kernel`);
    console.log(`  synack → kernel (write per packet):            ${raw.outPktsPerSec} pkt/s`);
  }
  for (const k of kinds) {
    const t = runs[k]!;
    const x = vs?.[k];
    const ratio = (v: number | undefined): string => (v === undefined ? '' : ` (${v}× veth)`);
    console.log(`TCP against the kernel over ${k.toUpperCase()} (MTU ${t.mtu}, ${t.mb} MiB, offloads ${offload ? 'on' : 'off'}):`);
    console.log(`  synack → kernel (curl GET /bytes/N):   ${t.downMbitPerSec} Mbit/s${ratio(x?.downVsVeth)}`);
    console.log(`  kernel → synack (node:net → discard):  ${t.upMbitPerSec} Mbit/s${ratio(x?.upVsVeth)}`);
    console.log(`Connection setup (${t.connects} sequential connects):`);
    console.log(`  kernel → synack: median ${t.inConnectMedianUs} µs, p99 ${t.inConnectP99Us} µs${ratio(x?.inConnectVsVeth)}`);
    console.log(`  synack → kernel: median ${t.outConnectMedianUs} µs, p99 ${t.outConnectP99Us} µs${ratio(x?.outConnectVsVeth)}`);
  }
  if (ref !== null) {
    console.log(`The kernel against itself over veth (MTU ${ref.mtu}, ${ref.mb} MiB):`);
    console.log(`  download (curl GET /bytes/N): ${ref.downMbitPerSec} Mbit/s; upload (node:net → discard): ${ref.upMbitPerSec} Mbit/s`);
    console.log(`  connect: median ${ref.connectMedianUs} µs, p99 ${ref.connectP99Us} µs`);
  }
}

void main();
