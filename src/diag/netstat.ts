/**
 * Formatting of connection tables: net-tools `netstat -tan` layout, the per-state and per-remote
 * statistics the seed articles compute with awk, and counters. Pure functions over ConnRow[] so
 * every source (the Linux host, a synack stack) prints the same way.
 */
import type { ConnRow, Counters } from './types.js';
import { NETSTAT_NAMES, STATE_NAMES, type TcpStateName } from '../tcp/state.js';

/** `netstat` flags: which sockets to list and how to print addresses. */
export interface NetstatOptions {
  /** -n: print ports as numbers. Without it, well-known ports get their service name. Hosts are never resolved (no DNS from a formatter). */
  numeric?: boolean;
  /** -l: only listening sockets. */
  listening?: boolean;
  /** -a: listening and non-listening sockets. */
  all?: boolean;
  /** -p: add the PID/Program name column. */
  processes?: boolean;
  /** -4 / -6: only tcp/udp / only tcp6/udp6 rows; 0 (default) both. */
  family?: 4 | 6 | 0;
  /** Only rows whose local or remote port is this. */
  port?: number;
}

/** A few /etc/services names, for non-numeric output. */
const SERVICES: Record<number, string> = {
  21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'domain', 80: 'http', 110: 'pop3', 143: 'imap2',
  443: 'https', 465: 'submissions', 587: 'submission', 631: 'ipp', 993: 'imaps', 995: 'pop3s',
  3306: 'mysql', 5432: 'postgresql', 6379: 'redis', 8080: 'http-alt', 11211: 'memcache', 27017: 'mongodb',
};

/** The unspecified address of either family: a listener's (or unconnected socket's) remote. */
export function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

const isUdp = (r: ConnRow): boolean => r.proto === 'udp' || r.proto === 'udp6';

/** Apply netstat's row selection: -l / -a / neither (w/o servers), -4 / -6, --port. */
export function selectRows(rows: readonly ConnRow[], opts: NetstatOptions = {}): ConnRow[] {
  return rows.filter((r) => {
    // net-tools netstat.c tcp_do_one: without -a, -l shows only LISTEN and the default only the rest.
    // udp_do_one: an unconnected UDP socket counts as a server (shown with -l or -a).
    if (opts.all !== true) {
      const server = r.state === 'LISTEN' || (isUdp(r) && r.state !== 'ESTABLISHED');
      if (opts.listening === true ? !server : server) return false;
    }
    const v6 = r.proto.endsWith('6');
    if (opts.family === 4 && v6) return false;
    if (opts.family === 6 && !v6) return false;
    if (opts.port !== undefined && r.localPort !== opts.port && r.remotePort !== opts.port) return false;
    return true;
  });
}

function endpoint(address: string, port: number, numeric: boolean): string {
  const p = port === 0 ? '*' : numeric ? String(port) : (SERVICES[port] ?? String(port));
  return `${address}:${p}`; // net-tools does not bracket IPv6: ":::80", "2001:db8::1:443"
}

/** net-tools udp_do_one prints ESTABLISHED for a connected UDP socket and nothing otherwise. */
function udpOrTcpState(r: ConnRow): string {
  if (isUdp(r)) return r.state === 'ESTABLISHED' ? 'ESTABLISHED' : '';
  return NETSTAT_NAMES[r.state];
}

/**
 * The table as net-tools `netstat -t` prints it (netstat.c tcp_do_one:
 * `"%-4s  %6ld %6ld %-*s %-*s %-11s"` with address columns at least 23 wide, then ` %-20s` for
 * PID/Program name). Differences, on purpose: addresses are never truncated (like `--wide`), and
 * trailing blanks are trimmed.
 */
export function formatNetstat(rows: readonly ConnRow[], opts: NetstatOptions = {}): string {
  const numeric = opts.numeric === true;
  const title =
    opts.all === true ? '(servers and established)' : opts.listening === true ? '(only servers)' : '(w/o servers)';
  let header = 'Proto Recv-Q Send-Q Local Address           Foreign Address         State      ';
  if (opts.processes === true) header += ` ${'PID/Program name'.padEnd(20)}`;
  const out = [`Active Internet connections ${title}`, header.trimEnd()];
  for (const r of selectRows(rows, opts)) {
    const local = endpoint(r.localAddress, r.localPort, numeric);
    const remote = endpoint(r.remoteAddress, r.remotePort, numeric);
    let line =
      `${r.proto.padEnd(4)}  ${String(r.recvQ).padStart(6)} ${String(r.sendQ).padStart(6)} ` +
      `${local.padEnd(23)} ${remote.padEnd(23)} ${udpOrTcpState(r).padEnd(11)}`;
    if (opts.processes === true) {
      const prog = r.pid === undefined ? '-' : `${r.pid}/${r.process ?? '?'}`;
      line += ` ${prog.padEnd(20)}`;
    }
    out.push(line.trimEnd());
  }
  return out.join('\n');
}

/** Connections counted per state and per remote address (`netstat -nat | awk` style). */
export interface StateStats {
  /** Count per state, only states present, keys in Linux state-number order. */
  states: Partial<Record<TcpStateName, number>>;
  /** Connections per remote IP, most first, then by address. */
  remotes: { address: string; count: number }[];
}

/** ::ffff:10.0.0.9 → 10.0.0.9, so a peer counts once whether it reached a tcp or a tcp6 socket. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m === null ? address : m[1]!;
}

/** Sort key putting IPv4 before IPv6 and IPv4 addresses in numeric order. */
function addressKey(a: string): string {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4 !== null) return `4${v4.slice(1).map((o) => o.padStart(3, '0')).join('.')}`;
  return `6${expandIPv6(a)}`;
}

/** "2001:db8::1" → 32 hex digits, so IPv6 addresses sort numerically (unparseable text sorts as is). */
function expandIPv6(a: string): string {
  let text = a.toLowerCase();
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail !== null) {
    const o = tail.slice(1).map(Number);
    text = `${text.slice(0, tail.index)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const hs = head === '' ? [] : head.split(':');
  const ts = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? hs : [...hs, ...Array<string>(Math.max(0, 8 - hs.length - ts.length)).fill('0'), ...ts];
  return groups.length === 8 ? groups.map((g) => g.padStart(4, '0')).join('') : a;
}

/**
 * What the seed articles compute with awk:
 *   netstat -ant | awk '/^tcp/ {++S[$NF]} END {for (k in S) print k, S[k]}'
 *   netstat -n | awk '/^tcp/ {print $5}' | awk -F: '{print $1}' | sort | uniq -c | sort -rn
 * Per-state counts over all rows; per-remote counts over rows with a remote (listeners, whose
 * remote is the unspecified address, are excluded). IPv4-mapped IPv6 peers are counted as IPv4.
 */
export function stateStats(rows: readonly ConnRow[]): StateStats {
  const counts = new Map<TcpStateName, number>();
  const peers = new Map<string, number>();
  for (const r of rows) {
    counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    if (isUnspecified(r.remoteAddress)) continue;
    const a = unmapped(r.remoteAddress);
    peers.set(a, (peers.get(a) ?? 0) + 1);
  }
  const states: Partial<Record<TcpStateName, number>> = {};
  for (const s of STATE_NAMES) {
    const n = counts.get(s);
    if (n !== undefined) states[s] = n;
  }
  const remotes = [...peers].map(([address, count]) => ({ address, count }));
  remotes.sort((x, y) => y.count - x.count || (addressKey(x.address) < addressKey(y.address) ? -1 : 1));
  return { states, remotes };
}

/** Text form of stateStats: `ESTABLISHED 3` lines (netstat spelling), a blank line, `4 10.0.0.9` lines. */
export function formatStats(stats: StateStats): string {
  const out: string[] = [];
  for (const [state, n] of Object.entries(stats.states) as [TcpStateName, number][]) {
    out.push(`${NETSTAT_NAMES[state]} ${n}`);
  }
  if (stats.remotes.length > 0) {
    if (out.length > 0) out.push('');
    const w = String(stats.remotes[0]!.count).length;
    for (const { address, count } of stats.remotes) out.push(`${String(count).padStart(w)} ${address}`);
  }
  return out.join('\n');
}

/**
 * Counters as `name value` lines (like `nstat -az` without the prefixes), non-zero ones only
 * unless `all`. With `previous` and `seconds`, prints what changed and the rate per second.
 */
export function formatCounters(
  counters: Counters,
  opts: { all?: boolean; previous?: Counters; seconds?: number } = {},
): string {
  const names = Object.keys(counters);
  const w = Math.max(0, ...names.map((n) => n.length));
  const out: string[] = [];
  for (const name of names) {
    const v = counters[name]!;
    if (opts.previous !== undefined) {
      const d = v - (opts.previous[name] ?? 0);
      if (d === 0 && opts.all !== true) continue;
      const secs = opts.seconds ?? 0;
      const rate = secs > 0 ? `  ${(d / secs).toFixed(1)}/s` : '';
      out.push(`${name.padEnd(w)} ${String(v).padStart(12)} ${(d >= 0 ? `+${d}` : String(d)).padStart(10)}${rate}`);
    } else {
      if (v === 0 && opts.all !== true) continue;
      out.push(`${name.padEnd(w)} ${String(v).padStart(12)}`);
    }
  }
  return out.join('\n');
}
