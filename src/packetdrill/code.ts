/**
 * `%{ ... }%` blocks without Python: a small evaluator for the `assert` statements Google's
 * scripts write over `tcpi_*` values (`assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd`), with Python's
 * operators (`== != < <= > >=` chained, `and or not`, `+ - * / // %`, parentheses), numbers,
 * True/False, the TCP_* / TCPI_OPT_* constants, and simple `name = expr` assignments.
 */
import type { Connection } from '../tcp/connection.js';
import { TcpState } from '../tcp/state.js';
import { SYMBOLS } from './errno.js';
import { CHRONO } from '../tcp/chrono.js';
import { EcnFlag } from '../tcp/ecn.js';
import { ScriptError } from './syscalls.js';
import { rcvMemUsed } from '../tcp/rmem.js';

/**
 * tcp_info as Linux reports it (units: µs for times, packets for windows); `orphan` when the
 * application has closed its socket and the connection goes on alone.
 */
export function tcpInfo(c: Connection | null, now: number, listening: boolean, orphan = false): Record<string, number> {
  if (c === null) return { tcpi_state: listening ? TcpState.LISTEN : TcpState.CLOSED };
  const s = c.snapshot(now);
  const mss = Math.max(1, s.mss);
  return {
    // LINUX tcp_time_wait → tcp_done: the application's socket is CLOSE; TIME_WAIT lives on without
    // it. (After close() Linux has no fd to ask; synack then describes the orphan connection itself.)
    tcpi_state: s.state === 'TIME_WAIT' && !orphan ? TcpState.CLOSED : TcpState[s.state],
    tcpi_ca_state: { open: SYMBOLS.TCP_CA_Open!, disorder: SYMBOLS.TCP_CA_Disorder!, cwr: SYMBOLS.TCP_CA_CWR!, recovery: SYMBOLS.TCP_CA_Recovery!, loss: SYMBOLS.TCP_CA_Loss! }[s.caState],
    tcpi_retransmits: s.retransmits,
    tcpi_probes: s.keepaliveProbes + c.snd.persistProbes, // LINUX icsk_probes_out: keepalive and probe0 share it
    tcpi_backoff: s.backoff,
    // LINUX tcp_get_info: TCPI_OPT_ECN once negotiated, TCPI_OPT_ECN_SEEN once ECT/CE arrived;
    // TCPI_OPT_SYN_DATA when our SYN's data was acknowledged (Fast Open).
    tcpi_options: (s.timestamps ? 1 : 0) | (s.sack ? 2 : 0) | (c.wsEnabled ? 4 : 0) | (c.ecnFlags & EcnFlag.OK ? 8 : 0) | (c.ecnFlags & EcnFlag.SEEN ? 16 : 0) |
      (c.fastOpen?.synDataAcked === true ? SYMBOLS.TCPI_OPT_SYN_DATA! : 0),
    tcpi_snd_wscale: c.wsEnabled ? s.sndWscale : 0,
    tcpi_rcv_wscale: c.wsEnabled ? s.rcvWscale : 0,
    tcpi_rto: Math.round(s.rto),
    tcpi_ato: Math.round(c.config.delAckMin),
    tcpi_snd_mss: s.mss,
    tcpi_rcv_mss: c.rcvMss,
    tcpi_unacked: Math.ceil(s.unacked / mss),
    tcpi_sacked: Math.ceil(s.sackedBytes / mss),
    tcpi_lost: Math.ceil((c.snd.rec.rackIfAny?.lostOut ?? 0) / mss),
    tcpi_retrans: c.sackEnabled ? (c.snd.rec.rackIfAny?.retransOut() ?? 0) : 0,
    tcpi_delivered: c.snd.delivered,
    tcpi_fackets: 0,
    tcpi_pmtu: 1500,
    tcpi_rtt: Math.round(s.srtt),
    tcpi_rttvar: Math.round(s.rttvar),
    // LINUX tcp_min_rtt (the windowed minimum RACK uses too; ~0U before a sample). synack keeps it
    // in RACK's state, which only a SACK connection has: without SACK it reads as no sample.
    tcpi_min_rtt: Number.isFinite(c.snd.rec.rackIfAny?.minRtt ?? Number.POSITIVE_INFINITY) ? Math.round(c.snd.rec.rackIfAny!.minRtt) : 0xffffffff,
    tcpi_snd_ssthresh: s.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(s.ssthresh / mss),
    tcpi_snd_cwnd: Math.floor(s.cwnd / mss),
    tcpi_advmss: s.advMss,
    tcpi_reordering: c.snd.rec.sb.dupThresh,
    tcpi_reord_seen: c.snd.rec.rackIfAny?.reordSeen ?? 0,
    tcpi_total_retrans: s.totalRetrans,
    tcpi_bytes_acked: Math.max(0, ((s.sndUna - s.iss - 1) | 0)),
    tcpi_bytes_received: Math.max(0, ((s.rcvNxt - s.irs - 1) | 0)),
    tcpi_notsent_bytes: Math.max(0, s.sendQueue - s.unacked),
    // LINUX tcp_get_info: milliseconds since data was last sent / received.
    tcpi_last_data_sent: Math.floor((now - c.snd.lsndtime) / 1000),
    tcpi_last_data_recv: Math.floor((now - c.lastDataRecv) / 1000),
    tcpi_last_ack_recv: Math.floor((now - c.lastRecv) / 1000),
    // LINUX tcp_get_info_chrono_stats: µs busy (all conditions), receive-window and send-buffer limited.
    tcpi_busy_time: c.chrono.total(now, CHRONO.BUSY) + c.chrono.total(now, CHRONO.RWND_LIMITED) + c.chrono.total(now, CHRONO.SNDBUF_LIMITED),
    tcpi_rwnd_limited: c.chrono.total(now, CHRONO.RWND_LIMITED),
    tcpi_sndbuf_limited: c.chrono.total(now, CHRONO.SNDBUF_LIMITED),
  };
}

/**
 * The SO_MEMINFO values packetdrill gives code blocks (SK_MEMINFO_*) that synack keeps:
 * sk_rmem_alloc (held receive memory by true size, tcp/rmem.ts), sk_rcvbuf and sk_sndbuf (as
 * getsockopt SO_RCVBUF / SO_SNDBUF report them), sk_wmem_queued (bytes in the send queue).
 */
export function skMeminfo(c: Connection | null): Record<string, number> {
  if (c === null) return {};
  return {
    SK_MEMINFO_RMEM_ALLOC: rcvMemUsed(c),
    SK_MEMINFO_RCVBUF: c.config.recvBuffer,
    SK_MEMINFO_SNDBUF: c.config.sendBuffer,
    SK_MEMINFO_WMEM_QUEUED: c.sendBuf.length,
  };
}

type Tok = { t: 'num'; v: number } | { t: 'name'; v: string } | { t: 'op'; v: string } | { t: 'str'; v: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?)|([A-Za-z_]\w*(?:\.\w+)*)|("[^"]*"|'[^']*')|(\/\/|==|!=|<<|>>|<=|>=|\*\*|[-+*/%<>(),=\[\]&|^]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (m === null) throw new ScriptError(`cannot evaluate code near '${src.slice(i).trim().slice(0, 20)}'`);
    i = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'name', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'str', v: m[3].slice(1, -1) });
    else out.push({ t: 'op', v: m[4]! });
  }
  return out;
}

export type Val = number | boolean | string;

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly env: (name: string) => Val,
  ) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  atOp(v: string): boolean {
    const t = this.peek();
    return t !== undefined && (t.t === 'op' || t.t === 'name') && t.v === v;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  expr(): Val {
    let v = this.and();
    while (this.atOp('or')) {
      this.i++;
      const r = this.and();
      v = truthy(v) ? v : r;
    }
    return v;
  }
  and(): Val {
    let v = this.not();
    while (this.atOp('and')) {
      this.i++;
      const r = this.not();
      v = truthy(v) ? r : v;
    }
    return v;
  }
  not(): Val {
    if (this.atOp('not')) {
      this.i++;
      return !truthy(this.not());
    }
    return this.cmp();
  }
  cmp(): Val {
    let left = this.bitOr();
    let result: Val = true;
    let chained = false;
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.t !== 'op' || !['==', '!=', '<', '<=', '>', '>='].includes(t.v)) break;
      this.i++;
      const right = this.bitOr();
      const ok = compare(t.v, left, right);
      result = chained ? truthy(result) && ok : ok;
      chained = true;
      left = right;
    }
    return chained ? result : left;
  }
  /** Python's bitwise operators, between comparisons and sums: | then ^ then & then << >>. */
  bitOr(): Val {
    let v = this.bitXor();
    while (this.atOp('|')) {
      this.i++;
      v = num(v) | num(this.bitXor());
    }
    return v;
  }
  bitXor(): Val {
    let v = this.bitAnd();
    while (this.atOp('^')) {
      this.i++;
      v = num(v) ^ num(this.bitAnd());
    }
    return v;
  }
  bitAnd(): Val {
    let v = this.shift();
    while (this.atOp('&')) {
      this.i++;
      v = num(v) & num(this.shift());
    }
    return v;
  }
  shift(): Val {
    let v = this.sum();
    while (this.atOp('<<') || this.atOp('>>')) {
      const op = (this.toks[this.i++] as { v: string }).v;
      const r = num(this.sum());
      v = op === '<<' ? num(v) << r : num(v) >> r;
    }
    return v;
  }
  sum(): Val {
    let v = this.prod();
    while (this.atOp('+') || this.atOp('-')) {
      const op = (this.toks[this.i++] as { v: string }).v;
      const r = this.prod();
      v = op === '+' ? num(v) + num(r) : num(v) - num(r);
    }
    return v;
  }
  prod(): Val {
    let v = this.unary();
    while (this.atOp('*') || this.atOp('/') || this.atOp('//') || this.atOp('%')) {
      const op = (this.toks[this.i++] as { v: string }).v;
      if (op === '%' && typeof v === 'string') {
        v = printf(v, this.formatArgs());
        continue;
      }
      const r = num(this.unary());
      const l = num(v);
      v = op === '*' ? l * r : op === '/' ? l / r : op === '//' ? Math.floor(l / r) : ((l % r) + r) % r;
    }
    return v;
  }
  /** The right side of Python's `'...' % x`: one value or a parenthesized tuple. */
  private formatArgs(): Val[] {
    if (!this.atOp('(')) return [this.unary()];
    this.i++;
    const args: Val[] = [];
    while (!this.atOp(')')) {
      args.push(this.expr());
      if (this.atOp(',')) this.i++;
      else if (!this.atOp(')')) throw new ScriptError("missing ')' in code expression");
    }
    this.i++;
    return args;
  }
  unary(): Val {
    if (this.atOp('-')) {
      this.i++;
      return -num(this.unary());
    }
    if (this.atOp('+')) {
      this.i++;
      return num(this.unary());
    }
    return this.primary();
  }
  primary(): Val {
    const t = this.toks[this.i++];
    if (t === undefined) throw new ScriptError('unexpected end of code expression');
    if (t.t === 'num' || t.t === 'str') return t.v;
    if (t.t === 'op' && t.v === '(') {
      const v = this.expr();
      if (!this.atOp(')')) throw new ScriptError("missing ')' in code expression");
      this.i++;
      return v;
    }
    if (t.t === 'name') {
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      return this.env(t.v);
    }
    throw new ScriptError(`unexpected '${t.v}' in code expression`);
  }
}

/** Python's printf-style `%` on a string (the assert messages of code blocks): %d %i %u %s %x %%. */
function printf(fmt: string, args: Val[]): string {
  let k = 0;
  return fmt.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([diusxXrf%])/g, (all, _flags: string, conv: string) => {
    if (conv === '%') return '%';
    if (k >= args.length) throw new ScriptError('not enough arguments for format string');
    const a = args[k++]!;
    switch (conv) {
      case 's':
      case 'r':
        return String(a);
      case 'x':
      case 'X': {
        const h = Math.trunc(num(a)).toString(16);
        return conv === 'X' ? h.toUpperCase() : h;
      }
      case 'f':
        return num(a).toFixed(6);
      default:
        return String(Math.trunc(num(a)));
    }
  });
}

const truthy = (v: Val): boolean => (typeof v === 'string' ? v.length > 0 : Boolean(v));
const num = (v: Val): number => (typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' ? v : Number.NaN);

function compare(op: string, a: Val, b: Val): boolean {
  const x = typeof a === 'string' || typeof b === 'string' ? String(a) : num(a);
  const y = typeof a === 'string' || typeof b === 'string' ? String(b) : num(b);
  switch (op) {
    case '==': return x === y;
    case '!=': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    default: return x >= y;
  }
}

/** Split code into logical lines (joining open parentheses and backslash continuations). */
function logicalLines(code: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const raw of code.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    cur += (cur === '' ? '' : ' ') + line.replace(/\\\s*$/, '');
    for (const ch of line) depth += ch === '(' || ch === '[' ? 1 : ch === ')' || ch === ']' ? -1 : 0;
    if (depth > 0 || /\\\s*$/.test(line)) continue;
    if (cur.trim() !== '') out.push(cur.trim());
    cur = '';
    depth = 0;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out.flatMap(statements);
}

/** Python's `;` between simple statements on one line (outside strings and brackets). */
function statements(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== '') {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ';' && depth === 0) {
      out.push(line.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(line.slice(start).trim());
  return out.filter((x) => x !== '');
}

/**
 * Run a code block; returns an assertion failure message or null. `locals`: the script's names,
 * kept from block to block as upstream packetdrill runs all blocks in one Python namespace
 * (`%{ TCP_INFINITE_SSTHRESH = 0x7fffffff }%`, then asserts naming it).
 */
export function runCode(code: string, info: Record<string, number>, locals: Record<string, Val> = {}): string | null {
  const env = (name: string): Val => {
    if (name in locals) return locals[name]!;
    if (name in info) return info[name]!;
    const s = SYMBOLS[name];
    if (s !== undefined) return s;
    if (name.startsWith('tcpi_')) throw new ScriptError(`${name} is not supported by synack's tcp_info`);
    if (name.startsWith('SK_MEMINFO_')) throw new ScriptError(`${name} is not supported by synack's SO_MEMINFO`);
    throw new ScriptError(`unknown name '${name}' in code block`);
  };
  for (const line of logicalLines(code)) {
    if (line === 'pass') continue;
    if (/^print\s*\(/.test(line)) {
      // print(x): evaluated (so an unknown name is still reported), its output not shown.
      const p = new Parser(lex(line.slice(line.indexOf('('))), env);
      p.expr();
      continue;
    }
    const assign = /^([A-Za-z_]\w*)\s*=(?!=)\s*(.*)$/.exec(line);
    if (assign !== null) {
      const p = new Parser(lex(assign[2]!), env);
      locals[assign[1]!] = p.expr();
      continue;
    }
    if (!line.startsWith('assert ') && !line.startsWith('assert(')) throw new ScriptError(`unsupported code statement: ${line}`);
    const toks = lex(line.slice(6));
    const p = new Parser(toks, env);
    const v = p.expr();
    let msg = '';
    if (p.atOp(',')) {
      (p as unknown as { i: number }).i++;
      msg = String(p.expr());
    }
    if (!p.done()) throw new ScriptError(`cannot evaluate code: ${line}`);
    if (!truthy(v)) return `AssertionError: ${line}${msg !== '' ? ` (${msg})` : ''}`;
  }
  return null;
}
