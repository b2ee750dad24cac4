/**
 * ICMP (RFC 792, RFC 1122 §3.2.2) and ICMPv6 (RFC 4443) for one host: echo (answering, and the
 * ping API's requests and replies), errors in (handed to the protocol of the quoted datagram,
 * Fragmentation Needed / Packet Too Big lowering the path MTU first), and errors out with
 * RFC 1122 §3.2.2 / RFC 4443 §2.4 (e) restraint and Linux's rate limits.
 */
import { NEVER, type Instant } from '../time.js';
import { copyBytes } from '../util/bytes.js';
import {
  fillIcmpChecksum, Icmp4Type, Icmp6Type, ICMP_HEADER_LEN, icmpChecksumOk, IcmpField, isIcmpError, u16, u32,
} from '../wire/icmp.js';
import { formatAddr } from '../wire/addr.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, NH_DSTOPTS, NH_FRAGMENT, NH_HOPOPTS, NH_ROUTING, type IpRepr } from '../wire/ip.js';
import type { Interface } from './iface.js';
import { convert4, convert6 } from './icmp-errors.js';
import type { IpHandler, IpLayer, Mib } from './layer.js';
import { isMulticast, isReserved4, isThisNetwork4, isUnspecified } from './martians.js';
import { IcmpRateLimiter, rateLimited } from './ratelimit.js';

/** RFC 1812 §4.3.2.3 / LINUX icmp_send: an ICMPv4 error is at most 576 bytes. */
const ICMP4_ERROR_MAX = 576;
/** RFC 4443 §2.4 (c): an ICMPv6 error must not exceed the minimum IPv6 MTU, 1280. */
const ICMP6_ERROR_MAX = 1280;
/** Outstanding pings remembered at most (each is one `ping()` call awaiting its reply). */
const MAX_PINGS = 4096;

export interface PingResult {
  /** Round-trip time, µs. */
  rtt: number;
  /** The reply's TTL / hop limit. */
  ttl: number;
  /** ICMP bytes in the reply (header + data), as ping(8) prints them. */
  bytes: number;
  from: string;
  id: number;
  seq: number;
}

interface PendingPing {
  sentAt: Instant;
  deadline: Instant;
  cb: (err: Error | null, r?: PingResult) => void;
}

export class IcmpEngine implements IpHandler {
  private readonly limiter = new IcmpRateLimiter();
  private readonly pings = new Map<string, PendingPing>();

  constructor(
    private readonly ip: IpLayer,
    private readonly mib: Mib,
    private readonly now: () => Instant,
  ) {}

  // ------------------------------------------------------------------ input

  input(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const v6 = ip.version === 6;
    const G = v6 ? 'Icmp6' : 'Icmp';
    bump(this.mib, `${G}InMsgs`);
    const o = ip.headerLength;
    const len = ip.payloadLength;
    if (len < ICMP_HEADER_LEN) {
      bump(this.mib, `${G}InErrors`);
      return this.ip.drop('bad-icmp-length');
    }
    if (iface.link?.checksumOffload !== true && !icmpChecksumOk(frame, ip)) {
      bump(this.mib, `${G}InCsumErrors`);
      bump(this.mib, `${G}InErrors`);
      return this.ip.drop('bad-icmp-checksum');
    }
    const type = frame[o]!;
    // IcmpMsg group (LINUX ICMPMSG_MIB: InType8, ...); snmp6 names them Icmp6InType128.
    bump(this.mib, v6 ? `Icmp6InType${type}` : `IcmpMsgInType${type}`);
    if (isIcmpError(ip.version, type)) return this.errorIn(ip, frame, type, frame[o + 1]!);
    if (type === (v6 ? Icmp6Type.ECHO_REQUEST : Icmp4Type.ECHO_REQUEST)) return this.echoIn(ip, frame, iface);
    if (type === (v6 ? Icmp6Type.ECHO_REPLY : Icmp4Type.ECHO_REPLY)) return this.echoReplyIn(ip, frame);
    if (v6 && type >= Icmp6Type.ROUTER_SOLICIT && type <= Icmp6Type.REDIRECT) {
      // NDP is consumed by the neighbour layer of Ethernet links, below IP; here it is only counted.
      const names = ['RouterSolicits', 'RouterAdvertisements', 'NeighborSolicits', 'NeighborAdvertisements', 'Redirects'];
      bump(this.mib, `Icmp6In${names[type - Icmp6Type.ROUTER_SOLICIT]!}`);
      return;
    }
    // Other informational messages (timestamp, router discovery …) are not answered.
  }

  /** RFC 792 echo / RFC 4443 §4.2: reply to the sender with the same identifier, sequence and data. */
  private echoIn(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const v6 = ip.version === 6;
    bump(this.mib, v6 ? 'Icmp6InEchos' : 'IcmpInEchos');
    // LINUX icmp_echo_ignore_broadcasts = 1: echo to a broadcast or multicast address is ignored
    // (RFC 1122 §3.2.2.6 allows either); IPv6 answers multicast echo from a unicast address.
    if (!v6 && !this.ip.isLocal(ip.dst)) return;
    const src = this.ip.isLocal(ip.dst) ? ip.dst : (this.ip.path(ip.src)?.src ?? null);
    if (src === null) return;
    void iface;
    const o = ip.headerLength;
    const len = ip.payloadLength;
    const body = frame.subarray(o, o + len);
    const type = v6 ? Icmp6Type.ECHO_REPLY : Icmp4Type.ECHO_REPLY;
    this.send(src, ip.src, len, (buf, off) => {
      copyBytes(buf, off, body, 0, len);
      buf[off] = type;
      buf[off + 1] = 0;
    });
    bump(this.mib, v6 ? 'Icmp6OutEchoReplies' : 'IcmpOutEchoReps');
    bump(this.mib, v6 ? `Icmp6OutType${type}` : `IcmpMsgOutType${type}`);
  }

  private echoReplyIn(ip: IpRepr, frame: Uint8Array): void {
    bump(this.mib, ip.version === 6 ? 'Icmp6InEchoReplies' : 'IcmpInEchoReps');
    const o = ip.headerLength;
    const id = u16(frame, o + IcmpField.ID);
    const seq = u16(frame, o + IcmpField.SEQ);
    const key = `${ip.src} ${id} ${seq}`;
    const p = this.pings.get(key);
    if (p === undefined) return;
    this.pings.delete(key);
    p.cb(null, { rtt: this.now() - p.sentAt, ttl: ip.ttl, bytes: ip.payloadLength, from: ip.src, id, seq });
  }

  /**
   * An error about a datagram we sent: find the quoted header (RFC 792: IP header + 64 bits;
   * RFC 4443 §2.4 (c): as much as fits), lower the path MTU for Fragmentation Needed / Packet
   * Too Big, and hand it to the quoted protocol's handler (RFC 1122 §3.2.2.1).
   */
  private errorIn(ip: IpRepr, frame: Uint8Array, type: number, code: number): void {
    const v6 = ip.version === 6;
    const o = ip.headerLength;
    const end = o + ip.payloadLength;
    const names4: Record<number, string> = { 3: 'InDestUnreachs', 11: 'InTimeExcds', 12: 'InParmProbs' };
    const names6: Record<number, string> = { 1: 'InDestUnreachs', 2: 'InPktTooBigs', 3: 'InTimeExcds', 4: 'InParmProblems' };
    const n = (v6 ? names6 : names4)[type];
    if (n !== undefined) bump(this.mib, (v6 ? 'Icmp6' : 'Icmp') + n);
    const q = quoted(frame, o + ICMP_HEADER_LEN, end, v6);
    // The quoted datagram must be one of ours (its source one of our addresses) and carry the
    // first 8 bytes of its transport header (RFC 5927 §4.1 checks start here).
    if (q === null || !this.ip.isLocal(q.src)) {
      bump(this.mib, v6 ? 'Icmp6InErrors' : 'IcmpInErrors');
      return this.ip.drop('bad-icmp-quote');
    }
    const conv = v6 ? convert6(type, code) : convert4(type, code);
    if (conv === null) return; // source quench, redirect, unknown codes: ignored, as Linux does
    let mtu = 0;
    const tooBig = v6 ? type === Icmp6Type.PACKET_TOO_BIG : type === Icmp4Type.DEST_UNREACH && code === 4;
    if (tooBig) {
      mtu = v6 ? u32(frame, o + IcmpField.MTU6) : u16(frame, o + IcmpField.NEXT_HOP_MTU);
      // RFC 1191 §5: a router that predates it sends 0. Linux once guessed a plateau from the
      // quoted length (ip_rt_frag_needed, removed in 3.x); we take the floor (min_pmtu, 552).
      const p = this.ip.path(q.dst);
      const linkMtu = p?.route.iface.mtu ?? 1500;
      const lowered = this.ip.pmtu.lower(q.dst, mtu, linkMtu, v6 ? 6 : 4, this.now());
      mtu = lowered ?? this.ip.path(q.dst)?.mtu ?? linkMtu;
    }
    const h = this.ip.handler(q.protocol);
    h?.error?.({
      version: ip.version, type, code, errno: conv.errno, fatal: conv.fatal, mtu,
      src: q.src, dst: q.dst, payload: frame.subarray(q.payloadStart, end), from: ip.src,
    });
  }

  // ------------------------------------------------------------------ output

  /**
   * Send an ICMP error about `frame` (its header parsed into `ip`) back to its source, unless
   * RFC 1122 §3.2.2 / RFC 4443 §2.4 (e) forbid it or a rate limit refuses. `info` is the 32-bit
   * rest-of-header (next-hop MTU, MTU, pointer). Returns true when sent.
   */
  sendError(ip: IpRepr, frame: Uint8Array, type: number, code: number, info = 0): boolean {
    const v6 = ip.version === 6;
    const G = v6 ? 'Icmp6' : 'Icmp';
    if (!this.errorAllowed(ip, frame, type, code)) return false;
    const p = this.ip.path(ip.src);
    if (p === null) return false;
    const src = this.ip.isLocal(ip.dst) && !isMulticast(ip.dst) ? ip.dst : p.src;
    if (rateLimited(ip.version, type) && p.route.iface !== this.ip.lo) {
      const verdict = this.limiter.allow(ip.src, this.now());
      if (verdict !== 'ok') {
        bump(this.mib, verdict === 'global' ? `${G}OutRateLimitGlobal` : `${G}OutRateLimitHost`);
        return false;
      }
    }
    const max = (v6 ? ICMP6_ERROR_MAX - 40 : ICMP4_ERROR_MAX - 20) - ICMP_HEADER_LEN;
    const qlen = Math.min(ip.headerLength + ip.payloadLength, frame.length, max);
    this.send(src, ip.src, ICMP_HEADER_LEN + qlen, (buf, off) => {
      buf[off] = type;
      buf[off + 1] = code;
      buf[off + 4] = info >>> 24;
      buf[off + 5] = (info >>> 16) & 0xff;
      buf[off + 6] = (info >>> 8) & 0xff;
      buf[off + 7] = info & 0xff;
      copyBytes(buf, off + ICMP_HEADER_LEN, frame, 0, qlen);
    });
    bump(this.mib, `${G}OutErrors`);
    bump(this.mib, v6 ? `Icmp6OutType${type}` : `IcmpMsgOutType${type}`);
    const names4: Record<number, string> = { 3: 'OutDestUnreachs', 11: 'OutTimeExcds', 12: 'OutParmProbs' };
    const names6: Record<number, string> = { 1: 'OutDestUnreachs', 2: 'OutPktTooBigs', 3: 'OutTimeExcds', 4: 'OutParmProblems' };
    const n = (v6 ? names6 : names4)[type];
    if (n !== undefined) bump(this.mib, G + n);
    return true;
  }

  /** RFC 1122 §3.2.2 and RFC 4443 §2.4 (e): when an error must NOT be sent. */
  private errorAllowed(ip: IpRepr, frame: Uint8Array, type: number, code: number): boolean {
    const v6 = ip.version === 6;
    // Not about an ICMP error message (an informational one, e.g. an echo, may get one).
    if (ip.protocol === (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) && ip.fragOffset === 0) {
      const t = ip.payloadLength > 0 ? frame[ip.headerLength] : undefined;
      if (t === undefined || isIcmpError(ip.version, t)) return false;
    }
    // Not about a fragment other than the first.
    if (ip.fragOffset > 0) return false;
    // Not about a datagram to a broadcast or multicast address (RFC 4443 (e.3): except Packet Too
    // Big and Parameter Problem code 2, which exist for multicast).
    const toGroup = isMulticast(ip.dst) || this.ip.isBroadcast(ip.dst);
    if (toGroup && !(v6 && (type === Icmp6Type.PACKET_TOO_BIG || (type === Icmp6Type.PARAMETER_PROBLEM && code === 2)))) return false;
    // Not about a datagram whose source does not name a single host.
    if (isUnspecified(ip.src) || isMulticast(ip.src) || this.ip.isBroadcast(ip.src)) return false;
    if (!v6 && (isThisNetwork4(ip.src) || isReserved4(ip.src))) return false;
    return true;
  }

  /** Write one ICMP message of `len` bytes (`fill` writes all but the checksum) and send it. */
  private send(src: string, dst: string, len: number, fill: (buf: Uint8Array, off: number) => void): void {
    const v6 = src.includes(':');
    bump(this.mib, v6 ? 'Icmp6OutMsgs' : 'IcmpOutMsgs');
    this.ip.output(src, dst, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, len, (buf, off, s, d) => {
      fill(buf, off);
      fillIcmpChecksum(buf, off, len, s, d);
    }, { df: false });
  }

  // ------------------------------------------------------------------ ping

  /**
   * Send an echo request to `dst` (canonical text) and call `cb` with the reply or an error
   * (ETIMEDOUT after `timeout` µs, ENETUNREACH, EMSGSIZE …).
   */
  ping(dst: string, opts: { size: number; id: number; seq: number; timeout: number; ttl?: number }, cb: (err: Error | null, r?: PingResult) => void): void {
    const p = this.ip.path(dst);
    if (p === null) return cb(errnoError('ENETUNREACH', `ping ${dst}: network unreachable`));
    const v6 = p.src.includes(':');
    const key = `${dst} ${opts.id} ${opts.seq}`;
    if (this.pings.has(key)) return cb(errnoError('EEXIST', `ping ${dst}: id ${opts.id} seq ${opts.seq} is already outstanding`));
    if (this.pings.size >= MAX_PINGS) return cb(errnoError('ENOBUFS', `ping: ${MAX_PINGS} pings outstanding`));
    const now = this.now();
    const type = v6 ? Icmp6Type.ECHO_REQUEST : Icmp4Type.ECHO_REQUEST;
    const len = ICMP_HEADER_LEN + opts.size;
    this.pings.set(key, { sentAt: now, deadline: now + opts.timeout, cb });
    bump(this.mib, v6 ? 'Icmp6OutMsgs' : 'IcmpOutMsgs');
    bump(this.mib, v6 ? 'Icmp6OutEchos' : 'IcmpOutEchos');
    bump(this.mib, v6 ? `Icmp6OutType${type}` : `IcmpMsgOutType${type}`);
    const err = this.ip.output(p.src, dst, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, len, (buf, off, s, d) => {
      buf[off] = type;
      buf[off + 1] = 0;
      buf[off + 4] = opts.id >> 8;
      buf[off + 5] = opts.id & 0xff;
      buf[off + 6] = opts.seq >> 8;
      buf[off + 7] = opts.seq & 0xff;
      // ping(8)'s pattern: byte i of the data is i (mod 256).
      for (let i = 0; i < opts.size; i++) buf[off + 8 + i] = i & 0xff;
      fillIcmpChecksum(buf, off, len, s, d);
    }, { df: false, ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}) });
    if (err !== null) {
      this.pings.delete(key);
      cb(errnoError(err, `ping ${dst}: ${err}`));
    }
  }

  nextDeadline(): Instant {
    let d = NEVER;
    if (this.pings.size === 0) return d; // (no iterator made: the stack asks often)
    for (const p of this.pings.values()) if (p.deadline < d) d = p.deadline;
    return d;
  }

  onTimer(now: Instant): void {
    if (this.pings.size === 0) return;
    for (const [k, p] of this.pings) {
      if (p.deadline <= now) {
        this.pings.delete(k);
        p.cb(errnoError('ETIMEDOUT', `ping: no reply to ${k.split(' ')[0]} seq ${k.split(' ')[2]}`));
      }
    }
  }
}

/** The quoted datagram's addresses, protocol and where its transport header starts, or null. */
function quoted(f: Uint8Array, start: number, end: number, v6: boolean): { src: string; dst: string; protocol: number; payloadStart: number } | null {
  if (!v6) {
    if (start + 20 > end || f[start]! >> 4 !== 4) return null;
    const hl = (f[start]! & 15) * 4;
    if (hl < 20 || start + hl + 8 > end) return null;
    return { src: formatAddr(f, start + 12, 4), dst: formatAddr(f, start + 16, 4), protocol: f[start + 9]!, payloadStart: start + hl };
  }
  if (start + 40 > end || f[start]! >> 4 !== 6) return null;
  let nh = f[start + 6]!;
  let off = start + 40;
  // RFC 8200 §4: skip quoted extension headers to find the transport protocol.
  for (let i = 0; i < 8 && (nh === NH_HOPOPTS || nh === NH_ROUTING || nh === NH_DSTOPTS || nh === NH_FRAGMENT); i++) {
    if (off + 8 > end) return null;
    const next = f[off]!;
    off += nh === NH_FRAGMENT ? 8 : (f[off + 1]! + 1) * 8;
    nh = next;
  }
  if (off + 8 > end) return null;
  return { src: formatAddr(f, start + 8, 16), dst: formatAddr(f, start + 24, 16), protocol: nh, payloadStart: off };
}

/** Bump a counter named at run time (the group and type come from the message). */
function bump(mib: Mib, name: string): void {
  const m = mib as unknown as Record<string, number>;
  m[name] = (m[name] ?? 0) + 1;
}

export function errnoError(code: string, message: string): Error & { code: string } {
  const e = new Error(`${code}: ${message}`) as Error & { code: string };
  e.code = code;
  return e;
}
