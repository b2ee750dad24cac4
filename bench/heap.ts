/**
 * Heap bytes per idle ESTABLISHED connection: open N connections between two stacks over
 * memoryPair (handshake only, no data), keep the application's socket handles, force full GCs
 * before and after, and divide the growth of `heapUsed` by the number of endpoints (2N: each
 * connection has a client and a server socket, each a Connection in its stack's tables). The
 * stacks, listeners and wire exist before the first measurement, so only per-connection state
 * is counted (the sockets, Connections, their timer tables and buffers, map entries, the
 * application's handle array).
 */
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { B, Pair } from './pair.js';
import type { TcpSocket } from '../src/stack/socket.js';

export function ensureGc(): () => void {
  const g = globalThis as { gc?: () => void };
  if (typeof g.gc !== 'function') {
    v8.setFlagsFromString('--expose-gc');
    g.gc = runInNewContext('gc') as () => void;
  }
  return g.gc!;
}

export interface HeapResult {
  connections: number;
  endpoints: number;
  bytesPerEndpoint: number;
  bytesPerConnectionPair: number;
  seconds: number;
}

export function heapPerIdleConnection(n: number): HeapResult {
  const gc = ensureGc();
  // Spread over server ports so each (remote, port) keeps its ephemeral range under ~20 % full
  // (the range holds 28,232 ports per destination; allocation itself is O(1) amortized, LINUX
  // __inet_hash_connect's per-destination cursor).
  const ports = Math.ceil(n / 5_000);
  const p = new Pair({ mtu: 1500, checksumOffload: false });
  const held: TcpSocket[] = [];
  const listeners = Array.from({ length: ports }, (_, i) => {
    const l = p.b.listen({ port: 1000 + i, backlog: 4096 });
    l.onConnection = () => {
      for (let s = l.accept(); s !== null; s = l.accept()) held.push(s);
    };
    return l;
  });
  const full = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const t0 = performance.now();
  const before = full();
  let opened = 0;
  while (opened < n) {
    const batch = Math.min(2000, n - opened);
    for (let i = 0; i < batch; i++) {
      held.push(p.a.connect({ remoteAddress: B, remotePort: 1000 + ((opened + i) % ports) }));
    }
    opened += batch;
    p.pump();
  }
  // let every delayed ACK / quick-ACK timer of the handshake run out: idle means no timer work
  p.runFor(1_000_000);
  const established = p.a.connections().filter((c) => c.state === 'ESTABLISHED').length;
  if (established !== n) throw new Error(`bench: ${established} of ${n} connections established`);
  const after = full();
  const seconds = (performance.now() - t0) / 1000;
  const growth = after - before;
  const res = { connections: n, endpoints: 2 * n, bytesPerEndpoint: growth / (2 * n), bytesPerConnectionPair: growth / n, seconds };
  // keep everything alive until after the measurement
  if (held.length !== 2 * n || listeners.length !== ports) throw new Error('bench: lost handles');
  return res;
}
