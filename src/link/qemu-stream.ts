/**
 * QEMU's stream netdev framing (`-netdev stream` and the older `-netdev socket`, the protocol passt
 * speaks): over a stream socket, each Ethernet frame (no FCS) follows its length as a 4-byte
 * big-endian integer. `QemuStreamLink` is a frame link (a `Link` whose frames are Ethernet II
 * frames, what the Ethernet interface adapter takes) over such a stream:
 *
 *   qemu-system-x86_64 … -netdev stream,id=n0,server=off,addr.type=unix,addr.path=PATH \
 *                        -device virtio-net-pci,netdev=n0
 *
 * `listenQemuStream(PATH)` is the server QEMU connects to (server=off); `connectQemuStream(PATH)`
 * the client of a QEMU that listens (server=on). The link outlives connections: one guest at a
 * time, as passt serves it (a second connection is accepted and closed at once; after the guest
 * goes, the next connection takes its place), and frames sent while no guest is connected are
 * counted and dropped.
 *
 * Framing errors follow passt's tap_passt_input: a length below an Ethernet header or above
 * 65535 (ETH_MAX_MTU) cannot be resynchronised, so the connection is reset. A well-framed frame
 * longer than the link's MTU allows is counted and dropped, the connection kept. Writes are
 * bounded: when the socket's queue holds `maxQueueBytes`, further frames are dropped and counted
 * (a NIC's full transmit ring; TCP above recovers), never buffered without bound.
 */
import net from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Link } from './link.js';

/** Bytes of the length prefix. */
export const QEMU_STREAM_HEADER = 4;
/** An Ethernet II header: the smallest frame passt accepts. */
export const QEMU_MIN_FRAME = 14;
/** passt's ETH_MAX_MTU: the largest frame length it accepts on the stream. */
export const QEMU_MAX_FRAME = 65535;

export interface QemuStreamOptions {
  /** Largest IP packet a frame carries (frames are up to mtu + 14 bytes). Default 65520 (passt's). */
  mtu?: number;
  /** Bytes the socket may hold unwritten before frames are dropped. Default 4 MiB. */
  maxQueueBytes?: number;
}

export interface QemuStreamCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Length prefixes outside 14..65535: the connection was reset. */
  rxBadLength: number;
  /** Well-framed frames longer than mtu + 14: dropped. */
  rxTooBig: number;
  /** Frames dropped because the socket's write queue was full. */
  txQueueFull: number;
  /** Frames dropped because no guest was connected. */
  txNoPeer: number;
  /** Frames handed to `send` that were shorter than an Ethernet header or too long. */
  txMalformed: number;
  connections: number;
  /** Connections closed at once because a guest was already connected. */
  rejectedConnections: number;
}

export type FrameDecodeResult = { frames: Uint8Array[]; error: null } | { frames: Uint8Array[]; error: 'bad-length' };

/**
 * The receive half, sans-I/O: feed it chunks as they arrive, get whole frames back. A frame lying
 * inside one chunk is returned as a view of it (no copy); one split across chunks is assembled.
 * Holds at most one partial frame (≤ 65539 bytes).
 */
export class QemuFrameDecoder {
  private head = new Uint8Array(QEMU_STREAM_HEADER);
  private headLen = 0;
  /** The frame being assembled (length known) and how much of it has arrived. */
  private partial: Uint8Array | null = null;
  private partialLen = 0;

  /**
   * The frames `chunk` completes, in order. On 'bad-length' the frames before the bad prefix are
   * returned and the stream cannot continue (the caller resets the connection).
   */
  push(chunk: Uint8Array): FrameDecodeResult {
    const frames: Uint8Array[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.partial !== null) {
        const n = Math.min(this.partial.length - this.partialLen, chunk.length - off);
        this.partial.set(chunk.subarray(off, off + n), this.partialLen);
        this.partialLen += n;
        off += n;
        if (this.partialLen === this.partial.length) {
          frames.push(this.partial);
          this.partial = null;
          this.partialLen = 0;
        }
        continue;
      }
      let len: number;
      if (this.headLen === 0 && chunk.length - off >= QEMU_STREAM_HEADER) {
        len = readU32(chunk, off);
        off += QEMU_STREAM_HEADER;
      } else {
        // The length prefix itself is split across chunks.
        while (this.headLen < QEMU_STREAM_HEADER && off < chunk.length) this.head[this.headLen++] = chunk[off++]!;
        if (this.headLen < QEMU_STREAM_HEADER) break;
        this.headLen = 0;
        len = readU32(this.head, 0);
      }
      // passt tap_passt_input: "Bad frame size from guest, resetting connection".
      if (len < QEMU_MIN_FRAME || len > QEMU_MAX_FRAME) return { frames, error: 'bad-length' };
      if (chunk.length - off >= len) {
        frames.push(chunk.subarray(off, off + len));
        off += len;
      } else {
        this.partial = new Uint8Array(len);
        this.partialLen = 0;
      }
    }
    return { frames, error: null };
  }

  /** Bytes held for an incomplete prefix or frame. */
  get pending(): number {
    return this.headLen + this.partialLen;
  }
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Buffers lent by allocFrame: their 4 bytes of headroom take the length prefix in place. */
const lent = new WeakSet<ArrayBufferLike>();

export class QemuStreamLink implements Link {
  readonly mtu: number;
  readonly maxQueueBytes: number;
  readonly counters: QemuStreamCounters = {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    rxBadLength: 0,
    rxTooBig: 0,
    txQueueFull: 0,
    txNoPeer: 0,
    txMalformed: 0,
    connections: 0,
    rejectedConnections: 0,
  };
  private stream: Duplex | null = null;
  private readonly receivers: ((frame: Uint8Array) => void)[] = [];
  private readonly stateCbs: ((connected: boolean) => void)[] = [];

  constructor(opts: QemuStreamOptions = {}) {
    this.mtu = opts.mtu ?? 65520;
    if (!Number.isInteger(this.mtu) || this.mtu < 68 || this.mtu + QEMU_MIN_FRAME > QEMU_MAX_FRAME) {
      throw new RangeError(`QemuStreamLink: mtu must be an integer 68..${QEMU_MAX_FRAME - QEMU_MIN_FRAME}, got ${opts.mtu}`);
    }
    this.maxQueueBytes = opts.maxQueueBytes ?? 4 << 20;
    if (!Number.isInteger(this.maxQueueBytes) || this.maxQueueBytes < QEMU_MAX_FRAME + QEMU_STREAM_HEADER) {
      throw new RangeError(`QemuStreamLink: maxQueueBytes must be an integer of at least ${QEMU_MAX_FRAME + QEMU_STREAM_HEADER}, got ${opts.maxQueueBytes}`);
    }
  }

  get connected(): boolean {
    return this.stream !== null;
  }

  onReceive(cb: (frame: Uint8Array) => void): void {
    this.receivers.push(cb);
  }

  /** Called with true when a guest connects and false when it goes. */
  onState(cb: (connected: boolean) => void): void {
    this.stateCbs.push(cb);
  }

  /** A buffer of `len` bytes whose 4 bytes of headroom let `send` write the prefix without a copy. */
  allocFrame(len: number): Uint8Array {
    const b = new Uint8Array(len + QEMU_STREAM_HEADER);
    lent.add(b.buffer);
    return b.subarray(QEMU_STREAM_HEADER);
  }

  send(frame: Uint8Array): void {
    if (frame.length < QEMU_MIN_FRAME || frame.length > this.mtu + QEMU_MIN_FRAME) {
      this.counters.txMalformed++;
      return;
    }
    const s = this.stream;
    if (s === null || s.destroyed) {
      this.counters.txNoPeer++;
      return;
    }
    const total = frame.length + QEMU_STREAM_HEADER;
    if (s.writableLength + total > this.maxQueueBytes) {
      this.counters.txQueueFull++;
      return;
    }
    let out: Uint8Array;
    if (lent.has(frame.buffer) && frame.byteOffset >= QEMU_STREAM_HEADER) {
      out = new Uint8Array(frame.buffer, frame.byteOffset - QEMU_STREAM_HEADER, total);
    } else {
      out = new Uint8Array(total);
      out.set(frame, QEMU_STREAM_HEADER);
    }
    const n = frame.length;
    out[0] = n >>> 24;
    out[1] = (n >>> 16) & 0xff;
    out[2] = (n >>> 8) & 0xff;
    out[3] = n & 0xff;
    s.write(out);
    this.counters.txFrames++;
    this.counters.txBytes += n;
  }

  /**
   * Serve the guest on `stream` (a connected Unix or TCP socket, or any duplex). Returns false,
   * and closes `stream`, when a guest is already attached.
   */
  attach(stream: Duplex): boolean {
    if (this.stream !== null) {
      this.counters.rejectedConnections++;
      stream.destroy();
      return false;
    }
    this.stream = stream;
    this.counters.connections++;
    const decoder = new QemuFrameDecoder();
    const maxFrame = this.mtu + QEMU_MIN_FRAME;
    stream.on('data', (chunk: Uint8Array) => {
      if (this.stream !== stream) return;
      const r = decoder.push(chunk);
      for (const f of r.frames) {
        if (f.length > maxFrame) {
          this.counters.rxTooBig++;
          continue;
        }
        this.counters.rxFrames++;
        this.counters.rxBytes += f.length;
        for (const cb of this.receivers) cb(f);
      }
      if (r.error !== null) {
        this.counters.rxBadLength++;
        stream.destroy();
      }
    });
    const gone = (): void => {
      if (this.stream !== stream) return;
      this.stream = null;
      for (const cb of this.stateCbs) cb(false);
    };
    stream.on('close', gone);
    stream.on('end', () => stream.destroy());
    stream.on('error', () => stream.destroy());
    for (const cb of this.stateCbs) cb(true);
    return true;
  }

  /** Drop the current guest connection, if any. */
  disconnect(): void {
    this.stream?.destroy();
  }
}

export interface QemuStreamServer {
  readonly link: QemuStreamLink;
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listen on the Unix socket `path` for QEMU (`-netdev stream,server=off,addr.type=unix,
 * addr.path=PATH`). A stale socket file is replaced; a path another process is listening on is
 * refused (as passt's tap_sock_unix_open does).
 */
export async function listenQemuStream(path: string, opts: QemuStreamOptions = {}): Promise<QemuStreamServer> {
  if (typeof path !== 'string' || path === '') throw new TypeError('listenQemuStream: path must be a socket path');
  if (existsSync(path)) {
    const live = await new Promise<boolean>((resolve) => {
      const probe = net.connect(path);
      probe.on('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (live) throw new Error(`listenQemuStream: ${path} is in use by another process`);
    unlinkSync(path);
  }
  const link = new QemuStreamLink(opts);
  const server = net.createServer((sock) => link.attach(sock));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    link,
    path,
    close: () =>
      new Promise<void>((resolve) => {
        link.disconnect();
        server.close(() => resolve());
      }),
  };
}

/** Connect to a QEMU listening on the Unix socket `path` (`-netdev stream,server=on,…`). */
export async function connectQemuStream(path: string, opts: QemuStreamOptions = {}): Promise<QemuStreamLink> {
  if (typeof path !== 'string' || path === '') throw new TypeError('connectQemuStream: path must be a socket path');
  const link = new QemuStreamLink(opts);
  const sock = net.connect(path);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  link.attach(sock);
  return link;
}
