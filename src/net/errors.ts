/**
 * Where the stack's error values become Node-style errors (DESIGN.md principle 12): a NetError
 * (src/errors.ts) with `code`, `errno` (negative, as libuv reports it; Linux numbers from the one
 * errno table so runs are the same on every platform), `syscall`, and for connect/listen
 * `address`/`port`, with Node's messages: `connect ECONNREFUSED 10.0.0.2:80`, `read ECONNRESET`,
 * `listen EADDRINUSE: address already in use 0.0.0.0:80`.
 */
import { ERRNO, errnoOf, isErrnoCode, NetError, nodeError, UV_EAI_NONAME, type Syscall } from '../errors.js';

export { NetError, type Syscall };
export { codeOf, detailOf } from '../errors.js';

/**
 * A Node-style system error. Messages follow libuv's `uvExceptionWithHostPort`:
 * `${syscall} ${code} ${address}:${port}`; listen errors carry the description too, as Node's do.
 */
export function netError(code: string, syscall: Syscall, address?: string, port?: number, detail?: string): NetError {
  let msg = `${syscall} ${code}`;
  const uv = isErrnoCode(code) ? (ERRNO[code] as { uv?: string }).uv : undefined;
  if (syscall === 'listen' && uv !== undefined) msg += `: ${uv}`;
  // Node prints IPv6 addresses without brackets too: 'connect ECONNREFUSED ::1:3000'.
  if (address !== undefined) msg += port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
  if (detail !== undefined) msg += ` (${detail})`;
  const err = new NetError(code, -Math.max(0, errnoOf(code)), syscall, msg);
  if (address !== undefined) err.address = address;
  if (port !== undefined && port > 0) err.port = port;
  return err;
}

/** `getaddrinfo ENOTFOUND name`: synack resolves IP literals only. */
export function lookupError(hostname: string): NetError {
  const err = new NetError(
    'ENOTFOUND',
    UV_EAI_NONAME,
    'getaddrinfo',
    `getaddrinfo ENOTFOUND ${hostname} (synack has no resolver: pass an IP address literal such as '10.0.0.2')`,
  );
  err.hostname = hostname;
  return err;
}

/** A Node `ERR_*` error (a bad argument or a bad call, not a system error): `nodeError` of src/errors.ts. */
export const codeError = nodeError;
