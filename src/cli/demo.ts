import { parseArgs } from 'node:util';
import { SCENARIOS, runScenario } from '../demo/scenarios.js';
import type { DemoResult } from '../demo/events.js';
import type { SimWorld } from '../driver/world.js';
import { formatNetstat, formatStats, stateStats } from '../diag/netstat.js';
import type { Snapshot } from '../diag/types.js';
import { pcapFile } from '../link/pcap.js';
import { sec, type Instant } from '../time.js';
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
  --stats           with --netstat-at: per-state statistics instead of the table`;

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
