import { parseArgs } from 'node:util';
import { SCENARIOS, runScenario } from '../demo/scenarios.js';
import { parseSize, renderTransferSummary, runTransfer, type TransferOptions } from '../demo/transfer.js';
import type { DemoResult } from '../demo/events.js';
import type { SimWorld } from '../driver/world.js';
import { formatNetstat, formatStats, stateStats } from '../diag/netstat.js';
import type { Snapshot } from '../diag/types.js';
import { pcapFile } from '../link/pcap-file.js';
import { sec, type Instant } from '../time.js';
import { congestionControlName, congestionControlNames } from '../tcp/congestion/registry.js';
import { renderLadder } from '../viz/ladder.js';

const HELP = `usage: synack demo [SCENARIO] [options]

Runs a TCP scenario on the simulated network (virtual time, no root) and prints its ladder diagram.
With no scenario, lists them.

options:
  --seed N          PRNG seed (default 1); the same seed gives the same run, byte for byte
  --json            print the run as one JSON object instead of the ladder
  --loss P          loss probability on the client-server link, 0..1 (default 0)
  --delay MS        one-way delay in milliseconds (default 10)
  --absolute        ladder with absolute sequence numbers
  --ascii           ladder with ASCII arrows only
  --pcap FILE       write every frame sent during the run to FILE (pcap, raw IP, virtual timestamps),
                    as tcpdump on the sending host would see it: frames the network then loses are
                    in it too. Read it back with 'synack read FILE', tshark or Wireshark.
  --netstat-at T    after the ladder, print both hosts' connection tables at virtual time T seconds
                    (repeatable); with --json, adds "netstat": [{t, host, rows}] to the object
  --stats           with --netstat-at: per-state statistics instead of the table

bulk transfer (synack demo transfer --bytes N ...): streams N deterministic bytes client → server
and prints a summary (SHA-256 of both ends, virtual duration, goodput, retransmissions) instead
of the ladder. Impairments apply to both directions.
  --bytes N         bytes to send: 64k, 10M, 1G, 1.5MiB ... (k/M/G = 1000^n, Ki/Mi/Gi = 1024^n)
  --jitter MS       extra uniform delay 0..MS per frame (default 0)
  --reorder P       probability a frame is held back so later ones overtake it (default 0)
  --dup P           probability a frame is delivered twice (default 0)
  --corrupt P       probability one bit of a frame is flipped (default 0)
  --bandwidth MBIT  bottleneck rate each way in Mbit/s (default 0 = unlimited)
  --mtu N           link and path MTU (default 1500)
  --cc NAME         congestion control: cubic (default), reno (or newreno)`;

/** Flags that only the bulk transfer takes; any of them on 'transfer' selects it. */
const TRANSFER_ONLY = ['bytes', 'jitter', 'reorder', 'dup', 'corrupt', 'bandwidth', 'mtu', 'cc'] as const;

/** Snapshots of every host's stack at the given virtual times (seconds). */
export interface DemoSnapshots {
  t: number;
  hosts: Record<string, Snapshot>;
}

export interface DemoRunOptions {
  seed?: number;
  loss?: number;
  delayMs?: number;
  /** Virtual times (seconds) at which to snapshot every host's stack. */
  snapshotsAt?: number[];
  /** Write every frame to this pcap file. */
  pcap?: string;
}

/** Run a scenario with the CLI's observers attached: pcap capture and stack snapshots. */
export function runDemo(name: string, o: DemoRunOptions = {}): { result: DemoResult; snapshots: DemoSnapshots[] } {
  for (const t of o.snapshotsAt ?? []) {
    if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`--netstat-at / --at must be a time >= 0 in seconds, got ${t}`);
  }
  const snapshots: DemoSnapshots[] = [];
  let cap: ReturnType<typeof pcapFile> | undefined;
  const onWorld = (w: SimWorld): void => {
    if (o.pcap !== undefined) {
      const c = pcapFile(o.pcap);
      cap = c;
      w.onFrame((ev) => c.writer.write(ev.t, ev.frame));
    }
    for (const t of [...(o.snapshotsAt ?? [])].sort((a, b) => a - b)) {
      w.at(sec(t) as Instant, () => {
        const hosts: Record<string, Snapshot> = {};
        for (const [h, st] of w.hosts) hosts[h] = st.snapshot();
        snapshots.push({ t, hosts });
      });
    }
  };
  try {
    const opts: Parameters<typeof runScenario>[1] = { onWorld };
    if (o.seed !== undefined) opts.seed = o.seed;
    if (o.loss !== undefined) opts.loss = o.loss;
    if (o.delayMs !== undefined) opts.delayMs = o.delayMs;
    return { result: runScenario(name, opts), snapshots };
  } finally {
    cap?.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: 'string' },
        json: { type: 'boolean' },
        loss: { type: 'string' },
        delay: { type: 'string' },
        absolute: { type: 'boolean' },
        ascii: { type: 'boolean' },
        pcap: { type: 'string' },
        'netstat-at': { type: 'string', multiple: true },
        stats: { type: 'boolean' },
        bytes: { type: 'string' },
        jitter: { type: 'string' },
        reorder: { type: 'string' },
        dup: { type: 'string' },
        corrupt: { type: 'string' },
        bandwidth: { type: 'string' },
        mtu: { type: 'string' },
        cc: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const name = positionals[0];
  if (name === undefined) {
    console.log('scenarios (run: synack demo NAME):');
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(19)} ${s.line}`);
    return 0;
  }
  const toNum = (k: string, v: unknown): number => {
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new RangeError(`--${k} must be a number, got '${String(v)}'`);
    return n;
  };
  const num = (k: string, def: number): number => (values[k] === undefined ? def : toNum(k, values[k]));
  const bulkFlag = TRANSFER_ONLY.find((k) => values[k] !== undefined);
  if (bulkFlag !== undefined) {
    if (name !== 'transfer') {
      console.error(`synack demo: --${bulkFlag} applies only to 'synack demo transfer'`);
      return 2;
    }
    return bulkTransfer(values, num);
  }
  let res: DemoResult;
  let snaps: DemoSnapshots[];
  try {
    const seed = num('seed', 1);
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got '${String(values.seed)}'`);
    const at = ((values['netstat-at'] as string[] | undefined) ?? []).map((v) => toNum('netstat-at', v));
    if (values.stats === true && at.length === 0) throw new RangeError('--stats needs --netstat-at T');
    const o: DemoRunOptions = { seed, loss: num('loss', 0), delayMs: num('delay', 10), snapshotsAt: at };
    if (typeof values.pcap === 'string') o.pcap = values.pcap;
    ({ result: res, snapshots: snaps } = runDemo(name, o));
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  if (values.json) {
    const out: Record<string, unknown> = { ...res };
    if (snaps.length > 0) {
      out.netstat = snaps.flatMap((s) => Object.entries(s.hosts).map(([host, snap]) => (
        values.stats === true ? { t: s.t, host, stats: stateStats(snap.rows) } : { t: s.t, host, rows: snap.rows })));
    }
    console.log(JSON.stringify(out));
    return 0;
  }
  const text = [renderLadder(res, { absolute: values.absolute === true, ascii: values.ascii === true })];
  for (const s of snaps) {
    for (const [host, snap] of Object.entries(s.hosts)) {
      text.push('', `netstat at t=${s.t} s on ${host} (${res.hosts[host] ?? '?'})${values.stats === true ? ' --stats' : ''}:`);
      text.push(values.stats === true ? formatStats(stateStats(snap.rows)) : formatNetstat(snap.rows, { all: true, numeric: true }));
    }
  }
  console.log(text.join('\n'));
  return 0;
}

/** `synack demo transfer --bytes N ...`: the streamed bulk transfer (src/demo/transfer.ts). */
function bulkTransfer(values: Record<string, unknown>, num: (k: string, def: number) => number): number {
  let opts: TransferOptions;
  try {
    const seed = num('seed', 1);
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got '${String(values.seed)}'`);
    const prob = (k: string): number => {
      const p = num(k, 0);
      if (!(p >= 0 && p <= 1)) throw new RangeError(`--${k} must be a probability between 0 and 1, got '${String(values[k])}'`);
      return p;
    };
    const nonneg = (k: string, def: number): number => {
      const v = num(k, def);
      if (!(v >= 0)) throw new RangeError(`--${k} must be >= 0, got '${String(values[k])}'`);
      return v;
    };
    const cc = String(values.cc ?? 'cubic');
    if (congestionControlName(cc) === null) throw new RangeError(`--cc must be one of ${congestionControlNames().join(', ')}, got '${String(cc)}'`);
    const mtu = num('mtu', 1500);
    if (!Number.isInteger(mtu) || mtu < 128 || mtu > 65535) throw new RangeError(`--mtu must be an integer 128..65535, got '${String(values.mtu)}'`);
    for (const k of ['pcap', 'netstat-at', 'stats', 'absolute', 'ascii']) {
      if (values[k] !== undefined) throw new RangeError(`--${k} is not available with the bulk transfer (--bytes ...)`);
    }
    opts = {
      bytes: values.bytes === undefined ? 20_000 : parseSize(String(values.bytes)),
      seed, loss: prob('loss'), delayMs: nonneg('delay', 10), jitterMs: nonneg('jitter', 0), reorder: prob('reorder'),
      duplicate: prob('dup'), corrupt: prob('corrupt'), bandwidthMbit: nonneg('bandwidth', 0), mtu, cc,
    };
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  const tty = process.stderr.isTTY === true;
  if (tty) {
    opts.onProgress = (p) => {
      const pct = p.bytes > 0 ? ((100 * p.received) / p.bytes).toFixed(1) : '100.0';
      process.stderr.write(`\r${pct.padStart(5)} %  ${p.received} of ${p.bytes} bytes  virtual ${p.virtualSeconds.toFixed(1)} s  wall ${p.wallSeconds.toFixed(1)} s   `);
    };
  }
  const r = runTransfer(opts);
  if (tty) process.stderr.write('\r\x1b[K');
  console.log(values.json === true ? JSON.stringify(r) : renderTransferSummary(r));
  return r.intact ? 0 : 1;
}
