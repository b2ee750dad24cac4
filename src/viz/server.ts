/**
 * The `synack viz` server: serves the bundled page (dist/viz/) on 127.0.0.1 and nothing else. The
 * page runs the simulator itself, so there is no API here, only static files.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** dist/viz next to this file's build (dist/src/viz/server.js → dist/viz). */
export function defaultVizRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'viz');
}

export interface VizServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startVizServer(opts: { port?: number; root?: string; host?: string } = {}): Promise<VizServer> {
  const root = opts.root ?? defaultVizRoot();
  if (!existsSync(join(root, 'index.html')) || !existsSync(join(root, 'app.js'))) {
    throw new Error(`the viz bundle is missing in ${root}: run 'npm run build' (needs the esbuild dev dependency)`);
  }
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const rel = normalize(path === '/' ? '/index.html' : path).replace(/^([/\\])+/, '');
      const file = join(root, rel);
      if (rel.startsWith('..') || !file.startsWith(root + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404).end('not found');
        return;
      }
      try {
        const body = await readFile(file);
        const ext = file.slice(file.lastIndexOf('.'));
        res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'content-length': body.length });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404).end('not found');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port ?? 0;
  return {
    server, port, url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
