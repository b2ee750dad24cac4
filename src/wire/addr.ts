/**
 * IP address text <-> bytes. IPv4 dotted quads (4 bytes) and every IPv6 text form of
 * RFC 4291 §2.2 (16 bytes); output is canonical (RFC 5952 for IPv6).
 *
 * Addresses are parsed once at the API boundary (connect, listen, buildTcpPacket); the data path
 * works on bytes.
 */

const HEX = '0123456789abcdef';

/** Parse a dotted quad into out[off..off+4]; false when it is not exactly four decimal octets. */
function parseV4Into(s: string, out: Uint8Array, off: number): boolean {
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; /* '.' terminates the last part */
    if (c >= 48 && c <= 57) {
      // Leading zeros are rejected ("010" is octal to inet_aton, decimal to others: ambiguous),
      // as glibc inet_pton and Node's net.isIPv4 do.
      if (digits === 1 && val === 0) return false;
      val = val * 10 + (c - 48);
      if (val > 255) return false;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[off + part++] = val;
      val = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

const GROUPS = new Uint16Array(8);

/**
 * RFC 4291 §2.2: x:x:x:x:x:x:x:x, one "::" for a run of zero groups, optional trailing d.d.d.d.
 * Writes 16 bytes at out[off]; false when `s` is not an IPv6 address. No allocation.
 */
function parseV6Into(s: string, out: Uint8Array, off: number): boolean {
  if (s.length < 2 || s.length > 45) return false;
  let ng = 0; /* groups seen */
  let gap = -1; /* index in the groups where "::" stands */
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false; /* a single leading ':' */
    gap = 0;
    i = 2;
  }
  while (i < s.length) {
    // One group: 1-4 hex digits, or a final dotted quad.
    const start = i;
    let val = 0;
    while (i < s.length && i - start < 5) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      val = (val << 4) | d;
      i++;
    }
    if (i < s.length && s.charCodeAt(i) === 46) {
      // Embedded IPv4 (RFC 4291 §2.2 form 3): only as the last 32 bits.
      if (ng > 6 || !parseV4Into(s.slice(start), out, off + 12)) return false;
      GROUPS[ng++] = (out[off + 12]! << 8) | out[off + 13]!;
      GROUPS[ng++] = (out[off + 14]! << 8) | out[off + 15]!;
      break;
    }
    const n = i - start;
    if (n === 0 || n > 4 || ng === 8) return false;
    GROUPS[ng++] = val;
    if (i === s.length) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < s.length && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false; /* at most one "::" */
      gap = ng;
      i++;
    } else if (i === s.length) {
      return false; /* trailing single ':' */
    }
  }
  if (gap < 0 ? ng !== 8 : ng > 7) return false; /* "::" stands for at least one zero group */
  const tail = gap < 0 ? 0 : ng - gap;
  for (let slot = 0; slot < 8; slot++) {
    let v = 0;
    if (gap < 0 || slot < gap) v = GROUPS[slot]!;
    else if (slot >= 8 - tail) v = GROUPS[gap + slot - (8 - tail)]!;
    out[off + slot * 2] = v >> 8;
    out[off + slot * 2 + 1] = v & 0xff;
  }
  return true;
}

/**
 * Parse `s` into out[off..]: returns 4 or 16 (the bytes written), or 0 when `s` is not an
 * address. `out` needs 16 bytes of room at `off`. No allocation for IPv4 and plain IPv6 text.
 */
export function parseAddrInto(s: string, out: Uint8Array, off = 0): 0 | 4 | 16 {
  if (typeof s !== 'string') return 0;
  if (s.includes(':')) return parseV6Into(s, out, off) ? 16 : 0;
  return parseV4Into(s, out, off) ? 4 : 0;
}

const SCRATCH = new Uint8Array(16);

/**
 * A 32-bit number standing for an address (for hash keys, never for display): IPv4 its value,
 * IPv6 a mix of its four words. Equal addresses give equal keys; `addrKeyOfText` and the parser
 * (IpRepr.srcKey/dstKey) agree.
 */
export function addrKey(b: Uint8Array, off: number, len: 4 | 16): number {
  const w0 = (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
  return len === 4 ? w0 : addrKey6(b, off, w0);
}

function addrKey6(b: Uint8Array, off: number, w0: number): number {
  let h = w0;
  for (let i = off + 4; i < off + 16; i += 4) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
  }
  return h | 0x60000000; // keep apart from most IPv4 keys (not needed for correctness)
}

/**
 * parseAddrInto through a memo of the last MEMO texts parsed (their bytes kept in MEMO_BYTES): a
 * stack asks about the same few addresses for every connection (ISN and port hashes, 4-tuple
 * table keys, source selection), and parsing the text each time was ~5 % of a short
 * connection's CPU (bench cps).
 */
export function parseAddrMemo(s: string, out: Uint8Array, off = 0): 0 | 4 | 16 {
  let i = 0;
  while (i < MEMO && memoText[i] !== s) i++;
  if (i === MEMO) {
    i = memoNext;
    memoNext = (memoNext + 1) % MEMO;
    memoText[i] = s;
    memoLen[i] = parseAddrInto(s, MEMO_BYTES, i * 16);
  }
  const n = memoLen[i]!;
  for (let j = 0; j < n; j++) out[off + j] = MEMO_BYTES[i * 16 + j]!;
  return n;
}
const MEMO = 4;
const MEMO_BYTES = new Uint8Array(16 * MEMO);
const memoText = ['', '', '', ''];
const memoLen: (0 | 4 | 16)[] = [0, 0, 0, 0];
let memoNext = 0;

/** addrKey of an address's text (0 when it is not an address). */
export function addrKeyOfText(s: string): number {
  const n = parseAddrMemo(s, SCRATCH, 0);
  return n === 0 ? 0 : addrKey(SCRATCH, 0, n);
}

/** IPv4 dotted quad -> 4 bytes, IPv6 text -> 16 bytes, anything else -> null. */
export function parseAddr(s: string): Uint8Array | null {
  const n = parseAddrInto(s, SCRATCH, 0);
  return n === 0 ? null : SCRATCH.slice(0, n);
}

function formatV4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function hex16(v: number): string {
  if (v === 0) return '0';
  let s = '';
  while (v > 0) {
    s = HEX[v & 15]! + s;
    v >>>= 4;
  }
  return s;
}

function formatV6(b: Uint8Array, off: number): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad (::ffff:192.0.2.1).
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatV4(b, off + 12)}`;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §4.1 (no leading zeros) and §4.3 (lowercase).
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += hex16(w[i]!);
  }
  return s;
}

/**
 * Canonical text of the address at b[off..off+len]. `len` defaults to 16 when exactly 16 bytes
 * remain after `off`, else 4.
 */
export function formatAddr(b: Uint8Array, off = 0, len?: 4 | 16): string {
  const n = len ?? (b.length - off === 16 ? 16 : 4);
  if (n !== 4 && n !== 16) throw new RangeError(`formatAddr: len must be 4 or 16, got ${String(len)}`);
  if (!Number.isInteger(off) || off < 0 || off + n > b.length) {
    throw new RangeError(`formatAddr: off ${off} + len ${n} is outside the ${b.length}-byte buffer`);
  }
  return n === 4 ? formatV4(b, off) : formatV6(b, off);
}

/** 4 or 6 for a valid address, 0 otherwise. */
export function addrVersion(s: string): 4 | 6 | 0 {
  const n = parseAddrMemo(s, SCRATCH, 0);
  return n === 0 ? 0 : n === 4 ? 4 : 6;
}

/** The canonical text of an address ("2001:DB8:0::1" -> "2001:db8::1"), or null when invalid. */
export function canonicalAddr(s: string): string | null {
  // Memo of the last answer: connect() canonicalizes the same peer address for every connection
  // (and keeping the one canonical string lets the 4-tuple table compare strings by pointer).
  if (s === canonIn) return canonOut;
  const n = parseAddrInto(s, SCRATCH, 0);
  const out = n === 0 ? null : formatAddr(SCRATCH, 0, n);
  canonIn = s;
  canonOut = out;
  return out;
}
let canonIn = '';
let canonOut: string | null = null;
