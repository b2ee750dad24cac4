/**
 * tcpdump-style one-line rendering of TCP segments, as `tcpdump -n -S` prints them (absolute
 * sequence numbers): `10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 0, win 64240, options [...],
 * length 0`. Follows tcpdump's print-tcp.c field by field.
 */

import { ArpOp, newArpRepr, parseArp } from './arp.js';
import { ETH_HEADER_LEN, EtherType, etherType, formatMac } from './ethernet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, isFragment, newIpRepr, parseIpHeader } from './ip.js';
import { formatIcmp } from './icmp.js';
import { icmpv6Type, NdpType, newNdpRepr, parseNdp } from './ndp.js';
import { emitTcpOptions, MAX_TCP_OPTIONS_LEN, parseTcp, tcpDataOffset, TCP_HEADER_LEN, TcpOpt } from './tcp.js';
import { ACK, FIN, flagsToString, newTcpRepr, RST, SYN, URG } from './tcp-repr.js';
import type { TcpRepr } from './tcp-repr.js';

const HEX = '0123456789abcdef';

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Option names as tcpdump prints them (tcp_option_values); others print as unknown-N. */
function optName(kind: number): string {
  switch (kind) {
    case TcpOpt.EOL:
      return 'eol';
    case TcpOpt.NOP:
      return 'nop';
    case TcpOpt.MSS:
      return 'mss';
    case TcpOpt.WSCALE:
      return 'wscale';
    case TcpOpt.SACK_PERMITTED:
      return 'sackOK';
    case TcpOpt.SACK:
      return 'sack';
    case TcpOpt.TIMESTAMP:
      return 'TS';
    default:
      return `unknown-${kind}`;
  }
}

/**
 * Render the option bytes b[i..end] in on-wire order, as tcpdump does: comma-separated, `eol`
 * ends the list, a malformed length prints `[bad opt]` and stops. Never throws.
 */
export function formatOptionBytes(b: Uint8Array, i: number, end: number): string {
  let s = '';
  while (i < end) {
    if (s !== '') s += ',';
    const kind = b[i]!;
    if (kind === TcpOpt.EOL || kind === TcpOpt.NOP) {
      s += optName(kind);
      i++;
      if (kind === TcpOpt.EOL) break;
      continue;
    }
    const olen = i + 1 < end ? b[i + 1]! : 0;
    if (olen < 2 || i + olen > end) {
      s += '[bad opt]';
      break;
    }
    s += optName(kind);
    let want = olen; /* the length this kind must have; tcpdump appends [len N] on a mismatch */
    switch (kind) {
      case TcpOpt.MSS:
        want = 4;
        if (olen >= 4) s += ` ${(b[i + 2]! << 8) | b[i + 3]!}`;
        break;
      case TcpOpt.WSCALE:
        want = 3;
        if (olen >= 3) s += ` ${b[i + 2]!}`;
        break;
      case TcpOpt.SACK_PERMITTED:
        want = 2;
        break;
      case TcpOpt.SACK:
        if ((olen - 2) % 8 !== 0) {
          s += ' invalid sack';
        } else {
          s += ` ${(olen - 2) / 8} `;
          for (let k = i + 2; k < i + olen; k += 8) s += `{${u32(b, k)}:${u32(b, k + 4)}}`;
        }
        break;
      case TcpOpt.TIMESTAMP:
        want = 10;
        if (olen >= 10) s += ` val ${u32(b, i + 2)} ecr ${u32(b, i + 6)}`;
        break;
      default:
        if (olen > 2) {
          s += ' 0x';
          for (let k = i + 2; k < i + olen; k++) s += HEX[b[k]! >> 4]! + HEX[b[k]! & 15]!;
        }
    }
    if (olen !== want) s += `[len ${olen}]`;
    i += olen;
  }
  return s;
}

const OPT_SCRATCH = new Uint8Array(MAX_TCP_OPTIONS_LEN);

/** The options of `r` in the order emitTcp writes them: `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`. */
export function formatOptions(r: TcpRepr): string {
  const n = emitTcpOptions(OPT_SCRATCH, 0, r);
  return formatOptionBytes(OPT_SCRATCH, 0, n);
}

function line(src: string, dst: string, r: TcpRepr, options: string): string {
  const len = r.payload.length;
  let s = `${src}.${r.srcPort} > ${dst}.${r.dstPort}: Flags [${flagsToString(r.flags)}]`;
  // tcpdump prints seq only when the segment occupies sequence space (data, SYN, FIN) or is a
  // RST: a bare ACK shows no seq.
  if (len > 0 || r.flags & (SYN | FIN | RST)) {
    s += `, seq ${r.seq >>> 0}`;
    if (len > 0) s += `:${(r.seq + len) >>> 0}`;
  }
  if (r.flags & ACK) s += `, ack ${r.ack >>> 0}`;
  s += `, win ${r.window}`;
  if (r.flags & URG) s += `, urg ${r.urgent}`;
  if (options !== '') s += `, options [${options}]`;
  return `${s}, length ${len}`;
}

/**
 * One tcpdump line for a segment given as a representation (options in emitTcp's order):
 * `10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 0, win 64240, options [mss 1460], length 0`.
 */
export function formatTcpLine(src: string, dst: string, r: TcpRepr): string {
  return line(src, dst, r, formatOptions(r));
}

const IP = newIpRepr();
const TCP = newTcpRepr();

/**
 * One tcpdump line for a whole IP packet (checksums not verified), options as they are on the
 * wire. Non-TCP packets print as `src > dst: ip-proto-N len`; malformed ones as
 * `[malformed: <reason>] <n> bytes`. Never throws.
 */
export function formatPacket(frame: Uint8Array): string {
  let why = parseIpHeader(frame, IP, false);
  // A fragment: tcpdump -v's "(id N, offset O, flags [+])" in short.
  if (why === null && isFragment(IP)) {
    return `${IP.src} > ${IP.dst}: frag id ${IP.ident} offset ${IP.fragOffset}${IP.moreFragments ? ' flags [+]' : ''} proto ${IP.protocol} ${IP.payloadLength}`;
  }
  if (why === null && (IP.protocol === IPPROTO_ICMP || IP.protocol === IPPROTO_ICMPV6)) return formatIcmp(frame, IP);
  if (why === null && IP.protocol === IPPROTO_UDP) return formatUdp(frame, IP.src, IP.dst, IP.headerLength, IP.payloadLength);
  if (why === null && IP.protocol !== 6) return `${IP.src} > ${IP.dst}: ip-proto-${IP.protocol} ${IP.payloadLength}`;
  if (why === null) why = parseTcp(frame, IP, TCP, false);
  if (why !== null) return `[malformed: ${why}] ${frame.length} bytes`;
  const optStart = IP.headerLength + TCP_HEADER_LEN;
  const optEnd = IP.headerLength + tcpDataOffset(frame, IP);
  return line(IP.src, IP.dst, TCP, formatOptionBytes(frame, optStart, optEnd));
}

/** pcap link types the formatter knows (tcpdump.org/linktypes.html): Ethernet 1, raw IP 101. */
const LINKTYPE_ETHERNET = 1;

const ARP = newArpRepr();
const NDP = newNdpRepr();

/**
 * One tcpdump line for a frame of the given pcap link type: raw IP (101) as formatPacket does;
 * Ethernet (1) frames as tcpdump prints them without -e: ARP in its words
 * (`ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28`, `ARP, Reply 10.0.0.2 is-at
 * 02:00:00:00:00:02, length 28`), neighbour solicitation/advertisement (`fd00::1 > ff02::1:ff00:2:
 * ICMP6, neighbor solicitation, who has fd00::2, length 32`), IP as formatPacket. Never throws.
 */
export function formatFrame(frame: Uint8Array, linktype: number): string {
  if (linktype !== LINKTYPE_ETHERNET) return formatPacket(frame);
  if (frame.length < ETH_HEADER_LEN) return `[malformed: runt] ${frame.length} bytes`;
  const type = etherType(frame);
  const payload = frame.subarray(ETH_HEADER_LEN);
  if (type === EtherType.ARP) {
    const why = parseArp(frame, ETH_HEADER_LEN, frame.length, ARP);
    if (why !== null) return `ARP, [malformed: ${why}], length ${payload.length}`;
    if (ARP.op === ArpOp.REPLY) return `ARP, Reply ${ARP.spaText} is-at ${formatMac(ARP.sha)}, length ${payload.length}`;
    const tha = ARP.tha.some((b) => b !== 0) ? ` (${formatMac(ARP.tha)})` : '';
    return `ARP, Request who-has ${ARP.tpaText}${tha} tell ${ARP.spaText}, length ${payload.length}`;
  }
  if (type === EtherType.IPV6 && parseIpHeader(payload, IP, false) === null) {
    const t = icmpv6Type(payload, IP);
    if ((t === NdpType.NEIGHBOR_SOLICIT || t === NdpType.NEIGHBOR_ADVERT) && parseNdp(payload, IP, NDP) === null) {
      const what = t === NdpType.NEIGHBOR_SOLICIT ? `neighbor solicitation, who has ${NDP.targetText}` : `neighbor advertisement, tgt is ${NDP.targetText}`;
      return `${IP.src} > ${IP.dst}: ICMP6, ${what}, length ${IP.payloadLength}`;
    }
  }
  if (type === EtherType.IPV4 || type === EtherType.IPV6) return formatPacket(payload);
  return `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${frame.length}`;
}

/**
 * tcpdump's udp_print without a port-specific decoder: `10.0.0.1.5353 > 10.0.0.2.53: UDP,
 * length 32` (the UDP Length field minus the header); a Length that claims more than the IP
 * datagram holds prints as `UDP, bad length 200 > 32` (tcpdump's words for it), one shorter
 * than the header as `UDP, bad length 4`, a header cut short as tcpdump's `[|udp]`.
 */
function formatUdp(frame: Uint8Array, src: string, dst: string, off: number, len: number): string {
  if (len < 8) return `${src} > ${dst}: [|udp]`;
  const sport = (frame[off]! << 8) | frame[off + 1]!;
  const dport = (frame[off + 2]! << 8) | frame[off + 3]!;
  const ulen = (frame[off + 4]! << 8) | frame[off + 5]!;
  const head = `${src}.${sport} > ${dst}.${dport}: UDP, `;
  if (ulen < 8) return `${head}bad length ${ulen}`;
  if (ulen > len) return `${head}bad length ${ulen - 8} > ${len - 8}`;
  return `${head}length ${ulen - 8}`;
}
