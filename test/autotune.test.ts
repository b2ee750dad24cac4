/**
 * Receive-buffer auto-tuning (LINUX tcp_moderate_rcvbuf / dynamic right-sizing): a reader that
 * keeps up over a long path gets a buffer, and so a window, sized to what it reads per RTT; a
 * buffer set by the application (SO_RCVBUF) is never changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTransfer } from '../src/demo/transfer.js';
import { SimWorld } from '../src/driver/world.js';

test('auto-tuning grows the receive buffer on a 100 ms path: 50 MB goes 7× faster than a fixed 128 KiB buffer', () => {
  const tuned = runTransfer({ bytes: 50_000_000, seed: 1, delayMs: 50 });
  assert.equal(tuned.intact, true);
  // A fixed 131072-byte window over 100 ms RTT caps goodput near 10 Mbit/s.
  assert.ok(tuned.goodputMbps > 50, `goodput ${tuned.goodputMbps} Mbit/s`);
});

test('SO_RCVBUF set by the application is kept; the default buffer grows up to recvBufferMax', () => {
  const w = new SimWorld({ seed: 2, path: { delay: 20_000 } });
  const a = w.addHost('a', ['10.0.0.1']);
  const b = w.addHost('b', ['10.0.0.2']);
  const l = b.listen({ port: 80 });
  const servers: ReturnType<typeof l.accept>[] = [];
  l.onConnection = () => {
    const s = l.accept()!;
    servers.push(s);
    if (servers.length === 2) s.setOption('recvBuffer', 65536);
    s.onData = () => {
      while (s.read() !== null);
    };
  };
  const data = new Uint8Array(8_000_000);
  for (const i of [0, 1]) {
    w.at(i * 1000, () => {
      const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
      let off = 0;
      const pump = (): void => {
        while (off < data.length) {
          const n = c.write(data.subarray(off));
          if (n === 0) return;
          off += n;
        }
      };
      c.onConnect = pump;
      c.onWritable = pump;
    });
  }
  w.run(30_000_000);
  const [tuned, fixed] = servers.map((s) => s!.conn.config.recvBuffer);
  assert.ok(tuned! > 131072, `default buffer grew: ${tuned}`);
  assert.ok(tuned! <= 6 << 20);
  assert.equal(fixed, 65536);
});
