/**
 * The web-streams face (src/streams/web.ts) on virtual time, imported from the package root as a
 * user would: echo and bulk transfer, TCP's window as the readable side's backpressure, the
 * writable side waiting for send-buffer space, BYOB reads, errors as rejected promises, and the
 * server's accept stream. The same face runs in Chromium in test/browser-bundle.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimDriver, SimWorld, connectStream, listenStream, memoryPair, ms, type TcpSocketStream } from '../src/index.js';
import { NodeDriver } from '../src/node.js';

function world(seed = 3): { w: SimWorld; driver: SimDriver } {
  const w = new SimWorld({ seed, path: { delay: ms(5), bandwidthBps: 100_000_000 } });
  w.addHost('client', ['10.0.0.1']);
  w.addHost('server', ['10.0.0.2']);
  return { w, driver: new SimDriver(w) };
}

/** A deterministic pattern of `n` bytes. */
function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 9)) & 0xff;
  return b;
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of r) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

test('echo through the web-streams face: handshake, 1 MB each way, FIN both ways, closed resolves', async () => {
  const { w, driver } = world();
  const server = listenStream(w.host('server'), { port: 7 });
  let served: TcpSocketStream | null = null;
  void (async () => {
    for await (const conn of server.readable) {
      served = conn;
      void conn.readable.pipeTo(conn.writable);
    }
  })();
  const conn = connectStream(w.host('client'), { remoteAddress: '10.0.0.2', remotePort: 7 });
  const data = pattern(1 << 20);
  const sent = (async () => {
    const info = await conn.opened;
    assert.equal(info.remoteAddress, '10.0.0.2');
    assert.equal(info.remotePort, 7);
    const wr = conn.writable.getWriter();
    for (let off = 0; off < data.length; off += 10_000) await wr.write(data.subarray(off, off + 10_000));
    await wr.close();
  })();
  const received = readAll(conn.readable);
  await driver.run();
  await sent;
  const got = await received;
  assert.equal(got.length, data.length);
  assert.deepEqual(got, data);
  await conn.closed;
  assert.ok(served !== null);
  await (served as TcpSocketStream).closed;
  assert.ok(w.host('client').counters.ActiveOpens === 1 && w.host('server').counters.PassiveOpens === 1);
  server.close();
});

test('backpressure: a reader that stops closes the receive window; the writer waits; nothing is lost', async () => {
  const { w, driver } = world(4);
  const server = listenStream(w.host('server'), { port: 9 });
  const accepted: TcpSocketStream[] = [];
  void (async () => {
    for await (const c of server.readable) accepted.push(c);
  })();
  const conn = connectStream(w.host('client'), { remoteAddress: '10.0.0.2', remotePort: 9 });
  const total = 8 << 20; // far more than the receive buffer and the send buffer together
  const data = pattern(total);
  let written = 0;
  const wr = conn.writable.getWriter();
  const writing = (async () => {
    for (let off = 0; off < total; off += 65_536) {
      await wr.write(data.subarray(off, off + 65_536));
      written = off + 65_536;
    }
    await wr.close();
  })();
  // Nobody reads on the server for 10 virtual seconds.
  await driver.runFor(10_000_000);
  assert.equal(accepted.length, 1);
  const srv = accepted[0]!;
  const snap = srv.socket.snapshot();
  const cli = conn.socket.snapshot();
  assert.equal(cli.sndWnd, 0, 'the unread receive buffer closed the window the sender sees');
  assert.ok(cli.timers.some((t) => t.name === 'persist'), `zero-window probing: ${JSON.stringify(cli.timers)}`);
  assert.ok(snap.recvQueue > 0 && snap.recvQueue < total);
  assert.ok(written < total, `the writer is held back (wrote ${written} of ${total})`);
  await driver.runFor(10_000_000);
  assert.equal(srv.socket.snapshot().recvQueue, snap.recvQueue, 'nothing more arrived: the window is closed');
  // Now read: everything arrives, in order.
  const received = readAll(srv.readable);
  await driver.run();
  await writing;
  assert.deepEqual(await received, data);
  server.close();
});

test('a BYOB reader reads into its own buffer', async () => {
  const { w, driver } = world(5);
  const server = listenStream(w.host('server'), { port: 9 });
  void (async () => {
    for await (const c of server.readable) {
      const wr = c.writable.getWriter();
      await wr.write(pattern(5000));
      await wr.close();
    }
  })();
  const conn = connectStream(w.host('client'), { remoteAddress: '10.0.0.2', remotePort: 9 });
  const reader = conn.readable.getReader({ mode: 'byob' });
  const reading = (async () => {
    let buf = new Uint8Array(1000);
    let total = 0;
    const out = new Uint8Array(5000);
    for (;;) {
      const { value, done } = await reader.read(buf);
      if (done) break;
      out.set(value, total);
      total += value.length;
      buf = new Uint8Array(value.buffer); // the view's buffer was transferred back to us
    }
    return out.subarray(0, total);
  })();
  void conn.writable.close();
  await driver.run();
  assert.deepEqual(await reading, pattern(5000));
  server.close();
});

test('connection refused rejects opened and closed with ECONNREFUSED, and errors the streams', async () => {
  const { w, driver } = world(6);
  const conn = connectStream(w.host('client'), { remoteAddress: '10.0.0.2', remotePort: 81 });
  const opened = conn.opened.then(
    () => null,
    (e: Error & { code?: string; syscall?: string }) => e,
  );
  const read = conn.readable.getReader().read().then(
    () => null,
    (e: Error & { code?: string }) => e,
  );
  await driver.run();
  const err = await opened;
  assert.equal(err?.code, 'ECONNREFUSED');
  assert.equal(err?.syscall, 'connect');
  assert.match(err!.message, /connect ECONNREFUSED 10\.0\.0\.2:81/);
  assert.equal((await read)?.code, 'ECONNREFUSED');
  await assert.rejects(conn.closed, { code: 'ECONNREFUSED' });
});

test('aborting the writable resets the connection: the peer sees ECONNRESET', async () => {
  const { w, driver } = world(7);
  const server = listenStream(w.host('server'), { port: 9 });
  const peer: { err: (Error & { code?: string }) | null } = { err: null };
  void (async () => {
    for await (const c of server.readable) {
      c.readable.getReader().read().then(
        () => c.readable,
        (e: Error & { code?: string }) => (peer.err = e),
      );
    }
  })();
  const conn = connectStream(w.host('client'), { remoteAddress: '10.0.0.2', remotePort: 9 });
  void conn.opened.then(() => conn.writable.abort());
  await driver.run();
  assert.equal(peer.err?.code, 'ECONNRESET');
  assert.equal(w.host('client').counters.OutRsts, 1);
  server.close();
});

test('bad arguments throw errors naming the argument', () => {
  const { w } = world();
  assert.throws(() => listenStream(w.host('server'), { port: 70000 }), /port/);
  assert.throws(() => connectStream(w.host('client'), { remoteAddress: 'nope', remotePort: 1 }), /nope|address/);
});

test('real time: the same face on a NodeDriver (driver option) echoes 256 KB over a memoryPair link', async () => {
  const driver = new NodeDriver({ ref: true }); // the memory link holds no handle of its own
  const pair = memoryPair();
  const a = driver.createStack({ addresses: ['10.0.0.1'], seed: 1 });
  const b = driver.createStack({ addresses: ['10.0.0.2'], seed: 2 });
  // memoryPair moves frames only on pump(): deliver them on the next turn of the event loop.
  let scheduled = false;
  const wake = (l: typeof pair.a) => ({
    mtu: l.mtu,
    send: (f: Uint8Array): void => {
      l.send(f);
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        pair.pump();
      });
    },
    onReceive: (cb: (f: Uint8Array) => void): void => l.onReceive(cb),
  });
  driver.attach(a, wake(pair.a));
  driver.attach(b, wake(pair.b));
  const server = listenStream(b, { port: 7 }, { driver });
  void (async () => {
    for await (const c of server.readable) void c.readable.pipeTo(c.writable);
  })();
  const t0 = performance.now();
  const conn = connectStream(a, { remoteAddress: '10.0.0.2', remotePort: 7 }, { driver });
  const data = pattern(256 * 1024);
  const wr = conn.writable.getWriter();
  void wr.write(data).then(() => wr.close());
  assert.deepEqual(await readAll(conn.readable), data);
  await conn.closed;
  assert.ok(performance.now() - t0 < 5000, 'well within real time');
  server.close();
  driver.close();
});

test('a writer held back by a closed window is released with the error when the peer resets', async () => {
  const { w, driver } = world(8);
  const server = listenStream(w.host('server'), { port: 9 });
  void (async () => {
    for await (const c of server.readable) w.at(w.now + 2_000_000, () => void c.writable.abort()); // never reads; RST after 2 s
  })();
  const conn = connectStream(w.host('client'), { remoteAddress: '10.0.0.2', remotePort: 9 });
  const wr = conn.writable.getWriter();
  const big = pattern(8 << 20);
  const outcome = wr.write(big).then(
    () => 'written',
    (e: Error & { code?: string }) => e.code,
  );
  await driver.run();
  assert.equal(await outcome, 'ECONNRESET');
  await assert.rejects(conn.closed, { code: 'ECONNRESET' });
  server.close();
});
