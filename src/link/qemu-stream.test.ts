/**
 * QEMU stream framing: the decoder on any split of the byte stream (property, fast-check prints
 * the seed on failure; replay with { seed, path }), and the link over a Unix socket in a temp dir
 * with a Node client standing in for QEMU: both directions, one guest at a time, reconnect, the
 * framing-error reset, oversized frames, the bounded write queue, and client mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { QemuFrameDecoder, QemuStreamLink, connectQemuStream, listenQemuStream, QEMU_MAX_FRAME } from './qemu-stream.js';

function framed(frames: Uint8Array[]): Uint8Array {
  const total = frames.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of frames) {
    new DataView(out.buffer).setUint32(o, f.length);
    out.set(f, o + 4);
    o += 4 + f.length;
  }
  return out;
}

/** An Ethernet-looking frame of `len` bytes whose bytes encode `tag`. */
function frame(len: number, tag: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (tag * 31 + i) & 0xff);
}

test('property: any split of the stream yields the same frames, in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 14, max: 3000 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }),
      (lens, cuts) => {
        const frames = lens.map((l, i) => frame(l, i));
        const bytes = framed(frames);
        const d = new QemuFrameDecoder();
        const got: number[][] = [];
        let off = 0;
        for (let i = 0; off < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          const r = d.push(bytes.subarray(off, off + n));
          assert.equal(r.error, null);
          for (const f of r.frames) got.push([...f]);
          off += n;
        }
        assert.deepEqual(got, frames.map((f) => [...f]));
        assert.equal(d.pending, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('a frame inside one chunk is a view of it (no copy); bad lengths stop the stream', () => {
  const bytes = framed([frame(60, 1), frame(60, 2)]);
  const r = new QemuFrameDecoder().push(bytes);
  assert.equal(r.frames.length, 2);
  assert.equal(r.frames[0]!.buffer, bytes.buffer);
  for (const bad of [0, 13, QEMU_MAX_FRAME + 1, 0xffffffff]) {
    const b = framed([frame(60, 1)]);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, bad);
    const d = new QemuFrameDecoder();
    const res = d.push(Uint8Array.from([...b, ...tail]));
    assert.equal(res.error, 'bad-length', `length ${bad}`);
    assert.equal(res.frames.length, 1, 'frames before the bad prefix are kept');
  }
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'synack-qemu-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function until(what: string, probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (probe()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

/** A stand-in for QEMU: connects, decodes what it gets. */
async function guest(path: string): Promise<{ sock: net.Socket; frames: Uint8Array[]; closed: () => boolean }> {
  const sock = net.connect(path);
  await new Promise<void>((r, j) => {
    sock.once('connect', r);
    sock.once('error', j);
  });
  const d = new QemuFrameDecoder();
  const frames: Uint8Array[] = [];
  let closed = false;
  sock.on('data', (c) => frames.push(...d.push(c).frames.map((f) => f.slice())));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  return { sock, frames, closed: () => closed };
}

test('frames flow both ways over a Unix socket; a second guest is turned away; reconnect works', async () => {
  await withDir(async (dir) => {
    const srv = await listenQemuStream(join(dir, 'net.sock'), { mtu: 1500 });
    const got: number[][] = [];
    srv.link.onReceive((f) => got.push([...f]));
    const states: boolean[] = [];
    srv.link.onState((s) => states.push(s));
    try {
      // Nobody connected yet: counted and dropped.
      srv.link.send(frame(60, 0));
      assert.equal(srv.link.counters.txNoPeer, 1);
      const g = await guest(srv.path);
      await until('attach', () => srv.link.connected);
      // Guest → link, written in awkward pieces.
      const bytes = framed([frame(60, 1), frame(1514, 2), frame(42, 3)]);
      for (let o = 0; o < bytes.length; o += 333) g.sock.write(bytes.subarray(o, o + 333));
      await until('three frames', () => got.length === 3);
      assert.deepEqual(got, [frame(60, 1), frame(1514, 2), frame(42, 3)].map((f) => [...f]));
      // Link → guest, with and without a lent buffer.
      const lentBuf = srv.link.allocFrame(100);
      lentBuf.set(frame(100, 4));
      srv.link.send(lentBuf);
      srv.link.send(frame(1514, 5));
      await until('two frames at the guest', () => g.frames.length === 2);
      assert.deepEqual(g.frames.map((f) => [...f]), [frame(100, 4), frame(1514, 5)].map((f) => [...f]));
      // A second guest is closed at once (passt: one guest at a time).
      const second = await guest(srv.path);
      await until('second closed', second.closed);
      assert.equal(srv.link.counters.rejectedConnections, 1);
      // The first guest goes; a new one takes its place.
      g.sock.destroy();
      await until('detach', () => !srv.link.connected);
      const g2 = await guest(srv.path);
      await until('reattach', () => srv.link.connected);
      g2.sock.write(framed([frame(64, 6)]));
      await until('frame from the new guest', () => got.length === 4);
      g2.sock.destroy();
      assert.deepEqual(states.slice(0, 3), [true, false, true]);
      assert.equal(srv.link.counters.connections, 2);
      assert.deepEqual([srv.link.counters.rxFrames, srv.link.counters.txFrames], [4, 2]);
    } finally {
      await srv.close();
    }
  });
});

test('a bad length prefix resets the connection; an oversized frame is dropped and the connection kept', async () => {
  await withDir(async (dir) => {
    const srv = await listenQemuStream(join(dir, 'net.sock'), { mtu: 1500 });
    let n = 0;
    srv.link.onReceive(() => n++);
    try {
      const g = await guest(srv.path);
      // 9000 bytes: well framed, above mtu + 14: dropped, stream continues with the next frame.
      g.sock.write(framed([frame(9000, 1), frame(60, 2)]));
      await until('the small frame', () => n === 1);
      assert.equal(srv.link.counters.rxTooBig, 1);
      assert.equal(g.closed(), false);
      // A zero length cannot be resynchronised: reset.
      g.sock.write(Uint8Array.from([0, 0, 0, 0, 1, 2, 3]));
      await until('reset', g.closed);
      assert.equal(srv.link.counters.rxBadLength, 1);
      // send() refuses runts and frames beyond the MTU.
      srv.link.send(new Uint8Array(10));
      srv.link.send(new Uint8Array(1515));
      assert.equal(srv.link.counters.txMalformed, 2);
    } finally {
      await srv.close();
    }
  });
});

test('a guest that does not read: the write queue stays bounded, drops are counted, order is kept', async () => {
  await withDir(async (dir) => {
    const srv = await listenQemuStream(join(dir, 'net.sock'), { mtu: 65000, maxQueueBytes: 256 * 1024 });
    try {
      const g = await guest(srv.path);
      g.sock.pause();
      await until('attach', () => srv.link.connected);
      let maxQueued = 0;
      for (let i = 0; i < 200; i++) {
        const f = frame(60000, i);
        new DataView(f.buffer).setUint32(20, i);
        srv.link.send(f);
        maxQueued = Math.max(maxQueued, (srv.link as unknown as { stream: net.Socket }).stream.writableLength);
      }
      assert.ok(maxQueued <= 256 * 1024, `queued ${maxQueued}`);
      assert.ok(srv.link.counters.txQueueFull > 0, 'some frames were dropped');
      const sent = srv.link.counters.txFrames;
      assert.equal(sent + srv.link.counters.txQueueFull, 200);
      g.sock.resume();
      await until('all sent frames', () => g.frames.length === sent);
      const seq = g.frames.map((f) => new DataView(f.buffer, f.byteOffset).getUint32(20));
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), 'in order');
      g.sock.destroy();
    } finally {
      await srv.close();
    }
  });
});

test('a live socket path is refused; a stale one is replaced; client mode connects to a listening QEMU', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'net.sock');
    const srv = await listenQemuStream(path);
    await assert.rejects(listenQemuStream(path), /in use/);
    await srv.close();
    // QEMU with server=on: it listens, synack connects.
    const qemu = net.createServer();
    const accepted = new Promise<net.Socket>((r) => qemu.once('connection', r));
    await new Promise<void>((r) => qemu.listen(join(dir, 'qemu.sock'), r));
    const link = await connectQemuStream(join(dir, 'qemu.sock'));
    const peer = await accepted;
    const got: Uint8Array[] = [];
    link.onReceive((f) => got.push(f.slice()));
    peer.write(framed([frame(77, 9)]));
    await until('frame from qemu', () => got.length === 1);
    assert.deepEqual([...got[0]!], [...frame(77, 9)]);
    link.disconnect();
    peer.destroy();
    await new Promise<void>((r) => qemu.close(() => r()));
    assert.throws(() => new QemuStreamLink({ mtu: 70000 }), /mtu/);
    assert.throws(() => new QemuStreamLink({ maxQueueBytes: 10 }), /maxQueueBytes/);
  });
});
