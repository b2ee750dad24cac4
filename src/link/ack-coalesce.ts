/**
 * ACK thinning over one receive batch of a device link (src/link/tun.ts). The stack answers
 * every large segment with an ACK at once; when the device hands over ten 64 KiB GSO packets in
 * one read batch, ten cumulative ACKs go back, each a write() in which the kernel's TCP does its
 * sender work. A pure ACK is held while the batch is processed, and a later pure ACK of the same
 * connection that acknowledges more replaces it: the peer gets the last one, which says all the
 * earlier ones said. This is the conservative mode of Linux's ACK filter (LINUX sch_cake.c
 * cake_ack_filter: drop an ACK made redundant by a later one of the same flow in the queue),
 * applied to the packets one batch produces; anything that is not such an ACK (data, SYN, FIN,
 * RST, SACK blocks, a duplicate ACK or a window update with the same ACK number) is never
 * dropped, and the held ACK is written before it, so the order on the wire is kept.
 */

/** The largest pure ACK held: IPv6 + TCP with timestamps (40 + 32) behind a 14-byte Ethernet header. */
const HOLD_MAX = 14 + 40 + 32;

export class AckCoalescer {
  /** Pure ACKs that a later one replaced (never written). */
  coalesced = 0;
  private readonly held = new Uint8Array(HOLD_MAX);
  private heldLen = 0;
  private heldL3 = 0;
  private active = false;

  /**
   * `write`: puts a frame on the device (it may modify the frame and must not keep it). `l3Of`:
   * where IP starts in a frame, -1 when it is not an IP packet (a TAP frame carrying ARP).
   */
  constructor(
    private readonly write: (frame: Uint8Array) => void,
    private readonly l3Of: (frame: Uint8Array) => number,
  ) {}

  /** A receive batch starts: pure ACKs are held until `end`. */
  begin(): void {
    this.active = true;
  }

  /** The batch is over: write what is held. */
  end(): void {
    this.active = false;
    this.flush();
  }

  /** Send a frame, holding it if it is a pure ACK inside a batch. */
  send(frame: Uint8Array): void {
    if (!this.active) return this.write(frame);
    const l3 = this.l3Of(frame);
    const ack = l3 >= 0 ? pureAckAt(frame, l3) : -1;
    if (this.heldLen > 0) {
      if (ack >= 0 && this.supersedes(frame, l3, ack)) {
        this.heldLen = 0;
        this.coalesced++;
      } else {
        this.flush();
      }
    }
    if (ack >= 0 && frame.length <= HOLD_MAX) {
      this.held.set(frame);
      this.heldLen = frame.length;
      this.heldL3 = l3;
      return;
    }
    this.write(frame);
  }

  private flush(): void {
    if (this.heldLen === 0) return;
    const n = this.heldLen;
    this.heldLen = 0;
    this.write(this.held.subarray(0, n));
  }

  /** The new pure ACK is of the held one's connection, with the same flags and options, and acknowledges more. */
  private supersedes(frame: Uint8Array, l3: number, ack: number): boolean {
    const h = this.held;
    const hl3 = this.heldL3;
    if (l3 !== hl3 || frame.length !== this.heldLen) return false;
    const v6 = frame[l3]! >> 4 === 6;
    const addrs = v6 ? 32 : 8;
    const addrOff = v6 ? 8 : 12;
    for (let i = 0; i < addrs; i++) if (frame[l3 + addrOff + i] !== h[hl3 + addrOff + i]) return false;
    const t = l3 + (v6 ? 40 : (frame[l3]! & 15) * 4);
    for (let i = 0; i < 4; i++) if (frame[t + i] !== h[t + i]) return false; // ports
    if (frame[t + 12] !== h[t + 12] || frame[t + 13] !== h[t + 13]) return false; // header length, flags
    const heldAck = pureAckAt(h, hl3);
    // RFC 9293 §3.4: sequence space is modulo 2^32; "more" is a positive difference below 2^31.
    const diff = (ack - heldAck) | 0;
    return diff > 0;
  }
}

/**
 * The ACK number of a pure ACK (TCP, no payload, no SYN/FIN/RST/URG/PSH, no option but
 * timestamps: header 20 or 32 bytes), or -1. The IP packet starts at l3.
 */
export function pureAckAt(frame: Uint8Array, l3: number): number {
  if (frame.length < l3 + 40) return -1;
  const v = frame[l3]! >> 4;
  let t: number;
  let end: number;
  if (v === 4) {
    if (frame[l3 + 9] !== 6 || (((frame[l3 + 6]! << 8) | frame[l3 + 7]!) & 0x3fff) !== 0) return -1;
    t = l3 + (frame[l3]! & 15) * 4;
    end = l3 + ((frame[l3 + 2]! << 8) | frame[l3 + 3]!);
  } else if (v === 6) {
    if (frame[l3 + 6] !== 6) return -1;
    t = l3 + 40;
    end = t + ((frame[l3 + 4]! << 8) | frame[l3 + 5]!);
  } else return -1;
  if (t + 20 > frame.length) return -1;
  const thl = (frame[t + 12]! >> 4) * 4;
  if ((thl !== 20 && thl !== 32) || t + thl !== end) return -1; // options beyond timestamps, or data
  // RFC 7323 Appendix A's layout NOP NOP TS: 12 option bytes could also be one SACK block.
  if (thl === 32 && (frame[t + 20] !== 1 || frame[t + 21] !== 1 || frame[t + 22] !== 8 || frame[t + 23] !== 10)) return -1;
  if ((frame[t + 13]! & 0x3f) !== 0x10) return -1; // ACK alone (ECE/CWR may ride along)
  return ((frame[t + 8]! << 24) | (frame[t + 9]! << 16) | (frame[t + 10]! << 8) | frame[t + 11]!) >>> 0;
}
