/**
 * Node's own `test-net-*` behaviours, ported to synack's net API on a SimWorld (virtual time, so
 * every run is the same), plus one short NodeDriver run on real time over a memoryPair link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { createNet, type Net, type SynackSocket } from '../src/net/index.js';
import { ms, sec } from '../src/time.js';
import { realTimePair } from './helpers.js';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

function setup(seed = 1): { world: SimWorld; driver: SimDriver; c: Net; s: Net } {
  const world = new SimWorld({ seed, path: { delay: ms(5) } });
  const a = world.addHost('client', [CLIENT]);
  const b = world.addHost('server', [SERVER]);
  const driver = new SimDriver(world);
  return { world, driver, c: createNet(a, driver), s: createNet(b, driver) };
}

/** A server on SERVER:port that records its sockets. */
function listen(s: Net, port: number, opts: Parameters<Net['createServer']>[0] = {}, onConn?: (sock: SynackSocket) => void) {
  const sockets: SynackSocket[] = [];
  const server = s.createServer(opts, (sock) => {
    sockets.push(sock);
    onConn?.(sock);
  });
  server.listen(port, SERVER);
  return { server, sockets };
}

test('connect to a closed port: ECONNREFUSED error, then close(hadError = true)', async () => {
  const { driver, c } = setup();
  const events: string[] = [];
  let error: (Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number }) | undefined;
  const sock = c.connect(80, SERVER);
  assert.equal(sock.connecting, true);
  assert.equal(sock.pending, true);
  assert.equal(sock.readyState, 'opening');
  sock.on('connect', () => events.push('connect'));
  sock.on('error', (e) => {
    error = e;
    events.push('error');
  });
  sock.on('close', (hadError: boolean) => events.push(`close:${hadError}`));
  await driver.until(() => events.includes('close:true'));
  assert.deepEqual(events, ['error', 'close:true']);
  assert.ok(error);
  assert.equal(error.message, 'connect ECONNREFUSED 10.0.0.2:80');
  assert.equal(error.code, 'ECONNREFUSED');
  assert.equal(error.errno, -111);
  assert.equal(error.syscall, 'connect');
  assert.equal(error.address, SERVER);
  assert.equal(error.port, 80);
  assert.equal(sock.destroyed, true);
  assert.equal(sock.readyState, 'closed');
});

test('a hostname gives a clear ENOTFOUND error (IP literals only)', async () => {
  const { driver, c } = setup();
  let err: (Error & { code?: string; syscall?: string }) | undefined;
  const sock = c.connect(80, 'example.com');
  sock.on('error', (e) => (err = e));
  await driver.until(() => err !== undefined);
  assert.equal(err!.code, 'ENOTFOUND');
  assert.equal(err!.syscall, 'getaddrinfo');
  assert.match(err!.message, /getaddrinfo ENOTFOUND example\.com.*IP address/);
  assert.throws(() => c.connect(70000, SERVER), { code: 'ERR_SOCKET_BAD_PORT' });
});

test('echo: connect/ready/data/end/close order, addresses, bytesRead/bytesWritten', async () => {
  const { driver, c, s } = setup();
  const { server, sockets } = listen(s, 7, {}, (sock) => sock.pipe(sock));
  let listening = false;
  server.on('listening', () => (listening = true));
  assert.deepEqual(server.address(), { address: SERVER, family: 'IPv4', port: 7 });
  const events: string[] = [];
  let got = '';
  const sock = c.connect({ port: 7, host: SERVER }, () => events.push('cb'));
  sock.on('connect', () => events.push('connect'));
  sock.on('ready', () => {
    events.push('ready');
    sock.end('hello, synack');
  });
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (got += d));
  sock.on('end', () => events.push('end'));
  sock.on('close', (h: boolean) => events.push(`close:${h}`));
  await driver.until(() => events.includes('close:false'));
  assert.equal(listening, true);
  assert.deepEqual(events, ['cb', 'connect', 'ready', 'end', 'close:false']);
  assert.equal(got, 'hello, synack');
  assert.equal(sock.bytesRead, 13);
  assert.equal(sock.bytesWritten, 13);
  assert.equal(sockets.length, 1);
  const peer = sockets[0]!;
  assert.equal(peer.bytesRead, 13);
  assert.equal(peer.bytesWritten, 13);
  assert.equal(peer.remoteAddress, CLIENT);
  assert.equal(peer.remotePort, sock.localPort);
  assert.equal(peer.remoteFamily, 'IPv4');
  assert.equal(peer.localAddress, SERVER);
  assert.equal(peer.localPort, 7);
  assert.deepEqual(peer.address(), { address: SERVER, family: 'IPv4', port: 7 });
  assert.equal(sock.remoteAddress, SERVER);
  assert.equal(sock.remotePort, 7);
  assert.equal(sock.localAddress, CLIENT);
  assert.ok(sock.localPort! >= 32768 && sock.localPort! <= 60999);
});

test('write after end is an error (ERR_STREAM_WRITE_AFTER_END)', async () => {
  const { driver, c, s } = setup();
  listen(s, 7, {}, (sock) => sock.resume());
  const sock = c.connect(7, SERVER);
  let err: (Error & { code?: string }) | undefined;
  let cbErr: Error | null | undefined;
  sock.on('error', (e) => (err = e));
  sock.on('connect', () => {
    sock.end('bye');
    sock.write('more', (e) => (cbErr = e));
  });
  await driver.until(() => err !== undefined && cbErr !== undefined);
  assert.equal(err!.code, 'ERR_STREAM_WRITE_AFTER_END');
  assert.equal((cbErr as Error & { code?: string }).code, 'ERR_STREAM_WRITE_AFTER_END');
});

test('allowHalfOpen: true keeps the write side open after the peer ends; false ends it automatically', async () => {
  for (const allowHalfOpen of [true, false]) {
    const { world, driver, c, s } = setup();
    let serverEndAt = -1;
    listen(s, 7, { allowHalfOpen }, (sock) => {
      sock.resume();
      sock.on('end', () => {
        serverEndAt = world.now;
        // A second later, a half-open server can still answer.
        world.at(world.now + sec(1), () => {
          if (!sock.writableEnded) sock.end('late reply');
        });
      });
    });
    const sock = c.connect({ port: 7, host: SERVER, allowHalfOpen: true });
    let got = '';
    let clientEndAt = -1;
    let closed = false;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (got += d));
    sock.on('connect', () => sock.end('request'));
    sock.on('end', () => (clientEndAt = world.now));
    sock.on('close', () => (closed = true));
    await driver.until(() => closed);
    assert.ok(serverEndAt > 0);
    if (allowHalfOpen) {
      assert.equal(got, 'late reply');
      assert.ok(clientEndAt - serverEndAt >= sec(1), 'the server ended only when it chose to');
    } else {
      assert.equal(got, '');
      assert.ok(clientEndAt - serverEndAt < ms(20), 'the server ended as soon as it saw the FIN');
    }
  }
});

test('allowHalfOpen false: writing after the automatic end is EPIPE "ended by the other party"', async () => {
  const { driver, c, s } = setup();
  let err: (Error & { code?: string }) | undefined;
  listen(s, 7, {}, (sock) => {
    sock.resume();
    // Node ends the writable side in the tick after 'end'; a write after that is refused.
    sock.on('end', () => process.nextTick(() => process.nextTick(() => sock.write('too late'))));
    sock.on('error', (e) => (err = e));
  });
  const sock = c.connect({ port: 7, host: SERVER, allowHalfOpen: true });
  sock.resume();
  sock.on('connect', () => sock.end());
  await driver.until(() => err !== undefined);
  assert.equal(err!.code, 'EPIPE');
  assert.equal(err!.message, 'This socket has been ended by the other party');
});

test('destroy() closes at once: close(false) here, end at the peer', async () => {
  const { driver, c, s } = setup();
  let peerEnd = false;
  let peerClose: boolean | undefined;
  listen(s, 7, {}, (sock) => {
    sock.resume();
    sock.on('end', () => (peerEnd = true));
    sock.on('close', (h: boolean) => (peerClose = h));
  });
  const sock = c.connect(7, SERVER);
  const events: string[] = [];
  sock.on('connect', () => sock.destroy());
  sock.on('close', (h: boolean) => events.push(`close:${h}`));
  await driver.until(() => peerClose !== undefined);
  assert.deepEqual(events, ['close:false']);
  assert.equal(peerEnd, true);
  assert.equal(peerClose, false);

  // destroy(err): 'error' with that error, then close(true).
  const sock2 = c.connect(7, SERVER);
  const ev2: string[] = [];
  sock2.on('connect', () => sock2.destroy(new Error('boom')));
  sock2.on('error', (e) => ev2.push(`error:${e.message}`));
  sock2.on('close', (h: boolean) => ev2.push(`close:${h}`));
  await driver.until(() => ev2.length === 2);
  assert.deepEqual(ev2, ['error:boom', 'close:true']);
});

test('server.close() stops listening at once but emits close only when its connections have ended', async () => {
  const { driver, c, s } = setup();
  const { server, sockets } = listen(s, 7, {}, (sock) => sock.resume());
  const sock = c.connect(7, SERVER);
  sock.resume();
  await driver.until(() => sockets.length === 1);
  let closed = false;
  let count = -1;
  server.getConnections((_e, n) => (count = n));
  server.close(() => (closed = true));
  assert.equal(server.listening, false);
  assert.equal(server.address(), null);
  await driver.runFor(sec(1));
  assert.equal(count, 1);
  assert.equal(closed, false, 'close waits for the open connection');
  // New connections are refused now.
  let refused: string | undefined;
  c.connect(7, SERVER).on('error', (e: Error & { code?: string }) => (refused = e.code));
  await driver.until(() => refused !== undefined);
  assert.equal(refused, 'ECONNREFUSED');
  sock.end();
  await driver.until(() => closed);
  // close() on a server that is not listening: the callback gets ERR_SERVER_NOT_RUNNING.
  let err: (Error & { code?: string }) | undefined;
  server.close((e) => (err = e));
  await driver.until(() => err !== undefined);
  assert.equal(err!.code, 'ERR_SERVER_NOT_RUNNING');
});

test('setTimeout fires after the idle time on virtual time; activity postpones it; 0 disables', async () => {
  const { world, driver, c, s } = setup();
  listen(s, 7, {}, (sock) => sock.pipe(sock));
  const sock = c.connect(7, SERVER);
  sock.resume();
  const fired: number[] = [];
  await driver.until(() => !sock.connecting);
  const t0 = world.now;
  sock.setTimeout(1000, () => fired.push(world.now - t0));
  assert.equal(sock.timeout, 1000);
  // Activity at 600 ms (echoed back 10 ms later) moves the deadline to about 1.61 s.
  world.at(t0 + ms(600), () => sock.write('x'));
  await driver.runFor(ms(1500));
  assert.deepEqual(fired, []);
  await driver.runFor(ms(500));
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! >= ms(1610) && fired[0]! <= ms(1620), `fired at ${fired[0]}`);
  // It does not repeat without new activity.
  await driver.runFor(sec(5));
  assert.equal(fired.length, 1);
  sock.setTimeout(0);
  assert.equal(sock.timeout, undefined);
  sock.write('y');
  await driver.runFor(sec(5));
  assert.equal(fired.length, 1);
  sock.destroy();
});

test('EADDRINUSE on a second listen is an error event on the server', async () => {
  const { driver, s } = setup();
  const first = s.createServer().listen(80, SERVER);
  let err: (Error & { code?: string; syscall?: string; errno?: number; port?: number }) | undefined;
  let listening = false;
  const second = s.createServer();
  second.on('error', (e) => (err = e));
  second.on('listening', () => (listening = true));
  second.listen(80);
  await driver.until(() => err !== undefined);
  assert.equal(err!.code, 'EADDRINUSE');
  assert.equal(err!.syscall, 'listen');
  assert.equal(err!.errno, -98);
  assert.equal(err!.port, 80);
  // Node listens on :: by default (dual-stack) and names it so: "address already in use :::80".
  assert.match(err!.message, /^listen EADDRINUSE: address already in use :::80/);
  assert.equal(listening, false);
  assert.equal(second.listening, false);
  // Port 0 picks a free port.
  const third = s.createServer().listen(0, SERVER);
  assert.ok(third.address()!.port >= 32768);
  first.close();
  third.close();
});

test('pause() closes the TCP window: the sender sees sndWnd 0; resume() delivers every byte in order', async () => {
  const { driver, c, s } = setup();
  const total = 2 * 1024 * 1024;
  const payload = Buffer.alloc(total);
  for (let i = 0; i < total; i++) payload[i] = (i * 31 + (i >> 11)) & 0xff;
  let serverSock: SynackSocket | undefined;
  let firstWriteResult: boolean | undefined;
  listen(s, 7, {}, (sock) => {
    serverSock = sock;
    firstWriteResult = sock.write(payload);
    sock.end();
  });
  const sock = c.connect(7, SERVER);
  sock.pause();
  await driver.until(() => serverSock !== undefined);
  await driver.runFor(sec(2));
  const snap = serverSock!.snapshot()!;
  assert.equal(snap.sndWnd, 0, 'the receiver advertised a zero window');
  assert.ok(snap.sendQueue > 0, 'the sender still holds data');
  assert.equal(firstWriteResult, false, 'write() returned false: above the high-water mark');
  const clientSnap = sock.snapshot()!;
  // rcvWnd is the free space; what is advertised is rcvWnd >> wscale, which is 0.
  assert.equal(clientSnap.rcvWnd >> clientSnap.rcvWscale, 0);
  // Only the stream's high-water mark plus the TCP receive buffer were taken from the network.
  assert.ok(sock.bytesRead <= sock.readableHighWaterMark + 64 * 1024, `bytesRead ${sock.bytesRead}`);
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  let ended = false;
  sock.on('end', () => (ended = true));
  sock.resume();
  await driver.until(() => ended, sec(120));
  const got = Buffer.concat(chunks);
  assert.equal(got.length, total);
  assert.ok(got.equals(payload));
  assert.equal(sock.bytesRead, total);
  assert.equal(serverSock!.bytesWritten, total);
});

test('write backpressure: a small send buffer makes write() return false and drain follows', async () => {
  const { driver, c, s } = setup();
  let received = 0;
  listen(s, 7, {}, (sock) => sock.on('data', (d: Buffer) => (received += d.length)));
  const sock = c.connect({ port: 7, host: SERVER, sendBufferSize: 8192, writableHighWaterMark: 4096 });
  const chunk = Buffer.alloc(4096, 1);
  let writes = 0;
  let drains = 0;
  const pump = (): void => {
    while (writes < 64) {
      writes++;
      if (!sock.write(chunk)) return;
    }
    sock.end();
  };
  sock.on('drain', () => {
    drains++;
    pump();
  });
  sock.on('connect', pump);
  await driver.until(() => received === 64 * 4096);
  assert.ok(drains > 5, `drains ${drains}`);
  assert.equal(sock.bytesWritten, 64 * 4096);
});

test('resetAndDestroy() sends RST: the peer gets read ECONNRESET and close(true)', async () => {
  const { driver, c, s } = setup();
  let peerErr: (Error & { code?: string; syscall?: string; errno?: number }) | undefined;
  let peerClose: boolean | undefined;
  listen(s, 7, {}, (sock) => {
    sock.resume();
    sock.on('error', (e) => (peerErr = e));
    sock.on('close', (h: boolean) => (peerClose = h));
  });
  const sock = c.connect(7, SERVER);
  let closed: boolean | undefined;
  sock.on('close', (h: boolean) => (closed = h));
  sock.on('connect', () => sock.write('x', () => sock.resetAndDestroy()));
  await driver.until(() => peerClose !== undefined);
  assert.equal(closed, false);
  assert.equal(peerErr!.code, 'ECONNRESET');
  assert.equal(peerErr!.syscall, 'read');
  assert.equal(peerErr!.errno, -104);
  assert.equal(peerErr!.message, 'read ECONNRESET');
  assert.equal(peerClose, true);
});

test('linger: 0 makes end()+destroy() abortive (RST); setNoDelay/setKeepAlive/maxSegment reach TCP', async () => {
  const { driver, c, s } = setup();
  let peerErr: string | undefined;
  listen(s, 7, {}, (sock) => {
    sock.resume();
    sock.on('error', (e: Error & { code?: string }) => (peerErr = e.code));
  });
  const sock = c.connect({ port: 7, host: SERVER, linger: 0, maxSegment: 1000, noDelay: true });
  await driver.until(() => !sock.connecting);
  assert.equal(sock.snapshot()!.advMss, 1000);
  sock.setKeepAlive(true, 30_000);
  sock.setNoDelay(false);
  const cfg = sock.tcp!.conn.config;
  assert.equal(cfg.keepAlive, true);
  assert.equal(cfg.keepIdle, sec(30));
  assert.equal(cfg.noDelay, false);
  sock.destroy();
  await driver.until(() => peerErr !== undefined);
  assert.equal(peerErr, 'ECONNRESET');
});

test('keepAlive with keepAliveInterval/keepAliveCount: a silent peer times the connection out (ETIMEDOUT)', async () => {
  const { world, driver, c, s } = setup();
  listen(s, 7, {}, (sock) => sock.resume());
  const sock = c.connect({ port: 7, host: SERVER, keepAlive: true, keepAliveInitialDelay: 10_000, keepAliveInterval: 1_000, keepAliveCount: 3 });
  let err: (Error & { code?: string; syscall?: string }) | undefined;
  sock.on('error', (e) => (err = e));
  await driver.until(() => !sock.connecting);
  const t0 = world.now;
  // The path goes dead: probes go unanswered.
  world.net.setLink('client', 'server', { loss: 1 });
  await driver.until(() => err !== undefined, sec(60));
  assert.equal(err!.code, 'ETIMEDOUT');
  const took = world.now - t0;
  assert.ok(took >= sec(13) && took <= sec(14) + ms(100), `timed out after ${took} µs`);
});

test('SYN timeout: connect ETIMEDOUT after Linux\'s 127 s (6 SYN retries), on virtual time', async () => {
  const { world, driver, c } = setup();
  world.net.setLink('client', 'server', { loss: 1 });
  let err: (Error & { code?: string; syscall?: string }) | undefined;
  let closed: boolean | undefined;
  const sock = c.connect(80, SERVER);
  sock.on('error', (e) => (err = e));
  sock.on('close', (h: boolean) => (closed = h));
  await driver.until(() => closed !== undefined, sec(200));
  assert.equal(err!.message, 'connect ETIMEDOUT 10.0.0.2:80');
  assert.equal(err!.syscall, 'connect');
  assert.equal(closed, true);
  assert.ok(world.now >= sec(127) && world.now < sec(128), `gave up at ${world.now}`);
});

test('IPv6: connect, families, addresses and error messages', async () => {
  const world = new SimWorld({ seed: 3 });
  const driver = new SimDriver(world);
  const c = createNet(world.addHost('c6', ['fd00::1']), driver);
  const s = createNet(world.addHost('s6', ['fd00::2']), driver);
  const server = s.createServer((sock) => sock.end(`you are ${sock.remoteAddress} (${sock.remoteFamily})`)).listen(8080);
  assert.deepEqual(server.address(), { address: '::', family: 'IPv6', port: 8080 });
  let got = '';
  const sock = c.connect(8080, 'fd00::2');
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (got += d));
  let ended = false;
  sock.on('end', () => (ended = true));
  await driver.until(() => ended);
  assert.equal(got, 'you are fd00::1 (IPv6)');
  assert.equal(sock.remoteFamily, 'IPv6');
  assert.deepEqual(sock.address(), { address: 'fd00::1', family: 'IPv6', port: sock.localPort });
  let err: Error | undefined;
  c.connect(81, 'fd00::2').on('error', (e: Error) => (err = e));
  await driver.until(() => err !== undefined);
  assert.equal(err!.message, 'connect ECONNREFUSED fd00::2:81');
});

test('NodeDriver on real time over a memoryPair link: echo in well under a second', async () => {
  // ref: true: the memory link holds no handle, so the driver's timer keeps the test process alive.
  const { driver, a, b } = realTimePair(CLIENT, SERVER);
  const na = createNet(a, driver);
  const nb = createNet(b, driver);
  const server = nb.createServer((sock) => sock.pipe(sock)).listen(7, SERVER);
  const started = performance.now();
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = na.connect(7, SERVER, () => sock.end('ping over real time'));
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (got += d));
    sock.on('error', reject);
    sock.on('close', () => resolve(got));
  });
  assert.equal(reply, 'ping over real time');
  // A socket timeout on the real clock.
  const idle = await new Promise<number>((resolve) => {
    const sock = na.connect(7, SERVER);
    const t = performance.now();
    sock.setTimeout(50, () => {
      resolve(performance.now() - t);
      sock.destroy();
    });
  });
  assert.ok(idle >= 45 && idle < 500, `timeout after ${idle} ms`);
  server.close();
  assert.ok(performance.now() - started < 1000);
  driver.close();
});

test('a server re-listens on a port whose old connections sit in TIME_WAIT (SO_REUSEADDR by default, as Node)', async () => {
  const { driver, s, c } = setup();
  const first = s.createServer((sock) => sock.end('bye')); // the server closes first: its side goes to TIME_WAIT
  first.listen(80, SERVER);
  const client = c.connect(80, SERVER);
  client.resume();
  await driver.until(() => client.destroyed);
  first.close();
  await driver.runFor(ms(100));
  assert.ok(s.stack.netstat().some((r) => r.localPort === 80 && r.state === 'TIME_WAIT'), 'the old connection is in TIME_WAIT');
  const events: string[] = [];
  const second = s.createServer(() => {});
  second.on('listening', () => events.push('listening'));
  second.on('error', (e) => events.push(`error:${(e as Error & { code?: string }).code}`));
  second.listen(80, SERVER);
  await driver.runFor(ms(1));
  assert.deepEqual(events, ['listening']);
  second.close();
  // reuseAddr: false asks for bare Linux: EADDRINUSE while TIME_WAIT lasts.
  const third = s.createServer(() => {});
  third.on('error', (e) => events.push(`error:${(e as Error & { code?: string }).code}`));
  third.listen({ port: 80, host: SERVER, reuseAddr: false });
  await driver.runFor(ms(1));
  assert.deepEqual(events, ['listening', 'error:EADDRINUSE']);
});

test('IPv6 zones: connect to fe80::2%eth0 connects; an address the stack cannot use fails with a code, not a TypeError', async () => {
  const world = new SimWorld({ seed: 2, path: { delay: ms(5) } });
  const driver = new SimDriver(world);
  const c = createNet(world.addHost('client', ['fe80::1', CLIENT]), driver);
  const s = createNet(world.addHost('server', ['fe80::2']), driver);
  const got: string[] = [];
  s.createServer((sock) => sock.end(`hi ${sock.remoteAddress}`)).listen(80, 'fe80::2%eth0');
  const ok = c.connect(80, 'fe80::2%eth0');
  ok.setEncoding('utf8');
  ok.on('data', (d: string) => got.push(d));
  // A v4-only host has no source address for a link-local v6 peer.
  const v4only = createNet(world.addHost('v4only', ['10.0.0.9']), driver);
  let err: (Error & { code?: string; syscall?: string; address?: string }) | undefined;
  const bad = v4only.connect(80, 'fe80::2%eth0');
  bad.on('error', (e) => (err = e));
  await driver.until(() => ok.destroyed && bad.destroyed);
  assert.deepEqual(got, ['hi fe80::1']);
  assert.ok(err !== undefined && !(err instanceof TypeError));
  assert.equal(err.code, 'EADDRNOTAVAIL');
  assert.equal(err.syscall, 'connect');
  assert.equal(err.address, 'fe80::2%eth0');
});

test("bufferSize counts what waits in the stream (Node's alias of writableLength); no family autoselection for IP literals", async () => {
  const { driver, s, c } = setup();
  listen(s, 80);
  const sock = c.connect(80, SERVER);
  sock.write('abc'); // queued until the handshake completes
  assert.equal(sock.bufferSize, 3);
  assert.equal(sock.autoSelectFamilyAttemptedAddresses, undefined, 'as Node with an IP-literal host');
  await driver.until(() => !sock.connecting && sock.writableLength === 0);
  assert.equal(sock.bufferSize, 0);
  sock.destroy();
});
