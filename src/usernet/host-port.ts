/**
 * HOST[:PORT] arguments of the usernet commands and options (`--dns`, `--listen`): an IP address
 * (IPv6 in brackets when a port follows), with a default port.
 */
import { parseAddr } from '../wire/addr.js';

/** 'host', 'host:port', '[v6]:port', 'v6' → [host, port] (port ≥ minPort); throws naming the argument. */
export function parseHostPort(s: string, defaultPort: number, what: string, minPort = 1): [string, number] {
  if (typeof s !== 'string' || s === '') throw new TypeError(`${what} must be HOST[:PORT], got ${JSON.stringify(s)}`);
  let host = s;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket !== null) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (s.indexOf(':') === s.lastIndexOf(':') && s.includes(':')) {
    host = s.slice(0, s.indexOf(':'));
    port = Number(s.slice(s.indexOf(':') + 1));
  }
  if (parseAddr(host) === null) throw new TypeError(`${what}: ${JSON.stringify(host)} is not an IP address`);
  if (!Number.isInteger(port) || port < minPort || port > 65535) throw new RangeError(`${what}: port must be ${minPort}..65535, got ${JSON.stringify(s)}`);
  return [host, port];
}
