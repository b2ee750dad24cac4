import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { createNet } from '../src/net/index.js';
import { ms } from '../src/time.js';

// The net layer reads TCP's bytes into a per-socket slab (readInto) and hands the application
// views of it, as Node's net reads into a buffer it allocates: no ArrayBuffer per 'data' event.
test("'data' chunks are views of one slab per socket, never overlapping, with the bytes sent", async () => {
  const world = new SimWorld({ seed: 3, path: { delay: ms(5) } });
  const driver = new SimDriver(world);
  const c = createNet(world.addHost('client', ['10.0.0.1']), driver);
  const s = createNet(world.addHost('server', ['10.0.0.2']), driver);
  const chunks: Buffer[] = [];
  const server = s.createServer((sock) => sock.on('data', (d: Buffer) => chunks.push(d)));
  server.listen(80, '10.0.0.2');
  const sock = c.connect(80, '10.0.0.2');
  const sent: number[] = [];
  // Ten small writes 20 ms apart: ten separate reads on the server.
  for (let i = 0; i < 10; i++) {
    await driver.runFor(ms(20));
    const b = Buffer.alloc(100 + i, i + 1);
    sent.push(...b);
    sock.write(b);
  }
  await driver.runFor(ms(100));
  assert.ok(chunks.length >= 10, `${chunks.length} chunks`);
  assert.deepEqual([...Buffer.concat(chunks)], sent);
  // Consecutive reads share a backing store (no allocation per read) and do not overlap.
  const shared = chunks.filter((d) => d.buffer === chunks[0]!.buffer);
  assert.ok(shared.length >= 10, `only ${shared.length} chunks share the first chunk's slab`);
  for (let i = 1; i < shared.length; i++) {
    assert.ok(shared[i]!.byteOffset >= shared[i - 1]!.byteOffset + shared[i - 1]!.length, 'chunks overlap');
  }
  // Another socket's bytes never share this socket's memory.
  const other: Buffer[] = [];
  const sock2 = c.connect(80, '10.0.0.2');
  server.removeAllListeners('connection');
  server.on('connection', (s2) => s2.on('data', (d: Buffer) => other.push(d)));
  sock2.write('second socket');
  await driver.runFor(ms(100));
  assert.equal(Buffer.concat(other).toString(), 'second socket');
  assert.ok(other.every((d) => d.buffer !== chunks[0]!.buffer));
  sock.destroy();
  sock2.destroy();
  server.close();
});
