/**
 * Backtick shell commands, without a shell: `sysctl` assignments (and Google's `defaults.sh` /
 * `set_sysctls.py` fixtures that are made of them) change the stack's options for the script;
 * `ss`/`netstat`/`nstat`/`grep`/`cat /proc/net/tcp` read synack's own stack (shell-tools.ts),
 * with sh's sequencing, pipelines and exit statuses; `tc qdisc` sets the stack's own tun0
 * queue; anything else is unsupported. Nothing is ever executed on the host.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Stack } from '../stack/stack.js';
import type { TcpConfig } from '../tcp/config.js';
import { congestionControlName } from '../tcp/congestion/registry.js';
import { ScriptError } from './syscalls.js';
import { parseKeyText } from '../tcp/fastopen.js';
import { connectionTable, grep, nstat, readFile, type ToolResult, type ToolState } from './shell-tools.js';

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
  /** What the tools keep between the script's commands (nstat's history). */
  tools: ToolState;
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

/** Expand `$((a*b))` arithmetic. */
function expand(text: string): string {
  return text.replace(/\$\(\(([\d\s*+\-/()]+)\)\)/g, (_m, expr: string) => String(evalArith(expr)));
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

/** `name=value` words (quotes already removed by the tokenizer). */
function assignments(words: string[]): [string, string][] {
  return words.filter((w) => /^[\w./-]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]);
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

/** A shell token: a word (quotes removed) or an operator. */
type Token = { word: string } | { op: '|' | '||' | '&&' | ';' | '>' | '2>' };

/**
 * Split a command text into words and operators as sh does for the forms scripts use: quotes,
 * `#` comments, backslash-newline, `|`, `||`, `&&`, `;`, newlines, and `>` / `2>` redirections.
 */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\\' && text[i + 1] === '\n') { i += 2; continue; }
    if (ch === ' ' || ch === '\t') { i++; continue; }
    if (ch === '\n' || ch === ';') { out.push({ op: ';' }); i++; continue; }
    if (ch === '#') { while (i < text.length && text[i] !== '\n') i++; continue; }
    const two = text.slice(i, i + 2);
    if (two === '||' || two === '&&' || two === '2>') { out.push({ op: two }); i += 2; continue; }
    if (ch === '|' || ch === '>') { out.push({ op: ch }); i++; continue; }
    // `2>&1`: the duplicated descriptor is the redirection's target word.
    if (ch === '&' && /^&\d/.test(text.slice(i, i + 2)) && out.at(-1) !== undefined && 'op' in out.at(-1)!) {
      out.push({ word: text.slice(i, i + 2) });
      i += 2;
      continue;
    }
    if (ch === '&') throw new ScriptError(`unsupported shell syntax: ${text.trim()}`);
    let word = '';
    while (i < text.length && !' \t\n;|&>'.includes(text[i]!)) {
      const c = text[i]!;
      if (c === '"' || c === "'") {
        const close = text.indexOf(c, i + 1);
        if (close < 0) throw new ScriptError(`unterminated quote in shell command: ${text.trim()}`);
        word += text.slice(i + 1, close);
        i = close + 1;
      } else if (c === '\\' && i + 1 < text.length) {
        word += text[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    out.push({ word });
  }
  return out;
}

/** One simple command of a pipeline: its words, whether its output is discarded, the file it writes. */
interface Simple {
  words: string[];
  quiet: boolean;
  target?: string;
}

/** The token list as and-or lists of pipelines: [connector before it, pipeline]. */
function parseList(tokens: Token[], text: string): { op: ';' | '&&' | '||'; pipeline: Simple[] }[] {
  const list: { op: ';' | '&&' | '||'; pipeline: Simple[] }[] = [];
  let op: ';' | '&&' | '||' = ';';
  let pipeline: Simple[] = [];
  let cur: Simple = { words: [], quiet: false };
  const bad = (): never => { throw new ScriptError(`unsupported shell syntax: ${text.trim()}`); };
  const endSimple = (): void => {
    if (cur.words.length === 0) bad();
    pipeline.push(cur);
    cur = { words: [], quiet: false };
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ('word' in t) { cur.words.push(t.word); continue; }
    if (t.op === '>' || t.op === '2>') {
      const target = tokens[++i];
      // Only the discarding redirections (`> /dev/null`, `2>/dev/null`, `2>&1`) have a meaning here.
      if (target === undefined || !('word' in target)) bad();
      const w = (target as { word: string }).word;
      if (w === '/dev/null') cur.quiet ||= t.op === '>';
      else if (t.op === '>' && w !== '&1') cur.target = w;
      else if (t.op === '2>' && w !== '&1') bad();
      continue;
    }
    if (t.op === '|') { endSimple(); continue; }
    if (cur.words.length === 0 && pipeline.length === 0) { if (t.op === ';') continue; bad(); }
    endSimple();
    list.push({ op, pipeline });
    pipeline = [];
    op = t.op;
  }
  if (cur.words.length > 0) endSimple();
  else if (pipeline.length > 0) bad();
  if (pipeline.length > 0) list.push({ op, pipeline });
  return list;
}

/** A backtick command whose exit status was not 0: the script fails (packetdrill run_command). */
export class CommandFailed extends ScriptError {}

/**
 * Run one (possibly multi-line) backtick command as `sh -c` would: commands in sequence, `&&` /
 * `||` on exit statuses, pipelines into grep; throws CommandFailed when the last status is not 0.
 * `standard` = the untimed init command.
 */
export function runCommand(text: string, ctx: ShellContext, standard: boolean, depth = 0): void {
  let status = 0;
  for (const { op, pipeline } of parseList(tokenize(expand(text)), text)) {
    if ((op === '&&' && status !== 0) || (op === '||' && status === 0)) continue;
    let input: string[] | null = null;
    for (const [i, cmd] of pipeline.entries()) {
      if (cmd.target !== undefined) {
        writeParameter(cmd.words, cmd.target, ctx.stack);
        input = [];
        status = 0;
        continue;
      }
      const r = runSimple(cmd.words, input, ctx, standard, depth, i > 0);
      input = cmd.quiet ? [] : r.lines;
      status = r.status;
    }
    for (const l of input ?? []) ctx.print(l);
  }
  if (status !== 0) throw new CommandFailed(`shell command failed with exit status ${status}: ${text.trim()}`);
}

/**
 * `echo N > FILE`: the module parameters synack has (CUBIC's hystart_detect, as a TCP option);
 * writing any other file changes the host: nothing synack emulates.
 */
function writeParameter(words: string[], target: string, stack: Stack): void {
  const n = Number(words[1]);
  if (words[0] === 'echo' && words.length === 2 && target === '/sys/module/tcp_cubic/parameters/hystart_detect' && Number.isInteger(n) && n >= 0 && n <= 3) {
    setConfig(stack, 'hystartDetect', n);
    return;
  }
  throw new ScriptError(`unsupported shell command: ${words.join(' ')} > ${target}`);
}

/** One simple command: a tool synack answers, a sysctl, an init script, or unsupported. */
function runSimple(words: string[], input: string[] | null, ctx: ShellContext, standard: boolean, depth: number, piped: boolean): ToolResult {
  const cmd = words[0]!;
  const base = cmd.split('/').pop()!;
  const ok: ToolResult = { lines: [], status: 0 };
  if (piped && base !== 'grep') throw new ScriptError(`unsupported shell command in a pipeline: ${words.join(' ')}`);
  if (base === 'grep') return grep(words.slice(1), input, ctx.stack);
  if (base === 'nstat') return nstat(words.slice(1), ctx.stack, ctx.tools);
  if (base === 'ss' || base === 'netstat') return connectionTable(base, ctx.stack);
  if (base === 'cat' && words.length > 1) return { lines: words.slice(1).flatMap((f) => readFile(f, ctx.stack)), status: 0 };
  if (base === 'set_sysctls.py' || base === 'sysctl') {
    for (const [k, v] of assignments(words.slice(1))) applySysctl(ctx.stack, k, v);
    return ok;
  }
  if (base === 'defaults.sh') {
    const path = resolve(ctx.scriptDir, cmd);
    let body: string;
    try {
      body = readFileSync(path, 'utf8');
    } catch {
      // A script moved away from its defaults.sh (a patched copy, a user's own folder): use
      // the standard production settings every packetdrill defaults.sh applies.
      ctx.print(`(${cmd} not found: applying packetdrill's standard defaults)`);
      body = STANDARD_DEFAULTS;
    }
    if (depth > 3) throw new ScriptError('init scripts nest too deeply');
    runCommand(body, { ...ctx, scriptDir: dirname(path) }, true, depth + 1);
    return ok;
  }
  // Script time is absolute: a `sleep` between events changes nothing in virtual time.
  if (base === 'sleep' || base === 'true' || base === ':') return ok;
  if (base === 'false') return { lines: [], status: 1 };
  // `ip tcp_metrics flush`: forget the per-destination metrics, the Fast Open cookies among them.
  if (base === 'ip' && words[1] === 'tcp_metrics' && /^(flush|delete)$/.test(words[2] ?? '')) {
    ctx.stack.fastOpen.cache.clear();
    return ok;
  }
  const qdisc = base === 'tc' && words[1] === 'qdisc' && !standard ? tcQdisc(words.slice(2), ctx.stack) : null;
  if (qdisc !== null) return qdisc;
  // Inside the standard init script: host plumbing that has no meaning in-process.
  if (standard && (base === 'ip' || base === 'tc' || base === 'ethtool')) return ok;
  if (/sysctl_restore/.test(base)) return ok;
  if (ctx.allowShell) {
    ctx.print(`(not run: ${words.join(' ')})`);
    return ok;
  }
  throw new ScriptError(`unsupported shell command: ${words.join(' ')}`);
}

/**
 * `tc qdisc add|replace dev DEV root pfifo limit N` and `tc qdisc del|delete dev DEV root`: the
 * interface's root qdisc (iface.ts: a pfifo with no room drops every frame, which TCP sees as
 * local congestion). Exit statuses and messages as tc's: 2 for deleting the default qdisc
 * ("Cannot delete qdisc with handle of zero") or adding over one, 1 for an unknown device.
 * Null for any other form (unsupported).
 */
function tcQdisc(args: string[], stack: Stack): ToolResult | null {
  const [verb, devWord, dev, parent, kind, limitWord, limit] = args;
  if (devWord !== 'dev' || dev === undefined || parent !== 'root') return null;
  const iface = stack.ip.iface(dev);
  if (iface === undefined) return { lines: [`Cannot find device "${dev}"`], status: 1 };
  if (verb === 'del' || verb === 'delete') {
    if (args.length !== 4) return null;
    if (iface.qdisc === null) return { lines: ['Error: Cannot delete qdisc with handle of zero.'], status: 2 };
    stack.ip.setQdisc(iface, null);
    return { lines: [], status: 0 };
  }
  if ((verb === 'add' || verb === 'replace') && kind === 'pfifo' && args.length === 7 && limitWord === 'limit' && /^\d+$/.test(limit!)) {
    if (verb === 'add' && iface.qdisc !== null) return { lines: ['Error: Exclusivity flag on, cannot modify.'], status: 2 };
    stack.ip.setQdisc(iface, { kind: 'pfifo', limit: Number(limit) });
    return { lines: [], status: 0 };
  }
  return null;
}
