/**
 * The packetdrill interpreter: runs a parsed script against one synack Stack in-process on
 * virtual time, as packetdrill drives a kernel. Inbound lines are built and injected at their
 * script time; outbound lines take the next packet the stack sent (joining consecutive segments
 * unless --strict_segments) and compare it field by field; system calls go through the POSIX
 * layer in sockets.ts, blocking calls block in virtual time; `sysctl` commands set the stack's
 * options; `%{ }%` asserts read tcp_info. The first mismatch ends the run with packetdrill's
 * message (`file:line: error handling packet: live packet field tcp_ack_seq: expected ...`).
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Link } from '../link/link.js';
import { Stack } from '../stack/stack.js';
import type { Connection } from '../tcp/connection.js';
import { formatPacket } from '../wire/format.js';
import type { Event, IcmpPacket, PacketEvent, Script, SyscallEvent, TcpPacket } from './ast.js';
import { buildIcmpFrame } from './icmp-inject.js';
import { runCode, skMeminfo, tcpInfo, type Val } from './code.js';
import { buildFrame, encodeOptions, flagBits, fragmentError, joinSegments, offsetSackBlocks, parseLive, verifyOutbound, timestampOf, type Live } from './packets.js';
import { parseScript, PacketdrillSyntaxError } from './parser.js';
import { CommandFailed, runCommand } from './shell.js';
import { newToolState } from './shell-tools.js';
import { isBlocked, SocketLayer, type Blocked, type PdSocket, type SysResult } from './sockets.js';
import { checkResult, returnsFd, ScriptError, startEpollWait, startPoll, startSyscall, type SyscallEnv } from './syscalls.js';
import { SynackError } from '../errors.js';

export interface RunOptions {
  /** Print every packet tcpdump-style as injected/sent, and ss/netstat output. */
  verbose?: (line: string) => void;
  /** Skip (never run) shell commands synack cannot interpret instead of failing. */
  allowShell?: boolean;
  /** Options as if written at the script's top (`--tolerance_usecs=10000`), applied after the script's. */
  extraOptions?: Record<string, string | null>;
}

export type RunStatus = 'pass' | 'fail' | 'error';

export interface RunResult {
  file: string;
  status: RunStatus;
  /** packetdrill-style message of the first failure (`file:line: ...`). */
  message?: string;
  line?: number;
  /** True when the failure is an unsupported feature rather than a mismatch. */
  unsupported?: boolean;
  /** ss/netstat output lines. */
  output: string[];
  /** Virtual time the script covered, µs. */
  virtualUsecs: number;
}

/** A script step that failed (or that the runner does not support): the run stops with it. */
class Failure extends SynackError {
  constructor(
    message: string,
    readonly line: number,
    readonly unsupported = false,
  ) {
    super(unsupported ? 'ERR_PACKETDRILL_UNSUPPORTED' : 'ERR_PACKETDRILL_FAILURE', message);
  }
}

const SLACK = 10_000_000; // how long past an expected time we wait for a packet or a call (µs)

interface ScriptSocket {
  passive: boolean;
  state: 'listening' | 'syn-received' | 'connecting' | 'open';
  remotePort: number;
  localPort: number;
  localIsnLive: number | null;
  localIsnScript: number;
  /**
   * The peer's ISN, from the SYN (or SYN-ACK) the script injects: packetdrill's
   * remote_seq_script_to_live_offset makes every later segment's numbers relative to it.
   */
  remoteIsn?: number;
}

interface Pending {
  ev: SyscallEvent;
  blocked: Blocked;
  start: number;
  end: number;
  check: ((r: SysResult) => string | null) | undefined;
}

export function runScriptFile(path: string, opts: RunOptions = {}): RunResult {
  return runScriptText(readFileSync(path, 'utf8'), path, opts);
}

export function runScriptText(text: string, file: string, opts: RunOptions = {}): RunResult {
  let script: Script;
  try {
    script = parseScript(text, file);
  } catch (e) {
    if (e instanceof PacketdrillSyntaxError) return { file, status: 'error', message: e.message, output: [], virtualUsecs: 0 };
    throw e;
  }
  return new Interpreter(script, opts).run();
}

export class Interpreter {
  now = 0;
  readonly stack: Stack;
  readonly layer: SocketLayer;
  private readonly out: Live[] = [];
  private readonly output: string[] = [];
  /** State the shell tools keep between commands (nstat's history). */
  private readonly tools = newToolState();
  private readonly cfg = new Map<string, string | null>();
  private readonly defines: Record<string, string> = {};
  /** The names code blocks assign, for the blocks after them. */
  private readonly codeLocals: Record<string, Val> = {};
  private readonly env: SyscallEnv;
  private readonly tolerance: number;
  private readonly tolerancePct: number;
  private readonly strict: boolean;
  private readonly tsTick: number;
  private readonly local: string;
  private readonly remote: string;
  private sut: ScriptSocket | null = null;
  private nextRemotePort = 48_271;
  private pending: Pending | null = null;
  private deferred: Failure | null = null;
  private lastEventTime = 0;
  private readonly tsMap = new Map<number, number>();
  private firstTs: { script: number; actual: number } | null = null;

  constructor(
    readonly script: Script,
    readonly opts: RunOptions = {},
  ) {
    for (const o of script.options) {
      if (o.name === 'define' && o.value !== null) {
        const eq = o.value.indexOf('=');
        this.defines[o.value.slice(0, eq)] = o.value.slice(eq + 1).replace(/^"(.*)"$/, '$1');
      } else this.cfg.set(o.name, o.value);
    }
    for (const [k, v] of Object.entries(opts.extraOptions ?? {})) this.cfg.set(k, v);
    const num = (k: string, d: number): number => (this.cfg.get(k) != null ? Number(this.cfg.get(k)) : d);
    this.tolerance = num('tolerance_usecs', 4000);
    this.tolerancePct = num('tolerance_percent', 0);
    this.strict = this.cfg.has('strict_segments');
    this.tsTick = num('tcp_ts_tick_usecs', 0);
    const v6 = this.cfg.get('ip_version') === 'ipv6';
    // Upstream's run_all.py passes each variant the Fast Open cookie of its default addresses
    // under the defaults.sh key (a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4), as -D TFO_COOKIE.
    this.defines.TFO_COOKIE ??= v6 ? 'c1d1e9742a47a9bc' : '3021b9d889017eeb';
    // And, for IPv4, -D CODE=host_unreachable (the ICMP code the Fast Open ICMP scripts send).
    if (!v6) this.defines.CODE ??= 'host_unreachable';
    this.local = this.cfg.get('local_ip') ?? (v6 ? 'fd3d:a0b:17d6::1' : '192.168.0.1');
    this.remote = this.cfg.get('remote_ip') ?? (v6 ? 'fd3d:fa7b:d17d::1' : '192.0.2.1');
    const mtu = num('mtu', 1500);
    // Scripts expect Linux: a lingering close() that times out returns and the orphan goes on
    // (LINUX tcp_close); the seed articles' variant (EWOULDBLOCK and a RST) is `lingerTimeoutAction: 'reset'`.
    this.stack = new Stack({ name: 'synack', ifname: 'tun0', addresses: [this.local], clock: () => this.now, seed: 1, tcp: { lingerTimeoutAction: 'orphan' } });
    const link: Link = {
      mtu,
      send: (frame) => {
        const p = parseLive(frame, this.now);
        if (p === null || p.dst !== this.remote && !(v6 && p.version === 6)) return;
        opts.verbose?.(`${fmtTime(this.now)} > ${formatPacket(frame)}`);
        this.out.push(p);
      },
      onReceive: () => {},
    };
    this.stack.attach(link);
    this.layer = new SocketLayer({ stack: this.stack, localAddress: this.local, defaultPort: num('bind_port', 8080), remoteAddress: this.remote });
    this.env = {
      layer: this.layer, defines: this.defines, localAddress: this.local, remoteAddress: this.remote,
      bindPort: num('bind_port', 8080), connectPort: num('connect_port', 8080), wildcard: v6 ? '::' : '0.0.0.0',
      fdMap: new Map(),
    };
    this.layer.onListen = (s) => {
      this.sut = { passive: true, state: 'listening', remotePort: 0, localPort: s.bound!.port, localIsnLive: null, localIsnScript: 0 };
    };
    this.layer.onConnect = (s) => {
      this.sut = { passive: false, state: 'connecting', remotePort: s.sock!.remotePort, localPort: s.sock!.localPort, localIsnLive: null, localIsnScript: 0 };
    };
  }

  run(): RunResult {
    const file = this.script.file;
    const done = (status: RunStatus, f?: Failure): RunResult => ({
      file, status, output: this.output, virtualUsecs: this.now,
      ...(f !== undefined ? { message: `${file}:${f.line}: ${f.message}`, line: f.line, ...(f.unsupported ? { unsupported: true } : {}) } : {}),
    });
    try {
      if (this.script.initCommand !== null) this.command(this.script.initCommand.command, this.script.initCommand.line, true);
      for (const ev of this.script.events) this.event(ev);
      if (this.pending !== null) this.finishPending();
      if (this.deferred !== null) throw this.deferred;
      return done('pass');
    } catch (e) {
      if (e instanceof Failure) return done('fail', e);
      throw e;
    }
  }

  // ------------------------------------------------------------------ time

  private tol(expected: number): number {
    return Math.max(this.tolerance, (this.tolerancePct / 100) * Math.max(0, expected - this.lastEventTime));
  }

  /** Run the stack's timers up to `t` (never backwards), polling a blocked call after each step. */
  private advanceTo(t: number): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const d = Math.min(this.stack.nextDeadline(), this.pending?.blocked.deadline ?? Infinity);
      if (d > t) break;
      if (d > this.now) this.now = d;
      this.stack.onTimer(this.now);
      this.pollPending();
    }
    if (t > this.now) this.now = t;
    this.pollPending();
  }

  private pollPending(): void {
    const p = this.pending;
    if (p === null) return;
    const r = p.blocked.poll();
    if (r === null) return;
    this.pending = null;
    // Like packetdrill's syscall thread, a blocking call's failure is reported when the script
    // next waits for the thread (the next system call or the end), not where it happened.
    try {
      this.completeCall(p.ev, r, p.check, p.end);
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      this.deferred ??= e;
    }
  }

  private completeCall(ev: SyscallEvent, r: SysResult, check: ((r: SysResult) => string | null) | undefined, end: number): void {
    const bad = checkResult(ev, r, this.defines) ?? check?.(r) ?? null;
    if (bad !== null) throw new Failure(`runtime error in ${ev.name} call: ${bad}`, ev.line);
    if (returnsFd(ev.name) && r.ret >= 0 && ev.result.type === 'int') {
      // (Identity too: a script number reused for a new socket must not keep naming the old one.)
      this.env.fdMap.set(ev.result.value, r.ret);
    }
    const t = this.tol(end);
    if (Math.abs(this.now - end) > t) {
      throw new Failure(`runtime error in ${ev.name} call: timing error: expected system call return at ${secs(end)} sec but happened at ${secs(this.now)} sec; tolerance ${secs(t)} sec`, ev.line);
    }
  }

  private finishPending(): void {
    const p = this.pending!;
    const limit = p.end + this.tol(p.end) + SLACK;
    while (this.pending !== null) {
      const d = Math.min(this.stack.nextDeadline(), p.blocked.deadline ?? Infinity);
      if (d > limit) break;
      this.advanceTo(d);
    }
    if (this.deferred !== null) throw this.deferred;
    if (this.pending !== null) {
      throw new Failure(`runtime error in ${p.ev.name} call: expected system call return at ${secs(p.end)} sec but it was still blocked at ${secs(this.now)} sec`, p.ev.line);
    }
  }

  // ------------------------------------------------------------------ events

  private event(ev: Event): void {
    let t: number;
    let end = 0;
    switch (ev.time.kind) {
      case 'absolute': t = ev.time.usecs; break;
      case 'relative': t = this.lastEventTime + ev.time.usecs; break;
      case 'any': t = this.now; break;
      case 'absoluteRange': t = ev.time.usecs; end = ev.time.endUsecs; break;
      case 'relativeRange': t = this.lastEventTime + ev.time.usecs; end = this.lastEventTime + ev.time.endUsecs; break;
    }
    if (ev.kind === 'packet' && ev.direction === 'outbound') {
      const actual = this.outbound(ev, t, end);
      this.lastEventTime = ev.time.kind === 'any' || ev.time.kind.endsWith('Range') ? actual : t;
      return;
    }
    if (ev.kind === 'syscall' && this.pending !== null) this.finishPending();
    if (ev.kind === 'syscall' && this.deferred !== null) throw this.deferred;
    this.advanceTo(t);
    const before = this.lastEventTime;
    this.lastEventTime = t;
    switch (ev.kind) {
      case 'packet': this.inbound(ev); break;
      case 'syscall': this.syscall(ev, t, ev.end === null ? t : ev.time.kind === 'absolute' ? ev.end : before + ev.end); break;
      case 'command': this.command(ev.command, ev.line, false); break;
      case 'code': this.code(ev.text, ev.line); break;
    }
  }

  private command(text: string, line: number, init: boolean): void {
    try {
      runCommand(text, {
        stack: this.stack, scriptDir: dirname(this.script.file), allowShell: this.opts.allowShell ?? false,
        tools: this.tools,
        print: (l) => {
          this.output.push(l);
          this.opts.verbose?.(l);
        },
      }, init);
    } catch (e) {
      if (e instanceof ScriptError) throw new Failure(e.message, line, !(e instanceof CommandFailed));
      throw e;
    }
  }

  private code(text: string, line: number): void {
    const s = this.infoSocket();
    // After close() the fd is gone but the connection lives on (FIN_WAIT_2, TIME_WAIT ...).
    const sut = this.sut;
    const orphan = sut === null ? undefined : this.stack.connections().find((c) => c.localPort === sut.localPort && c.remotePort === sut.remotePort);
    const conn = s?.sock?.conn ?? orphan ?? null;
    try {
      const vars = { ...tcpInfo(conn, this.now, conn === null && s?.listener != null, conn !== null && s?.sock?.conn !== conn), ...skMeminfo(conn) };
      const bad = runCode(text, vars, this.codeLocals);
      if (bad !== null) throw new Failure(`error in code block: ${bad}`, line);
    } catch (e) {
      if (e instanceof ScriptError) throw new Failure(e.message, line, true);
      throw e;
    }
  }

  /** The socket tcp_info describes: the connection under test, else the newest fd. */
  private infoSocket(): PdSocket | null {
    let best: PdSocket | null = null;
    for (const s of this.layer.fds.values()) {
      const c: Connection | undefined = s.sock?.conn;
      if (c !== undefined && this.sut !== null && c.remotePort === this.sut.remotePort && c.localPort === this.sut.localPort) return s;
      if (best === null || s.fd > best.fd) best = s;
    }
    if (this.sut !== null && !this.stack.connections().some((c) => c.localPort === this.sut!.localPort && c.remotePort === this.sut!.remotePort)) return best;
    return this.sut === null ? best : null;
  }

  private syscall(ev: SyscallEvent, start: number, end: number): void {
    let call;
    try {
      call = ev.name === 'poll' ? startPoll(ev, this.env, () => this.now)
        : ev.name === 'epoll_wait' ? startEpollWait(ev, this.env, () => this.now) : startSyscall(ev, this.env);
    } catch (e) {
      if (e instanceof ScriptError) throw new Failure(e.message, ev.line, true);
      throw e;
    }
    const o = call.outcome;
    if (!isBlocked(o)) {
      this.completeCall(ev, o, call.check, ev.end === null ? this.now : end);
      return;
    }
    this.pending = { ev, blocked: o, start, end, check: call.check };
    // A call not written as blocking (`+0 read(...)`) holds the script until it returns.
    if (ev.end === null) this.finishPending();
  }

  // ------------------------------------------------------------------ packets

  private inbound(ev: PacketEvent): void {
    if (ev.protocol === 'icmp') return this.inboundIcmp(ev);
    if (ev.protocol !== 'tcp') throw new Failure(`${ev.protocol} packets are not supported`, ev.line, true);
    if (ev.encaps.length > 0) throw new Failure('encapsulated packets are not supported', ev.line, true);
    const flags = flagBits(ev.flags);
    let sut = this.sut;
    if ((flags & 0x12) === 0x02 && sut !== null && sut.passive && sut.state === 'listening') {
      sut.state = 'syn-received';
      sut.remotePort = this.nextRemotePort++;
    }
    if (sut === null) {
      // No socket: packets to the default port from a fresh remote port (e.g. a SYN to a closed port).
      sut = this.sut = { passive: true, state: 'syn-received', remotePort: this.nextRemotePort++, localPort: this.env.bindPort, localIsnLive: null, localIsnScript: 0 };
    }
    // packetdrill's local_seq_script_to_live_offset: a SYN's numbers are relative to the script's
    // ISN, any other segment's to 0 (`ack 1` is our ISN + 1 whatever ISN the SYN-ACK line wrote).
    // Only a SYN that starts the connection sets the peer's ISN (upstream's remote_isn comes from
    // the socket's first SYN): a later SYN on an open connection is just an out-of-window segment.
    if (flags & 0x02 && (sut.remoteIsn === undefined || sut.state !== 'open')) sut.remoteIsn = ev.seqStart >>> 0;
    const seqOffset = (flags & 0x02) !== 0 ? 0 : sut.remoteIsn ?? 0;
    const ackOffset = sut.localIsnLive === null ? 0 : (sut.localIsnLive - ((flags & 0x02) !== 0 ? sut.localIsnScript : 0)) >>> 0;
    const ecr = (e: number): number => {
      const m = this.tsMap.get(e);
      if (m !== undefined) return m;
      if (this.firstTs !== null) return (e - this.firstTs.script + this.firstTs.actual) >>> 0;
      return e;
    };
    let optBytes: Uint8Array;
    try {
      optBytes = ev.options === null || ev.options === 'any' ? new Uint8Array(0) : encodeOptions(ev.options, ecr, ackOffset, this.defines);
    } catch (e) {
      throw new Failure((e as Error).message, ev.line, true);
    }
    const tos = ev.ip.tos ?? ({ noecn: 0, ect0: 2, ect1: 1, ect01: 2, ce: 3 } as const)[ev.ecn ?? 'noecn'];
    const frame = buildFrame({
      version: this.local.includes(':') ? 6 : 4, src: this.remote, dst: this.local, tos, ttl: ev.ip.ttl ?? 64,
      srcPort: ev.ports?.src ?? sut.remotePort, dstPort: ev.ports?.dst ?? sut.localPort,
      seq: (ev.seqStart + seqOffset) >>> 0, ack: (flags & 0x10) !== 0 ? ((ev.ack ?? 0) + ackOffset) >>> 0 : 0,
      flags, window: ev.win ?? 0, urg: ev.urg ?? 0, optBytes, payloadLen: ev.payloadLen,
    });
    this.opts.verbose?.(`${fmtTime(this.now)} < ${formatPacket(frame)}`);
    this.stack.input(frame);
    this.pollPending();
  }

  /** An ICMP error quoting one of our segments to the socket under test's peer. */
  private inboundIcmp(ev: IcmpPacket): void {
    const sut = this.sut;
    if (sut === null || sut.remotePort === undefined) throw new Failure('an ICMP packet before any connection', ev.line, true);
    const code = ev.icmpCode === null ? null : (this.defines[ev.icmpCode] ?? ev.icmpCode);
    const frame = buildIcmpFrame({ ...ev, icmpCode: code }, {
      local: this.local, remote: this.remote, localPort: sut.localPort, remotePort: sut.remotePort,
      seqOffset: sut.localIsnLive === null ? 0 : sut.localIsnLive,
    });
    if (typeof frame === 'string') throw new Failure(frame, ev.line, true);
    this.opts.verbose?.(`${fmtTime(this.now)} < ${formatPacket(frame)}`);
    this.stack.input(frame);
    this.pollPending();
  }

  /** A segment of another connection than the socket under test's (an earlier child's RST ...). */
  private notUnderTest(p: Live): boolean {
    const sut = this.sut;
    if (sut === null || sut.state === 'listening') return false;
    if (!sut.passive) return p.srcPort !== sut.localPort;
    return p.dstPort !== sut.remotePort;
  }

  /** Wait for the next outbound packet(s) and compare; returns when it was sent. */
  private outbound(ev: PacketEvent, t: number, end: number): number {
    if (ev.protocol !== 'tcp') throw new Failure(`${ev.protocol} packets are not supported`, ev.line, true);
    const kind = ev.time.kind;
    const latest = kind === 'any' ? this.now + 3600e6 : (kind.endsWith('Range') ? end : t) + this.tol(t) + SLACK;
    const parts: Live[] = [];
    let sniffed = 0;
    do {
      let p = this.nextPacket(latest);
      // packetdrill's find_socket_for_live_packet: only the socket under test's segments are
      // compared; a closed earlier socket's FIN or RST goes by unchecked.
      while (p !== null && this.notUnderTest(p)) p = this.nextPacket(latest);
      if (p === null) throw new Failure('error handling packet: Timed out waiting for packet', ev.line);
      this.learnIsn(ev, p);
      const m = this.toScript(p);
      if (parts.length > 0) {
        const bad = fragmentError(parts[parts.length - 1]!, m, sniffed, ev.payloadLen);
        if (bad !== null) throw new Failure(`error handling packet: ${bad}`, ev.line);
      }
      parts.push(m);
      sniffed += m.payloadLen;
    } while (sniffed < ev.payloadLen && !this.strict);
    if (sniffed !== ev.payloadLen) {
      throw new Failure(`error handling packet: live packet payload: expected ${ev.payloadLen} bytes vs actual ${sniffed} bytes`, ev.line);
    }
    const actual = joinSegments(parts);
    const ts = timestampOf(actual.optBytes);
    const sts = ev.options !== null && ev.options !== 'any' ? ev.options.find((o) => o.kind === 'timestamp') : undefined;
    if (ts !== null && sts !== undefined && sts.kind === 'timestamp') {
      this.tsMap.set(sts.val, ts.val);
      if (this.firstTs === null) this.firstTs = { script: sts.val, actual: ts.val };
    }
    const first = this.firstTs;
    let bad: string | null;
    try {
      bad = verifyOutbound(ev, actual, {
      tsTickUsecs: this.tsTick, toleranceUsecs: this.tol(t), defines: this.defines,
      mapTsVal: (a) => (first === null ? a : (first.script + (a - first.actual)) >>> 0),
      }) ?? this.timing(kind, t, end, actual.time);
    } catch (e) {
      throw new Failure((e as Error).message, ev.line, true);
    }
    if (bad !== null) {
      throw new Failure(`error handling packet: ${bad}\nscript packet: ${secs(t)} ${describe(ev)}\nactual packet: ${secs(actual.time)} ${describeLive(actual)}`, ev.line);
    }
    return actual.time;
  }

  private timing(kind: string, t: number, end: number, at: number): string | null {
    if (kind === 'any') return null;
    const tol = this.tol(t);
    if (kind.endsWith('Range')) {
      if (at < t - tol || at > end + tol) return `timing error: expected outbound packet in time range ${secs(t)}~${secs(end)} sec but happened at ${secs(at)} sec`;
      return null;
    }
    if (Math.abs(at - t) > tol) return `timing error: expected outbound packet at ${secs(t)} sec but happened at ${secs(at)} sec; tolerance ${secs(tol)} sec`;
    return null;
  }

  private nextPacket(latest: number): Live | null {
    for (;;) {
      const p = this.out.shift();
      if (p !== undefined) return p;
      const d = Math.min(this.stack.nextDeadline(), this.pending?.blocked.deadline ?? Infinity);
      if (d > latest) {
        this.now = Math.max(this.now, latest);
        return null;
      }
      this.advanceTo(d);
    }
  }

  /** Our ISN from the first SYN (active) or SYN-ACK (passive) the script expects. */
  private learnIsn(ev: TcpPacket, p: Live): void {
    const sut = this.sut;
    if (sut === null || (p.flags & 0x02) === 0 || sut.localIsnLive !== null && sut.state === 'open') return;
    const synAck = (p.flags & 0x12) === 0x12;
    if ((sut.passive && synAck) || (!sut.passive && !synAck)) {
      sut.localIsnLive = p.seq;
      sut.localIsnScript = ev.seqStart;
      sut.localPort = p.srcPort;
      sut.remotePort = p.dstPort;
      sut.state = 'open';
    }
  }

  private toScript(p: Live): Live {
    const sut = this.sut;
    if (sut === null) return p;
    // packetdrill's remote_seq_live_to_script_offset: our ACK of anything after the peer's SYN
    // is written relative to its ISN.
    // (Only with the ACK bit: tcp_convert_seq_number leaves a RST's zero ack field alone.)
    const ack = (p.flags & 0x02) !== 0 || (p.flags & 0x10) === 0 ? p.ack : (p.ack - (sut.remoteIsn ?? 0)) >>> 0;
    const rIsn = sut.remoteIsn ?? 0;
    const optBytes = rIsn === 0 || (p.flags & 0x02) !== 0 ? p.optBytes : offsetSackBlocks(p.optBytes, -rIsn);
    if (sut.localIsnLive === null) return { ...p, ack, optBytes };
    // packetdrill's local_seq_live_to_script_offset (see ackOffset above).
    return { ...p, ack, optBytes, seq: (p.seq - sut.localIsnLive + ((p.flags & 0x02) !== 0 ? sut.localIsnScript : 0)) >>> 0 };
  }
}

const secs = (us: number): string => (us / 1e6).toFixed(6);
const fmtTime = (us: number): string => (us / 1e6).toFixed(6);

function describe(p: TcpPacket): string {
  return `${p.flags === '' ? '-' : p.flags} ${p.seqStart}:${p.seqEnd}(${p.payloadLen})${p.ack !== null ? ` ack ${p.ack}` : ''}${p.win !== null ? ` win ${p.win}` : ''}`;
}

function describeLive(p: Live): string {
  const f = 'FSRP.UEW'.split('').filter((_, i) => i < 8 && p.flags & [1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80][i]!).join('');
  const flags = f.replace('.', '') + (f.includes('.') ? '.' : '');
  return `${flags === '' ? '-' : flags} ${p.seq}:${(p.seq + p.payloadLen) >>> 0}(${p.payloadLen})${p.flags & 0x10 ? ` ack ${p.ack}` : ''} win ${p.window}`;
}
