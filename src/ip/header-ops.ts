/**
 * Operations on IP headers that the IP layer needs beside the wire/ decoder: finding the Next
 * Header byte for an ICMPv6 parameter problem, re-reading a stored first fragment, and the TTL
 * decrement of a forwarded datagram.
 */
import { IPV6_HEADER_LEN, parseIpHeader, type IpRepr } from '../wire/ip.js';

/** Offset of the Next Header byte naming the upper protocol (IPv6 header or last extension header). */
export function nextHeaderPointer(frame: Uint8Array, ip: IpRepr): number {
  if (ip.headerLength === IPV6_HEADER_LEN) return 6;
  // Walk again to find the last extension header's start (its Next Header is its first byte).
  let off = IPV6_HEADER_LEN;
  let nh = frame[6]!;
  let last = 6;
  while (off < ip.headerLength && (nh === 0 || nh === 43 || nh === 60 || nh === 44)) {
    const len = nh === 44 ? 8 : (frame[off + 1]! + 1) * 8;
    last = off;
    nh = frame[off]!;
    off += len;
  }
  return last;
}

/** Parse a stored first fragment's header (its payload may be cut short: lengths are not checked). */
export function parseIpHeaderLenient(first: Uint8Array, ip: IpRepr): boolean {
  const copy = first.slice();
  if (copy[0]! >> 4 === 4) {
    copy[2] = copy.length >> 8;
    copy[3] = copy.length & 0xff;
  } else {
    const plen = copy.length - IPV6_HEADER_LEN;
    copy[4] = plen >> 8;
    copy[5] = plen & 0xff;
  }
  return parseIpHeader(copy, ip, false) === null;
}

/** RFC 1624 incremental checksum update for a TTL decrement (RFC 1812 §5.3.1). */
export function decrementTtl(f: Uint8Array): void {
  f[8] = f[8]! - 1;
  let sum = ((f[10]! << 8) | f[11]!) + 0x0100;
  sum = (sum & 0xffff) + (sum >> 16);
  f[10] = sum >> 8;
  f[11] = sum & 0xff;
}

