/**
 * `npm run bench:compare -- --ref REF`: this build's `npm run bench` figures against an earlier
 * commit's, measured in the same run (what "within 5 % of before" means in the issues).
 *
 *   node dist/bench/compare.js --ref REF [--rounds N] [--only a,b,...] [--keep]
 *
 * REF is built once in a worktree under the system's temp directory (git worktree, this
 * checkout's node_modules, tsc), then both builds run `node --expose-gc dist/bench/index.js
 * --json --only …` in turn, N rounds (default 8), the order alternating so a change of machine
 * load falls on both alike. Each figure is printed with both medians, the ratio of the medians and
 * the median of the per-round ratios, and every run. One process per run, as `npm run bench`.
 *
 * On a shared machine single runs vary by ±25 % (connections/s most): trust medians of 8 rounds or
 * more, on an idle machine. --keep leaves the worktree for the next comparison (it is reused).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A worktree of `commit` with this checkout's node_modules, built; reused when present. */
function buildRef(commit: string): string {
  const dir = join(tmpdir(), `synack-compare-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, '.git'))) run('git', ['worktree', 'add', '--detach', dir, commit], ROOT);
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (!existsSync(join(dir, 'dist', 'bench', 'index.js'))) run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
  return dir;
}

function figures(dir: string, only: string): Record<string, number> {
  const out = run(process.execPath, ['--expose-gc', join(dir, 'dist', 'bench', 'index.js'), '--json', '--only', only], dir);
  const j = JSON.parse(out) as Record<string, unknown>;
  const r: Record<string, number> = {};
  for (const [k, v] of Object.entries(j)) if (typeof v === 'number' && k !== 'benchWallSeconds') r[k] = v;
  return r;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The comparison table: one row per figure both builds report. */
export function compareTable(before: readonly Record<string, number>[], after: readonly Record<string, number>[]): string[] {
  const keys = Object.keys(before[0] ?? {}).filter((k) => k in (after[0] ?? {}));
  const rows = [`${'figure'.padEnd(28)} ${'before'.padStart(12)} ${'after'.padStart(12)} ${'after/before'.padStart(13)} ${'per-round'.padStart(10)}   runs (before | after)`];
  for (const k of keys) {
    const b = before.map((r) => r[k]!);
    const a = after.map((r) => r[k]!);
    const ratio = median(a) / median(b);
    const perRound = median(a.map((x, i) => x / b[i]!));
    const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
    rows.push(`${k.padEnd(28)} ${fmt(median(b)).padStart(12)} ${fmt(median(a)).padStart(12)} ${ratio.toFixed(3).padStart(13)} ${perRound.toFixed(3).padStart(10)}   ${b.map(fmt).join(' ')} | ${a.map(fmt).join(' ')}`);
  }
  return rows;
}

function main(): void {
  const { values } = parseArgs({ options: { ref: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' }, keep: { type: 'boolean' } } });
  if (values.ref === undefined) throw new TypeError('--ref: the commit (or branch, tag) to compare against is required');
  const rounds = values.rounds === undefined ? 8 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds: a positive integer, got '${values.rounds}'`);
  const only = values.only ?? 'throughput1500,throughput65535,cps';
  const commit = run('git', ['rev-parse', '--verify', `${values.ref}^{commit}`], ROOT).trim();
  const refDir = buildRef(commit);
  const before: Record<string, number>[] = [];
  const after: Record<string, number>[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const which of order) (which === 'before' ? before : after).push(figures(which === 'before' ? refDir : ROOT, only));
      process.stderr.write(`round ${i + 1}/${rounds}\n`);
    }
  } finally {
    if (values.keep !== true) spawnSync('git', ['worktree', 'remove', '--force', refDir], { cwd: ROOT });
  }
  console.log(`before: ${values.ref} (${commit.slice(0, 12)}), after: this build; ${rounds} rounds, alternating`);
  for (const line of compareTable(before, after)) console.log(line);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
