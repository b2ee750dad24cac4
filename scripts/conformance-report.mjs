#!/usr/bin/env node
// Runs `synack pkt --json` over the conformance corpus and prints pass counts per tier (from
// INVENTORY*.md, with Linux 6.18's own result beside ours) and per directory, as Markdown.
// Usage: node scripts/conformance-report.mjs [CORPUS_DIR]   (default ../shared/conformance)
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.argv[2] ?? join(root, '..', 'shared', 'conformance');
if (!existsSync(corpus)) {
  console.error(`no corpus at ${corpus}`);
  process.exit(2);
}
// Tier and Linux result per script, from the inventories' tables.
const inv = new Map();
for (const f of ['INVENTORY.md', 'INVENTORY_google.md', 'INVENTORY_others.md']) {
  const p = join(corpus, f);
  if (!existsSync(p)) continue;
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]?.endsWith('.pkt')) continue;
    const tier = cells.slice(2).find((c) => /^[ABC]$/.test(c));
    const linux = cells.slice(2).reverse().find((c) => /^(PASS|FAIL)/.test(c));
    if (!tier) continue;
    let path = cells[1];
    if (path.startsWith('tcp/') || path.startsWith('packetdrill/') || path.startsWith('psp/')) path = `google-packetdrill/gtests/net/${path}`;
    if (!inv.has(path)) inv.set(path, { tier, linux: linux ? linux.startsWith('PASS') : null });
  }
}
let out;
try {
  out = execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'pkt', '--json', corpus], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
} catch (e) {
  out = e.stdout; // exit status 1 just means some scripts failed
}
out = out.trim();
const results = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((r) => r.file);
const tiers = {};
const dirs = {};
const linuxOnly = [];
for (const r of results) {
  const rel = relative(corpus, r.file);
  const meta = inv.get(rel);
  const tier = meta?.tier ?? '-';
  const pass = r.status === 'pass';
  const t = (tiers[tier] ??= { n: 0, pass: 0, linuxPass: 0, both: 0 });
  t.n++;
  if (pass) t.pass++;
  if (meta?.linux) t.linuxPass++;
  if (meta?.linux && pass) t.both++;
  if (meta?.linux && !pass && tier === 'A') linuxOnly.push(`${rel}: ${r.message ?? r.status}`);
  const d = dirname(rel);
  const e = (dirs[d] ??= { n: 0, pass: 0 });
  e.n++;
  if (pass) e.pass++;
}
console.log('| tier | scripts | pass on synack | pass on Linux 6.18 | pass on both |');
console.log('|---|---|---|---|---|');
for (const k of Object.keys(tiers).sort()) {
  const t = tiers[k];
  console.log(`| ${k === '-' ? 'untiered' : k} | ${t.n} | ${t.pass} | ${t.linuxPass} | ${t.both} |`);
}
console.log('\n| directory | scripts | pass |\n|---|---|---|');
for (const k of Object.keys(dirs).sort()) console.log(`| ${k} | ${dirs[k].n} | ${dirs[k].pass} |`);
console.log(`\nTier A scripts that pass on Linux 6.18 but not on synack (${linuxOnly.length}):`);
for (const l of linuxOnly) console.log(`- ${l}`);
