/**
 * DHCP messages (RFC 2131 §2, options RFC 2132): the BOOTP fixed header, the magic cookie and the
 * options that follow it. `parseDhcp` turns the UDP payload of a DHCP message into a `DhcpMessage`
 * (or a reason to drop it: bad wire input is never thrown); `emitDhcp` writes one back.
 *
 * Options are kept raw (code → bytes) after validation of the lengths of the options synack
 * understands, with typed accessors for those; unknown options pass through untouched.
 */
import { formatAddr } from './addr.js';

/** Named offsets of the fixed BOOTP/DHCP header (RFC 2131 §2, Figure 1). */
export const DhcpField = {
  OP: 0,
  HTYPE: 1,
  HLEN: 2,
  HOPS: 3,
  XID: 4,
  SECS: 8,
  FLAGS: 10,
  CIADDR: 12,
  YIADDR: 16,
  SIADDR: 20,
  GIADDR: 24,
  CHADDR: 28,
  SNAME: 44,
  FILE: 108,
  COOKIE: 236,
  OPTIONS: 240,
} as const;

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** RFC 2131 §3: the first four octets of the options field are 99, 130, 83, 99. */
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** RFC 1542 §2.1: a BOOTP message is at least 300 octets (relay agents may drop shorter ones). */
export const BOOTP_MIN_LEN = 300;
/** RFC 2131 §2: op values. */
export const BootpOp = { REQUEST: 1, REPLY: 2 } as const;
/** RFC 2131 §2: the leftmost bit of 'flags' asks the server to broadcast its replies. */
export const DHCP_FLAG_BROADCAST = 0x8000;
/** ARP hardware type of Ethernet (RFC 1700 "Hardware Type" 1). */
export const HTYPE_ETHERNET = 1;

/** RFC 2132 option codes synack reads or writes. */
export const DhcpOpt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  MTU: 26,
  BROADCAST: 28,
  REQUESTED_ADDR: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  BOOTFILE: 67,
  END: 255,
} as const;

/** RFC 2132 §9.6: DHCP message types. */
export const DhcpType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export const DHCP_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
});

export type DhcpDropReason =
  | 'dhcp-truncated'
  | 'dhcp-bad-op'
  | 'dhcp-bad-hlen'
  | 'dhcp-bad-cookie'
  | 'dhcp-option-overrun'
  | 'dhcp-bad-option-length'
  | 'dhcp-no-message-type'
  | 'dhcp-bad-message-type';

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  /** 4 bytes each. */
  ciaddr: Uint8Array;
  yiaddr: Uint8Array;
  siaddr: Uint8Array;
  giaddr: Uint8Array;
  /** 16 bytes; the first `hlen` are the client's hardware address. */
  chaddr: Uint8Array;
  /** Option code → value (RFC 3396 §5: repeated codes concatenated in order of appearance). */
  options: Map<number, Uint8Array>;
}

/** A message with every field zero and no options. */
export function newDhcpMessage(): DhcpMessage {
  return {
    op: 0,
    htype: HTYPE_ETHERNET,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: new Uint8Array(4),
    yiaddr: new Uint8Array(4),
    siaddr: new Uint8Array(4),
    giaddr: new Uint8Array(4),
    chaddr: new Uint8Array(16),
    options: new Map(),
  };
}

/**
 * Fixed value lengths of options whose meaning synack relies on (RFC 2132 §3-§9): a value of
 * another length is malformed. `[min, multiple]` for list options.
 */
const FIXED_LEN: Readonly<Record<number, number>> = {
  [DhcpOpt.SUBNET_MASK]: 4,
  [DhcpOpt.MTU]: 2,
  [DhcpOpt.BROADCAST]: 4,
  [DhcpOpt.REQUESTED_ADDR]: 4,
  [DhcpOpt.LEASE_TIME]: 4,
  [DhcpOpt.OVERLOAD]: 1,
  [DhcpOpt.MESSAGE_TYPE]: 1,
  [DhcpOpt.SERVER_ID]: 4,
  [DhcpOpt.MAX_MESSAGE_SIZE]: 2,
  [DhcpOpt.RENEWAL_TIME]: 4,
  [DhcpOpt.REBINDING_TIME]: 4,
};
const LIST_LEN: Readonly<Record<number, readonly [number, number]>> = {
  [DhcpOpt.ROUTER]: [4, 4],
  [DhcpOpt.DNS]: [4, 4],
  [DhcpOpt.HOSTNAME]: [1, 1],
  [DhcpOpt.DOMAIN_NAME]: [1, 1],
  [DhcpOpt.PARAM_REQUEST]: [1, 1],
  // RFC 2132 §9.14: a client identifier is a type octet and at least one more.
  [DhcpOpt.CLIENT_ID]: [2, 1],
};

/**
 * Read the options at buf[start..end) into `out`. RFC 2131 §4.1 / RFC 2132 §2: 0 is padding,
 * 255 ends the field; every other option is (code, length, value). Returns the overload value
 * (RFC 2132 §9.3) found here or a drop reason.
 */
function readOptions(buf: Uint8Array, start: number, end: number, out: Map<number, Uint8Array>): DhcpDropReason | null {
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === DhcpOpt.END) return null;
    if (code === DhcpOpt.PAD) {
      i++;
      continue;
    }
    if (i + 2 > end) return 'dhcp-option-overrun';
    const len = buf[i + 1]!;
    if (i + 2 + len > end) return 'dhcp-option-overrun';
    const value = buf.subarray(i + 2, i + 2 + len);
    const prev = out.get(code);
    // RFC 3396 §5: an option appearing more than once is one value, the concatenation of all.
    if (prev === undefined) out.set(code, value.slice());
    else {
      const joined = new Uint8Array(prev.length + len);
      joined.set(prev);
      joined.set(value, prev.length);
      out.set(code, joined);
    }
    i += 2 + len;
  }
  // Running out of bytes without an END: tolerated, as Linux's ipconfig and ISC dhcpd do.
  return null;
}

function checkLengths(options: Map<number, Uint8Array>): DhcpDropReason | null {
  for (const [code, v] of options) {
    const fixed = FIXED_LEN[code];
    if (fixed !== undefined && v.length !== fixed) return 'dhcp-bad-option-length';
    const list = LIST_LEN[code];
    if (list !== undefined && (v.length < list[0] || v.length % list[1] !== 0)) return 'dhcp-bad-option-length';
  }
  return null;
}

/**
 * Parse a DHCP message from a UDP payload. Returns the message or a reason to drop it. Messages
 * without option 53 are plain BOOTP, which synack does not serve ('dhcp-no-message-type').
 */
export function parseDhcp(buf: Uint8Array): DhcpMessage | DhcpDropReason {
  if (!(buf instanceof Uint8Array) || buf.length < DhcpField.OPTIONS) return 'dhcp-truncated';
  const m = newDhcpMessage();
  m.op = buf[DhcpField.OP]!;
  if (m.op !== BootpOp.REQUEST && m.op !== BootpOp.REPLY) return 'dhcp-bad-op';
  m.htype = buf[DhcpField.HTYPE]!;
  m.hlen = buf[DhcpField.HLEN]!;
  if (m.hlen > 16) return 'dhcp-bad-hlen';
  m.hops = buf[DhcpField.HOPS]!;
  m.xid = readU32(buf, DhcpField.XID);
  m.secs = (buf[DhcpField.SECS]! << 8) | buf[DhcpField.SECS + 1]!;
  m.flags = (buf[DhcpField.FLAGS]! << 8) | buf[DhcpField.FLAGS + 1]!;
  m.ciaddr.set(buf.subarray(DhcpField.CIADDR, DhcpField.CIADDR + 4));
  m.yiaddr.set(buf.subarray(DhcpField.YIADDR, DhcpField.YIADDR + 4));
  m.siaddr.set(buf.subarray(DhcpField.SIADDR, DhcpField.SIADDR + 4));
  m.giaddr.set(buf.subarray(DhcpField.GIADDR, DhcpField.GIADDR + 4));
  m.chaddr.set(buf.subarray(DhcpField.CHADDR, DhcpField.CHADDR + 16));
  if (readU32(buf, DhcpField.COOKIE) !== DHCP_MAGIC_COOKIE) return 'dhcp-bad-cookie';
  const why = readOptions(buf, DhcpField.OPTIONS, buf.length, m.options);
  if (why !== null) return why;
  // RFC 2132 §9.3: option overload moves more options into 'file' (1), 'sname' (2) or both (3);
  // they are read after the options field, 'file' first.
  const overload = m.options.get(DhcpOpt.OVERLOAD);
  if (overload !== undefined && overload.length === 1) {
    const o = overload[0]!;
    if (o & 1) {
      const w = readOptions(buf, DhcpField.FILE, DhcpField.COOKIE, m.options);
      if (w !== null) return w;
    }
    if (o & 2) {
      const w = readOptions(buf, DhcpField.SNAME, DhcpField.FILE, m.options);
      if (w !== null) return w;
    }
  }
  const lengths = checkLengths(m.options);
  if (lengths !== null) return lengths;
  const type = m.options.get(DhcpOpt.MESSAGE_TYPE);
  if (type === undefined) return 'dhcp-no-message-type';
  if (type[0]! < DhcpType.DISCOVER || type[0]! > DhcpType.INFORM) return 'dhcp-bad-message-type';
  return m;
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** Bytes the options of `m` take on the wire, END included (RFC 3396 splitting counted). */
function optionsLength(m: DhcpMessage): number {
  let n = 1;
  for (const v of m.options.values()) n += Math.max(1, Math.ceil(v.length / 255)) * 2 + v.length;
  return n;
}

/**
 * The wire form of `m`, padded to BOOTP_MIN_LEN. Option 53 is written first (RFC 2131 §4.1 does
 * not require it, but clients such as busybox udhcpc scan for it first), values longer than 255
 * octets are split into several options (RFC 3396 §6).
 */
export function emitDhcp(m: DhcpMessage): Uint8Array {
  for (const [code, v] of m.options) {
    if (!Number.isInteger(code) || code <= DhcpOpt.PAD || code >= DhcpOpt.END) throw new RangeError(`emitDhcp: option code ${code} is not 1..254`);
    if (!(v instanceof Uint8Array)) throw new TypeError(`emitDhcp: option ${code} value is not a Uint8Array`);
  }
  if (m.hlen > 16) throw new RangeError(`emitDhcp: hlen ${m.hlen} is more than 16`);
  const len = Math.max(BOOTP_MIN_LEN, DhcpField.OPTIONS + optionsLength(m));
  const b = new Uint8Array(len);
  b[DhcpField.OP] = m.op;
  b[DhcpField.HTYPE] = m.htype;
  b[DhcpField.HLEN] = m.hlen;
  b[DhcpField.HOPS] = m.hops;
  writeU32(b, DhcpField.XID, m.xid);
  b[DhcpField.SECS] = (m.secs >> 8) & 0xff;
  b[DhcpField.SECS + 1] = m.secs & 0xff;
  b[DhcpField.FLAGS] = (m.flags >> 8) & 0xff;
  b[DhcpField.FLAGS + 1] = m.flags & 0xff;
  b.set(m.ciaddr.subarray(0, 4), DhcpField.CIADDR);
  b.set(m.yiaddr.subarray(0, 4), DhcpField.YIADDR);
  b.set(m.siaddr.subarray(0, 4), DhcpField.SIADDR);
  b.set(m.giaddr.subarray(0, 4), DhcpField.GIADDR);
  b.set(m.chaddr.subarray(0, 16), DhcpField.CHADDR);
  writeU32(b, DhcpField.COOKIE, DHCP_MAGIC_COOKIE);
  let o: number = DhcpField.OPTIONS;
  const type = m.options.get(DhcpOpt.MESSAGE_TYPE);
  if (type !== undefined) o = writeOption(b, o, DhcpOpt.MESSAGE_TYPE, type);
  for (const [code, v] of m.options) if (code !== DhcpOpt.MESSAGE_TYPE) o = writeOption(b, o, code, v);
  b[o] = DhcpOpt.END;
  return b;
}

function writeOption(b: Uint8Array, o: number, code: number, v: Uint8Array): number {
  let at = 0;
  do {
    const n = Math.min(255, v.length - at);
    b[o] = code;
    b[o + 1] = n;
    b.set(v.subarray(at, at + n), o + 2);
    o += 2 + n;
    at += n;
  } while (at < v.length);
  return o;
}

/** Option 53, or 0 when absent. */
export function dhcpMessageType(m: DhcpMessage): number {
  return m.options.get(DhcpOpt.MESSAGE_TYPE)?.[0] ?? 0;
}

/** An option holding one IPv4 address (50, 54, 1, 28) as text, or null. */
export function dhcpAddrOption(m: DhcpMessage, code: number): string | null {
  const v = m.options.get(code);
  return v !== undefined && v.length === 4 ? formatAddr(v, 0, 4) : null;
}

/** A 32-bit option (51, 58, 59) or null. */
export function dhcpU32Option(m: DhcpMessage, code: number): number | null {
  const v = m.options.get(code);
  return v !== undefined && v.length === 4 ? readU32(v, 0) : null;
}

/** A text option (12, 15, 56) decoded as Latin-1 (RFC 2132 §3.14: NVT ASCII), or null. */
export function dhcpTextOption(m: DhcpMessage, code: number): string | null {
  const v = m.options.get(code);
  if (v === undefined) return null;
  let s = '';
  for (const c of v) if (c !== 0) s += String.fromCharCode(c);
  return s;
}

/** The client's hardware address (the first `hlen` bytes of chaddr) as "aa:bb:…". */
export function dhcpClientHw(m: DhcpMessage): string {
  let s = '';
  for (let i = 0; i < m.hlen; i++) s += (i ? ':' : '') + m.chaddr[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Option value builders. */
export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v >>> 0);
  return b;
}

export function u16Bytes(v: number): Uint8Array {
  return new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
}

export function textBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** A "DHCP REQUEST xid 0x1234 from 52:54:00:12:34:56" line for logs and tests. */
export function formatDhcp(m: DhcpMessage): string {
  const name = DHCP_TYPE_NAMES[dhcpMessageType(m)] ?? 'BOOTP';
  const yi = formatAddr(m.yiaddr, 0, 4);
  return `DHCP ${name} xid 0x${m.xid.toString(16)} chaddr ${dhcpClientHw(m)}${yi !== '0.0.0.0' ? ` yiaddr ${yi}` : ''}`;
}
