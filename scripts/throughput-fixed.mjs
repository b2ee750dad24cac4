#!/usr/bin/env node
/**
 * CPU time per data segment of bench/throughput.ts's transfer, for a fixed number of bytes after a
 * fixed warm-up, in this build and in an earlier one, in alternating child processes:
 *
 *   node scripts/throughput-fixed.mjs [--mtu 1500] [--warm-mb N] [--mb N] [--rounds 6] DIR [REF_DIR]
 *
 * The loop is bench/throughput.ts's (`openTransfer`, from this checkout's dist/: `npx tsc -p .`
 * first); DIR and REF_DIR supply the stacks: checkouts with dist/ built (an earlier commit: git
 * worktree add /tmp/ref COMMIT && (cd /tmp/ref && ln -s "$PWD/node_modules" . && npx tsc -p .)). Unlike `npm run bench`,
 * which measures for a fixed time, this measures a fixed amount of work in CPU time (user +
 * system), so a busy machine moves it less; the warm-up must let V8 optimize every function on the
 * path (at MTU 65535, 300 MB left some in the interpreter: the default warm-up is 4 GB there).
 * Prints each run, the medians and the median of the per-round ratios (DIR / REF_DIR: below 1 is
 * less CPU per segment than the reference).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { mtu: { type: 'string' }, 'warm-mb': { type: 'string' }, mb: { type: 'string' }, rounds: { type: 'string' }, child: { type: 'boolean' } },
});

function num(name, v, dflt) {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name}: a positive number, got '${v}'`);
  return n;
}
const mtu = num('mtu', values.mtu, 1500);
const warmMb = num('warm-mb', values['warm-mb'], mtu > 9000 ? 4000 : 300);
const mb = num('mb', values.mb, mtu > 9000 ? 12000 : 1000);

async function child(dir) {
  // The transfer loop is this checkout's (bench/throughput.ts), the stacks are DIR's.
  const { openTransfer } = await import(new URL('../dist/bench/throughput.js', import.meta.url).href);
  const { Pair } = await import(pathToFileURL(resolve(dir, 'dist/bench/pair.js')).href);
  const t = openTransfer({ mtu, checksumOffload: mtu > 9000 }, Pair);
  const run = (bytes) => {
    const end = t.received() + bytes;
    while (t.received() < end) t.step();
  };
  run(warmMb * 1e6);
  const segs0 = t.pair.a.counters.OutSegs;
  const u0 = process.cpuUsage();
  run(mb * 1e6);
  const u = process.cpuUsage(u0);
  process.stdout.write(`${((u.user + u.system) * 1000) / (t.pair.a.counters.OutSegs - segs0)}\n`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function once(dir) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--mtu', String(mtu), '--warm-mb', String(warmMb), '--mb', String(mb), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`run in ${dir} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

if (values.child) await child(positionals[0]);
else {
  if (positionals.length < 1) throw new TypeError('DIR: the checkout to measure is required (and optionally REF_DIR to compare with)');
  const rounds = num('rounds', values.rounds, 6);
  const [dir, ref] = positionals;
  const a = [];
  const b = [];
  for (let i = 0; i < rounds; i++) {
    a.push(once(dir));
    if (ref !== undefined) b.push(once(ref));
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(`MTU ${mtu}, ${mb} MB after ${warmMb} MB, CPU ns per data segment`);
  console.log(`${dir}: median ${median(a).toFixed(0)}  (${fmt(a)})`);
  if (ref !== undefined) {
    console.log(`${ref}: median ${median(b).toFixed(0)}  (${fmt(b)})`);
    console.log(`ratio of medians ${(median(a) / median(b)).toFixed(3)}, median of per-round ratios ${median(a.map((x, i) => x / b[i])).toFixed(3)}`);
  }
}
