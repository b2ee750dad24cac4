/**
 * docs/architecture.md is the project's map; a map with dead roads is worse than none. This test
 * keeps it true:
 *  (a) every `src/…` path the page mentions (a file, or a folder ending in `/`) exists;
 *  (b) every function or method the page names as `name()` on a line that also cites source files
 *      is defined in one of those files (`function name(`, `name(` as a method, `name =`), so a
 *      renamed function cannot leave the walks and the index pointing at nothing.
 * The page cites no path outside src/, test/, docs/, scripts/ that this test would miss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const DOC = join(ROOT, 'docs', 'architecture.md');

/** Paths under the repository's own top-level folders, as the page writes them. */
const PATH_RE = /\b(?:src|test|docs|scripts)\/[A-Za-z0-9_./-]*[A-Za-z0-9_/-]/g;
/** `name()` or `Class.name()` in backticks: a function the page says exists. */
const CALL_RE = /`(?:[A-Za-z_$][\w$]*\.)*([A-Za-z_$][\w$]*)\(\)`/g;

function docLines(): string[] {
  return readFileSync(DOC, 'utf8').split('\n');
}

function pathsIn(line: string): string[] {
  // Glob-like mentions (`src/tcp/congestion/<algo>.ts`) name a pattern, not a file.
  return [...line.matchAll(PATH_RE)].map((m) => m[0]).filter((p) => !p.includes('<'));
}

test('docs/architecture.md exists and cites source paths', () => {
  assert.ok(existsSync(DOC), 'docs/architecture.md is missing');
  const all = docLines().flatMap(pathsIn).filter((p) => p.startsWith('src/'));
  // The page is a map of src/: far fewer citations would mean it lost its index.
  assert.ok(new Set(all).size >= 60, `only ${new Set(all).size} distinct src/ paths cited`);
});

test('every path docs/architecture.md mentions exists', () => {
  const missing: string[] = [];
  docLines().forEach((line, i) => {
    for (const p of pathsIn(line)) {
      const full = join(ROOT, p);
      const ok = p.endsWith('/') ? existsSync(full) && statSync(full).isDirectory() : existsSync(full);
      if (!ok) missing.push(`line ${i + 1}: ${p}`);
    }
  });
  assert.deepEqual(missing, [], `docs/architecture.md cites paths that do not exist:\n${missing.join('\n')}`);
});

test('every name() docs/architecture.md cites is defined in a file cited on the same line', () => {
  const missing: string[] = [];
  let checked = 0;
  docLines().forEach((line, i) => {
    const files = pathsIn(line).filter((p) => /\.(ts|mjs)$/.test(p) && existsSync(join(ROOT, p)));
    if (files.length === 0) return;
    const sources = files.map((f) => readFileSync(join(ROOT, f), 'utf8'));
    for (const m of line.matchAll(CALL_RE)) {
      const name = m[1]!;
      const def = new RegExp(`(?:function\\s+${name}\\s*[(<]|^\\s*(?:(?:private|protected|public|static|async|override|readonly|get|set)\\s+)*${name}\\s*[(<]|\\b${name}\\s*=)`, 'm');
      checked++;
      if (!sources.some((s) => def.test(s))) missing.push(`line ${i + 1}: ${name}() in none of ${files.join(', ')}`);
    }
  });
  assert.ok(checked >= 40, `only ${checked} name() citations checked: the walks lost their function names`);
  assert.deepEqual(missing, [], `docs/architecture.md names functions that are not where it says:\n${missing.join('\n')}`);
});
