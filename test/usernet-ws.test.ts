/**
 * synack's WebSocket server (the transport `synack relay` will use) against an independent
 * client, the `ws` package (a devDependency), on loopback: handshake and subprotocol, text and
 * binary both ways, a fragmented message, ping/pong, both closing handshakes; and, with a raw
 * socket, the refusals (bad version → 426, unmasked frame → close 1002) and the bounded queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'ws';
import { acceptWebSocket, wsAcceptKey, type WsConnection, type WsServerOptions } from '../src/usernet/ws-server.js';
import { encodeWsFrame, WsFrameDecoder, WsOpcode } from '../src/wire/websocket.js';

async function server(opts: WsServerOptions, onConn: (c: WsConnection) => void): Promise<{ port: number; close: () => void }> {
  const srv = http.createServer((_req, res) => res.writeHead(404).end());
  srv.on('upgrade', (req, socket, head) => {
    const c = acceptWebSocket(req, socket, head, opts);
    if (c !== null) onConn(c);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

test('RFC 6455 §1.3: the accept key of the RFC example', () => {
  assert.equal(wsAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('a ws client: subprotocol, text and binary echo, fragments, ping, client-initiated close', async () => {
  const closes: string[] = [];
  const s = await server({ protocols: ['synack-relay.v1'] }, (c) => {
    c.onMessage((data, binary) => c.send(binary ? data.slice().reverse() : `echo: ${new TextDecoder().decode(data)}`));
    c.onClose((code, reason) => closes.push(`${code}:${reason}`));
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/`, ['other', 'synack-relay.v1']);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    assert.equal(ws.protocol, 'synack-relay.v1');
    const next = (): Promise<{ data: Buffer; binary: boolean }> => new Promise((r) => ws.once('message', (data: Buffer, binary: boolean) => r({ data, binary })));
    let m = next();
    ws.send('héllo');
    assert.deepEqual(await m, { data: Buffer.from('echo: héllo'), binary: false });
    const big = Buffer.alloc(300_000, 7);
    big[0] = 1;
    m = next();
    ws.send(big);
    const back = await m;
    assert.equal(back.binary, true);
    assert.equal(back.data.length, 300_000);
    assert.equal(back.data[299_999], 1);
    // One message in three fragments (fin: false, then continuation frames).
    m = next();
    ws.send('abc', { fin: false });
    ws.send('def', { fin: false });
    ws.send('ghi', { fin: true });
    assert.equal((await m).data.toString(), 'echo: abcdefghi');
    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    ws.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
    const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    ws.close(4000, 'bye');
    assert.equal(await closed, 4000);
    assert.deepEqual(closes, ['4000:bye']);
  } finally {
    s.close();
  }
});

test('server-initiated close reaches the client with its code; the queue is bounded', async () => {
  let conn: WsConnection | null = null;
  const s = await server({ maxQueueBytes: 128 * 1024 }, (c) => (conn = c));
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/`);
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 20));
    // The client stops reading; the server's sends are refused once 128 KiB wait unwritten.
    (ws as unknown as { _socket: net.Socket })._socket.pause();
    let accepted = 0;
    for (let i = 0; i < 400 && conn!.send(new Uint8Array(16 * 1024)); i++) accepted++;
    assert.ok(accepted < 400, 'send refused at the bound');
    assert.ok(conn!.bufferedAmount <= 128 * 1024 + 16 * 1024 + 14, `buffered ${conn!.bufferedAmount}`);
    assert.equal(conn!.sendRefused, 1);
    const drained = new Promise<void>((r) => conn!.onDrain(r));
    let got = 0;
    ws.on('message', () => got++);
    (ws as unknown as { _socket: net.Socket })._socket.resume();
    await drained;
    const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    conn!.close(1001, 'shutting down');
    assert.equal(await closed, 1001);
    assert.equal(got, accepted);
  } finally {
    s.close();
  }
});

test('a raw client: wrong version gets 426; an unmasked frame fails the connection with 1002', async () => {
  const s = await server({}, (c) => c.onMessage(() => {}));
  const raw = (request: string, after?: Uint8Array): Promise<Buffer> =>
    new Promise((resolve) => {
      const c = net.connect(s.port, '127.0.0.1', () => c.write(request));
      const chunks: Buffer[] = [];
      let sent = false;
      c.on('data', (d) => {
        chunks.push(d);
        if (after && !sent && Buffer.concat(chunks).includes('\r\n\r\n')) {
          sent = true;
          c.write(after);
        }
      });
      c.on('close', () => resolve(Buffer.concat(chunks)));
      c.on('error', () => {});
    });
  const req = (version: string): string =>
    `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\n\r\n`;
  try {
    const old = (await raw(req('8'))).toString();
    assert.match(old, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(old, /Sec-WebSocket-Version: 13/);
    const out = await raw(req('13'), encodeWsFrame(WsOpcode.TEXT, new TextEncoder().encode('not masked')));
    const text = out.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    const frames = new WsFrameDecoder({ expectMasked: false, maxMessage: 1000 }).push(out.subarray(out.indexOf('\r\n\r\n') + 4)).messages;
    assert.equal(frames[0]!.opcode, WsOpcode.CLOSE);
    assert.equal((frames[0]!.data[0]! << 8) | frames[0]!.data[1]!, 1002);
  } finally {
    s.close();
  }
});
