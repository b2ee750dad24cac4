/**
 * The TCP forwarder and relay on virtual time: a guest stack connects to a foreign address
 * through a gateway stack whose interface is in any-IP mode with a TcpRelay; the host side is a
 * scripted Duplex (the test decides when it connects, refuses, reads or ends). Proves: the SYN is
 * answered only after the host connect succeeds; a refused connect is a RST; a connect timeout is
 * ICMP host unreachable; a host reader that does not read closes the guest's window with a
 * bounded amount buffered; half-close goes both ways; RSTs go both ways; the flow table's limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { simTimers } from '../src/driver/sim-ethernet.js';
import type { Stack } from '../src/stack/stack.js';
import type { TcpSocket } from '../src/stack/socket.js';
import { TcpRelay } from '../src/usernet/tcp-relay.js';

/** A host socket the test drives: it "connects" when told, reads only while `reading`. */
class FakeHost extends Duplex {
  consumed = 0;
  data: Buffer[] = [];
  finished = false;
  wasReset = false;
  reading = true;
  private held: (() => void) | null = null;
  constructor(hwm = 16 * 1024) {
    super({ allowHalfOpen: true, writableHighWaterMark: hwm });
  }
  override _write(chunk: Buffer, _enc: string, cb: (e?: Error | null) => void): void {
    const take = (): void => {
      this.consumed += chunk.length;
      this.data.push(chunk);
      cb();
    };
    if (this.reading) take();
    else this.held = take;
  }
  override _final(cb: () => void): void {
    this.finished = true;
    cb();
  }
  override _read(): void {}
  startReading(): void {
    this.reading = true;
    const h = this.held;
    this.held = null;
    h?.();
  }
  resetAndDestroy(): this {
    this.wasReset = true;
    return this.destroy();
  }
}

function setup(opts: { maxFlows?: number; connectTimeoutMs?: number; hwm?: number } = {}) {
  const world = new SimWorld({ seed: 7 });
  const guest = world.addHost('guest', ['10.0.2.15/24'], { gateway: '10.0.2.2' });
  const gw = world.addHost('gw', ['10.0.2.2/24']);
  gw.primary.anyIp = true;
  const hosts: { host: string; port: number; s: FakeHost }[] = [];
  const relay = new TcpRelay({
    stack: gw,
    timers: simTimers(world.sim),
    // 192.0.2.99 stands for a destination nothing on the host stands for (the gateway with hostLoopback off).
    hostFor: (dst) => (dst === '192.0.2.99' ? null : dst === '10.0.2.2' ? '127.0.0.1' : dst),
    connect: (host, port) => {
      const s = new FakeHost(opts.hwm);
      hosts.push({ host, port, s });
      return s;
    },
    maxFlows: opts.maxFlows,
    connectTimeoutMs: opts.connectTimeoutMs,
  });
  relay.install();
  const driver = new SimDriver(world);
  return { world, guest, gw, relay, hosts, driver };
}

function open(guest: Stack, port = 80, addr = '198.51.100.7'): { sock: TcpSocket; events: string[]; got: Buffer[] } {
  const sock = guest.connect({ remoteAddress: addr, remotePort: port });
  const events: string[] = [];
  const got: Buffer[] = [];
  sock.onConnect = () => events.push('connect');
  sock.onError = (code) => events.push(code);
  sock.onEnd = () => events.push('end');
  sock.onData = () => {
    for (let d = sock.read(); d !== null; d = sock.read()) got.push(Buffer.from(d));
  };
  return { sock, events, got };
}

test('forwarder: the guest SYN is answered only after the host connect succeeds', async () => {
  const { world, guest, gw, relay, hosts, driver } = setup();
  const c = open(guest);
  await driver.runFor(500_000);
  assert.equal(hosts.length, 1);
  assert.deepEqual([hosts[0]!.host, hosts[0]!.port], ['198.51.100.7', 80]);
  assert.equal(c.sock.state, 'SYN_SENT', 'no SYN-ACK while the host connect is pending');
  assert.equal(gw.connections().length, 0);
  // A retransmitted SYN (after 1 s) is absorbed, not a second host connect.
  await driver.runFor(1_500_000);
  assert.equal(hosts.length, 1);
  assert.equal(gw.forwarder!.counters.duplicateSyns, 1);
  world.at(world.now + 10, () => hosts[0]!.s.emit('connect'));
  await driver.until(() => c.sock.state === 'ESTABLISHED', 5_000_000);
  assert.deepEqual(c.events, ['connect']);
  assert.equal(relay.counters.accepted, 1);
  // The guest-side connection is the foreign address's: netstat shows 198.51.100.7:80.
  assert.equal(gw.netstat().find((r) => r.remotePort === c.sock.localPort)?.localAddress, '198.51.100.7');
  c.sock.write('GET / HTTP/1.0\r\n\r\n');
  hosts[0]!.s.push('HTTP/1.0 200 OK\r\n\r\nhi');
  await driver.until(() => Buffer.concat(c.got).toString().endsWith('hi') && Buffer.concat(hosts[0]!.s.data).toString().endsWith('\r\n\r\n'), 5_000_000);
});

test('forwarder: a refused host connect is a RST (ECONNREFUSED); a timeout is ICMP host unreachable', async () => {
  const { guest, relay, hosts, driver } = setup({ connectTimeoutMs: 3000 });
  const refused = open(guest, 81);
  await driver.runFor(100_000);
  hosts[0]!.s.destroy(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  await driver.until(() => refused.events.length > 0, 5_000_000);
  assert.deepEqual(refused.events, ['ECONNREFUSED']);
  assert.equal(relay.counters.refused, 1);

  const silent = open(guest, 82);
  const before = guest.counters.IcmpInDestUnreachs ?? 0;
  await driver.runFor(3_500_000);
  assert.equal(relay.counters.unreachable, 1);
  assert.equal((guest.counters.IcmpInDestUnreachs ?? 0) - before, 1, 'the guest got ICMP destination unreachable');
  // LINUX tcp_v4_err: a hard error (host unreachable) in SYN_SENT ends the connect at once.
  assert.deepEqual(silent.events, ['EHOSTUNREACH']);
});

test('forwarder: a host that does not read closes the guest window; what is buffered stays bounded', async () => {
  const { world, guest, gw, hosts, driver } = setup({ hwm: 16 * 1024 });
  const c = open(guest);
  await driver.runFor(100_000);
  const h = hosts[0]!.s;
  h.reading = false;
  world.at(world.now + 10, () => h.emit('connect'));
  await driver.until(() => c.sock.state === 'ESTABLISHED', 5_000_000);
  const total = 8 * 1024 * 1024;
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(9);
  const pump = (): void => {
    while (sent < total) {
      const n = c.sock.write(chunk.subarray(0, Math.min(chunk.length, total - sent)));
      sent += n;
      if (n === 0) return;
    }
  };
  c.sock.onWritable = pump;
  pump();
  await driver.runFor(5_000_000);
  const gconn = gw.connections()[0]!;
  // The relay stopped reading: the synack receive buffer is full and the window it offers is 0.
  assert.ok(sent < total, `the guest could not send everything (${sent})`);
  assert.equal(gconn.snapshot(world.now).rcvWnd, 0, 'the gateway advertises a zero window');
  // Host side: at most its highWaterMark plus one 64 KiB read sit in its write buffer.
  assert.ok(h.writableLength <= 16 * 1024 + 64 * 1024, `host buffered ${h.writableLength}`);
  // The host starts reading: everything arrives, intact.
  h.startReading();
  await driver.until(() => h.consumed === total, 60_000_000);
  assert.equal(sent, total);
});

test('forwarder: half-close both ways, and RST both ways', async () => {
  const { world, guest, hosts, driver } = setup();
  const c = open(guest);
  await driver.runFor(100_000);
  world.at(world.now + 10, () => hosts[0]!.s.emit('connect'));
  await driver.until(() => c.sock.state === 'ESTABLISHED', 5_000_000);
  const h = hosts[0]!.s;
  // The guest half-closes: the host sees end() after the data; the host still sends.
  c.sock.write('last words');
  c.sock.shutdown();
  await driver.until(() => h.finished, 5_000_000);
  assert.equal(Buffer.concat(h.data).toString(), 'last words');
  h.push('reply after the guest FIN');
  await driver.until(() => Buffer.concat(c.got).toString() === 'reply after the guest FIN', 5_000_000);
  assert.ok(!c.events.includes('end'));
  // The host ends: the guest gets EOF (FIN), and the connection closes normally.
  h.push(null);
  await driver.until(() => c.events.includes('end'), 5_000_000);

  // A guest RST resets the host socket; a host error resets the guest.
  const c2 = open(guest, 8080);
  await driver.runFor(100_000);
  world.at(world.now + 10, () => hosts[1]!.s.emit('connect'));
  await driver.until(() => c2.sock.state === 'ESTABLISHED', 5_000_000);
  c2.sock.abort();
  await driver.until(() => hosts[1]!.s.wasReset, 5_000_000);

  const c3 = open(guest, 8081);
  await driver.runFor(100_000);
  world.at(world.now + 10, () => hosts[2]!.s.emit('connect'));
  await driver.until(() => c3.sock.state === 'ESTABLISHED', 5_000_000);
  hosts[2]!.s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await driver.until(() => c3.events.includes('ECONNRESET'), 5_000_000);
});

test('forwarder: the flow table is bounded; a SYN past the limit is refused and counted', async () => {
  const { world, guest, relay, hosts, driver } = setup({ maxFlows: 2 });
  const a = open(guest, 1001);
  const b = open(guest, 1002);
  await driver.runFor(100_000);
  const c = open(guest, 1003);
  await driver.until(() => c.events.length > 0, 5_000_000);
  assert.deepEqual(c.events, ['ECONNREFUSED']);
  assert.equal(relay.counters.flowLimit, 1);
  assert.equal(hosts.length, 2);
  for (const h of hosts) world.at(world.now + 10, () => h.s.emit('connect'));
  await driver.until(() => a.sock.state === 'ESTABLISHED' && b.sock.state === 'ESTABLISHED', 5_000_000);
  assert.equal(relay.flows().length, 2);
  assert.deepEqual(relay.flows().map((f) => f.state), ['relaying', 'relaying']);
});

test('forwarder: a destination the host does not stand for is refused at once, with no host connect', async () => {
  const { guest, relay, hosts, driver } = setup();
  const c = open(guest, 80, '192.0.2.99');
  await driver.until(() => c.events.length > 0, 5_000_000);
  assert.deepEqual(c.events, ['ECONNREFUSED']);
  assert.equal(hosts.length, 0);
  assert.equal(relay.counters.refused, 1);
});
