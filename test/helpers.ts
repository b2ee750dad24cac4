/**
 * Test harness for the TCP core scenarios (states, RST rules, timers, properties): a SimWorld with
 * two stacks A and B, a recorder of every state event and every frame on the wire (parsed, with
 * tcpdump-style relative sequence numbers), and a raw scripted peer that sends hand-built segments
 * when a test needs exact control over what the stack sees.
 */
import type { PathConfig } from '../src/driver/sim-network.js';
import { NodeDriver } from '../src/driver/node-driver.js';
import { SimWorld } from '../src/driver/world.js';
import { memoryPair } from '../src/link/memory.js';
import type { Link } from '../src/link/link.js';
import type { Stack, StackOptions } from '../src/stack/stack.js';
import type { TcpSocket } from '../src/stack/socket.js';
import type { Listener } from '../src/stack/listener.js';
import type { TcpStateName } from '../src/tcp/state.js';
import type { TcpConfig } from '../src/tcp/config.js';
import type { Instant } from '../src/time.js';
import { formatPacket } from '../src/wire/format.js';
import { newIpRepr, parseIpHeader } from '../src/wire/ip.js';
import { buildTcpPacket, parseTcp } from '../src/wire/tcp.js';
import { ACK, FIN, RST, SYN, flagsToString, newTcpRepr, segLen } from '../src/wire/tcp-repr.js';

export const A_ADDR = '10.0.0.1';
export const B_ADDR = '10.0.0.2';
export const P_ADDR = '10.0.0.3';

/** One TCP segment seen on the wire (or by the raw peer). */
export interface Seg {
  t: Instant;
  /** Sending host name. */
  from: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  flags: number;
  /** tcpdump flag letters: S, S., ., P., F., R, R. ... */
  f: string;
  seq: number;
  ack: number;
  /** Payload length. */
  len: number;
  win: number;
  mss: number;
  wscale: number;
  hasTs: boolean;
  payload: Uint8Array;
  dropped: boolean;
  /** Sequence number relative to the sender's ISN (the first SYN seen in that direction). */
  rseq: number;
  /** Acknowledgment number relative to the receiver's ISN. */
  rack: number;
}

const ip = newIpRepr();
const tcp = newTcpRepr();

/** Parse a frame into a Seg (null when it is not a valid TCP packet). */
export function parseSeg(frame: Uint8Array, t: Instant, from: string, dropped = false): Seg | null {
  if (parseIpHeader(frame, ip, false) !== null) return null;
  if (parseTcp(frame, ip, tcp, false) !== null) return null;
  return {
    t, from, src: ip.src, sport: tcp.srcPort, dst: ip.dst, dport: tcp.dstPort, flags: tcp.flags,
    f: flagsToString(tcp.flags), seq: tcp.seq, ack: tcp.ack, len: tcp.payload.length, win: tcp.window,
    mss: tcp.mss, wscale: tcp.wscale, hasTs: tcp.hasTimestamp, payload: tcp.payload.slice(), dropped,
    rseq: tcp.seq, rack: tcp.ack,
  };
}

/** Sequence space of a Seg. */
export function seqSpace(s: Seg): number {
  return s.len + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
}

/** Compact form used in assertions: `A S 0`, `B S. 0 ack 1`, `A P. 1:6 ack 1`, `A R 1`. */
export function fmt(s: Seg): string {
  let out = `${s.from} ${s.f} ${s.rseq}`;
  if (s.len > 0) out += `:${(s.rseq + s.len) >>> 0}`;
  if (s.flags & ACK) out += ` ack ${s.rack}`;
  if (s.dropped) out += ' DROPPED';
  return out;
}

export interface StateEv {
  t: Instant;
  host: string;
  local: string;
  remote: string;
  from: TcpStateName;
  to: TcpStateName;
  cause: string;
}

export interface ErrorEv {
  t: Instant;
  host: string;
  local: string;
  code: string;
}

export interface HarnessOptions {
  seed?: number;
  /** One-way delay in µs (default 10 ms). */
  delay?: number;
  path?: Partial<PathConfig>;
  a?: Omit<StackOptions, 'addresses' | 'clock' | 'name'> & { mtu?: number };
  b?: Omit<StackOptions, 'addresses' | 'clock' | 'name'> & { mtu?: number };
  /** Create only host A (B's address stays unrouted unless a raw peer takes it). */
  onlyA?: boolean;
}

/** A world with stacks A (10.0.0.1) and B (10.0.0.2) and recorders. */
export class Harness {
  readonly w: SimWorld;
  readonly a: Stack;
  readonly b: Stack | null;
  readonly segs: Seg[] = [];
  readonly events: StateEv[] = [];
  readonly errors: ErrorEv[] = [];
  /** Names for hosts in fmt(): host name → short label. */
  private readonly isn = new Map<string, number>();

  constructor(opts: HarnessOptions = {}) {
    this.w = new SimWorld({ seed: opts.seed ?? 1, path: { delay: opts.delay ?? 10_000, ...opts.path } });
    this.a = this.w.addHost('A', [A_ADDR], opts.a ?? {});
    this.b = opts.onlyA ? null : this.w.addHost('B', [B_ADDR], opts.b ?? {});
    this.w.observe((host, ev) => {
      if (ev.type === 'state') {
        this.events.push({ t: this.w.now, host, local: ev.local, remote: ev.remote, from: ev.from, to: ev.to, cause: ev.cause });
      } else if (ev.type === 'error') {
        this.errors.push({ t: this.w.now, host, local: ev.local, code: ev.code });
      }
    });
    this.w.onFrame((ev) => {
      if (ev.duplicate) return;
      const s = parseSeg(ev.frame, ev.t, ev.from, ev.dropped);
      if (s === null) return;
      const fwd = `${s.src} ${s.sport} ${s.dst} ${s.dport}`;
      const rev = `${s.dst} ${s.dport} ${s.src} ${s.sport}`;
      if (s.flags & SYN && !this.isn.has(fwd)) this.isn.set(fwd, s.seq);
      const mine = this.isn.get(fwd);
      const theirs = this.isn.get(rev);
      if (mine !== undefined) s.rseq = (s.seq - mine) >>> 0;
      if (theirs !== undefined && s.flags & ACK) s.rack = (s.ack - theirs) >>> 0;
      this.segs.push(s);
    });
  }

  get B(): Stack {
    if (this.b === null) throw new Error('no host B');
    return this.b;
  }

  get now(): Instant {
    return this.w.now;
  }

  /** Forget relative-numbering ISNs (a new connection reuses a 4-tuple). */
  resetIsns(): void {
    this.isn.clear();
  }

  run(until?: Instant): void {
    this.w.run(until);
  }

  runFor(d: number): void {
    this.w.sim.runFor(d);
  }

  /** Run an action at an absolute time. */
  at(t: Instant, fn: () => void): void {
    this.w.at(t, fn);
  }

  /** `FROM>TO` for every state event of `host` (optionally only those of one local endpoint). */
  states(host: string, local?: string): string[] {
    return this.events.filter((e) => e.host === host && (local === undefined || e.local === local)).map((e) => `${e.from}>${e.to}`);
  }

  /** State events of `host` with their times. */
  stateEvents(host: string): StateEv[] {
    return this.events.filter((e) => e.host === host);
  }

  /** The time the first `from>to` event of host happened (throws when it never did). */
  timeOf(host: string, transition: string): Instant {
    const e = this.events.find((x) => x.host === host && `${x.from}>${x.to}` === transition);
    if (e === undefined) throw new Error(`${host} never made ${transition}; saw ${this.states(host).join(', ')}`);
    return e.t;
  }

  /** Compact lines of the wire (optionally only segments after index `from`). */
  wire(from = 0, includeDropped = true): string[] {
    return this.segs.slice(from).filter((s) => includeDropped || !s.dropped).map(fmt);
  }

  /** Full trace for failure messages. */
  dump(): string {
    const lines: string[] = [];
    let i = 0;
    let j = 0;
    while (i < this.segs.length || j < this.events.length) {
      const s = this.segs[i];
      const e = this.events[j];
      if (e !== undefined && (s === undefined || e.t <= s.t)) {
        lines.push(`${(e.t / 1e6).toFixed(6)}   ${e.host} ${e.local} ${e.from} -> ${e.to} (${e.cause})`);
        j++;
      } else if (s !== undefined) {
        lines.push(`${(s.t / 1e6).toFixed(6)} ${fmt(s)}  [${s.src}.${s.sport} > ${s.dst}.${s.dport} win ${s.win}]`);
        i++;
      }
    }
    return lines.join('\n');
  }

  /** Attach a raw scripted peer at `addr` (default 10.0.0.3, or B's address when there is no B). */
  peer(name = 'P', addr = this.b === null ? B_ADDR : P_ADDR): RawPeer {
    return new RawPeer(this, name, addr);
  }
}

export interface SegSpec {
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  ts?: [number, number];
  payload?: Uint8Array | string;
}

/** A host with no TCP: it sends hand-built segments and records what arrives. */
export class RawPeer {
  readonly link: Link;
  readonly rx: Seg[] = [];
  private readonly conns: PeerConn[] = [];

  constructor(
    readonly h: Harness,
    readonly name: string,
    readonly addr: string,
  ) {
    this.link = h.w.net.attach(name, [addr]);
    this.link.onReceive((frame) => {
      const s = parseSeg(frame, h.now, '?');
      if (s === null) return;
      this.rx.push(s);
      for (const c of this.conns) if (c.matches(s)) c.onReceive(s);
    });
  }

  /** Send one hand-built segment. */
  send(dst: string, sport: number, dport: number, spec: SegSpec): void {
    const r = newTcpRepr();
    r.srcPort = sport;
    r.dstPort = dport;
    r.seq = spec.seq >>> 0;
    r.ack = (spec.ack ?? 0) >>> 0;
    r.flags = spec.flags;
    r.window = spec.win ?? 65535;
    if (spec.mss !== undefined) r.mss = spec.mss;
    if (spec.wscale !== undefined) r.wscale = spec.wscale;
    if (spec.sackOk) r.sackPermitted = true;
    if (spec.ts !== undefined) {
      r.hasTimestamp = true;
      r.tsVal = spec.ts[0] >>> 0;
      r.tsEcr = spec.ts[1] >>> 0;
    }
    if (spec.payload !== undefined) r.payload = typeof spec.payload === 'string' ? new TextEncoder().encode(spec.payload) : spec.payload;
    this.link.send(buildTcpPacket(this.addr, dst, r));
  }

  /** Send raw bytes as a frame. */
  sendFrame(frame: Uint8Array): void {
    this.link.send(frame);
  }

  /** A scripted connection from this peer (sport) to remote:dport, with our ISN `iss`. */
  conn(remote: string, sport: number, dport: number, iss = 1000): PeerConn {
    const c = new PeerConn(this, remote, sport, dport, iss);
    this.conns.push(c);
    return c;
  }
}

/**
 * A scripted peer connection: tracks its own SND.NXT and, from what arrives in order, RCV.NXT;
 * `send` fills seq/ack from them unless told otherwise.
 */
export class PeerConn {
  sndNxt: number;
  rcvNxt = 0;
  /** The stack's ISN, once its SYN or SYN-ACK arrived. */
  irs: number | null = null;
  readonly rx: Seg[] = [];

  constructor(
    readonly peer: RawPeer,
    readonly remote: string,
    readonly sport: number,
    readonly dport: number,
    readonly iss: number,
  ) {
    this.sndNxt = iss;
  }

  matches(s: Seg): boolean {
    return s.src === this.remote && s.sport === this.dport && s.dport === this.sport;
  }

  onReceive(s: Seg): void {
    if (this.irs !== null) {
      s.rseq = (s.seq - this.irs) >>> 0;
    }
    if (s.flags & SYN && !(s.flags & RST)) {
      this.irs = s.seq;
      this.rcvNxt = (s.seq + 1 + s.len) >>> 0;
      s.rseq = 0;
    } else if (!(s.flags & RST) && s.seq === this.rcvNxt) {
      this.rcvNxt = (this.rcvNxt + seqSpace(s)) >>> 0;
    }
    s.rack = (s.ack - this.iss) >>> 0;
    this.rx.push(s);
  }

  /** Send a segment: seq defaults to SND.NXT (which then advances), ack to RCV.NXT. */
  send(flags: number, opts: Partial<SegSpec> = {}): void {
    const payload = typeof opts.payload === 'string' ? new TextEncoder().encode(opts.payload) : (opts.payload ?? new Uint8Array(0));
    const seq = opts.seq ?? this.sndNxt;
    const spec: SegSpec = { ...opts, flags, seq, payload };
    if (opts.ack === undefined && flags & ACK) spec.ack = this.rcvNxt;
    this.peer.send(this.remote, this.sport, this.dport, spec);
    if (opts.seq === undefined) {
      const n = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
      this.sndNxt = (this.sndNxt + n) >>> 0;
    }
  }

  /** The segments received, compact (`R 1`, `S. 0 ack 1` — relative to the stack's ISN and ours). */
  lines(from = 0): string[] {
    return this.rx.slice(from).map((s) => fmt(s).replace(/^\? /, ''));
  }

  last(): Seg | undefined {
    return this.rx[this.rx.length - 1];
  }
}

/** Bytes of a string. */
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | null): string => (b === null ? '' : new TextDecoder().decode(b));

export { segLen };

/**
 * Host A connects (local port `localPort`) to a scripted peer at B's address, port 80; the peer
 * answers SYN-ACK (MSS 1460, no other options) so A reaches ESTABLISHED. `h` must be onlyA.
 */
export function scriptedPeerConnection(
  h: Harness,
  opts: { localPort?: number; peerIss?: number; tcp?: Partial<import('../src/tcp/config.js').TcpConfig>; win?: number } = {},
): { p: RawPeer; pc: PeerConn; c: import('../src/stack/socket.js').TcpSocket } {
  const p = h.peer();
  const localPort = opts.localPort ?? 40000;
  const pc = p.conn(A_ADDR, 80, localPort, opts.peerIss ?? 5000);
  const c = h.a.connect({ remoteAddress: p.addr, remotePort: 80, localPort, ...(opts.tcp ? { tcp: opts.tcp } : {}) });
  h.runFor(50_000);
  pc.send(SYN | ACK, { mss: 1460, ...(opts.win !== undefined ? { win: opts.win } : {}) });
  h.runFor(50_000);
  if (c.state !== 'ESTABLISHED') throw new Error(`scripted handshake failed: ${c.state}\n${h.dump()}`);
  return { p, pc, c };
}

/**
 * Walk a connection to a scripted peer into `state` (from ESTABLISHED) with the usual moves:
 * close / shutdown on our side, FIN or ACK from the peer; `settle` µs between the steps.
 */
export function driveToState(h: Harness, pc: ReturnType<typeof scriptedPeerConnection>['pc'], c: ReturnType<typeof scriptedPeerConnection>['c'], state: TcpStateName, settle: number): void {
  switch (state) {
    case 'FIN_WAIT_1':
      c.close();
      break;
    case 'FIN_WAIT_2':
      c.shutdown();
      h.runFor(settle);
      pc.send(ACK);
      break;
    case 'CLOSE_WAIT':
      pc.send(FIN | ACK);
      break;
    case 'CLOSING':
      c.close();
      h.runFor(settle);
      pc.send(FIN | ACK, { ack: (pc.rcvNxt - 1) >>> 0 });
      break;
    case 'LAST_ACK':
      pc.send(FIN | ACK);
      h.runFor(settle);
      c.close();
      break;
    case 'TIME_WAIT':
      c.close();
      h.runFor(settle);
      pc.send(FIN | ACK);
      break;
    default:
      break;
  }
}

export interface LossyRun {
  lines: string[];
  /** Stream offset → times (µs) each copy of that data segment was sent. */
  sends: Map<number, number[]>;
  counters: Record<string, number>;
  got: number;
  doneAt: number;
}

/**
 * `a` sends `segs` full segments (MSS 1448) to `b` over a 10 ms path (20 ms RTT); the network
 * drops the first `times` copies of the data segments starting at the stream offsets in `lose`.
 */
export function lossyTransfer(segs: number, lose: number[], times = 1, serverTcp: Partial<TcpConfig> = {}, clientTcp: Partial<TcpConfig> = {}): LossyRun {
  const MSS = 1448;
  const w = new SimWorld({ seed: 3, path: { delay: 10_000 } });
  const a = w.addHost('a', ['10.0.0.1'], { tcp: clientTcp });
  const b = w.addHost('b', ['10.0.0.2'], { tcp: serverTcp });
  const ip = newIpRepr();
  const seg = newTcpRepr();
  let iss = -1;
  const dropped = new Map<number, number>();
  const sends = new Map<number, number[]>();
  const lines: string[] = [];
  w.net.dropNext((f, from) => {
    if (from !== 'a' || parseIpHeader(f, ip, false) !== null || parseTcp(f, ip, seg, false) !== null) return false;
    if (seg.flags & 0x02) iss = seg.seq;
    if (seg.payload.length === 0) return false;
    const rel = (seg.seq - iss - 1) >>> 0;
    sends.set(rel, [...(sends.get(rel) ?? []), w.now]);
    const n = dropped.get(rel) ?? 0;
    if (lose.includes(rel) && n < times) {
      dropped.set(rel, n + 1);
      return true;
    }
    return false;
  }, 1_000_000);
  w.onFrame((ev) => lines.push(`${(ev.t / 1e6).toFixed(6)} ${ev.from} ${formatPacket(ev.frame)}${ev.dropped ? ' LOST' : ''}`));
  let doneAt = -1;
  const received = countReceived(b.listen({ port: 80 }), (got) => {
    if (got === segs * MSS && doneAt < 0) doneAt = w.now;
  });
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  c.onConnect = () => c.write(new Uint8Array(segs * MSS));
  w.run(20_000_000);
  return { lines, sends, counters: a.counters as Record<string, number>, got: received(), doneAt };
}

/**
 * Two stacks on a NodeDriver (real time) joined by a memoryPair link whose frames move on the next
 * turn of the event loop. `ref: true`: the memory link holds no handle, so the driver's timer keeps
 * the test process alive.
 */
export function realTimePair(addrA: string, addrB: string): { driver: NodeDriver; a: Stack; b: Stack } {
  const driver = new NodeDriver({ ref: true });
  const pair = memoryPair();
  const a = driver.createStack({ addresses: [addrA], seed: 1 });
  const b = driver.createStack({ addresses: [addrB], seed: 2 });
  // memoryPair only moves frames on pump(); deliver them on the next turn of the event loop.
  let scheduled = false;
  const schedulePump = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      pair.pump();
    });
  };
  const wake = (l: Link): Link => ({ mtu: l.mtu, send: (f: Uint8Array) => (l.send(f), schedulePump()), onReceive: (cb: (f: Uint8Array) => void) => l.onReceive(cb) });
  driver.attach(a, wake(pair.a));
  driver.attach(b, wake(pair.b));
  return { driver, a, b };
}

/**
 * Queue all of `data` on `s`, more each time it is writable (`onWritable` is taken); `done` runs
 * once the last byte is queued. Returns the pump: call it to start (at once, or on connect).
 */
export function writeAll(s: TcpSocket, data: Uint8Array, done?: () => void): () => void {
  let off = 0;
  const pump = (): void => {
    if (off >= data.length) return;
    while (off < data.length) {
      const n = s.write(data.subarray(off));
      if (n === 0) return;
      off += n;
    }
    done?.();
  };
  s.onWritable = pump;
  return pump;
}

/**
 * A discard server on `l`: accepts every connection and reads everything that arrives. Returns
 * the bytes read so far; `onBytes(got)` runs after each read burst.
 */
export function countReceived(l: Listener, onBytes?: (got: number) => void): () => number {
  let got = 0;
  l.onConnection = () => {
    const s = l.accept()!;
    s.onData = () => {
      for (let d = s.read(); d !== null; d = s.read()) got += d.length;
      onBytes?.(got);
    };
  };
  return () => got;
}
