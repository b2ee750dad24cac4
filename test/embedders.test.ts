/**
 * synack sockets where Node's libraries take a `net.Socket` (issue #15), checked twice:
 *  - at compile time: this file is part of the normal `tsc -p .` build, and uses synack sockets
 *    and servers with undici, node:tls, node:http and ws WITHOUT a cast; `@ts-expect-error`
 *    lines prove the overloads and events are typed (they fail the build if a type became `any`);
 *  - at run time: an HTTP request through undici, and a TLS exchange through node:tls, over synack
 *    sockets on the simulator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as nodeNet from 'node:net';
import tls from 'node:tls';
import { Client, type buildConnector } from 'undici';
import { WebSocket } from 'ws';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { createNet, type Net, type SynackServer, type SynackSocket } from '../src/net/index.js';
import type { MibName } from '../src/mib.js';
import { ms, sec } from '../src/time.js';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

/** undici's `connect` option: a connector handing undici a synack socket once it is connected. */
function undiciConnector(net: Net): buildConnector.connector {
  return (opts, callback) => {
    const socket = net.connect({ host: opts.hostname, port: Number(opts.port || 80) });
    socket.once('connect', () => callback(null, socket));
    socket.once('error', (err) => callback(err, null));
  };
}

/** The compile-time half: every use below type-checks without a cast. */
export function compileTimeUses(net: Net, server: SynackServer, socket: SynackSocket): unknown[] {
  const asNodeSocket: nodeNet.Socket = socket;
  const asNodeServer: nodeNet.Server = server;
  const client = new Client(`http://${SERVER}`, { connect: undiciConnector(net) });
  const secure = tls.connect({ socket, servername: 'example.test' });
  const req = http.request({ host: SERVER, createConnection: () => net.connect(80, SERVER) });
  const ws = new WebSocket(`ws://${SERVER}/`, { createConnection: () => net.connect(80, SERVER) });
  server.on('connection', (s) => s.localPort satisfies number | undefined);
  socket.on('data', (d) => d satisfies Buffer);
  socket.on('close', (hadError) => hadError satisfies boolean);
  server.listen({ port: 80, host: SERVER, backlog: 8 }, () => {});
  server.listen(80, SERVER, 8, () => {});
  const retrans: number = net.stack.counters.RetransSegs;
  const name: MibName = 'ListenOverflows';
  // @ts-expect-error a misspelt counter is not a counter
  void net.stack.counters.RetransSeg;
  // @ts-expect-error listen's backlog is a number, not a string
  server.listen(80, SERVER, '8');
  // @ts-expect-error a 'data' listener gets a Buffer (or a string after setEncoding), never a number
  socket.on('data', (d: number) => d);
  // @ts-expect-error 'connection' gives a socket
  server.on('connection', (s: string) => s);
  return [asNodeSocket, asNodeServer, client, secure, req, ws, retrans, name];
}

test('an HTTP request through undici over a synack socket, on virtual time', async () => {
  const world = new SimWorld({ seed: 5, path: { delay: ms(5) } });
  const driver = new SimDriver(world);
  const c = createNet(world.addHost('client', [CLIENT]), driver);
  const s = createNet(world.addHost('server', [SERVER]), driver);
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.socket.remoteAddress} ${req.method} ${req.url}`);
  });
  s.createServer((sock) => server.emit('connection', sock)).listen(80, SERVER);

  const client = new Client(`http://${SERVER}`, { connect: undiciConnector(c) });
  let reply: { status: number; body: string; type: unknown } | undefined;
  let failure: unknown;
  const run = driver.run({ virtualClock: true, done: () => reply !== undefined || failure !== undefined });
  client
    .request({ path: '/over/synack', method: 'GET' })
    .then(async (r) => (reply = { status: r.statusCode, body: await r.body.text(), type: r.headers['content-type'] }))
    .catch((e: unknown) => (failure = e));
  await run;
  assert.equal(failure, undefined);
  assert.deepEqual(reply, { status: 200, body: `hello ${CLIENT} GET /over/synack`, type: 'text/plain' });
  assert.equal(c.stack.counters.ActiveOpens, 1, 'the request went over one synack connection');
  assert.ok(world.now < sec(1), `answered at ${world.now} µs of virtual time`);

  const closed = client.close();
  await driver.run({ virtualClock: true });
  await closed;
  assert.equal(c.stack.netstat().filter((r) => r.state === 'ESTABLISHED').length, 0);
});

test('TLS through node:tls over synack sockets (tls.connect({ socket }) and a TLS server fed by a synack listener)', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v openssl']).status !== 0) {
    t.skip('openssl is not installed (needed to make a test certificate)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'synack-tls-'));
  let key: Buffer;
  let cert: Buffer;
  try {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=synack.test', '-addext', 'subjectAltName=DNS:synack.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const world = new SimWorld({ seed: 9, path: { delay: ms(5) } });
  const driver = new SimDriver(world);
  const c = createNet(world.addHost('client', [CLIENT]), driver);
  const s = createNet(world.addHost('server', [SERVER]), driver);
  const tlsServer = tls.createServer({ key, cert }, (secure) => {
    secure.setEncoding('utf8');
    secure.on('data', (d: string) => secure.end(`secure echo: ${d}`));
  });
  s.createServer((sock) => tlsServer.emit('connection', sock)).listen(443, SERVER);
  let reply = '';
  let failure: unknown;
  const secure = tls.connect({ socket: c.connect(443, SERVER), servername: 'synack.test', ca: cert }, () => secure.write('hello'));
  secure.setEncoding('utf8');
  secure.on('data', (d: string) => (reply += d));
  secure.on('error', (e) => (failure = e));
  await driver.run({ done: () => secure.readableEnded || failure !== undefined });
  assert.equal(failure, undefined);
  assert.equal(secure.authorized, true);
  assert.equal(reply, 'secure echo: hello');
});
