/**
 * The relay protocol between a synack stack running in a browser page (the guest's network) and
 * `synack relay` (Node, which opens the real sockets): one binary WebSocket message per frame,
 *
 *   type (1 octet) | flow id (4 octets, big-endian) | body
 *
 *   OPEN_TCP  page → relay   port (2) | address (4 or 16)    connect to a host
 *   OPEN_UDP  page → relay   port (2) | address (4 or 16)    a UDP flow to a host
 *   OPENED    relay → page   —                               the connect succeeded
 *   ERROR     relay → page   errno name (ASCII)              refused, failed, or not allowed (EACCES)
 *   DATA      both ways      bytes (TCP) or one datagram (UDP)
 *   END       both ways      —                               TCP half-close (FIN)
 *   CLOSE     both ways      —                               the flow is gone (TCP: reset)
 *   CREDIT    both ways      bytes (4)                       the sender may send this many more DATA bytes
 *
 * Flow control is per flow and credit-based (as HTTP/2's WINDOW_UPDATE): each side starts with
 * INITIAL_CREDIT for the other and grants more as it consumes, so a slow reader on either side
 * stops the other's reading, and TCP's window carries the backpressure to the real peer.
 */

export const RelayType = {
  OPEN_TCP: 1,
  OPEN_UDP: 2,
  OPENED: 3,
  ERROR: 4,
  DATA: 5,
  END: 6,
  CLOSE: 7,
  CREDIT: 8,
} as const;

/** Bytes of DATA each side may send on a new flow before the first CREDIT. */
export const INITIAL_CREDIT = 256 * 1024;
const HEAD = 5;

export type RelayFrame =
  | { type: typeof RelayType.OPEN_TCP | typeof RelayType.OPEN_UDP; id: number; port: number; addr: Uint8Array }
  | { type: typeof RelayType.OPENED | typeof RelayType.END | typeof RelayType.CLOSE; id: number }
  | { type: typeof RelayType.ERROR; id: number; errno: string }
  | { type: typeof RelayType.DATA; id: number; data: Uint8Array }
  | { type: typeof RelayType.CREDIT; id: number; bytes: number };

export type RelayDecodeError = 'relay-truncated' | 'relay-bad-type' | 'relay-bad-address' | 'relay-bad-errno';

/** Decode one message; a reason when it is malformed (the receiver counts it and closes the connection). */
export function decodeRelay(b: Uint8Array): RelayFrame | RelayDecodeError {
  if (!(b instanceof Uint8Array) || b.length < HEAD) return 'relay-truncated';
  const type = b[0]!;
  const id = ((b[1]! << 24) | (b[2]! << 16) | (b[3]! << 8) | b[4]!) >>> 0;
  const body = b.subarray(HEAD);
  switch (type) {
    case RelayType.OPEN_TCP:
    case RelayType.OPEN_UDP: {
      if (body.length !== 2 + 4 && body.length !== 2 + 16) return 'relay-bad-address';
      return { type, id, port: (body[0]! << 8) | body[1]!, addr: body.slice(2) };
    }
    case RelayType.OPENED:
    case RelayType.END:
    case RelayType.CLOSE:
      return body.length === 0 ? { type, id } : 'relay-truncated';
    case RelayType.ERROR: {
      if (body.length === 0 || body.length > 32 || !body.every((c) => c >= 0x30 && c <= 0x5a)) return 'relay-bad-errno';
      return { type, id, errno: String.fromCharCode(...body) };
    }
    case RelayType.DATA:
      return { type, id, data: body };
    case RelayType.CREDIT:
      return body.length === 4 ? { type, id, bytes: ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0 } : 'relay-truncated';
    default:
      return 'relay-bad-type';
  }
}

/** Encode a frame; throws naming the field when it cannot be encoded. */
export function encodeRelay(f: RelayFrame): Uint8Array {
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > 0xffffffff) throw new RangeError(`encodeRelay: id must be a 32-bit unsigned integer, got ${f.id}`);
  let body: Uint8Array;
  switch (f.type) {
    case RelayType.OPEN_TCP:
    case RelayType.OPEN_UDP:
      if (f.addr.length !== 4 && f.addr.length !== 16) throw new RangeError('encodeRelay: addr must be 4 or 16 bytes');
      if (!Number.isInteger(f.port) || f.port < 0 || f.port > 65535) throw new RangeError(`encodeRelay: port must be 0..65535, got ${f.port}`);
      body = new Uint8Array(2 + f.addr.length);
      body[0] = f.port >> 8;
      body[1] = f.port & 0xff;
      body.set(f.addr, 2);
      break;
    case RelayType.OPENED:
    case RelayType.END:
    case RelayType.CLOSE:
      body = new Uint8Array(0);
      break;
    case RelayType.ERROR:
      if (!/^[0-9A-Z]{1,32}$/.test(f.errno)) throw new RangeError(`encodeRelay: errno must be an errno name like ECONNREFUSED, got ${JSON.stringify(f.errno)}`);
      body = Uint8Array.from(f.errno, (c) => c.charCodeAt(0));
      break;
    case RelayType.DATA:
      body = f.data;
      break;
    case RelayType.CREDIT:
      if (!Number.isInteger(f.bytes) || f.bytes < 0 || f.bytes > 0xffffffff) throw new RangeError(`encodeRelay: credit must be a 32-bit unsigned integer, got ${f.bytes}`);
      body = Uint8Array.from([f.bytes >>> 24, (f.bytes >>> 16) & 0xff, (f.bytes >>> 8) & 0xff, f.bytes & 0xff]);
      break;
  }
  const out = new Uint8Array(HEAD + body.length);
  out[0] = f.type;
  out[1] = f.id >>> 24;
  out[2] = (f.id >>> 16) & 0xff;
  out[3] = (f.id >>> 8) & 0xff;
  out[4] = f.id & 0xff;
  out.set(body, HEAD);
  return out;
}
