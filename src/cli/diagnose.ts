/**
 * `synack diagnose`: what the connection table and counters of a source (for now the Linux host)
 * say is wrong, in plain words. Exit status 0 when healthy, 1 when something was flagged, 2 for bad
 * arguments. Argument parsing and printing only; the rules are in src/diag/diagnose.ts.
 */
import { parseArgs } from 'node:util';
import { hostSnapshot } from '../diag/proc.js';
import { DEFAULT_THRESHOLDS, diagnose, formatFindings, type DiagnoseOptions, type Thresholds } from '../diag/diagnose.js';
import type { Snapshot } from '../diag/types.js';
import { argError } from './netstat.js';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const THRESHOLD_FLAGS = Object.keys(DEFAULT_THRESHOLDS).map((k) => ({ key: k as keyof Thresholds, flag: `threshold-${kebab(k)}` }));

const USAGE = [
  'usage: synack diagnose [--port N] [--json] [--interval SECONDS] [--threshold-NAME N ...] [--host] [--proc-root DIR]',
  '',
  '  --port N          is a service listening on port N? and look only at connections on port N',
  '  --interval S      take two snapshots S seconds apart and use counter rates (ListenOverflows/s, ...)',
  '  --json            print {"healthy": ..., "findings": [...]}',
  '  --host            read the Linux host (the default, and for now the only source)',
  '  --proc-root DIR   read DIR instead of /proc',
  '',
  'thresholds (defaults in brackets):',
  ...THRESHOLD_FLAGS.map(({ key, flag }) => `  --${flag.padEnd(26)} [${DEFAULT_THRESHOLDS[key]}]`),
  '',
  'exit status: 0 healthy, 1 something flagged, 2 bad arguments',
].join('\n');

class UsageError extends Error {}

function parse(argv: string[]): { opts: DiagnoseOptions; json: boolean; interval?: number; procRoot?: string; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    port: { type: 'string' },
    json: { type: 'boolean' },
    interval: { type: 'string' },
    host: { type: 'boolean' },
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
  const out: ReturnType<typeof parse> = { opts, json: values.json === true, help: values.help === true };
  const interval = num('interval', (n) => n > 0, 'a positive number of seconds');
  if (interval !== undefined) out.interval = interval;
  const procRoot = str('proc-root');
  if (procRoot !== undefined) out.procRoot = procRoot;
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let a: ReturnType<typeof parse>;
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
  const take = (): Snapshot => hostSnapshot(a.procRoot === undefined ? { owners: true } : { owners: true, procRoot: a.procRoot });
  let previous: Snapshot | undefined;
  if (a.interval !== undefined) {
    previous = take();
    await new Promise((r) => setTimeout(r, a.interval! * 1000));
  }
  const snap = take();
  const findings = diagnose(snap, previous === undefined ? a.opts : { ...a.opts, previous });
  if (a.json) console.log(JSON.stringify({ healthy: findings.length === 0, findings }));
  else {
    console.log(`TCP sockets: ${snap.rows.length}` +
      (a.opts.port === undefined ? '' : `; looking at port ${a.opts.port}`) +
      (previous === undefined ? '' : `, counters over ${Math.round((snap.time - previous.time) * 10) / 10} s`));
    console.log(formatFindings(findings));
  }
  return findings.length === 0 ? 0 : 1;
}
