/**
 * TCP Fast Open (RFC 7413) through the net API on a SimWorld: the first connection asks for a
 * cookie, the second sends its request in the SYN and gets the reply one round trip sooner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { createNet } from '../src/net/index.js';
import { ms } from '../src/time.js';
import { parseTcp } from '../src/wire/tcp.js';
import { newIpRepr, parseIpHeader } from '../src/wire/ip.js';
import { newTcpRepr, SYN } from '../src/wire/tcp-repr.js';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';
const DELAY = ms(10); // one way

function setup(serverFastOpen: number | undefined) {
  const world = new SimWorld({ seed: 7, path: { delay: DELAY } });
  const a = world.addHost('client', [CLIENT]);
  const b = world.addHost('server', [SERVER]);
  const driver = new SimDriver(world);
  const c = createNet(a, driver);
  const s = createNet(b, driver);
  // Every SYN the client sends: its Fast Open option and payload length.
  const syns: { fastOpen: number; len: number }[] = [];
  const seg = newTcpRepr();
  const ip = newIpRepr();
  world.onFrame((ev) => {
    if (ev.from !== 'client' || parseIpHeader(ev.frame, ip, false) !== null || parseTcp(ev.frame, ip, seg, false) !== null) return;
    if (seg.flags === SYN) syns.push({ fastOpen: seg.fastOpen, len: seg.payload.length });
  });
  const server = s.createServer((sock) => sock.on('data', (d) => sock.end(`echo ${String(d)}`)));
  server.listen({ port: 7, host: SERVER, ...(serverFastOpen !== undefined ? { fastOpen: serverFastOpen } : {}) });
  return { world, driver, c, a, b, syns };
}

/** One request/response over connect({ fastOpen: true }); the time from connect to the reply. */
async function exchange(env: ReturnType<typeof setup>, msg: string): Promise<{ reply: string; elapsed: number }> {
  const { driver, c, world } = env;
  const t0 = world.sim.now;
  let reply = '';
  let t1 = -1;
  const sock = c.connect({ port: 7, host: SERVER, fastOpen: true });
  sock.write(msg);
  sock.on('data', (d) => {
    reply += String(d);
    if (t1 < 0) t1 = world.sim.now;
  });
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('end', () => sock.end());
  await driver.until(() => closed);
  return { reply, elapsed: t1 - t0 };
}

test('connect({ fastOpen: true }): a cookie first, then data in the SYN and the reply one round trip sooner', async () => {
  const env = setup(16);
  const first = await exchange(env, 'one');
  assert.equal(first.reply, 'echo one');
  const second = await exchange(env, 'two');
  assert.equal(second.reply, 'echo two');
  // The first SYN asked for a cookie (an empty option), the second carried the cookie and the data.
  assert.deepEqual(env.syns, [{ fastOpen: 0, len: 0 }, { fastOpen: 8, len: 3 }]);
  assert.equal(env.a.counters.TCPFastOpenActive, 1);
  assert.equal(env.b.counters.TCPFastOpenPassive, 1);
  assert.equal(env.b.counters.TCPFastOpenCookieReqd, 1);
  // Two round trips (handshake, request) against one: 40 ms against 20 ms, plus processing.
  assert.ok(first.elapsed >= 4 * DELAY, `first reply after ${first.elapsed} µs`);
  assert.ok(second.elapsed < 3 * DELAY, `second reply after ${second.elapsed} µs`);
});

test('without fastOpen on the server, the client falls back to a plain handshake and its data still arrives', async () => {
  const env = setup(undefined);
  assert.equal((await exchange(env, 'one')).reply, 'echo one');
  assert.equal((await exchange(env, 'two')).reply, 'echo two');
  // No cookie came back, so the second SYN asks again (with the experimental option: LINUX try_exp).
  assert.deepEqual(env.syns.map((s) => s.len), [0, 0]);
  assert.equal(env.a.counters.TCPFastOpenActive ?? 0, 0);
  assert.equal(env.b.counters.TCPFastOpenPassive ?? 0, 0);
});
