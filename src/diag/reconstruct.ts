/**
 * Passive TCP state tracking: from the packets of a capture, reconstruct every TCP connection and
 * BOTH endpoints' state timelines, as a DemoResult (the event format of `synack demo --json`), so
 * that `renderLadder` draws a capture exactly as it draws a simulated run.
 *
 * The tracker sees segments at one point of the path (the capture point) and infers each end's
 * RFC 9293 state from what it sent and what it was sent:
 *
 *   sends SYN                       CLOSED -> SYN_SENT
 *   sends SYN-ACK                   LISTEN -> SYN_RECEIVED   (SYN_SENT -> SYN_RECEIVED: simultaneous open)
 *   receives SYN in SYN_SENT        SYN_SENT -> SYN_RECEIVED (simultaneous open)
 *   receives SYN-ACK of its SYN     SYN_SENT -> ESTABLISHED, SYN_RECEIVED -> ESTABLISHED (simultaneous)
 *   receives ACK of its SYN         SYN_RECEIVED -> ESTABLISHED
 *   sends FIN                       ESTABLISHED -> FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK
 *   receives FIN                    ESTABLISHED -> CLOSE_WAIT, FIN_WAIT_1 -> CLOSING (simultaneous
 *                                   close), FIN_WAIT_2 -> TIME_WAIT, FIN_WAIT_1 -> TIME_WAIT when the
 *                                   FIN also acknowledges its own FIN
 *   receives ACK of its FIN         FIN_WAIT_1 -> FIN_WAIT_2, CLOSING -> TIME_WAIT, LAST_ACK -> CLOSED
 *   sends / receives RST            -> CLOSED (a RST,ACK answering a SYN: connection refused)
 *
 * Assumptions, stated because a capture cannot prove them: a captured segment reaches its receiver
 * (in capture order within its direction), and at the time it was captured. Evidence to the contrary
 * is used: when an end retransmits sequence space its peer had already acknowledged, the ACK did not
 * reach it, and a state change that ACK caused (LAST_ACK -> CLOSED, FIN_WAIT_1 -> FIN_WAIT_2, ...) is
 * taken back. Flags raised as notes: retransmissions, SYN/SYN-ACK backoff intervals, RSTs, zero
 * windows, gaps in sequence space (segments not captured: lost before the capture point, or
 * reordered) and how they were filled, and which ends finished in TIME_WAIT.
 *
 * Pure: no I/O. Works on CapturedPacket[] from readCapture (truncated snaplen captures are fine:
 * lengths come from the IP header, not from the captured bytes).
 */
import type { DemoEvent, DemoResult } from './events.js';
import { seqAdd, seqGe, seqGt } from '../seq.js';
import type { TcpStateName } from '../tcp/state.js';
import { formatOptionBytes } from '../wire/format.js';
import { newIpRepr, parseIpHeader } from '../wire/ip.js';
import { parseTcp, tcpDataOffset, TCP_HEADER_LEN } from '../wire/tcp.js';
import { ACK, FIN, RST, SYN, flagsToString, newTcpRepr } from '../wire/tcp-repr.js';
import type { CapturedPacket } from './pcap-read.js';
import { endpoint } from './segment-events.js';

/** A TCP segment decoded from a captured IP packet (header fields only; payload may be truncated). */
export interface CapturedSegment {
  /** Microseconds since the epoch (capture timestamp). */
  t: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Payload length from the IP header (not the captured length). */
  len: number;
  options: string;
}

/** Endpoint text as every event has it (one definition, in segment-events.ts). */
const ep = endpoint;

const IP = newIpRepr();
const TCP = newTcpRepr();

/**
 * Decode the TCP segment in a raw IPv4/IPv6 packet with src/wire's parsers (snapped: a capture cut
 * at its snap length still gives the segment's length from the IP header), or null (not TCP, a
 * fragment, malformed, header not captured).
 */
export function decodeSegment(t: number, f: Uint8Array): CapturedSegment | null {
  if (parseIpHeader(f, IP, false, true) !== null || parseTcp(f, IP, TCP, false, true) !== null) return null;
  const doff = tcpDataOffset(f, IP);
  return {
    t, src: IP.src, dst: IP.dst,
    srcPort: TCP.srcPort, dstPort: TCP.dstPort,
    seq: TCP.seq, ack: TCP.ack,
    flags: TCP.flags,
    window: TCP.window,
    len: IP.payloadLength - doff,
    options: formatOptionBytes(f, IP.headerLength + TCP_HEADER_LEN, IP.headerLength + doff),
  };
}

/** What one end of a connection is believed to be doing. */
interface End {
  name: string;
  ep: string;
  /** null until the end shows what it is (first SYN, SYN-ACK or data). */
  state: TcpStateName | null;
  iss: number | undefined;
  /** Captured ranges of this end's sequence space, relative to iss: sorted, merged [start, end). */
  ranges: [number, number][];
  /** Times of SYN (or SYN-ACK) transmissions, seconds. */
  synTimes: number[];
  synKind: 'SYN' | 'SYN-ACK' | undefined;
  /** Sequence number of its FIN (the FIN occupies [finSeq, finSeq+1)). */
  finSeq: number | undefined;
  /** Highest ack it sent (absolute), when any. */
  maxAck: number | undefined;
  zeroWindow: boolean;
  /** An ACK-caused transition that may have to be taken back (the ACK may not have arrived). */
  tentative: { from: TcpStateName; event: DemoEvent; ackT: number } | undefined;
  /** An open hole in its sequence space: [start, end) relative, and when it appeared. */
  holes: { start: number; end: number; t: number }[];
  /** The peer's SYN / FIN, sent but not yet known to have arrived. */
  pendingSyn: number | undefined;
  pendingFin: { t: number; seq: number; acksOwnFin: boolean } | undefined;
  /** Sequence number of the peer's FIN once received. */
  rcvFinSeq: number | undefined;
  /** When it last sent anything (seconds); -Infinity before. */
  lastSentT: number;
  simSynAck: boolean;
  stats: { segments: number; bytes: number; retransmissions: number; rsts: number; zeroWindows: number; lost: number; outOfOrder: number };
}

/** One reconstructed connection. */
export interface TcpConnection {
  /** 1-based, in order of first packet. */
  index: number;
  /** The end that opened (sent the first SYN), or the first sender when the capture starts mid-stream. */
  client: string;
  server: string;
  /** DemoResult with hosts named by address (or addr:port when both ends share an address). */
  result: DemoResult;
  /** Final state per host name (null when the end never showed a state). */
  finalStates: Record<string, TcpStateName | null>;
  /** Host names of the ends that finished in TIME_WAIT. */
  timeWait: string[];
}

export interface ReconstructOptions {
  /** Time origin in µs (default: the first packet of the capture). */
  t0?: number;
  /** Used as the DemoResult's `scenario` (default "capture"). */
  name?: string;
}

/** Within this many seconds a segment that fills a gap counts as reordered rather than lost. */
const REORDER_WINDOW = 0.003;

class Conn {
  readonly events: DemoEvent[] = [];
  readonly a: End;
  readonly b: End;
  firstT: number;
  lastT: number;
  done = false;

  constructor(
    readonly index: number,
    aEp: string,
    bEp: string,
    aName: string,
    bName: string,
    t: number,
  ) {
    this.a = newEnd(aName, aEp);
    this.b = newEnd(bName, bEp);
    this.firstT = t;
    this.lastT = t;
  }

  end(epName: string): End {
    return this.a.ep === epName ? this.a : this.b;
  }

  other(e: End): End {
    return e === this.a ? this.b : this.a;
  }

  state(e: End, t: number, to: TcpStateName, cause: string, from?: TcpStateName): DemoEvent {
    const prev = from ?? e.state ?? 'CLOSED';
    const ev: DemoEvent = { t, type: 'state', host: e.name, local: e.ep, remote: this.other(e).ep, from: prev, to, cause };
    this.events.push(ev);
    e.state = to;
    e.tentative = undefined;
    return ev;
  }

  note(t: number, text: string): void {
    this.events.push({ t, type: 'note', text });
  }
}

function newEnd(name: string, endpoint: string): End {
  return {
    name, ep: endpoint, state: null, iss: undefined, ranges: [], synTimes: [], synKind: undefined, finSeq: undefined,
    maxAck: undefined, zeroWindow: false, tentative: undefined, holes: [],
    pendingSyn: undefined, pendingFin: undefined, rcvFinSeq: undefined, lastSentT: -Infinity, simSynAck: false,
    stats: { segments: 0, bytes: 0, retransmissions: 0, rsts: 0, zeroWindows: 0, lost: 0, outOfOrder: 0 },
  };
}

/** Add [s, e) to sorted merged ranges; returns how much of it was not there before. */
function addRange(ranges: [number, number][], s: number, e: number): number {
  let covered = 0;
  for (const [rs, re] of ranges) covered += Math.max(0, Math.min(e, re) - Math.max(s, rs));
  ranges.push([s, e]);
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  ranges.splice(0, ranges.length, ...merged);
  return e - s - covered;
}

/** "1.0 s", "2.0 s", "0.204 s": tenths from a second up (backoff intervals read as in the RFCs). */
const fmt = (s: number): string => `${s >= 1 ? s.toFixed(1) : s.toFixed(3)} s`;

const DONE: ReadonlySet<TcpStateName | null> = new Set<TcpStateName | null>(['CLOSED', 'TIME_WAIT']);

/** Reconstruct every TCP connection in a capture. */
export function reconstruct(packets: readonly CapturedPacket[], opts: ReconstructOptions = {}): TcpConnection[] {
  const segs: CapturedSegment[] = [];
  for (const p of packets) {
    const s = decodeSegment(p.t, p.frame);
    if (s) segs.push(s);
  }
  const t0 = opts.t0 ?? (packets.length > 0 ? Math.min(...packets.map((p) => p.t)) : 0);
  const conns: Conn[] = [];
  const live = new Map<string, Conn>();
  for (const s of segs) {
    const src = ep(s.src, s.srcPort);
    const dst = ep(s.dst, s.dstPort);
    const key = src < dst ? `${src} ${dst}` : `${dst} ${src}`;
    const t = (s.t - t0) / 1e6;
    let c = live.get(key);
    const pureSyn = (s.flags & (SYN | ACK)) === SYN;
    if (c && pureSyn) {
      const me = c.end(src);
      // A new SYN with another ISN, or on a finished connection, starts a new connection.
      if ((me.iss !== undefined && me.iss !== s.seq) || (c.done || (DONE.has(c.a.state) && DONE.has(c.b.state)))) c = undefined;
    }
    if (!c) {
      // The first SYN's sender is the client; mid-stream, guess the higher port is the client's.
      const synAck = (s.flags & (SYN | ACK)) === (SYN | ACK);
      const clientIsSrc = pureSyn ? true : synAck ? false : s.srcPort >= s.dstPort;
      const [cEp, sEp, cAddr, sAddr] = clientIsSrc ? [src, dst, s.src, s.dst] : [dst, src, s.dst, s.src];
      const sameAddr = cAddr === sAddr;
      c = new Conn(conns.length + 1, cEp, sEp, sameAddr ? cEp : cAddr, sameAddr ? sEp : sAddr, t);
      conns.push(c);
      live.set(key, c);
    }
    segment(c, s, src, t);
  }
  return conns.map((c) => finish(c, opts.name ?? 'capture', t0));
}

/** Receipt of the peer's SYN or FIN, applied once there is evidence (or in-order delivery) that it arrived. */
function applyPending(c: Conn, R: End, evidenceT: number): void {
  if (R.pendingSyn !== undefined) {
    const at = Math.max(R.pendingSyn, Math.min(R.lastSentT, evidenceT));
    R.pendingSyn = undefined;
    if (R.state === 'SYN_SENT') c.state(R, at, 'SYN_RECEIVED', 'rcv SYN: snd SYN,ACK (simultaneous open)');
  }
  const p = R.pendingFin;
  if (p !== undefined) {
    const at = Math.max(p.t, Math.min(R.lastSentT, evidenceT));
    R.pendingFin = undefined;
    R.rcvFinSeq = p.seq;
    switch (R.state) {
      case 'ESTABLISHED':
      case 'SYN_RECEIVED':
        c.state(R, at, 'CLOSE_WAIT', 'rcv FIN: snd ACK');
        break;
      case 'FIN_WAIT_1':
        if (p.acksOwnFin) c.state(R, at, 'TIME_WAIT', 'rcv FIN,ACK of our FIN: snd ACK');
        else c.state(R, at, 'CLOSING', 'rcv FIN: snd ACK (simultaneous close)');
        break;
      case 'FIN_WAIT_2':
        c.state(R, at, 'TIME_WAIT', 'rcv FIN: snd ACK');
        break;
      case 'CLOSING':
        if (p.acksOwnFin) c.state(R, at, 'TIME_WAIT', 'rcv ACK of FIN');
        break;
      default:
        break;
    }
  }
}

function segment(c: Conn, s: CapturedSegment, src: string, t: number): void {
  const S = c.end(src);
  const R = c.other(S);
  c.lastT = t;
  const syn = (s.flags & SYN) !== 0;
  const ack = (s.flags & ACK) !== 0;
  const fin = (s.flags & FIN) !== 0;
  const rst = (s.flags & RST) !== 0;
  S.stats.segments++;
  S.stats.bytes += s.len;
  const ev: Extract<DemoEvent, { type: 'segment' }> = {
    t, type: 'segment', host: S.name, src: S.ep, dst: R.ep, flags: flagsToString(s.flags), seq: s.seq, ack: s.ack,
    len: s.len, win: s.window, options: s.options, dropped: false,
  };
  // What S received earlier: its ACK (or SYN-ACK) proves it. What R was sent earlier in this
  // direction arrived before this segment (in-order delivery).
  if (S.pendingSyn !== undefined && ((syn && ack) || (ack && R.iss !== undefined && seqGe(s.ack, seqAdd(R.iss, 1))))) applyPending(c, S, t);
  else if (S.pendingFin !== undefined && ack && seqGe(s.ack, seqAdd(S.pendingFin.seq, 1))) applyPending(c, S, t);
  applyPending(c, R, t);
  S.lastSentT = t;

  if (rst) {
    S.stats.rsts++;
    if (S.state !== null && S.state !== 'CLOSED' && S.state !== 'LISTEN' && S.state !== 'TIME_WAIT') c.state(S, t, 'CLOSED', 'snd RST (abort)');
    c.events.push(ev);
    if (R.state === 'SYN_SENT' && ack && R.iss !== undefined && s.ack === seqAdd(R.iss, 1)) {
      if (S.state === null) c.note(t, `nothing listens on ${S.ep}: it answers the SYN with RST,ACK`);
      c.events.push({ t, type: 'error', host: R.name, code: 'ECONNREFUSED', message: 'Connection refused', local: R.ep, remote: S.ep });
      c.state(R, t, 'CLOSED', 'rcv RST,ACK: connection refused');
    } else if (R.state === 'TIME_WAIT') {
      c.state(R, t, 'CLOSED', 'rcv RST in TIME_WAIT (TIME_WAIT assassination, RFC 1337)');
    } else if (R.state !== null && R.state !== 'CLOSED' && R.state !== 'LISTEN') {
      const reset = R.state !== 'SYN_SENT' && R.state !== 'SYN_RECEIVED';
      if (reset) c.events.push({ t, type: 'error', host: R.name, code: 'ECONNRESET', message: 'Connection reset by peer', local: R.ep, remote: S.ep });
      c.state(R, t, 'CLOSED', 'rcv RST');
    }
    if (S.state === 'TIME_WAIT') c.note(t, `${S.name} answers from TIME_WAIT with RST`);
    c.note(t, `RST from ${S.name} (${S.ep})`);
    return;
  }

  // --- the sender's own transitions (before the segment on the ladder) ---
  if (syn && !ack) {
    if (S.state === null || S.state === 'CLOSED') {
      S.iss = s.seq;
      S.synKind = 'SYN';
      S.ranges = [];
      c.state(S, t, 'SYN_SENT', 'connect: snd SYN', 'CLOSED');
    }
    if (S.synKind === 'SYN' && s.seq === S.iss) S.synTimes.push(t);
  } else if (syn && ack) {
    if (S.state === null || S.state === 'LISTEN') {
      S.iss = s.seq;
      S.ranges = [];
      c.state(S, t, 'SYN_RECEIVED', 'rcv SYN: snd SYN,ACK', 'LISTEN');
      S.synKind = 'SYN-ACK';
      S.synTimes = [];
    } else if (S.state === 'SYN_SENT') {
      c.state(S, t, 'SYN_RECEIVED', 'rcv SYN: snd SYN,ACK (simultaneous open)');
    }
    if (S.synKind === 'SYN-ACK' && s.seq === S.iss) S.synTimes.push(t);
  } else if (S.state === null) {
    // The capture starts mid-connection.
    S.iss = seqAdd(s.seq, -1);
    S.ranges = [[0, 1]];
    S.state = 'ESTABLISHED';
    if (R.state === null) {
      R.state = 'ESTABLISHED';
      if (ack) {
        R.iss = seqAdd(s.ack, -1);
        R.ranges = [[0, 1]];
      }
      c.note(t, 'the capture starts in the middle of this connection: both ends assumed ESTABLISHED');
    }
  }

  // --- sequence space: retransmissions, gaps, lost and reordered segments ---
  const spaceLen = s.len + (syn ? 1 : 0) + (fin ? 1 : 0);
  let retransmit = false;
  if (spaceLen > 0 && S.iss !== undefined) {
    const start = (s.seq - S.iss) >>> 0;
    const end = start + spaceLen;
    const highest = S.ranges.length > 0 ? S.ranges[S.ranges.length - 1]![1] : 0;
    // The first SYN-ACK of a simultaneous open repeats the SYN's sequence number: not a retransmission.
    const simOpenSynAck = syn && ack && S.synKind === 'SYN' && !S.simSynAck;
    if (simOpenSynAck) S.simSynAck = true;
    const fresh = simOpenSynAck ? spaceLen : addRange(S.ranges, start, end);
    if (fresh === 0 && !simOpenSynAck) retransmit = true;
    if (start > highest && S.ranges.length > 1) {
      S.holes.push({ start: highest, end: start, t });
      c.note(t, `${S.name}: ${start - highest} bytes of sequence space before this segment were not captured (${highest}..${start}, relative): lost before the capture point, or out of order`);
    } else if (fresh > 0 && start < highest) {
      for (const h of S.holes) {
        if (end <= h.start || start >= h.end) continue;
        if (t - h.t <= REORDER_WINDOW) {
          S.stats.outOfOrder++;
          c.note(t, `${S.name}: out-of-order segment (${start}..${end}, relative) fills the gap ${fmt(t - h.t)} later`);
        } else {
          S.stats.lost++;
          retransmit = true;
          c.note(t, `${S.name}: bytes ${start}..${end} (relative) were lost before the capture point and are retransmitted ${fmt(t - h.t)} after the gap appeared`);
        }
      }
      S.holes = S.holes.filter((h) => !S.ranges.some(([a, b]) => a <= h.start && b >= h.end));
    } else if (fresh > 0 && fresh < spaceLen) retransmit = true;
    // Sequence space the peer had acknowledged, sent again: that ACK did not reach this end.
    if (R.maxAck !== undefined && seqGt(R.maxAck, s.seq) && S.tentative !== undefined) {
      const tent = S.tentative;
      const i = c.events.indexOf(tent.event);
      if (i >= 0) c.events.splice(i, 1);
      S.state = tent.from;
      S.tentative = undefined;
      c.note(t, `${S.name} retransmits what ${R.name} acknowledged at ${tent.ackT.toFixed(6)} s: that ACK was lost, ${S.name} stays in ${tent.from}`);
    }
    if (retransmit) S.stats.retransmissions++;
  }
  if (retransmit) ev.retransmit = true;

  // FIN sent
  const finSeq = fin ? seqAdd(s.seq, s.len + (syn ? 1 : 0)) : undefined;
  if (finSeq !== undefined && (S.finSeq === undefined || S.finSeq !== finSeq)) {
    S.finSeq = finSeq;
    if (S.state === 'ESTABLISHED' || S.state === 'SYN_RECEIVED') c.state(S, t, 'FIN_WAIT_1', 'close/shutdown: snd FIN');
    else if (S.state === 'CLOSE_WAIT') c.state(S, t, 'LAST_ACK', 'close/shutdown: snd FIN');
  }

  c.events.push(ev);
  if (!syn && s.window === 0 && !S.zeroWindow) {
    S.zeroWindow = true;
    S.stats.zeroWindows++;
    c.note(t, `${S.name} advertises a zero window: its receive buffer is full, ${R.name} must stop sending and probe`);
  } else if (S.zeroWindow && s.window > 0 && !syn) {
    S.zeroWindow = false;
    c.note(t, `${S.name} opens its window again (win ${s.window})`);
  }
  if (ack && (S.maxAck === undefined || seqGt(s.ack, S.maxAck))) S.maxAck = s.ack;

  // --- the receiver's transitions (after the segment) ---
  const acksSyn = ack && R.iss !== undefined && seqGe(s.ack, seqAdd(R.iss, 1));
  const acksFin = ack && R.finSeq !== undefined && seqGe(s.ack, seqAdd(R.finSeq, 1));
  if (syn && !ack) {
    R.pendingSyn = t;
    return;
  }
  if (syn && ack) {
    if (R.state === 'SYN_SENT' && acksSyn) c.state(R, t, 'ESTABLISHED', 'rcv SYN,ACK: snd ACK');
    else if (R.state === 'SYN_RECEIVED' && acksSyn) c.state(R, t, 'ESTABLISHED', 'rcv SYN,ACK (simultaneous open)');
    return;
  }
  if (R.state === 'SYN_RECEIVED' && acksSyn) tentative(c, R, t, 'ESTABLISHED', 'rcv ACK of SYN');
  if (fin && finSeq !== undefined) {
    if (R.rcvFinSeq === finSeq) {
      if (R.state === 'TIME_WAIT') c.note(t, `${R.name} in TIME_WAIT receives the retransmitted FIN: it ACKs again and restarts the 2MSL timer`);
    } else {
      // A FIN,ACK (with or without data) that also acknowledges R's FIN: R goes FIN_WAIT_1 ->
      // TIME_WAIT in one step when the FIN lands (RFC 9293 §3.10.7.4 eighth: "If our FIN has been
      // ACKed (perhaps in this segment)"), as synack reports it.
      const combined = acksFin && R.state === 'FIN_WAIT_1';
      R.pendingFin = { t, seq: finSeq, acksOwnFin: combined };
      if (combined) return;
    }
  }
  if (acksFin) {
    if (R.state === 'FIN_WAIT_1') tentative(c, R, t, 'FIN_WAIT_2', 'rcv ACK of FIN');
    else if (R.state === 'CLOSING') tentative(c, R, t, 'TIME_WAIT', 'rcv ACK of FIN');
    else if (R.state === 'LAST_ACK') tentative(c, R, t, 'CLOSED', 'rcv ACK of FIN');
  }
}

/** An ACK-caused transition: remembered so it can be taken back if the ACK turns out lost. */
function tentative(c: Conn, e: End, t: number, to: TcpStateName, cause: string): void {
  const from = e.state!;
  const ev = c.state(e, t, to, cause);
  e.tentative = { from, event: ev, ackT: t };
}

function finish(c: Conn, name: string, t0: number): TcpConnection {
  // Whatever was sent last is assumed to have arrived.
  applyPending(c, c.a, Infinity);
  applyPending(c, c.b, Infinity);
  const notes: DemoEvent[] = [];
  for (const e of [c.a, c.b]) {
    const times = e.synTimes;
    if (times.length > 1) {
      const gaps = times.slice(1).map((x, i) => fmt(x - times[i]!));
      const last = times[times.length - 1]!;
      notes.push({ t: last, type: 'note', text: `${e.name} ${e.synKind} retransmitted after ${gaps.join(', ')}` + (times.length > 2 ? ' (each wait measured from the previous transmission)' : '') });
    }
  }
  const endT = c.lastT;
  for (const e of [c.a, c.b]) {
    if (e.state === 'TIME_WAIT') notes.push({ t: endT, type: 'note', text: `${e.name} ends in TIME_WAIT (it closed first, or at the same time as its peer)` });
    else if (e.state === 'SYN_SENT') notes.push({ t: endT, type: 'note', text: `${e.name} is still in SYN_SENT when the capture ends: its SYNs were never answered` });
  }
  const events = [...c.events, ...notes].map((e, i) => ({ e, i }))
    .sort((x, y) => x.e.t - y.e.t || x.i - y.i)
    .map((x) => x.e);
  const hosts: Record<string, string> = {};
  const addrOf = (endpoint: string): string => (endpoint.startsWith('[') ? endpoint.slice(1, endpoint.indexOf(']')) : endpoint.slice(0, endpoint.lastIndexOf(':')));
  hosts[c.a.name] = addrOf(c.a.ep);
  hosts[c.b.name] = addrOf(c.b.ep);
  const summary: Record<string, unknown> = { captureStart: new Date(t0 / 1000).toISOString(), seconds: Math.round((c.lastT - c.firstT) * 1e6) / 1e6 };
  for (const e of [c.a, c.b]) {
    const peer = c.other(e);
    summary[e.name] = {
      connections: [`${e.ep} ${peer.ep} ${e.state ?? 'unknown (sent nothing that shows a state)'}`],
      counters: Object.fromEntries(Object.entries(e.stats).filter(([k, v]) => v !== 0 || k === 'segments')),
    };
  }
  return {
    index: c.index,
    client: c.a.ep,
    server: c.b.ep,
    result: { scenario: name, hosts, events, summary },
    finalStates: { [c.a.name]: c.a.state, [c.b.name]: c.b.state },
    timeWait: [c.a, c.b].filter((e) => e.state === 'TIME_WAIT').map((e) => e.name),
  };
}

/**
 * The state sequence of one host in a DemoResult: the first `from`, then every `to`, for the
 * connection between `local` and `remote` when given (listener rows are skipped). Tests and
 * `synack read` summaries use it: ["CLOSED", "SYN_SENT", "ESTABLISHED", ...].
 */
export function stateSequence(res: DemoResult, host: string, filter: { local?: string; remote?: string } = {}): TcpStateName[] {
  const out: TcpStateName[] = [];
  for (const e of res.events) {
    if (e.type !== 'state' || e.host !== host) continue;
    if (e.to === 'LISTEN' || (e.from === 'LISTEN' && e.to === 'CLOSED')) continue;
    if (filter.local !== undefined && e.local !== filter.local) continue;
    if (filter.remote !== undefined && e.remote !== filter.remote) continue;
    if (out.length === 0) out.push(e.from);
    out.push(e.to);
  }
  return out;
}
