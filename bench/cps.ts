/**
 * Connections per second: open, 1 byte each way, close (the client closes first, as an HTTP/1.0
 * client would; the server closes on end-of-file). synack over memoryPair with a fake clock
 * (TIME_WAIT entries are left to expire by advancing it 61 s between rounds, which the timing
 * includes), and the kernel over 127.0.0.1 through node:net.
 */
import net from 'node:net';
import { once } from 'node:events';
import { B, Pair } from './pair.js';

export interface Cps {
  cps: number;
  connections: number;
  seconds: number;
}

export function synackCps(opts: { warmMs: number; ms: number; batch: number }): Cps {
  const p = new Pair({ mtu: 1500, checksumOffload: false });
  const one = new Uint8Array([0x2a]);
  const sink = new Uint8Array(16);
  let done = 0;
  oneByteEchoServer(p);
  const open = (): void => {
    const c = p.a.connect({ remoteAddress: B, remotePort: 80 });
    c.onConnect = () => {
      c.write(one);
    };
    c.onData = () => {
      if (c.readInto(sink) > 0) c.close();
    };
    c.onClose = () => {
      done++;
    };
  };
  const run = (ms: number): Cps => {
    const d0 = done;
    const t0 = performance.now();
    let t = t0;
    while (t < t0 + ms) {
      // a round: `batch` connections opened back to back, run to completion (both ends CLOSED
      // or the client in TIME_WAIT), then 61 s of virtual time so TIME_WAIT expires.
      for (let i = 0; i < opts.batch; i++) open();
      for (let guard = 0; p.pump() > 0 || guard === 0; guard++);
      p.runFor(61_000_000);
      t = performance.now();
    }
    const seconds = (t - t0) / 1000;
    return { cps: (done - d0) / seconds, connections: done - d0, seconds };
  };
  run(opts.warmMs);
  const res = run(opts.ms);
  if (p.a.connections().length + p.b.connections().length > 0) {
    throw new Error(`bench: ${p.a.connections().length + p.b.connections().length} connections left after the cps run`);
  }
  return res;
}

export async function kernelCps(opts: { warmMs: number; ms: number; concurrency: number }): Promise<Cps> {
  const one = Buffer.from([0x2a]);
  const server = net.createServer((s) => {
    s.once('data', () => s.write(one));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', 4096);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let done = 0;
  let errors = 0;
  let stopAt = 0;
  // Each worker connects from its own 127.0.0.x so earlier runs' TIME_WAIT entries (60 s, one
  // ephemeral port each) do not exhaust one source address's port range and throttle the kernel.
  const loop = async (_: unknown, i: number): Promise<void> => {
    const localAddress = `127.0.${1 + (i >> 7)}.${2 + (i & 127)}`;
    while (performance.now() < stopAt) {
      await new Promise<void>((resolve) => {
        const c = net.connect({ port, host: '127.0.0.1', localAddress });
        c.on('connect', () => c.write(one));
        c.once('data', () => c.end());
        c.on('error', () => {
          errors++;
        });
        c.on('close', () => {
          done++;
          resolve();
        });
      });
    }
  };
  const run = async (ms: number): Promise<Cps> => {
    const d0 = done;
    const t0 = performance.now();
    stopAt = t0 + ms;
    await Promise.all(Array.from({ length: opts.concurrency }, loop));
    const seconds = (performance.now() - t0) / 1000;
    return { cps: (done - d0) / seconds, connections: done - d0, seconds };
  };
  await run(opts.warmMs);
  const res = await run(opts.ms);
  server.close();
  if (errors > 0) process.stderr.write(`bench: ${errors} node:net connection errors during the cps run\n`);
  return res;
}

/**
 * The cost of one segment on an established connection: a 1-byte write answered by a 1-byte
 * write, over memoryPair with no time (two data segments per round trip, each carrying the ACK of
 * the other). Few objects and no handshake, so it varies far less between runs than connections/s
 * and shows the per-segment work of the stack alone. Microseconds per round trip.
 */
export function synackPingPong(opts: { warmMs: number; ms: number }): { usPerRoundTrip: number; roundTrips: number } {
  const p = new Pair({ mtu: 1500, checksumOffload: false });
  const one = new Uint8Array([0x2a]);
  const sink = new Uint8Array(16);
  oneByteEchoServer(p);
  const c = p.a.connect({ remoteAddress: B, remotePort: 80 });
  let answers = 0;
  c.onData = () => {
    if (c.readInto(sink) > 0) answers++;
  };
  for (let i = 0; i < 100 && c.state !== 'ESTABLISHED'; i++) if (p.pump() === 0) p.advance();
  const run = (ms: number): { usPerRoundTrip: number; roundTrips: number } => {
    const a0 = answers;
    const t0 = performance.now();
    let t = t0;
    while (t < t0 + ms) {
      for (let i = 0; i < 1000; i++) {
        c.write(one);
        p.pump();
      }
      t = performance.now();
    }
    const n = answers - a0;
    if (n === 0) throw new Error('bench: the ping-pong connection answered nothing');
    return { usPerRoundTrip: ((t - t0) * 1000) / n, roundTrips: n };
  };
  run(opts.warmMs);
  return run(opts.ms);
}

/** On b port 80: every connection answers each read with one byte and closes on end-of-file. */
function oneByteEchoServer(p: Pair): void {
  const one = new Uint8Array([0x2a]);
  const sink = new Uint8Array(16);
  const l = p.b.listen({ port: 80, backlog: 4096 });
  l.onConnection = () => {
    const s = l.accept()!;
    s.onData = () => {
      if (s.readInto(sink) > 0) s.write(one);
    };
    s.onEnd = () => s.close();
  };
}
