/**
 * The bulk-transfer engine behind `synack demo transfer --bytes N`, the soak and the statistical
 * tests: one client streams N deterministic pseudo-random bytes to a server across a simulated
 * path with the chosen impairments, on virtual time.
 *
 * Nothing of size N is ever held: the sender generates the stream in 64 KiB chunks and hashes
 * them as they are produced; the receiver hashes what it reads. The transfer is intact when
 * both SHA-256 digests and both byte counts agree.
 *
 * Spurious retransmissions are measured by an oracle, not by the stack (the core does not report
 * D-SACK yet): the simulator sees both ends. Every valid (checksum-correct, not corrupted) data
 * segment that reaches the receiver adds its bytes, clipped to the receiver's advertised window,
 * to a set of "bytes the receiver holds". At the moment the sender puts a retransmission on the
 * wire (a data segment starting below the highest sequence sent so far, path duplicates
 * excluded), it is spurious if every byte of it is already in that set: the receiver already
 * had it, in order or in its out-of-order queue. `spuriousBytes` counts the retransmitted bytes
 * the receiver already had, segment by segment (so partial overlaps count too).
 */
import { createHash, type Hash } from 'node:crypto';
import { SimWorld } from '../driver/world.js';
import { Stack } from '../stack/stack.js';
import type { TcpSocket } from '../stack/socket.js';
import type { TcpConfig } from '../tcp/config.js';
import { Rng } from '../rng.js';
import { ms } from '../time.js';
import { formatPacket } from '../wire/format.js';
import { newIpRepr, parseIpHeader } from '../wire/ip.js';
import { parseTcp } from '../wire/tcp.js';
import { newTcpRepr } from '../wire/tcp-repr.js';

export const TRANSFER_CLIENT = '10.0.0.1';
export const TRANSFER_SERVER = '10.0.0.2';
const PORT = 5001;
const CHUNK = 64 * 1024;

export interface TransferOptions {
  /** Bytes to send client → server. */
  bytes: number;
  /** Bytes the server sends back at the same time (server → client; default 0). */
  reverseBytes?: number;
  seed?: number;
  /** Impairments; they apply to both directions (data and ACKs) unless `dataPathOnly`. */
  loss?: number;
  /** One-way delay, ms (default 10). */
  delayMs?: number;
  jitterMs?: number;
  reorder?: number;
  duplicate?: number;
  corrupt?: number;
  /** Bottleneck rate in Mbit/s each way; 0 = unlimited (default). */
  bandwidthMbit?: number;
  /** Link MTU of both hosts and the path (default 1500). */
  mtu?: number;
  /** A congestion-control name registered in tcp/congestion/registry.ts. */
  cc?: string;
  /** Extra TCP options for both ends. */
  tcp?: Partial<TcpConfig>;
  /** Apply loss/reorder/dup/corrupt/jitter only to the data direction (client → server). */
  dataPathOnly?: boolean;
  /** Give up after this much virtual time (default: none; the TCP timers end a dead connection). */
  maxVirtualSeconds?: number;
  /** Called about every `progressMs` of wall time with bytes received so far. */
  onProgress?: (p: TransferProgress) => void;
  progressMs?: number;
  /** Debugging: called with one line per frame (tcpdump style, with its fate) and per state change. */
  trace?: (line: string) => void;
}

export interface TransferProgress {
  bytes: number;
  received: number;
  virtualSeconds: number;
  wallSeconds: number;
}

export interface TransferResult {
  bytes: number;
  received: number;
  /** Received stream identical to the sent one (same length and SHA-256) and the connection closed cleanly. */
  intact: boolean;
  sha256: string;
  receivedSha256: string;
  /** From the client's connect() to the server application reading end-of-file. */
  virtualSeconds: number;
  /** Application bytes / virtualSeconds, Mbit/s. */
  goodputMbps: number;
  /** The sender's RetransSegs counter (every retransmitted segment, SYN/FIN included). */
  retransmits: number;
  /** Data segments the oracle saw retransmitted, and their bytes. */
  retransmittedSegments: number;
  retransmittedBytes: number;
  /** Retransmitted data segments the receiver already held entirely when they were sent (see header). */
  spuriousRetransmits: number;
  spuriousBytes: number;
  spuriousMethod: string;
  fastRetransmits: number;
  rtoTimeouts: number;
  /** Frames the sender put on the wire / the network dropped (loss) / corrupted, both directions. */
  framesSent: number;
  framesLost: number;
  framesCorrupted: number;
  framesDuplicated: number;
  /** Sender's congestion state at the end. */
  finalCwnd: number;
  srttMs: number;
  /** First error either application saw (ETIMEDOUT, ECONNRESET ...), or a stall. */
  error: string | null;
  wallSeconds: number;
  seed: number;
  options: Record<string, unknown>;
}

/** Deterministic pseudo-random byte stream (xorshift128), produced chunk by chunk. */
class ByteSource {
  private x: number;
  private y: number;
  private z: number;
  private w: number;
  private readonly words = new Uint32Array(CHUNK / 4);
  private readonly bytes = new Uint8Array(this.words.buffer);
  left: number;
  constructor(seed: number, total: number) {
    this.x = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.y = 362436069;
    this.z = 521288629;
    this.w = 88675123;
    this.left = total;
  }
  /** The next chunk (a view reused by the next call), or null at the end. */
  next(): Uint8Array | null {
    if (this.left <= 0) return null;
    const n = Math.min(CHUNK, this.left);
    let { x, y, z, w } = this;
    const words = this.words;
    const nw = (n + 3) >>> 2;
    for (let i = 0; i < nw; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      words[i] = w;
    }
    this.x = x;
    this.y = y;
    this.z = z;
    this.w = w;
    this.left -= n;
    return this.bytes.subarray(0, n);
  }
}

/** Disjoint sorted byte ranges [start, end) in unwrapped stream offsets. */
class RangeSet {
  private s: number[] = [];
  private e: number[] = [];
  add(a: number, b: number): void {
    if (b <= a) return;
    const s = this.s;
    const e = this.e;
    const n = s.length;
    // fast path: extends or follows the last range
    if (n > 0 && a >= s[n - 1]! ) {
      if (a <= e[n - 1]!) {
        if (b > e[n - 1]!) e[n - 1] = b;
        return;
      }
      s.push(a);
      e.push(b);
      return;
    }
    // general: find first range with end >= a
    let i = 0;
    while (i < n && e[i]! < a) i++;
    let j = i;
    let na = a;
    let nb = b;
    while (j < n && s[j]! <= b) {
      if (s[j]! < na) na = s[j]!;
      if (e[j]! > nb) nb = e[j]!;
      j++;
    }
    s.splice(i, j - i, na);
    e.splice(i, j - i, nb);
  }
  /** Bytes of [a, b) inside the set. */
  covered(a: number, b: number): number {
    let c = 0;
    const s = this.s;
    const e = this.e;
    for (let i = s.length - 1; i >= 0; i--) {
      if (e[i]! <= a) break;
      const lo = Math.max(a, s[i]!);
      const hi = Math.min(b, e[i]!);
      if (hi > lo) c += hi - lo;
    }
    return c;
  }
}

const DR_IP = newIpRepr();
const DR_TCP = newTcpRepr();

/** The bits of a TCP frame (src/wire's parsers) the oracle needs; null if not a TCP data segment. */
function dataRange(f: Uint8Array): { seq: number; len: number; srcPort: number } | null {
  if (parseIpHeader(f, DR_IP, false) !== null || parseTcp(f, DR_IP, DR_TCP, false) !== null) return null;
  const len = DR_TCP.payload.length;
  return len > 0 ? { seq: DR_TCP.seq, len, srcPort: DR_TCP.srcPort } : null;
}

/** Parse 10M, 1G, 64k, 1.5MB, 1KiB ... (k/M/G are powers of 1000; Ki/Mi/Gi powers of 1024). */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(s);
  if (!m) throw new RangeError(`not a size: '${s}' (try 64k, 10M, 1G)`);
  const unit = m[2]!.toLowerCase();
  const base = m[3] ? 1024 : 1000;
  const pow = unit === '' ? 0 : 'kmgt'.indexOf(unit) + 1;
  const n = Math.round(Number(m[1]) * base ** pow);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`size out of range: '${s}'`);
  return n;
}

export function runTransfer(opts: TransferOptions): TransferResult {
  const bytes = opts.bytes;
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${bytes}`);
  const revBytes = opts.reverseBytes ?? 0;
  if (!Number.isSafeInteger(revBytes) || revBytes < 0) throw new RangeError(`reverseBytes must be a non-negative integer, got ${revBytes}`);
  const seed = opts.seed ?? 1;
  const delayMs = opts.delayMs ?? 10;
  const mtu = opts.mtu ?? 1500;
  const impair = {
    loss: opts.loss ?? 0,
    jitter: ms(opts.jitterMs ?? 0),
    reorder: opts.reorder ?? 0,
    duplicate: opts.duplicate ?? 0,
    corrupt: opts.corrupt ?? 0,
  };
  const base = { delay: ms(delayMs), bandwidthBps: (opts.bandwidthMbit ?? 0) * 1e6, mtu };
  const w = new SimWorld({ seed, path: opts.dataPathOnly ? base : { ...base, ...impair } });
  const tcp: Partial<TcpConfig> = { ...(opts.cc ? { congestionControl: opts.cc } : {}), ...opts.tcp };
  const client = w.addHost('client', [TRANSFER_CLIENT], { mtu, tcp });
  // The server is assembled by hand (as SimWorld.addHost does) so the oracle sees each frame
  // before the stack does.
  const server = new Stack({ name: 'server', addresses: [TRANSFER_SERVER], clock: () => w.sim.now, seed: w.sim.rng.u32(), tcp });
  const serverLink = w.net.attach('server', [TRANSFER_SERVER], { mtu });
  if (opts.dataPathOnly) w.net.setPath('client', 'server', impair);

  const wall0 = performance.now();
  const src = new ByteSource(seed, bytes);
  const sendHash = createHash('sha256');
  const recvHash: Hash = createHash('sha256');
  let received = 0;
  let eofAt = -1;
  // The reverse stream (server → client), when reverseBytes > 0.
  const revSrc = new ByteSource(seed ^ 0x5eed, revBytes);
  const revSendHash = createHash('sha256');
  const revRecvHash: Hash = createHash('sha256');
  let revReceived = 0;
  let revEof = false;
  let revEofAt = -1;
  let error: string | null = null;
  const t0 = w.now;

  // ---- oracle
  const corrupted = new WeakSet<Uint8Array>();
  const pathCopies = new WeakSet<Uint8Array>();
  const held = new RangeSet();
  let isn1 = 0; // sequence number of stream offset 0
  let highest = 0; // highest stream offset + 1 sent
  let clientPort = -1;
  let retransSegs = 0;
  let retransBytes = 0;
  let spurious = 0;
  let spuriousBytes = 0;
  let framesSent = 0;
  let framesLost = 0;
  let framesCorrupted = 0;
  let framesDup = 0;
  const unwrap = (seq: number): number => highest + ((seq - ((isn1 + highest) >>> 0)) | 0);
  if (opts.trace) {
    const tr = opts.trace;
    const at = (): string => (w.now / 1e6).toFixed(6);
    w.onFrame((ev) => {
      const fate = ev.dropped ? `DROPPED (${ev.reason ?? '?'})` : `${ev.duplicate ? 'DUPLICATE ' : ''}${ev.reason === 'corrupt-delivered' ? 'CORRUPTED ' : ''}arrives ${((ev.deliverAt ?? 0) / 1e6).toFixed(6)}`;
      tr(`${at()} ${ev.from}: ${formatPacket(ev.frame)} — ${fate}`);
    });
    client.observe((ev) => {
      if (ev.type === 'state') tr(`${at()} client: ${ev.local} ${ev.from} → ${ev.to} (${ev.cause})`);
      else if (ev.type === 'error') tr(`${at()} client: error ${ev.code} ${ev.message}`);
    });
    server.observe((ev) => {
      if (ev.type === 'state') tr(`${at()} server: ${ev.local} ${ev.from} → ${ev.to} (${ev.cause})`);
      else if (ev.type === 'error') tr(`${at()} server: error ${ev.code} ${ev.message}`);
      else tr(`${at()} server: drop ${ev.reason}`);
    });
  }
  w.onFrame((ev) => {
    if (ev.duplicate) {
      framesDup++;
      pathCopies.add(ev.frame);
      return;
    }
    framesSent++;
    if (ev.dropped) framesLost++;
    if (ev.reason === 'corrupt-delivered') {
      framesCorrupted++;
      corrupted.add(ev.frame);
    }
    if (ev.from !== 'client' || clientPort < 0) return;
    const r = dataRange(ev.frame);
    if (r === null || r.srcPort !== clientPort) return;
    const a = unwrap(r.seq);
    const b = a + r.len;
    if (a < highest) {
      retransSegs++;
      retransBytes += Math.min(b, highest) - a;
      const had = held.covered(a, Math.min(b, highest));
      spuriousBytes += had;
      if (had >= Math.min(b, highest) - a) spurious++;
    }
    if (b > highest) highest = b;
  });
  let serverSock: TcpSocket | null = null;
  serverLink.onReceive((f) => {
    if (clientPort < 0 || corrupted.has(f)) return;
    const r = dataRange(f);
    if (r === null || r.srcPort !== clientPort) return;
    const a = unwrap(r.seq);
    let b = a + r.len;
    const c = serverSock?.conn;
    if (c !== undefined) {
      // clip to the window the receiver advertised: bytes beyond it are not kept
      const right = unwrap(c.rcvAdv);
      if (b > right) b = right;
    }
    held.add(a, b);
  });
  server.attach(serverLink);
  w.sim.addTimerClient(server);
  w.hosts.set('server', server);

  // ---- applications
  const buf = new Uint8Array(CHUNK);
  const l = server.listen({ port: PORT });
  l.onConnection = () => {
    const s = l.accept();
    if (!s) return;
    serverSock = s;
    s.onData = () => {
      for (let n = s.readInto(buf); n > 0; n = s.readInto(buf)) {
        recvHash.update(buf.subarray(0, n));
        received += n;
      }
    };
    const revPush = revBytes > 0 ? writer(s, revSrc, revSendHash, () => (eofAt >= 0 ? s.close() : s.shutdown())) : null;
    if (revPush !== null) s.onWritable = revPush;
    s.onEnd = () => {
      s.onData?.();
      eofAt = w.now;
      if (revPush === null || revPush.done) s.close();
    };
    revPush?.();
    s.onError = (code, msg) => {
      error ??= `server: ${code} ${msg}`;
    };
  };
  const c = client.connect({ remoteAddress: TRANSFER_SERVER, remotePort: PORT });
  clientPort = c.localPort;
  isn1 = (c.conn.iss + 1) >>> 0;
  const pushData = writer(c, src, sendHash, () => (revEof ? c.close() : c.shutdown()));
  c.onConnect = pushData;
  c.onWritable = pushData;
  const cbuf = new Uint8Array(CHUNK);
  c.onData = () => {
    for (let n = c.readInto(cbuf); n > 0; n = c.readInto(cbuf)) {
      revRecvHash.update(cbuf.subarray(0, n));
      revReceived += n;
    }
  };
  c.onEnd = () => {
    c.onData?.();
    revEof = true;
    revEofAt = w.now;
    if (pushData.done) c.close();
  };
  c.onError = (code, msg) => {
    error ??= `client: ${code} ${msg}`;
  };

  // ---- run, in slices so progress can be shown and a cap applied
  const cap = opts.maxVirtualSeconds !== undefined ? t0 + opts.maxVirtualSeconds * 1e6 : Number.POSITIVE_INFINITY;
  const progressMs = opts.progressMs ?? 250;
  let lastProgress = wall0;
  for (;;) {
    const before = w.sim.steps;
    w.sim.run({ maxSteps: 20_000 });
    if (w.sim.steps === before) break; // nothing left: everything closed
    // Done; the 60 s TIME_WAIT proves nothing more.
    if (eofAt >= 0 && (revBytes === 0 ? c.state === 'TIME_WAIT' : revEof && (c.state === 'TIME_WAIT' || c.state === 'CLOSED'))) break;
    if (w.now > cap) {
      error ??= `stalled: not finished after ${opts.maxVirtualSeconds} s of virtual time (received ${received} of ${bytes})`;
      break;
    }
    if (opts.onProgress) {
      const t = performance.now();
      if (t - lastProgress >= progressMs) {
        lastProgress = t;
        opts.onProgress({ bytes, received, virtualSeconds: (w.now - t0) / 1e6, wallSeconds: (t - wall0) / 1000 });
      }
    }
  }
  if (eofAt < 0) error ??= `the receiver never saw end-of-file (received ${received} of ${bytes}, client ${c.state})`;
  if (revBytes > 0 && !revEof) error ??= `the client never saw end-of-file (received ${revReceived} of ${revBytes} sent back)`;
  if (revBytes > 0 && (revReceived !== revBytes || revSendHash.digest('hex') !== revRecvHash.digest('hex'))) {
    error ??= `the reverse stream arrived damaged (received ${revReceived} of ${revBytes})`;
  }
  const sha256 = sendHash.digest('hex');
  const receivedSha256 = recvHash.digest('hex');
  const virtualSeconds = ((eofAt >= 0 && (revBytes === 0 || revEofAt >= 0) ? Math.max(eofAt, revEofAt) : w.now) - t0) / 1e6;
  const snap = c.snapshot();
  const wallSeconds = (performance.now() - wall0) / 1000;
  return {
    bytes,
    received,
    intact: error === null && received === bytes && sha256 === receivedSha256,
    sha256,
    receivedSha256,
    virtualSeconds,
    goodputMbps: virtualSeconds > 0 ? (received * 8) / virtualSeconds / 1e6 : 0,
    retransmits: client.counters.RetransSegs ?? 0,
    retransmittedSegments: retransSegs,
    retransmittedBytes: retransBytes,
    spuriousRetransmits: spurious,
    spuriousBytes,
    spuriousMethod: 'oracle: retransmitted data segments whose bytes had all reached the receiver (valid, in window) before the retransmission was sent',
    fastRetransmits: client.counters.TCPFastRetrans ?? 0,
    rtoTimeouts: client.counters.TCPTimeouts ?? 0,
    framesSent,
    framesLost,
    framesCorrupted,
    framesDuplicated: framesDup,
    finalCwnd: snap.cwnd,
    srttMs: snap.srtt / 1000,
    error,
    wallSeconds,
    seed,
    options: {
      loss: impair.loss, delayMs, jitterMs: opts.jitterMs ?? 0, reorder: impair.reorder, duplicate: impair.duplicate,
      corrupt: impair.corrupt, bandwidthMbit: opts.bandwidthMbit ?? 0, mtu, cc: opts.cc ?? 'cubic',
      ...(opts.dataPathOnly ? { dataPathOnly: true } : {}),
    },
  };
}

/**
 * A writer of `src` into `sock` that resumes on 'writable', hashing what it queues, and calls
 * `end` once everything is queued (its `done` then true).
 */
function writer(sock: TcpSocket, src: ByteSource, hash: Hash, end: () => void): (() => void) & { done: boolean } {
  let chunk: Uint8Array | null = null;
  let off = 0;
  const push = Object.assign(
    (): void => {
      if (push.done) return;
      for (;;) {
        if (chunk === null || off >= chunk.length) {
          chunk = src.next();
          off = 0;
          if (chunk === null) {
            push.done = true;
            end();
            return;
          }
          hash.update(chunk);
        }
        const n = sock.write(chunk.subarray(off));
        off += n;
        if (off < chunk.length) return; // send buffer full; onWritable resumes
      }
    },
    { done: false },
  );
  return push;
}

/**
 * One case of the soak (test/transfer.test.ts, scripts/soak.ts), derived from its seed alone:
 * most transfers small, a few large; loss up to 30 %, reordering, duplication, corruption and
 * jitter in random mixes. The connection's give-up limits are raised (SYN and SYN-ACK retries 10, data
 * retries 30) because at 30 % loss in both directions Linux's defaults legitimately give up now
 * and then (7 lost SYN/SYN-ACK exchanges in a row happen about once per 100 connections; with the
 * default 5 SYN-ACK retries, seed 49485 of the 100k soak had its server drop the half-open
 * connection after its ACKs were lost, and the client's data was then answered with RST), and
 * the soak checks delivery, not patience.
 */
export function soakCase(seed: number, maxBytes = 10_000_000): TransferOptions {
  const rng = new Rng(seed ^ 0x50a4);
  const u = rng.float();
  const logUniform = (lo: number, hi: number): number => Math.round(Math.exp(Math.log(lo) + rng.float() * (Math.log(hi) - Math.log(lo))));
  const bytes = Math.min(maxBytes, u < 0.85 ? logUniform(1, 64_000) : u < 0.98 ? logUniform(64_000, 1_000_000) : logUniform(1_000_000, 10_000_000));
  const some = (p: number, max: number): number => (rng.float() < p ? Math.round(rng.float() * max * 1000) / 1000 : 0);
  const mtus = [576, 1280, 1500, 1500, 1500, 9000];
  return {
    bytes,
    seed,
    loss: some(0.7, 0.3),
    delayMs: Math.round(logUniform(1, 100)),
    jitterMs: rng.float() < 0.4 ? Math.round(rng.float() * 20) : 0,
    reorder: some(0.3, 0.2),
    duplicate: some(0.3, 0.1),
    corrupt: some(0.3, 0.1),
    bandwidthMbit: rng.float() < 0.3 ? [1, 10, 100][rng.int(0, 2)]! : 0,
    mtu: mtus[rng.int(0, mtus.length - 1)]!,
    cc: rng.float() < 0.5 ? 'cubic' : 'newreno',
    tcp: { synRetries: 10, synAckRetries: 10, retries2: 30 },
  };
}

/** The options of a case as a one-line reproduction. */
export function reproduce(o: TransferOptions): string {
  const { onProgress: _p, ...rest } = o;
  return `node -e "import('./dist/src/demo/transfer.js').then(m => console.log(m.runTransfer(${JSON.stringify(rest).replace(/"/g, '\\"')})))"`;
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** The text summary `synack demo transfer --bytes N` prints. */
export function renderTransferSummary(r: TransferResult): string {
  const o = r.options;
  const path = [`delay ${String(o.delayMs)} ms`, `loss ${String(o.loss)}`, `jitter ${String(o.jitterMs)} ms`, `reorder ${String(o.reorder)}`, `dup ${String(o.duplicate)}`, `corrupt ${String(o.corrupt)}`, `bandwidth ${o.bandwidthMbit ? `${String(o.bandwidthMbit)} Mbit/s` : 'unlimited'}`, `mtu ${String(o.mtu)}`].join(', ');
  const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(2)} %` : '-');
  const lines = [
    `transfer: ${fmtBytes(r.bytes)} client → server, ${String(o.cc)}, seed ${r.seed}`,
    `path:     ${path}`,
    '',
    `received        ${r.received} of ${r.bytes} bytes — ${r.intact ? 'intact (SHA-256 equal at both ends)' : 'NOT INTACT'}`,
    `sha256          ${r.sha256}${r.receivedSha256 === r.sha256 ? '' : `\n  received      ${r.receivedSha256}`}`,
    `virtual time    ${r.virtualSeconds.toFixed(3)} s (connect to end-of-file at the receiver)`,
    `goodput         ${r.goodputMbps.toFixed(3)} Mbit/s (virtual time)`,
    `retransmits     ${r.retransmits} segments (RetransSegs); data: ${r.retransmittedSegments} segments, ${r.retransmittedBytes} bytes; ${r.fastRetransmits} fast retransmits, ${r.rtoTimeouts} RTO timeouts`,
    `spurious        ${r.spuriousRetransmits} segments (${pct(r.spuriousRetransmits, r.retransmittedSegments)} of data retransmits), ${r.spuriousBytes} bytes the receiver already had`,
    `                measured by the simulator's oracle: a retransmission is spurious when every byte of it had already reached the receiver when it was sent`,
    `frames          ${r.framesSent} sent, ${r.framesLost} lost, ${r.framesCorrupted} corrupted, ${r.framesDuplicated} duplicated (both directions)`,
    `sender at end   cwnd ${Math.round(r.finalCwnd)} bytes, srtt ${r.srttMs.toFixed(1)} ms`,
    `wall time       ${r.wallSeconds.toFixed(3)} s (${r.wallSeconds > 0 ? ((r.bytes * 8) / r.wallSeconds / 1e6).toFixed(0) : '-'} Mbit/s simulated per wall second)`,
  ];
  if (r.error !== null) lines.push(`error           ${r.error}`);
  return lines.join('\n');
}

/**
 * One case of the timestamps soak (issue: timestamps under ACK loss): soakCase's path, with
 * timestamps on, 1–5 MB each way at the same time, and loss up to 30 % in both directions;
 * each must finish intact within an hour of virtual time.
 */
export function tsSoakCase(seed: number): TransferOptions {
  const base = soakCase(seed);
  const rng = new Rng(seed ^ 0x75c0);
  return {
    ...base,
    bytes: 1_000_000 + rng.int(0, 4_000_000),
    reverseBytes: 1_000_000 + rng.int(0, 4_000_000),
    loss: Math.round(rng.float() * 300) / 1000,
    tcp: { ...base.tcp, timestamps: true },
    maxVirtualSeconds: 3600,
  };
}

