/**
 * Ethernet II frames (RFC 894 for IPv4, RFC 2464 for IPv6): a 14-byte header of destination MAC,
 * source MAC and EtherType, then the payload. No FCS: TAP devices and the simulator's switch
 * carry frames without it, as Linux's packet sockets do. Also the link-layer address mappings
 * the Ethernet adapter needs (multicast MACs, EUI-64 link-local, solicited-node multicast).
 */

/** Named offsets of the Ethernet II header (DESIGN.md principle 4). */
export const EthField = {
  DST: 0,
  SRC: 6,
  ETHERTYPE: 12,
} as const;

/** Length of an Ethernet II header: two MACs and the EtherType. */
export const ETH_HEADER_LEN = 14;
/** Length of a MAC address. */
export const MAC_LEN = 6;
/** RFC 894: the data field is at least 46 octets, so a frame without FCS is at least 60 (ETH_ZLEN). */
export const ETH_MIN_FRAME = 60;

/** EtherType values (IEEE 802 numbers). */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
} as const;

/** ff:ff:ff:ff:ff:ff. */
export const BROADCAST_MAC: Readonly<Uint8Array> = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** The EtherType of an Ethernet II frame. */
export function etherType(frame: Uint8Array): number {
  return (frame[EthField.ETHERTYPE]! << 8) | frame[EthField.ETHERTYPE + 1]!;
}

/** Write the 14-byte header at buf[0]; returns 14. */
export function emitEthernetHeader(buf: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): number {
  for (let i = 0; i < MAC_LEN; i++) {
    buf[EthField.DST + i] = dst[i]!;
    buf[EthField.SRC + i] = src[i]!;
  }
  buf[EthField.ETHERTYPE] = (type >> 8) & 0xff;
  buf[EthField.ETHERTYPE + 1] = type & 0xff;
  return ETH_HEADER_LEN;
}

/** IEEE 802: the I/G bit (least significant bit of the first octet) marks group addresses. */
export function isGroupMac(b: Uint8Array, off = 0): boolean {
  return (b[off]! & 1) === 1;
}

/** True for ff:ff:ff:ff:ff:ff at `off`. */
export function isBroadcastMac(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < MAC_LEN; i++) if (b[off + i] !== 0xff) return false;
  return true;
}

/** Compare two MACs in place. */
export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < MAC_LEN; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** "02:00:5e:10:00:01" (lower case, colons, as `ip link` prints it). */
export function formatMac(b: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < MAC_LEN; i++) {
    const v = b[off + i]!;
    s += (i ? ':' : '') + (v < 16 ? '0' : '') + v.toString(16);
  }
  return s;
}

/** "02:00:5e:10:00:01" or "02-00-5e-10-00-01" → 6 bytes, else null. */
export function parseMac(s: string): Uint8Array | null {
  if (typeof s !== 'string') return null;
  const m = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(s);
  if (m === null) return null;
  return new Uint8Array([m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h!, 16)));
}

/** RFC 1112 §6.4: an IPv4 multicast group maps to 01:00:5e plus its low 23 bits. */
export function ipv4MulticastMac(addr: Uint8Array, off = 0): Uint8Array {
  return new Uint8Array([0x01, 0x00, 0x5e, addr[off + 1]! & 0x7f, addr[off + 2]!, addr[off + 3]!]);
}

/** RFC 2464 §7: an IPv6 multicast address maps to 33:33 plus its last four octets. */
export function ipv6MulticastMac(addr: Uint8Array, off = 0): Uint8Array {
  return new Uint8Array([0x33, 0x33, addr[off + 12]!, addr[off + 13]!, addr[off + 14]!, addr[off + 15]!]);
}

/**
 * RFC 4291 §2.7.1: the solicited-node multicast address of `addr` is ff02::1:ff00:0/104 plus the
 * address's low 24 bits.
 */
export function solicitedNodeAddr(addr: Uint8Array, off = 0): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = addr[off + 13]!;
  out[14] = addr[off + 14]!;
  out[15] = addr[off + 15]!;
  return out;
}

/**
 * RFC 2464 §4-5 / RFC 4291 Appendix A: the link-local address fe80::/64 with the modified EUI-64
 * interface identifier of a MAC (ff:fe in the middle, the universal/local bit inverted).
 */
export function linkLocalFromMac(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out[8] = mac[0]! ^ 0x02;
  out[9] = mac[1]!;
  out[10] = mac[2]!;
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3]!;
  out[14] = mac[4]!;
  out[15] = mac[5]!;
  return out;
}
