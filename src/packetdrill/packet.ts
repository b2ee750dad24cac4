/**
 * Packet lines (parser.y `packet_spec`): direction, outer headers, IP info, then a TCP segment,
 * a UDP datagram or an ICMP message, with TCP options. Range checks and the grammar's semantic
 * checks (sequence/length consistency, `<...>` and `[ect01]` only outbound) happen here, with
 * packetdrill's messages.
 */
import type {
  Direction, Ecn, Encap, EventBase, IcmpEchoed, IcmpPacket, IpInfo, PacketEvent, TcpOptionNode,
  TcpPacket, UdpPacket,
} from './ast.js';
import { parseGreHeader, parseMplsStack } from './expr.js';
import type { Token } from './lexer.js';
import { TokenStream, U16, U20, U32, U8 } from './stream.js';

const ECN_KWS: ReadonlySet<string> = new Set(['noecn', 'ect0', 'ect1', 'ect01', 'ce']);
const VALID_TCP_FLAGS = '.FSRPEWAU01234567';
/** tcp_options.h: 40 option bytes less the TFO option's kind+length (+ magic for FOEXP). */
const MAX_TCP_OPTION_BYTES = 40;
const MAX_MD5_DIGEST_BYTES = 16;

/** Parses a packet line from its direction token on; `base` holds the event's time and place. */
export function parsePacket(s: TokenStream, base: EventBase): PacketEvent {
  const dirTok = s.next();
  const direction: Direction = dirTok.text === '<' ? 'inbound' : 'outbound';
  const encaps = parseEncaps(s);
  const ipTok = s.peek();
  const ip = parseOptIpInfo(s);
  const common = { ...base, kind: 'packet' as const, direction, encaps, ip };
  if (ip.ecn === 'ect01' && direction !== 'outbound') {
    s.semantic(ipTok, '[ect01] can only be used with outbound packets');
  }
  if (s.atKw('udp')) {
    s.next();
    if (ip.ecn !== null) s.semantic(ipTok, 'ECN can only be used with TCP packets');
    const ports = parseOptPorts(s);
    s.expectChar('(');
    const payloadLen = s.expectRange('a UDP payload size', U16, 'UDP payload size out of range');
    s.expectChar(')');
    return { ...common, protocol: 'udp', ports, payloadLen } satisfies UdpPacket;
  }
  if (s.atKw('icmp')) return parseIcmp(s, common);
  return parseTcp(s, common);
}

type Common = Omit<TcpPacket, 'protocol' | 'ports' | 'flags' | 'seqStart' | 'seqEnd' | 'payloadLen' | 'ack' | 'win' | 'urg' | 'ecn' | 'options'>;

function parseTcp(s: TokenStream, common: Common): TcpPacket {
  const ports = parseOptPorts(s);
  const flags = parseFlags(s);
  const seq = parseSeq(s);
  let ack: number | null = null;
  let win: number | null = null;
  let urg: number | null = null;
  if (s.acceptKw('ack')) ack = s.expectRange('an ack number', U32, 'TCP ack sequence number out of range');
  if (s.acceptKw('win')) win = s.expectRange('a window', U16, 'TCP window value out of range');
  if (s.acceptKw('urg')) urg = s.expectRange('an urgent pointer', U16, 'urg_ptr value out of range');
  if (win === null && common.direction === 'inbound') {
    // tcp_packet.c new_tcp_packet(), which packetdrill runs while parsing.
    s.semantic(s.peek(), 'window must be specified for inbound packets');
  }
  let options: TcpOptionNode[] | 'any' | null = null;
  if (s.atChar('<')) {
    const open = s.next();
    if (s.peek().type === 'ellipsis') {
      s.next();
      if (common.direction !== 'outbound') {
        s.semantic(open, '<...> for TCP options can only be used with outbound packets');
      }
      options = 'any';
    } else {
      options = [parseTcpOption(s)];
      while (s.acceptChar(',')) options.push(parseTcpOption(s));
      checkOptionLength(s, open, options);
    }
    s.expectChar('>');
  }
  return { ...common, protocol: 'tcp', ports, flags, ...seq, ack, win, urg, ecn: common.ip.ecn, options };
}

/** flags: WORD | '.' | WORD '.' | '-' — then checked against packetdrill's valid flag letters. */
function parseFlags(s: TokenStream): string {
  const t = s.peek();
  let flags: string;
  if (s.acceptChar('-')) return '';
  if (s.acceptChar('.')) {
    flags = '.';
  } else if (s.isWord()) {
    flags = s.next().text;
    if (s.acceptChar('.')) flags += '.';
  } else {
    return s.fail('TCP flags');
  }
  let ecn = false;
  let ace = false;
  for (const c of flags) {
    if (!VALID_TCP_FLAGS.includes(c)) s.semantic(t, `Invalid TCP flag: '${c}'`);
    const isAce = c >= '0' && c <= '7';
    if ((isAce && (ecn || ace)) || ('EWA'.includes(c) && ace)) s.semantic(t, `Conflicting TCP flag: '${c}'`);
    if (isAce) ace = true;
    if ('EWA'.includes(c)) ecn = true;
  }
  return flags;
}

/** seq: INTEGER ':' INTEGER '(' INTEGER ')' with packetdrill's checks. */
function parseSeq(s: TokenStream): { seqStart: number; seqEnd: number; payloadLen: number } {
  const t = s.peek();
  const seqStart = s.expectRange('a sequence number', U32, 'TCP start sequence number out of range');
  s.expectChar(':');
  const seqEnd = s.expectRange('an end sequence number', U32, 'TCP end sequence number out of range');
  s.expectChar('(');
  const payloadLen = s.expectRange('a payload length', U16, 'TCP payload size out of range');
  s.expectChar(')');
  if (seqEnd !== seqStart + payloadLen) {
    s.semantic(t, 'inconsistent TCP sequence numbers and payload size');
  }
  return { seqStart, seqEnd, payloadLen };
}

/** opt_port_info: INTEGER '>' INTEGER */
function parseOptPorts(s: TokenStream): { src: number; dst: number } | null {
  if (s.peek().type !== 'int' || !s.atChar('>', 1)) return null;
  const src = s.expectRange('a port', U16, 'src port out of range');
  s.expectChar('>');
  const dst = s.expectRange('a port', U16, 'dst port out of range');
  return { src, dst };
}

function parseIcmp(s: TokenStream, common: Common): IcmpPacket {
  s.expectKw('icmp');
  const icmpType = s.expectWord('an ICMP type').text;
  const icmpCode = s.isWord() ? s.next().text : null;
  const mtu = s.acceptKw('mtu') ? s.expectInt('an MTU') : null;
  const echoId = s.acceptKw('id') ? s.expectInt('an echo id') : null;
  let echoed: IcmpEchoed | null = null;
  if (s.acceptChar('[')) {
    if (s.atKw('udp') || s.atKw('raw')) {
      const protocol = s.next().kw as 'udp' | 'raw';
      s.expectChar('(');
      const payloadLen = s.expectInt('a payload length');
      s.expectChar(')');
      echoed = { protocol, payloadLen };
    } else {
      echoed = { protocol: 'tcp', ...parseSeq(s) };
    }
    s.expectChar(']');
  }
  return { ...common, protocol: 'icmp', ports: null, icmpType, icmpCode, mtu, echoId, echoed };
}

/** opt_ip_info: '(' ip_info ')' | '[' ip_info ']' | nothing. */
function parseOptIpInfo(s: TokenStream): IpInfo {
  const info: IpInfo = { ecn: null, tos: null, flowLabel: null, ttl: null };
  const close = s.atChar('(') ? ')' : s.atChar('[') ? ']' : null;
  if (close === null) return info;
  s.next();
  const t = s.peek();
  if (t.kw !== null && ECN_KWS.has(t.kw)) {
    s.next();
    info.ecn = t.kw as Ecn;
  } else if (s.acceptKw('tos')) {
    if (s.peek().type !== 'hex') s.fail('a hex TOS value');
    info.tos = s.expectRange('a hex TOS value', U8, 'tos out of range for 8 bits', true);
  } else if (s.atKw('flowlabel')) {
    info.flowLabel = parseFlowLabel(s);
  } else if (s.acceptKw('ttl')) {
    info.ttl = s.expectRange('a TTL', U8, 'ttl out of range');
  } else {
    s.fail("'noecn', 'ect0', 'ect1', 'ect01', 'ce', 'tos', 'flowlabel' or 'ttl'");
  }
  if ((info.ecn !== null || info.tos !== null) && s.acceptChar(',')) info.flowLabel = parseFlowLabel(s);
  s.expectChar(close);
  return info;
}

function parseFlowLabel(s: TokenStream): number {
  s.expectKw('flowlabel');
  if (s.peek().type !== 'hex') s.fail('a hex flow label');
  return s.expectRange('a hex flow label', U20, 'flowlabel out of range for 20 bits', true);
}

/** packet_prefix: outer headers after the direction, each ending in ':' (transport PSP: not). */
function parseEncaps(s: TokenStream): Encap[] {
  const encaps: Encap[] = [];
  for (;;) {
    const t = s.peek();
    if (t.kw === 'ipv4' || t.kw === 'ipv6') {
      s.next();
      const ip = parseOptIpInfo(s);
      const type = t.kw;
      const src = s.expectType(type, `an ${type === 'ipv4' ? 'IPv4' : 'IPv6'} address`).text;
      s.expectChar('>');
      const dst = s.expectType(type, `an ${type === 'ipv4' ? 'IPv4' : 'IPv6'} address`).text;
      s.expectChar(':');
      encaps.push({ kind: type, src, dst, ip });
    } else if (t.kw === 'gre') {
      s.next();
      const header = { flags: null, sum: null, off: null, key: null, seq: null };
      if (s.acceptChar(':')) {
        encaps.push({ kind: 'gre', header });
        continue;
      }
      s.acceptChar(',');
      encaps.push({ kind: 'gre', header: parseGreHeader(s) });
      s.expectChar(':');
    } else if (t.kw === 'mpls') {
      s.next();
      encaps.push({ kind: 'mpls', entries: parseMplsStack(s) });
      s.expectChar(':');
    } else if (t.kw === 'psp') {
      s.next();
      encaps.push(parsePsp(s, false));
      s.expectChar(':');
    } else if (t.kw === 'encap') {
      s.next();
      s.expectKw('psp');
      encaps.push(parsePsp(s, true));
    } else {
      return encaps;
    }
  }
}

/** `spi N [, vc N]` after `psp` (the grammar of gtests/net/packetdrill/tests/encap-syntax-psp.pkt). */
function parsePsp(s: TokenStream, transport: boolean): Encap {
  s.expectKw('spi');
  const spi = s.expectRange('an SPI', U32, 'PSP SPI out of range', true);
  let vc: bigint | null = null;
  if (s.atChar(',') && s.atKw('vc', 1)) {
    s.next();
    s.next();
    const t = s.peek();
    if (t.type !== 'int' && t.type !== 'hex') s.fail('a virtualization cookie');
    s.next();
    vc = BigInt(t.text);
    if (vc < 0n || vc > 0xffffffffffffffffn) s.semantic(t, 'PSP VC out of range');
  }
  return { kind: 'psp', spi, vc, transport };
}

function hexText(t: Token): string | null {
  return /^[0-9a-fA-F]*$/.test(t.text) ? t.text : null;
}

/** One TCP option inside `<...>`. */
function parseTcpOption(s: TokenStream): TcpOptionNode {
  const t = s.next();
  switch (t.kw) {
    case 'nop':
      return { kind: 'nop' };
    case 'eol':
      return { kind: 'eol' };
    case 'mss': {
      // `mss MSS` (a -D define) is accepted by newer packetdrill; the symbol is kept.
      if (s.isWord()) return { kind: 'mss', value: s.next().text };
      return { kind: 'mss', value: s.expectRange('an MSS value', U16, 'mss value out of range') };
    }
    case 'wscale':
      if (s.acceptChar('*')) return { kind: 'wscale', shift: 'any' };
      return { kind: 'wscale', shift: s.expectRange('a shift count', U8, 'window scale shift count out of range') };
    case 'sackOK':
      return { kind: 'sackOK' };
    case 'sack': {
      const blocks: { left: number; right: number }[] = [];
      do {
        const left = s.expectRange('a SACK block', U32, 'TCP SACK left sequence number out of range');
        s.expectChar(':');
        const right = s.expectRange('a SACK block end', U32, 'TCP SACK right sequence number out of range');
        blocks.push({ left, right });
      } while (s.peek().type === 'int');
      return { kind: 'sack', blocks };
    }
    case 'md5': {
      const b = s.peek();
      if (b.type !== 'int' && !s.isWord()) s.fail('an MD5 digest');
      s.next();
      const hex = hexText(b);
      if (hex === null || hex.length % 2 !== 0) s.semantic(b, 'TCP MD5 digest is not a valid hex string');
      if (hex.length / 2 > MAX_MD5_DIGEST_BYTES) s.semantic(b, 'TCP MD5 digest longer than 16 bytes');
      return { kind: 'md5', digest: hex };
    }
    case 'TS': {
      s.expectKw('val');
      const val = s.expectRange('a TS value', U32, 'ts val out of range');
      s.expectKw('ecr');
      const ecr = s.expectRange('a TS echo reply', U32, 'ecr val out of range');
      return { kind: 'timestamp', val, ecr };
    }
    case 'FO':
    case 'FOEXP': {
      const exp = t.kw === 'FOEXP';
      const b = s.peek();
      if (b.type !== 'int' && !s.isWord()) return { kind: 'fastopen', exp, cookie: '' };
      s.next();
      const hex = hexText(b);
      if (hex === null) return { kind: 'fastopen', exp, cookie: { symbol: b.text } };
      if (hex.length % 2 !== 0) s.semantic(b, 'TCP fast open cookie has an odd number of digits');
      const bytes = hex.length / 2;
      const max = MAX_TCP_OPTION_BYTES - (exp ? 4 : 2);
      if (bytes > max) {
        s.semantic(b, `TCP fast open cookie of ${bytes} bytes exceeds maximum cookie length of ${max} bytes`);
      }
      return { kind: 'fastopen', exp, cookie: hex };
    }
    default:
      return s.fail('a TCP option', t);
  }
}

/** Encoded length of an option, or null when it depends on a -D define. */
function optionBytes(o: TcpOptionNode): number | null {
  switch (o.kind) {
    case 'nop':
    case 'eol':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackOK':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamp':
      return 10;
    case 'md5':
      return 2 + o.digest.length / 2;
    case 'fastopen':
      return typeof o.cookie === 'string' ? (o.exp ? 4 : 2) + o.cookie.length / 2 : null;
  }
}

/** tcp_options_append() and new_tcp_packet(): at most 40 bytes, padded to a multiple of 4. */
function checkOptionLength(s: TokenStream, open: Token, options: TcpOptionNode[]): void {
  let total = 0;
  for (const o of options) {
    const n = optionBytes(o);
    if (n === null) return;
    total += n;
  }
  if (total > MAX_TCP_OPTION_BYTES) s.semantic(open, 'TCP option list too long');
  if (total % 4 !== 0) {
    s.semantic(open, `TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: ${total % 4} excess bytes`);
  }
}
