/**
 * A sans-I/O DHCPv4 server (RFC 2131, options RFC 2132) for the guest network of user-mode
 * networking: one subnet, one pool, leases on virtual time. `handle(payload, now)` takes the UDP
 * payload of a datagram that arrived on port 67 and returns the reply to send (with where to send
 * it, RFC 2131 §4.1) or null. The caller owns the sockets, the clock and the link.
 *
 * The server is authoritative for its subnet (as ISC dhcpd's `authoritative;` and dnsmasq's
 * --dhcp-authoritative are): on a user-mode link it is the only server there is, so a client that
 * asks for an address the server has no record of gets it when it is free and a NAK when not,
 * instead of the silence RFC 2131 §4.3.2 asks of a server that shares the wire with others.
 */
import { formatAddr, parseAddr } from '../wire/addr.js';
import {
  BootpOp,
  DHCP_CLIENT_PORT,
  DHCP_FLAG_BROADCAST,
  DHCP_SERVER_PORT,
  DhcpOpt,
  DhcpType,
  dhcpClientHw,
  dhcpMessageType,
  dhcpTextOption,
  emitDhcp,
  newDhcpMessage,
  parseDhcp,
  textBytes,
  u16Bytes,
  u32Bytes,
  type DhcpDropReason,
  type DhcpMessage,
} from '../wire/dhcp.js';
import { sec, type Duration, type Instant } from '../time.js';

export interface DhcpServerOptions {
  /** The server's own address (option 54), e.g. '10.0.2.2'. */
  serverAddr: string;
  /** Prefix length of the guest subnet (option 1), 1..30. */
  prefixLength: number;
  /** First address of the pool, e.g. '10.0.2.15' (slirp's first guest address). */
  poolStart: string;
  /** Addresses in the pool; also the bound of the lease table. Default 16 (slirp's NB_BOOTP_CLIENTS). */
  poolSize?: number;
  /** Default router (option 3); defaults to serverAddr; null sends none. */
  router?: string | null;
  /** DNS servers (option 6); default none. */
  dns?: readonly string[];
  /** Interface MTU (option 26); omitted when undefined. */
  mtu?: number;
  /** Domain name (option 15); omitted when undefined. */
  domainName?: string;
  /** Boot file name (option 67, RFC 2132 §9.5), e.g. an iPXE script URL for a netbooting guest. */
  bootFile?: string;
  /** Lease time (option 51). Default 24 h (slirp's LEASE_TIME). */
  leaseTime?: Duration;
  /** How long an offered address stays reserved for the client it was offered to. Default 60 s. */
  offerHold?: Duration;
  /** How long an address a client DECLINEd (RFC 2131 §4.3.3) stays out of the pool. Default 10 min. */
  declineHold?: Duration;
}

/** Where a reply goes (RFC 2131 §4.1). */
export interface DhcpReply {
  /** UDP payload. */
  payload: Uint8Array;
  message: DhcpMessage;
  /** Destination IPv4 address and UDP port. */
  dst: string;
  dstPort: number;
  /**
   * Link-layer destination: null to broadcast (ff:ff:ff:ff:ff:ff), else the client's hardware
   * address, for a unicast reply to a client that has no address yet (which cannot answer ARP).
   */
  dstMac: Uint8Array | null;
}

export interface DhcpLease {
  /** Client identifier (option 61, hex) or hardware address: the key of the table (RFC 2131 §4.2). */
  client: string;
  addr: string;
  chaddr: string;
  hostname: string | null;
  state: 'offered' | 'bound';
  expires: Instant;
}

interface Lease {
  client: string;
  addr: number;
  chaddr: string;
  hostname: string | null;
  state: 'offered' | 'bound';
  expires: Instant;
}

/** Why the server dropped a message: the codec's reasons (DhcpDropReason) or the server's own. */
export type DhcpServerDrop =
  | DhcpDropReason
  | 'dhcp-not-a-request'
  | 'dhcp-server-message'
  | 'dhcp-other-server'
  | 'dhcp-pool-exhausted'
  | 'dhcp-release-unknown'
  | 'dhcp-no-requested-address';

export interface DhcpServerCounters {
  /** Messages received, by type name (DISCOVER, REQUEST …). */
  received: Record<string, number>;
  /** Replies sent, by type name (OFFER, ACK, NAK). */
  sent: Record<string, number>;
  /** Messages dropped, by reason. */
  dropped: Partial<Record<DhcpServerDrop, number>>;
  declines: number;
  releases: number;
  /** Leases whose address went back to the pool because it expired and another client needed it. */
  reclaimed: number;
}

function u32(s: string, what: string): number {
  const b = parseAddr(s);
  if (b === null || b.length !== 4) throw new TypeError(`DhcpServer: ${what} must be an IPv4 address, got ${JSON.stringify(s)}`);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function addrText(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

function addrOf(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export class DhcpServer {
  readonly serverAddr: number;
  readonly mask: number;
  readonly poolStart: number;
  readonly poolSize: number;
  readonly leaseTime: Duration;
  readonly offerHold: Duration;
  readonly declineHold: Duration;
  readonly counters: DhcpServerCounters = { received: {}, sent: {}, dropped: {}, declines: 0, releases: 0, reclaimed: 0 };
  /** Options every OFFER/ACK carries besides 51/53/54/58/59 (RFC 2132 codes → values). */
  private readonly config = new Map<number, Uint8Array>();
  private readonly byClient = new Map<string, Lease>();
  private readonly byAddr = new Map<number, Lease>();
  /** Declined address → when it may be offered again. At most poolSize entries. */
  private readonly declined = new Map<number, Instant>();

  constructor(opts: DhcpServerOptions) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('DhcpServer: opts must be an object');
    this.serverAddr = u32(opts.serverAddr, 'serverAddr');
    const plen = opts.prefixLength;
    if (!Number.isInteger(plen) || plen < 1 || plen > 30) throw new RangeError(`DhcpServer: prefixLength must be an integer 1..30, got ${plen}`);
    this.mask = (0xffffffff << (32 - plen)) >>> 0;
    this.poolStart = u32(opts.poolStart, 'poolStart');
    this.poolSize = opts.poolSize ?? 16;
    if (!Number.isInteger(this.poolSize) || this.poolSize < 1) throw new RangeError(`DhcpServer: poolSize must be a positive integer, got ${this.poolSize}`);
    const net = this.serverAddr & this.mask;
    const bcast = (net | ~this.mask) >>> 0;
    const last = this.poolStart + this.poolSize - 1;
    // The pool lies inside the subnet, after its network address and before its broadcast address.
    if ((this.poolStart & this.mask) >>> 0 !== net || last >= bcast || this.poolStart <= net) {
      throw new RangeError(`DhcpServer: poolStart ${opts.poolStart} + poolSize ${this.poolSize} does not fit in ${addrText(net)}/${plen}`);
    }
    if (this.serverAddr >= this.poolStart && this.serverAddr <= last) throw new RangeError(`DhcpServer: serverAddr ${opts.serverAddr} is inside the pool`);
    this.leaseTime = positive(opts.leaseTime ?? sec(86400), 'leaseTime');
    this.offerHold = positive(opts.offerHold ?? sec(60), 'offerHold');
    this.declineHold = positive(opts.declineHold ?? sec(600), 'declineHold');
    this.config.set(DhcpOpt.SUBNET_MASK, u32Bytes(this.mask));
    const router = opts.router === undefined ? opts.serverAddr : opts.router;
    if (router !== null) this.config.set(DhcpOpt.ROUTER, u32Bytes(u32(router, 'router')));
    const dns = opts.dns ?? [];
    if (!Array.isArray(dns)) throw new TypeError('DhcpServer: dns must be an array of IPv4 addresses');
    if (dns.length > 0) {
      const v = new Uint8Array(4 * dns.length);
      dns.forEach((d, i) => v.set(u32Bytes(u32(d, 'dns')), 4 * i));
      this.config.set(DhcpOpt.DNS, v);
    }
    if (opts.mtu !== undefined) {
      // RFC 2132 §5.1: the minimum legal value for the MTU is 68.
      if (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 65535) throw new RangeError(`DhcpServer: mtu must be an integer 68..65535, got ${opts.mtu}`);
      this.config.set(DhcpOpt.MTU, u16Bytes(opts.mtu));
    }
    if (opts.domainName !== undefined) {
      if (typeof opts.domainName !== 'string' || opts.domainName.length === 0 || opts.domainName.length > 255) throw new RangeError('DhcpServer: domainName must be 1..255 characters');
      this.config.set(DhcpOpt.DOMAIN_NAME, textBytes(opts.domainName));
    }
    if (opts.bootFile !== undefined) {
      if (typeof opts.bootFile !== 'string' || opts.bootFile.length === 0 || opts.bootFile.length > 255) throw new RangeError('DhcpServer: bootFile must be 1..255 characters');
      this.config.set(DhcpOpt.BOOTFILE, textBytes(opts.bootFile));
    }
  }

  /**
   * The leases held at `now` (offered and bound), by address. Expired and released bindings stay
   * in the table, invisible here, so a returning client gets its previous address back (RFC 2131
   * §4.3.1) until another client needs it.
   */
  leases(now: Instant): DhcpLease[] {
    return [...this.byAddr.values()]
      .filter((l) => l.expires > now)
      .sort((a, b) => a.addr - b.addr)
      .map((l) => ({ client: l.client, addr: addrText(l.addr), chaddr: l.chaddr, hostname: l.hostname, state: l.state, expires: l.expires }));
  }

  /**
   * Handle the UDP payload of a datagram that arrived on port 67 at time `now`. Returns the
   * reply to send, or null (no reply is due, or the message was dropped and counted).
   */
  handle(payload: Uint8Array, now: Instant): DhcpReply | null {
    if (!(payload instanceof Uint8Array)) throw new TypeError('DhcpServer.handle: payload must be a Uint8Array');
    if (typeof now !== 'number' || Number.isNaN(now)) throw new TypeError('DhcpServer.handle: now must be a number (microseconds)');
    const m = parseDhcp(payload);
    if (typeof m === 'string') return this.drop(m);
    // RFC 2131 §4.1: a server only handles BOOTREQUESTs; replies from other servers are not ours.
    if (m.op !== BootpOp.REQUEST) return this.drop('dhcp-server-message');
    const type = dhcpMessageType(m);
    const name = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'][type]!;
    this.counters.received[name] = (this.counters.received[name] ?? 0) + 1;
    switch (type) {
      case DhcpType.DISCOVER:
        return this.discover(m, now);
      case DhcpType.REQUEST:
        return this.request(m, now);
      case DhcpType.DECLINE:
        return this.decline(m, now);
      case DhcpType.RELEASE:
        return this.release(m, now);
      case DhcpType.INFORM:
        return this.reply(m, DhcpType.ACK, 0, now);
      default:
        return this.drop('dhcp-not-a-request');
    }
  }

  private drop(why: DhcpServerDrop): null {
    this.counters.dropped[why] = (this.counters.dropped[why] ?? 0) + 1;
    return null;
  }

  /** RFC 2131 §4.2: the client identifier when present, else the hardware address. */
  private clientKey(m: DhcpMessage): string {
    const id = m.options.get(DhcpOpt.CLIENT_ID);
    return id !== undefined ? `id:${hex(id)}` : `hw:${m.htype}:${dhcpClientHw(m)}`;
  }

  private inPool(a: number): boolean {
    return a >= this.poolStart && a < this.poolStart + this.poolSize;
  }

  /** Free for `client` at `now`: in the pool, not declined recently, and unleased or leased to it or expired. */
  private available(a: number, client: string, now: Instant): boolean {
    if (!this.inPool(a)) return false;
    const until = this.declined.get(a);
    if (until !== undefined) {
      if (now < until) return false;
      this.declined.delete(a);
    }
    const l = this.byAddr.get(a);
    return l === undefined || l.client === client || l.expires <= now;
  }

  /**
   * RFC 2131 §4.3.1: choose an address for a client: its current or previous binding, else the
   * address it asked for, else the first free one (an expired lease's address last).
   */
  private choose(m: DhcpMessage, client: string, now: Instant): number | null {
    const mine = this.byClient.get(client);
    if (mine !== undefined && this.available(mine.addr, client, now)) return mine.addr;
    const asked = m.options.get(DhcpOpt.REQUESTED_ADDR);
    if (asked !== undefined && this.available(addrOf(asked), client, now)) return addrOf(asked);
    let expired: number | null = null;
    for (let i = 0; i < this.poolSize; i++) {
      const a = this.poolStart + i;
      if (!this.available(a, client, now)) continue;
      if (!this.byAddr.has(a)) return a;
      expired ??= a;
    }
    return expired;
  }

  /** Record `client` holding `a` until `expires`, dropping any other lease either had. */
  private bind(m: DhcpMessage, client: string, a: number, state: Lease['state'], expires: Instant): void {
    const old = this.byClient.get(client);
    if (old !== undefined && old.addr !== a && this.byAddr.get(old.addr) === old) this.byAddr.delete(old.addr);
    const other = this.byAddr.get(a);
    if (other !== undefined && other.client !== client) {
      this.byClient.delete(other.client);
      this.counters.reclaimed++;
    }
    const lease: Lease = { client, addr: a, chaddr: dhcpClientHw(m), hostname: dhcpTextOption(m, DhcpOpt.HOSTNAME), state, expires };
    this.byClient.set(client, lease);
    this.byAddr.set(a, lease);
  }

  private discover(m: DhcpMessage, now: Instant): DhcpReply | null {
    const client = this.clientKey(m);
    const a = this.choose(m, client, now);
    if (a === null) return this.drop('dhcp-pool-exhausted');
    // A bound client that rediscovers keeps its binding's expiry; otherwise the offer is held briefly.
    const mine = this.byClient.get(client);
    const keep = mine !== undefined && mine.addr === a && mine.state === 'bound' && mine.expires > now;
    if (!keep) this.bind(m, client, a, 'offered', now + this.offerHold);
    return this.reply(m, DhcpType.OFFER, a, now);
  }

  /** RFC 2131 §4.3.2: the three kinds of REQUEST told apart by server id, requested address, ciaddr. */
  private request(m: DhcpMessage, now: Instant): DhcpReply | null {
    const client = this.clientKey(m);
    const serverId = m.options.get(DhcpOpt.SERVER_ID);
    const asked = m.options.get(DhcpOpt.REQUESTED_ADDR);
    const ciaddr = addrOf(m.ciaddr);
    if (serverId !== undefined) {
      // SELECTING: the client answers one server's offer, by broadcast, so every server sees it.
      if (addrOf(serverId) !== this.serverAddr) {
        // RFC 2131 §4.3.2: another server was chosen; our offer is withdrawn.
        const mine = this.byClient.get(client);
        if (mine !== undefined && mine.state === 'offered') this.unbind(mine);
        return this.drop('dhcp-other-server');
      }
      if (asked === undefined) return this.drop('dhcp-no-requested-address');
      return this.commit(m, client, addrOf(asked), now);
    }
    if (asked !== undefined) {
      // INIT-REBOOT: a client that remembers an address asks to keep it; NAK when it is not on
      // this network or not available to it.
      return this.commit(m, client, addrOf(asked), now);
    }
    if (ciaddr === 0) return this.drop('dhcp-no-requested-address');
    // RENEWING (unicast) or REBINDING (broadcast): extend the binding of ciaddr.
    return this.commit(m, client, ciaddr, now);
  }

  /** ACK `a` to the client when it may have it, else NAK (RFC 2131 §4.3.2). */
  private commit(m: DhcpMessage, client: string, a: number, now: Instant): DhcpReply | null {
    if (!this.available(a, client, now)) return this.reply(m, DhcpType.NAK, 0, now);
    this.bind(m, client, a, 'bound', now + this.leaseTime);
    return this.reply(m, DhcpType.ACK, a, now);
  }

  private unbind(l: Lease): void {
    this.byClient.delete(l.client);
    if (this.byAddr.get(l.addr) === l) this.byAddr.delete(l.addr);
  }

  /** RFC 2131 §4.3.3: the client found the address in use; keep it out of the pool for a while. */
  private decline(m: DhcpMessage, now: Instant): null {
    const serverId = m.options.get(DhcpOpt.SERVER_ID);
    if (serverId === undefined || addrOf(serverId) !== this.serverAddr) return this.drop('dhcp-other-server');
    const asked = m.options.get(DhcpOpt.REQUESTED_ADDR);
    if (asked === undefined) return this.drop('dhcp-no-requested-address');
    const a = addrOf(asked);
    const l = this.byAddr.get(a);
    if (l !== undefined) this.unbind(l);
    if (this.inPool(a)) this.declined.set(a, now + this.declineHold);
    this.counters.declines++;
    return null;
  }

  /**
   * RFC 2131 §4.3.4: the client gives its address back (ciaddr); no reply. The binding is kept,
   * expired, as the client's previous one (§4.3.1 prefers it when the client returns).
   */
  private release(m: DhcpMessage, now: Instant): null {
    const serverId = m.options.get(DhcpOpt.SERVER_ID);
    if (serverId !== undefined && addrOf(serverId) !== this.serverAddr) return this.drop('dhcp-other-server');
    const l = this.byClient.get(this.clientKey(m));
    if (l === undefined || l.addr !== addrOf(m.ciaddr) || l.expires <= now) return this.drop('dhcp-release-unknown');
    l.expires = now;
    this.counters.releases++;
    return null;
  }

  /** Build an OFFER, ACK or NAK for `m` (RFC 2131 §4.3.1 Table 3) and choose its destination. */
  private reply(m: DhcpMessage, type: number, yiaddr: number, now: Instant): DhcpReply {
    const r = newDhcpMessage();
    r.op = BootpOp.REPLY;
    r.htype = m.htype;
    r.hlen = m.hlen;
    r.xid = m.xid;
    r.flags = m.flags;
    r.giaddr.set(m.giaddr);
    r.chaddr.set(m.chaddr);
    const inform = dhcpMessageType(m) === DhcpType.INFORM;
    // RFC 2131 Table 3: ciaddr is copied into an ACK to INFORM (and harmless elsewhere: zero or
    // the renewing client's own address); yiaddr is zero for NAK and INFORM.
    if (type !== DhcpType.NAK) r.ciaddr.set(m.ciaddr);
    r.yiaddr.set(u32Bytes(yiaddr));
    r.options.set(DhcpOpt.MESSAGE_TYPE, new Uint8Array([type]));
    r.options.set(DhcpOpt.SERVER_ID, u32Bytes(this.serverAddr));
    if (type !== DhcpType.NAK) {
      if (!inform) {
        // An OFFER states the lease a REQUEST would get; an ACK the binding's remaining time.
        const lease = this.byAddr.get(yiaddr);
        const expires = lease !== undefined && lease.state === 'bound' ? lease.expires : now + this.leaseTime;
        const secs = Math.max(1, Math.floor((expires - now) / 1e6));
        r.options.set(DhcpOpt.LEASE_TIME, u32Bytes(secs));
        // RFC 2131 §4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease.
        r.options.set(DhcpOpt.RENEWAL_TIME, u32Bytes(Math.floor(secs / 2)));
        r.options.set(DhcpOpt.REBINDING_TIME, u32Bytes(Math.floor((secs * 7) / 8)));
      }
      for (const [code, v] of this.config) r.options.set(code, v);
    } else {
      r.options.set(DhcpOpt.MESSAGE, textBytes('address not available'));
    }
    // RFC 6842 §3: the server returns the client identifier the client sent.
    const id = m.options.get(DhcpOpt.CLIENT_ID);
    if (id !== undefined) r.options.set(DhcpOpt.CLIENT_ID, id);
    const name = type === DhcpType.OFFER ? 'OFFER' : type === DhcpType.ACK ? 'ACK' : 'NAK';
    this.counters.sent[name] = (this.counters.sent[name] ?? 0) + 1;
    return { payload: emitDhcp(r), message: r, ...destination(m, type, yiaddr) };
  }
}

/** RFC 2131 §4.1, the paragraph on where a server sends its replies. */
function destination(m: DhcpMessage, type: number, yiaddr: number): Pick<DhcpReply, 'dst' | 'dstPort' | 'dstMac'> {
  if (addrOf(m.giaddr) !== 0) {
    // Through a relay agent: to its server port.
    return { dst: formatAddr(m.giaddr, 0, 4), dstPort: DHCP_SERVER_PORT, dstMac: null };
  }
  // "In all cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages."
  if (type === DhcpType.NAK) return { dst: '255.255.255.255', dstPort: DHCP_CLIENT_PORT, dstMac: null };
  // A client with an address (renewing, INFORM) gets a unicast to it.
  if (addrOf(m.ciaddr) !== 0) return { dst: formatAddr(m.ciaddr, 0, 4), dstPort: DHCP_CLIENT_PORT, dstMac: null };
  // A client that cannot receive unicast before it is configured sets the broadcast bit.
  if ((m.flags & DHCP_FLAG_BROADCAST) !== 0 || m.hlen === 0 || yiaddr === 0) return { dst: '255.255.255.255', dstPort: DHCP_CLIENT_PORT, dstMac: null };
  // Otherwise unicast to the client's hardware address and yiaddr (it cannot answer ARP yet).
  return { dst: addrText(yiaddr), dstPort: DHCP_CLIENT_PORT, dstMac: m.chaddr.slice(0, m.hlen) };
}

function positive(d: Duration, what: string): Duration {
  if (typeof d !== 'number' || !(d > 0) || !Number.isFinite(d)) throw new RangeError(`DhcpServer: ${what} must be a positive number of microseconds, got ${d}`);
  return d;
}
