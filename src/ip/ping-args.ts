/** The arguments of `stack.ping()`, checked and given their ping(8) defaults. */
import { canonicalAddr } from '../wire/addr.js';

/** `stack.ping(dst, opts)`: data size (ping -s, default 56), id, seq, timeout in µs (default 1 s), TTL. */
export interface PingOptions {
  size?: number;
  id?: number;
  seq?: number;
  timeout?: number;
  ttl?: number;
}

/** The checked arguments: throws TypeError/RangeError naming the bad one. `nextId` supplies a default id. */
export function pingArgs(dst: unknown, opts: PingOptions, nextId: () => number): { dst: string; size: number; id: number; seq: number; timeout: number; ttl?: number } {
  const d = canonicalAddr(typeof dst === 'string' ? dst.replace(/%.*$/, '') : '');
  if (d === null) throw new TypeError(`dst: '${String(dst)}' is not an IP address`);
  const size = opts.size ?? 56;
  if (!Number.isInteger(size) || size < 0 || size > 65507) throw new RangeError(`size must be an integer 0..65507, got ${String(opts.size)}`);
  const id = opts.id ?? nextId();
  const seq = opts.seq ?? 1;
  for (const [k, v] of [['id', id], ['seq', seq]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${k} must be an integer 0..65535, got ${String(v)}`);
  }
  const timeout = opts.timeout ?? 1_000_000;
  if (!(timeout > 0)) throw new RangeError(`timeout must be > 0 µs, got ${String(opts.timeout)}`);
  return { dst: d, size, id, seq, timeout, ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}) };
}
