/**
 * The page side of the relay in a real browser: RelayClient, bundled for the browser by esbuild
 * (which fails if it reaches for a Node module), runs in headless Chromium and talks over the
 * browser's own WebSocket to a RelaySession on 127.0.0.1: a TCP flow to an echo server comes
 * back intact, a destination outside the allow list is refused with EACCES. No VM yet: the v86
 * adapter and the guest stack come with the forwarder. Skips, saying why, without chromium,
 * playwright-core or esbuild. No network beyond 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptWebSocket } from '../src/usernet/ws-server.js';
import { RelaySession } from '../src/usernet/relay.js';
import { AllowList } from '../src/usernet/allow-list.js';

const CHROMIUM = '/usr/bin/chromium';
const ENTRY = fileURLToPath(new URL('../src/usernet/relay-client.js', import.meta.url));

async function tools(): Promise<{ pw: typeof import('playwright-core'); esbuild: typeof import('esbuild') } | string> {
  let pw: typeof import('playwright-core');
  let esbuild: typeof import('esbuild');
  try {
    pw = await import('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  try {
    esbuild = await import('esbuild');
  } catch {
    return 'esbuild is not installed (npm install)';
  }
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is absent (apt-get install -y chromium)`;
  return { pw, esbuild };
}

test('RelayClient in Chromium: echo through synack relay, EACCES outside the allow list', { timeout: 60_000 }, async (t) => {
  const got = await tools();
  if (typeof got === 'string') {
    t.skip(got);
    return;
  }
  const bundle = await got.esbuild.build({ entryPoints: [ENTRY], bundle: true, format: 'iife', globalName: 'SynackRelay', platform: 'browser', write: false, logLevel: 'silent' });
  const code = bundle.outputFiles[0]!.text;
  const echo = net.createServer((c) => {
    c.pipe(c);
    c.on('error', () => {});
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const relay = http.createServer();
  const sessions: RelaySession[] = [];
  relay.on('upgrade', (req, socket, head) => {
    const ws = acceptWebSocket(req, socket, head);
    if (ws !== null) sessions.push(new RelaySession(ws, { allow: new AllowList(['tcp:127.0.0.1']) }));
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'synack-relay-chromium-'));
  const ctx = await got.pw.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addScriptTag({ content: code });
    const result = await page.evaluate(
      async ({ url, echoPort }) => {
        const g = globalThis as unknown as { SynackRelay: typeof import('../src/usernet/relay-client.js') };
        const ws = new WebSocket(url);
        ws.binaryType = 'arraybuffer';
        await new Promise((r, j) => {
          ws.onopen = r;
          ws.onerror = j;
        });
        const client = new g.SynackRelay.RelayClient((m) => ws.send(m));
        ws.onmessage = (e) => client.receive(new Uint8Array(e.data as ArrayBuffer));
        const text = 'hello from chromium '.repeat(5000);
        const echoed = await new Promise<string>((resolve) => {
          let buf = '';
          const flow = client.openTcp('127.0.0.1', echoPort, {
            onOpen: () => flow.write(new TextEncoder().encode(text)),
            onData: (d) => {
              buf += new TextDecoder().decode(d);
              flow.consumed(d.length);
              if (buf.length >= text.length) {
                flow.close();
                resolve(buf);
              }
            },
          });
        });
        const errno = await new Promise<string>((resolve) => client.openTcp('10.9.9.9', 80, { onError: resolve }));
        const udpErrno = await new Promise<string>((resolve) => client.openUdp('127.0.0.1', 53, { onError: resolve }));
        ws.close();
        return { same: echoed === text, length: echoed.length, errno, udpErrno };
      },
      { url: `ws://127.0.0.1:${(relay.address() as net.AddressInfo).port}/`, echoPort: (echo.address() as net.AddressInfo).port },
    );
    assert.deepEqual(result, { same: true, length: 100_000, errno: 'EACCES', udpErrno: 'EACCES' });
    assert.deepEqual(errors, []);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.counters.denied, 2);
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
    relay.close();
    echo.close();
  }
});
