#!/usr/bin/env node
// Bundles the `synack viz` page (src/viz/web/) with esbuild into dist/viz/: app.js (the
// simulator, the stacks and the TCP core, all running in the browser), index.html, style.css.
// Run by `npm run build`, `npm test` and `prepare`. Takes well under a second.
import { mkdir, copyFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'src/viz/web');
const out = join(root, 'dist/viz');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-viz: esbuild is not installed (a production install?); skipping the viz bundle');
  process.exit(0);
}

// The browser build has no node:fs / node:path / node:os. Only the packetdrill interpreter imports
// them (to read script files and shell includes; /proc/net/tcp's byte order), which the page
// never asks it to do.
const nodeStub = {
  name: 'node-stub',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      contents: `const no = (what) => () => { throw new Error(what + ' is not available in the browser (${args.path})'); };
export const readFileSync = no('reading files'), openSync = no('opening files'), writeSync = no('writing files'), closeSync = no('closing files');
export const dirname = (p) => p.replace(/\\/[^/]*$/, '') || '.';
export const resolve = (...p) => p.join('/');
export const join = (...p) => p.join('/');
export const endianness = () => 'LE';
export default {};`,
      loader: 'js',
    }));
  },
};

const t0 = performance.now();
await mkdir(out, { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(web, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  // The map (with its sources) is written for debugging but not linked from app.js: the package
  // ships app.js without it (package.json "files"), and a link to a missing map is noise.
  sourcemap: 'external',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [nodeStub],
});
await copyFile(join(web, 'index.html'), join(out, 'index.html'));
await copyFile(join(web, 'style.css'), join(out, 'style.css'));
await writeFile(join(out, 'meta.json'), JSON.stringify(result.metafile));
const size = (await stat(join(out, 'app.js'))).size;
console.log(`build-viz: dist/viz/app.js ${(size / 1024).toFixed(1)} KiB in ${Math.round(performance.now() - t0)} ms`);
