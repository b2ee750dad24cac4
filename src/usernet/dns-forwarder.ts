/**
 * The DNS forwarder of user-mode networking (slirp's 10.0.2.3): answers the guest's queries,
 * arriving over UDP or over TCP with the 2-octet length prefix of RFC 1035 §4.2.2 / RFC 7766,
 * either
 *  - from the host's resolver (`node:dns` Resolver: c-ares with the host's resolv.conf), mapping
 *    A/AAAA/CNAME/PTR/MX/TXT/SRV/NS results to answers and its errors to NXDOMAIN/SERVFAIL/…, or
 *  - by forwarding the query unchanged to an upstream server (`--dns HOST[:PORT]`) over UDP (or
 *    TCP for queries that came over TCP), with a fresh random ID per query (mapped back on the
 *    way out), a timeout with retries, and a bound on queries outstanding.
 *
 * The guest side takes any `node:dgram`-like socket (`serveUdp`) and any duplex byte stream
 * (`serveTcp`): Node's own sockets in tests, synack's dgram and net sockets in the usernet stack.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import type { Duplex } from 'node:stream';
import {
  DNS_CLASS_IN,
  DNS_HEADER_LEN,
  DnsFlag,
  DnsRcode,
  DnsType,
  dnsOpcode,
  dnsUdpPayloadLimit,
  emitDns,
  nameRecord,
  parseDns,
  type DnsMessage,
  type DnsRecord,
} from '../wire/dns.js';
import { parseAddr } from '../wire/addr.js';
import { parseHostPort } from './host-port.js';

/** The part of `dns.promises.Resolver` the forwarder uses (injectable for tests). */
export type ResolverLike = Pick<
  InstanceType<typeof dnsPromises.Resolver>,
  'resolve4' | 'resolve6' | 'resolveCname' | 'resolvePtr' | 'resolveMx' | 'resolveTxt' | 'resolveSrv' | 'resolveNs'
>;

export interface DnsForwarderOptions {
  /** Upstream server 'HOST', 'HOST:PORT' or '[V6]:PORT'; absent: answer from `resolver`. */
  upstream?: string;
  /** The host resolver used without an upstream. Default: a new `dns.promises.Resolver`. */
  resolver?: ResolverLike;
  /** Per-attempt timeout towards the upstream, ms. Default 2000 (resolv.conf's is 5 s; the guest retries too). */
  timeoutMs?: number;
  /** Attempts per query towards the upstream (LINUX/glibc resolv.conf `attempts`, default 2). */
  attempts?: number;
  /** Queries outstanding at once; more are answered SERVFAIL at once. Default 256. */
  maxOutstanding?: number;
  /** Queries in flight per guest TCP connection before it stops reading. Default 16. */
  maxPerConnection?: number;
  /** A guest TCP connection idle this long is closed (RFC 7766 §6.2.3: seconds, not minutes). Default 10000 ms. */
  idleTimeoutMs?: number;
  /** TTL for answers whose TTL the resolver does not report (all but A/AAAA). Default 60 s. */
  defaultTtl?: number;
  /** Source of query IDs (RFC 5452 §4.3: unpredictable). Default crypto.randomInt. */
  randomId?: () => number;
}

export interface DnsForwarderCounters {
  queries: number;
  answered: number;
  /** Answers by rcode name. */
  rcodes: Record<string, number>;
  /** Guest messages dropped (unparseable header, or a response sent to us). */
  dropped: number;
  truncated: number;
  upstreamTimeouts: number;
  upstreamRetries: number;
  /** Upstream replies that matched no outstanding query, or came from the wrong address or question. */
  upstreamMismatched: number;
  overloaded: number;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

interface Pending {
  origId: number;
  question: string;
  query: Uint8Array;
  attemptsLeft: number;
  timer: NodeJS.Timeout;
  resolve: (r: Uint8Array | null) => void;
}

function questionKey(m: DnsMessage): string {
  const q = m.questions[0];
  return q === undefined ? '' : `${q.name.toLowerCase()}|${q.type}|${q.class}`;
}

export class DnsForwarder {
  readonly counters: DnsForwarderCounters = {
    queries: 0,
    answered: 0,
    rcodes: {},
    dropped: 0,
    truncated: 0,
    upstreamTimeouts: 0,
    upstreamRetries: 0,
    upstreamMismatched: 0,
    overloaded: 0,
  };
  private readonly upstream: [string, number] | null;
  private readonly resolver: ResolverLike | null;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly maxOutstanding: number;
  private readonly maxPerConnection: number;
  private readonly idleTimeoutMs: number;
  private readonly defaultTtl: number;
  private readonly randomId: () => number;
  private readonly pending = new Map<number, Pending>();
  private inFlight = 0;
  private socket: dgram.Socket | null = null;
  private closed = false;

  constructor(opts: DnsForwarderOptions = {}) {
    this.upstream = opts.upstream !== undefined ? parseHostPort(opts.upstream, 53, 'DnsForwarder: upstream') : null;
    this.resolver = this.upstream === null ? (opts.resolver ?? new dnsPromises.Resolver()) : null;
    this.timeoutMs = positiveInt(opts.timeoutMs ?? 2000, 'timeoutMs');
    this.attempts = positiveInt(opts.attempts ?? 2, 'attempts');
    this.maxOutstanding = positiveInt(opts.maxOutstanding ?? 256, 'maxOutstanding');
    if (this.maxOutstanding > 32768) throw new RangeError('DnsForwarder: maxOutstanding must be at most 32768 (half the ID space)');
    this.maxPerConnection = positiveInt(opts.maxPerConnection ?? 16, 'maxPerConnection');
    this.idleTimeoutMs = positiveInt(opts.idleTimeoutMs ?? 10_000, 'idleTimeoutMs');
    this.defaultTtl = positiveInt(opts.defaultTtl ?? 60, 'defaultTtl');
    this.randomId = opts.randomId ?? (() => randomInt(0x10000));
  }

  /** Queries waiting for the upstream or the resolver. */
  get outstanding(): number {
    return this.inFlight;
  }

  /**
   * The response to one query message (a UDP payload or a TCP message without its prefix), or
   * null when the message is dropped. UDP responses respect the query's size limit (512, or its
   * EDNS payload size) and are truncated with TC set beyond it (RFC 1035 §4.2.1, RFC 6891 §7).
   */
  async answer(query: Uint8Array, transport: 'udp' | 'tcp'): Promise<Uint8Array | null> {
    if (!(query instanceof Uint8Array)) throw new TypeError('DnsForwarder.answer: query must be a Uint8Array');
    if (transport !== 'udp' && transport !== 'tcp') throw new TypeError(`DnsForwarder.answer: transport must be 'udp' or 'tcp', got ${String(transport)}`);
    // Too short for a header, or a response: nothing to answer (RFC 1035 §4.1.1).
    if (query.length < DNS_HEADER_LEN || (query[2]! & 0x80) !== 0) {
      this.counters.dropped++;
      return null;
    }
    this.counters.queries++;
    const m = parseDns(query);
    let out: Uint8Array | null;
    if (typeof m === 'string') out = this.error(headerOnly(query), DnsRcode.FORMERR);
    else if (dnsOpcode(m) !== 0) out = this.error(m, DnsRcode.NOTIMP);
    else if (m.questions.length !== 1) out = this.error(m, DnsRcode.FORMERR);
    else if (this.inFlight >= this.maxOutstanding) {
      this.counters.overloaded++;
      out = this.error(m, DnsRcode.SERVFAIL);
    } else {
      this.inFlight++;
      try {
        out = this.upstream !== null ? await this.forward(query, m, transport) : await this.resolve(m);
      } finally {
        this.inFlight--;
      }
    }
    if (out === null) return null;
    if (transport === 'udp' && typeof m !== 'string') out = this.fit(out, dnsUdpPayloadLimit(m));
    const rcode = out[3]! & 0xf;
    this.counters.answered++;
    const name = RCODE_NAMES[rcode] ?? String(rcode);
    this.counters.rcodes[name] = (this.counters.rcodes[name] ?? 0) + 1;
    return out;
  }

  /** Answer every datagram arriving on `socket` (a `node:dgram`-like socket) to its sender. */
  serveUdp(socket: Pick<dgram.Socket, 'on' | 'send'>): void {
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      void this.answer(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), 'udp').then((r) => {
        if (r !== null && !this.closed) socket.send(r, rinfo.port, rinfo.address);
      });
    });
  }

  /**
   * Answer the length-prefixed queries of one stream (RFC 7766 §8), pipelined: responses go out
   * as they complete, in any order (§6.2.1.1). Reading pauses while maxPerConnection are in flight.
   */
  serveTcp(conn: Duplex & { setTimeout?(ms: number, cb?: () => void): unknown }): void {
    const framer = new DnsStreamFramer();
    let busy = 0;
    // RFC 7766 §6.2.3: close idle connections after a few seconds (none while answers are due).
    conn.setTimeout?.(this.idleTimeoutMs, () => {
      if (busy === 0) conn.destroy();
    });
    conn.on('data', (chunk: Uint8Array) => {
      const msgs = framer.push(chunk);
      if (msgs === null) {
        conn.destroy();
        return;
      }
      for (const q of msgs) {
        busy++;
        if (busy >= this.maxPerConnection) conn.pause();
        void this.answer(q, 'tcp').then((r) => {
          busy--;
          if (conn.destroyed) return;
          if (r !== null) conn.write(frameDns(r));
          if (busy < this.maxPerConnection && conn.isPaused()) conn.resume();
        });
      }
    });
    conn.on('error', () => conn.destroy());
  }

  /** Stop: outstanding upstream queries are answered null, the upstream socket closes. */
  close(): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve(null);
    }
    this.socket?.close();
    this.socket = null;
    (this.resolver as { cancel?: () => void } | null)?.cancel?.();
  }

  private error(m: DnsMessage, rcode: number): Uint8Array {
    return emitDns({ id: m.id, flags: responseFlags(m.flags, rcode), questions: m.questions, answers: [], authority: [], additional: [] });
  }

  /** RFC 1035 §4.2.1 / RFC 2181 §9: too big for the client's UDP limit: header and question, TC set. */
  private fit(resp: Uint8Array, limit: number): Uint8Array {
    if (resp.length <= limit) return resp;
    const m = parseDns(resp);
    if (typeof m === 'string') return resp.subarray(0, DNS_HEADER_LEN);
    this.counters.truncated++;
    return emitDns({ ...m, flags: m.flags | DnsFlag.TC, answers: [], authority: [], additional: [] });
  }

  // ---- from the host's resolver ----

  private async resolve(m: DnsMessage): Promise<Uint8Array> {
    const q = m.questions[0]!;
    if (q.class !== DNS_CLASS_IN) return this.error(m, DnsRcode.NOTIMP);
    const r = this.resolver!;
    const ttl = this.defaultTtl;
    let answers: DnsRecord[];
    try {
      answers = await resolverAnswers(r, q.name, q.type, ttl);
    } catch (e) {
      return this.error(m, rcodeOfResolverError((e as NodeJS.ErrnoException).code));
    }
    return emitDns({ id: m.id, flags: responseFlags(m.flags, DnsRcode.NOERROR), questions: m.questions, answers, authority: [], additional: [] });
  }

  // ---- to an upstream server ----

  private forward(query: Uint8Array, m: DnsMessage, transport: 'udp' | 'tcp'): Promise<Uint8Array | null> {
    if (this.closed) return Promise.resolve(null);
    const id = this.freshId();
    const out = query.slice();
    out[0] = id >> 8;
    out[1] = id & 0xff;
    return (transport === 'tcp' ? this.forwardTcp(out) : this.forwardUdp(out, id, m)).then((resp) => {
      if (resp === null) {
        if (this.closed) return null;
        // Every attempt timed out or failed: the guest learns at once rather than by its own timeout.
        this.counters.upstreamTimeouts++;
        return this.error(m, DnsRcode.SERVFAIL);
      }
      const back = resp.slice();
      back[0] = m.id >> 8;
      back[1] = m.id & 0xff;
      return back;
    });
  }

  /** RFC 5452 §9.2: a random ID not in use by another outstanding query. */
  private freshId(): number {
    for (;;) {
      const id = this.randomId() & 0xffff;
      if (!this.pending.has(id)) return id;
    }
  }

  private upstreamSocket(): dgram.Socket {
    if (this.socket !== null) return this.socket;
    const [host] = this.upstream!;
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => this.onUpstream(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo));
    s.on('error', () => {});
    s.unref();
    this.socket = s;
    return s;
  }

  private forwardUdp(query: Uint8Array, id: number, m: DnsMessage): Promise<Uint8Array | null> {
    return new Promise((resolve) => {
      const p: Pending = { origId: m.id, question: questionKey(m), query, attemptsLeft: this.attempts, timer: undefined as unknown as NodeJS.Timeout, resolve };
      this.pending.set(id, p);
      this.sendAttempt(id, p);
    });
  }

  private sendAttempt(id: number, p: Pending): void {
    p.attemptsLeft--;
    const [host, port] = this.upstream!;
    this.upstreamSocket().send(p.query, port, host);
    p.timer = setTimeout(() => {
      if (this.pending.get(id) !== p) return;
      if (p.attemptsLeft > 0) {
        this.counters.upstreamRetries++;
        this.sendAttempt(id, p);
        return;
      }
      this.pending.delete(id);
      p.resolve(null);
    }, this.timeoutMs);
  }

  /** RFC 5452 §9.1: accept a reply only from the upstream, with an outstanding ID and the same question. */
  private onUpstream(msg: Uint8Array, rinfo: dgram.RemoteInfo): void {
    const [host, port] = this.upstream!;
    const id = msg.length >= 2 ? (msg[0]! << 8) | msg[1]! : -1;
    const p = this.pending.get(id);
    const m = p === undefined ? null : parseDns(msg);
    if (p === undefined || rinfo.port !== port || !sameAddr(rinfo.address, host) || m === null || typeof m === 'string' || (m.flags & DnsFlag.QR) === 0 || questionKey(m) !== p.question) {
      this.counters.upstreamMismatched++;
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(msg);
  }

  /** One TCP connection per query to the upstream, with the same attempts and timeout. */
  private async forwardTcp(query: Uint8Array): Promise<Uint8Array | null> {
    for (let attempt = 0; attempt < this.attempts && !this.closed; attempt++) {
      if (attempt > 0) this.counters.upstreamRetries++;
      const r = await this.tcpOnce(query);
      if (r !== null) return r;
    }
    return null;
  }

  private tcpOnce(query: Uint8Array): Promise<Uint8Array | null> {
    const [host, port] = this.upstream!;
    return new Promise((resolve) => {
      const framer = new DnsStreamFramer();
      const c = net.connect({ host, port });
      const done = (r: Uint8Array | null): void => {
        clearTimeout(timer);
        c.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done(null), this.timeoutMs);
      c.on('connect', () => c.write(frameDns(query)));
      c.on('data', (d: Uint8Array) => {
        const msgs = framer.push(d);
        if (msgs === null) return done(null);
        const id = (query[0]! << 8) | query[1]!;
        const mine = msgs.find((x) => x.length >= 2 && ((x[0]! << 8) | x[1]!) === id);
        if (mine !== undefined) done(mine);
      });
      c.on('error', () => done(null));
      c.on('close', () => done(null));
    });
  }
}

/**
 * Splits a byte stream into DNS messages by their 2-octet length prefix (RFC 1035 §4.2.2).
 * Holds at most one partial message (≤ 65537 bytes); a zero length is a framing error.
 */
export class DnsStreamFramer {
  private buf = new Uint8Array(0);

  /** The whole messages completed by `chunk` (views of a copy), or null on a framing error. */
  push(chunk: Uint8Array): Uint8Array[] | null {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    const out: Uint8Array[] = [];
    let off = 0;
    while (joined.length - off >= 2) {
      const len = (joined[off]! << 8) | joined[off + 1]!;
      if (len === 0) return null;
      if (joined.length - off - 2 < len) break;
      out.push(joined.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    this.buf = joined.slice(off);
    return out;
  }
}

/** A message with its 2-octet length prefix (RFC 1035 §4.2.2). */
export function frameDns(msg: Uint8Array): Uint8Array {
  if (msg.length > 0xffff) throw new RangeError(`frameDns: message of ${msg.length} bytes is longer than 65535`);
  const out = new Uint8Array(msg.length + 2);
  out[0] = msg.length >> 8;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}

/** Response flags for a query's flags: QR and RA set, opcode and RD copied (RFC 1035 §4.1.1), rcode. */
function responseFlags(queryFlags: number, rcode: number): number {
  return DnsFlag.QR | (queryFlags & (0x7800 | DnsFlag.RD | DnsFlag.CD)) | DnsFlag.RA | (rcode & 0xf);
}

/** The header of an unparseable query, for a FORMERR (RFC 1035 §4.1.1) with no question. */
function headerOnly(q: Uint8Array): DnsMessage {
  return { id: (q[0]! << 8) | q[1]!, flags: (q[2]! << 8) | q[3]!, questions: [], answers: [], authority: [], additional: [] };
}

function sameAddr(a: string, b: string): boolean {
  const x = parseAddr(a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
  const y = parseAddr(b);
  return x !== null && y !== null && x.length === y.length && x.every((v, i) => v === y[i]);
}

/** c-ares error codes (as node:dns reports them) → rcode. */
function rcodeOfResolverError(code: string | undefined): number {
  switch (code) {
    case 'ENOTFOUND':
      return DnsRcode.NXDOMAIN;
    case 'EREFUSED':
      return DnsRcode.REFUSED;
    case 'EFORMERR':
    case 'EBADNAME':
      return DnsRcode.FORMERR;
    case 'ENOTIMP':
      return DnsRcode.NOTIMP;
    case 'ENODATA':
      return DnsRcode.NOERROR;
    default:
      return DnsRcode.SERVFAIL;
  }
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

/** The resolver's answer to (name, type) as records; ENODATA for types it cannot ask. */
async function resolverAnswers(r: ResolverLike, name: string, type: number, ttl: number): Promise<DnsRecord[]> {
  const rec = (t: number, data: Uint8Array, recTtl = ttl): DnsRecord => ({ name, type: t, class: DNS_CLASS_IN, ttl: recTtl, data });
  switch (type) {
    case DnsType.A:
      return (await r.resolve4(name, { ttl: true })).map((a) => rec(DnsType.A, parseAddr(a.address)!, a.ttl));
    case DnsType.AAAA:
      return (await r.resolve6(name, { ttl: true })).map((a) => rec(DnsType.AAAA, parseAddr(a.address)!, a.ttl));
    case DnsType.CNAME:
      return (await r.resolveCname(name)).map((n) => nameRecord(name, DnsType.CNAME, ttl, [n]));
    case DnsType.PTR:
      return (await r.resolvePtr(name)).map((n) => nameRecord(name, DnsType.PTR, ttl, [n]));
    case DnsType.NS:
      return (await r.resolveNs(name)).map((n) => nameRecord(name, DnsType.NS, ttl, [n]));
    case DnsType.MX:
      return (await r.resolveMx(name)).map((x) => nameRecord(name, DnsType.MX, ttl, [x.exchange], new Uint8Array(u16(x.priority))));
    case DnsType.SRV:
      return (await r.resolveSrv(name)).map((x) => nameRecord(name, DnsType.SRV, ttl, [x.name], new Uint8Array([...u16(x.priority), ...u16(x.weight), ...u16(x.port)])));
    case DnsType.TXT:
      return (await r.resolveTxt(name)).map((chunks) => rec(DnsType.TXT, txtData(chunks)));
    default: {
      // The resolver API asks only the types above: say so rather than pretend there is no data.
      const e = new Error(`type ${type} is not supported by the host resolver`) as NodeJS.ErrnoException;
      e.code = 'ENOTIMP';
      throw e;
    }
  }
}

/** RFC 1035 §3.3.14: TXT data is one or more <character-string>s (a length octet, then ≤ 255 octets). */
function txtData(chunks: string[]): Uint8Array {
  const parts: number[] = [];
  for (const c of chunks) {
    const b = Buffer.from(c, 'utf8');
    for (let at = 0; at < b.length || at === 0; at += 255) {
      const piece = b.subarray(at, at + 255);
      parts.push(piece.length, ...piece);
      if (b.length === 0) break;
    }
  }
  return Uint8Array.from(parts);
}

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`DnsForwarder: ${what} must be a positive integer, got ${v}`);
  return v;
}
