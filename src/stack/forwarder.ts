/**
 * TCP forwarding (gVisor's tcp.NewForwarder, smoltcp's any_ip): a SYN that no connection or
 * listener claims — typically one to a foreign address arriving on an any-IP interface — becomes
 * a `TcpForwardRequest` for the stack's forward handler, which decides later (after its own
 * connect to the real destination): accept (the SYN-ACK leaves only now), refuse (a RST), or
 * unreachable (an ICMP destination unreachable quoting the SYN, as slirp answers a failed
 * connect). Requests waiting for a decision are bounded (gVisor's maxInFlight); a retransmitted
 * SYN of a pending request is absorbed, not handed out again.
 */
import type { TcpConfig } from '../tcp/config.js';
import { Icmp4Type, Icmp6Type, Unreach4, Unreach6 } from '../wire/icmp.js';
import type { IpRepr } from '../wire/ip.js';
import { ACK, RST, newTcpRepr, type TcpRepr } from '../wire/tcp-repr.js';
import { passiveChild } from './passive-open.js';
import { TcpSocket } from './socket.js';
import type { Stack } from './stack.js';

/** Why a forwarded connection could not be made: the ICMP destination-unreachable code sent. */
export type UnreachableKind = 'net' | 'host' | 'port' | 'admin';

/** What the forwarder counted (shown by `synack netstat` on a usernet instance). */
export interface TcpForwardCounters {
  /** SYNs handed to the handler as new requests. */
  requests: number;
  /** Retransmitted SYNs of a request still pending (absorbed). */
  duplicateSyns: number;
  /** SYNs dropped because maxInFlight requests were pending. */
  inFlightDrops: number;
  accepted: number;
  refused: number;
  unreachable: number;
}

export function newTcpForwardCounters(): TcpForwardCounters {
  return { requests: 0, duplicateSyns: 0, inFlightDrops: 0, accepted: 0, refused: 0, unreachable: 0 };
}

/** Decides what to do with a SYN nobody listens for; call exactly one of the request's verbs, now or later. */
export type TcpForwardHandler = (req: TcpForwardRequest) => void;

// RFC 1812 §5.2.7.1: code 13, communication administratively prohibited (a refused destination).
const UNREACH4: Record<UnreachableKind, number> = { net: Unreach4.NET, host: Unreach4.HOST, port: Unreach4.PORT, admin: 13 };
const UNREACH6: Record<UnreachableKind, number> = { net: Unreach6.NO_ROUTE, host: Unreach6.ADDRESS, port: Unreach6.PORT, admin: Unreach6.ADMIN };

/** One guest SYN waiting for the handler's decision. */
export class TcpForwardRequest {
  /** The SYN's destination: the address and port the guest wants to reach. */
  readonly localAddress: string;
  readonly localPort: number;
  /** The guest's end. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** When the first SYN arrived (the stack's clock, µs). */
  readonly created: number;
  private settledAs: 'pending' | 'accepted' | 'refused' | 'unreachable' = 'pending';
  /** @internal */
  readonly key: string;

  /** @internal */
  constructor(
    private readonly forwarder: TcpForwarder,
    private readonly syn: TcpRepr,
    /** The SYN's IP header and its first bytes, to quote in an ICMP error. */
    private readonly ip: IpRepr,
    private readonly quote: Uint8Array,
    now: number,
  ) {
    this.localAddress = ip.dst;
    this.localPort = syn.dstPort;
    this.remoteAddress = ip.src;
    this.remotePort = syn.srcPort;
    this.created = now;
    this.key = requestKey(ip.dst, syn.dstPort, ip.src, syn.srcPort);
  }

  get state(): 'pending' | 'accepted' | 'refused' | 'unreachable' {
    return this.settledAs;
  }

  /**
   * Complete the handshake: a connection in SYN_RECEIVED from the saved SYN, its SYN-ACK sent
   * now. Returns the guest-side socket (it becomes ESTABLISHED when the guest ACKs).
   */
  accept(tcp?: Partial<TcpConfig>): TcpSocket {
    this.settle('accepted');
    return this.forwarder.accept(this, this.syn, tcp);
  }

  /** The destination refused: answer the SYN with a RST (RFC 9293 §3.10.7.1, as for a closed port). */
  refuse(): void {
    this.settle('refused');
    this.forwarder.refuse(this.ip, this.syn);
  }

  /** The destination cannot be reached: ICMP destination unreachable quoting the SYN (RFC 792, RFC 4443 §3.1). */
  unreachable(kind: UnreachableKind = 'host'): void {
    this.settle('unreachable');
    this.forwarder.unreachable(this.ip, this.quote, kind);
  }

  private settle(as: 'accepted' | 'refused' | 'unreachable'): void {
    if (this.settledAs !== 'pending') throw new Error(`forward request ${this.key} was already ${this.settledAs}`);
    this.settledAs = as;
    this.forwarder.forget(this);
  }
}

function requestKey(dst: string, dport: number, src: string, sport: number): string {
  return `${dst} ${dport} ${src} ${sport}`;
}

/** The stack's side of forwarding: the pending requests and the handler. */
export class TcpForwarder {
  readonly counters = newTcpForwardCounters();
  private readonly pending = new Map<string, TcpForwardRequest>();

  constructor(
    private readonly st: Stack,
    readonly handler: TcpForwardHandler,
    /** Bound on requests awaiting a decision (gVisor's maxInFlight). */
    readonly maxInFlight: number,
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${String(maxInFlight)}`);
  }

  /** Requests awaiting a decision. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** A SYN (no ACK, RST or FIN) for no connection and no listener. */
  onSyn(ip: IpRepr, frame: Uint8Array, seg: TcpRepr): void {
    const key = requestKey(ip.dst, seg.dstPort, ip.src, seg.srcPort);
    if (this.pending.has(key)) {
      this.counters.duplicateSyns++;
      return;
    }
    if (this.pending.size >= this.maxInFlight) {
      // gVisor: a full in-flight table drops the SYN; the guest retransmits it later.
      this.counters.inFlightDrops++;
      return;
    }
    const syn = copySyn(seg);
    // ICMP quotes the IP header and at least 8 bytes of the datagram (RFC 792); the SYN is small.
    const quote = frame.slice(0, Math.min(frame.length, ip.headerLength + ip.payloadLength, 576));
    const req = new TcpForwardRequest(this, syn, { ...ip }, quote, this.st.now());
    this.pending.set(key, req);
    this.counters.requests++;
    this.handler(req);
  }

  /** @internal */
  forget(req: TcpForwardRequest): void {
    this.pending.delete(req.key);
  }

  /** @internal */
  accept(req: TcpForwardRequest, syn: TcpRepr, tcp: Partial<TcpConfig> | undefined): TcpSocket {
    const st = this.st;
    const existing = st.conns.find(req.localAddress, req.localPort, req.remoteAddress, req.remotePort);
    if (existing !== undefined) throw new Error(`forward request ${req.key}: the 4-tuple already has a connection (${existing.state})`);
    this.counters.accepted++;
    const c = passiveChild(st, req.localAddress, req.localPort, req.remoteAddress, syn, st.now(), tcp);
    c.setState('SYN_RECEIVED', 'forwarded SYN accepted: snd SYN,ACK');
    const sock = new TcpSocket(st, c);
    st.register(c);
    st.service(c);
    return sock;
  }

  /** @internal */
  refuse(ip: IpRepr, syn: TcpRepr): void {
    this.counters.refused++;
    this.st.resetFor(ip.dst, ip.src, syn);
  }

  /** @internal */
  unreachable(ip: IpRepr, quote: Uint8Array, kind: UnreachableKind): void {
    this.counters.unreachable++;
    const v6 = ip.version === 6;
    this.st.ip.icmp.sendError(ip, quote, v6 ? Icmp6Type.DEST_UNREACH : Icmp4Type.DEST_UNREACH, (v6 ? UNREACH6 : UNREACH4)[kind]);
  }
}

/** A private copy of a SYN's fields (the receive TcpRepr is reused for the next segment). */
function copySyn(seg: TcpRepr): TcpRepr {
  const s = newTcpRepr();
  s.srcPort = seg.srcPort;
  s.dstPort = seg.dstPort;
  s.seq = seg.seq;
  s.ack = seg.ack;
  s.flags = seg.flags & ~(ACK | RST);
  s.window = seg.window;
  s.mss = seg.mss;
  s.wscale = seg.wscale;
  s.sackPermitted = seg.sackPermitted;
  s.hasTimestamp = seg.hasTimestamp;
  s.tsVal = seg.tsVal;
  s.tsEcr = seg.tsEcr;
  // Data on a SYN (TFO) is not kept: the guest sends it again after the handshake.
  return s;
}
