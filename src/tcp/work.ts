/**
 * What a connection owes its peer: ONE bitset (Connection.pending) that the output engine serves
 * in bit order — the lowest bit first (output.ts pollTransmit). Some bits are set by input and
 * timers and kept until served; the others (SYN, LOST, DATA) are derived from the TCB each time
 * the engine looks (output.ts due()).
 */
// Literal values (not shifts) so that WorkBit is a union a switch can check exhaustively.
export const Work = {
  /** A RST answering one bad segment: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1). */
  REPLY_RST: 0x1,
  /** An abortive close's RST (RFC 9293 §3.10.5); the connection is already CLOSED. */
  RST: 0x2,
  /** Our SYN or SYN-ACK (derived: SND.NXT sits at the ISS). */
  SYN: 0x4,
  /** Fast retransmit: the segment at SND.UNA (or RACK's first lost one), once (RFC 5681 §3.2, RFC 6675 §5 step 4.2). */
  RETRANSMIT_HEAD: 0x8,
  /** The tail loss probe retransmits the last segment sent (RFC 8985 §7.3). */
  TLP: 0x10,
  /** Recovery retransmits what RACK marked lost while the pipe has room (derived; RFC 6675 §5 (C)). */
  LOST: 0x20,
  /** New data and the FIN, as the windows, Nagle and SWS avoidance allow (derived; RFC 9293 §3.8.6). */
  DATA: 0x40,
  /** A keepalive or zero-window probe: SEG.SEQ = SND.UNA - 1 (RFC 1122 §4.2.3.6, RFC 9293 §3.8.6.1). */
  PROBE: 0x80,
  /** An ACK now, not delayed (any segment carrying an ACK serves it). */
  ACK: 0x100,
  /**
   * Not served on its own: lets DATA send one segment of what the window allows despite Nagle and
   * SWS avoidance (the persist override, RFC 9293 §3.8.6.2.1; a TLP's new segment).
   */
  FORCE_SEND: 0x200,
} as const;

export type WorkBit = (typeof Work)[keyof typeof Work];

