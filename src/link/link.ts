/**
 * The one small interface every link implements (smoltcp `phy/`): a frame is a whole IP packet
 * (IPv4 or IPv6, no link-layer header: LINKTYPE_RAW). Links compose as wrappers
 * (pcap, trace, fault) that take a Link and return a Link.
 *
 * Ownership: `send` takes ownership of `frame`; the sender must not write to it afterwards.
 * A receiver callback may read the frame only during the call.
 *
 * Buffers (DESIGN.md principle 5): a link that can recycle frames offers `allocFrame(len)`; the
 * sender writes a whole packet into it and passes it to `send`, and the link takes it back once
 * delivered. A link or wrapper that retains, delays or duplicates frames (simulator, fault) does
 * not offer it, and senders fall back to a new Uint8Array per frame.
 */
export interface Link {
  /** Largest IP packet the link carries, in bytes. */
  readonly mtu: number;
  /** When true, the link does not need TCP/IP checksums computed or verified (checksum offload). */
  readonly checksumOffload?: boolean;
  /**
   * Largest TCP/IP packet (IP bytes) the link takes in one piece and cuts into `mtu`-sized
   * segments itself or has the device cut (TSO; LINUX dev->gso_max_size). Absent: `mtu`.
   */
  readonly gsoMaxSize?: number;
  /**
   * `nextHop`: the IP address of the next hop the routing table chose (the destination for an
   * on-link route, the gateway otherwise). Links without link-layer addressing ignore it; the
   * Ethernet adapter resolves it (absent: it decides from its own prefixes).
   * `confirmNeighbor`: the sender saw forward progress to this next hop (TCP new data ACKed), so
   * a link with a neighbour cache keeps the entry REACHABLE without probing (LINUX
   * sock_confirm_neigh in ip_finish_output2 → neigh_confirm). Other links ignore it.
   */
  send(frame: Uint8Array, nextHop?: string, confirmNeighbor?: boolean): void;
  /** A frame of exactly `len` bytes (contents unspecified) to fill and pass to `send`. Optional. */
  allocFrame?(len: number): Uint8Array;
  /** Register the receiver of incoming frames. */
  onReceive(cb: (frame: Uint8Array) => void): void;
}
