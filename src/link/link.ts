/**
 * The one small interface every link implements (smoltcp `phy/`): a frame is a whole IP packet
 * (IPv4 or IPv6, no link-layer header: LINKTYPE_RAW). Links compose as wrappers
 * (pcap, trace, fault) that take a Link and return a Link.
 *
 * Ownership: `send` takes ownership of `frame`; the sender must not write to it afterwards.
 * A receiver callback may read the frame only during the call.
 */
export interface Link {
  /** Largest IP packet the link carries, in bytes. */
  readonly mtu: number;
  /** When true, the link does not need TCP/IP checksums computed or verified (checksum offload). */
  readonly checksumOffload?: boolean;
  send(frame: Uint8Array): void;
  onReceive(cb: (frame: Uint8Array) => void): void;
}
