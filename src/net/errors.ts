/**
 * The one place where the stack's error values become Node-style errors (DESIGN.md principle 12):
 * an `Error` with `code`, `errno` (negative, as libuv reports it; Linux numbers so runs are the
 * same on every platform), `syscall`, and for connect/listen `address`/`port`, with Node's
 * messages: `connect ECONNREFUSED 10.0.0.2:80`, `read ECONNRESET`, `listen EADDRINUSE: address
 * already in use 0.0.0.0:80`.
 */

/** Linux errno values (libuv reports them negated). */
const ERRNO: Record<string, number> = {
  EPERM: 1,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  EPIPE: 32,
  EINVAL: 22,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
};

/** What Node's `util.getSystemErrorMessage` says for each code (for the few messages that carry it). */
const DESCRIPTION: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EINVAL: 'invalid argument',
};

export type Syscall = 'connect' | 'read' | 'write' | 'listen' | 'shutdown' | 'getaddrinfo';

export interface NetError extends Error {
  code: string;
  errno: number;
  syscall: Syscall;
  address?: string;
  port?: number;
  hostname?: string;
}

/**
 * A Node-style system error. Messages follow libuv's `uvExceptionWithHostPort`:
 * `${syscall} ${code} ${address}:${port}`; listen errors carry the description too, as Node's do.
 */
export function netError(code: string, syscall: Syscall, address?: string, port?: number, detail?: string): NetError {
  let msg = `${syscall} ${code}`;
  if (syscall === 'listen' && DESCRIPTION[code] !== undefined) msg += `: ${DESCRIPTION[code]}`;
  // Node prints IPv6 addresses without brackets too: 'connect ECONNREFUSED ::1:3000'.
  if (address !== undefined) msg += port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
  if (detail !== undefined) msg += ` (${detail})`;
  const err = new Error(msg) as NetError;
  err.errno = -(ERRNO[code] ?? 0);
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined && port > 0) err.port = port;
  return err;
}

/** `getaddrinfo ENOTFOUND name`: synack resolves IP literals only. */
export function lookupError(hostname: string): NetError {
  const err = new Error(
    `getaddrinfo ENOTFOUND ${hostname} (synack has no resolver: pass an IP address literal such as '10.0.0.2')`,
  ) as NetError;
  err.errno = -3008;
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}

/** A Node `ERR_*` error (a bad argument or a bad call, not a system error). */
export function codeError<E extends Error>(ctor: new (msg: string) => E, code: string, message: string): E & { code: string } {
  const err = new ctor(message) as E & { code: string };
  err.code = code;
  return err;
}

/** The errno code carried by an error thrown from src/stack or src/tcp (StackError, TcpUsageError). */
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
