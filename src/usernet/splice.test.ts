/**
 * The splice's buffers on virtual time (two simulated stacks; the host side is a Duplex standing
 * in for a node:net Socket): guest bytes go to the host through one shared ReadBuffer that is
 * reused only when the host write kept nothing, and a host read buffer reused by the next read
 * (onread) is copied where the synack send buffer does not take it whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { SimWorld } from '../driver/world.js';
import { SimDriver } from '../driver/node.js';
import type { TcpSocket } from '../stack/socket.js';
import { READ_CHUNK, ReadBuffer, Splice } from './splice.js';

/** A host socket: `copying` consumes each write at once as a kernel does (copies it); otherwise it keeps the chunks it is given and finishes them one at a time on `release`. */
class Host extends Duplex {
  readonly got: Uint8Array[] = [];
  private pending: (() => void)[] = [];
  constructor(private readonly copying: boolean) {
    super({ allowHalfOpen: true, writableHighWaterMark: 512 * 1024 });
  }
  override _write(chunk: Uint8Array, _enc: string, cb: () => void): void {
    if (this.copying) {
      this.got.push(Uint8Array.from(chunk));
      cb();
      return;
    }
    this.got.push(chunk); // the very bytes it was given, as a socket with a write in progress
    this.pending.push(cb);
  }
  override _read(): void {}
  release(): void {
    for (const cb of this.pending.splice(0)) cb();
  }
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function connected(serverTcp = {}): Promise<{ world: SimWorld; driver: SimDriver; client: TcpSocket; server: TcpSocket }> {
  const world = new SimWorld({ seed: 3 });
  const a = world.addHost('guest', ['10.0.2.15/24']);
  const b = world.addHost('gw', ['10.0.2.2/24']);
  const l = b.listen({ port: 80, tcp: serverTcp });
  let server: TcpSocket | null = null;
  l.onConnection = () => {
    server = l.accept();
  };
  const client = a.connect({ remoteAddress: '10.0.2.2', remotePort: 80 });
  const driver = new SimDriver(world);
  await driver.until(() => server !== null && client.state === 'ESTABLISHED', 5_000_000);
  return { world, driver, client, server: server! };
}

/** The guest sends `data`; the splice writes it to `host`. */
async function upload(host: Host, data: Uint8Array, rb: ReadBuffer): Promise<void> {
  const { driver, client, server } = await connected();
  new Splice(server, host, () => {}, () => {}, rb);
  let sent = 0;
  const pump = (): void => {
    while (sent < data.length) {
      const n = client.write(data.subarray(sent));
      if (n === 0) return;
      sent += n;
    }
  };
  client.onWritable = pump;
  pump();
  for (let i = 0; i < 2000 && host.got.reduce((n, p) => n + p.length, 0) < data.length; i++) {
    await driver.runFor(10_000);
    host.release();
    await new Promise((r) => setImmediate(r));
  }
}

test('guest to host: one read buffer serves every write a host completes at once', async () => {
  const data = pattern(8 * 1024 * 1024, 1);
  const host = new Host(true);
  const rb = new ReadBuffer();
  await upload(host, data, rb);
  assert.deepEqual(concat(host.got), data);
  assert.ok(host.got.length >= data.length / READ_CHUNK, `${host.got.length} writes`);
  assert.equal(rb.allocated, 1, 'the same buffer came back after each write');
});

test('guest to host: a write the host keeps takes its buffer along; the bytes it holds are never overwritten', async () => {
  const data = pattern(4 * 1024 * 1024, 2);
  const host = new Host(false);
  const rb = new ReadBuffer();
  await upload(host, data, rb);
  assert.deepEqual(concat(host.got), data);
  assert.ok(rb.allocated >= host.got.length, `${rb.allocated} buffers for ${host.got.length} kept writes`);
});

test('host to guest: what the send buffer does not take of a reused read buffer is copied', async () => {
  const { driver, client, server } = await connected({ sendBuffer: 64 * 1024 });
  const host = new Host(true);
  const splice = new Splice(server, host, () => {}, () => {});
  const data = pattern(256 * 1024, 3);
  const shared = Uint8Array.from(data); // a host socket's onread buffer
  splice.hostData(shared);
  assert.equal(splice.stats.guestStalls, 1, 'the send buffer took part of it');
  shared.fill(0xee); // the next read overwrites the buffer
  const got: Uint8Array[] = [];
  client.onData = () => {
    for (let d = client.read(); d !== null; d = client.read()) got.push(d);
  };
  await driver.until(() => got.reduce((n, p) => n + p.length, 0) >= data.length, 30_000_000);
  assert.deepEqual(concat(got), data);
});
