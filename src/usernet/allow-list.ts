/**
 * The destinations a relay may open sockets to (`synack relay --allow …`): the browser front end
 * runs the guest's stack in a page, and a Node relay opens the real sockets for it, so the relay
 * must refuse anything not listed, or any web page could reach the relay host's network.
 *
 *   10.1.2.3                    one host, every port, TCP and UDP
 *   192.168.0.0/16:443          a network, one port
 *   tcp:0.0.0.0/0:80-443        TCP anywhere (IPv4), a port range
 *   udp:[2001:db8::/32]:53      IPv6 in brackets
 *
 * An empty list allows nothing.
 */
import { canonicalAddr, parseAddr } from '../wire/addr.js';

export interface AllowRule {
  protocol: 'tcp' | 'udp' | 'any';
  /** Network address bytes (4 or 16) and prefix length. */
  network: Uint8Array;
  prefixLength: number;
  portLow: number;
  portHigh: number;
  /** The rule as written, for messages. */
  text: string;
}

/** Parse one rule; throws an error naming the rule and what is wrong with it. */
export function parseAllowRule(text: string): AllowRule {
  if (typeof text !== 'string') throw new TypeError('--allow must be a string like 10.0.0.0/8:443');
  const m = /^(?:(tcp|udp):)?(?:\[([^\]]+)\]|([^:/\[\]]+(?:\/\d{1,3})?))(?::(\d{1,5})(?:-(\d{1,5}))?)?$/.exec(text);
  if (m === null) throw new TypeError(`--allow ${JSON.stringify(text)}: expected [tcp:|udp:]ADDR[/LEN][:PORT[-PORT]] (IPv6 in brackets)`);
  const cidr = m[2] ?? m[3]!;
  const slash = cidr.indexOf('/');
  const addrText = slash < 0 ? cidr : cidr.slice(0, slash);
  const network = parseAddr(addrText);
  if (network === null || (m[2] === undefined && network.length === 16)) throw new TypeError(`--allow ${JSON.stringify(text)}: ${JSON.stringify(addrText)} is not an IP address (IPv6 goes in brackets)`);
  const max = network.length * 8;
  const prefixLength = slash < 0 ? max : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(prefixLength) || prefixLength > max) throw new RangeError(`--allow ${JSON.stringify(text)}: prefix length must be 0..${max}`);
  const portLow = m[4] === undefined ? 1 : Number(m[4]);
  const portHigh = m[5] !== undefined ? Number(m[5]) : m[4] !== undefined ? portLow : 65535;
  if (!(portLow >= 1 && portHigh <= 65535 && portLow <= portHigh)) throw new RangeError(`--allow ${JSON.stringify(text)}: ports must be 1..65535, low before high`);
  return { protocol: (m[1] as 'tcp' | 'udp' | undefined) ?? 'any', network: maskTo(network, prefixLength), prefixLength, portLow, portHigh, text };
}

function maskTo(b: Uint8Array, len: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = out[i]! & ((0xff00 >> keep) & 0xff);
  }
  return out;
}

export class AllowList {
  readonly rules: readonly AllowRule[];

  constructor(rules: readonly string[]) {
    if (!Array.isArray(rules)) throw new TypeError('AllowList: rules must be an array of strings');
    this.rules = rules.map(parseAllowRule);
  }

  /** The first rule allowing `protocol` to `addr`:`port`, or null (refuse). */
  match(protocol: 'tcp' | 'udp', addr: string, port: number): AllowRule | null {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps, as Node reports it.
    const text = typeof addr === 'string' && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(addr) ? addr.slice(7) : addr;
    const c = typeof text === 'string' ? canonicalAddr(text) : null;
    if (c === null || !Number.isInteger(port) || port < 0 || port > 65535) return null;
    const b = parseAddr(c)!;
    for (const r of this.rules) {
      if (r.protocol !== 'any' && r.protocol !== protocol) continue;
      if (r.network.length !== b.length || port < r.portLow || port > r.portHigh) continue;
      const masked = maskTo(b, r.prefixLength);
      if (masked.every((v, i) => v === r.network[i])) return r;
    }
    return null;
  }
}
