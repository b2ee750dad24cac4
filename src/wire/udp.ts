/**
 * UDP (RFC 768) header view: parse into a reusable UdpRepr, emit in place. Bad input from the
 * wire is reported as a reason, never thrown (DESIGN.md principle 12).
 *
 * ```
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |     Source      |   Destination   |
 * |      Port       |      Port       |
 * +--------+--------+--------+--------+
 * |     Length      |    Checksum     |
 * +--------+--------+--------+--------+
 * ```
 */
import { finishChecksum, pseudoHeaderSum, pseudoHeaderSumAt, sum16 } from './checksum.js';
import { parseAddr } from './addr.js';
import { emitIpv4Header, emitIpv6Header, IPPROTO_UDP, IPV4_HEADER_LEN, IPV6_HEADER_LEN, isFragment, type IpRepr } from './ip.js';

/** Length of the UDP header (RFC 768). */
export const UDP_HEADER_LEN = 8;

/** Named offsets of the header fields (smoltcp wire/udp.rs `mod field`). */
export const UdpField = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;

/** The largest UDP payload: IPv4 Total Length 65535 − 20 − 8; IPv6 Payload Length 65535 − 8. */
export const UDP_MAX_PAYLOAD_V4 = 65507;
/** Largest UDP payload over IPv6 without jumbograms. */
export const UDP_MAX_PAYLOAD_V6 = 65527;

/** A parsed UDP header: ports, length and a view of the payload. */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** Offset of the payload in the frame, and its length (the UDP Length field's, minus 8). */
  payloadOffset: number;
  payloadLength: number;
  /** The checksum field as received (0: none sent, IPv4 only). */
  checksum: number;
}

/** An empty UdpRepr to parse into. */
export function newUdpRepr(): UdpRepr {
  return { srcPort: 0, dstPort: 0, payloadOffset: 0, payloadLength: 0, checksum: 0 };
}

/** Why a UDP datagram was dropped (counted by the stack as Drop.<reason>). */
export type UdpDropReason = 'not-udp' | 'ip-fragment' | 'udp-truncated' | 'bad-udp-length' | 'bad-udp-checksum' | 'udp-zero-checksum-v6';

/** Every reason a UDP datagram is dropped, for counters. */
export const UDP_DROP_REASONS: readonly UdpDropReason[] = Object.freeze([
  'not-udp', 'ip-fragment', 'udp-truncated', 'bad-udp-length', 'bad-udp-checksum', 'udp-zero-checksum-v6',
] as const);

/**
 * Parse the UDP datagram after the IP header `ip` describes (parseIpHeader on the same frame:
 * the checksum reads the addresses from it). Bytes past the UDP Length field are ignored, as
 * Linux trims them (LINUX __udp4_lib_rcv: pskb_trim_rcsum to ulen). Returns null or why to drop.
 */
export function parseUdp(frame: Uint8Array, ip: IpRepr, out: UdpRepr, verifyChecksum: boolean): UdpDropReason | null {
  if (isFragment(ip)) return 'ip-fragment';
  if (ip.protocol !== IPPROTO_UDP) return 'not-udp';
  const start = ip.headerLength;
  const avail = ip.payloadLength;
  if (avail < UDP_HEADER_LEN || start + avail > frame.length) return 'udp-truncated';
  // RFC 768: Length counts header and data, so at least 8; it cannot claim more than arrived
  // (LINUX __udp4_lib_rcv: ulen > skb->len or ulen < sizeof(*uh) → short_packet).
  const ulen = (frame[start + UdpField.LENGTH]! << 8) | frame[start + UdpField.LENGTH + 1]!;
  const v4 = ip.version === 4;
  // RFC 2675 §4 jumbograms (Length 0 over IPv6) are not supported: such a datagram is dropped.
  if (ulen < UDP_HEADER_LEN || ulen > avail) return 'bad-udp-length';
  const checksum = (frame[start + UdpField.CHECKSUM]! << 8) | frame[start + UdpField.CHECKSUM + 1]!;
  if (checksum === 0) {
    // RFC 768: an all-zero checksum means the sender computed none (IPv4). RFC 8200 §8.1: over
    // IPv6 the checksum is mandatory and a zero one is discarded (LINUX udp6_csum_init).
    if (!v4) return 'udp-zero-checksum-v6';
  } else if (verifyChecksum) {
    // RFC 768: one's complement sum over the pseudo-header, the header and the data.
    let acc = pseudoHeaderSumAt(frame, v4 ? 12 : 8, v4 ? 16 : 24, v4 ? 4 : 16, IPPROTO_UDP, ulen);
    acc = sum16(frame, start, ulen, acc);
    if (finishChecksum(acc) !== 0) return 'bad-udp-checksum';
  }
  out.srcPort = (frame[start]! << 8) | frame[start + 1]!;
  out.dstPort = (frame[start + 2]! << 8) | frame[start + 3]!;
  out.payloadOffset = start + UDP_HEADER_LEN;
  out.payloadLength = ulen - UDP_HEADER_LEN;
  out.checksum = checksum;
  return null;
}

/**
 * Write a UDP header at buf[off] for `payloadLength` bytes of data that are already at
 * buf[off + 8], and its checksum over src/dst (4 bytes: IPv4, 16: IPv6) unless the link
 * offloads it. Returns 8.
 */
export function emitUdp(
  buf: Uint8Array, off: number, srcPort: number, dstPort: number, payloadLength: number,
  src: Uint8Array, dst: Uint8Array, computeChecksum: boolean,
): number {
  const len = UDP_HEADER_LEN + payloadLength;
  buf[off] = srcPort >>> 8;
  buf[off + 1] = srcPort & 0xff;
  buf[off + 2] = dstPort >>> 8;
  buf[off + 3] = dstPort & 0xff;
  buf[off + 4] = (len >>> 8) & 0xff;
  buf[off + 5] = len & 0xff;
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  if (computeChecksum) {
    let c = finishChecksum(sum16(buf, off, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)));
    // RFC 768: a computed checksum of zero is sent as all ones (zero means "none").
    if (c === 0) c = 0xffff;
    buf[off + 6] = c >>> 8;
    buf[off + 7] = c & 0xff;
  }
  return UDP_HEADER_LEN;
}

/**
 * Build a whole IP packet (IPv4 or IPv6, from the addresses) carrying one UDP datagram, in one
 * new Uint8Array, checksums computed (for tests and tools, as buildTcpPacket). TTL 64; IPv4 DF
 * clear. Throws a TypeError naming the bad argument.
 */
export function buildUdpPacket(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array, opts?: { ttl?: number }): Uint8Array {
  const s = parseAddr(src);
  if (s === null) throw new TypeError(`buildUdpPacket: src is not a valid IP address: ${JSON.stringify(src)}`);
  const d = parseAddr(dst);
  if (d === null || d.length !== s.length) throw new TypeError(`buildUdpPacket: dst ${JSON.stringify(dst)} is not an address of the family of src ${JSON.stringify(src)}`);
  const hdr = s.length === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
  const len = UDP_HEADER_LEN + payload.length;
  const f = new Uint8Array(hdr + len);
  if (s.length === 4) emitIpv4Header(f, 0, s, d, IPPROTO_UDP, len, opts?.ttl ?? 64, 0, true, 0);
  else emitIpv6Header(f, 0, s, d, IPPROTO_UDP, len, opts?.ttl ?? 64);
  f.set(payload, hdr + UDP_HEADER_LEN);
  emitUdp(f, hdr, srcPort, dstPort, payload.length, s, d, true);
  return f;
}
