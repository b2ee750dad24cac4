/**
 * A synack stack's connection table as Linux prints /proc/net/tcp and /proc/net/tcp6: the inverse
 * of proc.ts's parseProcNetTcp, so that tools and scripts written for a Linux host (packetdrill's
 * `grep " 0A " /proc/net/tcp`) read a synack stack the same way.
 */
import type { ConnRow } from './types.js';
import { TcpState } from '../tcp/state.js';
import { parseAddrInto } from '../wire/addr.js';

// LINUX: tcp4_seq_show (the header row is padded to TMPSZ - 1 = 149 characters).
const HEADER4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
// LINUX: tcp6_seq_show.
const HEADER6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

/** One address as the kernel prints its in-memory `__be32` words with `%08X`. */
function hexAddress(addr: string, v6: boolean, bigEndian: boolean): string {
  const b = new Uint8Array(16);
  const len = parseAddrInto(addr, b);
  if (len === 0) throw new RangeError(`address must be an IPv4 or IPv6 address, got ${addr}`);
  let bytes = b.subarray(0, len);
  if (v6 && len === 4) {
    // An IPv4 endpoint of a tcp6 socket is printed as its IPv4-mapped IPv6 address.
    bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes]);
  }
  let out = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const word = bigEndian
      ? (bytes[w]! << 24 | bytes[w + 1]! << 16 | bytes[w + 2]! << 8 | bytes[w + 3]!) >>> 0
      : (bytes[w + 3]! << 24 | bytes[w + 2]! << 16 | bytes[w + 1]! << 8 | bytes[w]!) >>> 0;
    out += word.toString(16).toUpperCase().padStart(8, '0');
  }
  return out;
}

/** The host's byte order (what node:os endianness() says, without node:os: viz bundles this file). */
const HOST_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

const hex = (n: number, width: number): string => (n >>> 0).toString(16).toUpperCase().padStart(width, '0');

/**
 * The text of /proc/net/tcp (`v6` false: the IPv4 rows) or /proc/net/tcp6 (the IPv6 rows) for
 * these rows: the columns up to the inode (the ones tools parse). Timer and retransmit columns are
 * printed as a socket without a running timer, owned by uid 0; inodes are numbered from
 * `firstInode`. The kernel-private columns after the inode (refcount, address, rto ...) are left out.
 */
export function formatProcNetTcp(rows: readonly ConnRow[], v6: boolean, opts: { bigEndian?: boolean; firstInode?: number } = {}): string {
  const bigEndian = opts.bigEndian ?? HOST_BIG_ENDIAN;
  const lines = [v6 ? HEADER6 : HEADER4];
  let inode = opts.firstInode ?? 10000;
  let sl = 0;
  for (const r of rows) {
    if (r.proto !== (v6 ? 'tcp6' : 'tcp')) continue;
    const listen = r.state === 'LISTEN';
    const timeWait = r.state === 'TIME_WAIT';
    // LINUX: get_tcp4_sock: for a listener rx_queue is sk_ack_backlog and tx_queue is 0.
    const tx = listen ? 0 : r.sendQ;
    const rx = r.recvQ;
    const ino = timeWait || r.listener !== undefined ? 0 : inode++;
    lines.push(
      `${String(sl++).padStart(4)}: ${hexAddress(r.localAddress, v6, bigEndian)}:${hex(r.localPort, 4)} ` +
      `${hexAddress(r.remoteAddress, v6, bigEndian)}:${hex(r.remotePort, 4)} ${hex(TcpState[r.state], 2)} ` +
      `${hex(tx, 8)}:${hex(rx, 8)} 00:00000000 00000000 ${String(r.uid ?? 0).padStart(5)} ${String(0).padStart(8)} ${ino}`,
    );
  }
  // LINUX: tcp4_seq_show pads every IPv4 line to TMPSZ - 1 (seq_setwidth/seq_pad); tcp6 does not.
  return lines.map((l) => (v6 ? l : l.padEnd(149))).join('\n') + '\n';
}
