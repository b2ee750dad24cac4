/**
 * Real Node code over synack sockets on virtual time: node:http (server and client, GET, POST with
 * a 1 MB body, keep-alive reuse, chunked responses) and a WebSocket exchange with the `ws` package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { SimWorld } from '../src/driver/world.js';
import { SimDriver } from '../src/driver/node.js';
import { createNet, type Net } from '../src/net/index.js';
import { ms, sec } from '../src/time.js';

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

function setup(): { world: SimWorld; driver: SimDriver; c: Net; s: Net } {
  const world = new SimWorld({ seed: 7, path: { delay: ms(10), bandwidthBps: 100_000_000 } });
  const a = world.addHost('client', [CLIENT]);
  const b = world.addHost('server', [SERVER]);
  const driver = new SimDriver(world);
  return { world, driver, c: createNet(a, driver), s: createNet(b, driver) };
}

/** An http.Server fed by a synack listener on SERVER:80; counts TCP connections accepted. */
function httpServer(s: Net, handler: http.RequestListener): { server: http.Server; accepted: () => number } {
  const server = http.createServer({ keepAliveTimeout: 5000 }, handler);
  let n = 0;
  s.createServer((sock) => {
    n++;
    server.emit('connection', sock);
  }).listen(80, SERVER);
  return { server, accepted: () => n };
}

/** An http.Agent whose sockets are synack sockets. */
class SynackAgent extends http.Agent {
  constructor(
    private readonly net: Net,
    opts: http.AgentOptions,
  ) {
    super(opts);
  }
  override createConnection(options: { host?: string | null; port?: number | string | null }): Duplex {
    return this.net.connect({ host: options.host ?? SERVER, port: Number(options.port ?? 80) });
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  localPort: number | undefined;
}

/** Make a request and drive virtual time until the whole response has arrived. */
async function request(driver: SimDriver, opts: http.RequestOptions, body?: Buffer): Promise<Reply> {
  let result: Reply | undefined;
  let failure: Error | undefined;
  const req = http.request({ host: SERVER, port: 80, ...opts }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (d: Buffer) => chunks.push(d));
    res.on('end', () => {
      result = { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), localPort: (req.socket as { localPort?: number } | null)?.localPort };
    });
  });
  req.on('error', (e) => (failure = e));
  req.end(body);
  await driver.until(() => result !== undefined || failure !== undefined, sec(60));
  if (failure) throw failure;
  return result!;
}

test('node:http over synack: GET, POST of 1 MB, chunked response, keep-alive reuse', async () => {
  const { driver, c, s } = setup();
  const { server, accepted } = httpServer(s, (req, res) => {
    if (req.method === 'GET' && req.url === '/hello') {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.socket.remoteAddress}`);
      return;
    }
    if (req.method === 'POST' && req.url === '/hash') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex') })));
      return;
    }
    if (req.url === '/chunked') {
      // No content-length: node:http sends Transfer-Encoding: chunked. Chunks go out over time.
      res.writeHead(200, { 'content-type': 'text/plain' });
      let i = 0;
      const next = (): void => {
        if (i === 5) {
          res.end('done\n');
          return;
        }
        res.write(`chunk ${i++}\n`);
        setImmediate(next);
      };
      next();
      return;
    }
    res.statusCode = 404;
    res.end();
  });

  const agent = new SynackAgent(c, { keepAlive: true, maxSockets: 1 });

  const get = await request(driver, { path: '/hello', agent });
  assert.equal(get.status, 200);
  assert.equal(get.body.toString(), `hello ${CLIENT}`);
  assert.equal(get.headers.connection, 'keep-alive');

  const body = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >>> 9)) & 0xff;
  const post = await request(driver, { method: 'POST', path: '/hash', agent, headers: { 'content-length': body.length } }, body);
  assert.equal(post.status, 200);
  assert.deepEqual(JSON.parse(post.body.toString()), { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });

  const chunked = await request(driver, { path: '/chunked', agent });
  assert.equal(chunked.headers['transfer-encoding'], 'chunked');
  assert.equal(chunked.body.toString(), 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\ndone\n');

  const missing = await request(driver, { path: '/nope', agent });
  assert.equal(missing.status, 404);

  // Keep-alive: all four requests went over one TCP connection (same client port).
  assert.equal(accepted(), 1);
  assert.equal(new Set([get.localPort, post.localPort, chunked.localPort, missing.localPort]).size, 1);

  // Without keep-alive, each request is its own connection, closed by the server.
  const plain = new SynackAgent(c, { keepAlive: false });
  const r1 = await request(driver, { path: '/hello', agent: plain, headers: { connection: 'close' } });
  const r2 = await request(driver, { path: '/hello', agent: plain, headers: { connection: 'close' } });
  assert.equal(r1.headers.connection, 'close');
  assert.notEqual(r1.localPort, r2.localPort);
  assert.equal(accepted(), 3);

  agent.destroy();
  plain.destroy();
  await driver.runFor(sec(1));
  server.close();
});

test('node:http client with createConnection (no agent) and the server closing idle keep-alive sockets', async () => {
  const { world, driver, c, s } = setup();
  httpServer(s, (_req, res) => res.end('ok'));
  let socketClosedAt = -1;
  const reply = await request(driver, {
    path: '/',
    // Without an agent node:http would send 'Connection: close'; ask for keep-alive explicitly.
    headers: { connection: 'keep-alive' },
    createConnection: () => {
      const sock = c.connect(80, SERVER);
      sock.on('close', () => (socketClosedAt = world.now));
      return sock;
    },
  });
  assert.equal(reply.body.toString(), 'ok');
  // The server's keepAliveTimeout (5 s, on the socket's setTimeout: the driver's virtual clock)
  // closes the idle connection.
  const t = world.now;
  await driver.until(() => socketClosedAt >= 0, sec(30));
  assert.ok(socketClosedAt - t >= sec(4) && socketClosedAt - t <= sec(6), `closed after ${socketClosedAt - t} µs`);
});

test('WebSocket (ws) over synack: upgrade, text and binary messages both ways, close handshake', async () => {
  const { driver, c, s } = setup();
  const wss = new WebSocketServer({ noServer: true });
  const { server } = httpServer(s, (_req, res) => {
    res.statusCode = 426;
    res.end();
  });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) ws.send(Buffer.from(data as Buffer).reverse(), { binary: true });
        else ws.send(`echo: ${String(data)}`);
      });
      ws.on('close', (code, reason) => serverClose.push(`${code}:${reason.toString()}`));
    });
  });
  const serverClose: string[] = [];
  const received: (string | Buffer)[] = [];
  let closed: { code: number; reason: string } | undefined;
  const ws = new WebSocket(`ws://${SERVER}/chat`, { createConnection: () => c.connect(80, SERVER) });
  ws.on('open', () => {
    ws.send('hello over synack');
    ws.send(Buffer.from([1, 2, 3, 4, 5]));
    ws.send('x'.repeat(200_000));
  });
  ws.on('message', (data, isBinary) => {
    received.push(isBinary ? Buffer.from(data as Buffer) : String(data));
    if (received.length === 3) ws.close(1000, 'bye');
  });
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  let error: Error | undefined;
  ws.on('error', (e) => (error = e));
  await driver.until(() => closed !== undefined || error !== undefined, sec(60));
  assert.equal(error, undefined);
  assert.equal(received[0], 'echo: hello over synack');
  assert.deepEqual(received[1], Buffer.from([5, 4, 3, 2, 1]));
  assert.equal(received[2], `echo: ${'x'.repeat(200_000)}`);
  assert.deepEqual(closed, { code: 1000, reason: 'bye' });
  await driver.until(() => serverClose.length === 1);
  assert.deepEqual(serverClose, ['1000:bye']);
  wss.close();
});
