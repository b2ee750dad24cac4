/**
 * The net API on the host's loopback and both families: 'localhost', 127.0.0.1, ::1, a
 * dual-stack listen(port), IPv4-mapped and scoped addresses, ECONNREFUSED at once on lo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { createNet } from '../src/net/index.js';
import { sec } from '../src/time.js';

function echoWorld() {
  const world = new SimWorld({ seed: 4 });
  const driver = new SimDriver(world);
  const host = world.addHost('h', ['10.0.0.1/24', 'fd00::1/64', 'fe80::1/64']);
  const other = world.addHost('o', ['10.0.0.2/24', 'fd00::2/64']);
  return { world, driver, net: createNet(host, driver), otherNet: createNet(other, driver) };
}

async function roundTrip(net: ReturnType<typeof createNet>, driver: SimDriver, port: number, host?: string): Promise<{ reply: string; remote: string }> {
  let reply = '';
  let done = false;
  const sock = host === undefined ? net.connect(port) : net.connect(port, host);
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (reply += d));
  sock.on('end', () => (done = true));
  sock.on('error', (e: Error) => {
    reply = `error ${(e as Error & { code: string }).code}`;
    done = true;
  });
  await driver.until(() => done, sec(5));
  return { reply, remote: sock.remoteAddress ?? '' };
}

test("listen(port) is dual-stack: IPv4 and IPv6 clients, 'localhost', 127.0.0.1, ::1 and the scoped fe80::1%eth0 all connect", async () => {
  const { driver, net, otherNet } = echoWorld();
  const server = net.createServer((s) => s.end(`${s.remoteAddress} ${s.remoteFamily} ${s.localAddress}`)).listen(7);
  assert.deepEqual(server.address(), { address: '::', family: 'IPv6', port: 7 });
  assert.equal((await roundTrip(net, driver, 7)).reply, '::1 IPv6 ::1', 'no host: localhost, ::1 first');
  assert.equal((await roundTrip(net, driver, 7, 'localhost')).reply, '::1 IPv6 ::1');
  assert.equal((await roundTrip(net, driver, 7, '127.0.0.1')).reply, '::ffff:127.0.0.1 IPv6 ::ffff:127.0.0.1');
  assert.equal((await roundTrip(net, driver, 7, '::ffff:127.0.0.1')).reply, '::ffff:127.0.0.1 IPv6 ::ffff:127.0.0.1');
  assert.equal((await roundTrip(net, driver, 7, 'fe80::1%eth0')).reply, 'fe80::1 IPv6 fe80::1');
  assert.equal((await roundTrip(otherNet, driver, 7, '10.0.0.1')).reply, '::ffff:10.0.0.2 IPv6 ::ffff:10.0.0.1');
  assert.equal((await roundTrip(otherNet, driver, 7, 'fd00::1')).reply, 'fd00::2 IPv6 fd00::1');
});

test("'localhost' falls back from ::1 to 127.0.0.1 like Node's autoSelectFamily; an IPv4-only server is reached", async () => {
  const { driver, net } = echoWorld();
  net.createServer((s) => s.end(`hi ${s.remoteAddress}`)).listen(8, '127.0.0.1');
  assert.equal((await roundTrip(net, driver, 8, 'localhost')).reply, 'hi 127.0.0.1');
  // ipv6Only: the '::' listener leaves IPv4 alone.
  net.createServer((s) => s.end('v6')).listen({ port: 9, host: '::', ipv6Only: true });
  assert.equal((await roundTrip(net, driver, 9, '127.0.0.1')).reply, 'error ECONNREFUSED');
  assert.equal((await roundTrip(net, driver, 9, '::1')).reply, 'v6');
});

test('connect to a closed port on 127.0.0.1 is refused at once (no 127 s of SYNs)', async () => {
  const { world, driver, net } = echoWorld();
  const t0 = world.now;
  assert.equal((await roundTrip(net, driver, 7, '127.0.0.1')).reply, 'error ECONNREFUSED');
  assert.equal((await roundTrip(net, driver, 7, 'localhost')).reply, 'error ECONNREFUSED');
  assert.ok(world.now - t0 < 1000, `took ${world.now - t0} µs`);
});
