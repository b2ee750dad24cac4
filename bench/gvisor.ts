/**
 * `npm run bench -- --only gvisor`: synack beside gVisor's netstack doing the same work, in
 * interleaved rounds (synack, gVisor, synack, gVisor, ...: a load change on a shared machine
 * hits both), medians and the ratio of the medians.
 *
 * The gVisor side is bench/gvisor/main.go, a small program of ours built here with Debian's Go
 * (golang-go) against Debian's netstack sources (golang-gvisor-gvisor-dev, GOPATH mode, no
 * network): two stacks joined in-process by link/pipe, the work of synack's throughput1500 (one
 * connection, 256 KiB writes, 4 MiB buffers, every checksum computed and verified) and cps (open,
 * 1 byte each way, close, in batches of 1,000). Without those packages the part is skipped with
 * the reason. The binary is cached in the temporary directory, keyed by the source and the
 * toolchain, so only the first run pays the build (~10 s).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synackCps } from './cps.js';
import { synackThroughput } from './throughput.js';

/** Where Debian's golang-gvisor-gvisor-dev puts the netstack sources (a GOPATH root). */
const GOPATH = '/usr/share/gocode';
const NETSTACK = join(GOPATH, 'src/gvisor.dev/gvisor/pkg/tcpip/adapters/gonet');

export interface GvisorComparison {
  rounds: number;
  gvisorVersion: string;
  goVersion: string;
  gomaxprocs: number;
  buildSeconds: number;
  synackThroughput1500Gbps: number[];
  gvisorThroughput1500Gbps: number[];
  synackCps: number[];
  gvisorCps: number[];
  /** Medians, and synack's over gVisor's. */
  synackThroughput1500GbpsMedian: number;
  gvisorThroughput1500GbpsMedian: number;
  throughput1500VsGvisor: number;
  synackCpsMedian: number;
  gvisorCpsMedian: number;
  cpsVsGvisor: number;
}

/** Why the comparison cannot run here (null: it can). */
export function gvisorUnavailableReason(): string | null {
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) return 'no Go toolchain (apt-get install golang-go golang-gvisor-gvisor-dev)';
  if (!existsSync(NETSTACK)) return `gVisor's netstack sources are not installed (${NETSTACK} is missing: apt-get install golang-gvisor-gvisor-dev)`;
  return null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Build bench/gvisor/main.go (or reuse the cached binary); returns its path and the build time. */
function build(): { bin: string; seconds: number; gvisorVersion: string; goVersion: string } {
  const src = fileURLToPath(new URL('../../bench/gvisor/main.go', import.meta.url));
  if (!existsSync(src)) throw new Error(`bench: ${src} is missing`);
  const goVersion = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim();
  const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'golang-gvisor-gvisor-dev'], { encoding: 'utf8' });
  const gvisorVersion = dpkg.status === 0 ? dpkg.stdout.trim() : 'unknown';
  const key = createHash('sha256').update(readFileSync(src)).update(goVersion).update(gvisorVersion).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'synack-gvisor-bench');
  const bin = join(dir, `gvisor-bench-${key}`);
  if (existsSync(bin)) return { bin, seconds: 0, gvisorVersion, goVersion };
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const tmp = `${bin}.${process.pid}`;
  const r = spawnSync('go', ['build', '-o', tmp, '-ldflags', `-X main.gvisorVersion=${gvisorVersion}`, src], {
    encoding: 'utf8',
    // GOPATH mode: the Debian package is a GOPATH tree; nothing is downloaded.
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'gocache'), GOFLAGS: '', CGO_ENABLED: '0' },
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`bench: building the gVisor program failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
  renameSync(tmp, bin);
  return { bin, seconds: (performance.now() - t0) / 1000, gvisorVersion, goVersion };
}

function runGvisor(bin: string, args: string[]): Record<string, number> {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`bench: ${bin} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

/** `rounds` interleaved rounds of both figures on both stacks, each measured for `ms` after `warmMs`. */
export function gvisorComparison(opts: { rounds: number; warmMs: number; ms: number }): GvisorComparison {
  const b = build();
  const t = { synack: [] as number[], gvisor: [] as number[] };
  const c = { synack: [] as number[], gvisor: [] as number[] };
  let gomaxprocs = 0;
  const timing = ['-warm-ms', String(opts.warmMs), '-ms', String(opts.ms)];
  for (let i = 0; i < opts.rounds; i++) {
    t.synack.push(synackThroughput({ mtu: 1500, checksumOffload: false, warmMs: opts.warmMs, ms: opts.ms }).gbps);
    const g = runGvisor(b.bin, ['throughput', '-mtu', '1500', ...timing]);
    t.gvisor.push(g.gbps!);
    gomaxprocs = g.gomaxprocs!;
    c.synack.push(synackCps({ warmMs: opts.warmMs, ms: opts.ms, batch: 1000 }).cps);
    c.gvisor.push(runGvisor(b.bin, ['cps', '-batch', '1000', ...timing]).cps!);
  }
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    rounds: opts.rounds,
    gvisorVersion: b.gvisorVersion,
    goVersion: b.goVersion,
    gomaxprocs,
    buildSeconds: r2(b.seconds),
    synackThroughput1500Gbps: t.synack.map(r2),
    gvisorThroughput1500Gbps: t.gvisor.map(r2),
    synackCps: c.synack.map(Math.round),
    gvisorCps: c.gvisor.map(Math.round),
    synackThroughput1500GbpsMedian: r2(median(t.synack)),
    gvisorThroughput1500GbpsMedian: r2(median(t.gvisor)),
    throughput1500VsGvisor: r2(median(t.synack) / median(t.gvisor)),
    synackCpsMedian: Math.round(median(c.synack)),
    gvisorCpsMedian: Math.round(median(c.gvisor)),
    cpsVsGvisor: r2(median(c.synack) / median(c.gvisor)),
  };
}
