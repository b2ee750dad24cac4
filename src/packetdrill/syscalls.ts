/**
 * System call lines: resolve the argument expressions (symbols, `a|b`, `[1]`, sockaddrs, iovecs,
 * pollfds, linger structs), call the socket layer, and check what came back against the script
 * the way packetdrill's run_system_call.c does, with its messages.
 */
import type { Expr, SyscallEvent } from './ast.js';
import { describeErrno, errnoNumber, SYMBOLS } from './errno.js';
import { fail, isBlocked, ok, type Endpoint, type Outcome, type SysResult, type SocketLayer } from './sockets.js';
import { ScriptError } from '../errors.js';

/** An error in the script or an unsupported feature (not a mismatch). */
export { ScriptError };

export interface SyscallEnv {
  layer: SocketLayer;
  defines: Record<string, string>;
  localAddress: string;
  remoteAddress: string;
  bindPort: number;
  connectPort: number;
  /** Address family the script's sockets use for the `...` sockaddr. */
  wildcard: string;
  /** Script fd -> live fd (packetdrill maps the fd a script expects from socket/accept). */
  fdMap: Map<number, number>;
}

/** Evaluate an integer expression: literals, symbols, `-D` defines, `a|b`, `[n]`. */
export function intOf(e: Expr, defines: Record<string, string>): number {
  switch (e.type) {
    case 'int': return e.value;
    case 'symbol': {
      const v = SYMBOLS[e.name];
      if (v !== undefined) return v;
      const d = defines[e.name];
      if (d !== undefined && /^-?(0x[0-9a-f]+|\d+)$/i.test(d.trim())) return Number(d.trim());
      if (ERRNO_NAME.test(e.name) && errnoNumber(e.name) > 0) return errnoNumber(e.name);
      throw new ScriptError(`unknown symbol '${e.name}'`);
    }
    case 'binary': return intOf(e.lhs, defines) | intOf(e.rhs, defines);
    case 'array':
      if (e.elements.length === 1) return intOf(e.elements[0]!, defines);
      break;
    case 'htons': return e.value;
    default: break;
  }
  throw new ScriptError(`expected an integer expression, got ${e.type}`);
}

const ERRNO_NAME = /^E[A-Z]+$/;

const symbolText = (e: Expr): string => (e.type === 'symbol' ? e.name : e.type === 'int' ? String(e.value) : e.type);

function sockaddr(e: Expr | undefined, env: SyscallEnv, local: boolean): Endpoint {
  if (e === undefined || e.type === 'ellipsis') {
    return local ? { address: env.localAddress, port: env.bindPort } : { address: env.remoteAddress, port: env.connectPort };
  }
  if (e.type === 'sockaddr') return { address: e.address, port: e.port };
  throw new ScriptError(`unsupported socket address expression (${e.type})`);
}

/** The address a MSG_FASTOPEN send connects to: null for AF_UNSPEC (LINUX: EOPNOTSUPP). */
function fastOpenTarget(e: Expr | undefined, env: SyscallEnv): Endpoint | null {
  if (e !== undefined && ((e.type === 'sockaddr' && e.family === 'AF_UNSPEC') || (e.type === 'symbol' && e.name === 'AF_UNSPEC'))) return null;
  return sockaddr(e, env, false);
}

/** Total bytes of an iovec array `[{..., 100}, {..., 200}]`. */
function iovLen(e: Expr | undefined, env: SyscallEnv): number {
  if (e === undefined) return 0;
  if (e.type === 'array') return e.elements.reduce((n, x) => n + iovLen(x, env), 0);
  if (e.type === 'iovec') return e.len;
  if (e.type === 'msghdr') return iovLen(e.iov, env);
  if (e.type === 'int') return e.value;
  throw new ScriptError(`unsupported iovec expression (${e.type})`);
}

function lingerOf(e: Expr, env: SyscallEnv): { onoff: number; linger: number } {
  if (e.type === 'linger') return { onoff: e.onoff, linger: e.linger };
  if (e.type === 'struct') {
    const r = { onoff: 0, linger: 0 };
    for (const f of e.fields) {
      if (f.type !== 'assign') continue;
      if (f.name === 'l_onoff' || f.name === 'onoff') r.onoff = intOf(f.value, env.defines);
      if (f.name === 'l_linger' || f.name === 'linger') r.linger = intOf(f.value, env.defines);
    }
    return r;
  }
  throw new ScriptError(`unsupported SO_LINGER value (${e.type})`);
}

export interface CallOutcome {
  outcome: Outcome;
  /** Checks what came back beyond the return value (getsockopt optval, poll revents ...). */
  check?: (r: SysResult) => string | null;
}

const arg = (ev: SyscallEvent, i: number): Expr => {
  const a = ev.args[i];
  if (a === undefined) throw new ScriptError(`${ev.name}: missing argument ${i + 1}`);
  return a;
};

function valueCheck(what: string, expected: Expr, env: SyscallEnv): (r: SysResult) => string | null {
  return (r) => {
    if (expected.type === 'ellipsis' || r.ret < 0) return null;
    const exp = expected.type === 'array' && expected.elements.length === 1 ? expected.elements[0]! : expected;
    if (exp.type === 'string') {
      return String(r.value) === exp.value ? null : `Bad ${what} optval: expected: '${exp.value}' actual: '${String(r.value)}'`;
    }
    if (exp.type === 'linger' || exp.type === 'struct') {
      const want = lingerOf(exp, env);
      const got = r.value as { onoff: number; linger: number };
      return want.onoff === got.onoff && want.linger === got.linger ? null
        : `Bad ${what} optval: expected: {onoff=${want.onoff}, linger=${want.linger}} actual: {onoff=${got.onoff}, linger=${got.linger}}`;
    }
    const want = intOf(exp, env.defines);
    return want === r.value ? null : `Bad ${what} optval: expected: ${want} actual: ${String(r.value)}`;
  };
}

/** A C string literal's bytes: `\xNN`, `\n`, `\0`, `\\` escapes as the C compiler reads them. */
function unescapeBytes(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\' || i + 1 >= s.length) {
      out.push(ch.charCodeAt(0) & 0xff);
      continue;
    }
    const e = s[++i]!;
    if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1))![0];
      out.push(parseInt(m, 16));
      i += m.length;
    } else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      out.push(parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else out.push(({ n: 10, t: 9, r: 13 } as Record<string, number>)[e] ?? e.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** Start a system call. */
export function startSyscall(ev: SyscallEvent, env: SyscallEnv): CallOutcome {
  const L = env.layer;
  const D = env.defines;
  const n = (i: number): number => intOf(arg(ev, i), D);
  const optN = (i: number, dflt: number): number => (ev.args[i] === undefined || ev.args[i]!.type === 'ellipsis' ? dflt : n(i));
  if (ev.name === 'socket') {
    const dom = arg(ev, 0).type === 'ellipsis' ? (env.wildcard === '::' ? SYMBOLS.AF_INET6! : SYMBOLS.AF_INET!) : n(0);
    return { outcome: L.socket(dom, n(1), n(2)) };
  }
  if (ev.name === 'epoll_create') return { outcome: n(0) <= 0 ? fail('EINVAL') : L.epollCreate() };
  if (ev.name === 'epoll_create1') return { outcome: (n(0) & ~SYMBOLS.EPOLL_CLOEXEC!) !== 0 ? fail('EINVAL') : L.epollCreate() };
  const fd = env.fdMap.get(n(0)) ?? n(0);
  if (ev.name === 'epoll_ctl') {
    const target = env.fdMap.get(n(2)) ?? n(2);
    const e = ev.args[3];
    const { events, data } = e !== undefined && e.type === 'epollev' ? { events: intOf(e.events, D), data: intOf(e.value, D) } : { events: 0, data: 0 };
    return { outcome: L.epollCtl(fd, n(1), target, events >>> 0, data) };
  }
  if (ev.name === 'close' && L.epolls.has(fd)) return { outcome: L.closeEpoll(fd) };
  const s = L.get(fd);
  if (s === null) return { outcome: fail('EBADF') };
  // A NULL (or literal) buffer pointer: LINUX copy_from_user/copy_to_user fail with EFAULT.
  const buf = ev.args[1];
  const badBuf = buf !== undefined && (buf.type === 'int' || (buf.type === 'symbol' && buf.name === 'NULL'));
  if (badBuf && /^(read|write|send|recv|sendto|recvfrom)$/.test(ev.name)) {
    const sock = s.sock;
    if (sock !== null && /^(read|recv|recvfrom)$/.test(ev.name) && sock.readable === 0) return { outcome: s.nonblock ? fail('EAGAIN') : fail('EFAULT') };
    return { outcome: fail('EFAULT') };
  }
  switch (ev.name) {
    case 'bind': return { outcome: L.bind(s, sockaddr(ev.args[1], env, true)) };
    case 'listen': return { outcome: L.listen(s, n(1)) };
    case 'accept':
    case 'accept4': {
      const o = L.accept(s);
      if (ev.name === 'accept4' && !isBlocked(o) && o.ret >= 0 && (optN(3, 0) & SYMBOLS.SOCK_NONBLOCK!) !== 0) L.get(o.ret)!.nonblock = true;
      return { outcome: o };
    }
    case 'connect': return { outcome: L.connect(s, sockaddr(ev.args[1], env, false)) };
    case 'fcntl': {
      const cmd = n(1);
      if (cmd === SYMBOLS.F_GETFL) return { outcome: ok(SYMBOLS.O_RDWR! | (s.nonblock ? SYMBOLS.O_NONBLOCK! : 0)) };
      if (cmd === SYMBOLS.F_SETFL) {
        s.nonblock = (n(2) & SYMBOLS.O_NONBLOCK!) !== 0;
        return { outcome: ok() };
      }
      if (cmd === SYMBOLS.F_GETFD || cmd === SYMBOLS.F_SETFD) return { outcome: ok() };
      throw new ScriptError(`fcntl command ${cmd} is not supported`);
    }
    case 'setsockopt': {
      const level = n(1);
      const name = n(2);
      const v = arg(ev, 3);
      let value: number | string | { onoff: number; linger: number } | { bytes: Uint8Array; optlen: number };
      if (name === SYMBOLS.SO_LINGER && level === SYMBOLS.SOL_SOCKET) value = lingerOf(v, env);
      else if (name === SYMBOLS.TCP_FASTOPEN_KEY && v.type === 'string') value = { bytes: unescapeBytes(v.value), optlen: n(4) };
      else if (v.type === 'string') value = v.value;
      else value = intOf(v, D);
      const r = L.setsockopt(s, level, name, value);
      if (r.errno === 'ENOPROTOOPT') throw new ScriptError(`setsockopt ${symbolText(arg(ev, 2))} is not supported by synack`);
      return { outcome: r };
    }
    case 'getsockopt': {
      const level = n(1);
      const name = n(2);
      if (name === SYMBOLS.TCP_INFO && (level === SYMBOLS.SOL_TCP || level === SYMBOLS.IPPROTO_TCP)) {
        throw new ScriptError('getsockopt(TCP_INFO) with a struct is not supported (use %{ }% assertions)');
      }
      const r = L.getsockopt(s, level, name);
      if (r.errno === 'ENOPROTOOPT') throw new ScriptError(`getsockopt ${symbolText(arg(ev, 2))} is not supported by synack`);
      return { outcome: r, check: valueCheck('getsockopt', arg(ev, 3), env) };
    }
    case 'ioctl': {
      const req = n(1);
      return { outcome: L.ioctl(s, req), check: ev.args[2] === undefined ? undefined : valueCheck('ioctl', arg(ev, 2), env) };
    }
    case 'read': return { outcome: L.read(s, n(2), 0) };
    case 'recv': case 'recvfrom': return { outcome: L.read(s, n(2), optN(3, 0)) };
    case 'readv': return { outcome: L.read(s, iovLen(ev.args[1], env), 0) };
    case 'recvmsg': {
      // The error queue holds Linux-only notices (SO_ZEROCOPY completions, SO_TIMESTAMPING).
      if (optN(2, 0) & SYMBOLS.MSG_ERRQUEUE!) throw new ScriptError('recvmsg MSG_ERRQUEUE (zerocopy completion notices) is not supported by synack');
      const outcome = L.read(s, iovLen(ev.args[1], env), optN(2, 0));
      const m = ev.args[1];
      const control = m?.type === 'msghdr' ? m.control : null;
      return { outcome, check: control === null ? undefined : cmsgCheck(control, env, () => (s.inq ? L.inqHint(s) : null)) };
    }
    case 'write': return { outcome: L.write(s, n(2), 0) };
    case 'send': case 'sendto': {
      const flags = optN(3, 0);
      if (flags & SYMBOLS.MSG_FASTOPEN!) return { outcome: L.fastOpenWrite(s, fastOpenTarget(ev.args[4], env), n(2), flags) };
      return { outcome: L.write(s, n(2), flags) };
    }
    case 'writev': return { outcome: L.write(s, iovLen(ev.args[1], env), 0) };
    case 'sendmsg': {
      const flags = optN(2, 0);
      const m = ev.args[1];
      if (flags & SYMBOLS.MSG_FASTOPEN!) return { outcome: L.fastOpenWrite(s, fastOpenTarget(undefined, env), iovLen(m, env), flags) };
      return { outcome: L.write(s, iovLen(m, env), flags) };
    }
    case 'shutdown': return { outcome: L.shutdown(s, n(1)) };
    case 'close': return { outcome: L.close(s) };
    default: throw new ScriptError(`system call '${ev.name}' is not supported`);
  }
}

/**
 * recvmsg's msg_control: the control messages a read hands back. synack produces TCP_CM_INQ
 * (with TCP_INQ on); `inq` gives its value, or null when the socket would not add it.
 */
function cmsgCheck(control: Expr, env: SyscallEnv, inq: () => number | null): (r: SysResult) => string | null {
  const list = control.type === 'array' ? control.elements : [control];
  return (r) => {
    if (r.ret < 0) return null;
    for (const c of list) {
      if (c.type !== 'cmsg') throw new ScriptError(`recvmsg: unsupported msg_control element (${c.type})`);
      const level = intOf(c.level, env.defines);
      const type = intOf(c.cmsgType, env.defines);
      if ((level !== SYMBOLS.SOL_TCP && level !== SYMBOLS.IPPROTO_TCP) || type !== SYMBOLS.TCP_CM_INQ) {
        throw new ScriptError(`recvmsg: control message level ${level} type ${type} is not supported by synack`);
      }
      const got = inq();
      if (got === null) return 'recvmsg: no TCP_CM_INQ control message (TCP_INQ is off)';
      if (c.data.type === 'ellipsis') continue;
      const want = intOf(c.data, env.defines);
      if (want !== got) return `Bad recvmsg TCP_CM_INQ cmsg_data: expected: ${want} actual: ${got}`;
    }
    return null;
  };
}

/** poll(fds, nfds, timeout): immediate or blocking until ready or timeout (the caller's clock). */
export function startPoll(ev: SyscallEvent, env: SyscallEnv, now: () => number): CallOutcome {
  const list = arg(ev, 0);
  if (list.type !== 'array') throw new ScriptError('poll: expected an array of pollfds');
  const pfds = list.elements.map((e) => {
    if (e.type !== 'pollfd') throw new ScriptError('poll: expected {fd=..., events=...}');
    const sfd = intOf(e.fd, env.defines);
    return { fd: env.fdMap.get(sfd) ?? sfd, events: intOf(e.events, env.defines), revents: e.revents === null ? null : intOf(e.revents, env.defines) };
  });
  const timeoutMs = intOf(arg(ev, 2), env.defines);
  const start = now();
  const scan = (): number[] =>
    pfds.map((p) => {
      const s = env.layer.get(p.fd);
      return s === null ? SYMBOLS.POLLNVAL! : env.layer.revents(s, p.events);
    });
  const attempt = (): SysResult | null => {
    const r = scan();
    const ready = r.filter((x) => x !== 0).length;
    if (ready > 0 || timeoutMs === 0 || (timeoutMs > 0 && now() >= start + timeoutMs * 1000)) return ok(ready, r);
    return null;
  };
  const first = attempt();
  const outcome: Outcome = first ?? { poll: attempt, deadline: timeoutMs > 0 ? start + timeoutMs * 1000 : undefined };
  return {
    outcome,
    check: (r) => {
      const got = r.value as number[];
      for (let i = 0; i < pfds.length; i++) {
        const want = pfds[i]!.revents;
        if (want !== null && got[i] !== want) return `poll: fd ${pfds[i]!.fd} revents: expected: 0x${want.toString(16)} vs actual: 0x${(got[i] ?? 0).toString(16)}`;
      }
      return null;
    },
  };
}

/** epoll_wait(epfd, events, maxevents, timeout): the ready (events, data) pairs, checked against the script's. */
export function startEpollWait(ev: SyscallEvent, env: SyscallEnv, now: () => number): CallOutcome {
  const epfd = intOf(arg(ev, 0), env.defines);
  const want = arg(ev, 1);
  const expected = (want.type === 'array' ? want.elements : [want]).filter((e) => e.type === 'epollev');
  const outcome = env.layer.epollWait(env.fdMap.get(epfd) ?? epfd, intOf(arg(ev, 2), env.defines), intOf(arg(ev, 3), env.defines), now);
  return {
    outcome,
    check: (r) => {
      const got = (r.value ?? []) as { events: number; data: number }[];
      for (let i = 0; i < got.length && i < expected.length; i++) {
        const e = expected[i]!;
        if (e.type !== 'epollev') continue;
        const wantEvents = intOf(e.events, env.defines) >>> 0;
        if (got[i]!.events >>> 0 !== wantEvents) return `epoll_wait: event ${i} events: expected: 0x${wantEvents.toString(16)} vs actual: 0x${(got[i]!.events >>> 0).toString(16)}`;
        const wantData = intOf(e.value, env.defines);
        if (got[i]!.data !== wantData) return `epoll_wait: event ${i} ${e.field}: expected: ${wantData} vs actual: ${got[i]!.data}`;
      }
      return null;
    },
  };
}

/**
 * The calls packetdrill checks with CHECK_FD: any fd will do, and the script's number becomes a
 * name for the live one (run_system_call.c: socket, accept, epoll_create, open).
 */
export function returnsFd(name: string): boolean {
  return name === 'socket' || name === 'accept' || name === 'accept4' || name === 'epoll_create' || name === 'epoll_create1';
}

/** packetdrill's end_syscall checks: return value, then errno. */
export function checkResult(ev: SyscallEvent, r: SysResult, defines: Record<string, string>): string | null {
  if (ev.result.type === 'ellipsis') return null;
  const expected = intOf(ev.result, defines);
  const errText = r.errno !== undefined ? describeErrno(r.errno) : '0 (Success)';
  const fdCall = returnsFd(ev.name);
  if (fdCall && expected >= 0) {
    if (r.ret < 0) return `Expected non-negative result but got ${r.ret} with errno ${errText}`;
  } else if (r.ret !== expected) {
    return r.ret < 0 ? `Expected result ${expected} but got ${r.ret} with errno ${errText}` : `Expected result ${expected} but got ${r.ret}`;
  }
  if (ev.errno !== null) {
    const want = errnoNumber(ev.errno.name);
    if (want < 0) throw new ScriptError(`unknown errno '${ev.errno.name}'`);
    const got = r.errno !== undefined ? errnoNumber(r.errno) : 0;
    if (want !== got) return `Expected errno ${describeErrno(ev.errno.name)} but got ${r.errno !== undefined ? describeErrno(r.errno) : '0 (Success)'}`;
  }
  return null;
}

export { fail, ok };
