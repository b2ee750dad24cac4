/**
 * `npm run bench -- --only usernet` (root, ip netns): guest↔host TCP throughput through user-mode
 * networking, synack beside slirp4netns and pasta measured in the same run, both directions, at
 * MTU 1500 and 65520. Each backend in turn serves `tap0` of a fresh namespace; it runs as its own
 * process (as slirp4netns and pasta do), and so do the host's server (node:net on 127.0.0.1) and
 * the guest's client (node:net in the namespace), which reaches the host through the gateway
 * 10.0.2.2 (the host's loopback in all three).
 *
 *   node dist/bench/usernet.js [--json] [--seconds S] [--rounds N] [--mtu 1500,65520] [--backends synack,slirp4netns,pasta]
 *
 * Rounds: the backends take turns (round 1: each backend at each MTU, then round 2 …) and each
 * figure is the median of its rounds, so a burst of other load on the machine lands on one
 * sample of each backend rather than on all samples of one. A backend that fails at an MTU is
 * not tried again there (pasta's stalled uploads would cost their timeout every round).
 *
 * Upload: the guest writes for S seconds, half-closes, and the host answers with the byte count
 * once it has read everything; download: the host writes for S seconds and closes. The rate is the
 * bytes over the time from connect to that answer (or to the end of the data).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Netns, netnsUnavailableReason } from '../src/tun/netns.js';

export const BACKENDS = ['synack', 'slirp4netns', 'pasta'] as const;
export type Backend = (typeof BACKENDS)[number];

const GATEWAY = '10.0.2.2';

/**
 * The host's side: 'U' + ms → read up to the end marker 'E' (the data is all 'b'), answer the
 * count; 'D' + ms → write for ms, then end. The upload ends with a marker, not a half-close:
 * Debian 12's pasta does not pass the server's answer back after the guest's FIN.
 */
const SERVER_JS = String.raw`
const net = require('node:net');
const chunk = Buffer.alloc(256 * 1024, 0x61);
const srv = net.createServer((c) => {
  let head = null, bytes = 0;
  c.on('error', () => {});
  c.on('data', (d) => {
    if (head === null) { head = Buffer.from(d.subarray(0, 5)); bytes -= 5; if (head[0] === 68) return download(c, head.readUInt32BE(1)); }
    bytes += d.length;
    if (head[0] === 85 && d[d.length - 1] === 69) c.end(JSON.stringify({ bytes: bytes - 1 }));
  });
});
function download(c, ms) {
  const end = Date.now() + ms;
  const pump = () => {
    while (Date.now() < end) if (!c.write(chunk)) return c.once('drain', pump);
    c.end();
  };
  pump();
}
srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\n'));
`;

/** The guest's side: argv host port U|D ms → one JSON line { bytes, seconds }. */
const CLIENT_JS = String.raw`
const net = require('node:net');
const [host, port, dir, ms] = process.argv.slice(2);
const chunk = Buffer.alloc(256 * 1024, 0x62);
const head = Buffer.alloc(5); head[0] = dir.charCodeAt(0); head.writeUInt32BE(Number(ms), 1);
const t0 = performance.now();
const c = net.connect(Number(port), host, () => {
  c.write(head);
  if (dir === 'U') {
    let sent = 0; const end = Date.now() + Number(ms);
    const pump = () => {
      while (Date.now() < end) { sent += chunk.length; if (!c.write(chunk)) return c.once('drain', pump); }
      c.write('E');
    };
    pump();
    let reply = '';
    c.on('data', (d) => { reply += d; });
    c.on('end', () => {
      c.end();
      const { bytes } = JSON.parse(reply);
      if (bytes !== sent) { console.error('host read ' + bytes + ' of ' + sent + ' bytes'); process.exit(1); }
      console.log(JSON.stringify({ bytes, seconds: (performance.now() - t0) / 1000 }));
    });
  } else {
    let bytes = 0;
    c.on('data', (d) => { bytes += d.length; });
    c.on('end', () => { console.log(JSON.stringify({ bytes, seconds: (performance.now() - t0) / 1000 })); c.end(); });
  }
});
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

/** Why the bench cannot run here, or null. */
export function usernetBenchUnavailable(): string | null {
  return netnsUnavailableReason();
}

function missingTool(b: Backend): string | null {
  if (b === 'synack') return null;
  return spawnSync('sh', ['-c', `command -v ${b}`]).status === 0 ? null : `${b} is not installed (apt-get install -y ${b === 'pasta' ? 'passt' : b})`;
}

/** The command that serves tap0 of `ns` with MTU `mtu` (the guest configured, gateway 10.0.2.2 = host loopback). */
function backendCommand(b: Backend, ns: Netns, mtu: number): [string, string[]] {
  switch (b) {
    case 'slirp4netns':
      // Guest 10.0.2.100, gateway 10.0.2.2 (the host's loopback unless --disable-host-loopback).
      return ['slirp4netns', ['--configure', `--mtu=${mtu}`, '--netns-type=path', ns.path, 'tap0']];
    case 'pasta':
      // --config-net with slirp's addresses; the gateway maps to the host (no --no-map-gw); no port
      // forwarding. As root pasta drops to nobody, which may not enter the namespace: --runas 0.
      return ['pasta', ['-f', '-q', '--runas', '0', '--config-net', '-I', 'tap0', '-m', String(mtu), '-a', '10.0.2.15', '-n', '24', '-g', GATEWAY,
        '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--netns', ns.path]];
    case 'synack':
      return [process.execPath, [fileURLToPath(new URL('../src/cli/main.js', import.meta.url)), 'netns', '--netns', ns.name, '--configure', '--mtu', String(mtu)]];
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Wait until tap0 in `ns` has an IPv4 address and a default route (the backend is up). */
async function waitConfigured(ns: Netns, child: ChildProcess, stderr: () => string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr().trim().split('\n').slice(-2).join(' ')}`);
    try {
      if (/inet /.test(ns.ip('-4', 'addr', 'show', 'tap0')) && /default/.test(ns.ip('-4', 'route'))) return;
    } catch {
      /* tap0 not there yet */
    }
    if (Date.now() > end) throw new Error(`tap0 not configured after 15 s: ${stderr().trim()}`);
    await sleep(50);
  }
}

export interface UsernetRun {
  backend: Backend;
  mtu: number;
  /** Guest → host (Mbit/s): the median of the rounds. */
  upMbitPerSec?: number;
  /** Host → guest (Mbit/s): the median of the rounds. */
  downMbitPerSec?: number;
  /** Each round's figures, in order. */
  upSamples?: number[];
  downSamples?: number[];
  skipped?: string;
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 === 1 ? a[m]! : Math.round(((a[m - 1]! + a[m]!) / 2) * 100) / 100;
}

async function measure(ns: Netns, clientPath: string, port: number, dir: 'U' | 'D', ms: number): Promise<number> {
  const r = await ns.run(process.execPath, [clientPath, GATEWAY, String(port), dir, String(ms)], { timeout: ms + 10_000 });
  if (r.signal === 'SIGKILL') throw new Error(`the ${dir === 'U' ? 'upload' : 'download'} stalled (no end after ${ms / 1000 + 10} s)`);
  if (r.code !== 0) throw new Error(`client (${dir}) failed: ${r.stderr.trim() || r.signal}`);
  const { bytes, seconds } = JSON.parse(r.stdout.toString()) as { bytes: number; seconds: number };
  return Math.round((bytes * 8) / seconds / 1e4) / 100;
}

/** One round of one backend at one MTU. */
async function runOne(b: Backend, mtu: number, ms: number, clientPath: string, port: number): Promise<UsernetRun> {
  const missing = missingTool(b);
  if (missing !== null) return { backend: b, mtu, skipped: missing };
  const ns = Netns.create();
  const [cmd, args] = backendCommand(b, ns, mtu);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  try {
    await waitConfigured(ns, child, () => err);
    // pasta's -m only advertises the MTU (DHCP/NDP): set the link's own, the same way for all.
    ns.ip('link', 'set', 'tap0', 'mtu', String(mtu));
    const upMbitPerSec = await measure(ns, clientPath, port, 'U', ms);
    const downMbitPerSec = await measure(ns, clientPath, port, 'D', ms);
    return { backend: b, mtu, upMbitPerSec, downMbitPerSec };
  } catch (e) {
    return { backend: b, mtu, skipped: `${b}: ${(e as Error).message}` };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    ns.delete();
  }
}

export interface UsernetBench {
  seconds: number;
  rounds: number;
  runs: UsernetRun[];
  /** synack's rate over slirp4netns's and pasta's, per MTU and direction (≥ 1 is the goal against slirp4netns). */
  ratios: Record<string, number>;
}

export async function usernetBench(o: { seconds: number; rounds?: number; mtus: number[]; backends: Backend[] }): Promise<UsernetBench> {
  const rounds = o.rounds ?? 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${String(o.rounds)}`);
  const dir = mkdtempSync(join(tmpdir(), 'synack-usernet-bench-'));
  const serverPath = join(dir, 'server.cjs');
  const clientPath = join(dir, 'client.cjs');
  writeFileSync(serverPath, SERVER_JS);
  writeFileSync(clientPath, CLIENT_JS);
  const server = spawn(process.execPath, [serverPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      server.once('exit', (c) => reject(new Error(`host server exited with ${c}`)));
    });
    const runs: UsernetRun[] = [];
    for (const mtu of o.mtus) for (const b of o.backends) runs.push({ backend: b, mtu, upSamples: [], downSamples: [] });
    for (let round = 0; round < rounds; round++) {
      for (const run of runs) {
        if (run.skipped !== undefined) continue;
        const r = await runOne(run.backend, run.mtu, o.seconds * 1000, clientPath, port);
        if (r.skipped !== undefined) run.skipped = r.skipped;
        else {
          run.upSamples!.push(r.upMbitPerSec!);
          run.downSamples!.push(r.downMbitPerSec!);
        }
      }
    }
    for (const run of runs) {
      if (run.skipped !== undefined) continue;
      run.upMbitPerSec = median(run.upSamples!);
      run.downMbitPerSec = median(run.downSamples!);
    }
    const ratios: Record<string, number> = {};
    for (const mtu of o.mtus) {
      const s = runs.find((r) => r.backend === 'synack' && r.mtu === mtu);
      for (const other of ['slirp4netns', 'pasta'] as const) {
        const x = runs.find((r) => r.backend === other && r.mtu === mtu);
        if (s?.upMbitPerSec && x?.upMbitPerSec) ratios[`up${mtu}Vs${other}`] = Math.round((s.upMbitPerSec / x.upMbitPerSec) * 100) / 100;
        if (s?.downMbitPerSec && x?.downMbitPerSec) ratios[`down${mtu}Vs${other}`] = Math.round((s.downMbitPerSec / x.downMbitPerSec) * 100) / 100;
      }
    }
    return { seconds: o.seconds, rounds, runs, ratios };
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows for bench/index.ts's table. */
export function usernetRows(r: UsernetBench): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const run of r.runs) {
    const name = `usernet ${run.backend}, MTU ${run.mtu}`;
    if (run.skipped !== undefined) rows.push([name, 'skipped', run.skipped]);
    else rows.push([name, `${run.upMbitPerSec} / ${run.downMbitPerSec}`, `Mbit/s guest->host / host->guest, median of ${run.upSamples!.length}`]);
  }
  for (const [k, v] of Object.entries(r.ratios)) rows.push([`  synack ${k}`, `${v.toFixed(2)} x`, k.includes('slirp') ? '>= 1' : '']);
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, seconds: { type: 'string' }, rounds: { type: 'string' }, mtu: { type: 'string' }, backends: { type: 'string' } } });
  const why = usernetBenchUnavailable();
  if (why !== null) {
    console.log(values.json ? JSON.stringify({ skipped: why }) : `skipped: ${why}`);
    return;
  }
  const seconds = Number(values.seconds ?? 2);
  if (!(seconds > 0)) throw new RangeError(`--seconds must be positive, got '${values.seconds}'`);
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got '${values.rounds}'`);
  const mtus = (values.mtu ?? '1500,65520').split(',').map(Number);
  for (const m of mtus) if (!Number.isInteger(m) || m < 1280 || m > 65520) throw new RangeError(`--mtu: ${m} is not in 1280..65520`);
  const backends = (values.backends ?? BACKENDS.join(',')).split(',') as Backend[];
  for (const b of backends) if (!BACKENDS.includes(b)) throw new RangeError(`--backends: unknown '${b}' (${BACKENDS.join(', ')})`);
  const r = await usernetBench({ seconds, rounds, mtus, backends });
  if (values.json) console.log(JSON.stringify(r));
  else for (const [a, b, c] of usernetRows(r)) console.log(`${a.padEnd(38)} ${b.padStart(20)}   ${c}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exitCode = 1;
  });
}
