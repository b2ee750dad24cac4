/**
 * Inbound port forwarding specifications (`--forward`), as user-mode networking front ends take
 * them (slirp4netns' hostfwd, pasta's -t/-u): a host socket listens and each connection or flow
 * is relayed to a port of the guest.
 *
 *   tcp:8080:80                 host 127.0.0.1:8080 → guest port 80
 *   udp:5353:53                 the same for UDP
 *   tcp:0.0.0.0:8080:80         on every IPv4 address of the host (told so explicitly)
 *   tcp:[::1]:8080:80           an IPv6 bind address, in brackets
 *   tcp:9000-9009:9000-9009     a range (same length both sides)
 *
 * The host side binds 127.0.0.1 unless an address is given, so a forward never opens a port to
 * the network by accident.
 */
import { canonicalAddr } from '../wire/addr.js';

export interface PortForward {
  protocol: 'tcp' | 'udp';
  /** Host address the listening socket binds. */
  bindAddr: string;
  hostPort: number;
  guestPort: number;
  /** Ports in the range (1 for a single port); host and guest ports advance together. */
  count: number;
}

export const DEFAULT_FORWARD_BIND = '127.0.0.1';

function range(s: string, spec: string, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(lo >= 1 && hi <= 65535 && lo <= hi)) throw new RangeError(`--forward ${JSON.stringify(spec)}: ${what} must be a port 1..65535 or a range LOW-HIGH, got ${JSON.stringify(s)}`);
  return [lo, hi - lo + 1];
}

/** Parse one `--forward` value; throws an error naming the value and what is wrong with it. */
export function parseForward(spec: string): PortForward {
  if (typeof spec !== 'string') throw new TypeError('--forward must be a string like tcp:8080:80');
  const m = /^(tcp|udp):(?:(\[[^\]]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?([\d-]+):([\d-]+)$/.exec(spec);
  if (m === null) throw new TypeError(`--forward ${JSON.stringify(spec)}: expected tcp|udp:[BIND_ADDR:]HOSTPORT:GUESTPORT`);
  let bindAddr = DEFAULT_FORWARD_BIND;
  if (m[2] !== undefined) {
    const raw = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
    const c = canonicalAddr(raw);
    if (c === null || (m[2].startsWith('[') && !c.includes(':'))) throw new TypeError(`--forward ${JSON.stringify(spec)}: ${JSON.stringify(raw)} is not an IP address`);
    bindAddr = c;
  }
  const [hostPort, hostCount] = range(m[3]!, spec, 'HOSTPORT');
  const [guestPort, guestCount] = range(m[4]!, spec, 'GUESTPORT');
  if (hostCount !== guestCount) throw new RangeError(`--forward ${JSON.stringify(spec)}: the host range has ${hostCount} ports and the guest range ${guestCount}`);
  return { protocol: m[1] as 'tcp' | 'udp', bindAddr, hostPort, guestPort, count: hostCount };
}

/**
 * Parse every `--forward` value and refuse two that would listen on the same protocol, address
 * and port (a wildcard bind address overlaps every address of its family).
 */
export function parseForwards(specs: readonly string[]): PortForward[] {
  const out = specs.map(parseForward);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = out[i]!;
      const b = out[j]!;
      if (a.protocol !== b.protocol || !sameOrWildcard(a.bindAddr, b.bindAddr)) continue;
      if (a.hostPort < b.hostPort + b.count && b.hostPort < a.hostPort + a.count) {
        throw new RangeError(`--forward ${JSON.stringify(specs[i])} overlaps ${JSON.stringify(specs[j])} (${a.protocol} ${a.bindAddr} port ${Math.max(a.hostPort, b.hostPort)})`);
      }
    }
  }
  return out;
}

function sameOrWildcard(a: string, b: string): boolean {
  if (a === b) return true;
  const v6 = (x: string): boolean => x.includes(':');
  if (v6(a) !== v6(b)) return false;
  return a === '0.0.0.0' || b === '0.0.0.0' || a === '::' || b === '::';
}

/** The guest port a connection to host port `hostPort` of forward `f` goes to. */
export function guestPortFor(f: PortForward, hostPort: number): number | null {
  const i = hostPort - f.hostPort;
  return i >= 0 && i < f.count ? f.guestPort + i : null;
}
