/**
 * `synack diagnose`: what the connection table and counters of a source (for now the Linux host)
 * say is wrong, in plain words. Exit status 0 when healthy, 1 when something was flagged, 2 for bad
 * arguments. Argument parsing and printing only; the rules are in src/diag/diagnose.ts.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { hostSnapshot } from '../diag/proc.js';
import { DEFAULT_THRESHOLDS, diagnose, formatFindings, type DiagnoseOptions, type Thresholds } from '../diag/diagnose.js';
import type { Snapshot } from '../diag/types.js';
import { argError } from './netstat.js';
import { runDemo } from './demo.js';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const THRESHOLD_FLAGS = Object.keys(DEFAULT_THRESHOLDS).map((k) => ({ key: k as keyof Thresholds, flag: `threshold-${kebab(k)}` }));

const USAGE = [
  'usage: synack diagnose [--port N] [--json] [--interval SECONDS] [--threshold-NAME N ...] [--host] [--proc-root DIR]',
  '       synack diagnose --demo SCENARIO --at T [--host NAME] [--seed N] [--port N] [--json] [--threshold-NAME N ...]',
  '',
  '  --port N          is a service listening on port N? and look only at connections on port N',
  '  --interval S      take two snapshots S seconds apart and use counter rates (ListenOverflows/s, ...)',
  '  --json            print {"healthy": ..., "findings": [...]}',
  '  --host            read the Linux host (the default, and for now the only source)',
  '  --proc-root DIR   read DIR instead of /proc',
  '  --demo S          a synack stack instead: run scenario S on virtual time and diagnose the stacks',
  '  --at T            with --demo: at virtual time T seconds (default: the end of the run)',
  '  --host NAME       with --demo: only host NAME (client, server); default every host',
  '  --interval S      with --demo: the earlier snapshot is taken S virtual seconds before --at',
  '',
  'thresholds (defaults in brackets):',
  ...THRESHOLD_FLAGS.map(({ key, flag }) => `  --${flag.padEnd(26)} [${DEFAULT_THRESHOLDS[key]}]`),
  '',
  'exit status: 0 healthy, 1 something flagged, 2 bad arguments',
].join('\n');


interface Parsed {
  opts: DiagnoseOptions;
  json: boolean;
  interval?: number;
  procRoot?: string;
  help: boolean;
  demo?: { scenario: string; at?: number; host?: string; seed?: number };
}

function parse(argv: string[]): Parsed {
  // With --demo, --host names a simulated host; without, it is the (boolean) Linux host switch.
  const demoMode = argv.some((x) => x === '--demo' || x.startsWith('--demo='));
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    port: { type: 'string' },
    json: { type: 'boolean' },
    interval: { type: 'string' },
    host: { type: demoMode ? 'string' : 'boolean' },
    demo: { type: 'string' },
    at: { type: 'string' },
    seed: { type: 'string' },
    'proc-root': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const { flag } of THRESHOLD_FLAGS) options[flag] = { type: 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const num = (k: string, ok: (n: number) => boolean, want: string): number | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${k}: expected ${want}, got '${v}'`);
    return n;
  };
  const opts: DiagnoseOptions = {};
  const port = num('port', (n) => Number.isInteger(n) && n >= 1 && n <= 65535, 'an integer 1..65535');
  if (port !== undefined) opts.port = port;
  for (const { key, flag } of THRESHOLD_FLAGS) {
    const n = num(flag, (x) => x >= 0, 'a non-negative number');
    if (n !== undefined) opts[key] = n;
  }
  const out: Parsed = { opts, json: values.json === true, help: values.help === true };
  if (!demoMode && (str('at') !== undefined || str('seed') !== undefined)) throw new UsageError('--at and --seed go with --demo SCENARIO');
  if (demoMode) {
    if (str('proc-root') !== undefined) throw new UsageError('--demo reads a simulated stack: --proc-root does not apply');
    const demo: NonNullable<Parsed['demo']> = { scenario: str('demo')! };
    const at = num('at', (n) => n >= 0, 'a time >= 0 in seconds');
    if (at !== undefined) demo.at = at;
    const seed = num('seed', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
    if (seed !== undefined) demo.seed = seed;
    const host = str('host');
    if (host !== undefined) demo.host = host;
    out.demo = demo;
  }
  const interval = num('interval', (n) => n > 0, 'a positive number of seconds');
  if (interval !== undefined) out.interval = interval;
  const procRoot = str('proc-root');
  if (procRoot !== undefined) out.procRoot = procRoot;
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let a: Parsed;
  try {
    a = parse(argv);
  } catch (e) {
    console.error(`synack diagnose: ${argError(e)}\nrun 'synack diagnose --help' for the options`);
    return 2;
  }
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (a.demo !== undefined) return demoDiagnose(a, a.demo);
  const take = (): Snapshot => hostSnapshot(a.procRoot === undefined ? { owners: true } : { owners: true, procRoot: a.procRoot });
  let previous: Snapshot | undefined;
  if (a.interval !== undefined) {
    previous = take();
    // At least the interval asked for between the two snapshots' clocks (a timer may fire a
    // millisecond early against Date.now()); the elapsed time is printed from whole milliseconds
    // (seconds as Date.now() / 1000 subtract to 0.04999... for 50 ms).
    const until = (previous.time + a.interval) * 1000;
    while (Date.now() < until) await new Promise((r) => setTimeout(r, Math.max(1, until - Date.now())));
  }
  const snap = take();
  const findings = diagnose(snap, previous === undefined ? a.opts : { ...a.opts, previous });
  if (a.json) console.log(JSON.stringify({ healthy: findings.length === 0, findings }));
  else {
    console.log(`TCP sockets: ${snap.rows.length}` +
      (a.opts.port === undefined ? '' : `; looking at port ${a.opts.port}`) +
      (previous === undefined ? '' : `, counters over ${(Math.round((snap.time - previous.time) * 1000) / 1000).toFixed(1)} s`));
    console.log(formatFindings(findings));
  }
  return findings.length === 0 ? 0 : 1;
}

/** `--demo SCENARIO --at T [--host NAME]`: diagnose the stacks of a simulated run. */
function demoDiagnose(a: Parsed, d: NonNullable<Parsed['demo']>): number {
  let now: Record<string, Snapshot>;
  let before: Record<string, Snapshot> | undefined;
  let at: number;
  try {
    const seedOpt = d.seed === undefined ? {} : { seed: d.seed };
    at = d.at ?? Number((runDemo(d.scenario, seedOpt).result.summary as { virtualSeconds?: number }).virtualSeconds ?? 0);
    const times = a.interval === undefined ? [at] : [Math.max(0, at - a.interval), at];
    const run = runDemo(d.scenario, { ...seedOpt, snapshotsAt: times });
    now = run.snapshots[run.snapshots.length - 1]!.hosts;
    if (a.interval !== undefined) before = run.snapshots[0]!.hosts;
    if (d.host !== undefined && now[d.host] === undefined) throw new RangeError(`scenario '${d.scenario}' has no host '${d.host}' (hosts: ${Object.keys(now).join(', ')})`);
  } catch (e) {
    console.error(`synack diagnose: ${(e as Error).message}`);
    return 2;
  }
  const hosts = d.host === undefined ? Object.keys(now) : [d.host];
  const report: Record<string, unknown> = {};
  const text: string[] = [];
  let flagged = false;
  for (const h of hosts) {
    const snap = now[h]!;
    const prev = before?.[h];
    const findings = diagnose(snap, prev === undefined ? a.opts : { ...a.opts, previous: prev });
    if (findings.length > 0) flagged = true;
    report[h] = { healthy: findings.length === 0, findings };
    if (text.length > 0) text.push('');
    text.push(`# ${h} (synack stack, scenario ${d.scenario}, t=${at} s): TCP sockets: ${snap.rows.length}` + (a.opts.port === undefined ? '' : `; looking at port ${a.opts.port}`));
    text.push(formatFindings(findings));
  }
  console.log(a.json ? JSON.stringify({ scenario: d.scenario, t: at, healthy: !flagged, hosts: report }) : text.join('\n'));
  return flagged ? 1 : 0;
}
