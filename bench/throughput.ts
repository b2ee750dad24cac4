/** Bulk throughput of one connection: synack over memoryPair, and the kernel over 127.0.0.1. */
import net from 'node:net';
import { once } from 'node:events';
import type { TcpConfig } from '../src/tcp/config.js';
import { B, Pair } from './pair.js';

export interface Throughput {
  gbps: number;
  bytes: number;
  seconds: number;
}

/** What `openTransfer` needs of a Pair: bench/pair.ts's, or an earlier build's (scripts/throughput-fixed.mjs). */
export type PairClass = new (opts: { mtu: number; checksumOffload: boolean; tcp?: Partial<TcpConfig> }) => Pair;

/** A connection between two stacks with a bulk transfer on it (`step` moves it on). */
export interface Transfer {
  pair: Pair;
  /** Bytes the server has read. */
  received(): number;
  /** Four rounds of: the client writes until its send buffer is full, the wire is pumped. */
  step(): void;
}

/**
 * One synack connection between two stacks; the client writes as fast as the send buffer takes
 * bytes, the server reads into one buffer and discards. `PairCtor` lets a script run another
 * build's stacks through the same loop.
 */
export function openTransfer(opts: { mtu: number; checksumOffload: boolean }, PairCtor: PairClass = Pair): Transfer {
  const p = new PairCtor({ mtu: opts.mtu, checksumOffload: opts.checksumOffload, tcp: { recvBuffer: 4 << 20, sendBuffer: 4 << 20 } });
  const data = new Uint8Array(256 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
  const sink = new Uint8Array(256 * 1024);
  let received = 0;
  const l = p.b.listen({ port: 5001 });
  l.onConnection = () => {
    const s = l.accept()!;
    s.onData = () => {
      for (let n = s.readInto(sink); n > 0; n = s.readInto(sink)) received += n;
    };
  };
  const c = p.a.connect({ remoteAddress: B, remotePort: 5001 });
  let connected = false;
  c.onConnect = () => {
    connected = true;
  };
  for (let i = 0; i < 100 && !connected; i++) if (p.pump() === 0) p.advance();
  if (!connected) throw new Error('bench: synack connection did not establish');
  let idle = 0;
  const step = (): void => {
    for (let k = 0; k < 4; k++) {
      while (c.write(data) > 0);
      if (p.pump() === 0) {
        // nothing in flight and the send buffer still full: a timer must move things
        if (!p.advance()) throw new Error('bench: transfer stalled with no timer pending');
        if (++idle > 1000) throw new Error('bench: transfer stalled');
      } else idle = 0;
    }
  };
  return { pair: p, received: () => received, step };
}

/** Throughput of `openTransfer`'s connection, measured for `ms` after `warmMs`. */
export function synackThroughput(opts: { mtu: number; checksumOffload: boolean; warmMs: number; ms: number }): Throughput {
  const t = openTransfer(opts);
  const run = (ms: number): Throughput => {
    const r0 = t.received();
    const t0 = performance.now();
    let now = t0;
    const end = t0 + ms;
    while (now < end) {
      t.step();
      now = performance.now();
    }
    const seconds = (now - t0) / 1000;
    const bytes = t.received() - r0;
    return { gbps: (bytes * 8) / seconds / 1e9, bytes, seconds };
  };
  run(opts.warmMs);
  return run(opts.ms);
}

/** The same over the kernel's TCP on 127.0.0.1 through node:net, both ends in this process. */
export async function kernelThroughput(opts: { warmMs: number; ms: number }): Promise<Throughput> {
  let received = 0;
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  const chunk = Buffer.alloc(256 * 1024, 7);
  let stop = false;
  const pumpWrites = (): void => {
    while (!stop && c.write(chunk));
  };
  c.on('drain', pumpWrites);
  pumpWrites();
  const measure = async (ms: number): Promise<Throughput> => {
    const r0 = received;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const seconds = (performance.now() - t0) / 1000;
    const bytes = received - r0;
    return { gbps: (bytes * 8) / seconds / 1e9, bytes, seconds };
  };
  await measure(opts.warmMs);
  const res = await measure(opts.ms);
  stop = true;
  c.destroy();
  server.close();
  return res;
}
