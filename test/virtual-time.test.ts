/**
 * Virtual time that ends, and the application's clock on it (issue #15):
 *  - housekeeping (the stack's 1 s buffer sweep, unref'd events) never keeps `run()` alive, so a
 *    connection holding data nobody reads does not make the world run forever;
 *  - with `driver.run({ virtualClock: true })` an application's setTimeout retries, node:http's
 *    keep-alive timers and its Date header are virtual: the runs end, and the same seed gives the
 *    same frames byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { Simulator } from '../src/driver/sim.js';
import { DEFAULT_EPOCH_MS } from '../src/driver/virtual-clock.js';
import { createNet, type Net, type SynackSocket } from '../src/net/index.js';
import { ms, sec } from '../src/time.js';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

function setup(seed = 7): { world: SimWorld; driver: SimDriver; c: Net; s: Net; frames: Uint8Array[] } {
  const world = new SimWorld({ seed, path: { delay: ms(10), bandwidthBps: 10_000_000 } });
  const a = world.addHost('client', [CLIENT]);
  const b = world.addHost('server', [SERVER]);
  const frames: Uint8Array[] = [];
  world.onFrame((ev) => frames.push(Uint8Array.from([...new Uint8Array(new Float64Array([ev.t]).buffer), ...ev.frame])));
  const driver = new SimDriver(world);
  return { world, driver, c: createNet(a, driver), s: createNet(b, driver), frames };
}

test('Simulator: an unref event runs when time passes it but keeps no run() alive', () => {
  const sim = new Simulator();
  const ran: string[] = [];
  const tick = (): void => {
    ran.push(`sweep@${sim.now}`);
    sim.after(sec(1), tick, { ref: false });
  };
  sim.after(sec(1), tick, { ref: false });
  sim.after(ms(2500), () => ran.push(`work@${sim.now}`));
  sim.run();
  assert.deepEqual(ran, ['sweep@1000000', 'sweep@2000000', 'work@2500000']);
  assert.equal(sim.hasWork(), false);
  assert.equal(sim.pendingEvents, 1, 'the housekeeping event is still queued');
  sim.run({ until: sec(4) });
  assert.deepEqual(ran.slice(3), ['sweep@3000000', 'sweep@4000000']);
});

test('world.run() returns while a connection holds data its application never reads', () => {
  const world = new SimWorld({ seed: 3 });
  const a = world.addHost('a', [CLIENT]);
  const b = world.addHost('b', [SERVER]);
  b.listen({ port: 9 });
  const sock = a.connect({ remoteAddress: SERVER, remotePort: 9 });
  sock.onConnect = () => sock.write(new Uint8Array(20_000));
  world.run(); // before the fix: the 1 s buffer sweep re-armed forever
  assert.equal(sock.state, 'ESTABLISHED');
  assert.ok(world.now < sec(2), `run() ended at ${world.now} µs`);
  const server = b.netstat().find((r) => r.state === 'ESTABLISHED');
  assert.equal(server?.recvQ, 20_000, 'the server still holds the unread bytes');
});

test('driver.run() returns while the server application never reads (Node streams)', async () => {
  const { world, driver, c, s } = setup();
  let accepted: SynackSocket | null = null;
  s.createServer({ pauseOnConnect: true }, (sock) => (accepted = sock)).listen(80, SERVER);
  const client = c.connect(80, SERVER, () => client.write(Buffer.alloc(30_000, 1)));
  await driver.run();
  assert.ok(accepted !== null);
  assert.equal(client.readyState, 'open');
  assert.ok(world.now < sec(2), `run() ended at ${world.now} µs`);
  assert.equal(client.bytesWritten, 30_000);
});

test('virtual clock: an application retrying with setTimeout ends under run(), on virtual time', async () => {
  const { world, driver, c, s } = setup();
  const attempts: number[] = [];
  let reply = '';
  const tryConnect = (): void => {
    attempts.push(Date.now() - DEFAULT_EPOCH_MS);
    const sock = c.connect(80, SERVER);
    sock.on('data', (d: Buffer) => (reply += d.toString()));
    sock.on('error', () => {
      // Exponential back-off, 1 s then 2 s then 4 s: the server appears at t = 5 s.
      if (attempts.length < 5) setTimeout(tryConnect, 1000 * 2 ** (attempts.length - 1));
    });
  };
  world.at(sec(5), () => s.createServer((sock) => sock.end('welcome')).listen(80, SERVER));
  const wallStart = performance.now();
  const run = driver.run({ virtualClock: true });
  tryConnect();
  await run;
  assert.equal(reply, 'welcome');
  // Attempts at ~0, 1, 3 s are refused; the one at 7 s finds the server.
  assert.equal(attempts.length, 4);
  assert.deepEqual(attempts.map((t) => Math.round(t / 1000)), [0, 1, 3, 7]);
  assert.ok(performance.now() - wallStart < 5000, 'virtual seconds, not wall seconds');
  assert.equal(typeof setTimeout(() => {}, 0).unref, 'function', 'the real setTimeout is back');
});

test('virtual clock: node:timers/promises sleeps on virtual time, and an AbortSignal cancels one', async () => {
  const { world, driver } = setup();
  const woke: number[] = [];
  let aborted = '';
  const ac = new AbortController();
  const run = driver.run({ virtualClock: true });
  const app = (async () => {
    for (let i = 0; i < 3; i++) {
      await sleep(2000);
      woke.push(world.now);
    }
    const never = sleep(60_000, 'late', { signal: ac.signal }).catch((e: Error & { code?: string }) => (aborted = `${e.name} ${e.code}`));
    await sleep(10);
    ac.abort();
    await never;
  })();
  await run;
  await app;
  assert.deepEqual(woke, [sec(2), sec(4), sec(6)]);
  assert.equal(aborted, 'AbortError ABORT_ERR');
  assert.equal(world.now, sec(6) + ms(10), 'the aborted 60 s sleep kept nothing waiting');
});

/** node:http over synack with keep-alive: one request, then the connection idles until closed. */
async function httpKeepAlive(seed: number): Promise<{ frames: Uint8Array[]; date: string | undefined; end: number; closedAfter: number }> {
  const { world, driver, c, s, frames } = setup(seed);
  const server = http.createServer({ keepAliveTimeout: 5000 }, (_req, res) => res.end('hello'));
  s.createServer((sock) => server.emit('connection', sock)).listen(80, SERVER);
  class SynackAgent extends http.Agent {
    override createConnection(): Duplex {
      return c.connect(80, SERVER);
    }
  }
  const agent = new SynackAgent({ keepAlive: true });
  let date: string | undefined;
  let repliedAt = -1;
  let closedAt = -1;
  const run = driver.run({ virtualClock: true });
  http.get({ host: SERVER, port: 80, path: '/', agent }, (res) => {
    date = res.headers.date;
    res.resume();
    res.on('end', () => (repliedAt = world.now));
    res.socket.on('close', () => (closedAt = world.now));
  });
  await run;
  return { frames, date, end: world.now, closedAfter: closedAt - repliedAt };
}

test('virtual clock: an HTTP server with keep-alive ends under run(), same seed gives the same bytes', async () => {
  const one = await httpKeepAlive(11);
  // The server's 5 s keepAliveTimeout closed the idle connection on virtual time, and the
  // world ended after TIME_WAIT (60 s), not never.
  assert.ok(one.closedAfter >= sec(5) && one.closedAfter < sec(6), `closed ${one.closedAfter} µs after the reply`);
  assert.ok(one.end < sec(70), `run() ended at ${one.end} µs`);
  // node:http's Date header reads the virtual calendar (2000-01-01 + virtual seconds).
  assert.equal(one.date, 'Sat, 01 Jan 2000 00:00:00 GMT');
  const two = await httpKeepAlive(11);
  assert.equal(two.frames.length, one.frames.length);
  assert.deepEqual(Buffer.concat(two.frames), Buffer.concat(one.frames));
  const other = await httpKeepAlive(12);
  assert.notDeepEqual(Buffer.concat(other.frames), Buffer.concat(one.frames), 'the bytes do depend on the seed (ISNs)');
});
