/**
 * The Linux host as a Snapshot: /proc/net/tcp{,6}, /proc/net/snmp, /proc/net/netstat, a few
 * sysctls, and (optionally) which process owns each socket.
 *
 * Row format, from Linux net/ipv4/tcp_ipv4.c get_tcp4_sock() (net/ipv6/tcp_ipv6.c get_tcp6_sock()
 * for tcp6):
 *
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
 *    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 ...
 *
 * - Addresses are the in-memory `__be32` words printed with `%08X`, i.e. each 32-bit word appears
 *   byte-reversed on a little-endian machine: 0100007F is 127.0.0.1. tcp6 prints four such words.
 * - Ports are already in host order (`ntohs`), printed `%04X`.
 * - `st` is the Linux state number (include/net/tcp_states.h) in hex: 0A = LISTEN.
 * - tx_queue is `write_seq - snd_una` (sent, not yet acknowledged, plus unsent).
 * - rx_queue is `rcv_nxt - copied_seq` (received, not yet read) — EXCEPT for LISTEN sockets, where
 *   the kernel prints `sk_ack_backlog`: the number of established connections waiting in the
 *   accept queue. For LISTEN the tx_queue column is `write_seq - snd_una`, which is 0: /proc does
 *   NOT expose the backlog (`sk_max_ack_backlog`); only the netlink sock_diag interface does (that
 *   is where `ss -lnt` gets its Send-Q). So host LISTEN rows have sendQ = 0, which is also what
 *   net-tools `netstat` prints; diagnose() then uses somaxconn as the upper bound of the backlog.
 * - TIME_WAIT rows come from get_timewait4_sock(): queues, uid and inode are all 0.
 * - SYN_RECV rows (request sockets, state TCP_NEW_SYN_RECV internally) come from get_openreq4():
 *   printed with state 03, queues 0, the listener's uid, inode 0.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ConnRow, Counters, Snapshot } from './types.js';
import { stateName, type TcpStateName } from '../tcp/state.js';

export interface ProcParseOptions {
  /** Byte order of the machine that produced the text; default: this machine's. */
  bigEndian?: boolean;
}

/**
 * Parse /proc/net/tcp, tcp6, udp or udp6 text into rows (the UDP files share the first ten
 * columns: udp4_format_sock). Throws on a malformed line.
 */
export function parseProcNetTcp(text: string, proto: ConnRow['proto'], opts: ProcParseOptions = {}): ConnRow[] {
  const bigEndian = opts.bigEndian ?? endianness() === 'BE';
  const rows: ConnRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('sl')) continue;
    const f = line.split(/\s+/);
    const bad = (what: string): Error => new Error(`/proc/net/${proto} line ${i + 1}: ${what}: ${line}`);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) throw bad('not a socket row');
    const local = parseEndpoint(f[1]!, proto, bigEndian);
    const remote = parseEndpoint(f[2]!, proto, bigEndian);
    if (local === undefined || remote === undefined) throw bad('bad address');
    const state = procState(parseInt(f[3]!, 16));
    if (state === undefined) throw bad(`unknown state ${f[3]}`);
    const q = /^([0-9A-Fa-f]{1,8}):([0-9A-Fa-f]{1,8})$/.exec(f[4]!);
    if (q === null) throw bad('bad tx_queue:rx_queue');
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!Number.isInteger(uid) || !Number.isInteger(inode)) throw bad('bad uid or inode');
    const row: ConnRow = {
      proto,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state,
      recvQ: parseInt(q[2]!, 16),
      sendQ: parseInt(q[1]!, 16),
      uid,
    };
    if (inode !== 0) row.inode = inode;
    rows.push(row);
  }
  return rows;
}

/** Linux state number as printed in /proc → our name. */
function procState(n: number): TcpStateName | undefined {
  if (n >= 1 && n <= 11) return stateName(n);
  // TCP_NEW_SYN_RECV (12) is printed as TCP_SYN_RECV by get_openreq4, but map it anyway.
  if (n === 12) return 'SYN_RECEIVED';
  // TCP_BOUND_INACTIVE (13, Linux 6.7+): a bound socket that is not listening or connected.
  if (n === 13) return 'CLOSED';
  return undefined;
}

function parseEndpoint(s: string, proto: ConnRow['proto'], bigEndian: boolean): { address: string; port: number } | undefined {
  const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(s);
  if (m === null) return undefined;
  const hex = m[1]!;
  const v4 = !proto.endsWith('6');
  const want = v4 ? 8 : 32;
  if (hex.length !== want) return undefined;
  const bytes = new Uint8Array(want / 2);
  for (let w = 0; w < want / 8; w++) {
    const v = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    for (let b = 0; b < 4; b++) {
      // Little-endian: the printed word's low byte is the first byte in memory.
      const shift = bigEndian ? 24 - 8 * b : 8 * b;
      bytes[w * 4 + b] = (v >>> shift) & 0xff;
    }
  }
  const address = v4 ? bytes.join('.') : formatIPv6(bytes);
  return { address, port: parseInt(m[2]!, 16) };
}

/** RFC 5952 text form of a 16-byte IPv6 address (IPv4-mapped addresses as ::ffff:a.b.c.d). */
export function formatIPv6(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`IPv6 address must be 16 bytes, got ${b.length}`);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/**
 * Parse the `Prefix: names...` / `Prefix: values...` line pairs of /proc/net/snmp and
 * /proc/net/netstat for one prefix.
 */
function parsePairs(text: string, prefix: string): Counters {
  const out: Counters = {};
  const lines = text.split('\n').filter((l) => l.startsWith(`${prefix}:`));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/).slice(1).filter((s) => s !== '');
    const values = lines[i + 1]!.split(/\s+/).slice(1).filter((s) => s !== '');
    if (names.length !== values.length) {
      throw new Error(`${prefix}: ${names.length} names but ${values.length} values`);
    }
    names.forEach((name, k) => {
      const v = Number(values[k]);
      if (!Number.isFinite(v)) throw new Error(`${prefix}: ${name} is not a number: ${values[k]}`);
      out[name] = v;
    });
  }
  return out;
}

/**
 * /proc/net/snmp `Tcp:` lines: the TCP MIB of RFC 4022 (tcpActiveOpens → ActiveOpens,
 * tcpPassiveOpens, tcpAttemptFails, tcpEstabResets, tcpCurrEstab, tcpInSegs, tcpOutSegs,
 * tcpRetransSegs, tcpInErrs, tcpOutRsts) plus Linux's InCsumErrors, RtoAlgorithm, RtoMin, RtoMax,
 * MaxConn. Names as Linux prints them (and as `nstat` shows them after the `Tcp` prefix).
 */
export function parseSnmp(text: string): Counters {
  return parsePairs(text, 'Tcp');
}

/**
 * /proc/net/snmp `Udp:` lines and /proc/net/snmp6 `Udp6*` lines (LINUX snmp4_udp_list,
 * snmp6_udp6_list), with nstat's names: UdpInDatagrams, UdpNoPorts … Udp6InCsumErrors.
 */
export function parseSnmpUdp(snmp: string, snmp6 = ''): Counters {
  const out: Counters = {};
  for (const [k, v] of Object.entries(parsePairs(snmp, 'Udp'))) out[`Udp${k}`] = v;
  for (const line of snmp6.split('\n')) {
    const m = /^(Udp6[A-Za-z]+)\s+(\d+)\s*$/.exec(line);
    if (m !== null) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/**
 * /proc/net/netstat `TcpExt:` lines (Linux include/uapi/linux/snmp.h LINUX_MIB_*): ListenOverflows,
 * ListenDrops, TCPChallengeACK, SyncookiesSent, TCPTimeouts, TW, ..., keyed by their `nstat` names
 * without the `TcpExt` prefix.
 */
export function parseNetstat(text: string): Counters {
  return parsePairs(text, 'TcpExt');
}

/**
 * Socket inode → owning process, by scanning /proc/PID/fd/* for `socket:[inode]` links and reading
 * /proc/PID/comm (what `netstat -p` and `ss -p` do). Processes we may not inspect (other users'
 * without privileges) or that exit during the scan are skipped silently.
 */
export function processOwners(procRoot = '/proc'): Map<number, { pid: number; name: string }> {
  const owners = new Map<number, { pid: number; name: string }>();
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return owners;
  }
  for (const p of pids) {
    const pid = Number(p);
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${p}/fd`);
    } catch {
      continue;
    }
    let name: string | undefined;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${p}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m === null) continue;
      const inode = Number(m[1]);
      if (owners.has(inode)) continue; // shared by fork: keep the first (lowest pid), like netstat
      if (name === undefined) {
        try {
          name = readFileSync(`${procRoot}/${p}/comm`, 'utf8').trim();
        } catch {
          name = '?';
        }
      }
      owners.set(inode, { pid, name });
    }
  }
  return owners;
}

/** Sysctls read by hostSnapshot(), relative to /proc/sys. */
export const HOST_SYSCTLS: Record<string, string> = {
  tcp_syncookies: 'net/ipv4/tcp_syncookies',
  tcp_max_syn_backlog: 'net/ipv4/tcp_max_syn_backlog',
  somaxconn: 'net/core/somaxconn',
  tcp_fin_timeout: 'net/ipv4/tcp_fin_timeout',
  tcp_tw_reuse: 'net/ipv4/tcp_tw_reuse',
  tcp_syn_retries: 'net/ipv4/tcp_syn_retries',
  tcp_synack_retries: 'net/ipv4/tcp_synack_retries',
  tcp_max_tw_buckets: 'net/ipv4/tcp_max_tw_buckets',
};

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Read the host's connection table, counters and settings. Files that are missing (no IPv6, a
 * container without some sysctl) are left out; /proc/net/tcp itself must exist.
 * `ip_local_port_range` becomes two settings, ip_local_port_range_min and _max.
 */
export function hostSnapshot(opts: { owners?: boolean; procRoot?: string } = {}): Snapshot {
  const root = opts.procRoot ?? '/proc';
  const tcp = readOptional(`${root}/net/tcp`);
  if (tcp === undefined) throw new Error(`cannot read ${root}/net/tcp: not a Linux host (or /proc is not mounted)`);
  const rows = parseProcNetTcp(tcp, 'tcp');
  const tcp6 = readOptional(`${root}/net/tcp6`);
  if (tcp6 !== undefined) rows.push(...parseProcNetTcp(tcp6, 'tcp6'));

  const udp: ConnRow[] = [];
  for (const proto of ['udp', 'udp6'] as const) {
    const text = readOptional(`${root}/net/${proto}`);
    if (text !== undefined) udp.push(...parseProcNetTcp(text, proto));
  }

  const counters: Counters = {};
  const snmp = readOptional(`${root}/net/snmp`);
  if (snmp !== undefined) Object.assign(counters, parseSnmp(snmp), parseSnmpUdp(snmp, readOptional(`${root}/net/snmp6`) ?? ''));
  const netstat = readOptional(`${root}/net/netstat`);
  if (netstat !== undefined) Object.assign(counters, parseNetstat(netstat));

  const settings: Record<string, number> = {};
  for (const [name, rel] of Object.entries(HOST_SYSCTLS)) {
    const v = readOptional(`${root}/sys/${rel}`);
    if (v !== undefined && Number.isFinite(Number(v.trim())) && v.trim() !== '') settings[name] = Number(v.trim());
  }
  const range = readOptional(`${root}/sys/net/ipv4/ip_local_port_range`)?.trim().split(/\s+/).map(Number);
  if (range !== undefined && range.length === 2 && range.every(Number.isInteger)) {
    settings.ip_local_port_range_min = range[0]!;
    settings.ip_local_port_range_max = range[1]!;
  }

  if (opts.owners === true) {
    const owners = processOwners(root);
    for (const row of [...rows, ...udp]) {
      const o = row.inode === undefined ? undefined : owners.get(row.inode);
      if (o !== undefined) {
        row.pid = o.pid;
        row.process = o.name;
      }
    }
  }
  return { source: 'host', time: Date.now() / 1000, rows, udp, counters, settings };
}
