/**
 * Address classes the IP layer must refuse or treat specially (RFC 1122 §3.2.1.3, RFC 4291
 * §2.4-2.7, RFC 6890). Pure functions on canonical address text.
 */

/** 0.0.0.0/8 ("this network", RFC 1122 §3.2.1.3 (a)/(b)): never a destination, 0.0.0.0 only as a source while booting. */
export function isThisNetwork4(a: string): boolean {
  return a.startsWith('0.');
}

/** 127.0.0.0/8 (RFC 1122 §3.2.1.3 (g)): must not appear outside a host. */
export function isLoopback(a: string): boolean {
  return a.startsWith('127.') || a === '::1';
}

/** Class D 224.0.0.0/4 (RFC 1112) or IPv6 ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(a: string): boolean {
  const c0 = a.charCodeAt(0);
  if (c0 === 102 /* f */) return a.charCodeAt(1) === 102 && a.includes(':');
  if (c0 !== 50 /* 2 */ || a.charCodeAt(3) !== 46 /* . */) return false;
  const first = (a.charCodeAt(1) - 48) * 10 + (a.charCodeAt(2) - 48) + 200;
  return first >= 224 && first <= 239;
}

/** 240.0.0.0/4 (reserved, RFC 1112 §4) including the limited broadcast 255.255.255.255. */
export function isReserved4(a: string): boolean {
  if (a.includes(':')) return false;
  return Number(a.slice(0, a.indexOf('.'))) >= 240;
}

export function isUnspecified(a: string): boolean {
  return a === '0.0.0.0' || a === '::';
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2): the IPv4 address inside, else null. */
export function unmapV4(a: string): string | null {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return m === null ? null : m[1]!;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal6(a: string): boolean {
  if (a.charCodeAt(0) !== 102 /* f */ || a.charCodeAt(1) !== 101 /* e */) return false;
  const c = a.charCodeAt(2);
  return c === 56 || c === 57 || c === 97 || c === 98; /* 8 9 a b */
}
