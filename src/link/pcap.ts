/**
 * Classic libpcap capture files (the format tcpdump -w writes; see
 * https://wiki.wireshark.org/Development/LibpcapFileFormat and draft-ietf-opsawg-pcap):
 *
 *   global header (24 B): magic 0xa1b2c3d4, version 2.4, thiszone 0, sigfigs 0, snaplen, network
 *   per record (16 B):    ts_sec, ts_usec, incl_len, orig_len, then incl_len bytes
 *
 * All fields little-endian (the magic written LE tells the reader the byte order). The link type is
 * LINKTYPE_RAW (101) by default: each record is a bare IPv4 or IPv6 packet, exactly what a synack
 * Link frame is; LINKTYPE_ETHERNET (1) for links that carry Ethernet frames (TAP, the switch). Timestamps are microseconds, which is what an Instant already is.
 *
 * No Node import here (the package root and the browser use it); `pcapFile` (pcap-file.ts) is
 * the node:fs sink.
 */
import type { Instant } from '../time.js';
import type { Link } from './link.js';
import { realSegments } from './virtio-net.js';

export const PCAP_MAGIC = 0xa1b2c3d4;
/** LINKTYPE_RAW: raw IPv4/IPv6, no link-layer header (tcpdump.org/linktypes.html). */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_ETHERNET: IEEE 802.3 / Ethernet II frames without FCS (a TAP device, the simulated switch). */
export const LINKTYPE_ETHERNET = 1;
export const DEFAULT_SNAPLEN = 65535;

/** Writes a classic pcap stream (LINKTYPE_RAW) to a sink, record by record. */
export class PcapWriter {
  readonly snaplen: number;
  readonly linktype: number;

  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    opts: { snaplen?: number; linktype?: number } = {},
  ) {
    const linktype = opts.linktype ?? LINKTYPE_RAW;
    if (linktype !== LINKTYPE_RAW && linktype !== LINKTYPE_ETHERNET) throw new RangeError(`linktype must be LINKTYPE_RAW (101) or LINKTYPE_ETHERNET (1), got ${linktype}`);
    this.linktype = linktype;
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0xffffffff) {
      throw new RangeError(`snaplen must be a positive 32-bit integer, got ${snaplen}`);
    }
    this.snaplen = snaplen;
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, PCAP_MAGIC, true);
    v.setUint16(4, 2, true); // version major
    v.setUint16(6, 4, true); // version minor
    v.setInt32(8, 0, true); // thiszone: timestamps are UTC
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, snaplen, true);
    v.setUint32(20, linktype, true);
    sink(h);
  }

  /** Write one record. The frame is copied, so the sink may keep the chunk. */
  write(t: Instant, frame: Uint8Array): void {
    if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be a finite instant >= 0, got ${t}`);
    const us = Math.floor(t);
    const sec = Math.floor(us / 1_000_000);
    if (sec > 0xffffffff) throw new RangeError(`t is beyond the 32-bit pcap timestamp range: ${t}`);
    const incl = Math.min(frame.length, this.snaplen);
    const rec = new Uint8Array(16 + incl);
    const v = new DataView(rec.buffer);
    v.setUint32(0, sec, true);
    v.setUint32(4, us - sec * 1_000_000, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), 16);
    this.sink(rec);
  }
}

/**
 * Wrap a link so every frame sent and received is written to `writer` at `clock()`. A link with
 * offloads (checksum offload, GSO) carries packets the wire never sees: partial checksums and
 * TSO/GRO packets of up to 64 KiB. They are recorded as the real segments they stand for, cut
 * to the link's MTU with complete checksums, as a capture on the wire would show them.
 */
export function pcapLink(link: Link, writer: PcapWriter, clock: () => Instant): Link {
  const receivers: ((frame: Uint8Array) => void)[] = [];
  const offload = link.checksumOffload === true || link.gsoMaxSize !== undefined;
  const ethernet = writer.linktype === LINKTYPE_ETHERNET;
  const record = (frame: Uint8Array): void => {
    const at = clock();
    const l3 = !offload ? -1 : !ethernet ? 0 : frame.length >= 14 && ((frame[12] === 0x08 && frame[13] === 0x00) || (frame[12] === 0x86 && frame[13] === 0xdd)) ? 14 : -1;
    if (l3 < 0) return writer.write(at, frame);
    for (const seg of realSegments(frame, l3, link.mtu)) writer.write(at, seg);
  };
  link.onReceive((frame) => {
    record(frame);
    for (const r of receivers) r(frame);
  });
  return {
    mtu: link.mtu,
    checksumOffload: link.checksumOffload,
    gsoMaxSize: link.gsoMaxSize,
    send(frame: Uint8Array, nextHop?: string): void {
      record(frame); // before send: the frame belongs to the link afterwards
      link.send(frame, nextHop);
    },
    onReceive(r: (frame: Uint8Array) => void): void {
      receivers.push(r);
    },
  };
}
