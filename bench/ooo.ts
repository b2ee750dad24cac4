/**
 * Receive cost per out-of-order segment (issue 11): a raw peer floods one synack stack over
 * `memoryPair` and the time the stack spends per arriving segment is measured when the
 * out-of-order queue already holds `held` segments.
 *
 * - `gaps`: 1-byte segments with 1-byte gaps (every segment is a new held range; each one is
 *   answered by a duplicate ACK carrying SACK blocks).
 * - `oneHole`: the first byte is missing and 200-byte segments follow it back to back (one held
 *   range that grows by every segment).
 *
 * The peer does not use timestamps; the stack's receive buffer is 6 MiB and in-order data the
 * application reads opens the window to all of it first, so the window covers the whole flood
 * (31,000 200-byte segments is 6.2 MB).
 */
import { memoryPair } from '../src/link/memory.js';
import { Stack } from '../src/stack/stack.js';
import { newIpRepr, parseIpHeader } from '../src/wire/ip.js';
import { buildTcpPacket, parseTcp } from '../src/wire/tcp.js';
import { ACK, SYN, newTcpRepr } from '../src/wire/tcp-repr.js';
import { snapshotOf } from '../src/tcp/snapshot.js';

const PEER = '10.0.0.1';
const HOST = '10.0.0.2';
const RCVBUF = 6 << 20;

export type OooCase = 'gaps' | 'oneHole';

export interface OooResult {
  kind: OooCase;
  /** Segments held when the timed segments arrive. */
  held: number;
  /** Timed segments. */
  segments: number;
  /**
   * CPU time of the process per segment (user + system: on a machine shared with other jobs
   * this, unlike wall time, does not count the time spent waiting for a core).
   */
  usPerSegment: number;
  wallUsPerSegment: number;
  /** Out-of-order bytes the connection held at the end (its snapshot). */
  outOfOrderBytes: number;
}

/** Hold `held` segments (untimed), then time `timed` more. */
export function oooCost(kind: OooCase, held: number, timed: number): OooResult {
  const wire = memoryPair({ mtu: 1500, checksumOffload: true });
  const stack = new Stack({ name: 'b', addresses: [HOST], clock: () => 0, seed: 2, tcp: { recvBuffer: RCVBUF, recvBufferMax: RCVBUF } });
  stack.attach(wire.b);
  const listener = stack.listen({ port: 80 });
  listener.onConnection = () => {
    for (let s = listener.accept(); s !== null; s = listener.accept()) {
      const sock = s;
      sock.onData = () => {
        while (sock.read() !== null);
      };
    }
  };
  const ip = newIpRepr();
  const rx = newTcpRepr();
  let irs = -1;
  wire.a.onReceive((frame) => {
    if (parseIpHeader(frame, ip, false) !== null || parseTcp(frame, ip, rx, false) !== null) return;
    if (rx.flags & SYN) irs = rx.seq;
  });
  const iss = 1000;
  const seg = newTcpRepr();
  seg.srcPort = 40000;
  seg.dstPort = 80;
  seg.window = 65535;
  const send = (flags: number, seq: number, payload: Uint8Array): void => {
    seg.flags = flags;
    seg.seq = seq >>> 0;
    seg.ack = (irs + 1) >>> 0;
    seg.payload = payload;
    wire.a.send(buildTcpPacket(PEER, HOST, seg, { checksum: false }));
    wire.pump();
  };
  seg.mss = 1460;
  seg.sackPermitted = true;
  seg.wscale = 7;
  send(SYN, iss, new Uint8Array(0));
  if (irs < 0) throw new Error('bench ooo: no SYN-ACK');
  seg.mss = -1;
  seg.sackPermitted = false;
  seg.wscale = -1;
  send(ACK, iss + 1, new Uint8Array(0));
  const conn = stack.connections().find((c) => c.state === 'ESTABLISHED');
  if (conn === undefined) throw new Error('bench ooo: no connection');

  // Open the window to the whole buffer first (LINUX tcp_grow_window: it grows with in-order data
  // the application reads).
  const mss = new Uint8Array(1460);
  let nxt = iss + 1;
  while (conn.receiveWindow() < RCVBUF - 1460) {
    send(ACK, nxt, mss);
    nxt += mss.length;
  }
  const size = kind === 'gaps' ? 1 : 200;
  const step = kind === 'gaps' ? 2 : 200;
  const payload = new Uint8Array(size).fill(0x61);
  // The first byte after the handshake is never sent: everything below is out of order.
  const base = nxt + 1;
  for (let i = 0; i < held; i++) send(ACK, base + i * step, payload);
  (globalThis as { gc?: () => void }).gc?.(); // the set-up's garbage is not the timed segments' cost
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = held; i < held + timed; i++) send(ACK, base + i * step, payload);
  const cpu = process.cpuUsage(cpu0);
  const wallUs = (performance.now() - t0) * 1000;
  return {
    kind,
    held,
    segments: timed,
    usPerSegment: (cpu.user + cpu.system) / timed,
    wallUsPerSegment: wallUs / timed,
    outOfOrderBytes: snapshotOf(conn, 0).outOfOrderBytes,
  };
}

/** The median of five runs (one run of 2000 segments is a few milliseconds: noise matters). */
function median(kind: OooCase, held: number, timed: number): OooResult {
  const runs = [0, 1, 2, 3, 4].map(() => oooCost(kind, held, timed)).sort((a, b) => a.usPerSegment - b.usPerSegment);
  return runs[2]!;
}

/** Both cases at 1k and 30k held segments, after a warm-up. */
export function oooBench(): Record<string, OooResult> {
  oooCost('gaps', 1000, 500);
  oooCost('oneHole', 1000, 500);
  return {
    gaps1k: median('gaps', 1000, 2000),
    gaps30k: median('gaps', 30_000, 2000),
    oneHole1k: median('oneHole', 1000, 2000),
    oneHole30k: median('oneHole', 29_000, 2000),
  };
}
