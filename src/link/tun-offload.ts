/**
 * The per-packet work of a TUN/TAP device opened with IFF_VNET_HDR (src/link/tun.ts): read the
 * virtio_net_hdr in front of each received packet and decide what the stack gets, and write the
 * header for each packet sent. No allocation on the TCP path: the header objects are reused and
 * a GSO packet goes to the stack as it lies in the arena.
 */
import {
  TUN_F_CSUM, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_LEN, checksumsOk, emitVirtioNetHdr, gsoSegment, ipv4HeaderChecksumOk, newVirtioNetHdr, parseVirtioNetHdr, prepareOffloadTx, type TransportAt,
} from './virtio-net.js';

/** Counters the offload path keeps (merged into TunStats). */
export interface OffloadCounters {
  rxGsoPackets: number;
  rxGsoSplit: number;
  rxCsumErrors: number;
  txGsoPackets: number;
}

export interface OffloadPath {
  readonly counters: OffloadCounters;
  /** Transport checksums are the link's business (TUN_F_CSUM was accepted). */
  readonly checksumOffload: boolean;
  /** A received packet: arena[off..off+len] is the virtio_net_hdr and the frame. */
  receive(arena: Uint8Array, off: number, len: number, deliver: (frame: Uint8Array) => void): void;
  /** Fill `txHdr` for `frame` (and finish what the kernel does not: the IPv4 header checksum). False: drop it. */
  prepare(frame: Uint8Array, txHdr: Uint8Array): boolean;
}

/**
 * `tap`: frames start with an Ethernet header (IP at 14 for EtherType IPv4/IPv6). `mtu`: the
 * device's MTU in IP bytes (what a TSO packet is cut to). `offloads`: TUNSETOFFLOAD's accepted flags.
 */
export function offloadPath(tap: boolean, mtu: number, offloads: number): OffloadPath {
  const counters: OffloadCounters = { rxGsoPackets: 0, rxGsoSplit: 0, rxCsumErrors: 0, txGsoPackets: 0 };
  const csum = (offloads & TUN_F_CSUM) !== 0;
  const rxHdr = newVirtioNetHdr();
  const txh = newVirtioNetHdr();
  const t: TransportAt = { off: 0, protocol: 0, end: 0 };
  /** Where IP starts in a frame, -1 for a TAP frame that is not IP (ARP). */
  const l3Of = (frame: Uint8Array): number => {
    if (!tap) return 0;
    if (frame.length < 14) return -1;
    const et = (frame[12]! << 8) | frame[13]!;
    return et === 0x0800 || et === 0x86dd ? 14 : -1;
  };
  return {
    counters,
    checksumOffload: csum,
    receive(arena, off, len, deliver): void {
      if (len < VIRTIO_NET_HDR_LEN) {
        counters.rxCsumErrors++;
        return;
      }
      const h = parseVirtioNetHdr(arena, off, rxHdr);
      const frame = arena.subarray(off + VIRTIO_NET_HDR_LEN, off + len);
      const l3 = l3Of(frame);
      if (!csum || l3 < 0) return deliver(frame);
      const gso = h.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
      if (gso === VIRTIO_NET_HDR_GSO_UDP_L4) {
        // USO: many datagrams in one packet; each is a message of its own to UDP (LINUX
        // __udp_gso_segment is what the kernel would have done on a device without USO).
        counters.rxGsoSplit++;
        for (const d of gsoSegment(frame, l3, h.gsoSize)) deliver(d);
        return;
      }
      if (gso !== VIRTIO_NET_HDR_GSO_NONE && gso !== VIRTIO_NET_HDR_GSO_TCPV4 && gso !== VIRTIO_NET_HDR_GSO_TCPV6) {
        counters.rxCsumErrors++; // UFO was never negotiated
        return;
      }
      if (gso !== VIRTIO_NET_HDR_GSO_NONE) counters.rxGsoPackets++;
      if ((h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) !== 0) {
        // The kernel vouches for the transport checksum (LINUX skb_csum_unnecessary takes
        // CHECKSUM_PARTIAL as verified); the IPv4 header checksum is never offloaded and
        // ip_rcv_core always checks it.
        if (frame[l3]! >> 4 === 4 && !ipv4HeaderChecksumOk(frame, l3)) {
          counters.rxCsumErrors++;
          return;
        }
      } else if (!checksumsOk(frame, l3, t)) {
        counters.rxCsumErrors++;
        return;
      }
      deliver(frame);
    },
    prepare(frame, txHdr): boolean {
      const l3 = csum ? l3Of(frame) : -1;
      if (l3 < 0) {
        txh.flags = txh.gsoType = txh.hdrLen = txh.gsoSize = txh.csumStart = txh.csumOffset = 0;
      } else if (!prepareOffloadTx(frame, l3, mtu, txh, t)) {
        return false;
      }
      if (txh.gsoType !== VIRTIO_NET_HDR_GSO_NONE) counters.txGsoPackets++;
      emitVirtioNetHdr(txHdr, 0, txh);
      return true;
    },
  };
}
