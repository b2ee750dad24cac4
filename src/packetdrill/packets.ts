/**
 * Packet lines at run time: build the frame an inbound line describes (options exactly as written,
 * not in synack's layout), parse an outbound frame with its raw option list, join consecutive
 * outbound segments the way packetdrill does, and compare an outbound frame with its script line
 * in packetdrill's order and words (`live packet field tcp_ack_seq: expected: 1 (0x1) vs actual:
 * 2 (0x2)`).
 */
import { parseAddrInto } from '../wire/addr.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from '../wire/checksum.js';
import { emitIpv4Header, emitIpv6Header, IPPROTO_TCP, newIpRepr, parseIpHeader } from '../wire/ip.js';
import { parseTcp, tcpDataOffset, tcpReservedBits, TCP_HEADER_LEN } from '../wire/tcp.js';
import { newTcpRepr } from '../wire/tcp-repr.js';
import type { TcpOptionNode, TcpPacket } from './ast.js';

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20, E: 0x40, W: 0x80, A: 0x100 };

/** Flag letters (`S.`, `FP.`, ACE digits) to the 9-bit flag field. */
export function flagBits(flags: string): number {
  let b = 0;
  for (const ch of flags) {
    const f = FLAG_BITS[ch];
    if (f !== undefined) b |= f;
    else if (ch >= '0' && ch <= '7') {
      const v = ch.charCodeAt(0) - 48; // ACE: AE CWR ECE
      if (v & 4) b |= 0x100;
      if (v & 2) b |= 0x80;
      if (v & 1) b |= 0x40;
    }
  }
  return b;
}

export interface RawOption {
  kind: number;
  /** Option bytes after kind and length. */
  data: Uint8Array;
  /** The length byte (1 for nop/eol, which have none). */
  length: number;
}

/** Encode a script option list (inbound: values already mapped by the caller). */
export function encodeOptions(
  opts: TcpOptionNode[],
  ecr: (scriptEcr: number) => number,
  sackOffset: number,
  defines: Record<string, string>,
): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number): void => void out.push((v >>> 8) & 0xff, v & 0xff);
  const u32 = (v: number): void => void out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const hex = (h: string): number[] => {
    const b: number[] = [];
    for (let i = 0; i + 1 < h.length; i += 2) b.push(parseInt(h.slice(i, i + 2), 16));
    return b;
  };
  for (const o of opts) {
    switch (o.kind) {
      case 'nop': out.push(1); break;
      case 'eol': out.push(0); break;
      case 'mss': {
        const v = typeof o.value === 'number' ? o.value : Number(defines[o.value] ?? NaN);
        if (!Number.isFinite(v)) throw new Error(`unknown symbol '${String(o.value)}' in mss option`);
        out.push(2, 4);
        u16(v);
        break;
      }
      case 'wscale': out.push(3, 3, o.shift === 'any' ? 0 : o.shift); break;
      case 'sackOK': out.push(4, 2); break;
      case 'sack':
        out.push(5, 2 + 8 * o.blocks.length);
        for (const b of o.blocks) {
          u32((b.left + sackOffset) >>> 0);
          u32((b.right + sackOffset) >>> 0);
        }
        break;
      case 'timestamp':
        out.push(8, 10);
        u32(o.val >>> 0);
        u32(ecr(o.ecr) >>> 0);
        break;
      case 'md5': {
        const d = hex(o.digest);
        out.push(19, 2 + 16);
        for (let i = 0; i < 16; i++) out.push(d[i] ?? 0);
        break;
      }
      case 'fastopen': {
        const cookie = typeof o.cookie === 'string' ? o.cookie : (defines[o.cookie.symbol] ?? '');
        const b = hex(cookie);
        if (o.exp) out.push(254, 4 + b.length, 0xf9, 0x89, ...b);
        else out.push(34, 2 + b.length, ...b);
        break;
      }
    }
  }
  return Uint8Array.from(out);
}

/** Split raw option bytes into options (stops at a malformed one). */
export function parseRawOptions(b: Uint8Array): RawOption[] {
  const opts: RawOption[] = [];
  for (let i = 0; i < b.length; ) {
    const kind = b[i]!;
    if (kind === 0 || kind === 1) {
      opts.push({ kind, data: new Uint8Array(0), length: 1 });
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2 || i + len > b.length) break;
    opts.push({ kind, data: b.subarray(i + 2, i + len), length: len });
    i += len;
  }
  return opts;
}

/**
 * The options with each SACK block's edges moved by `delta` (packetdrill's offset_sack_blocks:
 * an outbound segment's SACK blocks are written relative to the peer's ISN, as its ACK is).
 */
export function offsetSackBlocks(b: Uint8Array, delta: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < out.length; ) {
    const kind = out[i]!;
    if (kind === 0 || kind === 1) {
      i++;
      continue;
    }
    const len = out[i + 1] ?? 0;
    if (len < 2 || i + len > out.length) break;
    if (kind === 5) {
      const dv = new DataView(out.buffer, out.byteOffset + i + 2, len - 2);
      for (let k = 0; k + 4 <= len - 2; k += 4) dv.setUint32(k, (dv.getUint32(k) + delta) >>> 0);
    }
    i += len;
  }
  return out;
}

/** A TCP/IP packet as seen on the wire (outbound) or about to be injected (inbound). */
export interface Live {
  version: 4 | 6;
  src: string;
  dst: string;
  tos: number;
  ttl: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  reserved: number;
  window: number;
  urg: number;
  optBytes: Uint8Array;
  payloadLen: number;
  payload: Uint8Array;
  /** Virtual time it was sent (µs). */
  time: number;
}

/** A 32-bit option value (TSval, TSecr) from the raw option list. */
const rd32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

const LIVE_IP = newIpRepr();
const LIVE_TCP = newTcpRepr();

/** Parse an outbound IPv4/IPv6 TCP frame with src/wire's parsers; null when it is not a whole TCP segment. */
export function parseLive(frame: Uint8Array, time: number): Live | null {
  const ip = LIVE_IP;
  const tcp = LIVE_TCP;
  if (parseIpHeader(frame, ip, false) !== null || parseTcp(frame, ip, tcp, false) !== null) return null;
  const off = ip.headerLength;
  const doff = tcpDataOffset(frame, ip);
  return {
    version: ip.version, src: ip.src, dst: ip.dst, tos: ip.tos, ttl: ip.ttl,
    srcPort: tcp.srcPort, dstPort: tcp.dstPort,
    seq: tcp.seq, ack: tcp.ack,
    flags: tcp.flags,
    reserved: tcpReservedBits(frame, ip),
    window: tcp.window, urg: tcp.urgent,
    optBytes: frame.slice(off + TCP_HEADER_LEN, off + doff),
    payloadLen: tcp.payload.length,
    payload: tcp.payload,
    time,
  };
}

/** Build the IP frame for an inbound packet. */
export function buildFrame(p: Omit<Live, 'time' | 'payload' | 'reserved'> & { payload?: Uint8Array }): Uint8Array {
  const src = new Uint8Array(16);
  const dst = new Uint8Array(16);
  const sl = parseAddrInto(p.src, src, 0);
  const dl = parseAddrInto(p.dst, dst, 0);
  if (sl === 0 || dl === 0 || sl !== dl) throw new Error(`bad packet addresses ${p.src} > ${p.dst}`);
  const optLen = (p.optBytes.length + 3) & ~3;
  const tcpLen = 20 + optLen + p.payloadLen;
  const ipLen = sl === 4 ? 20 : 40;
  const f = new Uint8Array(ipLen + tcpLen);
  const s = src.subarray(0, sl);
  const d = dst.subarray(0, dl);
  if (sl === 4) {
    emitIpv4Header(f, 0, s, d, IPPROTO_TCP, tcpLen, p.ttl, 0, false);
    f[1] = p.tos;
    f[10] = 0;
    f[11] = 0;
    const c = finishChecksum(sum16(f, 0, 20));
    f[10] = c >> 8;
    f[11] = c & 0xff;
  } else {
    emitIpv6Header(f, 0, s, d, IPPROTO_TCP, tcpLen, p.ttl);
    f[0] = 0x60 | (p.tos >> 4);
    f[1] = ((p.tos & 0xf) << 4) | (f[1]! & 0xf);
  }
  const o = ipLen;
  const w16 = (at: number, v: number): void => {
    f[at] = (v >>> 8) & 0xff;
    f[at + 1] = v & 0xff;
  };
  const w32 = (at: number, v: number): void => {
    w16(at, (v >>> 16) & 0xffff);
    w16(at + 2, v & 0xffff);
  };
  w16(o, p.srcPort);
  w16(o + 2, p.dstPort);
  w32(o + 4, p.seq >>> 0);
  w32(o + 8, p.ack >>> 0);
  f[o + 12] = (((20 + optLen) >> 2) << 4) | ((p.flags >> 8) & 1);
  f[o + 13] = p.flags & 0xff;
  w16(o + 14, p.window);
  w16(o + 18, p.urg);
  f.set(p.optBytes, o + 20);
  for (let i = p.optBytes.length; i < optLen; i++) f[o + 20 + i] = 0; // EOL padding
  if (p.payload !== undefined) f.set(p.payload.subarray(0, p.payloadLen), o + 20 + optLen);
  const c = finishChecksum(sum16(f, o, tcpLen, pseudoHeaderSum(s, d, IPPROTO_TCP, tcpLen)));
  w16(o + 16, c);
  return f;
}

/** packetdrill's check_field message. */
function field(name: string, expected: number, actual: number): string | null {
  if (expected >>> 0 === actual >>> 0) return null;
  const e = expected >>> 0;
  const a = actual >>> 0;
  return `live packet field ${name}: expected: ${e} (0x${e.toString(16)}) vs actual: ${a} (0x${a.toString(16)})`;
}

/**
 * Join consecutive outbound segments into one (packetdrill's TSO/GSO aggregation): the last
 * segment's flags (the first's CWR), the first's sequence number, the summed payload.
 */
export function fragmentError(prev: Live, cur: Live, sniffed: number, expectedTotal: number): string | null {
  const e = field('tcp_syn', prev.flags & 2, cur.flags & 2) ?? field('tcp_rst', prev.flags & 4, cur.flags & 4) ??
    field('tcp_ack', prev.flags & 0x10, cur.flags & 0x10) ?? field('tcp_seq', (prev.seq + prev.payloadLen) >>> 0, cur.seq) ??
    field('tcp_ack_seq', prev.ack, cur.ack) ?? field('tcp_window', prev.window, cur.window);
  if (e !== null) return e;
  if (cur.payloadLen < expectedTotal - sniffed && cur.payloadLen !== prev.payloadLen) {
    return `fragment payload: expected ${prev.payloadLen} bytes vs actual ${cur.payloadLen} bytes; total payload: expected ${expectedTotal} bytes vs actual ${cur.payloadLen + sniffed} bytes`;
  }
  return null;
}

export function joinSegments(parts: Live[]): Live {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const last = parts[parts.length - 1]!;
  // packetdrill's aggregate_packets: the last packet's header (so its PSH and FIN), with the
  // first packet's sequence number and CWR.
  const flags = (last.flags & ~0x80) | (first.flags & 0x80);
  const payload = new Uint8Array(parts.reduce((n, p) => n + p.payloadLen, 0));
  let at = 0;
  for (const p of parts) {
    payload.set(p.payload.subarray(0, p.payloadLen), at);
    at += p.payloadLen;
  }
  return { ...first, flags, ack: last.ack, window: last.window, payloadLen: payload.length, payload, time: last.time };
}

export interface VerifyContext {
  /** --tcp_ts_tick_usecs: when set, outbound TS val is checked against the script's. */
  tsTickUsecs: number;
  toleranceUsecs: number;
  /** Map an actual TS val into script space. */
  mapTsVal: (actual: number) => number;
  defines: Record<string, string>;
}

function scriptOptionBytes(p: TcpPacket, defines: Record<string, string>): Uint8Array {
  if (p.options === null || p.options === 'any') return new Uint8Array(0);
  return encodeOptions(p.options, (x) => x, 0, defines);
}

/**
 * Compare an outbound packet (already mapped into script sequence space) with its script line,
 * in packetdrill's order: IP total length, TCP header fields, options, then (by the caller) time.
 */
export function verifyOutbound(script: TcpPacket, actual: Live, ctx: VerifyContext): string | null {
  const want = flagBits(script.flags);
  const sOpts = scriptOptionBytes(script, ctx.defines);
  const any = script.options === 'any';
  const allowance = any ? actual.optBytes.length : 0;
  const sOptLen = (sOpts.length + 3) & ~3;
  const ipHdr = actual.version === 4 ? 20 : 0;
  const sTotal = ipHdr + 20 + sOptLen + script.payloadLen + allowance;
  const aTotal = ipHdr + 20 + actual.optBytes.length + actual.payloadLen;
  const aceWritten = /[0-7]/.test(script.flags);
  const ace = (f: number): number => ((f >> 6) & 3) | (((f >> 8) & 1) << 2);
  const e =
    ipTosError(script, actual.tos) ??
    field(actual.version === 4 ? 'ipv4_total_length' : 'ipv6_payload_len', sTotal, aTotal) ??
    field('tcp_data_offset', (20 + sOptLen + allowance) / 4, (20 + actual.optBytes.length) / 4) ??
    field('tcp_fin', want & 1, actual.flags & 1) ??
    field('tcp_syn', (want >> 1) & 1, (actual.flags >> 1) & 1) ??
    field('tcp_rst', (want >> 2) & 1, (actual.flags >> 2) & 1) ??
    field('tcp_psh', (want >> 3) & 1, (actual.flags >> 3) & 1) ??
    field('tcp_ack', (want >> 4) & 1, (actual.flags >> 4) & 1) ??
    field('tcp_urg', (want >> 5) & 1, (actual.flags >> 5) & 1) ??
    (aceWritten
      ? field('tcp_ace', ace(want), ace(actual.flags))
      : field('tcp_ece', (want >> 6) & 1, (actual.flags >> 6) & 1) ??
        field('tcp_cwr', (want >> 7) & 1, (actual.flags >> 7) & 1) ??
        field('tcp_ae', (want >> 8) & 1, (actual.flags >> 8) & 1)) ??
    field('tcp_reserved_bits', 0, actual.reserved) ??
    field('tcp_seq', script.seqStart, actual.seq) ??
    field('tcp_ack_seq', script.ack ?? 0, actual.ack) ??
    (script.win === null ? null : field('tcp_window', script.win, actual.window)) ??
    field('tcp_urg_ptr', script.urg ?? 0, actual.urg);
  if (e !== null) return e;
  if (any) return null;
  const so = parseRawOptions(sOpts);
  const ao = parseRawOptions(actual.optBytes);
  for (let i = 0; i < Math.max(so.length, ao.length); i++) {
    const s = so[i];
    const a = ao[i];
    if (s === undefined || a === undefined || s.kind !== a.kind) return 'bad outbound TCP options';
    if (a.kind === 0 || a.kind === 1) continue;
    if (a.kind === 8) {
      if (ctx.tsTickUsecs > 0) {
        const sVal = rd32(s.data, 0);
        const aVal = ctx.mapTsVal(rd32(a.data, 0));
        if (Math.abs((aVal - sVal) | 0) * ctx.tsTickUsecs > ctx.toleranceUsecs) {
          return `bad outbound TCP timestamp value, tolerance ${ctx.toleranceUsecs}`;
        }
      }
      continue;
    }
    if (s.length !== a.length) return `bad lengths for outbound TCP option ${s.kind}`;
    if (a.kind === 3 && Array.isArray(script.options) && script.options.some((o) => o.kind === 'wscale' && o.shift === 'any')) continue;
    for (let j = 0; j < s.data.length; j++) if (s.data[j] !== a.data[j]) return `bad value outbound TCP option ${s.kind}`;
  }
  return null;
}

/**
 * packetdrill's verify_outbound_live_tos: `[ect0]`, `[ect1]`, `[ce]`, `[noecn]` check the ECN
 * field, `[ect01]` either ECT codepoint, `(tos 0x..)` the whole byte; nothing written, nothing checked.
 */
function ipTosError(script: TcpPacket, tos: number): string | null {
  const ecn = script.ip.ecn;
  if (ecn === 'ect01') return (tos & 3) === 1 || (tos & 3) === 2 ? null : `live packet field ip_ecn: expected: 0x1 or 0x2 vs actual: 0x${(tos & 3).toString(16)}`;
  if (ecn !== null) return field('ip_ecn', { noecn: 0, ect1: 1, ect0: 2, ce: 3 }[ecn], tos & 3);
  if (script.ip.tos !== null) return field('tos', script.ip.tos, tos);
  return null;
}

/** The first TS option's val/ecr of raw option bytes, or null. */
export function timestampOf(optBytes: Uint8Array): { val: number; ecr: number } | null {
  for (const o of parseRawOptions(optBytes)) if (o.kind === 8 && o.data.length >= 8) return { val: rd32(o.data, 0), ecr: rd32(o.data, 4) };
  return null;
}
