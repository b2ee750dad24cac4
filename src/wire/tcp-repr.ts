/**
 * The validated representation of a TCP segment (smoltcp's `TcpRepr`). One object is reused by
 * the parser for every incoming segment and by the core for every outgoing one, so the data path
 * allocates nothing per segment but the payload view. Absent options are -1 / false.
 */

/** TCP flags as a bitset (never an enum: SYN|FIN and other odd combinations must be representable). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  /** RFC 3540's NS bit, now AE in RFC 9768 (the low bit of the byte before the flags). */
  AE: 0x100,
} as const;

/** The FIN flag bit (flags are a bitset: SYN|FIN is representable). */
export const FIN = TcpFlags.FIN;
/** The SYN flag bit. */
export const SYN = TcpFlags.SYN;
/** The RST flag bit. */
export const RST = TcpFlags.RST;
/** The PSH flag bit. */
export const PSH = TcpFlags.PSH;
/** The ACK flag bit. */
export const ACK = TcpFlags.ACK;
/** The URG flag bit. */
export const URG = TcpFlags.URG;
/** The ECE flag bit (RFC 3168). */
export const ECE = TcpFlags.ECE;
/** The CWR flag bit (RFC 3168). */
export const CWR = TcpFlags.CWR;

/** Up to 4 SACK blocks fit in the 40-byte option space (RFC 2018 §3). */
export const MAX_SACK_BLOCKS = 4;

/** A parsed TCP segment: ports, sequence numbers, flags, window, options and a view of the payload. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Bitset of TcpFlags. */
  flags: number;
  /** The raw 16-bit window field as on the wire (not scaled). */
  window: number;
  urgent: number;
  /** MSS option value, or -1 when absent. */
  mss: number;
  /** Window-scale shift count, or -1 when absent. */
  wscale: number;
  sackPermitted: boolean;
  hasTimestamp: boolean;
  tsVal: number;
  tsEcr: number;
  /** Number of valid SACK blocks in `sackBlocks`. */
  sackCount: number;
  /** Left/right edges: [l0, r0, l1, r1, ...], MAX_SACK_BLOCKS pairs. */
  sackBlocks: Uint32Array;
  /**
   * TCP Fast Open option (RFC 7413 §4.1.1, kind 34, or the experimental kind 254 with magic
   * 0xF989): -1 when absent, 0 for a cookie request, else the cookie's length in `fastOpenCookie`.
   */
  fastOpen: number;
  /** The Fast Open option is the experimental one (kind 254, RFC 6994 ExID 0xF989). */
  fastOpenExp: boolean;
  /** The cookie's bytes (the first `fastOpen` of 16: RFC 7413 §4.1.1 allows 4 to 16). */
  fastOpenCookie: Uint8Array;
  /** Payload bytes (a view into the packet or the send buffer; never retained by the receiver). */
  payload: Uint8Array;
  /**
   * An outgoing segment whose bytes stay in the send queue until its frame is written: emitTcp
   * copies `payload.length` bytes from here, from `payloadFrom`, straight into the frame (no view
   * made per segment). `payload` is then only a stand-in of the right length (`payloadOfLength`,
   * zeros): read its length, never its bytes. null for parsed segments and everything else.
   */
  payloadSrc: PayloadSource | null;
  payloadFrom: number;
  /**
   * A parsed segment whose payload was not given a view (parseTcp with `view` false, what the
   * stack's receive path does: no allocation per segment): its bytes are
   * payloadBuf[payloadOff, +payload.length), and `payload` is a stand-in of the right length.
   * null when `payload` holds the bytes itself. Read them through payloadBytes / payloadOffset.
   */
  payloadBuf: Uint8Array | null;
  payloadOff: number;
  /**
   * The ECN field of the IP header that carries (or carried) this segment (RFC 3168 §5: 0 Not-ECT,
   * 2 ECT(0), 1 ECT(1), 3 CE). Not a TCP field: the IP layer reads and writes it.
   */
  ipEcn: number;
  /** The rest of that TOS / traffic-class byte on output: the DSCP bits the socket set (IP_TOS). */
  ipDscp: number;
  /** IPv4 DF on output: set unless the socket asked for IP_PMTUDISC_DONT (LINUX ip_dont_fragment). */
  ipDf: boolean;
}

const EMPTY = new Uint8Array(0);

/** Where an outgoing segment's bytes are (TcpRepr.payloadSrc): the send queue (tcp/ring.ts). */
export interface PayloadSource {
  /** Copy bytes [from, from + n) into dst at dstOff. */
  copyOut(dst: Uint8Array, dstOff: number, from: number, n: number): void;
}

/** The largest TCP payload (an IPv4 TSO packet of 64 KiB less the headers; below it for IPv6). */
const MAX_PAYLOAD = 65535;
const ZEROS = new Uint8Array(MAX_PAYLOAD);
/**
 * The stand-ins made so far, by length (a Map: an array indexed by lengths up to 65535 would
 * fall back to dictionary elements), behind a memo of the last one asked for: a transfer asks
 * for the same length (its MSS) segment after segment.
 */
const STAND_INS = new Map<number, Uint8Array>();
let lastStandIn: Uint8Array = EMPTY;

/**
 * A read-only-by-convention zero array of length n, one per length, made once: the stand-in
 * `payload` of a segment whose bytes come from `payloadSrc` (or, received, from `payloadBuf`).
 */
export function payloadOfLength(n: number): Uint8Array {
  if (n === lastStandIn.length) return lastStandIn;
  if (n <= 0) return EMPTY;
  if (n > MAX_PAYLOAD) throw new RangeError(`payload length ${n} exceeds ${MAX_PAYLOAD}`);
  let s = STAND_INS.get(n);
  if (s === undefined) {
    s = ZEROS.subarray(0, n);
    STAND_INS.set(n, s);
  }
  lastStandIn = s;
  return s;
}

/** An empty TcpRepr to parse into or fill before emitting. */
export function newTcpRepr(): TcpRepr {
  return {
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    urgent: 0,
    mss: -1,
    wscale: -1,
    sackPermitted: false,
    hasTimestamp: false,
    tsVal: 0,
    tsEcr: 0,
    sackCount: 0,
    sackBlocks: new Uint32Array(MAX_SACK_BLOCKS * 2),
    fastOpen: -1,
    fastOpenExp: false,
    fastOpenCookie: new Uint8Array(16),
    payload: EMPTY,
    payloadSrc: null,
    payloadFrom: 0,
    payloadBuf: null,
    payloadOff: 0,
    ipEcn: 0,
    ipDscp: 0,
    ipDf: true,
  };
}

/** The array holding a received segment's payload bytes, from payloadOffset(r) (TcpRepr.payloadBuf). */
export function payloadBytes(r: TcpRepr): Uint8Array {
  return r.payloadBuf ?? r.payload;
}

/** Where a received segment's payload starts in payloadBytes(r). */
export function payloadOffset(r: TcpRepr): number {
  return r.payloadBuf !== null ? r.payloadOff : 0;
}

/** Reset to an empty segment with no options (keeps the SACK array). */
export function clearTcpRepr(r: TcpRepr): TcpRepr {
  r.srcPort = 0;
  r.dstPort = 0;
  r.seq = 0;
  r.ack = 0;
  r.flags = 0;
  r.window = 0;
  r.urgent = 0;
  r.mss = -1;
  r.wscale = -1;
  r.sackPermitted = false;
  r.hasTimestamp = false;
  r.tsVal = 0;
  r.tsEcr = 0;
  r.sackCount = 0;
  r.fastOpen = -1;
  r.fastOpenExp = false;
  r.payload = EMPTY;
  r.payloadSrc = null;
  r.payloadFrom = 0;
  r.payloadBuf = null;
  r.payloadOff = 0;
  r.ipEcn = 0;
  r.ipDscp = 0;
  r.ipDf = true;
  return r;
}

/** Sequence space a segment occupies: payload plus one for SYN and one for FIN (RFC 9293 §3.4). */
export function segLen(r: TcpRepr): number {
  return r.payload.length + (r.flags & SYN ? 1 : 0) + (r.flags & FIN ? 1 : 0);
}

/** tcpdump's flag letters: "S", "S.", "P.", "F.", "R", "R.", ... ("none" when no flag is set). */
export function flagsToString(flags: number): string {
  let s = '';
  if (flags & FIN) s += 'F';
  if (flags & SYN) s += 'S';
  if (flags & RST) s += 'R';
  if (flags & PSH) s += 'P';
  if (flags & URG) s += 'U';
  if (flags & ECE) s += 'E';
  if (flags & CWR) s += 'W';
  if (flags & TcpFlags.AE) s += 'e';
  if (flags & ACK) s += '.';
  return s === '' ? 'none' : s;
}
