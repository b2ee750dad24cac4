#!/usr/bin/env node
// The CommonJS copy of the library for `require('synack')` and for TypeScript projects compiled
// as CommonJS (package.json "exports" → "require"): every module tsc wrote to dist/src/ (not the
// tests, not the CLI) transformed file by file to CommonJS with esbuild into dist/cjs/src/, and
// its .d.ts copied beside it. dist/cjs/package.json says "type": "commonjs", so Node loads these
// .js files, and TypeScript reads these .d.ts files, as CommonJS (no TS1479 for a CommonJS
// consumer). File by file, not bundled: `synack` and `synack/node` share one copy of each module,
// as their ESM twins do. Run by `npm run build`, `npm test` and `prepare`; takes about a second.
import { mkdir, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist/src');
const out = join(root, 'dist/cjs');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-cjs: esbuild is not installed (a production install?); skipping the CommonJS build');
  process.exit(0);
}

/** Library files: what the package entries can reach (the CLI is an ES module program). */
async function libraryFiles(dir) {
  const files = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!['cli', join('viz', 'web')].includes(relative(from, p))) files.push(...(await libraryFiles(p)));
    } else if ((e.name.endsWith('.js') || e.name.endsWith('.d.ts')) && !e.name.includes('.test.') && !e.name.includes('.test-util.')) {
      files.push(p);
    }
  }
  return files;
}

const t0 = performance.now();
await rm(out, { recursive: true, force: true });
const files = await libraryFiles(from);
let js = 0;
for (const f of files) {
  const dest = join(out, 'src', relative(from, f));
  await mkdir(dirname(dest), { recursive: true });
  if (f.endsWith('.d.ts')) {
    await copyFile(f, dest);
    continue;
  }
  const source = await readFile(f, 'utf8');
  const usesMeta = source.includes('import.meta.url');
  const r = await esbuild.transform(source, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcefile: relative(root, f),
    // tun.ts finds the addon from its own location: give CommonJS the same file URL.
    ...(usesMeta
      ? { define: { 'import.meta.url': '__synack_import_meta_url' }, banner: 'const __synack_import_meta_url = require("node:url").pathToFileURL(__filename).href;' }
      : {}),
  });
  await writeFile(dest, r.code);
  js++;
}
await writeFile(join(out, 'package.json'), '{ "type": "commonjs" }\n');
console.log(`build-cjs: ${js} modules → ${relative(root, out)} in ${Math.round(performance.now() - t0)} ms`);
