/**
 * The `syn-timeout` scenario 10,000 times at once: one client stack opens N connections at t=0
 * to a server behind a path that drops everything; each retransmits its SYN at 1, 3, 7, 15,
 * 31, 63 s and fails with ETIMEDOUT at 127 s of virtual time. Measures the wall time.
 */
import { SimWorld } from '../src/driver/world.js';

export interface SynTimeoutResult {
  connections: number;
  timedOut: number;
  virtualSeconds: number;
  wallSeconds: number;
  synsSent: number;
}

export function synTimeout(n: number): SynTimeoutResult {
  const t0 = performance.now();
  const w = new SimWorld({ seed: 1, path: { delay: 10_000 } });
  const client = w.addHost('client', ['10.0.0.1']);
  const server = w.addHost('server', ['10.0.0.2']);
  w.net.setPath('client', 'server', { loss: 1 });
  server.listen({ port: 80 });
  let timedOut = 0;
  let lastAt = 0;
  for (let i = 0; i < n; i++) {
    const c = client.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
    c.onError = (code) => {
      if (code === 'ETIMEDOUT') timedOut++;
      lastAt = w.now;
    };
  }
  w.run();
  return { connections: n, timedOut, virtualSeconds: lastAt / 1e6, wallSeconds: (performance.now() - t0) / 1000, synsSent: client.counters.OutSegs ?? 0 };
}
