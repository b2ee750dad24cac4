import type { Connection } from '../tcp/connection.js';
import type { TcpStateName } from '../tcp/state.js';
import { Listener } from './listener.js';
import { endpoint } from './ports.js';

/**
 * One row of a connection table, from any source: the Linux host (/proc/net/tcp{,6}) or a synack
 * stack (`stack.netstat()`). netstat, --stats and diagnose all work on arrays of these.
 */
export interface ConnRow {
  /** udp/udp6 rows: state ESTABLISHED when connected, CLOSED otherwise (Linux's /proc/net/udp st 01 / 07). */
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  localAddress: string;
  localPort: number;
  /** "0.0.0.0" / "::" and port 0 for listeners. */
  remoteAddress: string;
  remotePort: number;
  state: TcpStateName;
  /** Bytes received and not yet read by the application; for LISTEN: current accept-queue length. */
  recvQ: number;
  /** Bytes sent and not yet acknowledged (plus unsent); for LISTEN: the backlog. */
  sendQ: number;
  /** Owning process, when known (`-p`). */
  pid?: number;
  process?: string;
  /** Socket inode (host only). */
  inode?: number;
  /** Linux uid of the owner (host only). */
  uid?: number;
  /** For SYN_RECEIVED rows kept in a listener's SYN queue (stack only). */
  listener?: string;
}

/** Counters named after the TCP MIB (RFC 4022) and Linux nstat (TcpExt*). */
export type Counters = Record<string, number>;

/** A point-in-time view: connections, counters, and the settings that matter for diagnosis. */
export interface Snapshot {
  source: 'host' | 'stack';
  /** Seconds (wall clock for host, virtual for a stack). */
  time: number;
  rows: ConnRow[];
  /** UDP sockets (/proc/net/udp{,6}; a stack's `udp.netstat()`), a table of their own as in Linux. */
  udp?: ConnRow[];
  counters: Counters;
  /** Relevant settings, named as sysctls: tcp_syncookies, tcp_max_syn_backlog, somaxconn, tcp_fin_timeout, tcp_tw_reuse ... */
  settings: Record<string, number>;
}

/** The TCP rows of a stack's connection table (netstat/ss view): listeners, then connections. */
export function tcpRows(listeners: Iterable<Listener>, conns: Iterable<Connection>): ConnRow[] {
  const rows: ConnRow[] = [];
  for (const l of listeners) {
    rows.push({
      proto: l.address.includes(':') ? 'tcp6' : 'tcp', localAddress: l.address, localPort: l.port,
      remoteAddress: l.address.includes(':') ? '::' : '0.0.0.0', remotePort: 0, state: 'LISTEN',
      recvQ: l.acceptQueue.length, sendQ: l.backlog,
    });
  }
  for (const c of conns) {
    const row: ConnRow = {
      proto: c.ipv6 ? 'tcp6' : 'tcp', localAddress: c.localAddr, localPort: c.localPort,
      remoteAddress: c.remoteAddr, remotePort: c.remotePort, state: c.state,
      recvQ: c.recvBuf.length, sendQ: c.sendBuf.length,
    };
    if (c.owner instanceof Listener) row.listener = endpoint(c.owner.address, c.owner.port);
    rows.push(row);
  }
  return rows;
}
