#!/usr/bin/env node
// Builds the optional TUN addon (native/tun.c) with node-gyp. Run by `npm install` (the
// "install" script): where it cannot build (not Linux, no compiler, no Node headers, no
// node-gyp), it prints why and exits 0 so the install still succeeds; synack then reports
// "TUN unavailable: ..." only when someone opens a TUN device. `--strict` makes failure fatal
// (npm run build:native).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const here = dirname(fileURLToPath(import.meta.url));

function give(msg) {
  console.warn(`synack: TUN addon not built: ${msg}`);
  console.warn('synack: everything but `synack tun` works; retry with `npm run build:native`.');
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') give(`TUN devices need Linux (this is ${process.platform})`);

/** node-gyp: the one npm runs scripts with, one on PATH, or the copy bundled with npm. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    const req = createRequire(import.meta.url);
    candidates.push(req.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  candidates.push(npmDir);
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, [c]];
  const which = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return [which.stdout.trim(), []];
  return null;
}

const gyp = findNodeGyp();
if (gyp === null) give('node-gyp not found');
const [cmd, pre] = gyp;
// configure + build, not rebuild: a failed rebuild would delete a previously working addon.
// npm exports its config (e.g. nodedir) as npm_config_* to scripts; outside npm, honour NODEDIR.
const extra = !process.env.npm_config_nodedir && process.env.NODEDIR ? [`--nodedir=${process.env.NODEDIR}`] : [];
for (const step of ['configure', 'build']) {
  const r = spawnSync(cmd, [...pre, step, `--directory=${here}`, ...extra], { stdio: strict ? 'inherit' : ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) give(r.error.message);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter((l) => /error|ERR!/i.test(l)).slice(0, 3).join('\n  ');
    give(`node-gyp ${step} exited with ${r.status}${tail ? `:\n  ${tail}` : ''}`);
  }
}
console.log(`synack: built ${join(here, 'build', 'Release', 'synack_tun.node')}`);
