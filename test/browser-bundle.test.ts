/**
 * The package root in a browser: a program that imports from 'synack' (resolved through the
 * package's own exports map, `browser` condition) is bundled by esbuild for the browser — no
 * `node:` module may be pulled in — and runs in headless Chromium (playwright-core driving
 * Debian's /usr/bin/chromium): a handshake and a 1 MB echo through the web-streams face on the
 * simulator's virtual time. Also: `synack/node` refuses to bundle for the browser. Skips with the
 * reason when esbuild, playwright-core or Chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';

type Esbuild = typeof import('esbuild');
type PW = typeof import('playwright-core');
let esbuild: Esbuild | null = null;
let pw: PW | null = null;
let skip: string | false = false;
try {
  esbuild = await import('esbuild');
} catch {
  skip = 'esbuild is not installed (npm install)';
}
try {
  pw = await import('playwright-core');
} catch {
  skip ||= 'playwright-core is not installed (npm install)';
}
if (!skip && !existsSync(CHROMIUM)) skip = `${CHROMIUM} is absent (apt-get install -y chromium)`;
if (!skip && !existsSync(join(ROOT, 'dist', 'src', 'index.js'))) skip = 'dist/src is missing (npm run build)';
if (skip) console.log(`# browser bundle tests skipped: ${skip}`);

/** What the page runs: an echo server and a client, both synack stacks, talking through web streams. */
const PROGRAM = `
import { SimWorld, SimDriver, connectStream, listenStream, ms } from 'synack';

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 9)) & 0xff;
  return b;
}

export async function main(size: number) {
  const t0 = performance.now();
  const world = new SimWorld({ seed: 11, path: { delay: ms(5), bandwidthBps: 100_000_000 } });
  const server = world.addHost('server', ['10.0.0.2']);
  const client = world.addHost('client', ['10.0.0.1']);
  const echo = listenStream(server, { port: 7 });
  void (async () => {
    for await (const conn of echo.readable) void conn.readable.pipeTo(conn.writable);
  })();
  const conn = connectStream(client, { remoteAddress: '10.0.0.2', remotePort: 7 });
  const data = pattern(size);
  let opened = null;
  const writing = (async () => {
    opened = await conn.opened;
    const w = conn.writable.getWriter();
    for (let off = 0; off < size; off += 16_384) await w.write(data.subarray(off, off + 16_384));
    await w.close();
  })();
  const reading = (async () => {
    let n = 0, same = true, chunks = 0;
    for await (const chunk of conn.readable) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== data[n + i]) same = false;
      n += chunk.length;
      chunks++;
    }
    return { n, same, chunks };
  })();
  await new SimDriver(world).run();
  await writing;
  const got = await reading;
  await conn.closed;
  echo.close();
  return {
    opened,
    received: got.n,
    intact: got.same,
    chunks: got.chunks,
    virtualSeconds: world.now / 1e6,
    wallMs: Math.round(performance.now() - t0),
    counters: { client: client.counters, server: server.counters },
    node: typeof (globalThis as { process?: unknown }).process !== 'undefined' || typeof (globalThis as { setImmediate?: unknown }).setImmediate !== 'undefined',
  };
}
`;

/** A folder whose node_modules/synack is this checkout, so 'synack' resolves through package.json "exports". */
function consumerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'synack-browser-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'synack'), 'dir');
  return dir;
}

test('synack/node and synack/tun do not bundle for the browser: the bundler says so at build time', { skip }, async () => {
  const dir = consumerDir();
  try {
    for (const entry of ['synack/node', 'synack/tun']) {
      const r = await esbuild!
        .build({ stdin: { contents: `import * as m from '${entry}'; console.log(m);`, resolveDir: dir, loader: 'ts' }, bundle: true, platform: 'browser', write: false, logLevel: 'silent' })
        .then(
          () => null,
          (e: { errors: { text: string }[] }) => e.errors.map((x) => x.text).join('\n'),
        );
      assert.ok(r !== null, `${entry} must not bundle for the browser`);
      assert.match(r, new RegExp(`${entry.replace('/', '\\/')}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a program importing from "synack" bundles for the browser and runs a handshake and a 1 MB echo through web streams in Chromium', { skip, timeout: 120_000 }, async () => {
  const dir = consumerDir();
  try {
    const built = await esbuild!.build({
      stdin: { contents: PROGRAM, resolveDir: dir, loader: 'ts', sourcefile: 'app.ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'synackApp',
      target: ['es2022'],
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(built.metafile.inputs);
    assert.deepEqual(inputs.filter((p) => p.startsWith('node:')), [], 'no node: module in the bundle');
    assert.ok(inputs.some((p) => p.endsWith('dist/src/streams/web.js')), 'the root entry came through the exports map');
    const code = built.outputFiles[0]!.text;
    console.log(`# browser bundle (SimWorld, two stacks, TCP, web streams): ${(code.length / 1024).toFixed(1)} KiB minified, ${inputs.length} modules`);

    const browser = await pw!.chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setContent('<!doctype html><title>synack</title>');
      await page.addScriptTag({ content: code });
      const r = await page.evaluate((size) => (window as unknown as { synackApp: { main(n: number): Promise<unknown> } }).synackApp.main(size), 1 << 20);
      const res = r as {
        opened: { localAddress: string; localPort: number; remoteAddress: string; remotePort: number } | null;
        received: number;
        intact: boolean;
        chunks: number;
        virtualSeconds: number;
        wallMs: number;
        counters: { client: Record<string, number>; server: Record<string, number> };
        node: boolean;
      };
      console.log(`# in Chromium: ${res.received} bytes echoed in ${res.chunks} chunks, ${res.virtualSeconds.toFixed(3)} s virtual, ${res.wallMs} ms wall`);
      assert.deepEqual(errors, []);
      assert.equal(res.node, false, 'a real browser: no process, no setImmediate');
      assert.deepEqual(res.opened, { localAddress: '10.0.0.1', localPort: res.opened!.localPort, remoteAddress: '10.0.0.2', remotePort: 7 });
      assert.equal(res.received, 1 << 20);
      assert.ok(res.intact, 'the echo is byte for byte what was sent');
      assert.equal(res.counters.client.ActiveOpens, 1);
      assert.equal(res.counters.server.PassiveOpens, 1);
      // The transfer, then the client's 60 s TIME_WAIT, which run() waits out.
      assert.ok(res.virtualSeconds > 60 && res.virtualSeconds < 70, `virtual time advanced (${res.virtualSeconds} s)`);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
