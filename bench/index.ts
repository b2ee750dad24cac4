/**
 * `npm run bench`: every figure of issue 3 in one run, as a table or (`--json`) one object.
 *
 *   node dist/bench/index.js [--json] [--only a,b,...] [--connections N]
 *
 * --only takes: throughput1500, throughput65535, netApi1500, kernel, cps, kernelCps, pingpong, heap, scale, synTimeout, ooo, tun, usernet, gvisor
 * --connections: how many idle connections `scale` opens (default 100,000; the million:
 *   node --expose-gc --max-old-space-size=8192 dist/bench/index.js --only scale --connections 1000000)
 * (for profiling one figure: node --cpu-prof dist/bench/index.js --only throughput1500).
 * Sizes are chosen so the whole run takes well under a minute; each figure has a warm-up.
 */
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kernelCps, synackCps, synackPingPong } from './cps.js';
import { netApiThroughput } from './net-api.js';
import { ensureGc, scaleIdle } from './scale.js';
import { synTimeout } from './syn-timeout.js';
import { oooBench } from './ooo.js';
import { gvisorComparison, gvisorUnavailableReason, type GvisorComparison } from './gvisor.js';
import { kernelThroughput, synackThroughput } from './throughput.js';
import { usernetRows, type UsernetBench } from './usernet.js';

const ALL = ['throughput1500', 'throughput65535', 'netApi1500', 'kernel', 'cps', 'kernelCps', 'pingpong', 'heap', 'scale', 'synTimeout', 'ooo', 'tun', 'usernet', 'gvisor'] as const;
type Part = (typeof ALL)[number];

const TARGETS = {
  throughput1500Gbps: '>= 4 Gbit/s',
  throughput65535Gbps: '>= kernel loopback',
  cps: '>= 5x node:net',
  heapBytesPerIdleConn: '<= 2048 B',
  scale: '1M: <= 2048 B/TCB, <= 15 s',
};

function tunUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (TUN device and network namespace)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (!existsSync(fileURLToPath(new URL('../../native/build/Release/synack_tun.node', import.meta.url)))) return 'the TUN addon is not built (npm run build:native)';
  return null;
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, only: { type: 'string' }, connections: { type: 'string' } } });
  const connections = values.connections === undefined ? 100_000 : Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`--connections: a positive integer, got '${values.connections}'`);
  const only = new Set<Part>(values.only ? (values.only.split(',') as Part[]) : ALL);
  for (const p of only) if (!ALL.includes(p)) throw new RangeError(`--only: unknown part '${p}' (${ALL.join(', ')})`);
  const log = (s: string): void => {
    if (!values.json) process.stderr.write(`${s}\n`);
  };
  ensureGc();
  const t0 = performance.now();
  const out: Record<string, unknown> = { machine: machine() };
  const detail: Record<string, unknown> = {};

  if (only.has('throughput1500')) {
    log('throughput, MTU 1500, checksums computed and verified ...');
    const r = synackThroughput({ mtu: 1500, checksumOffload: false, warmMs: 500, ms: 2500 });
    out.throughput1500Gbps = r.gbps;
    detail.throughput1500 = r;
  }
  if (only.has('throughput65535')) {
    log('throughput, MTU 65535, checksum offload ...');
    const r = synackThroughput({ mtu: 65535, checksumOffload: true, warmMs: 500, ms: 2500 });
    out.throughput65535Gbps = r.gbps;
    detail.throughput65535 = r;
  }
  if (only.has('netApi1500')) {
    log('throughput through the net API (streams, events), MTU 1500, checksums ...');
    const r = await netApiThroughput({ mtu: 1500, warmMs: 500, ms: 2500 });
    out.netApi1500Gbps = r.gbps;
    detail.netApi1500 = r;
  }
  if (only.has('kernel')) {
    log('throughput, kernel TCP over 127.0.0.1 (node:net) ...');
    const r = await kernelThroughput({ warmMs: 500, ms: 2500 });
    out.kernelLoopbackGbps = r.gbps;
    detail.kernelLoopback = r;
  }
  if (typeof out.throughput65535Gbps === 'number' && typeof out.kernelLoopbackGbps === 'number') {
    out.throughput65535VsKernel = out.throughput65535Gbps / out.kernelLoopbackGbps;
  }
  if (typeof out.throughput1500Gbps === 'number' && typeof out.kernelLoopbackGbps === 'number') {
    out.throughput1500VsKernel = out.throughput1500Gbps / out.kernelLoopbackGbps;
  }
  if (only.has('cps')) {
    log('connections per second, synack ...');
    const r = synackCps({ warmMs: 500, ms: 2500, batch: 1000 });
    out.cps = r.cps;
    detail.cps = r;
  }
  if (only.has('kernelCps')) {
    log('connections per second, node:net on 127.0.0.1 ...');
    const r = await kernelCps({ warmMs: 500, ms: 2500, concurrency: 32 });
    out.kernelCps = r.cps;
    detail.kernelCps = r;
  }
  if (typeof out.cps === 'number' && typeof out.kernelCps === 'number') out.cpsVsKernel = out.cps / out.kernelCps;
  if (only.has('pingpong')) {
    log('1-byte ping-pong on an established connection, synack ...');
    const r = synackPingPong({ warmMs: 500, ms: 2000 });
    out.pingPongUsPerRoundTrip = r.usPerRoundTrip;
    detail.pingPong = r;
  }
  if (only.has('heap') || only.has('scale')) {
    // One run gives both: `heap` (bytes per idle endpoint) and `scale` (those bytes at N, the time to open N).
    log(`heap per idle connection and scale: ${connections.toLocaleString('en')} idle established connections in one process ...`);
    scaleIdle(Math.min(10_000, connections)); // warm-up: JIT the handshake path; its garbage is collected before the measurement
    const r = scaleIdle(connections);
    if (only.has('heap')) {
      out.heapBytesPerIdleConn = r.heapBytesPerTcb;
      out.heapBytesPerIdleConnPair = r.heapBytesPerConnectionPair;
    }
    if (only.has('scale')) {
      out.scaleConnections = r.connections;
      out.scaleHeapBytesPerTcb = r.heapBytesPerTcb;
      out.scaleOpenWallSeconds = r.openWallSeconds;
      out.scaleOpenCpuSeconds = r.openCpuSeconds;
      out.scaleOpenMainThreadCpuSeconds = r.openMainThreadCpuSeconds;
      out.scaleGcShare = r.gcShare;
      out.scaleProjected1MWallSeconds = r.projected1M.openWallSeconds;
    }
    detail.scale = r;
  }
  if (only.has('synTimeout')) {
    log('10,000 concurrent syn-timeout connections ...');
    synTimeout(1000); // warm-up
    const r = synTimeout(10_000);
    if (r.timedOut !== r.connections) throw new Error(`bench: ${r.timedOut} of ${r.connections} connections timed out`);
    out.synTimeout10kWallSeconds = r.wallSeconds;
    detail.synTimeout = r;
  }
  if (only.has('ooo')) {
    // Issue 11: receive cost per out-of-order segment must not grow with what is held.
    log('out-of-order receive cost per segment, 1k and 30k segments held ...');
    const r = oooBench();
    out.oooGapsUsPerSeg1k = r.gaps1k!.usPerSegment;
    out.oooGapsUsPerSeg30k = r.gaps30k!.usPerSegment;
    out.oooOneHoleUsPerSeg1k = r.oneHole1k!.usPerSegment;
    out.oooOneHoleUsPerSeg30k = r.oneHole30k!.usPerSegment;
    detail.ooo = r;
  }
  if (only.has('tun')) {
    // Against the Linux kernel over a TUN device (bench/tun.ts): needs root, /dev/net/tun, ip
    // netns and the addon; otherwise the reason is recorded instead of figures.
    log('TUN and TAP: synack against the kernel, and the kernel against itself over veth (both directions, connection setup) ...');
    const why = tunUnavailable();
    if (why !== null) {
      out.tun = { skipped: why };
      log(`  skipped: ${why}`);
    } else {
      const r = spawnSync(process.execPath, [fileURLToPath(new URL('./tun.js', import.meta.url)), '--json', '--kind', 'all', '--mb', '100', '--connects', '500', '--rounds', '5', '--seconds', '2'], { encoding: 'utf8', timeout: 240_000 });
      try {
        out.tun = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
      } catch {
        out.tun = { skipped: `bench/tun.js failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}` };
      }
    }
  }
  if (only.has('usernet')) {
    // Issue 13: guest↔host through user-mode networking, synack beside slirp4netns and pasta
    // (bench/usernet.ts; root and ip netns, else the reason is recorded).
    log('usernet: synack, slirp4netns, pasta serving a namespace (both directions, MTU 1500 and 65520) ...');
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('./usernet.js', import.meta.url)), '--json', '--seconds', '2'], { encoding: 'utf8', timeout: 300_000 });
    try {
      out.usernet = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    } catch {
      out.usernet = { skipped: `bench/usernet.js failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}` };
    }
  }
  if (only.has('gvisor')) {
    // Issue 14: gVisor's netstack doing synack's throughput1500 and cps work, interleaved rounds
    // (bench/gvisor.ts; needs Debian's golang-go and golang-gvisor-gvisor-dev, else the reason).
    log('gVisor netstack beside synack: MTU 1500 throughput and connections/s, 5 interleaved rounds ...');
    const why = gvisorUnavailableReason();
    if (why !== null) {
      out.gvisor = { skipped: why };
      log(`  skipped: ${why}`);
    } else {
      try {
        const r = gvisorComparison({ rounds: 5, warmMs: 300, ms: 1000 });
        out.gvisor = r;
        out.throughput1500VsGvisor = r.throughput1500VsGvisor;
        out.cpsVsGvisor = r.cpsVsGvisor;
      } catch (e) {
        out.gvisor = { skipped: (e as Error).message };
        log(`  skipped: ${(e as Error).message}`);
      }
    }
  }
  out.benchWallSeconds = (performance.now() - t0) / 1000;
  out.detail = detail;
  if (values.json) {
    console.log(JSON.stringify(out));
    return;
  }
  const m = out.machine as Record<string, unknown>;
  const rows: [string, string, string][] = [];
  const f = (k: string, digits: number, unit: string): string => (typeof out[k] === 'number' ? `${(out[k] as number).toFixed(digits)} ${unit}` : '-');
  rows.push(['throughput, MTU 1500, checksums', f('throughput1500Gbps', 3, 'Gbit/s'), TARGETS.throughput1500Gbps]);
  rows.push(['throughput, MTU 65535, offload', f('throughput65535Gbps', 3, 'Gbit/s'), TARGETS.throughput65535Gbps]);
  rows.push(['throughput via the net API, MTU 1500', f('netApi1500Gbps', 3, 'Gbit/s'), 'streams and events on top']);
  rows.push(['kernel loopback (node:net)', f('kernelLoopbackGbps', 3, 'Gbit/s'), '']);
  rows.push(['  65535/kernel ratio', f('throughput65535VsKernel', 3, 'x'), '>= 1']);
  rows.push(['connections/s, synack', f('cps', 0, '/s'), TARGETS.cps]);
  rows.push(['connections/s, node:net', f('kernelCps', 0, '/s'), '']);
  rows.push(['  synack/node:net ratio', f('cpsVsKernel', 2, 'x'), '>= 5']);
  rows.push(['1-byte ping-pong, established', f('pingPongUsPerRoundTrip', 2, 'us'), 'per round trip (two segments): the per-segment work']);
  rows.push([`heap per idle endpoint (${(connections / 1000).toFixed(0)}k conns)`, f('heapBytesPerIdleConn', 0, 'B'), TARGETS.heapBytesPerIdleConn]);
  rows.push(['  per connection (both ends)', f('heapBytesPerIdleConnPair', 0, 'B'), '']);
  const sc = typeof out.scaleConnections === 'number' ? `${(out.scaleConnections / 1000).toFixed(0)}k` : '';
  rows.push([`scale ${sc}: heap per TCB (both ends)`, f('scaleHeapBytesPerTcb', 0, 'B'), TARGETS.scale]);
  rows.push([`  time to open ${sc} (wall)`, f('scaleOpenWallSeconds', 2, 's'), typeof out.scaleProjected1MWallSeconds === 'number' ? `1M at this rate: ${out.scaleProjected1MWallSeconds.toFixed(1)} s` : '']);
  rows.push([`  CPU time to open ${sc}`, f('scaleOpenCpuSeconds', 2, 's'), 'all threads (GC helpers too)']);
  rows.push([`  main-thread CPU time to open ${sc}`, f('scaleOpenMainThreadCpuSeconds', 2, 's'), 'a floor for the wall time on an idle machine']);
  rows.push(['  GC share of the open time', typeof out.scaleGcShare === 'number' ? `${(out.scaleGcShare * 100).toFixed(1)} %` : '-', 'v8.GCProfiler']);
  rows.push(['10k syn-timeout, wall time', f('synTimeout10kWallSeconds', 3, 's'), '']);
  rows.push(['ooo 1-byte gaps, 1k ranges held', f('oooGapsUsPerSeg1k', 1, 'us/seg'), '']);
  rows.push(['ooo 1-byte gaps, 30k ranges held', f('oooGapsUsPerSeg30k', 1, 'us/seg'), '<= 2x the 1k figure']);
  rows.push(['ooo one hole, 1k segments held', f('oooOneHoleUsPerSeg1k', 1, 'us/seg'), '200-byte segments']);
  rows.push(['ooo one hole, 29k segs (5.8 MB) held', f('oooOneHoleUsPerSeg30k', 1, 'us/seg'), '<= 2x the 1k figure']);
  type Figures = Record<string, number>;
  const tun = out.tun as { skipped?: string; tcp?: Figures; tap?: Figures | null; veth?: Figures | null; vsVeth?: Record<string, Figures> | null; floor?: (Figures & { skipped?: string }) | null; floorVsVeth?: number | null } | undefined;
  if (tun?.skipped) rows.push(['TUN/TAP vs kernel', 'skipped', tun.skipped]);
  else if (tun?.tcp) {
    // The goal (issue 14): >= 1x veth's throughput both ways, kernel -> synack connect <= 1.5x veth's.
    for (const [name, t] of [['TUN', tun.tcp], ['TAP', tun.tap]] as const) {
      if (!t) continue;
      const x = tun.vsVeth?.[name.toLowerCase()];
      const vs = (k: string, goal: string): string => (x ? `${x[k]}x veth${goal ? ` (goal ${goal})` : ''}` : '');
      rows.push([`${name}: synack -> kernel (curl)`, `${t.downMbitPerSec} Mbit/s`, `MTU ${t.mtu}, median of ${t.rounds ?? 1} rounds; ${vs('downVsVeth', '>= 1')}`]);
      rows.push([`${name}: kernel -> synack`, `${t.upMbitPerSec} Mbit/s`, vs('upVsVeth', '>= 1')]);
      rows.push([`${name}: connect, kernel -> synack`, `${t.inConnectMedianUs} us`, `median; p99 ${t.inConnectP99Us} us; ${vs('inConnectVsVeth', '<= 1.5')}`]);
      if (t.inConnectBusyPollMedianUs !== undefined) rows.push([`${name}: connect, kernel -> synack, busyPoll ${t.busyPollUs} us`, `${t.inConnectBusyPollMedianUs} us`, `median; p99 ${t.inConnectBusyPollP99Us} us; ${vs('inConnectBusyPollVsVeth', '')}`]);
      rows.push([`${name}: connect, synack -> kernel`, `${t.outConnectMedianUs} us`, `median; p99 ${t.outConnectP99Us} us; ${vs('outConnectVsVeth', '')}`]);
    }
    if (tun.veth) {
      rows.push(['veth: kernel -> kernel (curl)', `${tun.veth.downMbitPerSec} Mbit/s`, 'the reference, same run']);
      rows.push(['veth: kernel -> kernel (node:net)', `${tun.veth.upMbitPerSec} Mbit/s`, '']);
      rows.push(['veth: connect', `${tun.veth.connectMedianUs} us`, `median; p99 ${tun.veth.connectP99Us} us`]);
    }
    if (tun.floor?.skipped) rows.push(['TUN floor: connect (C responder)', 'skipped', String(tun.floor.skipped)]);
    else if (tun.floor) rows.push(['TUN floor: connect (C responder)', `${tun.floor.connectMedianUs} us`, `median; ${tun.floorVsVeth}x veth: the process hop alone`]);
  }
  const un = out.usernet as (UsernetBench & { skipped?: string }) | undefined;
  if (un?.skipped) rows.push(['usernet vs slirp4netns, pasta', 'skipped', un.skipped]);
  else if (un?.runs) rows.push(...usernetRows(un));
  const gv = out.gvisor as (GvisorComparison & { skipped?: string }) | undefined;
  if (gv?.skipped) rows.push(['gVisor netstack comparison', 'skipped', gv.skipped]);
  else if (gv) {
    const runs = `median of ${gv.rounds} interleaved; gVisor ${gv.gvisorVersion}, GOMAXPROCS ${gv.gomaxprocs}`;
    rows.push(['MTU 1500 throughput: synack', `${gv.synackThroughput1500GbpsMedian.toFixed(2)} Gbit/s`, runs]);
    rows.push(['MTU 1500 throughput: gVisor', `${gv.gvisorThroughput1500GbpsMedian.toFixed(2)} Gbit/s`, '']);
    rows.push(['  synack/gVisor ratio', `${gv.throughput1500VsGvisor.toFixed(2)} x`, '>= 4']);
    rows.push(['connections/s: synack', `${gv.synackCpsMedian} /s`, runs]);
    rows.push(['connections/s: gVisor', `${gv.gvisorCpsMedian} /s`, '']);
    rows.push(['  synack/gVisor ratio', `${gv.cpsVsGvisor.toFixed(2)} x`, '']);
  }
  console.log(`synack bench — ${String(m.cpu)}, ${String(m.cores)} cores, node ${String(m.node)}, ${String(m.os)}\n`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(38)} ${b.padStart(16)}   ${c}`);
  console.log(`\nbench took ${(out.benchWallSeconds as number).toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exitCode = 1;
});
