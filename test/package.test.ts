/**
 * The package as a user gets it: `npm pack`, then the .tgz installed offline into fresh strict
 * TypeScript projects (ESM with "module": "nodenext"; CommonJS with "module": "node16" — the
 * TS1479 case — and with "module": "commonjs"; a browser project with DOM libs and no
 * @types/node for the web-streams example), which compile the README's examples with
 * skipLibCheck off (so synack's own .d.ts files are checked too) and run them. Also: what the
 * tarball holds (no tests, no test utilities, no source map without its source, no install
 * script) and that every entry of the exports map resolves under both `import` and `require`.
 * Takes ~30 s; skips with the reason when npm or the build is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function whyNot(): string | false {
  if (spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0) return 'npm is not on PATH';
  if (!existsSync(join(ROOT, 'dist', 'cjs', 'src', 'index.js'))) return 'dist/cjs is missing (npm run build)';
  if (!existsSync(TSC)) return 'typescript is not installed (npm install)';
  return false;
}
const skip = whyNot();

/** Why `synack build-native` cannot be expected to work here (false: it can). */
function buildNativeSkip(): string | false {
  if (process.platform !== 'linux') return 'not Linux';
  if (spawnSync('cc', ['--version']).status !== 0) return 'no C compiler (cc)';
  if (spawnSync('python3', ['--version']).status !== 0) return 'no python3 (node-gyp needs it)';
  const h = '/usr/include/node/node_version.h';
  if (process.env.NODEDIR === undefined && !existsSync(h)) return `no Node headers offline (${h} or NODEDIR)`;
  if (process.env.NODEDIR === undefined) {
    const text = readFileSync(h, 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`define NODE_${k}_VERSION (\\d+)`).exec(text)?.[1]).join('.');
    if (`v${v}` !== process.version) return `${h} is for v${v}, this is ${process.version}`;
  }
  return false;
}
if (skip) console.log(`# package tests skipped: ${skip}`);

/** The ```ts block after `<!-- example: NAME -->` in the README. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(m, `README.md has no example '${name}'`);
  return m[1]!;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A strict TypeScript project that compiles `src/*.ts` and has synack in the parent's node_modules. */
function project(dir: string, type: 'module' | 'commonjs', module: string, sources: Record<string, string>): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${relative(dirname(dir), dir)}`, private: true, type }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module,
        ...(module === 'commonjs' ? { moduleResolution: 'node10' } : {}),
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        outDir: 'dist',
        rootDir: 'src',
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      include: ['src'],
    }),
  );
  for (const [name, text] of Object.entries(sources)) writeFileSync(join(dir, 'src', name), text);
}

test('npm pack: the tarball holds the library, no tests, no source maps, no install script; installed offline, the README examples compile strictly and run (ESM and CommonJS)', { skip, timeout: 180_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'synack-pack-'));
  try {
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT)) as {
      filename: string;
      size: number;
      unpackedSize: number;
      files: { path: string }[];
    }[];
    const { filename, size, unpackedSize } = packed[0]!;
    const paths = packed[0]!.files.map((f) => f.path);
    console.log(`# tarball: ${paths.length} files, ${(size / 1024).toFixed(0)} kB packed, ${(unpackedSize / 1024).toFixed(0)} kB unpacked`);
    const tests = paths.filter((p) => /(^|\/)test\/|\.test\.|\.test-util\.|(^|\/)fixtures\//.test(p));
    assert.deepEqual(tests, [], 'no tests or test utilities in the tarball');
    for (const entry of ['dist/src/index.js', 'dist/src/node.js', 'dist/src/tun/index.js', 'dist/cjs/src/index.js', 'dist/cjs/src/index.d.ts', 'dist/src/cli/main.js', 'native/tun.c']) {
      assert.ok(paths.includes(entry), `${entry} is in the tarball`);
    }

    // Install the .tgz with no registry (synack has no dependencies) into a shared node_modules.
    writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: 'consumers', private: true }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(tmp, filename)], tmp);
    const pkgDir = join(tmp, 'node_modules', 'synack');
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; exports: Record<string, unknown> };
    for (const hook of ['preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts?.[hook], undefined, `no ${hook} script`);
    for (const f of files(pkgDir)) {
      if (f.endsWith('.map')) {
        const map = JSON.parse(readFileSync(f, 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
        for (const s of map.sources) assert.ok(map.sourcesContent !== undefined || existsSync(join(dirname(f), s)), `${relative(pkgDir, f)}: source ${s} is shipped`);
      } else if (f.endsWith('.js')) {
        const link = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(f, 'utf8'));
        if (link !== null) assert.ok(existsSync(join(dirname(f), link[1]!)), `${relative(pkgDir, f)} links a map that is not shipped`);
      }
    }

    // Every entry resolves under both conditions, from Node itself.
    const probe = `for (const e of ['synack', 'synack/node', 'synack/tun']) console.log(e, Object.keys(%LOAD%).length);`;
    const viaImport = run(process.execPath, ['--input-type=module', '-e', `${probe.replace('%LOAD%', 'await import(e)')}`], tmp);
    const viaRequire = run(process.execPath, ['-e', probe.replace('%LOAD%', 'require(e)')], tmp);
    assert.equal(viaImport, viaRequire, 'import and require see the same exports');
    assert.match(viaImport, /^synack \d+\nsynack\/node \d+\nsynack\/tun \d+\n$/);

    const library = readmeExample('library');
    project(join(tmp, 'esm'), 'module', 'nodenext', {
      'library.ts': library,
      'streams.ts': readmeExample('streams'),
      'node.ts': readmeExample('node'),
    });
    project(join(tmp, 'cjs-node16'), 'commonjs', 'node16', { 'library.ts': library });
    project(join(tmp, 'cjs-commonjs'), 'commonjs', 'commonjs', { 'library.ts': library });
    for (const p of ['esm', 'cjs-node16', 'cjs-commonjs']) {
      run(process.execPath, [TSC, '-p', join(tmp, p)], tmp);
      const out = run(process.execPath, [join(tmp, p, 'dist', 'library.js')], tmp);
      assert.match(out, /echoed: hello/, `${p}: the library example ran`);
      assert.match(out, /ActiveOpens: 1/, `${p}: it printed the counters`);
    }
    // A browser project: bundler resolution, DOM libs, no @types/node — the root's types need nothing from Node.
    mkdirSync(join(tmp, 'browser', 'src'), { recursive: true });
    writeFileSync(join(tmp, 'browser', 'package.json'), JSON.stringify({ name: 'consumer-browser', private: true, type: 'module' }));
    writeFileSync(
      join(tmp, 'browser', 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable', 'DOM.AsyncIterable'], types: [], strict: true, skipLibCheck: false, noEmit: true },
        include: ['src'],
      }),
    );
    writeFileSync(join(tmp, 'browser', 'src', 'streams.ts'), readmeExample('streams'));
    run(process.execPath, [TSC, '-p', join(tmp, 'browser')], tmp);
    const compiled = readFileSync(join(tmp, 'cjs-node16', 'dist', 'library.js'), 'utf8');
    assert.match(compiled, /require\("synack"\)/, 'the CommonJS build really requires synack');
    assert.match(run(process.execPath, [join(tmp, 'esm', 'dist', 'streams.js')], tmp), /^echoed: hello$/m);
    assert.match(run(process.execPath, [join(tmp, 'esm', 'dist', 'node.js')], tmp), /^echoed: hello$/m);
    assert.ok(statSync(join(tmp, filename)).size === size);

    // No install script, so no addon yet; `synack build-native` builds it inside the installed package.
    const reason = `import { tunUnavailableReason } from 'synack/tun'; console.log(tunUnavailableReason());`;
    assert.match(run(process.execPath, ['--input-type=module', '-e', reason], tmp), /native addon is not built.*synack build-native/);
    const canBuild = buildNativeSkip();
    if (canBuild !== false) {
      console.log(`# synack build-native not tried: ${canBuild}`);
    } else {
      // What the first `synack tun` does (ensureTunAddon): build it because it is missing, then load it.
      const firstUse = `import { ensureTunAddon } from ${JSON.stringify(new URL(`file://${join(pkgDir, 'dist', 'src', 'cli', 'build-native.js')}`).href)}; ensureTunAddon(); console.log('loaded');`;
      assert.match(run(process.execPath, ['--input-type=module', '-e', firstUse], tmp), /^loaded$/m);
      assert.ok(existsSync(join(pkgDir, 'native', 'build', 'Release', 'synack_tun.node')), 'the addon was built inside the package');
      assert.doesNotMatch(run(process.execPath, ['--input-type=module', '-e', reason], tmp), /not built/);
      // And the command itself (node-gyp configure + build again).
      run(process.execPath, [join(pkgDir, 'dist', 'src', 'cli', 'main.js'), 'build-native'], tmp);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
