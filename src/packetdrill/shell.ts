/**
 * Backtick shell commands, without a shell: `sysctl` assignments (and Google's `defaults.sh` /
 * `set_sysctls.py` fixtures that are made of them) change the stack's options for the script;
 * `ss`/`netstat` print synack's own connection table; anything else is unsupported. Nothing is
 * ever executed on the host.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Stack } from '../stack/stack.js';
import type { TcpConfig } from '../tcp/config.js';
import { congestionControlName } from '../tcp/congestion/registry.js';
import { NETSTAT_NAMES, SS_NAMES } from '../tcp/state.js';
import { ScriptError } from './syscalls.js';
import { parseKeyText } from '../tcp/fastopen.js';

/** sysctls that exist on Linux but change nothing synack does (accepted, no effect). */
const NO_EFFECT = new Set([
  'tcp_dsack', 'tcp_fack', 'tcp_reordering', 'tcp_early_retrans',
  'tcp_recovery', 'tcp_tso_win_divisor', 'tcp_ecn_option', 'tcp_pacing_ss_ratio', 'tcp_pacing_ca_ratio',
  'tcp_autocorking',
  'tcp_moderate_rcvbuf', 'tcp_no_metrics_save', 'tcp_tw_reuse', 'tcp_abort_on_overflow',
  'tcp_thin_linear_timeouts', 'tcp_limit_output_bytes', 'tcp_workaround_signed_windows', 'tcp_rfc1337',
  'tcp_comp_sack_nr', 'tcp_comp_sack_delay_ns', 'tcp_min_rtt_wlen', 'tcp_max_syn_backlog',
  'tcp_orphan_retries', 'tcp_shrink_window', 'tcp_backlog_ack_defer', 'tcp_plb_enabled',
]);

export interface ShellContext {
  stack: Stack;
  scriptDir: string;
  allowShell: boolean;
  /** Output lines of ss/netstat (and notes). */
  print: (line: string) => void;
}

function setConfig(stack: Stack, key: string, value: unknown): void {
  stack.setConfig(key as keyof TcpConfig, value as never);
}

/** Apply `net.ipv4.NAME=VALUE`; throws ScriptError for one synack does not support. */
export function applySysctl(stack: Stack, name: string, value: string): void {
  const key = name.replace(/^\/proc\/sys\//, '').replace(/\//g, '.');
  const short = key.replace(/^net\.(ipv4|core|ipv6)\./, '');
  const nums = value.trim().split(/\s+/).map((v) => Number(v));
  const n = nums[0]!;
  const bad = (): never => {
    throw new ScriptError(`unsupported sysctl value ${key}=${value}`);
  };
  switch (short) {
    case 'tcp_timestamps': setConfig(stack, 'timestamps', n !== 0); return;
    case 'tcp_sack': setConfig(stack, 'sack', n !== 0); return;
    case 'tcp_window_scaling': setConfig(stack, 'windowScaling', n !== 0); return;
    case 'tcp_syn_retries': setConfig(stack, 'synRetries', n); return;
    case 'tcp_syn_linear_timeouts': setConfig(stack, 'synLinearTimeouts', n); return;
    case 'tcp_synack_retries': setConfig(stack, 'synAckRetries', n); return;
    case 'tcp_retries2': setConfig(stack, 'retries2', n); return;
    case 'tcp_ecn':
      if (n !== 0 && n !== 1 && n !== 2) bad();
      setConfig(stack, 'ecn', n);
      return;
    case 'tcp_notsent_lowat': setConfig(stack, 'notsentLowat', n >>> 0 === 0 ? 0xffffffff : n >>> 0); return;
    case 'tcp_fin_timeout': setConfig(stack, 'finTimeout', n * 1e6); return;
    case 'tcp_keepalive_time': setConfig(stack, 'keepIdle', n * 1e6); return;
    case 'tcp_keepalive_intvl': setConfig(stack, 'keepInterval', n * 1e6); return;
    case 'tcp_keepalive_probes': setConfig(stack, 'keepCount', n); return;
    case 'tcp_rmem': {
      if (nums.length !== 3 || nums.some((x) => !Number.isFinite(x))) bad();
      setConfig(stack, 'recvBuffer', nums[1]);
      // LINUX tcp_select_initial_window: the smallest shift that lets the max buffer be announced.
      let ws = 0;
      while (ws < 14 && 65535 * 2 ** ws < nums[2]!) ws++;
      setConfig(stack, 'wscale', ws);
      return;
    }
    case 'tcp_wmem':
      if (nums.length !== 3 || nums.some((x) => !Number.isFinite(x))) bad();
      setConfig(stack, 'sendBuffer', nums[1]);
      return;
    case 'tcp_congestion_control':
      if (congestionControlName(value) !== null) setConfig(stack, 'congestionControl', value);
      else bad();
      return;
    case 'tcp_syncookies':
      if (n !== 0 && n !== 1 && n !== 2) bad();
      (stack as unknown as { syncookies: number }).syncookies = n;
      return;
    case 'somaxconn': (stack as unknown as { somaxconn: number }).somaxconn = n; return;
    case 'tcp_ecn': if (n !== 0 && n !== 2) bad(); return; // synack does not negotiate ECN; 2 = only when asked
    case 'tcp_rto_min_us': setConfig(stack, 'minRto', n); return;
    case 'tcp_delack_min': setConfig(stack, 'delAckMin', n * 1000); return;
    case 'tcp_fastopen':
      if (!Number.isInteger(n) || n < 0) bad();
      stack.fastOpen.sysctl = n;
      return;
    case 'tcp_fastopen_key': {
      const keys = parseKeyText(value);
      if (keys === null) bad();
      stack.fastOpen.keys = keys!;
      return;
    }
    case 'tcp_fastopen_blackhole_timeout_sec':
      if (!Number.isInteger(n) || n < 0) bad();
      stack.fastOpen.blackholeTimeoutSec = n;
      return;
    case 'tcp_slow_start_after_idle': setConfig(stack, 'slowStartAfterIdle', n !== 0); return;
    case 'tcp_frto': if (n !== 0 && n !== 1 && n !== 2) bad(); setConfig(stack, 'frto', n); return;
    case 'tcp_invalid_ratelimit': if (!(n >= 0)) bad(); setConfig(stack, 'invalidRateLimit', n * 1000); return; // ms
    case 'tcp_mtu_probing': if (n !== 0 && n !== 1 && n !== 2) bad(); setConfig(stack, 'mtuProbing', n); return;
    case 'tcp_base_mss': if (!(n >= 48)) bad(); setConfig(stack, 'baseMss', n); return;
    case 'tcp_probe_threshold': if (!(n >= 0)) bad(); setConfig(stack, 'probeThreshold', n); return;
    case 'tcp_probe_interval': if (!(n >= 0)) bad(); setConfig(stack, 'probeInterval', n * 1e6); return; // seconds
    case 'tcp_mtu_probe_floor': if (!(n >= 48)) bad(); setConfig(stack, 'mtuProbeFloor', n); return;
    case 'tcp_retries1': if (!(n >= 0)) bad(); setConfig(stack, 'retries1', n); return;
    case 'tcp_min_tso_segs': if (!(n >= 1)) bad(); setConfig(stack, 'minTsoSegs', n); return;
    default:
      if (NO_EFFECT.has(short) && Number.isFinite(n)) return;
      throw new ScriptError(`unsupported sysctl ${key}`);
  }
}

/** Expand `$((a*b))` arithmetic and strip quotes / redirections of one shell word list. */
function expand(line: string): string {
  return line
    .replace(/\$\(\(([\d\s*+\-/()]+)\)\)/g, (_m, expr: string) => String(evalArith(expr)))
    .replace(/\s*[12]?>\s*\/dev\/null(\s*2>&1)?/g, '')
    .trim();
}

function evalArith(expr: string): number {
  const toks = expr.match(/\d+|[*+\-/()]/g) ?? [];
  let i = 0;
  const prim = (): number => {
    const t = toks[i++];
    if (t === '(') {
      const v = sum();
      i++;
      return v;
    }
    return Number(t);
  };
  const prod = (): number => {
    let v = prim();
    while (toks[i] === '*' || toks[i] === '/') v = toks[i++] === '*' ? v * prim() : Math.trunc(v / prim());
    return v;
  };
  const sum = (): number => {
    let v = prod();
    while (toks[i] === '+' || toks[i] === '-') v = toks[i++] === '+' ? v + prod() : v - prod();
    return v;
  };
  return sum();
}

/** `name=value` words, with `"a b c"` quoting. */
function assignments(s: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([\w./-]+)=("([^"]*)"|'([^']*)'|(\S+))/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push([m[1]!, m[3] ?? m[4] ?? m[5] ?? '']);
  return out;
}

/**
 * The TCP settings of packetdrill's standard `defaults.sh` (google/packetdrill gtests/net/tcp/common,
 * identical in the Linux selftests), as sysctl assignments: buffers, timestamps, SYN retries,
 * SACK/DSACK, reordering 3, CUBIC, no slow start after idle, RACK+TLP, ECN off, SYN cookies.
 */
const STANDARD_DEFAULTS = [
  'sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640"',
  'sysctl -q net.ipv4.tcp_wmem="4096 262144 4194304"',
  'sysctl -q net.ipv4.tcp_timestamps=1',
  'sysctl -q net.ipv4.tcp_syn_retries=5',
  'sysctl -q net.ipv4.tcp_synack_retries=5',
  'sysctl -q net.ipv4.tcp_frto=2',
  'sysctl -q net.ipv4.tcp_sack=1',
  'sysctl -q net.ipv4.tcp_dsack=1',
  'sysctl -q net.ipv4.tcp_fack=0',
  'sysctl -q net.ipv4.tcp_reordering=3',
  'sysctl -q net.ipv4.tcp_congestion_control=cubic',
  'sysctl -q net.ipv4.tcp_slow_start_after_idle=0',
  'sysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1',
  'sysctl -q net.ipv4.tcp_ecn=0',
  'sysctl -q net.ipv4.tcp_syncookies=1',
].join('\n');

/** Run one (possibly multi-line) backtick command. `standard` = the untimed init command. */
export function runCommand(text: string, ctx: ShellContext, standard: boolean, depth = 0): void {
  for (const raw of text.replace(/\\\n/g, ' ').split(/\n|;|&&/)) {
    const line = expand(raw.replace(/#.*$/, ''));
    if (line === '' || line.startsWith('#!')) continue;
    const words = line.split(/\s+/);
    const cmd = words[0]!;
    const base = cmd.split('/').pop()!;
    if (base === 'defaults.sh' || base === 'set_sysctls.py') {
      if (base === 'set_sysctls.py') {
        for (const [k, v] of assignments(words.slice(1).join(' '))) applySysctl(ctx.stack, k, v);
        continue;
      }
      const path = resolve(ctx.scriptDir, cmd);
      let body: string;
      try {
        body = readFileSync(path, 'utf8');
      } catch {
        if (base !== 'defaults.sh') throw new ScriptError(`init script not found: ${cmd}`);
        // A script moved away from its defaults.sh (a patched copy, a user's own folder): use
        // the standard production settings every packetdrill defaults.sh applies.
        ctx.print(`(${cmd} not found: applying packetdrill's standard defaults)`);
        body = STANDARD_DEFAULTS;
      }
      if (depth > 3) throw new ScriptError('init scripts nest too deeply');
      runCommand(body, { ...ctx, scriptDir: dirname(path) }, true, depth + 1);
      continue;
    }
    if (base === 'sysctl') {
      for (const [k, v] of assignments(words.slice(1).join(' '))) applySysctl(ctx.stack, k, v);
      continue;
    }
    // Script time is absolute: a `sleep` between events changes nothing in virtual time.
    if (base === 'sleep' || base === 'true' || base === ':') continue;
    if (base === 'ss' || base === 'netstat') {
      printTable(ctx, base, line);
      continue;
    }
    // `ip tcp_metrics flush`: forget the per-destination metrics, the Fast Open cookies among them.
    if (base === 'ip' && words[1] === 'tcp_metrics' && /^(flush|delete)$/.test(words[2] ?? '')) {
      ctx.stack.fastOpen.cache.clear();
      continue;
    }
    // Inside the standard init script: host plumbing that has no meaning in-process.
    if (standard && (base === 'ip' || base === 'tc' || base === 'ethtool' || /sysctl_restore/.test(line))) continue;
    if (/sysctl_restore/.test(line)) continue;
    if (ctx.allowShell) {
      ctx.print(`(not run: ${line})`);
      continue;
    }
    throw new ScriptError(`unsupported shell command: ${line}`);
  }
}

function printTable(ctx: ShellContext, tool: string, line: string): void {
  const grepV = /grep\s+-v\s+(\S+)/.exec(line)?.[1];
  const grep = /grep\s+(?!-v)(\S+)/.exec(line)?.[1];
  const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  const rows: string[] = [];
  if (tool === 'ss') rows.push('State      Recv-Q Send-Q Local Address:Port  Peer Address:Port');
  else rows.push('Proto Recv-Q Send-Q Local Address           Foreign Address         State');
  for (const r of ctx.stack.netstat()) {
    const local = ep(r.localAddress, r.localPort);
    const remote = ep(r.remoteAddress, r.remotePort);
    rows.push(tool === 'ss'
      ? `${SS_NAMES[r.state].padEnd(10)} ${String(r.recvQ).padStart(6)} ${String(r.sendQ).padStart(6)} ${local.padEnd(18)} ${remote}`
      : `${r.proto.padEnd(5)} ${String(r.recvQ).padStart(6)} ${String(r.sendQ).padStart(6)} ${local.padEnd(23)} ${remote.padEnd(23)} ${NETSTAT_NAMES[r.state]}`);
  }
  for (const r of rows) {
    if (grepV !== undefined && r.includes(grepV)) continue;
    if (grep !== undefined && !r.includes(grep)) continue;
    ctx.print(r);
  }
}
