#!/usr/bin/env node
// Regenerates docs/rfc-map.md: every "RFC NNNN §x" and "LINUX:" citation in src/, with the file,
// line and enclosing function, grouped by RFC. Run: node scripts/gen-rfc-map.mjs
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
(function walk(d) {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
  }
})(join(root, 'src'));

const byRfc = new Map();
const linux = [];
const fnRe = /^\s*(?:export\s+)?(?:async\s+)?(?:function\s+(\w+)|(?:private\s+|public\s+|static\s+)*(\w+)\s*\([^)]*\)\s*(?::[^{]+)?\{\s*$|(?:const|let)\s+(\w+)\s*=)/;
for (const file of files.sort()) {
  const lines = readFileSync(file, 'utf8').split('\n');
  let fn = '(module)';
  lines.forEach((line, i) => {
    const m = fnRe.exec(line);
    if (m && !/^\s*(if|for|while|switch|return|catch)\b/.test(line)) fn = m[1] ?? m[2] ?? m[3] ?? fn;
    const where = `${relative(root, file)}:${i + 1}`;
    for (const c of line.matchAll(/RFC\s?(\d{3,4})((?:\s?§[\d.]+)?)/g)) {
      const rfc = `RFC ${c[1]}`;
      const text = line.replace(/^\s*(\/\/|\*|\/\*\*?)\s?/, '').trim();
      if (!byRfc.has(rfc)) byRfc.set(rfc, []);
      byRfc.get(rfc).push({ sec: c[2].trim(), where, fn, text });
    }
    if (/LINUX[:\s]/.test(line)) linux.push({ where, fn, text: line.replace(/^\s*(\/\/|\*|\/\*\*?)\s?/, '').trim() });
  });
}
const out = ['# RFC map', '', 'Every place the code cites the rule it enforces, by RFC and section, with the file, line and', 'enclosing function. Generated from the comments by `node scripts/gen-rfc-map.mjs` (rerun it after', 'adding a citation). Linux-specific choices are in [linux-deviations.md](linux-deviations.md).', ''];
for (const rfc of [...byRfc.keys()].sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
  out.push(`## ${rfc}`, '', '| section | where | function | rule |', '|---|---|---|---|');
  for (const r of byRfc.get(rfc)) out.push(`| ${r.sec || '—'} | \`${r.where}\` | \`${r.fn}\` | ${r.text.replace(/\|/g, '\\|')} |`);
  out.push('');
}
writeFileSync(join(root, 'docs/rfc-map.md'), out.join('\n'));
const MARK = '<!-- generated below by scripts/gen-rfc-map.mjs -->';
const lxPath = join(root, 'docs/linux-deviations.md');
let head = '# Where synack follows Linux rather than the RFCs\n\n';
try { head = readFileSync(lxPath, 'utf8').split(MARK)[0]; } catch {}
const lx = [MARK, '', '## Every `LINUX:` marker in the code', '', '| where | function | choice |', '|---|---|---|'];
for (const r of linux) lx.push(`| \`${r.where}\` | \`${r.fn}\` | ${r.text.replace(/\|/g, '\\|')} |`);
writeFileSync(lxPath, head + lx.join('\n') + '\n');
console.log(`rfc-map: ${[...byRfc.values()].reduce((n, a) => n + a.length, 0)} citations of ${byRfc.size} RFCs; ${linux.length} LINUX markers`);
