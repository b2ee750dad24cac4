/**
 * `synack netstat`: the connection table, per-state statistics and TCP counters of a source (for
 * now the Linux host, from /proc). Argument parsing and printing only; the work is in src/diag/.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { hostSnapshot } from '../diag/proc.js';
import { formatCounters, formatNetstat, selectRows, stateStats, formatStats, type NetstatOptions } from '../diag/netstat.js';
import type { Snapshot } from '../diag/types.js';
import { runDemo } from './demo.js';
import { readControl } from '../usernet/control.js';
import type { UserNetFlow } from '../usernet/usernet.js';

const USAGE = `usage: synack netstat [-a] [-n] [-l] [-t] [-u] [-p] [-4] [-6] [--port N] [--stats] [--json]
                      [--counters] [--watch SECONDS] [--host] [--proc-root DIR]
       synack netstat --demo SCENARIO --at T [--seed N] [same display options]
       synack netstat --usernet PATH [same display options]

  -a, --all          listening and non-listening sockets
  -l, --listening    only listening sockets
  -n, --numeric      numeric ports (hosts are never resolved)
  -t, --tcp          TCP sockets (the default)
  -u, --udp          UDP sockets (/proc/net/udp{,6}; a synack stack's datagram sockets), with -t both;
                     unconnected ones count as servers (-l, -a), as in netstat -uan
  -p, --programs     PID/Program name of each socket (all of them only as root)
  -4, -6             only IPv4 (tcp) / only IPv6 (tcp6) sockets
      --port N       only sockets whose local or remote port is N
      --stats        count per state and per remote address (netstat -ant | awk ...)
      --counters     TCP counters (/proc/net/snmp Tcp, /proc/net/netstat TcpExt), non-zero ones
      --json         machine-readable output
      --watch S      repeat every S seconds until interrupted (counters: changes and rates)
      --host         read the Linux host (the default, and for now the only source)
      --proc-root D  read D instead of /proc (a copy, or another mount namespace's /proc)
      --demo S       a synack stack instead: run scenario S (synack demo) on virtual time and show
                     every host's stack at virtual time --at T seconds (default: the end of the run)
      --at T         with --demo: the virtual time of the snapshot, in seconds
      --seed N       with --demo: the scenario's PRNG seed (default 1)
      --usernet PATH a running \`synack netns\` instead (its control socket, printed with --ready;
                     default /run/synack/netns-NAME.sock): the guest-side connections, then the
                     relay's flow table (guest → destination → host socket, bytes each way)`;


/** util.parseArgs' messages, shortened to name the argument. */
export function argError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const m = /'([^']+)'/.exec(msg);
    return `unknown option '${m?.[1] ?? msg}'`;
  }
  return msg;
}

function positive(name: string, v: string | undefined, integer: boolean, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    const want = integer ? `an integer 1..${max}` : 'a positive number of seconds';
    throw new UsageError(`${name}: expected ${want}, got '${v}'`);
  }
  return n;
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', short: 'a' },
      listening: { type: 'boolean', short: 'l' },
      numeric: { type: 'boolean', short: 'n' },
      tcp: { type: 'boolean', short: 't' },
      udp: { type: 'boolean', short: 'u' },
      programs: { type: 'boolean', short: 'p' },
      ipv4: { type: 'boolean', short: '4' },
      ipv6: { type: 'boolean', short: '6' },
      port: { type: 'string' },
      stats: { type: 'boolean' },
      counters: { type: 'boolean' },
      json: { type: 'boolean' },
      watch: { type: 'string' },
      host: { type: 'boolean' },
      'proc-root': { type: 'string' },
      demo: { type: 'string' },
      at: { type: 'string' },
      seed: { type: 'string' },
      usernet: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.demo === undefined && (values.at !== undefined || values.seed !== undefined)) throw new UsageError('--at and --seed go with --demo SCENARIO');
  if (values.demo !== undefined && (values.watch !== undefined || values['proc-root'] !== undefined || values.host === true)) {
    throw new UsageError('--demo reads a simulated stack: --watch, --host and --proc-root do not apply');
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.ipv4 === true && values.ipv6 === true) throw new UsageError('-4 and -6 exclude each other (give neither for both)');
  if (values.stats === true && values.counters === true) throw new UsageError('--stats and --counters exclude each other');
  if (values.udp === true && values.stats === true) throw new UsageError('--stats counts TCP states: it does not go with -u');
  const at = values.at === undefined ? undefined : Number(values.at);
  if (at !== undefined && (values.at!.trim() === '' || !(at >= 0) || !Number.isFinite(at))) throw new UsageError(`--at: expected a time >= 0 in seconds, got '${values.at}'`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw new UsageError(`--seed: expected a non-negative integer, got '${values.seed}'`);
  return {
    values,
    at,
    seed,
    port: positive('--port', values.port, true, 65535),
    watch: positive('--watch', values.watch, false),
  };
}

/** `--usernet PATH`: a running user-mode network's stack, then its flow table. */
async function usernetNetstat(a: ReturnType<typeof parse>, path: string): Promise<number> {
  let doc;
  try {
    doc = await readControl(path);
  } catch (e) {
    console.error(`synack netstat: --usernet ${path}: ${(e as Error).message}`);
    return 1;
  }
  if (a.values.json === true && a.values.counters !== true && a.values.stats !== true) {
    console.log(JSON.stringify({ rows: JSON.parse(render(a, doc.snapshot, undefined)) as unknown, flows: doc.flows, stats: doc.stats }));
    return 0;
  }
  console.log(render(a, doc.snapshot, undefined));
  if (a.values.counters === true || a.values.stats === true) return 0;
  console.log(`\nRelayed flows (${doc.flows.length}):`);
  console.log(formatFlows(doc.flows));
  return 0;
}

/** The flow table: one line per relayed connection or UDP flow. */
function formatFlows(flows: UserNetFlow[]): string {
  const head = ['Proto', 'Guest', 'Destination', 'Host socket', 'State', 'Bytes out', 'Bytes in'];
  const rows = flows.map((f) => [f.proto, f.guest, f.dst, f.host, f.proto === 'tcp' ? `${f.state} ${f.guestState}` : f.assured ? 'ASSURED' : 'UNREPLIED', String(f.bytesOut), String(f.bytesIn)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

/** Render one snapshot in the chosen mode; `prev` is the previous snapshot when watching. */
function render(a: ReturnType<typeof parse>, snap: Snapshot, prev: Snapshot | undefined): string {
  const v = a.values;
  const family: 4 | 6 | 0 = v.ipv4 === true ? 4 : v.ipv6 === true ? 6 : 0;
  if (v.counters === true) {
    const seconds = prev === undefined ? undefined : snap.time - prev.time;
    if (v.json === true) {
      const out: Record<string, unknown> = { time: snap.time, counters: snap.counters };
      if (prev !== undefined && seconds !== undefined && seconds > 0) {
        const rates: Record<string, number> = {};
        for (const [k, x] of Object.entries(snap.counters)) {
          const d = x - (prev.counters[k] ?? x);
          if (d !== 0) rates[k] = d / seconds;
        }
        out.rates = rates;
      }
      return JSON.stringify(out);
    }
    const text = formatCounters(snap.counters, prev === undefined ? {} : { previous: prev.counters, seconds: seconds ?? 0 });
    return text === '' ? (prev === undefined ? '(all counters are zero)' : '(no counter changed)') : text;
  }
  if (v.stats === true) {
    // Like `netstat -ant | awk`: every state, unless -l narrows it to listeners.
    const rows = selectRows(snap.rows, { all: v.listening !== true, listening: v.listening === true, family, port: a.port });
    const stats = stateStats(rows);
    return v.json === true ? JSON.stringify(stats) : formatStats(stats);
  }
  const opts: NetstatOptions = {
    all: v.all === true,
    listening: v.listening === true,
    numeric: v.numeric === true,
    processes: v.programs === true,
    family,
  };
  if (a.port !== undefined) opts.port = a.port;
  const udp = snap.udp ?? [];
  const rows = v.udp === true ? (v.tcp === true ? [...snap.rows, ...udp] : udp) : snap.rows;
  return v.json === true ? JSON.stringify(selectRows(rows, opts)) : formatNetstat(rows, opts);
}

export async function main(argv: string[]): Promise<number> {
  let a: ReturnType<typeof parse>;
  try {
    a = parse(argv);
  } catch (e) {
    console.error(`synack netstat: ${argError(e)}\nrun 'synack netstat --help' for the options`);
    return 2;
  }
  if (a.values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (a.values.demo !== undefined) return demoNetstat(a, a.values.demo);
  if (a.values.usernet !== undefined) return usernetNetstat(a, a.values.usernet);
  const wantOwners = a.values.programs === true && a.values.counters !== true;
  const take = (): Snapshot => {
    const o: { owners: boolean; procRoot?: string } = { owners: wantOwners };
    if (a.values['proc-root'] !== undefined) o.procRoot = a.values['proc-root'];
    return hostSnapshot(o);
  };
  if (wantOwners && a.values.json !== true && typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error("(Not all processes could be identified, non-owned process info will not be shown, you would have to be root to see it all.)");
  }

  if (a.watch === undefined) {
    console.log(render(a, take(), undefined));
    return 0;
  }
  let stop = false;
  let wake: (() => void) | undefined;
  const onInt = (): void => {
    stop = true;
    wake?.();
  };
  process.once('SIGINT', onInt);
  try {
    let prev: Snapshot | undefined;
    while (!stop) {
      const snap = take();
      const body = render(a, snap, prev);
      if (a.values.json === true) console.log(body);
      else console.log(`${prev === undefined ? '' : '\n'}# ${new Date(snap.time * 1000).toISOString()}\n${body}`);
      prev = snap;
      if (stop) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, a.watch! * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.removeListener('SIGINT', onInt);
  }
  return 0;
}

/** `--demo SCENARIO --at T`: every host's stack snapshot of a simulated run, rendered as for the host. */
function demoNetstat(a: ReturnType<typeof parse>, scenario: string): number {
  let snaps;
  try {
    const o: Parameters<typeof runDemo>[1] = a.at === undefined ? {} : { snapshotsAt: [a.at] };
    if (a.seed !== undefined) o.seed = a.seed;
    const run = runDemo(scenario, o);
    snaps = a.at === undefined ? undefined : run.snapshots[0];
    if (snaps === undefined) {
      // No --at: the end of the run. Re-run with a snapshot at the final virtual time.
      const end = Number((run.result.summary as { virtualSeconds?: number }).virtualSeconds ?? 0);
      snaps = runDemo(scenario, { ...o, snapshotsAt: [end] }).snapshots[0]!;
    }
  } catch (e) {
    console.error(`synack netstat: ${(e as Error).message}`);
    return 2;
  }
  const out: string[] = [];
  const json: Record<string, unknown> = {};
  for (const [host, snap] of Object.entries(snaps.hosts)) {
    const body = render(a, snap, undefined);
    if (a.values.json === true) json[host] = JSON.parse(body) as unknown;
    else out.push(`${out.length > 0 ? '\n' : ''}# ${host} (synack stack, scenario ${scenario}, t=${snaps.t} s)`, body);
  }
  console.log(a.values.json === true ? JSON.stringify({ scenario, t: snaps.t, hosts: json }) : out.join('\n'));
  return 0;
}
