/**
 * The assembled user-mode network (what slirp4netns, passt and gvisor-tap-vsock are): one synack
 * stack behind a guest-facing Ethernet frame link (a TAP device in a namespace, QEMU's stream
 * socket, a VM in a page), with
 *
 *   - the guest interface in any-IP mode (Interface.anyIp): TCP and UDP to every address end here;
 *   - DHCP (10.0.2.15…) and router advertisements (fd00::/64, RDNSS) answered before the stack;
 *   - ICMP echo answered for the gateway and DNS addresses by the stack's ICMP engine (echo to
 *     other addresses is dropped and counted: this host has no unprivileged ping sockets);
 *   - the DNS forwarder on 10.0.2.3 / fd00::3 port 53, UDP and TCP;
 *   - every other TCP connection relayed through a host socket (tcp-relay.ts: the SYN is answered
 *     only once the host connect succeeds), every other UDP flow through the NAT (udp-relay.ts);
 *   - inbound port forwards from host listeners into the guest (inbound.ts).
 *
 *   guest ⇄ frames ⇄ EthernetInterface ⇄ (DHCP, RA taps) ⇄ Stack (anyIp) ⇄ relays ⇄ host sockets
 */
import { NodeDriver } from '../driver/node-driver.js';
import { EthernetInterface } from '../link/ethernet.js';
import type { Link } from '../link/link.js';
import { Rng } from '../rng.js';
import type { Stack } from '../stack/stack.js';
import type { TcpForwardCounters } from '../stack/forwarder.js';
import { createNet } from '../net/index.js';
import { createDgram } from '../dgram/index.js';
import type { DriverTimer } from '../driver/node.js';
import { DhcpServer, type DhcpServerCounters } from './dhcp-server.js';
import { DnsForwarder, type DnsForwarderCounters } from './dns-forwarder.js';
import { parseForwards, type PortForward } from './forward-spec.js';
import { GuestNet } from './guest-net.js';
import { RouterAdvertiser, type RouterAdvertiserCounters } from './router-advert.js';
import { TcpRelay, type HostConnect, type TcpFlowView, type TcpRelayCounters } from './tcp-relay.js';
import { UdpRelay, type UdpFlowView, type UdpRelayCounters } from './udp-relay.js';
import type { UdpNatCounters } from './udp-nat.js';
import { Inbound, type InboundCounters } from './inbound.js';
import { formatMac } from '../wire/ethernet.js';
import type { EthernetCounters } from '../link/ethernet.js';
import type { TunStats } from '../link/tun.js';

export interface UserNetOptions {
  /** The guest-facing link: it carries Ethernet II frames (a TAP device, QemuStreamLink, …). */
  link: Link;
  /** IPv4 subnet. Default 10.0.2.0/24 (gateway .2, DNS .3, DHCP pool from .15). */
  net?: string;
  /** IPv6 /64 for SLAAC, or null for no IPv6. Default fd00::/64. */
  net6?: string | null;
  /** Guest MTU (DHCP option 26, RA MTU). Default: the link's MTU, at most 65520. */
  mtu?: number;
  /** The gateway addresses reach the host's 127.0.0.1 / ::1. Default true; false refuses them. */
  hostLoopback?: boolean;
  /** Upstream DNS 'HOST[:PORT]' for the forwarder; default: the host's resolver (node:dns). */
  dns?: string;
  /** Inbound port forwards: `--forward` texts or parsed specs. */
  forwards?: readonly (string | PortForward)[];
  /** synack's MAC on the guest link. Default 52:55:0a:00:02:02 (slirp's style, from the gateway). */
  mac?: string;
  /** Seed for ISNs, ports and timers' jitter. Default: the clock. */
  seed?: number;
  /** Most relayed TCP connections (plus pending ones) and most UDP flows. Default 4096 each. */
  maxFlows?: number;
  /** How long a host connect may take before the guest gets ICMP host unreachable, ms. Default 20000. */
  connectTimeoutMs?: number;
  /** The real-time driver to run on (default: a new NodeDriver). */
  driver?: NodeDriver;
  /** Host-side TCP connect (default node:net); tests inject their own. */
  connect?: HostConnect;
  /** The guest link's device counters, for stats() (a TAP's I/O and offload counters). */
  linkStats?: () => TunStats;
}

/** Everything the instance counted (netstat's usernet section). */
export interface UserNetStats {
  /** The guest link's device (TSO packets written, GSO packets read …), when it has counters. */
  link: TunStats | null;
  ethernet: EthernetCounters;
  dhcp: DhcpServerCounters;
  ra: RouterAdvertiserCounters | null;
  dns: DnsForwarderCounters;
  tcp: TcpRelayCounters & { readBuffers: number; forwarder: TcpForwardCounters | null };
  udp: UdpRelayCounters & { nat: UdpNatCounters };
  inbound: InboundCounters;
  /** ICMP echo requests to addresses other than ours: dropped (no ping sockets here). */
  icmpEchoDropped: number;
  /** Other datagrams to foreign addresses that are neither TCP, UDP nor ICMP errors (nothing routes them on). */
  otherDropped: number;
}

export type UserNetFlow = TcpFlowView | UdpFlowView;

export interface UserNet {
  readonly stack: Stack;
  readonly driver: NodeDriver;
  readonly eth: EthernetInterface;
  readonly guestNet: GuestNet;
  /** Host ports the forwards listen on (as bound: port 0 becomes the chosen one). */
  readonly forwards: { protocol: 'tcp' | 'udp'; bindAddr: string; hostPort: number; guestPort: number }[];
  stats(): UserNetStats;
  /** The relayed TCP connections and UDP flows now. */
  flows(): UserNetFlow[];
  /** The guest's IPv4 address: its DHCP lease, else the first pool address (what --configure sets). */
  guestAddress(): string;
  /** Stop: reset relayed connections, close host sockets, listeners and the driver. Idempotent. */
  close(): void;
}

/** Build and start a user-mode network on `opts.link`. Resolves once the inbound forwards listen. */
export async function createUserNet(opts: UserNetOptions): Promise<UserNet> {
  if (opts === null || typeof opts !== 'object' || opts.link === undefined) throw new TypeError('createUserNet: options.link (an Ethernet frame link) is required');
  const frameLink = opts.link;
  const mtu = opts.mtu ?? Math.min(frameLink.mtu, 65520);
  const g = new GuestNet({ net: opts.net, net6: opts.net6, mtu, hostLoopback: opts.hostLoopback });
  const forwardSpecs = parseForwards((opts.forwards ?? []).map((f) => (typeof f === 'string' ? f : `${f.protocol}:${f.bindAddr.includes(':') ? `[${f.bindAddr}]` : f.bindAddr}:${f.hostPort}${f.count > 1 ? `-${f.hostPort + f.count - 1}` : ''}:${f.guestPort}${f.count > 1 ? `-${f.guestPort + f.count - 1}` : ''}`)));
  const seed = opts.seed ?? Date.now() >>> 0;
  const driver = opts.driver ?? new NodeDriver();
  const plen = g.prefixLength;
  const v6 = g.net6 !== null;
  const addrs = [`${g.gateway}/${plen}`, `${g.dns}/${plen}`, ...(v6 ? [`${g.gateway6}/64`, `${g.dns6}/64`, `${g.routerLinkLocal}/64`] : [])];
  const mac = opts.mac ?? '52:55:0a:00:02:02';
  // The RA comes from fe80::2 (GuestNet.routerLinkLocal), not the MAC's EUI-64 address.
  const eth = new EthernetInterface(frameLink, { mac, addresses: addrs, linkLocal: false, timers: driver, rng: new Rng(seed ^ 0xe7) });
  const stack = driver.createStack({ name: 'usernet', addresses: addrs, seed, tcp: { sendBuffer: 4 << 20 } });
  const kick = (): void => driver.kick();
  const timers: DriverTimer[] = [];
  const dhcp = new DhcpServer(g.dhcpOptions());
  const raOpts = g.raOptions();
  const ra = raOpts === null ? null : new RouterAdvertiser({ ...raOpts, lladdr: eth.mac, rng: new Rng(seed ^ 0x2a) }, driver.now());
  let icmpEchoDropped = 0;
  let otherDropped = 0;

  const gatewayBytes = Uint8Array.from(g.gateway.split('.').map(Number));
  // DHCP and RS are taken off the link before IP: a DISCOVER comes from 0.0.0.0 (a martian to IP).
  let toStack: ((pkt: Uint8Array) => void) | null = null;
  const ipLink: Link = {
    mtu: eth.link.mtu,
    checksumOffload: eth.link.checksumOffload,
    // TSO toward the guest: a TAP with offloads takes 64 KiB TCP packets and the guest's kernel
    // cuts nothing (it receives them as GRO would have merged them).
    gsoMaxSize: eth.link.gsoMaxSize,
    allocFrame: eth.link.allocFrame,
    send: (p, nextHop, confirm) => eth.link.send(p, nextHop, confirm),
    onReceive: (cb) => {
      toStack = cb;
    },
  };
  eth.link.onReceive((pkt) => {
    if (isDhcpToServer(pkt, gatewayBytes)) return answerDhcp(pkt);
    if (ra !== null && ra.onPacket(pkt, driver.now())) return armRa();
    toStack?.(pkt);
  });
  driver.attach(stack, ipLink);
  // RFC 2131 §4.1: replies to 255.255.255.255 leave by the guest link's broadcast.
  stack.addRoute('255.255.255.255/32');
  stack.primary.anyIp = true;

  const answerDhcp = (pkt: Uint8Array): void => {
    const ihl = (pkt[0]! & 0xf) * 4;
    const total = (pkt[2]! << 8) | pkt[3]!;
    const r = dhcp.handle(pkt.subarray(ihl + 8, Math.min(total, pkt.length)), driver.now());
    if (r === null) return;
    // A unicast to a client without an address yet: it cannot answer ARP, so its MAC is given.
    if (r.dstMac !== null) eth.addNeighbor(r.dst, formatMac(r.dstMac));
    stack.udp.sendFrom(g.gateway, 67, r.dst, r.dstPort, r.payload);
    kick();
  };
  let raTimer: DriverTimer | null = null;
  const armRa = (): void => {
    if (ra === null) return;
    if (raTimer !== null && raTimer.pending) raTimer.cancel();
    raTimer = driver.setTimer(ra.nextDeadline(), () => {
      for (const p of ra.poll(driver.now())) eth.link.send(p, 'ff02::1');
      armRa();
    });
  };
  armRa();

  // What any-IP leaves to a router: ICMP echo to foreign addresses, which cannot be relayed
  // here (no ping sockets), and other protocols. Nothing is routed on from the guest link.
  stack.ip.forwardHook = (ip, frame) => {
    const type = frame[ip.headerLength];
    if ((ip.protocol === 1 && type === 8) || (ip.protocol === 58 && type === 128)) icmpEchoDropped++;
    else otherDropped++;
    return true;
  };

  const hostFor = (dst: string): string | null => g.hostAddressFor(dst);
  const tcp = new TcpRelay({ stack, timers: driver, kick, hostFor, connect: opts.connect, maxFlows: opts.maxFlows, connectTimeoutMs: opts.connectTimeoutMs });
  tcp.install();
  const udp = new UdpRelay({ stack, timers: driver, kick, hostFor, maxFlows: opts.maxFlows });
  udp.install();

  // DNS on the DNS addresses, UDP and TCP, through synack's own dgram and net APIs.
  const dns = new DnsForwarder(opts.dns === undefined ? {} : { upstream: opts.dns });
  const sNet = createNet(stack, driver);
  const sDgram = createDgram(stack, driver);
  const dnsSockets: { close(): unknown }[] = [];
  for (const addr of [g.dns, ...(v6 ? [g.dns6!] : [])]) {
    const u = sDgram.createSocket(addr.includes(':') ? 'udp6' : 'udp4');
    u.bind(53, addr);
    dns.serveUdp(u as never);
    dnsSockets.push(u);
    const srv = sNet.createServer({ allowHalfOpen: false }, (c) => dns.serveTcp(c as never));
    srv.listen(53, addr);
    dnsSockets.push(srv);
  }

  let closed = false;
  const guestAddress = (): string => dhcp.leases(driver.now()).find((l) => l.state === 'bound')?.addr ?? g.poolStart;
  const inbound = new Inbound({ stack, driver, kick, guestAddress });
  try {
    await inbound.listen(forwardSpecs);
  } catch (e) {
    inbound.close();
    tcp.close();
    udp.close();
    dns.close();
    driver.close();
    throw e;
  }
  void timers;
  return {
    stack,
    driver,
    eth,
    guestNet: g,
    forwards: inbound.bound,
    guestAddress,
    stats: () => ({
      link: opts.linkStats?.() ?? null,
      ethernet: { ...eth.counters },
      dhcp: dhcp.counters,
      ra: ra?.counters ?? null,
      dns: dns.counters,
      tcp: { ...tcp.counters, readBuffers: tcp.readBuffers, forwarder: stack.forwarder?.counters ?? null },
      udp: { ...udp.counters, nat: udp.nat.counters },
      inbound: inbound.counters,
      icmpEchoDropped,
      otherDropped,
    }),
    flows: () => [...tcp.flows(), ...udp.flows()],
    close(): void {
      if (closed) return;
      closed = true;
      if (raTimer !== null) raTimer.cancel();
      inbound.close();
      tcp.close();
      udp.close();
      dns.close();
      for (const s of dnsSockets) s.close();
      eth.close();
      driver.close();
    },
  };
}

/**
 * An IPv4 UDP datagram to port 67 of the limited broadcast or the server's address (a DHCP
 * client's message, RFC 2131 §4.1); port 67 of any other address is relayed like any UDP.
 */
function isDhcpToServer(pkt: Uint8Array, server: Uint8Array): boolean {
  if (pkt.length < 28 || pkt[0]! >> 4 !== 4 || pkt[9] !== 17) return false;
  const bcast = pkt[16] === 255 && pkt[17] === 255 && pkt[18] === 255 && pkt[19] === 255;
  if (!bcast && !(pkt[16] === server[0] && pkt[17] === server[1] && pkt[18] === server[2] && pkt[19] === server[3])) return false;
  const ihl = (pkt[0]! & 0xf) * 4;
  if (pkt.length < ihl + 8) return false;
  // Not a later fragment (its bytes at ihl are not a UDP header).
  if ((((pkt[6]! & 0x1f) << 8) | pkt[7]!) !== 0) return false;
  return ((pkt[ihl + 2]! << 8) | pkt[ihl + 3]!) === 67;
}
