/**
 * The addresses of the socket calls, by Linux's rules: where a connect goes, which local address
 * a bind names, the zone of a scoped link-local address, and source address selection.
 */
import type { Interface } from '../ip/iface.js';
import type { IpLayer } from '../ip/layer.js';
import { isLinkLocal6, isMulticast, isReserved4, unmapV4 } from '../ip/martians.js';
import { addrVersion, canonicalAddr } from '../wire/addr.js';
import { StackError } from './errors.js';

/**
 * Where a connect goes, by Linux's rules: an IPv4-mapped IPv6 address is its IPv4 address
 * (tcp_v6_connect → tcp_v4_connect); the unspecified address means this host's loopback
 * (ip_route_output_key_hash_rcu: daddr 0 → 127.0.0.1; tcp_v6_connect: :: → ::1);
 * broadcast and multicast are refused with ENETUNREACH (tcp_v4_connect's RTCF_BROADCAST |
 * RTCF_MULTICAST check, RFC 1122 §4.2.3.10); an unreachable route fails with EHOSTUNREACH.
 */
export function connectTarget(ip: IpLayer, text: unknown): string {
  // A client connects to the same address again and again: the last answer holds while the
  // routes and local addresses it was checked against have not changed.
  const m = lastTarget;
  if (text === m.text && ip === m.ip && ip.routes.generation === m.routeGen && ip.addrGeneration === m.addrGen) return m.result;
  const result = checkConnectTarget(ip, text);
  m.text = text as string;
  m.ip = ip;
  m.routeGen = ip.routes.generation;
  m.addrGen = ip.addrGeneration;
  m.result = result;
  return result;
}

const lastTarget: { text: string; ip: IpLayer | null; routeGen: number; addrGen: number; result: string } = { text: '', ip: null, routeGen: -1, addrGen: -1, result: '' };

function checkConnectTarget(ip: IpLayer, text: unknown): string {
  const raw = typeof text === 'string' ? text.replace(/%.*$/, '') : '';
  let a = canonicalAddr(raw);
  if (a === null) throw new TypeError(`remoteAddress: '${String(text)}' is not an IP address`);
  a = unmapV4(a) ?? a;
  if (a === '0.0.0.0') return '127.0.0.1';
  if (a === '::') return '::1';
  if (isMulticast(a) || ip.isBroadcast(a) || isReserved4(a)) {
    throw new StackError('ENETUNREACH', `connect to ${a}: a broadcast or multicast address is not a TCP peer (RFC 1122 §4.2.3.10)`);
  }
  if (ip.path(a)?.route.kind === 'unreachable') throw new StackError('EHOSTUNREACH', `connect to ${a}: no route to host`);
  return a;
}

export function localAddress(ip: IpLayer, host: string, a: string, what: string, allowAny: boolean): string {
  // A scope ('fe80::1%eth0') names the interface; the address alone is unique here.
  const raw = canonicalAddr(typeof a === 'string' ? a.replace(/%.*$/, '') : '');
  if (raw === null) throw new TypeError(`${what}: '${a}' is not an IP address`);
  const c = unmapV4(raw) ?? raw;
  if (allowAny && (c === '0.0.0.0' || c === '::')) return c;
  if (!ip.isLocal(c)) throw new StackError('EADDRNOTAVAIL', `${what} ${c} is not an address of host ${host}`);
  return c;
}

/**
 * The interface a scoped link-local destination names ('fe80::2%eth1', RFC 4007 §11);
 * undefined for other addresses. An unknown zone is EINVAL, as Linux's connect says.
 */
export function zoneOf(ip: IpLayer, text: unknown, remote: string): Interface | undefined {
  if (typeof text !== 'string' || !text.includes('%') || !isLinkLocal6(remote)) return undefined;
  const name = text.slice(text.indexOf('%') + 1);
  const iface = ip.iface(name) ?? ip.interfaces.find((i) => String(i.index) === name);
  if (iface === undefined) throw new StackError('EINVAL', `remoteAddress: no interface '${name}' for the zone of ${remote}`);
  return iface;
}

/** Source address selection (RFC 6724 §5, simplified): the address of the route's interface. */
export function sourceFor(ip: IpLayer, host: string, remote: string, zone?: Interface): string {
  const p = ip.path(remote, zone);
  if (p !== null) return p.src;
  const v = addrVersion(remote);
  const has = ip.interfaces.some((i) => !i.loopback && i.primary(v === 4 ? 4 : 6) !== null);
  if (!has) throw new StackError('EADDRNOTAVAIL', `host ${host} has no IPv${v} address to reach ${remote}`);
  throw new StackError('ENETUNREACH', `host ${host} has no route to ${remote}`);
}

/** 'ADDR' → 'ADDR' (a bare address), checked; 'ADDR/LEN' as given. Throws naming `what`. */
export function prefixed(a: string, what: string): string {
  if (typeof a !== 'string' || (!a.includes('/') && canonicalAddr(a.replace(/%.*$/, '')) === null)) {
    throw new TypeError(`${what}: '${String(a)}' is not an IP address`);
  }
  return a;
}
