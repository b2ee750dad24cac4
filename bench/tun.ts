/**
 * `npm run bench:tun` (root, /dev/net/tun, ip netns, the addon): synack against the Linux kernel
 * over a TUN device, in a throw-away network namespace.
 *
 *   node dist/bench/tun.js [--json] [--seconds S] [--mb N] [--connects N] [--rounds R] [--warm-mb N] [--mtu N] [--kind tun|tap|all] [--offload on|off]
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
 *    connect() → established as the connecting side sees it. Kernel → synack is measured twice:
 *    as the device opens (no busy polling) and with busyPoll 50 µs (the process does not sleep
 *    between packets, so a SYN does not wait for it to be woken).
 * 4. The reference, in the same run: the kernel against itself over a veth pair between two
 *    namespaces (device MTU as above), measured with the same programs: curl downloading from a
 *    node:net server, node:net uploading to a node:net discard server, node:net connects.
 * 5. The floor of 3 (--kind all, with a C compiler): connects into a C program that answers SYNs
 *    on a TUN device (bench/tun-floor.ts), what any stack in a process pays for the hop.
 *
 * 2-5 run in R rounds (default 5) after a warm-up of each (--warm-mb MiB each way, default 400,
 * and 1,000 connects): every round transfers --mb MiB each way
 * and makes --connects/R connects on every place in turn (TUN, TAP, veth, the order rotating), so
 * on a shared machine a change of load falls on all of them alike. Throughput is the median over
 * rounds, connect latency the median and p99 of the pooled connects; the ratios to veth are of
 * those medians. The kernel-side clients are long-lived processes (one per namespace).
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
import { startSynResponder, synResponderUnavailableReason } from './tun-floor.js';
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

/**
 * The kernel-side client, one long-lived process per namespace (its JIT warms once and stays
 * warm across rounds): each stdin line is a job, each answer one JSON line on stdout.
 *   send HOST PORT BYTES   connect, write BYTES in 64 KiB chunks, end; → { seconds } (connect → close)
 *   connect HOST PORT N    N sequential connects; → [ms, ...] (connect() → 'connect', then destroy)
 */
const KERNEL_CLIENT = String.raw`
import net from 'node:net';
import readline from 'node:readline';
const chunk = Buffer.alloc(65536, 7);
const send = (host, port, total) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const s = net.connect({ host, port }, () => {
    let left = total;
    const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return s.once('drain', pump); } s.end(); };
    pump();
  });
  s.on('data', () => {});
  s.on('error', reject);
  s.on('close', () => resolve({ seconds: (performance.now() - t0) / 1000 }));
});
const connects = async (host, port, n) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise((res, rej) => { const s = net.connect({ host, port }, () => { times.push(performance.now() - t0); s.destroy(); res(); }); s.on('error', rej); });
  }
  return times;
};
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [cmd, host, port, n] = line.split(' ');
  const r = cmd === 'send' ? await send(host, Number(port), Number(n)) : await connects(host, Number(port), Number(n));
  process.stdout.write(JSON.stringify(r) + '\n');
}
`;

/** A KERNEL_CLIENT running in `ns`: `ask` sends one job line and resolves with its JSON answer. */
function kernelClient(ns: Netns): { ask<T>(line: string): Promise<T>; close(): void } {
  const child = ns.spawn(process.execPath, ['--input-type=module', '-e', KERNEL_CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiting: ((line: string) => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  return {
    ask: <T>(line: string) =>
      new Promise<T>((resolve, reject) => {
        const onExit = (): void => reject(new Error(`bench: the kernel-side client exited during '${line}'`));
        child.once('exit', onExit);
        waiting.push((answer) => {
          child.off('exit', onExit);
          resolve(JSON.parse(answer) as T);
        });
        child.stdin!.write(`${line}\n`);
      }),
    close: () => child.kill(),
  };
}

/**
 * Connects made and not counted before the measured ones, on every side alike (veth too): the
 * figures are steady state, after the JIT has compiled both ends' connect paths (300 cold
 * connects into synack measured 1.6-1.9x the median of 2,000 warm ones).
 */
const WARM_CONNECTS = 1000;

/**
 * The busy-poll window the second kernel → synack connect figure uses (openTun's busyPoll; 50 µs
 * is what Linux's documentation suggests for net.core.busy_poll).
 */
const BUSY_POLL_US = 50;

/** One place measured in rounds: synack over TUN or TAP against the kernel, or the kernel over veth. */
interface Env {
  readonly name: 'tun' | 'tap' | 'veth' | 'floor';
  /** Server → client over a fresh connection (curl GET /bytes/N), Mbit/s (not the floor). */
  down?(bytes: number): Promise<number>;
  /** Client → server (node:net to a discard service), Mbit/s (not the floor). */
  up?(bytes: number): Promise<number>;
  /** `n` sequential connects, kernel client → server, ms each. */
  connectIn(n: number): Promise<number[]>;
  /** `n` sequential connects, synack → a kernel listener, ms each (synack only). */
  connectOut?(n: number): Promise<number[]>;
  /** connectIn with the device busy polling for BUSY_POLL_US µs (synack only). */
  connectInBusyPoll?(n: number): Promise<number[]>;
  retransSegs(): number;
  close(): void;
}

async function curlMbit(ns: Netns, url: string, bytes: number): Promise<number> {
  const r = await ns.run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url], { timeout: 120_000 });
  const [size, total] = r.stdout.toString().trim().split(' ').map(Number) as [number, number];
  if (size !== bytes) throw new Error(`curl got ${size} of ${bytes} bytes from ${url}: ${r.stderr}`);
  return (bytes * 8) / total / 1e6;
}

/** synack on a TUN or TAP device in a namespace of its own, the kernel client in that namespace. */
async function synackEnv(kind: 'tun' | 'tap', mtu: number, offload: boolean): Promise<Env> {
  const ns = Netns.create();
  const ts = (kind === 'tap' ? startTapStack : startTunStack)({ netns: ns.name, dev: 'skb1', addr: `${US}/24`, peer: KERNEL, seed: 3, mtu, offload });
  httpService(ts.stack, 80);
  discardService(ts.stack, 9);
  const l = ts.stack.listen({ port: 7000, backlog: 4096 });
  l.onConnection = () => {
    for (let s = l.accept(); s !== null; s = l.accept()) {
      const sock = s;
      sock.onEnd = () => sock.close();
    }
  };
  const client = kernelClient(ns);
  // synack → kernel connects go to a node:net listener in the namespace.
  const srv = ns.spawn(process.execPath, ['--input-type=module', '-e', `import net from 'node:net'; net.createServer((s) => { s.on('error', () => {}); s.on('end', () => s.end()); s.resume(); }).listen({ host: '${KERNEL}', port: 7001, backlog: 4096 }, () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => srv.stdout!.once('data', () => resolve()));
  const connectOnce = (): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const s = ts.stack.connect({ remoteAddress: KERNEL, remotePort: 7001 });
      s.onConnect = () => {
        const ms = performance.now() - t0;
        s.close();
        ts.driver.kick();
        resolve(ms);
      };
      s.onError = (code) => reject(new Error(code));
      ts.driver.kick();
    });
  return {
    name: kind,
    down: (bytes) => curlMbit(ns, `http://${US}/bytes/${bytes}`, bytes),
    up: async (bytes) => (bytes * 8) / (await client.ask<{ seconds: number }>(`send ${US} 9 ${bytes}`)).seconds / 1e6,
    connectIn: (n) => client.ask<number[]>(`connect ${US} 7000 ${n}`),
    async connectInBusyPoll(n) {
      ts.tun.setBusyPoll(BUSY_POLL_US);
      try {
        return await client.ask<number[]>(`connect ${US} 7000 ${n}`);
      } finally {
        ts.tun.setBusyPoll(0);
      }
    },
    async connectOut(n) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) times.push(await connectOnce());
      return times;
    },
    retransSegs: () => ts.stack.counters.RetransSegs ?? 0,
    close() {
      client.close();
      srv.kill();
      ts.close();
      ns.delete();
    },
  };
}

/** The floor (bench/tun-floor.ts): a C SYN responder on a TUN device, the kernel client beside it. */
async function floorEnv(): Promise<Env> {
  const ns = Netns.create();
  try {
    const r = await startSynResponder(ns, 'skf0');
    const client = kernelClient(ns);
    return {
      name: 'floor',
      connectIn: (n) => client.ask<number[]>(`connect ${r.address} 7000 ${n}`),
      retransSegs: () => 0,
      close() {
        client.close();
        r.close();
        ns.delete();
      },
    };
  } catch (e) {
    ns.delete();
    throw e;
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

/** The kernel against itself: two namespaces joined by a veth pair, the same programs as for synack. */
async function vethEnv(mtu: number): Promise<Env> {
  const a = Netns.create();
  const b = Netns.create();
  const A = '10.78.0.1';
  const B = '10.78.0.2';
  a.ip('link', 'add', 'vth0', 'type', 'veth', 'peer', 'name', 'vth1', 'netns', b.name);
  for (const [ns, dev, addr] of [[a, 'vth0', A], [b, 'vth1', B]] as const) {
    ns.ip('link', 'set', 'dev', dev, 'mtu', String(mtu));
    ns.ip('addr', 'add', `${addr}/24`, 'dev', dev);
    ns.ip('link', 'set', 'dev', dev, 'up');
  }
  const srv = a.spawn(process.execPath, ['--input-type=module', '-e', KERNEL_SERVERS, A, '80'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => srv.stdout!.once('data', () => resolve()));
  const client = kernelClient(b);
  return {
    name: 'veth',
    down: (bytes) => curlMbit(b, `http://${A}/bytes/${bytes}`, bytes),
    up: async (bytes) => (bytes * 8) / (await client.ask<{ seconds: number }>(`send ${A} 81 ${bytes}`)).seconds / 1e6,
    connectIn: (n) => client.ask<number[]>(`connect ${A} 82 ${n}`),
    retransSegs: () => 0,
    close() {
      client.close();
      srv.kill();
      a.delete();
      b.delete();
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** What one place measured over all rounds. */
interface Figures {
  downRounds: number[];
  upRounds: number[];
  inTimes: number[];
  outTimes: number[];
  inBusyPollTimes: number[];
}

/**
 * 2 + 3 (+ 4 with veth): every place is warmed up, then measured in `rounds` rounds, each round
 * visiting every place in turn (the order rotates), so a load change on a shared machine lands on
 * all of them alike: throughput is the median over rounds, connect latency the median and p99 of
 * all the round's connects pooled.
 */
async function measureRounds(envs: Env[], mb: number, connects: number, rounds: number, warmMb: number): Promise<Map<Env, Figures>> {
  const bytes = mb * 1024 * 1024;
  const figs = new Map<Env, Figures>(envs.map((e) => [e, { downRounds: [], upRounds: [], inTimes: [], outTimes: [], inBusyPollTimes: [] }]));
  // Warm-up, the same on every place: V8 compiles synack's hot paths with its optimizing tier
  // only after thousands of packets (a 200 MB upload measured 2-3.5 Gbit/s right after a 16 MB
  // warm-up and 6.9 Gbit/s after 800 MB, at a third of the CPU per MB), and the figures are to be
  // steady state; on veth the same transfers warm the node:net ends.
  for (const e of envs) {
    for (let left = warmMb; left > 0; left -= 200) {
      await e.down?.(Math.min(left, 200) << 20);
      await e.up?.(Math.min(left, 200) << 20);
    }
    await e.connectIn(WARM_CONNECTS);
    await e.connectOut?.(WARM_CONNECTS);
    await e.connectInBusyPoll?.(WARM_CONNECTS / 10);
  }
  const perRound = Math.max(1, Math.ceil(connects / rounds));
  for (let r = 0; r < rounds; r++) {
    const order = envs.map((_, i) => envs[(i + r) % envs.length]!);
    for (const e of order) if (e.down) figs.get(e)!.downRounds.push(await e.down(bytes));
    for (const e of order) if (e.up) figs.get(e)!.upRounds.push(await e.up(bytes));
    for (const e of order) figs.get(e)!.inTimes.push(...(await e.connectIn(perRound)));
    for (const e of order) if (e.connectOut) figs.get(e)!.outTimes.push(...(await e.connectOut(perRound)));
    for (const e of order) if (e.connectInBusyPoll) figs.get(e)!.inBusyPollTimes.push(...(await e.connectInBusyPoll(perRound)));
  }
  return figs;
}

/** The figures of one place, as bench/index.ts reads them (Mbit/s, µs). */
function summary(e: Env, f: Figures, mb: number, mtu: number, rounds: number): Record<string, number | number[]> {
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  const us = (xs: number[], q: number): number => Math.round(quantile(xs, q) * 1000);
  const out: Record<string, number | number[]> = { mb, mtu, rounds, connects: f.inTimes.length };
  if (f.downRounds.length > 0) {
    out.downMbitPerSec = r1(median(f.downRounds));
    out.upMbitPerSec = r1(median(f.upRounds));
    out.downRounds = f.downRounds.map(Math.round);
    out.upRounds = f.upRounds.map(Math.round);
  }
  if (e.name === 'veth' || e.name === 'floor') {
    out.connectMedianUs = us(f.inTimes, 0.5);
    out.connectP99Us = us(f.inTimes, 0.99);
  } else {
    out.inConnectMedianUs = us(f.inTimes, 0.5);
    out.inConnectP99Us = us(f.inTimes, 0.99);
    out.outConnectMedianUs = us(f.outTimes, 0.5);
    out.outConnectP99Us = us(f.outTimes, 0.99);
    out.busyPollUs = BUSY_POLL_US;
    out.inConnectBusyPollMedianUs = us(f.inBusyPollTimes, 0.5);
    out.inConnectBusyPollP99Us = us(f.inBusyPollTimes, 0.99);
    out.retransSegs = e.retransSegs();
  }
  return out;
}

/** Each synack figure over the kernel's veth figure (throughput: higher is better; connect: lower). */
function ratios(t: Record<string, number | number[]>, v: Record<string, number | number[]>): Record<string, number> {
  const r = (x: number | number[] | undefined, y: number | number[] | undefined): number => Math.round(((x as number) / (y as number)) * 100) / 100;
  return {
    downVsVeth: r(t.downMbitPerSec, v.downMbitPerSec),
    upVsVeth: r(t.upMbitPerSec, v.upMbitPerSec),
    inConnectVsVeth: r(t.inConnectMedianUs, v.connectMedianUs),
    inConnectBusyPollVsVeth: r(t.inConnectBusyPollMedianUs, v.connectMedianUs),
    outConnectVsVeth: r(t.outConnectMedianUs, v.connectMedianUs),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, seconds: { type: 'string', default: '3' }, mb: { type: 'string', default: '200' }, connects: { type: 'string', default: '500' }, rounds: { type: 'string', default: '5' }, 'warm-mb': { type: 'string', default: '400' }, mtu: { type: 'string', default: '1500' }, kind: { type: 'string', default: 'tun' }, offload: { type: 'string', default: 'on' } } });
  const kind = values.kind as 'tun' | 'tap' | 'all';
  if (kind !== 'tun' && kind !== 'tap' && kind !== 'all') throw new RangeError(`--kind must be tun, tap or all, got '${values.kind}'`);
  if (values.offload !== 'on' && values.offload !== 'off') throw new RangeError(`--offload must be on or off, got '${values.offload}'`);
  const reason = netnsUnavailableReason() ?? tunUnavailableReason();
  if (reason !== null) {
    console.error(`bench:tun: skipped: ${reason}`);
    process.exitCode = 0;
    return;
  }
  const [mb, connects, mtu, offload, rounds] = [Number(values.mb), Number(values.connects), Number(values.mtu), values.offload === 'on', Number(values.rounds)];
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got '${values.rounds}'`);
  const warmMb = Number(values['warm-mb']);
  if (!Number.isInteger(warmMb) || warmMb < 0) throw new RangeError(`--warm-mb must be a non-negative integer, got '${values['warm-mb']}'`);
  const raw = kind !== 'tap' ? await rawRates(Number(values.seconds)) : null;
  const kinds = kind === 'all' ? (['tun', 'tap'] as const) : [kind];
  const envs: Env[] = [];
  const runs: Record<string, Record<string, number | number[]>> = {};
  let ref: Record<string, number | number[]> | null = null;
  let floor: Record<string, number | number[]> | null = null;
  let floorSkipped: string | null = null;
  try {
    for (const k of kinds) envs.push(await synackEnv(k, mtu, offload));
    if (kind === 'all') envs.push(await vethEnv(mtu));
    if (kind === 'all') {
      floorSkipped = synResponderUnavailableReason();
      if (floorSkipped === null) envs.push(await floorEnv());
    }
    const figs = await measureRounds(envs, mb, connects, rounds, warmMb);
    for (const e of envs) {
      const s = summary(e, figs.get(e)!, mb, mtu, rounds);
      if (e.name === 'veth') ref = s;
      else if (e.name === 'floor') floor = s;
      else runs[e.name] = s;
    }
  } finally {
    for (const e of envs) e.close();
  }
  const vs = ref === null ? null : Object.fromEntries(kinds.map((k) => [k, ratios(runs[k]!, ref)]));
  // `tcp` stays the first kind's figures (what `npm run bench` has always read).
  const floorVsVeth = floor !== null && ref !== null ? Math.round(((floor.connectMedianUs as number) / (ref.connectMedianUs as number)) * 100) / 100 : null;
  const result = { kind, offload, rounds, raw, tcp: runs[kinds[0]!]!, tap: runs.tap ?? null, veth: ref, vsVeth: vs, floor: floor ?? (floorSkipped === null ? null : { skipped: floorSkipped }), floorVsVeth };
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
    console.log(`TCP against the kernel over ${k.toUpperCase()} (MTU ${t.mtu}, ${t.mb} MiB, offloads ${offload ? 'on' : 'off'}, medians of ${rounds} interleaved rounds):`);
    console.log(`  synack → kernel (curl GET /bytes/N):   ${t.downMbitPerSec} Mbit/s${ratio(x?.downVsVeth)}`);
    console.log(`  kernel → synack (node:net → discard):  ${t.upMbitPerSec} Mbit/s${ratio(x?.upVsVeth)}`);
    console.log(`Connection setup (${t.connects} sequential connects):`);
    console.log(`  kernel → synack: median ${t.inConnectMedianUs} µs, p99 ${t.inConnectP99Us} µs${ratio(x?.inConnectVsVeth)}`);
    console.log(`  kernel → synack, busy polling ${t.busyPollUs} µs: median ${t.inConnectBusyPollMedianUs} µs, p99 ${t.inConnectBusyPollP99Us} µs${ratio(x?.inConnectBusyPollVsVeth)}`);
    console.log(`  synack → kernel: median ${t.outConnectMedianUs} µs, p99 ${t.outConnectP99Us} µs${ratio(x?.outConnectVsVeth)}`);
  }
  if (ref !== null) {
    console.log(`The kernel against itself over veth (MTU ${ref.mtu}, ${ref.mb} MiB, the same rounds):`);
    console.log(`  download (curl GET /bytes/N): ${ref.downMbitPerSec} Mbit/s; upload (node:net → discard): ${ref.upMbitPerSec} Mbit/s`);
    console.log(`  connect: median ${ref.connectMedianUs} µs, p99 ${ref.connectP99Us} µs`);
  }
  if (floor !== null) {
    console.log(`The floor: a C program answering SYNs on a TUN device (bench/tun-floor.ts), the same rounds:`);
    console.log(`  connect: median ${floor.connectMedianUs} µs, p99 ${floor.connectP99Us} µs (${floorVsVeth}× veth)`);
  } else if (floorSkipped !== null) console.log(`The floor (C SYN responder): skipped: ${floorSkipped}`);
}

void main();
