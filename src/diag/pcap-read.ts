/**
 * Read a capture file into IP packets: classic pcap (both byte orders, microsecond and nanosecond
 * magic) and pcapng (SHB, IDB, EPB, SPB and the obsolete PB; several interfaces each with its own
 * link type and if_tsresol/if_tsoffset; several sections).
 *
 * Formats: https://www.tcpdump.org/manpages/pcap-savefile.5.html, IETF draft-ietf-opsawg-pcapng,
 * link types: https://www.tcpdump.org/linktypes.html.
 *
 * The file comes from the user, not from the wire: malformed input throws CaptureFormatError with
 * the offset and what was wrong. Frames that are well formed but carry no IP (ARP, LLDP, ...) are
 * counted in `skipped`. Returned frames are views (subarray) into `bytes`, trimmed to the IP total
 * length when the link added padding (Ethernet's 60-byte minimum).
 */
import { CaptureFormatError } from '../errors.js';
import { ETH_HEADER_LEN, EtherType, etherType } from '../wire/ethernet.js';

export { CaptureFormatError };

export interface CapturedPacket {
  /** Timestamp in microseconds since the Unix epoch (nanosecond captures are truncated to µs). */
  t: number;
  /** The raw IP packet (IPv4 or IPv6), link header removed. */
  frame: Uint8Array;
}

export interface Capture {
  packets: CapturedPacket[];
  /** Link type name(s), e.g. "ethernet", or "ethernet,linux-sll" for a pcapng with mixed interfaces. */
  linkType: string;
  /** Frames that carried something other than IPv4/IPv6, or came from an unsupported link type (pcapng). */
  skipped: number;
  /**
   * The skipped frames that are Ethernet ARP (RFC 826), whole with their Ethernet header (for
   * formatFrame(frame, 1)): the views show them beside the IP packets.
   */
  arp: CapturedPacket[];
}

/** An Ethernet II frame carrying ARP (untagged: what a TAP device or a LAN capture holds). */
function isEthernetArp(linkType: number, f: Uint8Array): boolean {
  return linkType === 1 && f.length >= ETH_HEADER_LEN && etherType(f) === EtherType.ARP;
}

const LINK_NAMES: Record<number, string> = {
  0: 'null',
  1: 'ethernet',
  101: 'raw',
  108: 'loop',
  113: 'linux-sll',
  228: 'ipv4',
  229: 'ipv6',
  276: 'linux-sll2',
};

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
/** 802.1Q, 802.1ad (QinQ), and the pre-standard 0x9100 QinQ tag. */
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
/** BSD AF_INET6 values differ by OS: 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin (and 10 Linux). */
const AF_INET6 = new Set([10, 24, 28, 30]);

/** Link type name, for messages and Capture.linkType. */
export function linkTypeName(lt: number): string {
  return LINK_NAMES[lt] ?? `linktype ${lt}`;
}

/** Trim to the IP header's own length (removes link padding); undefined if not IP. */
function ipOnly(p: Uint8Array): Uint8Array | undefined {
  if (p.length < 1) return undefined;
  const v = p[0]! >> 4;
  if (v === 4 && p.length >= 20) {
    const total = (p[2]! << 8) | p[3]!;
    return total >= 20 && total < p.length ? p.subarray(0, total) : p;
  }
  if (v === 6 && p.length >= 40) {
    const total = 40 + ((p[4]! << 8) | p[5]!);
    return total < p.length ? p.subarray(0, total) : p;
  }
  return undefined;
}

function byEthertype(type: number, payload: Uint8Array): Uint8Array | undefined {
  if (type !== ETH_IPV4 && type !== ETH_IPV6) return undefined;
  const ip = ipOnly(payload);
  if (ip === undefined) return undefined;
  return (ip[0]! >> 4) === (type === ETH_IPV4 ? 4 : 6) ? ip : undefined;
}

/**
 * Strip the link header of one frame. Returns the IP packet, or undefined when the frame does not
 * carry IP (or is too short to tell): such frames are skipped, not errors.
 */
export function stripLink(linkType: number, f: Uint8Array): Uint8Array | undefined {
  const u16 = (o: number): number => (f[o]! << 8) | f[o + 1]!;
  switch (linkType) {
    case 1: {
      // Ethernet II: dst(6) src(6) ethertype(2), with any number of VLAN tags (4 bytes each).
      let off = 12;
      if (f.length < off + 2) return undefined;
      let type = u16(off);
      while (VLAN_TAGS.has(type)) {
        off += 4;
        if (f.length < off + 2) return undefined;
        type = u16(off);
      }
      return byEthertype(type, f.subarray(off + 2));
    }
    case 101:
    case 228:
    case 229: {
      const ip = ipOnly(f);
      if (ip === undefined) return undefined;
      if (linkType === 228 && ip[0]! >> 4 !== 4) return undefined;
      if (linkType === 229 && ip[0]! >> 4 !== 6) return undefined;
      return ip;
    }
    case 113:
      // Linux cooked v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
      return f.length < 16 ? undefined : byEthertype(u16(14), f.subarray(16));
    case 276:
      // Linux cooked v2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
      return f.length < 20 ? undefined : byEthertype(u16(0), f.subarray(20));
    case 0:
    case 108: {
      if (f.length < 4) return undefined;
      // NULL: AF_ value in the capturing host's byte order; LOOP: network byte order.
      const be = ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
      const le = ((f[3]! << 24) | (f[2]! << 16) | (f[1]! << 8) | f[0]!) >>> 0;
      const af = linkType === 108 ? be : be < 256 ? be : le;
      const payload = f.subarray(4);
      if (af === 2) return byEthertype(ETH_IPV4, payload);
      if (AF_INET6.has(af)) return byEthertype(ETH_IPV6, payload);
      return undefined;
    }
    default:
      return undefined;
  }
}

function isSupported(linkType: number): boolean {
  return Object.hasOwn(LINK_NAMES, linkType);
}

/** Bounds-checked little/big-endian reader over the file. */
class Reader {
  readonly view: DataView;
  le = true;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(off: number, n: number, what: string): void {
    if (off < 0 || off + n > this.bytes.length) {
      throw new CaptureFormatError(
        `truncated capture: ${what} at offset ${off} needs ${n} bytes, the file has ${Math.max(0, this.bytes.length - off)} left`,
      );
    }
  }
  u16(off: number): number {
    return this.view.getUint16(off, this.le);
  }
  u32(off: number): number {
    return this.view.getUint32(off, this.le);
  }
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** Sanity cap for one record: larger is a corrupt length field, not a packet. */
const MAX_RECORD = 256 * 1024 * 1024;

/** Read a pcap or pcapng file. Throws CaptureFormatError on anything malformed. */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) throw new CaptureFormatError(`not a capture file: only ${bytes.length} bytes`);
  const r = new Reader(bytes);
  const magicBE = r.view.getUint32(0, false);
  const magicLE = r.view.getUint32(0, true);
  if (magicBE === PCAPNG_SHB) return readPcapng(r);
  if (magicLE === PCAP_US || magicLE === PCAP_NS) {
    r.le = true;
    return readPcap(r, magicLE === PCAP_NS);
  }
  if (magicBE === PCAP_US || magicBE === PCAP_NS) {
    r.le = false;
    return readPcap(r, magicBE === PCAP_NS);
  }
  throw new CaptureFormatError(
    `not a pcap or pcapng file: unknown magic number 0x${magicBE.toString(16).padStart(8, '0')}`,
  );
}

function readPcap(r: Reader, nano: boolean): Capture {
  r.need(0, 24, 'pcap file header');
  const major = r.u16(4);
  if (major !== 2) throw new CaptureFormatError(`unsupported pcap version ${major}.${r.u16(6)} (expected 2.4)`);
  // The link type is the low 16 bits; the upper bits may carry FCS information.
  const linkType = r.u32(20) & 0xffff;
  if (!isSupported(linkType)) {
    throw new CaptureFormatError(
      `unsupported link type ${linkType}; supported: ${Object.entries(LINK_NAMES).map(([n, s]) => `${n} (${s})`).join(', ')}`,
    );
  }
  const packets: CapturedPacket[] = [];
  const arp: CapturedPacket[] = [];
  let skipped = 0;
  let off = 24;
  while (off < r.bytes.length) {
    r.need(off, 16, `record header ${packets.length + skipped + 1}`);
    const sec = r.u32(off);
    const frac = r.u32(off + 4);
    const incl = r.u32(off + 8);
    if (incl > MAX_RECORD) throw new CaptureFormatError(`record at offset ${off} claims ${incl} bytes: corrupt file`);
    if (frac >= (nano ? 1e9 : 1e6)) {
      throw new CaptureFormatError(`record at offset ${off}: sub-second timestamp ${frac} out of range`);
    }
    r.need(off + 16, incl, `packet data of record ${packets.length + skipped + 1}`);
    const raw = r.bytes.subarray(off + 16, off + 16 + incl);
    const frame = stripLink(linkType, raw);
    const t = sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac);
    if (frame === undefined) {
      skipped++;
      if (isEthernetArp(linkType, raw)) arp.push({ t, frame: raw });
    } else packets.push({ t, frame });
    off += 16 + incl;
  }
  return { packets, linkType: linkTypeName(linkType), skipped, arp };
}

interface Iface {
  linkType: number;
  /** Timestamp units per second as a power: 10^-dec or 2^-bin. */
  dec: number | undefined;
  bin: number | undefined;
  /** if_tsoffset, seconds. */
  offset: bigint;
}

/** pcapng timestamp (units of the interface's resolution) → microseconds since the epoch. */
function toMicros(iface: Iface, ts: bigint): number {
  let us: bigint;
  if (iface.bin !== undefined) us = (ts * 1_000_000n) >> BigInt(iface.bin);
  else {
    const d = iface.dec ?? 6;
    us = d >= 6 ? ts / 10n ** BigInt(d - 6) : ts * 10n ** BigInt(6 - d);
  }
  return Number(us + iface.offset * 1_000_000n);
}

function readPcapng(r: Reader): Capture {
  const packets: CapturedPacket[] = [];
  const arp: CapturedPacket[] = [];
  let skipped = 0;
  let ifaces: Iface[] = [];
  const seen = new Set<number>();
  let lastT = 0;
  let off = 0;
  let sawSection = false;
  while (off < r.bytes.length) {
    r.need(off, 12, 'pcapng block header');
    if (r.view.getUint32(off, false) === PCAPNG_SHB) {
      // Section Header Block: the byte-order magic tells this section's endianness.
      r.need(off, 28, 'section header block');
      const bomLE = r.view.getUint32(off + 8, true);
      if (bomLE === PCAPNG_BOM) r.le = true;
      else if (r.view.getUint32(off + 8, false) === PCAPNG_BOM) r.le = false;
      else throw new CaptureFormatError(`section header at offset ${off}: bad byte-order magic 0x${bomLE.toString(16)}`);
      const major = r.u16(off + 12);
      if (major !== 1) throw new CaptureFormatError(`unsupported pcapng version ${major}.${r.u16(off + 14)} (expected 1.0)`);
      ifaces = [];
      sawSection = true;
    } else if (!sawSection) {
      throw new CaptureFormatError('pcapng file does not start with a section header block');
    }
    const type = r.u32(off);
    const len = r.u32(off + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
      throw new CaptureFormatError(`block at offset ${off} (type 0x${type.toString(16)}) has invalid length ${len}`);
    }
    r.need(off, len, `block of type 0x${type.toString(16)}`);
    if (r.u32(off + len - 4) !== len) {
      throw new CaptureFormatError(`block at offset ${off}: trailing length ${r.u32(off + len - 4)} does not match ${len}`);
    }
    const body = off + 8;
    const bodyEnd = off + len - 4;
    const needBody = (n: number, what: string): void => {
      if (body + n > bodyEnd) throw new CaptureFormatError(`${what} at offset ${off} is too short (${len} bytes)`);
    };
    const packet = (ifId: number, data: Uint8Array, ts: bigint | undefined): void => {
      const iface = ifaces[ifId];
      if (iface === undefined) {
        throw new CaptureFormatError(`packet at offset ${off} refers to interface ${ifId}, but only ${ifaces.length} are described`);
      }
      if (ts !== undefined) lastT = toMicros(iface, ts);
      const frame = isSupported(iface.linkType) ? stripLink(iface.linkType, data) : undefined;
      if (frame === undefined) {
        skipped++;
        if (isEthernetArp(iface.linkType, data)) arp.push({ t: lastT, frame: data });
      } else packets.push({ t: lastT, frame });
    };
    switch (type) {
      case 1: {
        // Interface Description Block: linktype(2) reserved(2) snaplen(4) options.
        needBody(8, 'interface description block');
        const iface: Iface = { linkType: r.u16(body), dec: undefined, bin: undefined, offset: 0n };
        let o = body + 8;
        while (o + 4 <= bodyEnd) {
          const code = r.u16(o);
          const olen = r.u16(o + 2);
          if (code === 0) break; // opt_endofopt
          if (o + 4 + olen > bodyEnd) throw new CaptureFormatError(`interface option at offset ${o} runs past its block`);
          if (code === 9 && olen >= 1) {
            const v = r.bytes[o + 4]!;
            if (v & 0x80) iface.bin = v & 0x7f;
            else iface.dec = v;
          } else if (code === 14 && olen >= 8) {
            iface.offset = r.view.getBigInt64(o + 4, r.le);
          }
          o += 4 + ((olen + 3) & ~3);
        }
        ifaces.push(iface);
        seen.add(iface.linkType);
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block: ifid(4) ts_high(4) ts_low(4) caplen(4) origlen(4) data options;
        // the obsolete Packet Block (2) the same but ifid(2) drops(2).
        const what = type === 6 ? 'enhanced packet block' : 'packet block';
        needBody(20, what);
        const cap = r.u32(body + 12);
        needBody(20 + cap, `${what} data`);
        const ts = (BigInt(r.u32(body + 4)) << 32n) | BigInt(r.u32(body + 8));
        packet(type === 6 ? r.u32(body) : r.u16(body), r.bytes.subarray(body + 20, body + 20 + cap), ts);
        break;
      }
      case 3: {
        // Simple Packet Block: origlen(4) data; interface 0, no timestamp (we reuse the last one).
        needBody(4, 'simple packet block');
        const orig = r.u32(body);
        const cap = Math.min(orig, bodyEnd - body - 4);
        packet(0, r.bytes.subarray(body + 4, body + 4 + cap), undefined);
        break;
      }
      default:
        break; // SHB handled above; NRB, ISB, DSB, custom blocks: nothing for us.
    }
    off += len;
  }
  if (!sawSection) throw new CaptureFormatError('empty pcapng file');
  return { packets, linkType: [...seen].map(linkTypeName).join(','), skipped, arp };
}
