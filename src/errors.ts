/**
 * Every error synack throws, and the one errno table (DESIGN.md principle 12; undici's
 * lib/core/errors.js is the model: one base class, a stable `code` on each).
 *
 * - `SynackError`: the base. `code` is stable and documented: an errno name (`EADDRINUSE`) for a
 *   system-call-like failure, or an `ERR_…` name for a bad call or bad input.
 * - Subclasses say which layer failed: `StackError` (the stack's user API), `TcpUsageError`
 *   (a TCP user call not allowed in the connection's state), `NetError` (a Node-style system
 *   error from src/net), `UsageError` (bad command-line usage), `CaptureFormatError` (a pcap that
 *   cannot be read), `TunUnavailableError`, `PacketdrillSyntaxError` and `ScriptError`
 *   (packetdrill).
 * - Errors of a connection's life are values in the core (a reason on the close event) and
 *   become `NetError`s in src/net/errors.ts. Bad input from the wire is counted, never thrown.
 * - Node's own `ERR_*` argument errors stay `TypeError`/`RangeError` instances with a `code`
 *   (`nodeError`), because Node code checks them with `instanceof TypeError`.
 */

/**
 * The errno table: Linux x86-64 numbers (libuv reports them negated; the same numbers on every
 * platform keep runs identical), strerror(3) texts, and libuv's uv_strerror text where Node's
 * messages use it (`listen EADDRINUSE: address already in use`).
 */
export const ERRNO = {
  EPERM: { errno: 1, message: 'Operation not permitted' },
  ENOENT: { errno: 2, message: 'No such file or directory' },
  EINTR: { errno: 4, message: 'Interrupted system call' },
  EIO: { errno: 5, message: 'Input/output error' },
  EBADF: { errno: 9, message: 'Bad file descriptor' },
  EAGAIN: { errno: 11, message: 'Resource temporarily unavailable' },
  EWOULDBLOCK: { errno: 11, message: 'Resource temporarily unavailable' },
  ENOMEM: { errno: 12, message: 'Cannot allocate memory' },
  EACCES: { errno: 13, message: 'Permission denied' },
  EFAULT: { errno: 14, message: 'Bad address' },
  EINVAL: { errno: 22, message: 'Invalid argument', uv: 'invalid argument' },
  EMFILE: { errno: 24, message: 'Too many open files' },
  ENOTTY: { errno: 25, message: 'Inappropriate ioctl for device' },
  ENOSPC: { errno: 28, message: 'No space left on device' },
  EPIPE: { errno: 32, message: 'Broken pipe', uv: 'broken pipe' },
  ENONET: { errno: 64, message: 'Machine is not on the network' },
  EPROTO: { errno: 71, message: 'Protocol error' },
  ENOTSOCK: { errno: 88, message: 'Socket operation on non-socket' },
  EDESTADDRREQ: { errno: 89, message: 'Destination address required' },
  EMSGSIZE: { errno: 90, message: 'Message too long', uv: 'message too long' },
  EPROTOTYPE: { errno: 91, message: 'Protocol wrong type for socket' },
  ENOPROTOOPT: { errno: 92, message: 'Protocol not available' },
  EPROTONOSUPPORT: { errno: 93, message: 'Protocol not supported' },
  ESOCKTNOSUPPORT: { errno: 94, message: 'Socket type not supported' },
  EOPNOTSUPP: { errno: 95, message: 'Operation not supported' },
  ENOTSUP: { errno: 95, message: 'Operation not supported' },
  EAFNOSUPPORT: { errno: 97, message: 'Address family not supported by protocol' },
  EADDRINUSE: { errno: 98, message: 'Address already in use', uv: 'address already in use' },
  EADDRNOTAVAIL: { errno: 99, message: 'Cannot assign requested address', uv: 'address not available' },
  ENETDOWN: { errno: 100, message: 'Network is down' },
  ENETUNREACH: { errno: 101, message: 'Network is unreachable', uv: 'network is unreachable' },
  ECONNABORTED: { errno: 103, message: 'Software caused connection abort' },
  ECONNRESET: { errno: 104, message: 'Connection reset by peer' },
  ENOBUFS: { errno: 105, message: 'No buffer space available' },
  EISCONN: { errno: 106, message: 'Transport endpoint is already connected' },
  ENOTCONN: { errno: 107, message: 'Transport endpoint is not connected' },
  ESHUTDOWN: { errno: 108, message: 'Cannot send after transport endpoint shutdown' },
  ETIMEDOUT: { errno: 110, message: 'Connection timed out' },
  ECONNREFUSED: { errno: 111, message: 'Connection refused' },
  EHOSTDOWN: { errno: 112, message: 'Host is down' },
  EHOSTUNREACH: { errno: 113, message: 'No route to host', uv: 'host is unreachable' },
  EALREADY: { errno: 114, message: 'Operation already in progress' },
  EINPROGRESS: { errno: 115, message: 'Operation now in progress' },
} as const satisfies Record<string, { errno: number; message: string; uv?: string }>;

/** An errno name of the table. */
export type ErrnoCode = keyof typeof ERRNO;

/**
 * Node's own codes for bad arguments and bad calls that synack's Node-compatible surfaces
 * (net, and dgram next) raise, each as Node raises it. A new one is added here.
 */
export const NODE_ERROR_CODES = [
  'ABORT_ERR',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_IP_ADDRESS',
  'ERR_MISSING_ARGS',
  'ERR_OUT_OF_RANGE',
  'ERR_SERVER_ALREADY_LISTEN',
  'ERR_SERVER_NOT_RUNNING',
  'ERR_SOCKET_BAD_PORT',
  'ERR_SOCKET_CLOSED',
  'ERR_SOCKET_CONNECTING',
  'ERR_STREAM_DESTROYED',
  // node:dgram
  'ERR_BUFFER_OUT_OF_BOUNDS',
  'ERR_SOCKET_ALREADY_BOUND',
  'ERR_SOCKET_BAD_BUFFER_SIZE',
  'ERR_SOCKET_BUFFER_SIZE',
  'ERR_SOCKET_BAD_TYPE',
  'ERR_SOCKET_DGRAM_IS_CONNECTED',
  'ERR_SOCKET_DGRAM_NOT_CONNECTED',
  'ERR_SOCKET_DGRAM_NOT_RUNNING',
] as const;
/** One of Node's `ERR_*` codes synack's errors may carry. */
export type NodeErrorCode = (typeof NODE_ERROR_CODES)[number];

/** getaddrinfo's EAI_NONAME as libuv reports it (not an errno: it has no Linux number). */
export const UV_EAI_NONAME = -3008;

/** True for a name of the errno table. */
export function isErrnoCode(code: unknown): code is ErrnoCode {
  return typeof code === 'string' && Object.hasOwn(ERRNO, code);
}

/** The Linux errno number of `code`, or -1 when the table does not know it. */
export function errnoOf(code: string): number {
  return isErrnoCode(code) ? ERRNO[code].errno : -1;
}

/** The errno name of a number (the first name wins: EAGAIN over EWOULDBLOCK), or null. */
export function errnoName(n: number): ErrnoCode | null {
  for (const [k, v] of Object.entries(ERRNO)) if (v.errno === n) return k as ErrnoCode;
  return null;
}

/** The base of every error synack throws: a message and a stable `code`. */
export class SynackError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The stack's user API refused a call (bind conflicts, bad state); `code` is the errno. */
export class StackError extends SynackError {
  declare readonly code: ErrnoCode;
  constructor(code: ErrnoCode, message: string) {
    super(code, `${code}: ${message}`);
  }
}

/** A TCP user call that is not allowed now; `code` is the errno the socket layer reports. */
export class TcpUsageError extends SynackError {
  constructor(code: string, message: string) {
    super(code, `${code}: ${message}`);
  }
}

/** The system calls a NetError can name (Node's `err.syscall`). */
export type Syscall =
  | 'connect' | 'read' | 'write' | 'listen' | 'shutdown' | 'getaddrinfo' | 'bind' | 'send' | 'recvmsg'
  // node:dgram's option calls and address queries (src/dgram/)
  | 'getsockname' | 'getpeername' | 'setBroadcast' | 'setTTL';

/**
 * A Node-style system error from src/net: `code`, `errno` (negative, as libuv reports it),
 * `syscall`, and `address`/`port`/`hostname` when known. Built by src/net/errors.ts.
 */
export class NetError extends SynackError {
  errno: number;
  syscall: Syscall;
  address?: string;
  port?: number;
  hostname?: string;
  constructor(code: string, errno: number, syscall: Syscall, message: string) {
    super(code, message);
    this.name = 'Error'; // Node's system errors print as `Error: connect ECONNREFUSED …`
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Bad command-line usage: the CLI prints the message and the command's help, exit status 2. */
export class UsageError extends SynackError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** A capture file that is not a pcap/pcapng synack can read. */
export class CaptureFormatError extends SynackError {
  constructor(message: string) {
    super('ERR_CAPTURE_FORMAT', message);
  }
}

/** No TUN device can be used here; `reason` says why (no /dev/net/tun, no permission, no addon). */
export class TunUnavailableError extends SynackError {
  constructor(
    readonly reason: string,
    code = 'ETUNUNAVAILABLE',
  ) {
    super(code, `TUN unavailable: ${reason}`);
  }
}

/** A packetdrill script that does not parse: `file:line:col: reason`. */
export class PacketdrillSyntaxError extends SynackError {
  /** The message without the `file:line:col: ` prefix. */
  readonly reason: string;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    reason: string,
  ) {
    super('ERR_PACKETDRILL_SYNTAX', `${file}:${line}:${column}: ${reason}`);
    this.reason = reason;
  }
}

/** A packetdrill script asked for something the runner cannot do (a bad syscall argument). */
export class ScriptError extends SynackError {
  constructor(message: string) {
    super('ERR_PACKETDRILL_SCRIPT', message);
  }
}

/**
 * A Node `ERR_*` error for a bad argument or a bad call: an instance of `ctor` (TypeError,
 * RangeError, Error) with `code`, as Node's own are, so `instanceof TypeError` checks still hold.
 */
export function nodeError<E extends Error>(ctor: new (msg: string) => E, code: NodeErrorCode | ErrnoCode, message: string): E & { code: string } {
  const err = new ctor(message) as E & { code: string };
  err.code = code;
  return err;
}

/** The `code` carried by an error (StackError, TcpUsageError, NetError…), or null. */
export function codeOf(e: unknown): string | null {
  if (e !== null && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') return (e as { code: string }).code;
  return null;
}

/** The message of a stack error without its `CODE: ` prefix. */
export function detailOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const i = m.indexOf(': ');
  return i >= 0 && /^E[A-Z]+$/.test(m.slice(0, i)) ? m.slice(i + 2) : m;
}
