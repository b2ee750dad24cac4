/**
 * WebSocket framing (RFC 6455 §5), sans-I/O, for the relay between a synack stack running in a
 * browser page and `synack relay` (Node has no WebSocket server, and synack takes no runtime
 * dependencies). The decoder turns a byte stream into messages (reassembling fragments, §5.4)
 * and control frames, and stops at the first protocol error with the close code §7.4.1 assigns;
 * the encoder writes frames. No extensions are negotiated, so RSV bits must be zero (§5.2).
 */

/** Frame opcodes (§5.2). */
export const WsOpcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** Close status codes (§7.4.1). */
export const WsClose = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS: 1005,
  INVALID_PAYLOAD: 1007,
  POLICY: 1008,
  TOO_BIG: 1009,
} as const;

export interface WsMessage {
  /** TEXT, BINARY, CLOSE, PING or PONG. */
  opcode: number;
  data: Uint8Array;
}

export interface WsDecodeError {
  /** The close code to send (§7.4.1). */
  code: number;
  reason: string;
}

export interface WsDecoderOptions {
  /** Frames must be masked (a server reading a client, §5.1) or must not be (a client). */
  expectMasked: boolean;
  /** Largest message (after reassembly) accepted; larger ones fail with 1009. */
  maxMessage: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when `b` is valid UTF-8 (§8.1: a text message that is not fails the connection, 1007). */
export function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

export class WsFrameDecoder {
  private buf = new Uint8Array(0);
  /** The data message being reassembled from fragments, if any. */
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private fragmentOpcode = -1;
  private failed = false;

  constructor(private readonly opts: WsDecoderOptions) {
    if (!opts || typeof opts.expectMasked !== 'boolean') throw new TypeError('WsFrameDecoder: opts.expectMasked must be a boolean');
    if (!Number.isInteger(opts.maxMessage) || opts.maxMessage < 125) throw new RangeError('WsFrameDecoder: opts.maxMessage must be an integer of at least 125');
  }

  /**
   * The messages and control frames `chunk` completes, in order; on a protocol error, those
   * before it and the error (the decoder accepts nothing after an error).
   */
  push(chunk: Uint8Array): { messages: WsMessage[]; error: WsDecodeError | null } {
    const messages: WsMessage[] = [];
    if (this.failed) return { messages, error: { code: WsClose.PROTOCOL_ERROR, reason: 'data after a protocol error' } };
    const b = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    let off = 0;
    for (;;) {
      const r = this.frame(b, off, messages);
      if (r === null) break;
      if (typeof r === 'object') {
        this.failed = true;
        this.buf = new Uint8Array(0);
        return { messages, error: r };
      }
      off = r;
    }
    this.buf = off === b.length ? new Uint8Array(0) : b.slice(off);
    return { messages, error: null };
  }

  /** Decode one frame at b[off]: the offset after it, null when incomplete, or an error. */
  private frame(b: Uint8Array, off: number, out: WsMessage[]): number | null | WsDecodeError {
    if (b.length - off < 2) return null;
    const fin = (b[off]! & 0x80) !== 0;
    const opcode = b[off]! & 0x0f;
    if ((b[off]! & 0x70) !== 0) return err(WsClose.PROTOCOL_ERROR, 'RSV bits set without an extension');
    const masked = (b[off + 1]! & 0x80) !== 0;
    // §5.1: a server closes on an unmasked client frame; a client on a masked server frame.
    if (masked !== this.opts.expectMasked) return err(WsClose.PROTOCOL_ERROR, masked ? 'masked frame from a server' : 'unmasked frame from a client');
    let len = b[off + 1]! & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (b.length - p < 2) return null;
      len = (b[p]! << 8) | b[p + 1]!;
      p += 2;
    } else if (len === 127) {
      if (b.length - p < 8) return null;
      // §5.2: the most significant bit must be 0; anything past 2^32 is beyond any bound here.
      if (b[p]! & 0x80) return err(WsClose.PROTOCOL_ERROR, '64-bit length with the top bit set');
      if (b[p] || b[p + 1] || b[p + 2] || b[p + 3]) return err(WsClose.TOO_BIG, 'frame too big');
      len = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
      p += 8;
    }
    const control = (opcode & 0x8) !== 0;
    // §5.5: control frames have at most 125 payload octets and are never fragmented.
    if (control && (len > 125 || !fin)) return err(WsClose.PROTOCOL_ERROR, 'bad control frame');
    if (!control && opcode !== WsOpcode.CONTINUATION && opcode !== WsOpcode.TEXT && opcode !== WsOpcode.BINARY) return err(WsClose.PROTOCOL_ERROR, `reserved opcode ${opcode}`);
    if (control && opcode !== WsOpcode.CLOSE && opcode !== WsOpcode.PING && opcode !== WsOpcode.PONG) return err(WsClose.PROTOCOL_ERROR, `reserved opcode ${opcode}`);
    if (!control && this.fragmentBytes + len > this.opts.maxMessage) return err(WsClose.TOO_BIG, 'message too big');
    const keyAt = p;
    if (masked) p += 4;
    if (b.length - p < len) return null;
    const data = b.slice(p, p + len);
    // §5.3: the payload is XORed with the 4-octet masking key, octet i with key[i mod 4].
    if (masked) for (let i = 0; i < len; i++) data[i]! ^= b[keyAt + (i & 3)]!;
    const next = p + len;
    if (control) {
      const e = opcode === WsOpcode.CLOSE ? checkClose(data) : null;
      if (e !== null) return e;
      out.push({ opcode, data });
      return next;
    }
    // §5.4: a fragmented message is a first frame with its opcode and FIN clear, then
    // continuation frames, the last with FIN set.
    if (opcode === WsOpcode.CONTINUATION) {
      if (this.fragmentOpcode < 0) return err(WsClose.PROTOCOL_ERROR, 'continuation without a message');
    } else {
      if (this.fragmentOpcode >= 0) return err(WsClose.PROTOCOL_ERROR, 'new message inside a fragmented one');
      this.fragmentOpcode = opcode;
    }
    this.fragments.push(data);
    this.fragmentBytes += len;
    if (!fin) return next;
    const whole = this.fragments.length === 1 ? this.fragments[0]! : concatAll(this.fragments, this.fragmentBytes);
    const op = this.fragmentOpcode;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOpcode = -1;
    if (op === WsOpcode.TEXT && !isUtf8(whole)) return err(WsClose.INVALID_PAYLOAD, 'text message is not UTF-8');
    out.push({ opcode: op, data: whole });
    return next;
  }
}

/** §5.5.1: a close body is empty, or a 2-octet code (a defined one) and a UTF-8 reason. */
function checkClose(data: Uint8Array): WsDecodeError | null {
  if (data.length === 0) return null;
  if (data.length === 1) return err(WsClose.PROTOCOL_ERROR, 'close frame with a 1-octet body');
  const code = (data[0]! << 8) | data[1]!;
  // §7.4.1-§7.4.2: 1005, 1006 and 1015 are never sent; below 1000 and 1016-2999 are unassigned.
  const valid = (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
  if (!valid) return err(WsClose.PROTOCOL_ERROR, `close code ${code}`);
  if (!isUtf8(data.subarray(2))) return err(WsClose.INVALID_PAYLOAD, 'close reason is not UTF-8');
  return null;
}

function err(code: number, reason: string): WsDecodeError {
  return { code, reason };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function concatAll(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * One frame: FIN set, `opcode`, the payload masked with `mask` (4 bytes, a client's) or not (a
 * server's). Throws naming the argument when the frame cannot be valid.
 */
export function encodeWsFrame(opcode: number, payload: Uint8Array, mask: Uint8Array | null = null): Uint8Array {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new RangeError(`encodeWsFrame: opcode must be 0..15, got ${opcode}`);
  if (!(payload instanceof Uint8Array)) throw new TypeError('encodeWsFrame: payload must be a Uint8Array');
  if ((opcode & 8) !== 0 && payload.length > 125) throw new RangeError(`encodeWsFrame: a control frame carries at most 125 octets, got ${payload.length}`);
  if (mask !== null && (!(mask instanceof Uint8Array) || mask.length !== 4)) throw new TypeError('encodeWsFrame: mask must be 4 bytes or null');
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const head = 2 + lenBytes + (mask ? 4 : 0);
  const out = new Uint8Array(head + n);
  out[0] = 0x80 | opcode;
  out[1] = (mask ? 0x80 : 0) | (lenBytes === 0 ? n : lenBytes === 2 ? 126 : 127);
  if (lenBytes === 2) {
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else if (lenBytes === 8) {
    // Payloads here are far below 2^32: the high four octets stay zero.
    out[6] = n >>> 24;
    out[7] = (n >>> 16) & 0xff;
    out[8] = (n >>> 8) & 0xff;
    out[9] = n & 0xff;
  }
  out.set(payload, head);
  if (mask) {
    out.set(mask, head - 4);
    for (let i = 0; i < n; i++) out[head + i]! ^= mask[i & 3]!;
  }
  return out;
}

/** The body of a close frame: the code and a UTF-8 reason, at most 123 octets (§5.5). */
export function wsCloseBody(code: number, reason = ''): Uint8Array {
  const r = new TextEncoder().encode(reason).subarray(0, 123);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
