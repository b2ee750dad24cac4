/**
 * Bulk throughput through the node:net-compatible API (src/net): two synack stacks in this
 * process on a NodeDriver (real time), joined by memoryPair whose frames are delivered on the
 * next turn of the event loop. The client writes 256 KiB chunks as fast as `write()` accepts
 * them; the server counts 'data' bytes. This is the path an application sees — streams,
 * backpressure, events — on top of the segment path that `throughput1500` measures alone.
 */
import { once } from 'node:events';
import { NodeDriver } from '../src/driver/node-driver.js';
import type { Link } from '../src/link/link.js';
import { memoryPair } from '../src/link/memory.js';
import { createNet } from '../src/net/index.js';
import type { Throughput } from './throughput.js';

export async function netApiThroughput(opts: { mtu: number; warmMs: number; ms: number }): Promise<Throughput> {
  const driver = new NodeDriver({ ref: true });
  const pair = memoryPair({ mtu: opts.mtu, checksumOffload: false });
  const tcp = { recvBuffer: 4 << 20, sendBuffer: 4 << 20 };
  const a = driver.createStack({ addresses: ['10.0.0.1'], seed: 1, tcp });
  const b = driver.createStack({ addresses: ['10.0.0.2'], seed: 2, tcp });
  let scheduled = false;
  const schedulePump = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      // A bounded batch per turn: a steady transfer keeps both queues busy forever, and timers
      // and I/O must get their turn (as a NIC's interrupt budget, NAPI's weight, bounds a poll).
      if (pair.pump(256) === 256) schedulePump();
    });
  };
  // The link as the stack sees it: frames from the pair's pool, delivery on the next turn.
  const wake = (l: Link): Link => ({
    mtu: l.mtu,
    checksumOffload: false,
    allocFrame: (n: number) => l.allocFrame!(n),
    send: (f: Uint8Array) => {
      l.send(f);
      schedulePump();
    },
    onReceive: (cb: (f: Uint8Array) => void) => l.onReceive(cb),
  });
  driver.attach(a, wake(pair.a));
  driver.attach(b, wake(pair.b));
  const netA = createNet(a, driver);
  const netB = createNet(b, driver);
  let received = 0;
  const server = netB.createServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
    });
    s.on('error', () => undefined);
  });
  server.listen(5001, '10.0.0.2');
  await once(server, 'listening');
  const c = netA.connect(5001, '10.0.0.2');
  await once(c, 'connect');
  const chunk = Buffer.alloc(256 * 1024, 7);
  let stop = false;
  const writeMore = (): void => {
    while (!stop && c.write(chunk));
  };
  c.on('drain', writeMore);
  writeMore();
  const measure = async (ms: number): Promise<Throughput> => {
    const r0 = received;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const seconds = (performance.now() - t0) / 1000;
    const bytes = received - r0;
    return { gbps: (bytes * 8) / seconds / 1e9, bytes, seconds };
  };
  await measure(opts.warmMs);
  const r = await measure(opts.ms);
  stop = true;
  c.destroy();
  server.close();
  driver.close();
  return r;
}
