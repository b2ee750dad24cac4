import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryPair } from '../link/memory.js';
import { Stack } from './stack.js';
import type { TcpSocket } from './socket.js';

/** Two stacks on a memory wire with a fake clock (µs); `run(us)` fires every timer on the way. */
function pair() {
  let now = 0;
  const wire = memoryPair({ mtu: 1500 });
  const a = new Stack({ name: 'a', addresses: ['10.0.0.1'], clock: () => now, seed: 1 });
  const b = new Stack({ name: 'b', addresses: ['10.0.0.2'], clock: () => now, seed: 2 });
  a.attach(wire.a);
  b.attach(wire.b);
  const run = (us: number): void => {
    const end = now + us;
    wire.pump();
    for (;;) {
      const d = Math.min(a.nextDeadline(), b.nextDeadline());
      if (d > end) break;
      now = Math.max(now, d);
      if (a.nextDeadline() <= now) a.onTimer(now);
      if (b.nextDeadline() <= now) b.onTimer(now);
      wire.pump();
    }
    now = end;
  };
  return { a, b, wire, run };
}

function connect(p: ReturnType<typeof pair>): { client: TcpSocket; server: TcpSocket } {
  const l = p.b.listen({ port: 80 });
  let server: TcpSocket | null = null;
  l.onConnection = () => {
    server = l.accept();
  };
  const client = p.a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  p.run(1000);
  assert.ok(server !== null && client.state === 'ESTABLISHED');
  return { client, server };
}

test('a connection that never carried data holds no buffer and no sweep deadline', () => {
  const p = pair();
  const { client, server } = connect(p);
  p.run(1_000_000);
  for (const s of [client, server]) {
    assert.equal(s.conn.sendBuf.capacity, 0);
    assert.equal(s.conn.recvBuf.capacity, 0);
  }
  assert.equal(p.a.nextDeadline(), Number.POSITIVE_INFINITY);
  assert.equal(p.b.nextDeadline(), Number.POSITIVE_INFINITY);
});

test('buffers are kept while data flows and freed once the connection has been idle', () => {
  const p = pair();
  const { client, server } = connect(p);
  const chunk = new Uint8Array(10_000).fill(7);
  const sink = new Uint8Array(65536);
  let got = 0;
  // The reader reads after the fact, not in its data callback: the data waits in the receive
  // buffer (a reader in the callback copies from the frame, and needs none: the test below).
  let recvCap = 0;
  for (let i = 0; i < 20; i++) {
    client.write(chunk);
    p.run(100_000); // past the delayed ACK
    for (let n = server.readInto(sink); n > 0; n = server.readInto(sink)) got += n;
    // drained and fully acknowledged, yet the busy connection keeps its buffers
    assert.equal(client.conn.sendBuf.length, 0);
    assert.ok(client.conn.sendBuf.capacity > 0);
    assert.ok(server.conn.recvBuf.capacity > 0);
    if (i > 0) assert.equal(server.conn.recvBuf.capacity, recvCap, 'no reallocation while busy');
    recvCap = server.conn.recvBuf.capacity;
  }
  assert.equal(got, 200_000);
  p.run(2_500_000);
  for (const s of [client, server]) {
    assert.equal(s.conn.sendBuf.capacity, 0);
    assert.equal(s.conn.recvBuf.capacity, 0);
  }
  assert.equal(p.a.nextDeadline(), Number.POSITIVE_INFINITY);
  // and the connection still works afterwards
  client.write(chunk);
  p.run(100_000);
  for (let n = server.readInto(sink); n > 0; n = server.readInto(sink)) got += n;
  assert.equal(got, 210_000);
});

test('a reader in its data callback gets the bytes from the frame: intact, and no receive buffer is allocated', () => {
  const p = pair();
  const { client, server } = connect(p);
  const chunk = new Uint8Array(10_000);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  const sink = new Uint8Array(700); // smaller than a segment: a read takes part of one
  const got: number[] = [];
  server.onData = () => {
    for (let n = server.readInto(sink); n > 0; n = server.readInto(sink)) for (let i = 0; i < n; i++) got.push(sink[i]!);
  };
  for (let i = 0; i < 5; i++) {
    client.write(chunk);
    p.run(100_000);
    assert.equal(server.conn.recvBuf.capacity, 0);
  }
  assert.equal(got.length, 50_000);
  for (let i = 0; i < got.length; i++) if (got[i] !== chunk[i % chunk.length]) assert.fail(`byte ${i}: ${got[i]} != ${chunk[i % chunk.length]}`);
});

test('a reader that takes part of a segment in its callback leaves the rest queued, in order', () => {
  const p = pair();
  const { client, server } = connect(p);
  const chunk = new Uint8Array(4_000);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 13 + 1) & 0xff;
  const got: number[] = [];
  const small = new Uint8Array(100);
  server.onData = () => {
    // one small read per callback: the rest of each segment must be copied in before the frame goes
    const n = server.readInto(small);
    for (let i = 0; i < n; i++) got.push(small[i]!);
  };
  client.write(chunk);
  p.run(100_000);
  assert.ok(server.conn.recvBuf.length > 0, 'data left in the queue');
  assert.ok(server.conn.recvBuf.capacity > 0);
  const rest = new Uint8Array(8_000);
  for (let n = server.readInto(rest); n > 0; n = server.readInto(rest)) for (let i = 0; i < n; i++) got.push(rest[i]!);
  assert.equal(got.length, chunk.length);
  for (let i = 0; i < got.length; i++) if (got[i] !== chunk[i]) assert.fail(`byte ${i}: ${got[i]} != ${chunk[i]}`);
});

test('unread data is never released', () => {
  const p = pair();
  const { client, server } = connect(p);
  client.write(new Uint8Array(3000).fill(1));
  p.run(5_000_000);
  assert.equal(server.conn.recvBuf.length, 3000);
  assert.ok(server.conn.recvBuf.capacity >= 3000);
  assert.equal(client.conn.sendBuf.capacity, 0);
});

test('a connection has no RACK state until it sends data (a handshake allocates none)', () => {
  const p = pair();
  const { client, server } = connect(p);
  assert.equal(client.conn.sackEnabled, true);
  assert.equal(client.conn.snd.rec.rackIfAny, null);
  assert.equal(server.conn.snd.rec.rackIfAny, null);
  client.write(new Uint8Array([1, 2, 3]));
  p.run(1000);
  assert.notEqual(client.conn.snd.rec.rackIfAny, null);
  assert.equal(server.conn.snd.rec.rackIfAny, null, 'the receiver of data keeps none either');
});
