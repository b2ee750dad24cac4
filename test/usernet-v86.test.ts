/**
 * The v86 adapter (src/usernet/v86-adapter.ts) on a v86-shaped bus ("net0-send" frames from the
 * NIC, "net0-receive" frames to it), with a second synack stack standing in for the VM: the VM
 * takes its address by DHCP (DISCOVER/OFFER/REQUEST/ACK built with src/wire/dhcp.ts), then fetches
 * a file from an HTTP server on the host's 127.0.0.1 through the gateway 10.0.2.2 — the adapter's
 * network relays the connection through a RelayClient over a real WebSocket to `synack relay`'s
 * RelaySession, whose allow list admits that one port; a connection to another port is refused
 * by the relay (EACCES) and reaches the VM as ICMP administratively prohibited.
 *
 * Runs in Node (the `ws` package as the page's WebSocket); test/usernet-v86-browser.test.ts runs the
 * same in headless Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { acceptWebSocket } from '../src/usernet/ws-server.js';
import { RelaySession } from '../src/usernet/relay.js';
import { AllowList } from '../src/usernet/allow-list.js';
import { RelayClient } from '../src/usernet/relay-client.js';
import { SynackNetworkAdapter } from '../src/usernet/v86-adapter.js';
import { fakeBus, runVm } from './v86-vm.js';

test('v86 adapter: the VM stand-in takes a lease by DHCP, fetches from the host through synack relay, and is refused outside the allow list', { timeout: 60_000 }, async () => {
  const body = randomBytes(3_000_000);
  const web = http.createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const webPort = (web.address() as AddressInfo).port;
  const relaySrv = http.createServer();
  const sessions: RelaySession[] = [];
  relaySrv.on('upgrade', (req, socket, head) => {
    const ws = acceptWebSocket(req, socket, head);
    if (ws !== null) sessions.push(new RelaySession(ws, { allow: new AllowList([`tcp:127.0.0.1:${webPort}`]) }));
  });
  await new Promise<void>((r) => relaySrv.listen(0, '127.0.0.1', r));
  const ws = new WebSocket(`ws://127.0.0.1:${(relaySrv.address() as AddressInfo).port}/`);
  ws.binaryType = 'nodebuffer';
  await new Promise((r, j) => ws.once('open', r).once('error', j));

  // The page: the adapter on the emulator's bus, its relay client on the WebSocket.
  const bus = fakeBus();
  const client = new RelayClient((m) => ws.send(m));
  const adapter = new SynackNetworkAdapter(bus, { relay: client, seed: 7 });
  ws.on('message', (d: Buffer) => adapter.receive(new Uint8Array(d.buffer, d.byteOffset, d.length)));
  const un = await adapter.ready;

  try {
    const vm = await runVm(bus, webPort, webPort === 65535 ? webPort - 1 : webPort + 1);
    assert.deepEqual(vm.lease, ['10.0.2.15', '10.0.2.15', '10.0.2.2', '10.0.2.3']);
    assert.equal(vm.status, 'HTTP/1.1 200 OK');
    assert.equal(vm.body.length, body.length);
    assert.equal(createHash('sha256').update(vm.body).digest('hex'), createHash('sha256').update(body).digest('hex'));
    // Another host port is outside the allow list: the relay says EACCES, the VM gets ICMP admin-prohibited.
    assert.notEqual(vm.refused, 'connected');
    assert.equal(sessions[0]!.counters.denied, 1);
    const s = un.stats();
    assert.equal(s.tcp.accepted, 1);
    assert.equal(s.tcp.unreachable, 1);
    assert.equal(s.dhcp.sent.ACK, 1);
  } finally {
    adapter.destroy();
    ws.close();
    relaySrv.close();
    web.close();
  }
});
