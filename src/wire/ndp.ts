/**
 * Neighbor Discovery (RFC 4861) neighbour solicitation (type 135) and advertisement (136): the
 * ICMPv6 messages with their source/target link-layer address options, parsed from and emitted
 * into whole IPv6 packets. The other ND messages (RS 133, RA 134, redirect 137) are not parsed
 * here: the adapter passes them up to IP untouched.
 */
import { formatAddr } from './addr.js';
import { finishChecksum, pseudoHeaderSum, pseudoHeaderSumAt, sum16 } from './checksum.js';
import { emitIpv6Header, IPV6_HEADER_LEN, type IpRepr, IPPROTO_ICMPV6 } from './ip.js';

/** ICMPv6's protocol number, defined once in ip.ts (re-exported for NDP users). */
export { IPPROTO_ICMPV6 };

export const NdpType = {
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

/** Named offsets of NS/NA, relative to the ICMPv6 header (RFC 4861 §4.3, §4.4). */
export const NdpField = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  /** NA: R S O flags in the first byte; NS: reserved. */
  FLAGS: 4,
  TARGET: 8,
  OPTIONS: 24,
} as const;

/** RFC 4861 §4.4 NA flags (bits of the byte at FLAGS). */
export const NaFlag = {
  ROUTER: 0x80,
  SOLICITED: 0x40,
  OVERRIDE: 0x20,
} as const;

/** RFC 4861 §4.6.1 option types. */
export const NdpOpt = {
  SOURCE_LLADDR: 1,
  TARGET_LLADDR: 2,
} as const;

export const NDP_NS_NA_LEN = 24;
/** A link-layer address option for Ethernet: type, length 1 (8 octets), 6-byte MAC. */
export const NDP_LLADDR_OPT_LEN = 8;

export type NdpDropReason =
  | 'ndp-bad-hop-limit'
  | 'ndp-bad-checksum'
  | 'ndp-bad-code'
  | 'ndp-truncated'
  | 'ndp-multicast-target'
  | 'ndp-bad-option'
  | 'ndp-dad-with-lladdr'
  | 'ndp-dad-bad-destination'
  | 'ndp-solicited-to-multicast';

export interface NdpRepr {
  type: number;
  /** NA flags (NaFlag bits); 0 for NS. */
  flags: number;
  /** Target address (16 bytes, owned by the repr) and its text. */
  target: Uint8Array;
  targetText: string;
  /** The source (NS) or target (NA) link-layer address option, when present. */
  lladdr: Uint8Array;
  hasLladdr: boolean;
  /** True for an NS from the unspecified address (duplicate address detection, RFC 4862 §5.4.2). */
  fromUnspecified: boolean;
}

export function newNdpRepr(): NdpRepr {
  return { type: 0, flags: 0, target: new Uint8Array(16), targetText: '', lladdr: new Uint8Array(6), hasLladdr: false, fromUnspecified: false };
}

function isUnspecified(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (b[off + i] !== 0) return false;
  return true;
}

/**
 * Parse an NS or NA from an IPv6 packet `pkt` already parsed into `ip` (protocol 58, type 135 or
 * 136 checked by the caller with `ndpType`). Applies RFC 4861 §7.1.1 (NS) and §7.1.2 (NA)
 * validation. Returns null when valid, else why to drop.
 */
export function parseNdp(pkt: Uint8Array, ip: IpRepr, out: NdpRepr): NdpDropReason | null {
  const start = ip.headerLength;
  const len = ip.payloadLength;
  // RFC 4861 §7.1.1/§7.1.2: the IP Hop Limit is 255 (the packet cannot come from off-link).
  if (ip.ttl !== 255) return 'ndp-bad-hop-limit';
  if (len < NDP_NS_NA_LEN) return 'ndp-truncated';
  // RFC 4443 §2.3: the checksum covers the pseudo-header and the whole ICMPv6 message.
  let acc = pseudoHeaderSumAt(pkt, 8, 24, 16, IPPROTO_ICMPV6, len);
  acc = sum16(pkt, start, len, acc);
  if (finishChecksum(acc) !== 0) return 'ndp-bad-checksum';
  if (pkt[start + NdpField.CODE] !== 0) return 'ndp-bad-code';
  out.type = pkt[start + NdpField.TYPE]!;
  out.flags = out.type === NdpType.NEIGHBOR_ADVERT ? pkt[start + NdpField.FLAGS]! & 0xe0 : 0;
  out.target.set(pkt.subarray(start + NdpField.TARGET, start + NdpField.TARGET + 16));
  if (out.target[0] === 0xff) return 'ndp-multicast-target';
  out.hasLladdr = false;
  out.fromUnspecified = isUnspecified(pkt, 8);
  const wanted = out.type === NdpType.NEIGHBOR_SOLICIT ? NdpOpt.SOURCE_LLADDR : NdpOpt.TARGET_LLADDR;
  // RFC 4861 §4.6: options are (type, length in 8-octet units, data); a zero length is invalid.
  for (let o = start + NdpField.OPTIONS, end = start + len; o < end; ) {
    if (o + 2 > end) return 'ndp-bad-option';
    const olen = pkt[o + 1]! * 8;
    if (olen === 0 || o + olen > end) return 'ndp-bad-option';
    if (pkt[o] === wanted && olen >= NDP_LLADDR_OPT_LEN) {
      out.lladdr.set(pkt.subarray(o + 2, o + 8));
      out.hasLladdr = true;
    }
    o += olen;
  }
  if (out.type === NdpType.NEIGHBOR_SOLICIT && out.fromUnspecified) {
    // RFC 4861 §7.1.1: from the unspecified address, the destination is a solicited-node
    // multicast address and there is no source link-layer address option.
    if (out.hasLladdr) return 'ndp-dad-with-lladdr';
    if (!(pkt[24] === 0xff && pkt[25] === 0x02 && pkt[35] === 0x01 && pkt[36] === 0xff)) return 'ndp-dad-bad-destination';
  }
  // RFC 4861 §7.1.2: an NA to a multicast destination has the Solicited flag clear.
  if (out.type === NdpType.NEIGHBOR_ADVERT && pkt[24] === 0xff && (out.flags & NaFlag.SOLICITED) !== 0) return 'ndp-solicited-to-multicast';
  out.targetText = formatAddr(out.target, 0, 16);
  return null;
}

/** The ICMPv6 type of an IPv6 packet parsed into `ip`, or -1 when it is not ICMPv6. */
export function icmpv6Type(pkt: Uint8Array, ip: IpRepr): number {
  if (ip.version !== 6 || ip.protocol !== IPPROTO_ICMPV6 || ip.payloadLength < 4) return -1;
  return pkt[ip.headerLength]!;
}

/** Bytes of a whole IPv6 NS/NA packet with (or without) the link-layer option. */
export function ndpPacketLength(withLladdr: boolean): number {
  return IPV6_HEADER_LEN + NDP_NS_NA_LEN + (withLladdr ? NDP_LLADDR_OPT_LEN : 0);
}

/**
 * Write a whole IPv6 NS or NA packet at buf[off] (hop limit 255, checksum computed). `lladdr`
 * (our MAC) becomes the source (NS) or target (NA) link-layer address option; null omits it
 * (RFC 4861 §4.3: an NS from the unspecified address must not carry one). Returns its length.
 */
export function emitNdp(
  buf: Uint8Array,
  off: number,
  type: typeof NdpType.NEIGHBOR_SOLICIT | typeof NdpType.NEIGHBOR_ADVERT,
  src: Uint8Array,
  dst: Uint8Array,
  target: Uint8Array,
  flags: number,
  lladdr: Uint8Array | null,
): number {
  const icmpLen = NDP_NS_NA_LEN + (lladdr ? NDP_LLADDR_OPT_LEN : 0);
  emitIpv6Header(buf, off, src, dst, IPPROTO_ICMPV6, icmpLen, 255);
  const m = off + IPV6_HEADER_LEN;
  buf.fill(0, m, m + icmpLen);
  buf[m + NdpField.TYPE] = type;
  if (type === NdpType.NEIGHBOR_ADVERT) buf[m + NdpField.FLAGS] = flags & 0xe0;
  buf.set(target.subarray(0, 16), m + NdpField.TARGET);
  if (lladdr) {
    const o = m + NdpField.OPTIONS;
    buf[o] = type === NdpType.NEIGHBOR_SOLICIT ? NdpOpt.SOURCE_LLADDR : NdpOpt.TARGET_LLADDR;
    buf[o + 1] = 1;
    buf.set(lladdr.subarray(0, 6), o + 2);
  }
  const c = finishChecksum(sum16(buf, m, icmpLen, pseudoHeaderSum(src, dst, IPPROTO_ICMPV6, icmpLen)));
  buf[m + NdpField.CHECKSUM] = c >> 8;
  buf[m + NdpField.CHECKSUM + 1] = c & 0xff;
  return IPV6_HEADER_LEN + icmpLen;
}
