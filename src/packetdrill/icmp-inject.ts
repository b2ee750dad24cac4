/**
 * Inbound ICMP lines (`< icmp unreachable frag_needed mtu 800 [0:1000(1000)]`) as upstream
 * packetdrill builds them (icmp_packet.c new_icmp_packet, run_packet.c
 * map_inbound_icmp_tcp_packet): an ICMPv4 error from the remote address quoting the IPv4 header
 * and first 8 bytes of one of our own TCP segments, whose sequence number is the script's plus our
 * ISN. IPv4 only (ICMPv6 lines are reported unsupported by the caller).
 */
import { parseAddrInto } from '../wire/addr.js';
import { finishChecksum, sum16 } from '../wire/checksum.js';
import { emitIpv4Header, IPPROTO_TCP } from '../wire/ip.js';
import type { IcmpPacket } from './ast.js';

const IPPROTO_ICMP = 1;

/** icmp_packet.c's ICMPv4 types and codes by name (a missing or unknown code is 0). */
const TYPES: Record<string, { type: number; codes: Record<string, number> }> = {
  unreachable: {
    type: 3,
    codes: {
      net_unreachable: 0, host_unreachable: 1, protocol_unreachable: 2, port_unreachable: 3, frag_needed: 4,
      source_route_failed: 5, net_unknown: 6, host_unknown: 7, source_host_isolated: 8, net_prohibited: 9,
      host_prohibited: 10, net_unreachable_for_tos: 11, host_unreachable_for_tos: 12, packet_filtered: 13,
      precedence_violation: 14, precedence_cutoff: 15,
    },
  },
  source_quench: { type: 4, codes: {} },
  time_exceeded: { type: 11, codes: { ttl_exceeded: 0, fragment_reassembly_time_exceeded: 1 } },
  parameter_problem: { type: 12, codes: {} },
};

export interface IcmpEnds {
  /** Our (the stack's) address and port, and the remote's: the quoted segment went local → remote. */
  local: string;
  remote: string;
  localPort: number;
  remotePort: number;
  /** The offset from script to live sequence numbers of our segments (our ISN). */
  seqOffset: number;
}

/** The frame, or an error text for a line it cannot build. */
export function buildIcmpFrame(ev: IcmpPacket, e: IcmpEnds): Uint8Array | string {
  const t = TYPES[ev.icmpType] ?? (/^type_(\d+)$/.test(ev.icmpType) ? { type: Number(ev.icmpType.slice(5)), codes: {} } : undefined);
  if (t === undefined) return `bad ICMP type ${ev.icmpType}`;
  const m = ev.icmpCode === null ? null : /^code_(\d+)$/.exec(ev.icmpCode);
  const code = m ? Number(m[1]) : ev.icmpCode === null ? 0 : (t.codes[ev.icmpCode] ?? 0);
  if (ev.echoed !== null && ev.echoed.protocol !== 'tcp') return `ICMP quoting ${ev.echoed.protocol} is not supported`;
  const local = new Uint8Array(16);
  const remote = new Uint8Array(16);
  if (parseAddrInto(e.local, local, 0) !== 4 || parseAddrInto(e.remote, remote, 0) !== 4) return 'ICMPv6 packets are not supported';
  const seq = ev.echoed === null ? 0 : ev.echoed.seqStart;
  const quotedPayload = ev.echoed === null ? 0 : ev.echoed.payloadLen;
  // Outer IPv4 (20) + ICMP header (8) + the quoted IPv4 header (20) + 8 bytes of its TCP header.
  const f = new Uint8Array(20 + 8 + 20 + 8);
  emitIpv4Header(f, 0, remote.subarray(0, 4), local.subarray(0, 4), IPPROTO_ICMP, 8 + 28, 64, 0, true);
  emitIpv4Header(f, 28, local.subarray(0, 4), remote.subarray(0, 4), IPPROTO_TCP, 20 + quotedPayload, 64, 0, true);
  const w16 = (at: number, v: number): void => {
    f[at] = (v >>> 8) & 0xff;
    f[at + 1] = v & 0xff;
  };
  w16(48, e.localPort);
  w16(50, e.remotePort);
  const live = (seq + e.seqOffset) >>> 0;
  w16(52, live >>> 16);
  w16(54, live & 0xffff);
  f[20] = t.type;
  f[21] = code;
  if (ev.mtu !== null) w16(26, ev.mtu); // RFC 1191 §4: the next-hop MTU in the unused field's low half
  const c = finishChecksum(sum16(f, 20, 36));
  w16(22, c);
  return f;
}
