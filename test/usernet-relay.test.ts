/**
 * `synack relay`'s session on loopback: a `ws` client plays the page's side of the relay
 * protocol against RelaySession, with TCP and UDP echo servers and a bulk sender on 127.0.0.1:
 * flows open, carry data both ways, half-close and close; the allow list refuses other hosts
 * (EACCES), refused connections and unreachable UDP ports come back as errno names; credit stops
 * the relay at exactly what the page granted and a 5 MB download arrives intact as credit is
 * granted; DATA beyond our credit and malformed frames end the session with 1002.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { acceptWebSocket } from '../src/usernet/ws-server.js';
import { RelaySession } from '../src/usernet/relay.js';
import { AllowList } from '../src/usernet/allow-list.js';
import { decodeRelay, encodeRelay, INITIAL_CREDIT, RelayType, type RelayFrame } from '../src/usernet/relay-protocol.js';
import { RelayClient } from '../src/usernet/relay-client.js';

const LOOP = Uint8Array.from([127, 0, 0, 1]);
const BULK = Buffer.alloc(5 * 1024 * 1024);
for (let i = 0; i < BULK.length; i++) BULK[i] = (i * 7 + (i >> 13)) & 0xff;

let echo: net.Server;
let bulk: net.Server;
let udpEcho: dgram.Socket;
let relaySrv: http.Server;
let closedPort = 0;
const sessions: RelaySession[] = [];

before(async () => {
  echo = net.createServer({ allowHalfOpen: true }, (c) => {
    c.pipe(c);
    c.on('error', () => {});
  });
  bulk = net.createServer((c) => {
    c.end(BULK);
    c.on('error', () => {});
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => bulk.listen(0, '127.0.0.1', r));
  udpEcho = dgram.createSocket('udp4');
  udpEcho.on('message', (m, r) => udpEcho.send(m, r.port, r.address));
  await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', r));
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  relaySrv = http.createServer();
  relaySrv.on('upgrade', (req, socket, head) => {
    const ws = acceptWebSocket(req, socket, head, { maxMessage: 1 << 20 });
    if (ws !== null) sessions.push(new RelaySession(ws, { allow: new AllowList(['127.0.0.1']) }));
  });
  await new Promise<void>((r) => relaySrv.listen(0, '127.0.0.1', r));
});

after(() => {
  echo.close();
  bulk.close();
  udpEcho.close();
  relaySrv.close();
});

const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;

/** The page's side: send frames, wait for frames matching a predicate. */
async function page(url = `ws://127.0.0.1:${(relaySrv.address() as net.AddressInfo).port}/`): Promise<{ send: (f: RelayFrame) => void; raw: WebSocket; wait: (what: string, p: (f: RelayFrame) => boolean) => Promise<RelayFrame>; frames: RelayFrame[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const frames: RelayFrame[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d: Buffer) => {
    const f = decodeRelay(new Uint8Array(d));
    assert.equal(typeof f, 'object', 'the relay sends well-formed frames');
    frames.push(f as RelayFrame);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  await new Promise((r) => ws.once('open', r));
  const wait = (what: string, p: (f: RelayFrame) => boolean): Promise<RelayFrame> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(frames.map((f) => [f.type, f.id]))}`)), 10_000);
      const check = (): void => {
        const f = frames.find(p);
        if (f !== undefined) {
          clearTimeout(t);
          resolve(f);
        } else waiters.push(check);
      };
      check();
    });
  return { send: (f) => ws.send(encodeRelay(f)), raw: ws, wait, frames, closed };
}

test('TCP and UDP flows: open, echo, half-close, close; EACCES and ECONNREFUSED', async () => {
  const p = await page();
  p.send({ type: RelayType.OPEN_TCP, id: 1, port: port(echo), addr: LOOP });
  await p.wait('OPENED 1', (f) => f.type === RelayType.OPENED && f.id === 1);
  p.send({ type: RelayType.DATA, id: 1, data: new TextEncoder().encode('hello relay') });
  const back = (await p.wait('DATA 1', (f) => f.type === RelayType.DATA && f.id === 1)) as { data: Uint8Array };
  assert.equal(new TextDecoder().decode(back.data), 'hello relay');
  // Our 11 bytes reached the host kernel: credit comes back.
  assert.deepEqual(await p.wait('CREDIT 1', (f) => f.type === RelayType.CREDIT && f.id === 1), { type: RelayType.CREDIT, id: 1, bytes: 11 });
  // Half-close: the echo server ends in turn, then the connection closes.
  p.send({ type: RelayType.END, id: 1 });
  await p.wait('END 1', (f) => f.type === RelayType.END && f.id === 1);
  await p.wait('CLOSE 1', (f) => f.type === RelayType.CLOSE && f.id === 1);

  p.send({ type: RelayType.OPEN_TCP, id: 2, port: 80, addr: Uint8Array.from([10, 9, 9, 9]) });
  assert.deepEqual(await p.wait('ERROR 2', (f) => f.id === 2), { type: RelayType.ERROR, id: 2, errno: 'EACCES' });
  p.send({ type: RelayType.OPEN_TCP, id: 3, port: closedPort, addr: LOOP });
  assert.deepEqual(await p.wait('ERROR 3', (f) => f.id === 3), { type: RelayType.ERROR, id: 3, errno: 'ECONNREFUSED' });

  p.send({ type: RelayType.OPEN_UDP, id: 4, port: udpEcho.address().port, addr: LOOP });
  await p.wait('OPENED 4', (f) => f.type === RelayType.OPENED && f.id === 4);
  p.send({ type: RelayType.DATA, id: 4, data: Uint8Array.from([1, 2, 3]) });
  assert.deepEqual([...((await p.wait('DATA 4', (f) => f.type === RelayType.DATA && f.id === 4)) as { data: Uint8Array }).data], [1, 2, 3]);
  // A UDP flow to a closed port: the host's ICMP port unreachable comes back as ECONNREFUSED.
  p.send({ type: RelayType.OPEN_UDP, id: 5, port: closedPort, addr: LOOP });
  await p.wait('OPENED 5', (f) => f.type === RelayType.OPENED && f.id === 5);
  p.send({ type: RelayType.DATA, id: 5, data: Uint8Array.from([9]) });
  assert.deepEqual(await p.wait('ERROR 5', (f) => f.type === RelayType.ERROR && f.id === 5), { type: RelayType.ERROR, id: 5, errno: 'ECONNREFUSED' });
  p.send({ type: RelayType.CLOSE, id: 4 });
  p.send({ type: RelayType.CLOSE, id: 5 });
  const s = sessions.at(-1)!;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.size, 0);
  assert.deepEqual([s.counters.opened, s.counters.denied, s.counters.failed], [3, 1, 1]);
  p.raw.close();
});

test('credit: the relay stops at what the page granted; a 5 MB download arrives intact as credit flows', async () => {
  const p = await page();
  p.send({ type: RelayType.OPEN_TCP, id: 7, port: port(bulk), addr: LOOP });
  await p.wait('OPENED', (f) => f.type === RelayType.OPENED);
  const got = (): number => p.frames.filter((f) => f.type === RelayType.DATA).reduce((n, f) => n + (f as { data: Uint8Array }).data.length, 0);
  await p.wait('initial window', () => got() >= INITIAL_CREDIT);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(got(), INITIAL_CREDIT, 'nothing beyond the initial credit');
  // Grant the rest in steps, as a reader consumes.
  while (got() < BULK.length) {
    const before = got();
    p.send({ type: RelayType.CREDIT, id: 7, bytes: 512 * 1024 });
    await p.wait('more data', () => got() >= Math.min(BULK.length, before + 512 * 1024));
    assert.ok(got() <= before + 512 * 1024);
  }
  await p.wait('END', (f) => f.type === RelayType.END && f.id === 7);
  const body = Buffer.concat(p.frames.filter((f) => f.type === RelayType.DATA).map((f) => (f as { data: Uint8Array }).data));
  assert.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(BULK).digest('hex'));
  p.raw.close();
});

test('the host FIN and close wait for the bytes held for credit: END after the last DATA, CLOSE after both ENDs', async () => {
  // A short reply whose tail exceeds the page's credit: the host socket has its FIN (and, without
  // half-open, would close) while the relay still holds that tail.
  const size = INITIAL_CREDIT + 10_000;
  const short = net.createServer((c) => {
    c.end(BULK.subarray(0, size));
    c.on('error', () => {});
  });
  await new Promise<void>((r) => short.listen(0, '127.0.0.1', r));
  const p = await page();
  try {
    p.send({ type: RelayType.OPEN_TCP, id: 9, port: port(short), addr: LOOP });
    await p.wait('OPENED', (f) => f.type === RelayType.OPENED);
    const got = (): number => p.frames.filter((f) => f.type === RelayType.DATA).reduce((n, f) => n + (f as { data: Uint8Array }).data.length, 0);
    await p.wait('initial window', () => got() >= INITIAL_CREDIT);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(p.frames.filter((f) => f.type === RelayType.END || f.type === RelayType.CLOSE), [], 'no END or CLOSE while bytes are held');
    p.send({ type: RelayType.CREDIT, id: 9, bytes: 64 * 1024 });
    await p.wait('END', (f) => f.type === RelayType.END && f.id === 9);
    const types = p.frames.map((f) => f.type);
    assert.ok(types.indexOf(RelayType.END) > types.lastIndexOf(RelayType.DATA), 'END follows every DATA');
    assert.equal(got(), size);
    // Half-close: the flow stays until the page ends its direction too.
    assert.equal(p.frames.some((f) => f.type === RelayType.CLOSE), false);
    p.send({ type: RelayType.END, id: 9 });
    await p.wait('CLOSE', (f) => f.type === RelayType.CLOSE && f.id === 9);
  } finally {
    p.raw.close();
    short.close();
  }
});

test('DATA beyond the credit the relay granted, and malformed frames, end the session with 1002', async () => {
  const a = await page();
  a.send({ type: RelayType.OPEN_TCP, id: 1, port: port(echo), addr: LOOP });
  await a.wait('OPENED', (f) => f.type === RelayType.OPENED);
  a.send({ type: RelayType.DATA, id: 1, data: new Uint8Array(INITIAL_CREDIT + 1) });
  assert.equal(await a.closed, 1002);
  const b = await page();
  b.raw.send(Uint8Array.from([99, 0, 0, 0, 1]));
  assert.equal(await b.closed, 1002);
  assert.equal(sessions.at(-1)!.counters.protocolErrors, 1);
});

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

test('synack relay: serves pages on --listen with --allow; stops on SIGTERM with 1001; bad rules exit 2', async () => {
  const child = spawn(process.execPath, [CLI, 'relay', '--listen', '127.0.0.1:0', '--allow', 'tcp:127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  try {
    const t0 = Date.now();
    while (!/ws:\/\/127\.0\.0\.1:\d+\//.test(out) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const url = /ws:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
    assert.match(out, /allow: tcp:127\.0\.0\.1/);
    const p = await page(url);
    p.send({ type: RelayType.OPEN_TCP, id: 1, port: port(echo), addr: LOOP });
    await p.wait('OPENED', (f) => f.type === RelayType.OPENED);
    p.send({ type: RelayType.DATA, id: 1, data: Uint8Array.from([42]) });
    await p.wait('echo', (f) => f.type === RelayType.DATA);
    // UDP is not in the rule.
    p.send({ type: RelayType.OPEN_UDP, id: 2, port: udpEcho.address().port, addr: LOOP });
    assert.deepEqual(await p.wait('ERROR 2', (f) => f.id === 2), { type: RelayType.ERROR, id: 2, errno: 'EACCES' });
    child.kill('SIGTERM');
    assert.equal(await p.closed, 1001);
    assert.equal(await exited, 0);
    assert.match(out, /stopped \(1 sessions were open\)/);
  } finally {
    child.kill('SIGKILL');
  }
  assert.throws(() => execFileSync(process.execPath, [CLI, 'relay', '--allow', 'example.com'], { stdio: 'pipe' }), (e: { status: number; stderr: Buffer }) => e.status === 2 && /not an IP address/.test(e.stderr.toString()));
});

test('RelayClient (the page side): 1 MB through a TCP echo under credit, UDP, a refused flow', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${(relaySrv.address() as net.AddressInfo).port}/`);
  await new Promise((r) => ws.once('open', r));
  const client = new RelayClient((m) => ws.send(m));
  ws.on('message', (d: Buffer) => client.receive(new Uint8Array(d)));
  ws.on('close', () => client.disconnected());
  const payload = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) & 0xff;
  const chunks: Uint8Array[] = [];
  let received = 0;
  const events: string[] = [];
  const done = new Promise<void>((resolve) => {
    const flow = client.openTcp('127.0.0.1', port(echo), {
      onOpen: () => {
        events.push('open');
        // More than the initial credit: the rest waits for the relay's CREDIT.
        assert.equal(flow.write(payload), false);
        assert.equal(flow.pendingBytes, payload.length - INITIAL_CREDIT);
        flow.end();
      },
      onData: (d) => {
        chunks.push(d.slice());
        received += d.length;
        flow.consumed(d.length);
      },
      onEnd: () => events.push('end'),
      onClose: () => {
        events.push('close');
        resolve();
      },
    });
  });
  await done;
  assert.deepEqual(events, ['open', 'end', 'close']);
  assert.equal(received, payload.length);
  assert.ok(Buffer.concat(chunks).equals(payload));
  const dgram = await new Promise<Uint8Array>((resolve) => {
    const u = client.openUdp('127.0.0.1', udpEcho.address().port, { onOpen: () => u.write(Uint8Array.from([5, 6])), onData: resolve });
  });
  assert.deepEqual([...dgram], [5, 6]);
  const errno = await new Promise<string>((resolve) => client.openTcp('10.9.9.9', 80, { onError: resolve }));
  assert.equal(errno, 'EACCES');
  assert.equal(client.size, 1, 'only the UDP flow is left');
  assert.throws(() => client.openTcp('nowhere', 80), /addr/);
  ws.close();
  await new Promise((r) => ws.once('close', r));
  assert.equal(client.size, 0);
});

test('data written before OPENED: RelayClient holds TCP bytes until then; the relay drops early datagrams without failing', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${(relaySrv.address() as net.AddressInfo).port}/`);
  await new Promise((r) => ws.once('open', r));
  const client = new RelayClient((m) => ws.send(m));
  ws.on('message', (d: Buffer) => client.receive(new Uint8Array(d)));
  const echoed = await new Promise<string>((resolve) => {
    const flow = client.openTcp('127.0.0.1', port(echo), { onData: (d) => resolve(new TextDecoder().decode(d)) });
    // Written at once, before the relay has connected: held, then sent after OPENED.
    flow.write(new TextEncoder().encode('early'));
  });
  assert.equal(echoed, 'early');
  // A raw datagram on a UDP flow that is still connecting: dropped and counted, the session lives.
  const s = sessions.at(-1)!;
  ws.send(encodeRelay({ type: RelayType.OPEN_UDP, id: 900, port: udpEcho.address().port, addr: LOOP }));
  ws.send(encodeRelay({ type: RelayType.DATA, id: 900, data: Uint8Array.from([1]) }));
  await new Promise((r) => setTimeout(r, 100));
  // Dropped when it beat the connect (the usual case on loopback), sent otherwise; never an error.
  assert.ok(s.counters.udpDropped <= 1);
  assert.equal(s.counters.protocolErrors, 0);
  assert.equal(s.size, 2, 'the TCP flow and the UDP flow are open: the session lives');
  ws.close();
});
