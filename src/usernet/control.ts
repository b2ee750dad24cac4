/**
 * The control socket of a running user-mode network: a Unix stream socket where each connection
 * gets one JSON document — the stack's snapshot (netstat rows, UDP sockets, counters), the
 * relay's flow table and the services' counters — and is closed. `synack netstat --usernet PATH`
 * reads it, so a running `synack netns` is as visible as a simulated stack.
 */
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { UserNet, UserNetFlow, UserNetStats } from './usernet.js';
import type { Snapshot } from '../stack/views.js';

/** What the control socket answers. */
export interface ControlDocument {
  snapshot: Snapshot;
  flows: UserNetFlow[];
  stats: UserNetStats;
}

/** Serve `un`'s tables on a Unix socket at `path` (a stale socket file there is replaced). */
export function serveControl(path: string, un: UserNet): Promise<{ close(): void }> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const srv = net.createServer((c) => {
    const doc: ControlDocument = { snapshot: un.stack.snapshot(), flows: un.flows(), stats: un.stats() };
    c.on('error', () => c.destroy());
    c.end(JSON.stringify(doc));
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => {
      srv.unref(); // the network's own sockets keep the process alive, not this
      resolve({
        close(): void {
          srv.close();
          rmSync(path, { force: true });
        },
      });
    });
  });
}

/** Read one document from a control socket. */
export function readControl(path: string, timeoutMs = 5000): Promise<ControlDocument> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(path);
    const chunks: Buffer[] = [];
    c.setTimeout(timeoutMs, () => c.destroy(new Error(`no answer from ${path} in ${timeoutMs} ms`)));
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', reject);
    c.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ControlDocument);
      } catch (e) {
        reject(new Error(`${path}: not a synack control socket (${(e as Error).message})`));
      }
    });
  });
}
