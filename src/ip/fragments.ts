/**
 * Fragment reassembly (RFC 791 §3.2, RFC 815, RFC 8200 §4.5) and fragmentation of outgoing
 * datagrams, for IPv4 and IPv6.
 *
 * Reassembly follows Linux (net/ipv4/ip_fragment.c, net/ipv6/reassembly.c, inet_fragment.c):
 *   - a queue per (version, source, destination, protocol (IPv4), identification);
 *   - an exact duplicate fragment is dropped and the queue kept; a fragment that partly overlaps
 *     another discards the whole datagram (RFC 5722; LINUX IPFRAG_OVERLAP since 4.19);
 *   - 30 s after its first fragment a queue expires (LINUX ipfrag_time); if fragment zero had
 *     arrived, an ICMP time exceeded (code 1, fragment reassembly) goes back (RFC 792,
 *     RFC 1122 §3.3.2, RFC 8200 §4.5);
 *   - memory: all queues together hold at most 4 MiB (LINUX ipfrag_high_thresh), one source at
 *     most a quarter of that, so a flood from one host cannot starve the others; fragments
 *     beyond either bound are dropped and counted (ReasmFails).
 */
import { sec, NEVER, type Instant } from '../time.js';
import { copyBytes } from '../util/bytes.js';
import { finishChecksum, sum16 } from '../wire/checksum.js';
import { IPV4_HEADER_LEN, IPV6_HEADER_LEN, type IpRepr } from '../wire/ip.js';

/** LINUX net.ipv4.ipfrag_time / net.ipv6.ip6frag_time: 30 s. */
export const REASM_TIMEOUT = sec(30);
/** LINUX net.ipv4.ipfrag_high_thresh: 4 MiB. */
export const REASM_MEM_MAX = 4 * 1024 * 1024;
/** Bytes one source may hold in reassembly queues. */
export const REASM_MEM_PER_SOURCE = REASM_MEM_MAX / 4;
/** Largest reassembled IPv4 datagram (Total Length is 16 bits) / IPv6 payload (RFC 8200 §4.5). */
const MAX_V4_TOTAL = 0xffff;
const MAX_V6_PAYLOAD = 0xffff;
/** Fragments per queue at most (LINUX has no such cap, but a bound keeps range lists small). */
const MAX_FRAGS_PER_QUEUE = 1024;

interface Queue {
  key: string;
  src: string;
  deadline: Instant;
  /** Fragmentable-part bytes, grown as fragments arrive (offset 0 = first byte after the headers). */
  data: Uint8Array;
  /** Received [start, end) ranges, sorted, non-overlapping. */
  ranges: number[];
  /** Total fragmentable length once the last fragment (MF = 0) arrived, else -1. */
  total: number;
  /** The first fragment's bytes up to the fragmentable part (its IP header (+ v6 extension headers)), once it arrived. */
  head: Uint8Array | null;
  /** The first fragment as received (for the ICMP time exceeded on expiry). */
  first: Uint8Array | null;
  /** v6: offset of the Next Header byte that named the Fragment header, in `head`. */
  prevNh: number;
  /** v6: the Fragment header's Next Header (the upper protocol). */
  nextHeader: number;
  mem: number;
}

export type ReasmResult =
  | { kind: 'complete'; frame: Uint8Array }
  | { kind: 'pending' }
  | { kind: 'dropped'; reason: 'reasm-duplicate' | 'reasm-overlap' | 'reasm-mem' | 'reasm-too-big' | 'reasm-bad-length' };

export class Reassembler {
  /** Insertion order = deadline order (every queue lives REASM_TIMEOUT from its creation). */
  private readonly queues = new Map<string, Queue>();
  private mem = 0;
  private readonly perSource = new Map<string, number>();

  constructor(
    /** Called for a queue that expired with its first fragment (send ICMP time exceeded). */
    private readonly onExpire: (first: Uint8Array, v6: boolean) => void,
  ) {}

  get memory(): number {
    return this.mem;
  }

  get size(): number {
    return this.queues.size;
  }

  /** Offer one fragment (`ip` parsed from `frame`). */
  add(ip: IpRepr, frame: Uint8Array, now: Instant): ReasmResult {
    const v6 = ip.version === 6;
    const key = `${ip.version} ${ip.src} ${ip.dst} ${v6 ? '' : ip.protocol} ${ip.ident}`;
    const start = ip.fragOffset;
    const len = ip.payloadLength;
    const end = start + len;
    // RFC 8200 §4.5: every fragment but the last carries a multiple of 8 bytes; so does IPv4 (RFC 791 §3.2).
    if (ip.moreFragments && (len & 7) !== 0) return { kind: 'dropped', reason: 'reasm-bad-length' };
    if (v6 ? end > MAX_V6_PAYLOAD : end + ip.headerLength > MAX_V4_TOTAL) return { kind: 'dropped', reason: 'reasm-too-big' };
    let q = this.queues.get(key);
    if (q === undefined) {
      const cost = 256; // a queue's own bookkeeping, as Linux charges the inet_frag_queue struct
      if (this.mem + cost + len > REASM_MEM_MAX || (this.perSource.get(ip.src) ?? 0) + cost + len > REASM_MEM_PER_SOURCE) {
        return { kind: 'dropped', reason: 'reasm-mem' };
      }
      q = { key, src: ip.src, deadline: now + REASM_TIMEOUT, data: new Uint8Array(0), ranges: [], total: -1, head: null, first: null, prevNh: -1, nextHeader: 0, mem: 0 };
      this.queues.set(key, q);
      this.charge(q, cost);
    }
    // LINUX inet_frag_queue_insert: the same [start, end) again is a duplicate (dropped, queue
    // kept); any other intersection is an overlap and kills the queue.
    const r = q.ranges;
    for (let i = 0; i < r.length; i += 2) {
      const a = r[i]!;
      const b = r[i + 1]!;
      if (start === a && end === b) return { kind: 'dropped', reason: 'reasm-duplicate' };
      if (start < b && end > a) {
        this.kill(q);
        return { kind: 'dropped', reason: 'reasm-overlap' };
      }
    }
    // The last fragment fixes the length; others must stay within it (RFC 815 §3).
    if (!ip.moreFragments) {
      if ((q.total >= 0 && q.total !== end) || (r.length > 0 && r[r.length - 1]! > end)) {
        this.kill(q);
        return { kind: 'dropped', reason: 'reasm-overlap' };
      }
      q.total = end;
    } else if (q.total >= 0 && end > q.total) {
      this.kill(q);
      return { kind: 'dropped', reason: 'reasm-overlap' };
    }
    if (r.length / 2 >= MAX_FRAGS_PER_QUEUE || this.mem + len > REASM_MEM_MAX || (this.perSource.get(q.src) ?? 0) + len > REASM_MEM_PER_SOURCE) {
      this.kill(q);
      return { kind: 'dropped', reason: 'reasm-mem' };
    }
    // Store the bytes.
    if (end > q.data.length) {
      const grown = new Uint8Array(Math.max(end, Math.min(q.total >= 0 ? q.total : end * 2, v6 ? MAX_V6_PAYLOAD : MAX_V4_TOTAL)));
      grown.set(q.data);
      q.data = grown;
    }
    copyBytes(q.data, start, frame, ip.headerLength, len);
    insertRange(r, start, end);
    this.charge(q, len);
    if (start === 0) {
      const unfrag = v6 ? ip.fragHeaderOffset : ip.headerLength;
      q.head = frame.slice(0, unfrag);
      q.first = frame.slice(0, ip.headerLength + Math.min(len, 8));
      q.prevNh = ip.fragPrevNextHeader;
      q.nextHeader = ip.protocol;
    }
    if (q.total < 0 || q.head === null || !covers(r, q.total)) return { kind: 'pending' };
    this.kill(q);
    return { kind: 'complete', frame: rebuild(q, v6) };
  }

  nextDeadline(): Instant {
    if (this.queues.size === 0) return NEVER; // (no iterator made: the stack asks often)
    for (const q of this.queues.values()) return q.deadline;
    return NEVER;
  }

  /** Expire queues whose time is up. Returns how many expired. */
  onTimer(now: Instant): number {
    let n = 0;
    for (const q of this.queues.values()) {
      if (q.deadline > now) break;
      this.kill(q);
      n++;
      if (q.first !== null) this.onExpire(q.first, q.first[0]! >> 4 === 6);
    }
    return n;
  }

  private charge(q: Queue, n: number): void {
    q.mem += n;
    this.mem += n;
    this.perSource.set(q.src, (this.perSource.get(q.src) ?? 0) + n);
  }

  private kill(q: Queue): void {
    if (!this.queues.delete(q.key)) return;
    this.mem -= q.mem;
    const left = (this.perSource.get(q.src) ?? 0) - q.mem;
    if (left <= 0) this.perSource.delete(q.src);
    else this.perSource.set(q.src, left);
  }
}

/** Insert a fragment's [start, end) keeping the list sorted (fragments stay separate, as Linux's rbtree keeps them). */
function insertRange(r: number[], start: number, end: number): void {
  let i = 0;
  while (i < r.length && r[i]! < start) i += 2;
  r.splice(i, 0, start, end);
}

/** Do the sorted, non-overlapping fragments cover [0, total) without a hole? */
function covers(r: number[], total: number): boolean {
  let at = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i] !== at) return false;
    at = r[i + 1]!;
  }
  return at === total;
}

/** The whole datagram: the first fragment's headers + the reassembled data, lengths fixed. */
function rebuild(q: Queue, v6: boolean): Uint8Array {
  const head = q.head!;
  const out = new Uint8Array(head.length + q.total);
  out.set(head, 0);
  out.set(q.data.subarray(0, q.total), head.length);
  if (!v6) {
    const total = out.length;
    out[2] = total >> 8;
    out[3] = total & 0xff;
    out[6] = out[6]! & 0x40; // keep DF, clear MF and the offset
    out[7] = 0;
    out[10] = 0;
    out[11] = 0;
    const c = finishChecksum(sum16(out, 0, head.length, 0));
    out[10] = c >> 8;
    out[11] = c & 0xff;
  } else {
    // RFC 8200 §4.5: the Fragment header goes; its Next Header takes its place in the chain.
    out[q.prevNh] = q.nextHeader;
    const plen = out.length - IPV6_HEADER_LEN;
    out[4] = plen >> 8;
    out[5] = plen & 0xff;
  }
  return out;
}

/**
 * Split a datagram's upper-layer bytes into fragments (RFC 791 §3.2 / RFC 8200 §4.5) that fit
 * `mtu`: returns [offset, length] pairs, every length but the last a multiple of 8.
 */
export function fragmentPlan(v6: boolean, len: number, mtu: number): [number, number][] {
  const room = mtu - (v6 ? IPV6_HEADER_LEN + 8 : IPV4_HEADER_LEN);
  const step = room & ~7;
  if (step <= 0) return [];
  const out: [number, number][] = [];
  for (let off = 0; off < len; off += step) out.push([off, Math.min(step, len - off)]);
  return out;
}

/** Write an IPv6 Fragment header (RFC 8200 §4.5) at buf[off]. */
export function emitFragmentHeader(buf: Uint8Array, off: number, nextHeader: number, fragOffset: number, more: boolean, ident: number): void {
  buf[off] = nextHeader;
  buf[off + 1] = 0;
  const fo = (fragOffset & 0xfff8) | (more ? 1 : 0);
  buf[off + 2] = fo >> 8;
  buf[off + 3] = fo & 0xff;
  buf[off + 4] = ident >>> 24;
  buf[off + 5] = (ident >>> 16) & 0xff;
  buf[off + 6] = (ident >>> 8) & 0xff;
  buf[off + 7] = ident & 0xff;
}

