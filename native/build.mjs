#!/usr/bin/env node
// Builds the optional TUN addon (native/tun.c) with node-gyp. Run by `synack build-native`, by
// the first `synack tun` that needs it, and by `prepare` in a checkout (the package has no
// install script; see the README): where it cannot build (not Linux, no compiler, no Node headers, no
// node-gyp), it prints why and exits 0 so the install still succeeds; synack then reports
// "TUN unavailable: ..." only when someone opens a TUN device. `--strict` makes failure fatal
// (npm run build:native).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const here = dirname(fileURLToPath(import.meta.url));

function give(msg) {
  console.warn(`synack: TUN addon not built: ${msg}`);
  console.warn('synack: everything but `synack tun` works; retry with `synack build-native`.');
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
// Without either, use the headers of a distribution's Node when they are this Node's (Debian's
// nodejs ships /usr/include/node), so no download is needed.
function systemNodedir() {
  const h = '/usr/include/node/node_version.h';
  if (!existsSync(h)) return null;
  const text = readFileSync(h, 'utf8');
  const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`define NODE_${k}_VERSION (\\d+)`).exec(text)?.[1]).join('.');
  return `v${v}` === process.version ? '/usr' : null;
}
const nodedir = process.env.npm_config_nodedir ? null : (process.env.NODEDIR ?? systemNodedir());
const extra = nodedir ? [`--nodedir=${nodedir}`] : [];
for (const step of ['configure', 'build']) {
  const r = spawnSync(cmd, [...pre, step, `--directory=${here}`, ...extra], { stdio: strict ? 'inherit' : ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) give(r.error.message);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter((l) => /error|ERR!/i.test(l)).slice(0, 3).join('\n  ');
    give(`node-gyp ${step} exited with ${r.status}${tail ? `:\n  ${tail}` : ''}`);
  }
}
console.log(`synack: built ${join(here, 'build', 'Release', 'synack_tun.node')}`);
