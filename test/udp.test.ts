/**
 * UDP (RFC 768) and the node:dgram API on the simulator (virtual time): echo round trips over
 * IPv4, IPv6 and dual-stack sockets; loss and corruption (lost, never duplicated or corrupted);
 * Linux's bind rules; connected sockets and ICMP errors; broadcast refusal; the receive-queue
 * bound; counters with /proc/net/snmp's names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import type { PathConfig } from '../src/driver/sim-network.js';
import { createDgram, type Dgram } from '../src/dgram/index.js';
import type { RemoteInfo, Socket } from '../src/dgram/socket.js';
import type { IcmpErrorInfo } from '../src/ip/layer.js';
import { DATAGRAM_OVERHEAD } from '../src/udp/socket.js';
import { ms, sec } from '../src/time.js';
import { formatNetstat, selectRows } from '../src/diag/netstat.js';
import { parseProcNetTcp, parseSnmpUdp } from '../src/diag/proc.js';
import { realTimePair } from './helpers.js';

const C4 = '10.0.0.1';
const S4 = '10.0.0.2';
const C6 = 'fd00::1';
const S6 = 'fd00::2';

function setup(path: Partial<PathConfig> = { delay: ms(5) }, seed = 1) {
  const world = new SimWorld({ seed, path });
  const a = world.addHost('client', [`${C4}/24`, `${C6}/64`]);
  const b = world.addHost('server', [`${S4}/24`, `${S6}/64`]);
  const driver = new SimDriver(world);
  return { world, driver, a, b, c: createDgram(a, driver), s: createDgram(b, driver) };
}

/** An echo server (RFC 862 over UDP) on `port`. */
function echoServer(d: Dgram, type: 'udp4' | 'udp6', port: number, address?: string): Socket {
  const sock = d.createSocket(type, (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  sock.bind(port, address);
  return sock;
}

function once<T extends unknown[]>(e: Socket, name: string): Promise<T> {
  return new Promise((resolve) => e.once(name, (...args: unknown[]) => resolve(args as T)));
}

/** Advance virtual time until `p` settles (events that need the network to move). */
async function settle<T>(driver: SimDriver, p: Promise<T>): Promise<T> {
  let done = false;
  let value: T | undefined;
  void p.then((v) => {
    done = true;
    value = v;
  });
  await driver.until(() => done);
  return value as T;
}

test('dgram echo round trip over IPv4 and IPv6: every send overload, rinfo, counters', async () => {
  for (const [type, server, client] of [['udp4', S4, C4], ['udp6', S6, C6]] as const) {
    const { driver, a, b, c, s } = setup();
    const srv = echoServer(s, type, 7);
    const events: string[] = [];
    srv.on('listening', () => events.push('listening'));
    const cli = c.createSocket(type);
    const got: [string, RemoteInfo][] = [];
    cli.on('message', (m: Buffer, r: RemoteInfo) => got.push([m.toString(), r]));
    const sent: (number | undefined)[] = [];
    cli.send('one', 7, server, (err: Error | null, n?: number) => {
      assert.equal(err, null);
      sent.push(n);
    });
    cli.send(Buffer.from('xxtwoxx'), 2, 3, 7, server);
    cli.send([Buffer.from('th'), 'r', new Uint8Array([101, 101])], 7, server);
    cli.send(new Uint8Array(0), 7, server);
    await driver.until(() => got.length === 4);
    assert.deepEqual(events, ['listening']);
    assert.deepEqual(got.map((g) => g[0]), ['one', 'two', 'three', '']);
    const family = type === 'udp4' ? 'IPv4' : 'IPv6';
    assert.deepEqual(got[0]![1], { address: server, family, port: 7, size: 3 });
    assert.deepEqual(sent, [3]);
    const addr = cli.address();
    assert.equal(addr.address, type === 'udp4' ? '0.0.0.0' : '::', 'implicit bind: the wildcard');
    assert.ok(addr.port >= 32768 && addr.port <= 60999, `ephemeral port ${addr.port}`);
    const G = type === 'udp4' ? 'Udp' : 'Udp6';
    assert.equal(a.counters[`${G}OutDatagrams`], 4);
    assert.equal(a.counters[`${G}InDatagrams`], 4);
    assert.equal(b.counters[`${G}InDatagrams`], 4);
    assert.equal(b.counters[`${G}OutDatagrams`], 4);
    assert.equal(b.counters[`${G}NoPorts`], 0);
    const closed = once(cli, 'close');
    cli.close();
    await closed;
    srv.close();
    assert.throws(() => cli.send('x', 7, server), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    assert.throws(() => cli.close(), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  }
});

test('a datagram the egress qdisc drops: the send succeeds and counts SndbufErrors (LINUX udp_send_skb without IP_RECVERR)', async () => {
  const { driver, a, b, c, s } = setup();
  const got: string[] = [];
  s.createSocket('udp4', (m) => got.push(m.toString())).bind(7);
  a.ip.setQdisc(a.ip.iface('eth0')!, { kind: 'pfifo', limit: 0 });
  const cli = c.createSocket('udp4');
  const sent: (Error | null)[] = [];
  cli.send('dropped', 7, S4, (err: Error | null) => sent.push(err));
  await driver.until(() => sent.length === 1);
  assert.deepEqual(sent, [null]);
  assert.equal(a.counters['UdpSndbufErrors'], 1);
  assert.equal(a.counters['UdpOutDatagrams'], 0);
  a.ip.setQdisc(a.ip.iface('eth0')!, null);
  cli.send('sent', 7, S4);
  await driver.until(() => got.length === 1);
  assert.deepEqual(got, ['sent']);
  assert.equal(b.counters['UdpInDatagrams'], 1);
  cli.close();
});

test('a dual-stack udp6 socket on :: gets IPv4 datagrams from IPv4-mapped addresses; ipv6Only refuses them', async () => {
  const { driver, c, s, b } = setup();
  const srv = echoServer(s, 'udp6', 7);
  const cli = c.createSocket('udp4');
  const seen: RemoteInfo[] = [];
  srv.on('message', (_m, r: RemoteInfo) => seen.push(r));
  let echoed = '';
  cli.on('message', (m: Buffer) => (echoed = m.toString()));
  cli.send('v4', 7, S4);
  await driver.until(() => echoed !== '');
  assert.equal(echoed, 'v4');
  assert.equal(seen[0]!.address, `::ffff:${C4}`);
  assert.equal(seen[0]!.family, 'IPv6');
  assert.equal(b.counters.UdpInDatagrams, 1, 'an IPv4 datagram counts in Udp, whatever the socket');
  srv.close();
  const only = s.createSocket({ type: 'udp6', ipv6Only: true });
  only.bind(7);
  await once(only, 'listening');
  cli.send('again', 7, S4);
  await driver.runFor(ms(50));
  assert.equal(b.counters.UdpNoPorts, 1, 'a v6only socket does not take IPv4');
  only.close();
  cli.close();
});

test('UDP under loss, reordering and corruption: datagrams are lost, never duplicated or corrupted, and every loss is accounted for', async () => {
  const { world, driver, b, c, s } = setup({ delay: ms(2), jitter: ms(3), loss: 0.2, reorder: 0.1, corrupt: 0.1 }, 7);
  const fates = { loss: 0, corrupt: 0 };
  world.onFrame((ev) => {
    if (ev.from !== 'client') return;
    if (ev.reason === 'loss') fates.loss++;
    if (ev.reason === 'corrupt-delivered') fates.corrupt++;
  });
  const srv = s.createSocket('udp4');
  srv.bind(9);
  await once(srv, 'listening');
  const got = new Map<number, number>();
  srv.on('message', (m: Buffer) => {
    const n = m.readUInt32BE(0);
    // The payload is its number, then 200 bytes derived from it: any flipped bit shows.
    for (let i = 4; i < m.length; i++) assert.equal(m[i], (n * 7 + i) & 0xff, `datagram ${n} byte ${i} corrupted`);
    assert.equal(m.length, 204);
    got.set(n, (got.get(n) ?? 0) + 1);
  });
  const cli = c.createSocket('udp4');
  const N = 400;
  for (let n = 0; n < N; n++) {
    const p = Buffer.alloc(204);
    p.writeUInt32BE(n, 0);
    for (let i = 4; i < p.length; i++) p[i] = (n * 7 + i) & 0xff;
    cli.send(p, 9, S4);
  }
  await driver.runFor(sec(1));
  for (const [n, k] of got) assert.equal(k, 1, `datagram ${n} delivered ${k} times`);
  assert.ok(fates.loss > 40 && fates.corrupt > 20, `the path lost ${fates.loss} and corrupted ${fates.corrupt}`);
  assert.equal(got.size, N - fates.loss - fates.corrupt, 'every datagram not lost nor corrupted arrived');
  const drops = Object.entries(b.counters).filter(([k]) => k.startsWith('Drop.')).reduce((t, [, v]) => t + v, 0);
  assert.equal(drops, fates.corrupt, 'every corrupted datagram was dropped and counted by reason');
  assert.ok(b.counters.UdpInCsumErrors! > 0, 'payload corruption shows as UdpInCsumErrors');
  assert.equal(b.counters.UdpInErrors, b.counters.UdpInCsumErrors);
  assert.equal(b.counters.UdpInDatagrams, got.size);
  srv.close();
  cli.close();
});

test("bind follows Linux's rules: EADDRINUSE on overlapping addresses unless both reuseAddr; v6only; EADDRNOTAVAIL; already bound", async () => {
  const { driver, b, s } = setup();
  const u = b.udp;
  const any4 = u.open(4);
  any4.bind('0.0.0.0', 53);
  assert.throws(() => u.open(4).bind(S4, 53), /EADDRINUSE/, 'specific vs wildcard overlap');
  assert.throws(() => u.open(6).bind('::', 53), /EADDRINUSE/, 'dual-stack :: overlaps IPv4 0.0.0.0');
  u.open(6, { ipv6Only: true }).bind('::', 53); // v6only: no IPv4 side
  u.open(4).bind('127.0.0.1', 54);
  u.open(4).bind(S4, 54); // different specific addresses do not overlap
  const r1 = u.open(4, { reuseAddr: true });
  r1.bind(S4, 55);
  const r2 = u.open(4, { reuseAddr: true });
  r2.bind(S4, 55); // SO_REUSEADDR on both: shared even on the same address (LINUX udp_lib_lport_inuse)
  assert.throws(() => u.open(4).bind(S4, 55), /EADDRINUSE/, 'one without reuseAddr conflicts');
  assert.throws(() => u.open(4).bind('10.9.9.9', 56), /EADDRNOTAVAIL/);
  assert.throws(() => any4.bind('0.0.0.0', 57), /EINVAL/, 'bound twice');
  assert.throws(() => u.open(4).bind('fd00::2', 58), /EAFNOSUPPORT/);
  assert.throws(() => u.open(4).bind(S4, 70000), /port must be an integer 0\.\.65535/);
  // Node's surface: an 'error' event 'bind EADDRINUSE 0.0.0.0:53', ERR_SOCKET_ALREADY_BOUND, ERR_SOCKET_BAD_PORT.
  const dup = s.createSocket('udp4');
  dup.bind(53);
  const [err] = await once<[Error & { code: string; errno: number; syscall: string; address: string; port: number }]>(dup, 'error');
  assert.equal(err.code, 'EADDRINUSE');
  assert.equal(err.errno, -98);
  assert.equal(err.syscall, 'bind');
  assert.match(err.message, /^bind EADDRINUSE 0\.0\.0\.0:53/);
  assert.deepEqual([err.address, err.port], ['0.0.0.0', 53]);
  const ok = s.createSocket('udp4');
  ok.bind(0, S4);
  assert.throws(() => ok.bind(1), { code: 'ERR_SOCKET_ALREADY_BOUND' });
  assert.throws(() => s.createSocket('udp4').bind(70000), { code: 'ERR_SOCKET_BAD_PORT' });
  assert.throws(() => s.createSocket('udp5' as 'udp4'), { code: 'ERR_SOCKET_BAD_TYPE' });
  await once(ok, 'listening');
  assert.equal(ok.address().address, S4);
  await driver.runFor(ms(1));
});

test('delivery picks the closest socket: connected > bound address > wildcard; ties to the most recently bound', () => {
  const { world, a, b } = setup();
  const wild = b.udp.open(4, { reuseAddr: true });
  wild.bind('0.0.0.0', 99);
  const from = a.udp.open(4);
  from.bind(C4, 4000);
  from.send(new Uint8Array([1]), S4, 99);
  world.run(world.now + ms(20));
  assert.equal(wild.queued, 1);
  const exact = b.udp.open(4, { reuseAddr: true });
  exact.bind(S4, 99);
  from.send(new Uint8Array([2]), S4, 99);
  world.run(world.now + ms(20));
  assert.equal(exact.queued, 1, 'bound address beats the wildcard');
  const exact2 = b.udp.open(4, { reuseAddr: true });
  exact2.bind(S4, 99);
  from.send(new Uint8Array([3]), S4, 99);
  world.run(world.now + ms(20));
  assert.equal(exact2.queued, 1, 'a tie goes to the most recently bound');
  const conn = b.udp.open(4, { reuseAddr: true });
  conn.bind(S4, 99);
  conn.connect(C4, 4000);
  const other = a.udp.open(4);
  other.send(new Uint8Array([4]), S4, 99);
  from.send(new Uint8Array([5]), S4, 99);
  world.run(world.now + ms(20));
  assert.equal(conn.queued, 1, 'the connected socket gets its peer’s datagram');
  assert.equal(exact2.queued, 2, 'and not the stranger’s: that one goes to the best unconnected socket');
  assert.equal(conn.recv()!.data[0], 5);
});

test('connected UDP: an ICMP port unreachable becomes ECONNREFUSED on the next operation (LINUX __udp4_lib_err), only when connected', () => {
  const { a } = setup();
  const s = a.udp.open(4);
  s.connect(S4, 9);
  assert.equal(s.localAddress, C4, 'connect fixes the source address (the route\'s)');
  let woke = 0;
  s.onError = () => woke++;
  const icmp = (fatal: boolean, sport = s.localPort): IcmpErrorInfo => ({
    version: 4, type: 3, code: 3, errno: 'ECONNREFUSED', fatal, mtu: 0, src: C4, dst: S4, from: S4,
    payload: new Uint8Array([sport >> 8, sport & 0xff, 0, 9, 0, 9, 0, 0]),
  });
  a.udp.error(icmp(false));
  assert.equal(woke, 0, 'a soft error is not reported (no IP_RECVERR)');
  a.udp.error(icmp(true, s.localPort + 1));
  assert.equal(woke, 0, 'an error about another port is not ours');
  a.udp.error(icmp(true));
  assert.equal(woke, 1);
  assert.throws(() => s.send(new Uint8Array([1])), /ECONNREFUSED/);
  assert.equal(s.send(new Uint8Array([1])), 1, 'the error is reported once (sock_error clears it)');
  a.udp.error(icmp(true));
  assert.throws(() => s.recv(), /ECONNREFUSED/, 'recv reports it first too');
  assert.equal(s.recv(), null);
  const unconnected = a.udp.open(4);
  unconnected.bind('0.0.0.0', 5000);
  let woke2 = 0;
  unconnected.onError = () => woke2++;
  a.udp.error(icmp(true, 5000));
  assert.equal(woke2, 0, 'unconnected sockets ignore ICMP errors (their sends may go anywhere)');
});

test('node:dgram: a connected socket to a closed port gets ECONNREFUSED (recvmsg) through ICMP port unreachable; NoPorts counted', async () => {
  const { driver, a, b, c } = setup();
  const cli = c.createSocket('udp4');
  const errors: (Error & { code?: string; syscall?: string })[] = [];
  cli.on('error', (e) => errors.push(e));
  cli.connect(9, S4, () => cli.send('anyone?'));
  await driver.until(() => errors.length > 0);
  assert.equal(errors[0]!.code, 'ECONNREFUSED');
  assert.equal(errors[0]!.syscall, 'recvmsg');
  assert.equal(b.counters.UdpNoPorts, 1);
  assert.equal(b.counters.IcmpOutDestUnreachs, 1, 'port unreachable went out through the ICMP engine');
  assert.equal(a.counters.UdpOutDatagrams, 1);
  cli.close();
  // IPv6: ICMPv6 destination unreachable, code 4 (RFC 4443 §3.1), the same error.
  const c6 = c.createSocket('udp6');
  const errs6: (Error & { code?: string })[] = [];
  c6.on('error', (e) => errs6.push(e));
  c6.connect(9, S6, () => c6.send('anyone?'));
  await driver.until(() => errs6.length > 0);
  assert.equal(errs6[0]!.code, 'ECONNREFUSED');
  assert.equal(b.counters.Udp6NoPorts, 1);
  c6.close();
});

test('datagrams larger than the MTU leave in fragments (DF clear) and come back whole, IPv4 and IPv6', async () => {
  for (const [type, server] of [['udp4', S4], ['udp6', S6]] as const) {
    const { driver, a, c, s } = setup();
    const srv = echoServer(s, type, 7);
    const cli = c.createSocket(type);
    const body = Buffer.alloc(4000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    let back: Buffer | null = null;
    cli.on('message', (m: Buffer) => (back = m));
    cli.send(body, 7, server);
    await driver.until(() => back !== null);
    assert.ok(body.equals(back!), `${type}: 4000 bytes echoed intact`);
    assert.ok(a.counters[type === 'udp4' ? 'IpFragCreates' : 'Ip6FragCreates']! >= 3, `${type}: sent as fragments`);
    srv.close();
    cli.close();
  }
});

test('node:dgram connect, remoteAddress, disconnect and their errors', async () => {
  const { driver, c, s } = setup();
  const srv = echoServer(s, 'udp4', 7);
  const cli = c.createSocket('udp4');
  assert.throws(() => cli.remoteAddress(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
  assert.throws(() => cli.disconnect(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
  assert.throws(() => cli.connect(0, S4), { code: 'ERR_SOCKET_BAD_PORT' });
  const connected = once(cli, 'connect');
  cli.connect(7, S4);
  assert.throws(() => cli.connect(7, S4), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
  await connected;
  assert.deepEqual(cli.remoteAddress(), { address: S4, family: 'IPv4', port: 7 });
  assert.equal(cli.address().address, C4);
  assert.throws(() => cli.send('x', 0, 1, 7), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }, 'a port on a connected socket');
  const msg = once<[Buffer]>(cli, 'message');
  cli.send('hi');
  assert.equal((await settle(driver, msg))[0].toString(), 'hi');
  cli.disconnect();
  assert.throws(() => cli.remoteAddress(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
  assert.equal(cli.address().port, 0, 'LINUX __udp_disconnect releases an autobound port');
  assert.throws(() => cli.send('x'), { code: 'ERR_SOCKET_BAD_PORT' });
  // A connect that fails (no route) reports to its callback.
  const other = c.createSocket('udp4');
  const err = await new Promise<Error & { code?: string }>((resolve) => other.connect(9, '192.0.2.1', (e?: Error) => resolve(e!)));
  assert.equal(err.code, 'ENETUNREACH');
  assert.match(err.message, /^connect ENETUNREACH 192\.0\.2\.1:9/);
  srv.close();
  cli.close();
  other.close();
  await driver.runFor(ms(1));
});

test('broadcast needs SO_BROADCAST: EACCES without it (send and connect), sent with it', async () => {
  const { driver, a, c } = setup();
  // LINUX: 255.255.255.255 needs a route (ENETUNREACH without one, as Linux says); the default one.
  a.addRoute('0.0.0.0/0', { via: '10.0.0.254' });
  const cli = c.createSocket('udp4');
  assert.throws(() => cli.setBroadcast(true), (e: Error & { code?: string }) => e.code === 'EBADF' && /^setBroadcast EBADF/.test(e.message), 'options need a bound socket, as in Node');
  cli.bind(0);
  await once(cli, 'listening');
  for (const dst of ['255.255.255.255', '10.0.0.255']) {
    const err = await new Promise<(Error & { code?: string; address?: string; port?: number }) | null>((resolve) => cli.send('x', 9, dst, (e: Error | null) => resolve(e)));
    assert.equal(err?.code, 'EACCES', dst);
    assert.match(err!.message, new RegExp(`^send EACCES ${dst.replace(/\./g, '\\.')}:9`));
  }
  assert.throws(() => a.udp.open(4).connect('10.0.0.255', 9), /EACCES/, 'LINUX __ip4_datagram_connect');
  assert.equal(a.counters.UdpOutDatagrams, 0);
  cli.setBroadcast(true);
  const n = await new Promise<number | undefined>((resolve) => cli.send('x', 9, '10.0.0.255', (e: Error | null, k?: number) => resolve(e === null ? k : -1)));
  assert.equal(n, 1);
  assert.equal(a.counters.UdpOutDatagrams, 1);
  cli.close();
  await driver.runFor(ms(1));
});

test('the receive queue is bounded by SO_RCVBUF bytes: a burst past it is dropped and counted (RcvbufErrors, InErrors)', async () => {
  const { world, a, b, driver, c, s } = setup();
  const sink = b.udp.open(4);
  sink.bind('0.0.0.0', 9);
  sink.setRecvBufferSize(4096); // LINUX doubles it: 8192
  assert.equal(sink.rcvbuf, 8192);
  const src = a.udp.open(4);
  for (let i = 0; i < 50; i++) src.send(new Uint8Array(100), S4, 9);
  world.run(world.now + ms(50));
  // LINUX __udp_enqueue_schedule_skb: admitted while the charge so far is <= rcvbuf.
  const each = 100 + DATAGRAM_OVERHEAD;
  const admitted = Math.floor(8192 / each) + 1;
  assert.equal(sink.queued, admitted);
  assert.equal(b.counters.UdpRcvbufErrors, 50 - admitted);
  assert.equal(b.counters.UdpInErrors, 50 - admitted);
  assert.equal(b.counters['Drop.udp-rcvbuf'], 50 - admitted);
  for (let i = 0; i < admitted; i++) assert.ok(sink.recv());
  assert.equal(sink.recv(), null);
  assert.equal(sink.rmemAlloc, 0);
  assert.equal(b.counters.UdpInDatagrams, admitted, 'InDatagrams counts what the application read (LINUX udp_recvmsg)');
  // Zero-length datagrams are charged too: the queue stays bounded.
  for (let i = 0; i < 1000; i++) src.send(new Uint8Array(0), S4, 9);
  world.run(world.now + ms(50));
  assert.ok(sink.queued <= Math.floor(8192 / DATAGRAM_OVERHEAD) + 1);
  sink.close();
  // Through node:dgram: recvBufferSize at createSocket, get/set with Node's numbers and errors.
  const d = s.createSocket({ type: 'udp4', recvBufferSize: 1000 });
  assert.throws(() => d.getRecvBufferSize(), { code: 'ERR_SOCKET_BUFFER_SIZE' });
  assert.throws(() => d.setRecvBufferSize(-1), { code: 'ERR_SOCKET_BAD_BUFFER_SIZE' });
  d.bind(9);
  await once(d, 'listening');
  assert.equal(d.getRecvBufferSize(), 2304, 'SOCK_MIN_RCVBUF, as Node on Linux reports for 1000');
  d.setRecvBufferSize(100_000);
  assert.equal(d.getRecvBufferSize(), 200_000);
  let got = 0;
  d.on('message', () => got++);
  const before = b.counters.UdpRcvbufErrors!;
  const cli = c.createSocket('udp4');
  d.setRecvBufferSize(1000);
  for (let i = 0; i < 40; i++) cli.send(Buffer.alloc(100), 9, S4);
  await driver.runFor(ms(50));
  assert.equal(got + b.counters.UdpRcvbufErrors! - before, 40);
  assert.ok(got < 40, 'a burst in one instant overflows the small buffer');
  d.close();
  cli.close();
});

test('send errors: EMSGSIZE past 65507 bytes, ENETUNREACH without a route, ERR_SOCKET_BAD_PORT, bad buffers, setTTL range', async () => {
  const { driver, a, c } = setup();
  const cli = c.createSocket('udp4');
  const big = await new Promise<Error & { code?: string }>((resolve) => cli.send(Buffer.alloc(65508), 9, S4, (e: Error | null) => resolve(e!)));
  assert.equal(big.code, 'EMSGSIZE');
  const unreach = await new Promise<Error & { code?: string }>((resolve) => cli.send('x', 9, '192.0.2.1', (e: Error | null) => resolve(e!)));
  assert.equal(unreach.code, 'ENETUNREACH');
  assert.throws(() => cli.send('x', 0, S4), { code: 'ERR_SOCKET_BAD_PORT' });
  assert.throws(() => cli.send('x'), { code: 'ERR_SOCKET_BAD_PORT' });
  assert.throws(() => cli.send(5 as unknown as string, 9, S4), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => cli.send(Buffer.from('abc'), 5, 1, 9, S4), { code: 'ERR_BUFFER_OUT_OF_BOUNDS' });
  assert.throws(() => cli.setTTL(0), (e: Error & { code?: string }) => e.code === 'EINVAL' && /^setTTL EINVAL/.test(e.message));
  cli.setTTL(5);
  const seen: number[] = [];
  driver.world.onFrame((ev) => {
    if (ev.from === 'client') seen.push(ev.frame[8]!);
  });
  cli.send('x', 9, S4);
  await driver.runFor(ms(20));
  assert.deepEqual(seen, [5], 'IP_TTL applies');
  assert.equal(a.counters.UdpOutDatagrams, 1);
  cli.close();
});

test('netstat -u: a stack\'s UDP sockets as netstat -uan prints them; /proc/net/udp and the Udp counters of snmp/snmp6 parse', () => {
  const { world, a, b } = setup();
  const srv = b.udp.open(4);
  srv.bind('0.0.0.0', 53);
  const six = b.udp.open(6);
  six.bind('::', 5353);
  const conn = b.udp.open(4);
  conn.bind(S4, 4000);
  conn.connect(C4, 9);
  a.udp.open(4).send(new Uint8Array(10), S4, 53);
  world.run(world.now + ms(20));
  const snap = b.snapshot();
  assert.equal(snap.udp!.length, 3);
  const all = formatNetstat(snap.udp!, { all: true, numeric: true }).split('\n');
  assert.deepEqual(all.slice(0, 2), [
    'Active Internet connections (servers and established)',
    'Proto Recv-Q Send-Q Local Address           Foreign Address         State',
  ]);
  assert.ok(all.includes(`udp   ${String(10 + DATAGRAM_OVERHEAD).padStart(6)}      0 0.0.0.0:53              0.0.0.0:*`), all.join('\n'));
  assert.ok(all.includes('udp6       0      0 :::5353                 :::*'), all.join('\n'));
  assert.ok(all.includes('udp        0      0 10.0.0.2:4000           10.0.0.1:9              ESTABLISHED'), all.join('\n'));
  // Without -a: only connected sockets (net-tools udp_do_one); -l: only unconnected ones.
  assert.equal(selectRows(snap.udp!, {}).length, 1);
  assert.equal(selectRows(snap.udp!, { listening: true }).length, 2);
  assert.equal(selectRows(snap.udp!, { all: true, family: 6 }).length, 1);
  const proc = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '12010: 00000000:1170 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 270007 2 0000000044b1354f 0',
    '  301: 0200000A:0FA0 0100000A:0009 01 00000000:00000280 00:00000000 00000000  1000        0 270008 2 0000000044b1354f 0',
  ].join('\n');
  const rows = parseProcNetTcp(proc, 'udp', { bigEndian: false });
  assert.deepEqual(rows.map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.recvQ]), [
    ['0.0.0.0', 4464, '0.0.0.0', 0, 'CLOSED', 0],
    ['10.0.0.2', 4000, '10.0.0.1', 9, 'ESTABLISHED', 640],
  ]);
  const counters = parseSnmpUdp(
    'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\nUdp: 5 1 2 7 0 0 1 3 0\nUdpLite: InDatagrams\nUdpLite: 9\n',
    'Udp6InDatagrams                 \t4\nUdp6NoPorts                     \t2\nIp6InReceives 8\n',
  );
  assert.deepEqual(counters, { UdpInDatagrams: 5, UdpNoPorts: 1, UdpInErrors: 2, UdpOutDatagrams: 7, UdpRcvbufErrors: 0, UdpSndbufErrors: 0, UdpInCsumErrors: 1, UdpIgnoredMulti: 3, UdpMemErrors: 0, Udp6InDatagrams: 4, Udp6NoPorts: 2 });
});

test('node:dgram on a NodeDriver (real time) over a memoryPair link: echo round trip', async () => {
  const { driver, a, b } = realTimePair(C4, S4);
  const srv = echoServer(createDgram(b, driver), 'udp4', 7);
  const cli = createDgram(a, driver).createSocket('udp4');
  const reply = await new Promise<string>((resolve) => {
    cli.on('message', (m: Buffer) => resolve(m.toString()));
    cli.send('over real time', 7, S4);
  });
  assert.equal(reply, 'over real time');
  srv.close();
  cli.close();
  driver.close();
});

test('UDP over loopback: localhost, 127.0.0.1 and ::1 on one stack; a host name is ENOTFOUND', async () => {
  const { driver, c } = setup();
  for (const [type, host] of [['udp4', 'localhost'], ['udp4', '127.0.0.1'], ['udp6', '::1'], ['udp6', 'localhost']] as const) {
    const srv = echoServer(c, type, 7, type === 'udp4' ? '127.0.0.1' : '::1');
    const cli = c.createSocket(type);
    const got = new Promise<[Buffer, RemoteInfo]>((resolve) => cli.once('message', (m: Buffer, r: RemoteInfo) => resolve([m, r])));
    cli.send(`to ${host}`, 7, host);
    const [m, r] = await settle(driver, got);
    assert.equal(m.toString(), `to ${host}`);
    assert.equal(r.address, type === 'udp4' ? '127.0.0.1' : '::1');
    srv.close();
    cli.close();
  }
  const cli = c.createSocket('udp4');
  const err = await new Promise<Error & { code?: string }>((resolve) => cli.send('x', 7, 'example.com', (e: Error | null) => resolve(e!)));
  assert.equal(err.code, 'ENOTFOUND');
  cli.close();
});
