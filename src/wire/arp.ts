/**
 * ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet after an Ethernet header with
 * EtherType 0x0806. Parse into a reusable ArpRepr (no allocation: the addresses are copied into
 * the repr's own arrays), emit in place. Bad input is a reason, never an exception.
 */
import { formatAddr } from './addr.js';

/** Named offsets of the ARP packet, relative to its start (RFC 826 "Packet format"). */
export const ArpField = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OPER: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
} as const;

/** Length of an ARP packet for IPv4 over Ethernet (RFC 826). */
export const ARP_LEN = 28;
/** RFC 826 ar$hrd: 1 = Ethernet (IANA "Hardware Types"). */
export const ARP_HTYPE_ETHERNET = 1;
/** ARP's protocol type for IPv4. */
export const ARP_PTYPE_IPV4 = 0x0800;

/** ARP operation codes (RFC 826). */
export const ArpOp = {
  REQUEST: 1,
  REPLY: 2,
} as const;

/** Why an ARP packet was dropped. */
export type ArpDropReason = 'arp-truncated' | 'arp-bad-hardware' | 'arp-bad-protocol' | 'arp-bad-op';

/** A parsed ARP packet: operation, sender and target hardware and protocol addresses. */
export interface ArpRepr {
  op: number;
  /** Sender hardware address (6 bytes, owned by the repr). */
  sha: Uint8Array;
  /** Sender protocol address (4 bytes) and its text. */
  spa: Uint8Array;
  spaText: string;
  tha: Uint8Array;
  tpa: Uint8Array;
  tpaText: string;
}

/** An empty ArpRepr to parse into or fill before emitting. */
export function newArpRepr(): ArpRepr {
  return { op: 0, sha: new Uint8Array(6), spa: new Uint8Array(4), spaText: '', tha: new Uint8Array(6), tpa: new Uint8Array(4), tpaText: '' };
}

/** Parse the ARP packet at buf[off..end). Returns null when acceptable, else why to drop it. */
export function parseArp(buf: Uint8Array, off: number, end: number, out: ArpRepr): ArpDropReason | null {
  if (end - off < ARP_LEN) return 'arp-truncated';
  const u16 = (o: number): number => (buf[off + o]! << 8) | buf[off + o + 1]!;
  // RFC 826 "Packet Reception": ?Do I have the hardware type in ar$hrd? ... the protocol in ar$pro?
  if (u16(ArpField.HTYPE) !== ARP_HTYPE_ETHERNET || buf[off + ArpField.HLEN] !== 6) return 'arp-bad-hardware';
  if (u16(ArpField.PTYPE) !== ARP_PTYPE_IPV4 || buf[off + ArpField.PLEN] !== 4) return 'arp-bad-protocol';
  const op = u16(ArpField.OPER);
  if (op !== ArpOp.REQUEST && op !== ArpOp.REPLY) return 'arp-bad-op';
  out.op = op;
  out.sha.set(buf.subarray(off + ArpField.SHA, off + ArpField.SHA + 6));
  out.spa.set(buf.subarray(off + ArpField.SPA, off + ArpField.SPA + 4));
  out.tha.set(buf.subarray(off + ArpField.THA, off + ArpField.THA + 6));
  out.tpa.set(buf.subarray(off + ArpField.TPA, off + ArpField.TPA + 4));
  out.spaText = formatAddr(out.spa, 0, 4);
  out.tpaText = formatAddr(out.tpa, 0, 4);
  return null;
}

/** Write an ARP packet for IPv4 over Ethernet at buf[off]; returns 28. */
export function emitArp(buf: Uint8Array, off: number, op: number, sha: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): number {
  buf[off + ArpField.HTYPE] = 0;
  buf[off + ArpField.HTYPE + 1] = ARP_HTYPE_ETHERNET;
  buf[off + ArpField.PTYPE] = ARP_PTYPE_IPV4 >> 8;
  buf[off + ArpField.PTYPE + 1] = ARP_PTYPE_IPV4 & 0xff;
  buf[off + ArpField.HLEN] = 6;
  buf[off + ArpField.PLEN] = 4;
  buf[off + ArpField.OPER] = op >> 8;
  buf[off + ArpField.OPER + 1] = op & 0xff;
  buf.set(sha.subarray(0, 6), off + ArpField.SHA);
  buf.set(spa.subarray(0, 4), off + ArpField.SPA);
  buf.set(tha.subarray(0, 6), off + ArpField.THA);
  buf.set(tpa.subarray(0, 4), off + ArpField.TPA);
  return ARP_LEN;
}
