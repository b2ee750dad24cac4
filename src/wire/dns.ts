/**
 * DNS messages (RFC 1035 §4): header, questions and resource records, parsed with name
 * compression (§4.1.4) and emitted with it. Record data is kept raw, except for the types whose
 * data holds domain names that may be compressed (CNAME, NS, PTR, MX, SOA, SRV): those names are
 * decoded on parse and written again on emit, since a compression pointer is only meaningful
 * inside the message it came from (RFC 3597 §4). Malformed input is rejected with a reason,
 * never thrown; every loop is bounded by the message's length.
 */
import { formatAddr } from './addr.js';

/** Named offsets of the 12-byte header (RFC 1035 §4.1.1). */
export const DnsField = {
  ID: 0,
  FLAGS: 2,
  QDCOUNT: 4,
  ANCOUNT: 6,
  NSCOUNT: 8,
  ARCOUNT: 10,
} as const;
export const DNS_HEADER_LEN = 12;
/** RFC 1035 §4.2.1: a UDP message without EDNS is at most 512 octets. */
export const DNS_UDP_MAX = 512;
/** RFC 1035 §3.1: a name is at most 255 octets on the wire, a label at most 63. */
export const DNS_NAME_MAX = 255;

/** Header flag bits (RFC 1035 §4.1.1; AD and CD from RFC 4035 §3.2). */
export const DnsFlag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const DnsRcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const DnsType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const DNS_CLASS_IN = 1;

export type DnsDropReason = 'dns-truncated' | 'dns-bad-name' | 'dns-bad-pointer' | 'dns-name-too-long' | 'dns-bad-rdata' | 'dns-trailing-bytes';

export interface DnsQuestion {
  /** Lower-case-preserving dotted name without the trailing dot ("" for the root). */
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /**
   * Record data. For CNAME/NS/PTR/MX/SOA/SRV it is rewritten from `names` on emit; for all other
   * types it is passed through as is.
   */
  data: Uint8Array;
  /** The decoded domain names inside the data, for the types that hold some (see above). */
  names?: string[];
}

export interface DnsMessage {
  id: number;
  /** The 16-bit flags word with the opcode and rcode in it. */
  flags: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

export function dnsOpcode(m: DnsMessage): number {
  return (m.flags >> 11) & 0xf;
}

export function dnsRcode(m: DnsMessage): number {
  return m.flags & 0xf;
}

/**
 * Data layout of the types whose data holds names: the fixed octets before each name and after
 * the last (MX: preference; SOA: two names then five 32-bit values; SRV: priority, weight, port).
 */
const NAME_LAYOUT: Readonly<Record<number, { before: number; names: number; after: number }>> = {
  [DnsType.NS]: { before: 0, names: 1, after: 0 },
  [DnsType.CNAME]: { before: 0, names: 1, after: 0 },
  [DnsType.PTR]: { before: 0, names: 1, after: 0 },
  [DnsType.MX]: { before: 2, names: 1, after: 0 },
  [DnsType.SOA]: { before: 0, names: 2, after: 20 },
  [DnsType.SRV]: { before: 6, names: 1, after: 0 },
};

interface Cursor {
  off: number;
  /** Why the last read failed. */
  err: DnsDropReason;
}

/**
 * Read a possibly compressed name at c.off (RFC 1035 §4.1.4); c.off moves past it. A pointer
 * must point backwards (so a chain of them ends), and the name must fit 255 octets.
 */
function readName(b: Uint8Array, c: Cursor): string | null {
  const why = readNameOrWhy(b, c);
  if (why.ok) return why.name;
  c.err = why.err;
  return null;
}

function readNameOrWhy(b: Uint8Array, c: Cursor): { ok: true; name: string } | { ok: false; err: DnsDropReason } {
  let off = c.off;
  let jumped = false;
  let wire = 0;
  const labels: string[] = [];
  for (;;) {
    if (off >= b.length) return fail('dns-truncated');
    const len = b[off]!;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= b.length) return fail('dns-truncated');
      const target = ((len & 0x3f) << 8) | b[off + 1]!;
      if (!jumped) c.off = off + 2;
      // Forward and self pointers could loop; a name only ever points at earlier bytes.
      if (target >= off) return fail('dns-bad-pointer');
      jumped = true;
      off = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return fail('dns-bad-name');
    wire += len + 1;
    if (wire > DNS_NAME_MAX) return fail('dns-name-too-long');
    if (len === 0) {
      if (!jumped) c.off = off + 1;
      return { ok: true, name: labels.join('.') };
    }
    if (off + 1 + len > b.length) return fail('dns-truncated');
    let s = '';
    for (let i = off + 1; i <= off + len; i++) {
      const ch = b[i]!;
      // RFC 4343 §2.1: any octet may appear in a label; dots and backslashes are escaped as
      // the master file format does (RFC 1035 §5.1) so the text form stays unambiguous.
      if (ch === 0x2e || ch === 0x5c) s += '\\' + String.fromCharCode(ch);
      else if (ch < 0x21 || ch > 0x7e) s += '\\' + ch.toString().padStart(3, '0');
      else s += String.fromCharCode(ch);
    }
    labels.push(s);
    off += 1 + len;
  }
}

function fail(err: DnsDropReason): { ok: false; err: DnsDropReason } {
  return { ok: false, err };
}

function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

function readRecord(b: Uint8Array, c: Cursor): DnsRecord | DnsDropReason {
  const name = readName(b, c);
  if (name === null) return c.err;
  if (c.off + 10 > b.length) return 'dns-truncated';
  const type = u16(b, c.off);
  const cls = u16(b, c.off + 2);
  const ttl = ((b[c.off + 4]! << 24) | (b[c.off + 5]! << 16) | (b[c.off + 6]! << 8) | b[c.off + 7]!) >>> 0;
  const rdlen = u16(b, c.off + 8);
  const start = c.off + 10;
  if (start + rdlen > b.length) return 'dns-truncated';
  c.off = start + rdlen;
  const rec: DnsRecord = { name, type, class: cls, ttl, data: b.slice(start, start + rdlen) };
  const layout = NAME_LAYOUT[type];
  if (layout !== undefined) {
    const d: Cursor = { off: start + layout.before, err: 'dns-bad-rdata' };
    if (d.off > start + rdlen) return 'dns-bad-rdata';
    rec.names = [];
    for (let i = 0; i < layout.names; i++) {
      const n = readName(b, d);
      if (n === null) return d.err === 'dns-truncated' ? 'dns-bad-rdata' : d.err;
      rec.names.push(n);
    }
    if (d.off + layout.after !== start + rdlen) return 'dns-bad-rdata';
  }
  if ((type === DnsType.A && rdlen !== 4) || (type === DnsType.AAAA && rdlen !== 16)) return 'dns-bad-rdata';
  return rec;
}

/** Parse a whole DNS message (a UDP payload, or a TCP message without its length prefix). */
export function parseDns(b: Uint8Array): DnsMessage | DnsDropReason {
  if (!(b instanceof Uint8Array) || b.length < DNS_HEADER_LEN) return 'dns-truncated';
  const m: DnsMessage = { id: u16(b, DnsField.ID), flags: u16(b, DnsField.FLAGS), questions: [], answers: [], authority: [], additional: [] };
  const c: Cursor = { off: DNS_HEADER_LEN, err: 'dns-truncated' };
  // Every question takes at least 5 octets and every record 11, so the counts are bounded by
  // the message length: a count larger than the bytes allow ends in 'dns-truncated'.
  for (let i = u16(b, DnsField.QDCOUNT); i > 0; i--) {
    const name = readName(b, c);
    if (name === null) return c.err;
    if (c.off + 4 > b.length) return 'dns-truncated';
    m.questions.push({ name, type: u16(b, c.off), class: u16(b, c.off + 2) });
    c.off += 4;
  }
  const sections: [number, DnsRecord[]][] = [
    [u16(b, DnsField.ANCOUNT), m.answers],
    [u16(b, DnsField.NSCOUNT), m.authority],
    [u16(b, DnsField.ARCOUNT), m.additional],
  ];
  for (const [count, out] of sections) {
    for (let i = count; i > 0; i--) {
      const r = readRecord(b, c);
      if (typeof r === 'string') return r;
      out.push(r);
    }
  }
  if (c.off !== b.length) return 'dns-trailing-bytes';
  return m;
}

/** A growing output with the compression table of RFC 1035 §4.1.4 (suffix → offset). */
class Writer {
  buf = new Uint8Array(512);
  len = 0;
  private readonly suffixes = new Map<string, number>();

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }
  u16(v: number): void {
    this.u8(v >> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  name(name: string): void {
    const labels = splitName(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).map((l) => latin1(l)).join('.').toLowerCase();
      const at = this.suffixes.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.len < 0x4000) this.suffixes.set(suffix, this.len);
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** A dotted name (with the escapes readName writes) → label octets; throws naming the name when invalid. */
function splitName(name: string): Uint8Array[] {
  if (typeof name !== 'string') throw new TypeError(`DNS name must be a string, got ${typeof name}`);
  const labels: Uint8Array[] = [];
  if (name === '' || name === '.') return labels;
  let cur: number[] = [];
  let wire = 1;
  const end = name.endsWith('.') && !name.endsWith('\\.') ? name.length - 1 : name.length;
  for (let i = 0; i < end; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c) {
      const d = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (d !== null) {
        cur.push(Number(d[0]) & 0xff);
        i += 3;
      } else {
        cur.push(name.charCodeAt(++i) & 0xff);
      }
    } else if (ch === 0x2e) {
      labels.push(Uint8Array.from(cur));
      cur = [];
    } else cur.push(ch & 0xff);
  }
  labels.push(Uint8Array.from(cur));
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new RangeError(`DNS name ${JSON.stringify(name)} has an empty label or one longer than 63 octets`);
    wire += l.length + 1;
  }
  if (wire > DNS_NAME_MAX) throw new RangeError(`DNS name ${JSON.stringify(name)} is longer than 255 octets`);
  return labels;
}

function writeRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name);
  w.u16(r.type);
  w.u16(r.class);
  w.u32(r.ttl >>> 0);
  const layout = NAME_LAYOUT[r.type];
  if (layout === undefined || r.names === undefined) {
    if (r.data.length > 0xffff) throw new RangeError(`DNS record ${r.name} data is longer than 65535 octets`);
    w.u16(r.data.length);
    w.bytes(r.data);
    return;
  }
  if (r.names.length !== layout.names) throw new RangeError(`DNS record ${r.name} type ${r.type} needs ${layout.names} names`);
  const lenAt = w.len;
  w.u16(0);
  w.bytes(r.data.subarray(0, layout.before));
  for (const n of r.names) w.name(n);
  w.bytes(r.data.subarray(r.data.length - layout.after));
  const rdlen = w.len - lenAt - 2;
  w.buf[lenAt] = rdlen >> 8;
  w.buf[lenAt + 1] = rdlen & 0xff;
}

/** The wire form of `m`, names compressed. Throws naming the field when `m` cannot be encoded. */
export function emitDns(m: DnsMessage): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  w.u16(m.flags);
  for (const list of [m.questions, m.answers, m.authority, m.additional]) {
    if (list.length > 0xffff) throw new RangeError('DNS message section has more than 65535 entries');
    w.u16(list.length);
  }
  for (const q of m.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const r of m.answers) writeRecord(w, r);
  for (const r of m.authority) writeRecord(w, r);
  for (const r of m.additional) writeRecord(w, r);
  return w.buf.slice(0, w.len);
}

/** A record of `type` owned by `name` whose data holds `names` (CNAME, PTR, MX …) after `fixed` octets. */
export function nameRecord(name: string, type: number, ttl: number, names: string[], fixed: Uint8Array = new Uint8Array(0)): DnsRecord {
  const layout = NAME_LAYOUT[type];
  if (layout === undefined) throw new RangeError(`nameRecord: type ${type} holds no names`);
  if (fixed.length !== layout.before + layout.after) throw new RangeError(`nameRecord: type ${type} needs ${layout.before + layout.after} fixed octets, got ${fixed.length}`);
  const data = new Uint8Array(fixed.length);
  data.set(fixed);
  return { name, type, class: DNS_CLASS_IN, ttl, data, names };
}

/** The address of an A or AAAA record as text, else null. */
export function dnsRecordAddr(r: DnsRecord): string | null {
  if (r.type === DnsType.A && r.data.length === 4) return formatAddr(r.data, 0, 4);
  if (r.type === DnsType.AAAA && r.data.length === 16) return formatAddr(r.data, 0, 16);
  return null;
}

/** The requestor's UDP payload size from an EDNS OPT record (RFC 6891 §6.2.3), else 512. */
export function dnsUdpPayloadLimit(m: DnsMessage): number {
  const opt = m.additional.find((r) => r.type === DnsType.OPT);
  return opt === undefined ? DNS_UDP_MAX : Math.max(DNS_UDP_MAX, opt.class);
}
