/**
 * Scale: N idle ESTABLISHED connections between two synack stacks in one process (bench/pair.ts:
 * memoryPair and a fake clock), the issue-14 goal being a million at <= 2 KiB of heap each,
 * opened in <= 15 s.
 *
 * The client opens from one address to `ports` listening ports on the server, filling each
 * destination's ephemeral range to `fill` (Linux's rules stay: 32768-60999, even ports first,
 * LINUX __inet_hash_connect's per-destination cursor), so a million connections need
 * 1e6 / (28,232 x fill) server ports. The accept queues are drained as connections arrive (an
 * application that does not accept would meet the backlog, then SYN-flood protection).
 *
 * This is also the `heap` figure of `npm run bench` (heap per idle endpoint at 100k). The stacks,
 * listeners and the application's handle array exist before the first measurement, so only
 * per-connection state is counted (sockets, Connections and their sub-objects, table entries).
 *
 * Reported: heap growth divided by the TCBs (both ends: 2N; "per connection" below means per
 * TCB, the figure the 2 KiB goal is about) and by N (a client/server pair); wall and virtual time
 * to open them all; the share of that wall time spent in GC (v8.GCProfiler's per-collection cost);
 * and whether any connection timer is still queued once idle (none: keepalive is off by default).
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { B, Pair } from './pair.js';
import type { TcpSocket } from '../src/stack/socket.js';

export interface ScaleResult {
  connections: number;
  /** TCBs: both ends of every connection. */
  tcbs: number;
  serverPorts: number;
  heapBytesPerTcb: number;
  heapBytesPerConnectionPair: number;
  /** Wall time from the first connect() to the last ESTABLISHED (both ends). */
  openWallSeconds: number;
  /** CPU time of the process over the same span (user + system; the machine may be shared). */
  openCpuSeconds: number;
  /** CPU time of the main thread alone over the same span (Linux; NaN elsewhere). */
  openMainThreadCpuSeconds: number;
  /** Virtual time the handshakes took on the fake clock (memoryPair has no latency: 0 unless a timer had to fire). */
  openVirtualSeconds: number;
  /** Share of openWallSeconds spent in garbage collection. */
  gcShare: number;
  /** GC pause time by kind (Scavenge, MarkSweepCompact, ...), seconds. */
  gcSecondsByType: Record<string, number>;
  /** Connections per wall second while opening. */
  opensPerSecond: number;
  /** No connection timer queued on either stack once idle (keepalive, off by default, would queue one each). */
  idleWithoutTimers: boolean;
  /** Projection to a million connections at the measured rate and bytes. */
  projected1M: { openWallSeconds: number; openCpuSeconds: number; openMainThreadCpuSeconds: number; heapMiB: number };
}

/** global.gc, exposing it when node was started without --expose-gc. */
export function ensureGc(): () => void {
  const g = globalThis as { gc?: () => void };
  if (typeof g.gc !== 'function') {
    v8.setFlagsFromString('--expose-gc');
    g.gc = runInNewContext('gc') as () => void;
  }
  return g.gc!;
}

/**
 * CPU seconds of the main thread alone (Linux /proc, USER_HZ ticks of 10 ms), or NaN elsewhere:
 * a floor for the wall time of the open on an idle machine (the GC helper threads aside)
 * (process.cpuUsage counts every thread; Node 20 has no per-thread call).
 */
function mainThreadCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** One ephemeral range: LINUX ip_local_port_range 32768-60999. */
const EPHEMERAL_PORTS = 60999 - 32768 + 1;

export function scaleIdle(n: number, opts: { fill?: number; batch?: number } = {}): ScaleResult {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n: a positive integer, got ${n}`);
  const fill = opts.fill ?? 0.8;
  if (!(fill > 0 && fill <= 1)) throw new RangeError(`fill: in (0, 1], got ${fill}`);
  const batch = opts.batch ?? 2000;
  const gc = ensureGc();
  const ports = Math.ceil(n / Math.floor(EPHEMERAL_PORTS * fill));
  const p = new Pair({ mtu: 1500, checksumOffload: false });
  // The application's handles, in one preallocated array (not a per-connection cost of synack).
  const held: TcpSocket[] = new Array<TcpSocket>(2 * n);
  let nHeld = 0;
  const listeners = Array.from({ length: ports }, (_, i) => {
    const l = p.b.listen({ port: 1000 + i, backlog: 4096 });
    l.onConnection = () => {
      for (let s = l.accept(); s !== null; s = l.accept()) held[nHeld++] = s;
    };
    return l;
  });
  const heapNow = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const before = heapNow();
  const gcProfiler = new v8.GCProfiler();
  gcProfiler.start();
  const v0 = p.now;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuSeconds();
  const t0 = performance.now();
  let opened = 0;
  while (opened < n) {
    const k = Math.min(batch, n - opened);
    // Connections go to the destinations in turn, so every destination's range fills evenly.
    for (let i = 0; i < k; i++) held[nHeld++] = p.a.connect({ remoteAddress: B, remotePort: 1000 + ((opened + i) % ports) });
    opened += k;
    p.pump();
  }
  // Deliver the last handshakes; then let the handshake's delayed-ACK/quick-ACK timers run out.
  while (p.pump() > 0);
  const openWallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const openCpuSeconds = (cpu.user + cpu.system) / 1e6;
  const openMainThreadCpuSeconds = mainThreadCpuSeconds() - main0;
  const openVirtualSeconds = (p.now - v0) / 1e6;
  let gcUs = 0;
  const gcByType: Record<string, number> = {};
  for (const g of gcProfiler.stop().statistics) {
    gcUs += g.cost;
    gcByType[g.gcType] = (gcByType[g.gcType] ?? 0) + g.cost / 1e6;
  }
  p.runFor(1_000_000);
  let established = 0;
  for (const c of p.a.connections()) if (c.state === 'ESTABLISHED') established++;
  for (const c of p.b.connections()) if (c.state === 'ESTABLISHED') established++;
  if (established !== 2 * n) throw new Error(`bench: ${established} of ${2 * n} TCBs established`);
  const after = heapNow();
  const growth = after - before;
  const idleWithoutTimers = p.a.nextWorkDeadline() === Number.POSITIVE_INFINITY && p.b.nextWorkDeadline() === Number.POSITIVE_INFINITY;
  if (nHeld !== 2 * n || listeners.length !== ports) throw new Error('bench: lost handles');
  const res: ScaleResult = {
    connections: n,
    tcbs: 2 * n,
    serverPorts: ports,
    heapBytesPerTcb: growth / (2 * n),
    heapBytesPerConnectionPair: growth / n,
    openWallSeconds,
    openVirtualSeconds,
    openCpuSeconds,
    openMainThreadCpuSeconds,
    gcShare: gcUs / 1e6 / openWallSeconds,
    gcSecondsByType: gcByType,
    opensPerSecond: n / openWallSeconds,
    idleWithoutTimers,
    projected1M: { openWallSeconds: (openWallSeconds * 1e6) / n, openCpuSeconds: (openCpuSeconds * 1e6) / n, openMainThreadCpuSeconds: (openMainThreadCpuSeconds * 1e6) / n, heapMiB: ((growth / n) * 1e6) / 2 ** 20 },
  };
  // keep everything alive until after the measurement
  if (held[2 * n - 1] === undefined) throw new Error('bench: lost handles');
  return res;
}
