/**
 * The read-only shell tools packetdrill scripts inspect a Linux host with, answered from synack's
 * own stack: `nstat` (the MIB counters, with nstat's history), `ss`/`netstat` (the connection
 * table), `cat`/`grep` of /proc/net/tcp{,6}, and `grep` as a pipeline filter. Each tool returns
 * its output lines and an exit status, as the shell would see them: a script's backtick command
 * fails when its exit status is not 0 (`nstat | grep -q " 3 "`).
 */
import type { Stack } from '../stack/stack.js';
import { EXT_COUNTERS, MIB_COUNTERS } from '../mib.js';
import { formatProcNetTcp } from '../diag/proc-format.js';
import { NETSTAT_NAMES, SS_NAMES } from '../tcp/state.js';
import { ScriptError } from './syscalls.js';

/** What one command printed and its exit status. */
export interface ToolResult {
  lines: string[];
  status: number;
}

/** State the tools keep between commands of one script (nstat's history file). */
export interface ToolState {
  /** The counter values nstat last recorded; null until nstat first runs. */
  nstatHistory: Map<string, number> | null;
}

export function newToolState(): ToolState {
  return { nstatHistory: null };
}

/**
 * The stack's counters under nstat's names, in the order nstat prints them (/proc/net/snmp's
 * groups, then snmp6's, then /proc/net/netstat's TcpExt): `Tcp` + RFC 4022 name, `TcpExt` + the
 * TcpExt name; the IP, ICMP and UDP counters already carry their group's prefix.
 */
export function nstatCounters(stack: Stack): Map<string, number> {
  const c = stack.counters as unknown as Record<string, number>;
  const rank = (name: string): number => {
    if (name.startsWith('IcmpMsg')) return 2;
    if (name.startsWith('Icmp6')) return 6;
    if (name.startsWith('Icmp')) return 1;
    if (name.startsWith('Ip6')) return 5;
    if (name.startsWith('IpExt')) return 9;
    if (name.startsWith('Ip')) return 0;
    if (name.startsWith('Udp6')) return 7;
    return 4; // Udp
  };
  const ip = Object.keys(c).filter((k) => !k.startsWith('Drop.') && /^(Ip|Icmp|Udp)/.test(k));
  const out = new Map<string, number>();
  for (const k of ip.filter((k) => rank(k) < 4).sort((a, b) => rank(a) - rank(b))) out.set(k, c[k]!);
  // LINUX: iproute2 nstat leaves out the Tcp group's gauges and constants (CurrEstab, RtoMin ...).
  for (const k of MIB_COUNTERS) if (k !== 'CurrEstab') out.set(`Tcp${k}`, c[k]!);
  for (const k of ip.filter((k) => rank(k) >= 4).sort((a, b) => rank(a) - rank(b))) out.set(k, c[k]!);
  for (const k of EXT_COUNTERS) out.set(`TcpExt${k}`, c[k]!);
  return out;
}

/** fnmatch(3) with FNM_CASEFOLD, as nstat matches its PATTERN arguments. */
function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/**
 * `nstat [-n] [-a] [-s] [-r] [-z] [PATTERN...]`: the counters' increments since the last run
 * (the history), non-zero ones unless -z, then the history is updated unless -s.
 * LINUX: iproute2 misc/nstat.c (dump_incr_db: "%-32s%-16llu%6.1f"; the rate column is the
 * per-second average, 0.0 for a first sample).
 */
export function nstat(args: string[], stack: Stack, state: ToolState): ToolResult {
  const flags = new Set<string>();
  const patterns: string[] = [];
  for (const a of args) {
    if (/^-[nasrz]+$/.test(a)) for (const f of a.slice(1)) flags.add(f);
    else if (a.startsWith('-')) throw new ScriptError(`unsupported nstat option ${a}`);
    else patterns.push(a);
  }
  const now = nstatCounters(stack);
  const history = flags.has('a') || flags.has('r') ? null : state.nstatHistory;
  const lines = flags.has('n') ? [] : ['#kernel'];
  if (!flags.has('n')) {
    for (const [name, value] of now) {
      if (patterns.length > 0 && !patterns.some((p) => globMatch(p, name))) continue;
      const delta = value - (history?.get(name) ?? 0);
      if (delta === 0 && !flags.has('z')) continue;
      lines.push(`${name.padEnd(32)}${String(delta).padEnd(16)}${'0.0'.padStart(6)}`);
    }
  }
  if (!flags.has('s')) state.nstatHistory = now;
  return { lines, status: 0 };
}

/** `ss` / `netstat`: synack's connection table in the tool's layout. */
export function connectionTable(tool: 'ss' | 'netstat', stack: Stack): ToolResult {
  const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  const lines = [tool === 'ss'
    ? 'State      Recv-Q Send-Q Local Address:Port  Peer Address:Port'
    : 'Proto Recv-Q Send-Q Local Address           Foreign Address         State'];
  for (const r of stack.netstat()) {
    const local = ep(r.localAddress, r.localPort);
    const remote = ep(r.remoteAddress, r.remotePort);
    lines.push(tool === 'ss'
      ? `${SS_NAMES[r.state].padEnd(10)} ${String(r.recvQ).padStart(6)} ${String(r.sendQ).padStart(6)} ${local.padEnd(18)} ${remote}`
      : `${r.proto.padEnd(5)} ${String(r.recvQ).padStart(6)} ${String(r.sendQ).padStart(6)} ${local.padEnd(23)} ${remote.padEnd(23)} ${NETSTAT_NAMES[r.state]}`);
  }
  return { lines, status: 0 };
}

/** The files a script may read: /proc/net/tcp and tcp6, from the stack's table. */
export function readFile(path: string, stack: Stack): string[] {
  if (path !== '/proc/net/tcp' && path !== '/proc/net/tcp6') throw new ScriptError(`unsupported file ${path}`);
  const text = formatProcNetTcp(stack.netstat(), path.endsWith('6'));
  return text.split('\n').slice(0, -1);
}

/**
 * A grep basic regular expression as a JavaScript one: in a BRE `+ ? ( ) { } |` are literal
 * and their backslashed forms are the operators (GNU); `. * [ ] ^ $` mean the same.
 */
function breToRegExp(pattern: string, ignoreCase: boolean, fixed: boolean, extended: boolean): RegExp {
  let src = '';
  if (fixed) src = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  else if (extended) src = pattern;
  else {
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i]!;
      if (ch === '\\' && i + 1 < pattern.length && '+?(){}|'.includes(pattern[i + 1]!)) src += pattern[++i];
      else if (ch === '\\') src += ch + (pattern[++i] ?? '\\');
      else if ('+?(){}|'.includes(ch)) src += `\\${ch}`;
      else src += ch;
    }
  }
  try {
    return new RegExp(src, ignoreCase ? 'i' : '');
  } catch {
    throw new ScriptError(`grep: bad pattern ${pattern}`);
  }
}

/**
 * `grep [-qvcicFEw] PATTERN [FILE...]`: the lines of `input` (or of the files, each line prefixed
 * with its file name when there are several) that match; exit status 0 when a line was selected,
 * 1 when none (POSIX grep).
 */
export function grep(args: string[], input: string[] | null, stack: Stack): ToolResult {
  const flags = new Set<string>();
  const rest: string[] = [];
  for (const a of args) {
    if (rest.length === 0 && /^-[qvciFEsw]+$/.test(a)) for (const f of a.slice(1)) flags.add(f);
    else if (rest.length === 0 && a.startsWith('-') && a !== '-') throw new ScriptError(`unsupported grep option ${a}`);
    else rest.push(a);
  }
  const pattern = rest.shift();
  if (pattern === undefined) throw new ScriptError('grep: missing pattern');
  let re = breToRegExp(pattern, flags.has('i'), flags.has('F'), flags.has('E'));
  if (flags.has('w')) re = new RegExp(`(^|\\W)(${re.source})(\\W|$)`, re.flags);
  const sources: { name: string; lines: string[] }[] = [];
  let status = 1;
  if (rest.length === 0) sources.push({ name: '(standard input)', lines: input ?? [] });
  for (const f of rest) sources.push({ name: f, lines: readFile(f, stack) });
  const out: string[] = [];
  for (const s of sources) {
    let count = 0;
    for (const l of s.lines) {
      if (re.test(l) === flags.has('v')) continue;
      count++;
      if (!flags.has('c')) out.push(rest.length > 1 ? `${s.name}:${l}` : l);
    }
    if (flags.has('c')) out.push(rest.length > 1 ? `${s.name}:${count}` : String(count));
    if (count > 0) status = 0;
  }
  return { lines: flags.has('q') ? [] : out, status };
}
