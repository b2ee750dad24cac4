/**
 * TCP header (RFC 9293 §3.1) and options: parse a segment into a reusable TcpRepr (payload is a
 * view, never a copy) and emit one in place, with options laid out exactly as Linux writes them.
 */

import { parseAddrInto } from './addr.js';
import { copyBytes } from '../util/bytes.js';
import { finishChecksum, pseudoHeaderSum, pseudoHeaderSumAt, sum16 } from './checksum.js';
import { emitIpv4Header, emitIpv6Header, IPPROTO_TCP, IPV4_HEADER_LEN, IPV6_HEADER_LEN } from './ip.js';
import { isFragment, type DropReason, type IpRepr } from './ip.js';
import { clearTcpRepr, MAX_SACK_BLOCKS, payloadOfLength, SYN } from './tcp-repr.js';
import type { TcpRepr } from './tcp-repr.js';

/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = 20;
/** RFC 9293 §3.1: Data Offset is 4 bits of 32-bit words, so at most 60 - 20 option bytes. */
export const MAX_TCP_OPTIONS_LEN = 40;

/** Option kinds (IANA "TCP Option Kind Numbers"). */
export const TcpOpt = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
  /** RFC 7413 §4.1.1: TCP Fast Open cookie. */
  FAST_OPEN: 34,
  /** RFC 6994 experimental option (Fast Open's pre-RFC kind, with ExID 0xF989). */
  EXP: 254,
} as const;

/** RFC 6994 ExID of the experimental Fast Open option (LINUX TCPOPT_FASTOPEN_MAGIC). */
export const FAST_OPEN_MAGIC = 0xf989;

/**
 * Parse the TCP segment that follows the IP header described by `ip` (which must come from
 * parseIpHeader on the same frame: the checksum reads the addresses from the frame). Fills `out`
 * (cleared first); `out.payload` is a subarray of `frame` (or one shared empty array when the
 * segment carries no data: no view is made per pure ACK). Returns null or why to drop.
 * `snapped` (with parseIpHeader's): the header and options must have been captured, `out.payload`
 * is what was (the segment's length is `ip.payloadLength - tcpDataOffset(frame, ip)`).
 * `view` false (the stack's receive path): no view is made of the payload either; `out.payload`
 * is a stand-in of its length and the bytes are read through payloadBytes/payloadOffset.
 */
export function parseTcp(frame: Uint8Array, ip: IpRepr, out: TcpRepr, verifyChecksum: boolean, snapped = false, view = true): DropReason | null {
  clearTcpRepr(out);
  // A fragment is reassembled by the stack before TCP sees it; a tool reading a capture shows it as such.
  if (isFragment(ip)) return 'ip-fragment';
  if (ip.protocol !== IPPROTO_TCP) return 'not-tcp';
  const start = ip.headerLength;
  const len = ip.payloadLength;
  if (!(start >= 0 && len >= 0 && (start + len <= frame.length || snapped))) return 'truncated';
  if (len < TCP_HEADER_LEN || start + TCP_HEADER_LEN > frame.length) return 'truncated';
  // RFC 9293 §3.1: Data Offset is the header length in 32-bit words; at least 5, and the header
  // cannot extend past the segment.
  const hlen = tcpDataOffset(frame, ip);
  if (hlen < TCP_HEADER_LEN || hlen > len) return 'bad-tcp-header-length';
  if (start + hlen > frame.length) return 'truncated';
  if (verifyChecksum) {
    // RFC 9293 §3.1: the checksum covers the pseudo-header, the header and the data; a segment
    // whose checksum fails is dropped (RFC 9293 §3.1 MUST-3, RFC 1122 §4.2.2.7). For IPv6 the
    // pseudo-header holds the final destination (RFC 8200 §8.1), which is the header's
    // Destination Address once a Routing header has been fully processed (Segments Left 0).
    const v4 = ip.version === 4;
    let acc = pseudoHeaderSumAt(frame, v4 ? 12 : 8, v4 ? 16 : 24, v4 ? 4 : 16, IPPROTO_TCP, len);
    acc = sum16(frame, start, len, acc);
    if (finishChecksum(acc) !== 0) return 'bad-tcp-checksum';
  }
  out.srcPort = (frame[start]! << 8) | frame[start + 1]!;
  out.dstPort = (frame[start + 2]! << 8) | frame[start + 3]!;
  out.seq = readU32(frame, start + 4);
  out.ack = readU32(frame, start + 8);
  // RFC 9293 §3.1 control bits; the low bit of byte 12 is AE (RFC 9768, formerly NS).
  out.flags = frame[start + 13]! | ((frame[start + 12]! & 1) << 8);
  out.window = (frame[start + 14]! << 8) | frame[start + 15]!;
  out.urgent = (frame[start + 18]! << 8) | frame[start + 19]!;
  const bad = parseOptions(frame, start + TCP_HEADER_LEN, start + hlen, out);
  if (bad !== null) return bad;
  const end = Math.min(start + len, frame.length); // start + len unless snapped
  if (end > start + hlen) {
    if (view) out.payload = frame.subarray(start + hlen, end);
    else {
      out.payload = payloadOfLength(end - start - hlen);
      out.payloadBuf = frame;
      out.payloadOff = start + hlen;
    }
  } // else the empty one clearTcpRepr set
  return null;
}

/** RFC 9293 §3.1 Reserved bits (3 after RFC 9768's AE): must be zero on send, shown by the packetdrill checker. */
export function tcpReservedBits(frame: Uint8Array, ip: IpRepr): number {
  return (frame[ip.headerLength + 12]! >> 1) & 7;
}

/** RFC 9293 §3.1 Data Offset in bytes: the TCP header's length, options included, as on the wire. */
export function tcpDataOffset(frame: Uint8Array, ip: IpRepr): number {
  return (frame[ip.headerLength + 12]! >> 4) * 4;
}

function readU32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function writeU16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}

function writeU32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/**
 * RFC 9293 §3.1 / §3.2: options are single-octet (EOL, NOP) or kind, length, data, and may
 * appear in any segment (MUST-5). An implementation MUST be prepared to handle an illegal option
 * length, e.g. zero (MUST-7): we drop such segments.
 * LINUX: tcp_parse_options() just stops parsing (or ignores the option) and keeps the segment;
 * we drop instead so that a malformed option is counted and visible.
 * Options are recorded whatever the segment's flags; which ones apply (MSS and window scale only
 * on SYN, RFC 9293 §3.7.1 / RFC 7323 §2.2) is the core's decision. The window scale is recorded as
 * sent: RFC 7323 §2.3's clamp to 14 is also the core's.
 */
function parseOptions(b: Uint8Array, i: number, end: number, out: TcpRepr): DropReason | null {
  while (i < end) {
    const kind = b[i]!;
    // RFC 9293 §3.2: End of Option List ends the options; whatever follows is padding.
    if (kind === TcpOpt.EOL) break;
    if (kind === TcpOpt.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 'bad-tcp-option';
    const olen = b[i + 1]!;
    if (olen < 2 || i + olen > end) return 'bad-tcp-option';
    switch (kind) {
      case TcpOpt.MSS: // RFC 9293 §3.2: kind 2, length 4, 16-bit MSS.
        if (olen !== 4) return 'bad-tcp-option';
        out.mss = (b[i + 2]! << 8) | b[i + 3]!;
        break;
      case TcpOpt.WSCALE: // RFC 7323 §2.2: kind 3, length 3, shift count.
        if (olen !== 3) return 'bad-tcp-option';
        out.wscale = b[i + 2]!;
        break;
      case TcpOpt.SACK_PERMITTED: // RFC 2018 §2: kind 4, length 2.
        if (olen !== 2) return 'bad-tcp-option';
        out.sackPermitted = true;
        break;
      case TcpOpt.SACK: {
        // RFC 2018 §3: kind 5, length 2 + 8n; 40 option bytes hold at most 4 blocks.
        if (olen < 10 || (olen - 2) % 8 !== 0) return 'bad-tcp-option';
        const n = Math.min((olen - 2) / 8, MAX_SACK_BLOCKS);
        for (let k = 0; k < n; k++) {
          out.sackBlocks[2 * k] = readU32(b, i + 2 + 8 * k);
          out.sackBlocks[2 * k + 1] = readU32(b, i + 6 + 8 * k);
        }
        out.sackCount = n;
        break;
      }
      case TcpOpt.TIMESTAMP: // RFC 7323 §3.2: kind 8, length 10, TSval, TSecr.
        if (olen !== 10) return 'bad-tcp-option';
        out.hasTimestamp = true;
        out.tsVal = readU32(b, i + 2);
        out.tsEcr = readU32(b, i + 6);
        break;
      case TcpOpt.FAST_OPEN: // RFC 7413 §4.1.1: kind 34, length 2 + cookie.
        fastOpenOption(b, i + 2, olen - 2, false, out);
        break;
      case TcpOpt.EXP: // RFC 6994: kind 254, ExID; Fast Open's is 0xF989 (the cookie follows).
        if (olen >= 4 && ((b[i + 2]! << 8) | b[i + 3]!) === FAST_OPEN_MAGIC) fastOpenOption(b, i + 4, olen - 4, true, out);
        break;
      default:
        // RFC 9293 §3.1 MUST-6: an option we do not implement is ignored, its length field skipped.
        break;
    }
    i += olen;
  }
  return null;
}

/**
 * LINUX tcp_parse_fastopen_option: an even length of 0 (a cookie request) or 4..16 is a cookie;
 * any other length is an option present without a usable cookie (-1: ignored, as Linux does).
 */
function fastOpenOption(b: Uint8Array, at: number, len: number, exp: boolean, out: TcpRepr): void {
  if (len & 1) return;
  if (len !== 0 && (len < 4 || len > 16)) {
    out.fastOpen = -1;
    return;
  }
  out.fastOpen = len;
  out.fastOpenExp = exp;
  for (let k = 0; k < len; k++) out.fastOpenCookie[k] = b[at + k]!;
}

/** Bytes the Fast Open option takes, padded to 4 (LINUX tcp_options_write: NOP,NOP after an odd-word one). */
function fastOpenLength(r: TcpRepr): number {
  if (r.fastOpen < 0) return 0;
  return ((r.fastOpenExp ? 4 : 2) + r.fastOpen + 3) & ~3;
}

/** SACK blocks emitTcp writes: as many as fit beside a timestamp (3) or alone (4), RFC 2018 §3. */
function sackBlocksToEmit(r: TcpRepr): number {
  if (r.flags & SYN || r.sackCount <= 0) return 0;
  return Math.min(r.sackCount, r.hasTimestamp ? 3 : MAX_SACK_BLOCKS);
}

/** Bytes of options emitTcp writes for `r`, padded to a multiple of 4 (never more than 40). */
export function tcpOptionsLength(r: TcpRepr): number {
  let n = 0;
  if (r.flags & SYN) {
    if (r.mss >= 0) n += 4;
    if (r.hasTimestamp) n += 12;
    else if (r.sackPermitted) n += 4;
    if (r.wscale >= 0) n += 4;
    n += fastOpenLength(r);
  } else {
    if (r.hasTimestamp) n += 12;
    const k = sackBlocksToEmit(r);
    if (k > 0) n += 4 + 8 * k;
  }
  return (n + 3) & ~3;
}

/** TCP header length including options: 20 + tcpOptionsLength(r). */
export function tcpHeaderLength(r: TcpRepr): number {
  return TCP_HEADER_LEN + tcpOptionsLength(r);
}

/**
 * Write the options of `r` at buf[off] in Linux's layout (tcp_options_write()) and return the
 * bytes written (tcpOptionsLength(r)). On SYN: mss, then sackOK+TS packed together (or nop,nop,TS
 * or nop,nop,sackOK), then nop,wscale. Otherwise: nop,nop,TS then nop,nop,sack.
 */
export function emitTcpOptions(buf: Uint8Array, off: number, r: TcpRepr): number {
  // LINUX: tcp_options_write()'s layout, so captures of synack and of Linux look alike and
  // packetdrill scripts written against Linux match byte for byte.
  let p = off;
  if (r.flags & SYN) {
    if (r.mss >= 0) {
      buf[p] = TcpOpt.MSS;
      buf[p + 1] = 4;
      writeU16(buf, p + 2, r.mss);
      p += 4;
    }
    if (r.hasTimestamp) {
      if (r.sackPermitted) {
        buf[p] = TcpOpt.SACK_PERMITTED;
        buf[p + 1] = 2;
      } else {
        buf[p] = TcpOpt.NOP;
        buf[p + 1] = TcpOpt.NOP;
      }
      p = writeTimestamp(buf, p + 2, r);
    } else if (r.sackPermitted) {
      buf[p] = TcpOpt.NOP;
      buf[p + 1] = TcpOpt.NOP;
      buf[p + 2] = TcpOpt.SACK_PERMITTED;
      buf[p + 3] = 2;
      p += 4;
    }
    if (r.wscale >= 0) {
      buf[p] = TcpOpt.NOP;
      buf[p + 1] = TcpOpt.WSCALE;
      buf[p + 2] = 3;
      buf[p + 3] = r.wscale & 0xff;
      p += 4;
    }
    if (r.fastOpen >= 0) p = writeFastOpen(buf, p, r);
  } else {
    if (r.hasTimestamp) {
      buf[p] = TcpOpt.NOP;
      buf[p + 1] = TcpOpt.NOP;
      p = writeTimestamp(buf, p + 2, r);
    }
    const k = sackBlocksToEmit(r);
    if (k > 0) {
      buf[p] = TcpOpt.NOP;
      buf[p + 1] = TcpOpt.NOP;
      buf[p + 2] = TcpOpt.SACK;
      buf[p + 3] = 2 + 8 * k;
      p += 4;
      for (let j = 0; j < k; j++) {
        writeU32(buf, p, r.sackBlocks[2 * j]!);
        writeU32(buf, p + 4, r.sackBlocks[2 * j + 1]!);
        p += 8;
      }
    }
  }
  return p - off;
}

/** LINUX tcp_options_write OPTION_FAST_OPEN_COOKIE: kind, length (ExID), cookie, NOP padding. */
function writeFastOpen(buf: Uint8Array, p: number, r: TcpRepr): number {
  const len = (r.fastOpenExp ? 4 : 2) + r.fastOpen;
  buf[p] = r.fastOpenExp ? TcpOpt.EXP : TcpOpt.FAST_OPEN;
  buf[p + 1] = len;
  let q = p + 2;
  if (r.fastOpenExp) {
    writeU16(buf, q, FAST_OPEN_MAGIC);
    q += 2;
  }
  for (let k = 0; k < r.fastOpen; k++) buf[q++] = r.fastOpenCookie[k]!;
  while ((q - p) & 3) buf[q++] = TcpOpt.NOP;
  return q;
}

function writeTimestamp(buf: Uint8Array, p: number, r: TcpRepr): number {
  buf[p] = TcpOpt.TIMESTAMP;
  buf[p + 1] = 10;
  writeU32(buf, p + 2, r.tsVal);
  writeU32(buf, p + 6, r.tsEcr);
  return p + 10;
}

/**
 * Write the TCP header, options and payload of `r` at buf[off]; returns the bytes written. The
 * checksum uses the pseudo-header of src/dst (4 bytes: IPv4, 16: IPv6); with computeChecksum
 * false the field is left zero (for a link that offloads it).
 */
export function emitTcp(
  buf: Uint8Array,
  off: number,
  r: TcpRepr,
  src: Uint8Array,
  dst: Uint8Array,
  computeChecksum: boolean,
): number {
  const hlen = tcpHeaderLength(r);
  const total = hlen + r.payload.length;
  writeU16(buf, off, r.srcPort);
  writeU16(buf, off + 2, r.dstPort);
  writeU32(buf, off + 4, r.seq);
  writeU32(buf, off + 8, r.ack);
  buf[off + 12] = ((hlen >> 2) << 4) | ((r.flags >> 8) & 1);
  buf[off + 13] = r.flags & 0xff;
  writeU16(buf, off + 14, r.window);
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  writeU16(buf, off + 18, r.urgent);
  // Zero any padding after the options: `buf` may be a recycled frame (EOL, RFC 9293 §3.2).
  for (let i = off + TCP_HEADER_LEN + emitTcpOptions(buf, off + TCP_HEADER_LEN, r); i < off + hlen; i++) buf[i] = 0;
  if (r.payloadSrc !== null) r.payloadSrc.copyOut(buf, off + hlen, r.payloadFrom, r.payload.length);
  else copyBytes(buf, off + hlen, r.payload, 0, r.payload.length);
  if (computeChecksum) {
    // RFC 9293 §3.1: checksum over pseudo-header, header (checksum field zero) and data.
    const c = finishChecksum(sum16(buf, off, total, pseudoHeaderSum(src, dst, IPPROTO_TCP, total)));
    writeU16(buf, off + 16, c);
  }
  return total;
}

const SRC = new Uint8Array(16);
const DST = new Uint8Array(16);
const SRC4 = SRC.subarray(0, 4);
const DST4 = DST.subarray(0, 4);

/**
 * Build a whole IP packet (IPv4 or IPv6, from the addresses) carrying `r`, in one new
 * Uint8Array. TTL / hop limit default to 64 (Linux's ip_default_ttl), checksums are computed
 * unless opts.checksum is false. Throws a TypeError naming the bad argument.
 */
export function buildTcpPacket(
  src: string,
  dst: string,
  r: TcpRepr,
  opts?: { ttl?: number; ipId?: number; checksum?: boolean },
): Uint8Array {
  const sl = parseAddrInto(src, SRC, 0);
  if (sl === 0) throw new TypeError(`buildTcpPacket: src is not a valid IP address: ${JSON.stringify(src)}`);
  const dl = parseAddrInto(dst, DST, 0);
  if (dl === 0) throw new TypeError(`buildTcpPacket: dst is not a valid IP address: ${JSON.stringify(dst)}`);
  if (sl !== dl) {
    throw new TypeError(
      `buildTcpPacket: dst ${JSON.stringify(dst)} is IPv${dl === 4 ? 4 : 6} but src ${JSON.stringify(src)} is IPv${sl === 4 ? 4 : 6}`,
    );
  }
  const ttl = opts?.ttl ?? 64;
  const checksum = opts?.checksum ?? true;
  const tcpLen = tcpHeaderLength(r) + r.payload.length;
  const ipLen = sl === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
  const pkt = new Uint8Array(ipLen + tcpLen);
  const s = sl === 4 ? SRC4 : SRC;
  const d = dl === 4 ? DST4 : DST;
  if (sl === 4) emitIpv4Header(pkt, 0, s, d, IPPROTO_TCP, tcpLen, ttl, opts?.ipId ?? 0, checksum);
  else emitIpv6Header(pkt, 0, s, d, IPPROTO_TCP, tcpLen, ttl);
  emitTcp(pkt, ipLen, r, s, d, checksum);
  return pkt;
}
