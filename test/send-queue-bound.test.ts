/**
 * The send queue stays bounded when the sender keeps up with the writer: a write loop that runs
 * until write() takes nothing, over a link with TSO-sized packets (MTU 65535; the throughput benchmark's own setup) and a peer window
 * as large as the send buffer, where every refill of the unsent tail chunk is sent at once. The
 * queue may pass the send buffer by one size goal (send-queue.ts, as Linux's write queue), never
 * more: without that bound the refills alone grew it by 256 KiB per write, past 12 MB in a second
 * (found by `npm run bench -- --only throughput65535`, which then never finished).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { B, Pair } from '../bench/pair.js';

test('a writer that never waits cannot grow the send queue past the send buffer and one size goal', () => {
  const sendBuffer = 4 << 20;
  // The throughput benchmark's own setup and loop (bench/throughput.ts), for a fixed number of steps.
  const p = new Pair({ mtu: 65535, checksumOffload: true, tcp: { recvBuffer: 4 << 20, sendBuffer } });
  const sink = new Uint8Array(256 * 1024);
  const l = p.b.listen({ port: 5001 });
  l.onConnection = () => {
    const s = l.accept()!;
    s.onData = () => {
      while (s.readInto(sink) > 0);
    };
  };
  const c = p.a.connect({ remoteAddress: B, remotePort: 5001 });
  let connected = false;
  c.onConnect = () => {
    connected = true;
  };
  for (let i = 0; i < 100 && !connected; i++) if (p.pump() === 0) p.advance();
  assert.ok(connected, 'the connection did not establish');
  const data = new Uint8Array(256 * 1024);
  const conn = c.conn;
  // Past the send buffer by one size goal at most (half the peer's largest window here, 2 MiB).
  const bound = 1.5 * sendBuffer;
  let written = 0;
  for (let step = 0; step < 4000; step++) {
    for (let n = c.write(data); n > 0; n = c.write(data)) {
      written += n;
      assert.ok(conn.sendBuf.length <= bound, `the send queue held ${conn.sendBuf.length} bytes at step ${step} (send buffer ${sendBuffer})`);
    }
    if (p.pump() === 0) assert.ok(p.advance(), 'the transfer stalled with no timer pending');
  }
  assert.ok(written > 8 * sendBuffer, `the writer moved only ${written} bytes`);
});
