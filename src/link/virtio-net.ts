/**
 * The virtio_net_hdr a TUN/TAP device with IFF_VNET_HDR puts in front of every packet (the
 * `struct virtio_net_hdr` of the virtio spec §5.1.6, Linux include/uapi/linux/virtio_net.h), and
 * the software side of the offloads it negotiates: filling in what the kernel leaves partial,
 * and cutting a GSO packet into the real segments a capture or a peer needs.
 *
 * Offsets in the header (csum_start, hdr_len) count from the start of the frame the device
 * carries: the IP header on TUN, the Ethernet header on TAP (`l3` below is where IP starts).
 * The header is little-endian (native/tun.c sets TUNSETVNETLE).
 */
import { finishChecksum, pseudoHeaderSumAt, sum16 } from '../wire/checksum.js';
import { IPPROTO_TCP, IPPROTO_UDP, NH_DSTOPTS, NH_HOPOPTS, NH_ROUTING } from '../wire/ip.js';

/** sizeof(struct virtio_net_hdr) without num_buffers. */
export const VIRTIO_NET_HDR_LEN = 10;
/** flags: the checksum at csum_start + csum_offset holds only the pseudo-header sum. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** flags: the sender vouches for the checksums (LINUX CHECKSUM_UNNECESSARY). */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** UFO: one UDP datagram to be IP-fragmented (never negotiated by synack). */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** USO: many UDP datagrams of gso_size payload bytes each (Linux 6.2, TUN_F_USO4/6). */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** gso_type bit: the TCP packet has CWR set (it goes on the first segment only). */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** TUNSETOFFLOAD flags (include/uapi/linux/if_tun.h). */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_USO4 = 0x20;
export const TUN_F_USO6 = 0x40;

/** The header's fields, named as in the virtio spec. */
export interface VirtioNetHdr {
  flags: number;
  gsoType: number;
  /** Bytes of headers (link + IP + transport) before the payload GSO cuts up. */
  hdrLen: number;
  /** Payload bytes per segment. */
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function newVirtioNetHdr(): VirtioNetHdr {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const be16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
function putLe16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
function putBe16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** Read the header at buf[off..off+10] into `out`. The caller checks the length. */
export function parseVirtioNetHdr(buf: Uint8Array, off: number, out: VirtioNetHdr): VirtioNetHdr {
  out.flags = buf[off]!;
  out.gsoType = buf[off + 1]!;
  out.hdrLen = le16(buf, off + 2);
  out.gsoSize = le16(buf, off + 4);
  out.csumStart = le16(buf, off + 6);
  out.csumOffset = le16(buf, off + 8);
  return out;
}

/** Write `h` at buf[off..off+10]. */
export function emitVirtioNetHdr(buf: Uint8Array, off: number, h: VirtioNetHdr): void {
  buf[off] = h.flags & 0xff;
  buf[off + 1] = h.gsoType & 0xff;
  putLe16(buf, off + 2, h.hdrLen);
  putLe16(buf, off + 4, h.gsoSize);
  putLe16(buf, off + 6, h.csumStart);
  putLe16(buf, off + 8, h.csumOffset);
}

/** Where an IP packet's transport header starts and what it is (see `transportOf`). */
export interface TransportAt {
  /** Offset of the transport header in the frame. */
  off: number;
  protocol: number;
  /** End of the IP packet in the frame (IPv4 Total Length / IPv6 Payload Length; padding excluded). */
  end: number;
}

/**
 * Find the transport header of the IP packet at frame[l3..]: IPv4's IHL, IPv6's fixed header and
 * the extension headers a sender puts before it (hop-by-hop, routing, destination options).
 * False for fragments (their checksum covers the whole datagram) and malformed packets.
 */
export function transportOf(frame: Uint8Array, l3: number, out: TransportAt): boolean {
  if (frame.length < l3 + 20) return false;
  const v = frame[l3]! >> 4;
  if (v === 4) {
    const ihl = (frame[l3]! & 15) * 4;
    const total = be16(frame, l3 + 2);
    if (ihl < 20 || total < ihl || l3 + total > frame.length) return false;
    if ((be16(frame, l3 + 6) & 0x3fff) !== 0) return false; // MF or an offset: a fragment
    out.off = l3 + ihl;
    out.protocol = frame[l3 + 9]!;
    out.end = l3 + total;
    return true;
  }
  if (v !== 6 || frame.length < l3 + 40) return false;
  const end = l3 + 40 + be16(frame, l3 + 4);
  if (end > frame.length) return false;
  let nh = frame[l3 + 6]!;
  let off = l3 + 40;
  // RFC 8200 §4.1: the extension headers a source may put before the upper layer.
  while (nh === NH_HOPOPTS || nh === NH_ROUTING || nh === NH_DSTOPTS) {
    if (off + 8 > end) return false;
    const next = frame[off]!;
    off += (frame[off + 1]! + 1) * 8;
    nh = next;
  }
  if (off > end) return false;
  out.off = off;
  out.protocol = nh;
  out.end = end;
  return true;
}

/** Offset of the checksum field inside TCP (RFC 9293 §3.1) and UDP (RFC 768) headers. */
export function checksumFieldOffset(protocol: number): number {
  return protocol === IPPROTO_TCP ? 16 : protocol === IPPROTO_UDP ? 6 : -1;
}

/** Sum of the pseudo-header of the IP packet at l3 for a transport length `len` (unfolded). */
function pseudoSum(frame: Uint8Array, l3: number, protocol: number, len: number): number {
  const v4 = frame[l3]! >> 4 === 4;
  return pseudoHeaderSumAt(frame, l3 + (v4 ? 12 : 8), l3 + (v4 ? 16 : 24), v4 ? 4 : 16, protocol, len);
}

/** Fold an accumulator into 16 bits without complementing it. */
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return acc;
}

/** RFC 791 §3.1: recompute the IPv4 header checksum of the packet at l3. */
export function fillIpv4HeaderChecksum(frame: Uint8Array, l3: number): void {
  const ihl = (frame[l3]! & 15) * 4;
  frame[l3 + 10] = 0;
  frame[l3 + 11] = 0;
  putBe16(frame, l3 + 10, finishChecksum(sum16(frame, l3, ihl)));
}

/** RFC 791 §3.1: does the IPv4 header at l3 sum to all ones? */
export function ipv4HeaderChecksumOk(frame: Uint8Array, l3: number): boolean {
  const ihl = (frame[l3]! & 15) * 4;
  return ihl >= 20 && frame.length >= l3 + ihl && finishChecksum(sum16(frame, l3, ihl)) === 0;
}

/**
 * Complete a partial checksum: sum from `start` to `end` (the field already holds the
 * pseudo-header sum) and store the complement at start + offset. A UDP checksum that comes out 0
 * is sent as 0xffff (RFC 768: 0 means none); a TCP one stays 0x0000 (RFC 9293 §3.1: the
 * complement of the sum, never 0xffff for a segment that is not all zeros; Wireshark reports
 * 0xffff as an illegal TCP checksum). LINUX skb_checksum_help mangles a zero to 0xffff for every
 * protocol (`?: CSUM_MANGLED_0`: it does not know which); here the transport is known.
 */
export function completeChecksum(frame: Uint8Array, start: number, offset: number, end: number, udp: boolean): void {
  const c = finishChecksum(sum16(frame, start, end - start));
  putBe16(frame, start + offset, c === 0 && udp ? 0xffff : c);
}

/**
 * Prepare an outgoing packet (IP at l3) whose TCP/UDP checksum the stack left to the link: fill
 * the IPv4 header checksum (never offloaded), seed the transport checksum with the pseudo-header
 * sum and describe it in `h` as NEEDS_CSUM; a TCP packet longer than `mtu` (IP bytes) becomes a
 * TSO packet with gso_size = mtu minus its headers. LINUX: virtio_net_hdr_from_skb, tcp_gso.
 * Returns false when the packet is not one the kernel can finish (the caller then computes the
 * checksums itself with `finishInSoftware`).
 */
export function prepareOffloadTx(frame: Uint8Array, l3: number, mtu: number, h: VirtioNetHdr, t: TransportAt): boolean {
  h.flags = 0;
  h.gsoType = VIRTIO_NET_HDR_GSO_NONE;
  h.hdrLen = 0;
  h.gsoSize = 0;
  h.csumStart = 0;
  h.csumOffset = 0;
  if (frame.length < l3 + 20) return true;
  const v4 = frame[l3]! >> 4 === 4;
  if (v4) fillIpv4HeaderChecksum(frame, l3);
  if (!transportOf(frame, l3, t)) return true; // a fragment: the stack computed its checksum
  const field = checksumFieldOffset(t.protocol);
  if (field < 0) return true; // ICMP and the rest: the stack always computes them
  const len = t.end - t.off;
  if (len < field + 2) return false;
  putBe16(frame, t.off + field, fold(pseudoSum(frame, l3, t.protocol, len)));
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.csumStart = t.off;
  h.csumOffset = field;
  if (t.protocol === IPPROTO_TCP && t.end - l3 > mtu && len >= 20) {
    const hdrs = t.off + (frame[t.off + 12]! >> 4) * 4;
    const gsoSize = mtu - (hdrs - l3);
    if (gsoSize <= 0 || hdrs > t.end) return false;
    h.gsoType = (v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) | (frame[t.off + 13]! & 0x80 ? VIRTIO_NET_HDR_GSO_ECN : 0);
    h.gsoSize = gsoSize;
    h.hdrLen = hdrs;
  }
  return true;
}

/**
 * Verify in software what a device without a checksum flag hands us: the IPv4 header checksum
 * and the TCP/UDP checksum (an IPv4 UDP checksum of 0 means none, RFC 768). Other protocols and
 * fragments are left to the stack's own checks (ICMP is always verified there).
 */
export function checksumsOk(frame: Uint8Array, l3: number, t: TransportAt): boolean {
  if (frame.length < l3 + 1) return false;
  const v4 = frame[l3]! >> 4 === 4;
  if (v4 && !ipv4HeaderChecksumOk(frame, l3)) return false;
  if (!transportOf(frame, l3, t)) return true;
  const field = checksumFieldOffset(t.protocol);
  if (field < 0) return true;
  const len = t.end - t.off;
  if (len < field + 2) return false;
  if (v4 && t.protocol === IPPROTO_UDP && be16(frame, t.off + 6) === 0) return true;
  return finishChecksum(sum16(frame, t.off, len, pseudoSum(frame, l3, t.protocol, len))) === 0;
}

/**
 * Cut a GSO packet (IP at l3, link header before it copied as is) into the real segments it
 * stands for, each with complete checksums: TCP segments of `gsoSize` payload bytes (LINUX
 * tcp_gso_segment: consecutive sequence numbers, CWR on the first only, FIN and PSH on the last
 * only; inet_gso_segment: IPv4 IDs counting up) or UDP datagrams of `gsoSize` payload bytes each
 * (LINUX __udp_gso_segment). Anything else comes back as one copy with its checksums filled.
 * Allocates: this is the path for captures and for USO datagrams, not the TCP fast path.
 */
export function gsoSegment(frame: Uint8Array, l3: number, gsoSize: number): Uint8Array[] {
  const t: TransportAt = { off: 0, protocol: 0, end: 0 };
  const v4 = frame.length > l3 && frame[l3]! >> 4 === 4;
  if (!transportOf(frame, l3, t) || checksumFieldOffset(t.protocol) < 0) {
    const copy = frame.slice();
    if (v4 && copy.length >= l3 + 20) fillIpv4HeaderChecksum(copy, l3);
    return [copy];
  }
  const tcp = t.protocol === IPPROTO_TCP;
  const thl = tcp ? (frame[t.off + 12]! >> 4) * 4 : 8;
  const hdrs = t.off + thl;
  if (hdrs > t.end || (tcp && thl < 20)) return [];
  const payload = t.end - hdrs;
  const step = gsoSize > 0 ? gsoSize : Math.max(1, payload);
  const n = Math.max(1, Math.ceil(payload / step));
  const seq0 = tcp ? ((be16(frame, t.off + 4) * 0x10000) + be16(frame, t.off + 6)) : 0;
  const id0 = v4 ? be16(frame, l3 + 4) : 0;
  const flags0 = tcp ? frame[t.off + 13]! : 0;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const from = hdrs + i * step;
    const chunk = Math.min(step, t.end - from);
    const seg = new Uint8Array(hdrs + chunk);
    seg.set(frame.subarray(0, hdrs));
    seg.set(frame.subarray(from, from + chunk), hdrs);
    const l4len = thl + chunk;
    if (v4) {
      putBe16(seg, l3 + 2, hdrs - l3 + chunk);
      putBe16(seg, l3 + 4, (id0 + i) & 0xffff);
      fillIpv4HeaderChecksum(seg, l3);
    } else {
      putBe16(seg, l3 + 4, hdrs - l3 - 40 + chunk);
    }
    if (tcp) {
      const seq = (seq0 + i * step) % 0x1_0000_0000;
      putBe16(seg, t.off + 4, Math.floor(seq / 0x10000));
      putBe16(seg, t.off + 6, seq & 0xffff);
      let f = flags0;
      if (i < n - 1) f &= ~0x09; // FIN and PSH on the last segment only
      if (i > 0) f &= ~0x80; // CWR on the first only
      seg[t.off + 13] = f;
    } else {
      putBe16(seg, t.off + 4, l4len);
    }
    const field = t.off + checksumFieldOffset(t.protocol);
    putBe16(seg, field, fold(pseudoSum(seg, l3, t.protocol, l4len)));
    completeChecksum(seg, t.off, field - t.off, seg.length, t.protocol === IPPROTO_UDP);
    out.push(seg);
  }
  return out;
}

/**
 * What a capture or a peer without offloads must see for a packet (IP at l3) that crossed an
 * offloading link: real segments no larger than `mtu` IP bytes with complete checksums.
 */
export function realSegments(frame: Uint8Array, l3: number, mtu: number): Uint8Array[] {
  const t: TransportAt = { off: 0, protocol: 0, end: 0 };
  if (!transportOf(frame, l3, t) || t.protocol !== IPPROTO_TCP || t.end - l3 <= mtu || t.end - t.off < 20) return gsoSegment(frame, l3, 0);
  const hdrs = t.off + (frame[t.off + 12]! >> 4) * 4;
  return gsoSegment(frame, l3, Math.max(1, mtu - (hdrs - l3)));
}
