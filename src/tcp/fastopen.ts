/**
 * TCP Fast Open (RFC 7413) as Linux does it (net/ipv4/tcp_fastopen.c): the server's cookies
 * (SipHash-2-4 of the SYN's addresses under the tcp_fastopen_key), the decision what to do with a
 * SYN that carries data or a cookie (LINUX tcp_try_fastopen), the TFO child that takes the SYN's
 * data and can be accepted before the handshake completes, and the client's cookie cache.
 */
import { parseAddrInto } from '../wire/addr.js';
import { FIN, type TcpRepr } from '../wire/tcp-repr.js';
import { le64Bytes, sipHash24, sipKeyFromBytes, type SipKey } from './siphash.js';

/** net.ipv4.tcp_fastopen bits (LINUX include/net/tcp.h TFO_*). */
export const TFO = {
  /** The client may send data in its SYN (the default, 1). */
  CLIENT_ENABLE: 0x1,
  /** Listeners accept data in SYNs with a valid cookie. */
  SERVER_ENABLE: 0x2,
  /** The client sends SYN data without a cookie. */
  CLIENT_NO_COOKIE: 0x4,
  /** The server accepts SYN data without a cookie. */
  SERVER_COOKIE_NOT_REQD: 0x200,
  /** Every listener is a Fast Open listener (max_qlen = backlog) without setsockopt(TCP_FASTOPEN). */
  SERVER_WO_SOCKOPT1: 0x400,
} as const;

/** RFC 7413 §4.1.1: a cookie is 4 to 16 bytes; Linux makes 8 (TCP_FASTOPEN_COOKIE_SIZE). */
export const COOKIE_SIZE = 8;

/** A Fast Open option's content: length -1 (none), 0 (a request) or the cookie's bytes. */
export interface Cookie {
  len: number;
  bytes: Uint8Array;
  exp: boolean;
}

export const noCookie = (): Cookie => ({ len: -1, bytes: new Uint8Array(16), exp: false });

/** The cookie a segment carries (parsed by wire/tcp.ts). */
export function cookieOf(seg: TcpRepr): Cookie {
  return { len: seg.fastOpen, bytes: seg.fastOpenCookie.slice(0, Math.max(0, seg.fastOpen)), exp: seg.fastOpenExp };
}

/** Put `c` into an outgoing SYN or SYN-ACK (wire/tcp.ts lays it out after the window scale). */
export function writeCookie(out: TcpRepr, c: Cookie): void {
  if (c.len < 0) return;
  out.fastOpen = c.len;
  out.fastOpenExp = c.exp;
  out.fastOpenCookie.set(c.bytes.subarray(0, c.len));
}

/**
 * A tcp_fastopen_key value: four 32-bit hex words 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4', and
 * optionally a comma and a backup key. LINUX proc_tcp_fastopen_key stores each word
 * cpu_to_le32 and tcp_fastopen_reset_cipher reads the 16 bytes as two little-endian u64s.
 */
export function parseKeyText(text: string): SipKey[] | null {
  const keys: SipKey[] = [];
  for (const part of text.trim().split(',')) {
    const words = part.trim().split('-');
    if (words.length !== 4 || words.some((w) => !/^[0-9a-fA-F]{1,8}$/.test(w))) return null;
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    words.forEach((w, i) => dv.setUint32(4 * i, parseInt(w, 16), true));
    keys.push(sipKeyFromBytes(b));
  }
  return keys.length >= 1 && keys.length <= 2 ? keys : null;
}

/** The key as tcp_fastopen_key prints it (LINUX proc_tcp_fastopen_key: %08x-%08x-%08x-%08x). */
export function keyText(k: SipKey): string {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, k.k0, true);
  dv.setBigUint64(8, k.k1, true);
  return [0, 1, 2, 3].map((i) => dv.getUint32(4 * i, true).toString(16).padStart(8, '0')).join('-');
}

const ADDRS = new Uint8Array(32);

/**
 * LINUX __tcp_fastopen_cookie_gen_cipher: siphash(saddr ‖ daddr of the SYN, key), stored
 * little-endian: the client's address first, then the server's.
 */
export function makeCookie(key: SipKey, client: string, server: string): Uint8Array {
  const n = parseAddrInto(client, ADDRS, 0);
  const m = parseAddrInto(server, ADDRS, n);
  if (n === 0 || m !== n) throw new TypeError(`makeCookie: addresses ${client} and ${server} are not one family`);
  return le64Bytes(sipHash24(key, ADDRS.subarray(0, 2 * n)));
}

/** The stack-wide Fast Open settings and state (net.ipv4.tcp_fastopen*, the client's cache). */
export class FastOpenContext {
  /** net.ipv4.tcp_fastopen. LINUX default: TFO_CLIENT_ENABLE. */
  sysctl: number = TFO.CLIENT_ENABLE;
  /** The primary key and an optional backup (cookies made with either are accepted). */
  keys: SipKey[];
  /** net.ipv4.tcp_fastopen_blackhole_timeout_sec (LINUX default 0 since 5.14: off). */
  blackholeTimeoutSec = 0;
  /** The client's cookie cache (LINUX tcp_metrics), per destination address. */
  readonly cache: CookieCache;

  constructor(randomKey: Uint8Array, cacheSize = 1024) {
    // LINUX tcp_fastopen_init_key_once: a random key until tcp_fastopen_key sets one.
    this.keys = [sipKeyFromBytes(randomKey)];
    this.cache = new CookieCache(cacheSize);
  }

  /** Whether net.ipv4.tcp_fastopen has `bit` (one of `TFO`). */
  has(bit: number): boolean {
    return (this.sysctl & bit) !== 0;
  }
}

/** One destination's Fast Open memory (LINUX struct tcp_fastopen_metrics). */
export interface CachedCookie {
  cookie: Cookie;
  /** The MSS the server announced (the SYN's data is sized by it: LINUX tcp_send_syn_data). */
  mss: number;
  /** SYNs with data that timed out in a row (LINUX syn_loss; Fast Open pauses after one). */
  synLoss: number;
  lastSynLoss: number;
  /** LINUX try_exp: 1 = ask with the experimental option next time, 2 = back to kind 34. */
  tryExp: number;
}

/** The client's cookies, per server address, bounded: the oldest entry goes first. */
export class CookieCache {
  private readonly map = new Map<string, CachedCookie>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('CookieCache: max must be a positive integer');
  }

  /** What is remembered for the server at `addr`, if anything. */
  get(addr: string): CachedCookie | undefined {
    return this.map.get(addr);
  }

  /** The entry for `addr`, made (with no cookie) if absent; the cache stays within `max`. */
  entry(addr: string): CachedCookie {
    let e = this.map.get(addr);
    if (e === undefined) {
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      e = { cookie: noCookie(), mss: 0, synLoss: 0, lastSynLoss: 0, tryExp: 0 };
      this.map.set(addr, e);
    }
    return e;
  }

  /** `ip tcp_metrics flush`. */
  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

/** A listener's Fast Open queue (LINUX struct fastopen_queue) and per-socket settings. */
export class ListenerFastOpen {
  /** TCP_FASTOPEN's qlen (or the backlog with TFO_SERVER_WO_SOCKOPT1): 0 = not a TFO listener. */
  maxQlen = 0;
  /** TFO children whose handshake has not completed yet (LINUX fastopenq.qlen). */
  readonly pending = new Set<{ readonly state: string }>();
  /** TCP_FASTOPEN_NO_COOKIE on the listener. */
  noCookie = false;
  /** TCP_FASTOPEN_KEY on the listener: its own keys instead of the stack's. */
  keys: SipKey[] | null = null;

  /** How many children still count against max_qlen. */
  get qlen(): number {
    for (const c of this.pending) if (c.state !== 'SYN_RECEIVED') this.pending.delete(c);
    return this.pending.size;
  }
}

/** What the server does with a SYN (the result of tryFastOpen). */
/** The decision for a SYN without Fast Open (shared and frozen: callers only read it). */
const PLAIN_SYN: PassiveDecision = Object.freeze({
  child: false,
  synAckCookie: Object.freeze({ len: -1, bytes: new Uint8Array(0), exp: false }),
  counters: Object.freeze([]) as unknown as string[],
});

export interface PassiveDecision {
  /** Create a TFO child: take the SYN's data now, accept() may return it at once. */
  child: boolean;
  /** The cookie for the SYN-ACK (len -1: none). */
  synAckCookie: Cookie;
  /** Counters to bump (TCPFastOpenCookieReqd, TCPFastOpenPassive, ...). */
  counters: string[];
}

/**
 * LINUX tcp_try_fastopen: whether a SYN opens a TFO child, and which cookie the SYN-ACK carries.
 * A valid cookie (or no cookie needed) makes a child; a cookie request or an invalid cookie gets a
 * fresh cookie in the SYN-ACK and an ordinary handshake; SYN data without any cookie is ignored.
 */
export function tryFastOpen(ctx: FastOpenContext, lfo: ListenerFastOpen, seg: TcpRepr, client: string, server: string): PassiveDecision {
  // A plain SYN (no Fast Open option, no data): nothing to decide, nothing to allocate.
  if (seg.fastOpen < 0 && seg.payload.length === 0 && (seg.flags & FIN) === 0) return PLAIN_SYN;
  const foc = cookieOf(seg);
  const counters: string[] = [];
  const none: PassiveDecision = { child: false, synAckCookie: noCookie(), counters };
  const synData = seg.payload.length > 0 || (seg.flags & FIN) !== 0;
  if (foc.len === 0) counters.push('TCPFastOpenCookieReqd');
  if (!ctx.has(TFO.SERVER_ENABLE) || !(synData || foc.len >= 0) || !queueCheck(lfo, counters)) return none;
  // LINUX tcp_fastopen_no_cookie: the sysctl bit, or TCP_FASTOPEN_NO_COOKIE on the listener.
  if (ctx.has(TFO.SERVER_COOKIE_NOT_REQD) || lfo.noCookie) {
    counters.push('TCPFastOpenPassive');
    return { child: true, synAckCookie: noCookie(), counters };
  }
  const keys = lfo.keys ?? ctx.keys;
  const valid: Cookie = { len: COOKIE_SIZE, bytes: makeCookie(keys[0]!, client, server), exp: foc.exp };
  if (foc.len === 0) return { child: false, synAckCookie: valid, counters };
  if (foc.len > 0) {
    // LINUX tcp_fastopen_cookie_gen_check: the primary key's cookie, then the backup's (which
    // the SYN-ACK answers with the primary's, so the client moves to it).
    const match = keys.findIndex((k) => foc.len === COOKIE_SIZE && sameBytes(foc.bytes, makeCookie(k, client, server)));
    if (match >= 0) {
      counters.push('TCPFastOpenPassive');
      if (match > 0) counters.push('TCPFastOpenPassiveAltKey');
      return { child: true, synAckCookie: match > 0 ? valid : noCookie(), counters };
    }
    counters.push('TCPFastOpenPassiveFail');
    return { child: false, synAckCookie: valid, counters };
  }
  return none;
}

/** LINUX tcp_fastopen_queue_check: a TFO listener below its max_qlen. */
function queueCheck(lfo: ListenerFastOpen, counters: string[]): boolean {
  if (lfo.maxQlen === 0) return false;
  if (lfo.qlen >= lfo.maxQlen) {
    counters.push('TCPFastOpenListenOverflow');
    return false;
  }
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A connection's Fast Open state (LINUX tcp_sock's fastopen_* and syn_* bits). */
export class ConnFastOpen {
  /** Passive: a TFO child (LINUX tp->fastopen_rsk set until the handshake completes). */
  child = false;
  /** The SYN's data was acknowledged (server: taken; client: acked by the SYN-ACK) — TCPI_OPT_SYN_DATA. */
  synDataAcked = false;
  /** The cookie for our next SYN or SYN-ACK (sent once: LINUX retransmits them without it). */
  cookie: Cookie = noCookie();
  /** Server: bytes of data the peer's SYN carried, taken by this TFO child. */
  synDataIn = 0;
  /** Client: bytes of data our SYN carried (LINUX tp->syn_data). */
  synData = 0;
  /** Client: our SYN asked for or carried a cookie (LINUX tp->syn_fastopen). */
  active = false;
  /** Client: the SYN carried data without a cookie (TFO_CLIENT_NO_COOKIE / TCP_FASTOPEN_NO_COOKIE). */
  noCookie = false;
  /** Client: TCP_FASTOPEN_CONNECT deferred the SYN until the first write (LINUX defer_connect). */
  deferConnect = false;
  /** Client: the SYN carries data (a cookie, or none needed: tcp_fastopen_cookie_check true). */
  withData = false;
  /**
   * Client: a blocking send waits for the handshake with data beyond what the SYN carried
   * (LINUX sk_write_pending, raised by inet_wait_for_connect's writebias).
   */
  writePending = false;
  /** Client: a simultaneous open's first SYN-ACK is due, our SYN's data still outstanding. */
  simultaneousSynAck = false;
  /** Server: the TFO child has been accepted (LINUX inet_csk_accept clears fastopen_rsk->sk). */
  accepted = false;
  /** Client: the server's MSS remembered from an earlier connection (0: none). */
  cachedMss = 0;
  /** Client: this destination's cache entry, updated from the SYN-ACK. */
  cacheEntry: CachedCookie | null = null;
}

const copyCookie = (c: Cookie): Cookie => ({ len: c.len, bytes: c.bytes.slice(), exp: c.exp });

/**
 * An active open with Fast Open (MSG_FASTOPEN or TCP_FASTOPEN_CONNECT): LINUX
 * tcp_fastopen_cookie_check / tcp_fastopen_cache_get decide whether the SYN carries data (a cached
 * cookie, or no cookie needed) or only asks for a cookie.
 */
export function activeFastOpen(ctx: FastOpenContext, remote: string, noCookieOpt: boolean): ConnFastOpen {
  const fo = new ConnFastOpen();
  fo.active = true;
  const e = ctx.cache.entry(remote);
  fo.cacheEntry = e;
  fo.cachedMss = e.mss;
  const cached = copyCookie(e.cookie);
  if (cached.len <= 0 && e.tryExp === 1) cached.exp = true;
  if (ctx.has(TFO.CLIENT_NO_COOKIE) || noCookieOpt) {
    fo.cookie = noCookie();
    fo.withData = true;
    fo.noCookie = true;
  } else if (cached.len > 0) {
    fo.cookie = cached;
    fo.withData = true;
  } else {
    // LINUX tcp_send_syn_data fallback: a regular SYN with a cookie request.
    fo.cookie = { len: 0, bytes: new Uint8Array(0), exp: cached.exp };
  }
  return fo;
}

/**
 * LINUX tcp_send_syn_data: the SYN's data space is the MSS from the cached server MSS (else our
 * advertised one), bounded by the path, less the 40 bytes of option space reserved for middleboxes.
 */
export function synDataSpace(fo: ConnFastOpen, advMss: number): number {
  const clamp = fo.cachedMss > 0 ? Math.min(fo.cachedMss, advMss) : advMss;
  return Math.max(48, clamp) - 40;
}

/**
 * LINUX tcp_fastopen_cache_set: remember the server's MSS and a cookie it gave; after an
 * unanswered cookie request try the other option kind next time; count SYN-data losses.
 */
export function cacheSet(e: CachedCookie, mss: number, cookie: Cookie, synLost: boolean, tryExp: number, now: number): void {
  if (mss > 0) e.mss = mss;
  if (cookie.len > 0) e.cookie = copyCookie(cookie);
  else if (tryExp > e.tryExp && e.cookie.len <= 0 && !e.cookie.exp) e.tryExp = tryExp;
  if (synLost) {
    e.synLoss++;
    e.lastSynLoss = now;
  } else e.synLoss = 0;
}
