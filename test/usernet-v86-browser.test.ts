/**
 * The v86 adapter in headless Chromium: the page runs SynackNetworkAdapter (createUserNet behind a
 * v86-shaped bus) and the VM stand-in of test/v86-vm.ts (DHCP, then a synack stack fetching over
 * HTTP), and talks over the browser's own WebSocket to a RelaySession on 127.0.0.1 whose allow
 * list admits one port of the host's loopback: the VM gets 10.0.2.15, fetches the file intact
 * through 10.0.2.2, and a connection to another port is refused by the relay.
 *
 * createUserNet imports Node modules it needs only for services a page cannot offer yet (node:dgram
 * and node:dns for the UDP relay and DNS forwarder, synack's Node `net` API for DNS over TCP, and
 * node:diagnostics_channel through the driver), so the bundle maps them to small stand-ins (NODE_SHIMS
 * below) that fail if used; nothing in this test uses them. Skips, saying why, without chromium,
 * playwright-core or esbuild. No network beyond 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptWebSocket } from '../src/usernet/ws-server.js';
import { RelaySession } from '../src/usernet/relay.js';
import { AllowList } from '../src/usernet/allow-list.js';

const CHROMIUM = '/usr/bin/chromium';
const DIST = fileURLToPath(new URL('..', import.meta.url));

/** Stand-ins for the Node modules createUserNet's page-less services import (they throw if used). */
const NODE_SHIMS: Record<string, string> = {
  'node:diagnostics_channel': `const ch = { hasSubscribers: false, publish() {}, subscribe() {}, unsubscribe() {} };
    export function channel() { return ch; } export function subscribe() {} export function unsubscribe() {} export default { channel, subscribe, unsubscribe };`,
  'node:events': `export class EventEmitter {
      constructor() { this._l = new Map(); }
      on(e, f) { (this._l.get(e) ?? this._l.set(e, []).get(e)).push(f); return this; }
      addListener(e, f) { return this.on(e, f); }
      once(e, f) { const g = (...a) => { this.off(e, g); f(...a); }; return this.on(e, g); }
      off(e, f) { this._l.set(e, (this._l.get(e) ?? []).filter((x) => x !== f)); return this; }
      removeListener(e, f) { return this.off(e, f); }
      removeAllListeners(e) { if (e === undefined) this._l.clear(); else this._l.delete(e); return this; }
      emit(e, ...a) { const l = this._l.get(e) ?? []; for (const f of [...l]) f.apply(this, a); return l.length > 0; }
      listenerCount(e) { return (this._l.get(e) ?? []).length; }
      setMaxListeners() { return this; }
    }
    export default EventEmitter;`,
  'node:stream': `import { EventEmitter } from 'node:events';
    export class Duplex extends EventEmitter { constructor() { super(); } }
    export default { Duplex };`,
  'node:net': `export function isIP(s) { return /^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(s) ? 4 : String(s).includes(':') ? 6 : 0; }
    export const isIPv4 = (s) => isIP(s) === 4; export const isIPv6 = (s) => isIP(s) === 6;
    function none() { throw new Error('node:net is not available in a page'); }
    export const createConnection = none, createServer = none, connect = none;
    export default { isIP, isIPv4, isIPv6, createConnection, createServer, connect };`,
  'node:dgram': `function createSocket() { throw new Error('node:dgram is not available in a page'); } export { createSocket }; export default { createSocket };`,
  'node:dns': `class Resolver { constructor() { return new Proxy(this, { get: (t, k) => (k in t ? t[k] : () => Promise.reject(Object.assign(new Error('no resolver in a page'), { code: 'ENOTIMP' }))) }); } setServers() {} cancel() {} }
    export const promises = { Resolver }; export default { promises };`,
  'node:crypto': `export function randomInt(a, b) { if (b === undefined) { b = a; a = 0; } return a + Math.floor(Math.random() * (b - a)); } export default { randomInt };`,
};

const PAGE = `
import { SynackNetworkAdapter } from '${DIST}src/usernet/v86-adapter.js';
import { RelayClient } from '${DIST}src/usernet/relay-client.js';
import { NodeDriver } from '${DIST}src/driver/node-driver.js';
import { fakeBus, runVm } from '${DIST}test/v86-vm.js';

export async function main({ url, port, refusedPort }) {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
  const bus = fakeBus();
  const adapter = new SynackNetworkAdapter(bus, { relay: new RelayClient((m) => ws.send(m)), seed: 7, driver: new NodeDriver({ ref: true }) });
  ws.onmessage = (e) => adapter.receive(new Uint8Array(e.data));
  const un = await adapter.ready;
  const vm = await runVm(bus, port, refusedPort);
  // about:blank is no secure context (no crypto.subtle): the body goes back as base64, hashed in Node.
  let bin = '';
  for (let i = 0; i < vm.body.length; i += 0x8000) bin += String.fromCharCode(...vm.body.subarray(i, i + 0x8000));
  const s = un.stats();
  adapter.destroy();
  ws.close();
  return { lease: vm.lease, status: vm.status, length: vm.body.length, body: btoa(bin), refused: vm.refused, accepted: s.tcp.accepted, unreachable: s.tcp.unreachable, acks: s.dhcp.sent.ACK };
}
`;

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

test('v86 adapter in Chromium: DHCP lease, an HTTP fetch through synack relay, a refusal outside the allow list', { timeout: 90_000 }, async (t) => {
  const got = await tools();
  if (typeof got === 'string') {
    t.skip(got);
    return;
  }
  const bundle = await got.esbuild.build({
    stdin: { contents: PAGE, resolveDir: DIST, loader: 'js' },
    bundle: true,
    format: 'iife',
    globalName: 'Page',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    // Node's process.nextTick, which synack's Node-shaped socket classes call, as a microtask, and
    // a Buffer whose alloc the net API's module calls at load time (no Node socket runs here).
    banner: { js: 'globalThis.process ??= { nextTick: (f, ...a) => queueMicrotask(() => f(...a)), env: {} }; globalThis.Buffer ??= { alloc: (n) => new Uint8Array(n) };' },
    plugins: [{
      name: 'node-shims',
      setup(b) {
        b.onResolve({ filter: /^node:/ }, (a) => (a.path in NODE_SHIMS ? { path: a.path, namespace: 'node-shim' } : { errors: [{ text: `${a.path} has no page stand-in (imported by ${a.importer})` }] }));
        b.onLoad({ filter: /.*/, namespace: 'node-shim' }, (a) => ({ contents: NODE_SHIMS[a.path]!, loader: 'js' }));
      },
    }],
  });
  const body = randomBytes(2_000_000);
  const web = http.createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const port = (web.address() as AddressInfo).port;
  const relay = http.createServer();
  const sessions: RelaySession[] = [];
  relay.on('upgrade', (req, socket, head) => {
    const ws = acceptWebSocket(req, socket, head);
    if (ws !== null) sessions.push(new RelaySession(ws, { allow: new AllowList([`tcp:127.0.0.1:${port}`]) }));
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'synack-v86-chromium-'));
  const ctx = await got.pw.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    assert.deepEqual(errors, [], 'the bundle runs in the page');
    const r = await page.evaluate(
      (a) => (globalThis as unknown as { Page: { main(x: typeof a): Promise<Record<string, unknown>> } }).Page.main(a),
      { url: `ws://127.0.0.1:${(relay.address() as AddressInfo).port}/`, port, refusedPort: port === 65535 ? port - 1 : port + 1 },
    );
    const fetched = Buffer.from(r.body as string, 'base64');
    delete r.body;
    r.sha = createHash('sha256').update(fetched).digest('hex');
    assert.deepEqual(r, {
      lease: ['10.0.2.15', '10.0.2.15', '10.0.2.2', '10.0.2.3'],
      status: 'HTTP/1.1 200 OK',
      length: body.length,
      sha: createHash('sha256').update(body).digest('hex'),
      refused: r.refused === 'connected' ? 'not refused' : r.refused,
      accepted: 1,
      unreachable: 1,
      acks: 1,
    });
    assert.deepEqual(errors, []);
    assert.equal(sessions[0]!.counters.denied, 1, 'the relay refused the second port');
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
    relay.close();
    web.close();
  }
});
