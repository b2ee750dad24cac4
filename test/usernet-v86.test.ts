/**
 * The v86 adapter (src/usernet/v86-adapter.ts) on a v86-shaped bus ("net0-send" frames from the
 * NIC, "net0-receive" frames to it), with a second synack stack standing in for the VM: the VM
 * takes its address by DHCP (DISCOVER/OFFER/REQUEST/ACK built with src/wire/dhcp.ts), then fetches
 * a file from an HTTP server on the host's 127.0.0.1 through the gateway 10.0.2.2 — the adapter's
 * network relays the connection through a RelayClient over a real WebSocket to `synack relay`'s
 * RelaySession, whose allow list admits that one port; a connection to another port is refused
 * by the relay (EACCES) and reaches the VM as ICMP administratively prohibited.
 *
 * Runs in Node (the `ws` package as the page's WebSocket). Not in Chromium yet: createUserNet
 * imports node:dgram, node:dns and synack's net API (node:stream), which a page lacks.
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
import { SynackNetworkAdapter, type V86Bus } from '../src/usernet/v86-adapter.js';
import { NodeDriver } from '../src/driver/node-driver.js';
import { EthernetInterface } from '../src/link/ethernet.js';
import type { Link } from '../src/link/link.js';
import { createNet } from '../src/net/index.js';
import { Rng } from '../src/rng.js';
import { formatAddr } from '../src/wire/addr.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from '../src/wire/checksum.js';
import { emitIpv4Header } from '../src/wire/ip.js';
import { DhcpOpt, DhcpType, emitDhcp, newDhcpMessage, parseDhcp, dhcpAddrOption, dhcpMessageType, BootpOp } from '../src/wire/dhcp.js';

/** v86's bus (src/bus.js): named messages between the emulator's devices and its adapters, delivered asynchronously here. */
function fakeBus(): V86Bus {
  const handlers = new Map<string, ((d: Uint8Array) => void)[]>();
  return {
    register(name, fn) {
      handlers.set(name, [...(handlers.get(name) ?? []), fn]);
    },
    unregister(name, fn) {
      handlers.set(name, (handlers.get(name) ?? []).filter((f) => f !== fn));
    },
    send(name, data) {
      queueMicrotask(() => {
        for (const f of handlers.get(name) ?? []) f(data);
      });
    },
  };
}

const VM_MAC = Uint8Array.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

/** An Ethernet frame with an IPv4/UDP datagram 0.0.0.0:68 → 255.255.255.255:67 (RFC 2131 §4.1). */
function dhcpFrame(payload: Uint8Array): Uint8Array {
  const src = new Uint8Array(4);
  const dst = Uint8Array.from([255, 255, 255, 255]);
  const ulen = 8 + payload.length;
  const f = new Uint8Array(14 + 20 + ulen);
  f.fill(0xff, 0, 6);
  f.set(VM_MAC, 6);
  f[12] = 0x08;
  const p = f.subarray(14);
  emitIpv4Header(p, 0, src, dst, 17, ulen, 64, 0, true);
  p.set([0, 68, 0, 67, ulen >> 8, ulen & 0xff, 0, 0], 20);
  p.set(payload, 28);
  const c = finishChecksum(sum16(p, 20, ulen, pseudoHeaderSum(src, dst, 17, ulen))) || 0xffff;
  p[26] = c >> 8;
  p[27] = c & 0xff;
  return f;
}

function dhcpRequest(type: number, xid: number, extra: [number, Uint8Array][] = []): Uint8Array {
  const m = newDhcpMessage();
  m.op = BootpOp.REQUEST;
  m.hlen = 6;
  m.xid = xid;
  m.chaddr.set(VM_MAC);
  m.options.set(DhcpOpt.MESSAGE_TYPE, Uint8Array.of(type));
  m.options.set(DhcpOpt.PARAM_REQUEST, Uint8Array.of(DhcpOpt.SUBNET_MASK, DhcpOpt.ROUTER, DhcpOpt.DNS, DhcpOpt.MTU));
  for (const [k, v] of extra) m.options.set(k, v);
  return dhcpFrame(emitDhcp(m));
}

test('v86 adapter: the VM stand-in takes a lease by DHCP, fetches from the host through synack relay, and is refused outside the allow list', { timeout: 60_000 }, async () => {
  const body = randomBytes(300_000);
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

  // The VM's NIC: frames to the adapter on net0-send, from it on net0-receive.
  let toVm: ((f: Uint8Array) => void) | null = null;
  const dhcpReplies: ReturnType<typeof parseDhcp>[] = [];
  bus.register('net0-receive', (f) => {
    // Before the VM has an address, only DHCP replies (UDP to port 68) matter.
    if (toVm === null) {
      if (f[12] === 0x08 && f[13] === 0 && f[14 + 9] === 17 && ((f[14 + 22]! << 8) | f[14 + 23]!) === 68) dhcpReplies.push(parseDhcp(f.subarray(14 + (f[14]! & 15) * 4 + 8)));
      return;
    }
    toVm(f);
  });
  const nextReply = async (): Promise<Exclude<ReturnType<typeof parseDhcp>, string>> => {
    for (let i = 0; i < 200 && dhcpReplies.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const m = dhcpReplies.shift();
    assert.ok(m !== undefined && typeof m !== 'string', `a DHCP reply (${String(m)})`);
    return m;
  };
  const xid = 0x5eed;
  bus.send('net0-send', dhcpRequest(DhcpType.DISCOVER, xid));
  const offer = await nextReply();
  assert.equal(dhcpMessageType(offer), DhcpType.OFFER);
  const offered = formatAddr(offer.yiaddr);
  bus.send('net0-send', dhcpRequest(DhcpType.REQUEST, xid, [[DhcpOpt.REQUESTED_ADDR, offer.yiaddr], [DhcpOpt.SERVER_ID, offer.options.get(DhcpOpt.SERVER_ID)!]]));
  const ack = await nextReply();
  assert.equal(dhcpMessageType(ack), DhcpType.ACK);
  const router = dhcpAddrOption(ack, DhcpOpt.ROUTER);
  assert.deepEqual([offered, formatAddr(ack.yiaddr), router, dhcpAddrOption(ack, DhcpOpt.DNS)], ['10.0.2.15', '10.0.2.15', '10.0.2.2', '10.0.2.3']);

  // The VM stand-in: a synack stack with the leased address on that NIC.
  const vmDriver = new NodeDriver();
  const vmLink: Link = {
    mtu: 1500,
    send: (f) => bus.send('net0-send', f.slice()),
    onReceive: (cb) => {
      toVm = cb;
    },
  };
  const vmEth = new EthernetInterface(vmLink, { mac: VM_MAC, addresses: ['10.0.2.15/24'], gateway: router!, linkLocal: false, timers: vmDriver, rng: new Rng(9) });
  const vm = vmDriver.createStack({ name: 'vm', addresses: ['10.0.2.15/24'], gateway: router!, seed: 5 });
  vmDriver.attach(vm, vmEth.link);
  const vmNet = createNet(vm, vmDriver);
  try {
    const got = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = vmNet.connect(webPort, '10.0.2.2', () => c.write(`GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
    });
    const split = got.indexOf('\r\n\r\n');
    assert.match(got.subarray(0, split).toString(), /^HTTP\/1\.1 200/);
    const fetched = got.subarray(split + 4);
    assert.equal(fetched.length, body.length);
    assert.equal(createHash('sha256').update(fetched).digest('hex'), createHash('sha256').update(body).digest('hex'));

    // Another host port is outside the allow list: the relay says EACCES, the VM gets ICMP admin-prohibited.
    const code = await new Promise<string>((resolve) => {
      const c = vmNet.connect(webPort + 1 === 65536 ? webPort - 1 : webPort + 1, '10.0.2.2', () => resolve('connected'));
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.notEqual(code, 'connected');
    assert.equal(sessions[0]!.counters.denied, 1);
    const s = un.stats();
    assert.equal(s.tcp.accepted, 1);
    assert.equal(s.tcp.unreachable, 1);
    assert.equal(s.dhcp.sent.ACK, 1);
  } finally {
    vmDriver.close();
    adapter.destroy();
    ws.close();
    relaySrv.close();
    web.close();
  }
});
