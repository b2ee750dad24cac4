import type { Interface } from '../ip/iface.js';
import { IpLayer } from '../ip/layer.js';
import type { PingResult } from '../ip/icmp.js';
import type { Link } from '../link/link.js';
import { Rng } from '../rng.js';
import { Connection, type Mib } from '../tcp/connection.js';
import { DEFAULT_CONFIG, makeConfig, type TcpConfig } from '../tcp/config.js';
import type { ConnEvent } from '../tcp/events.js';
import type { TcpStateName } from '../tcp/state.js';
import { NEVER, type Instant, type TimerClient } from '../time.js';
import { addrVersion, canonicalAddr } from '../wire/addr.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ip.js';
import { UdpLayer } from '../udp/layer.js';
import { newTcpRepr, type TcpRepr } from '../wire/tcp-repr.js';
import { DROP_PREFIX, newMib } from './counters.js';
import { StackError } from './errors.js';
import { IsnGenerator } from './isn.js';
import { ConnTable } from './conn-table.js';
import { Listener, ListenerTable } from './listener.js';
import { activeFastOpen, FastOpenContext, TFO } from '../tcp/fastopen.js';
import { endpoint, Ports } from './ports.js';
import { TcpSocket } from './socket.js';
import { TcpGlue } from './tcp-glue.js';
import { TcpForwarder, type TcpForwardHandler } from './forwarder.js';
import type { ConnRow, Snapshot } from './views.js';
import type { IpDropReason, UdpLayerDropReason } from '../mib.js';
import type { DropReason } from '../wire/ip.js';
import { checkPort } from './ports.js';
import { tcpRows } from './views.js';
import { pingArgs, type PingOptions } from '../ip/ping-args.js';
import { connectTarget, localAddress, prefixed, sourceFor, zoneOf } from './addressing.js';
import { SlotList } from '../util/slot-list.js';
import { TimerQueue } from './timer-queue.js';

/** What a Stack is built from: its addresses, clock, name, seed and TCP defaults. */
export interface StackOptions {
  /** Host name for events and netstat. */
  name?: string;
  /**
   * The addresses of the host's first interface (IPv4 and/or IPv6), 'ADDR' or 'ADDR/LEN'. An
   * address given without a length makes that interface the way to every destination of its
   * family (an on-link default route, as for a point-to-point link), unless `gateway` is set.
   */
  addresses: string[];
  /** Default gateway(s) through the first interface (one per family). */
  gateway?: string | string[];
  /** Name of the first interface. Default 'eth0'. */
  ifname?: string;
  /** The driver's clock (virtual in the simulator, real in the Node driver). */
  clock: () => Instant;
  /** Seed for the ISN secret, ephemeral ports and timestamp offsets. */
  seed?: number;
  /** Defaults for every connection (the stack's sysctls). */
  tcp?: Partial<TcpConfig>;
  /** net.core.somaxconn: cap on listen backlogs. LINUX: 4096. */
  somaxconn?: number;
  /** net.ipv4.tcp_syncookies: 0 off, 1 when the SYN queue overflows (LINUX default), 2 always. */
  syncookies?: 0 | 1 | 2;
  /** net.ipv4.ip_local_port_range. LINUX: 32768–60999. */
  ephemeralPorts?: [number, number];
}

/** What a stack tells observers (demo, viz, netstat watchers, tests). */
export type StackEvent =
  | { type: 'state'; local: string; remote: string; from: TcpStateName; to: TcpStateName; cause: string; conn: Connection | null }
  | { type: 'error'; local: string; remote: string; code: string; message: string }
  | { type: 'drop'; reason: string };

/** How long a connection must be idle (no segment either way) before its empty buffers are freed. */
const BUFFER_IDLE = 1_000_000;

/**
 * One host: its IP layer (interfaces, routes, the protocol-handler table: stack.ip), and its
 * TCP: listeners, ports, the timer queue of all connections, counters, views. TCP's
 * demultiplexing lives in tcp-glue.ts behind the handler table. Driven by frames from its links
 * (`input(frame)` is the first interface's) and `onTimer(now)` from its driver.
 */
export class Stack implements TimerClient {
  readonly name: string;
  /** The IP layer: interfaces (lo first), routes, path MTUs, protocol handlers, output. */
  readonly ip: IpLayer;
  /** The first interface, the one `attach(link)` connects. */
  readonly primary: Interface;
  readonly counters: Mib = newMib();
  /**
   * The stack's settings (its sysctls), frozen: connections without options of their own share
   * this object. Change them with setConfig().
   */
  config: Readonly<TcpConfig>;
  readonly somaxconn: number;
  readonly syncookies: 0 | 1 | 2;
  /** The stack's clock (µs): virtual time on a SimWorld, the driver's clock in real time. */
  readonly now: () => Instant;
  /** @internal */
  readonly conns = new ConnTable();
  private readonly listeners = new ListenerTable();
  private readonly ports: Ports;
  private readonly tcp: TcpGlue;
  /** UDP: datagram sockets (`stack.udp.open(4 | 6)`), behind the handler table as protocol 17. */
  readonly udp: UdpLayer;
  private readonly timerQueue = new TimerQueue();
  /** Connections whose send or receive ring holds a buffer (see sweepBuffers). */
  private readonly buffered = new SlotList<Connection>(
    (c) => c.bufferSlot,
    (c, i) => {
      c.bufferSlot = i;
    },
  );
  /** When sweepBuffers runs next; NEVER while no connection holds a buffer. */
  private sweepAt: Instant = NEVER;
  /** @internal */
  readonly isnGen: IsnGenerator;
  private readonly rng: Rng;
  private readonly observers: ((ev: StackEvent) => void)[] = [];
  /** @internal */
  readonly tx = newTcpRepr();
  /** TCP Fast Open (RFC 7413): net.ipv4.tcp_fastopen, its keys, the client's cookie cache. */
  readonly fastOpen: FastOpenContext;

  constructor(opts: StackOptions) {
    if (!opts || !Array.isArray(opts.addresses) || opts.addresses.length === 0) {
      throw new TypeError('options.addresses must be a non-empty array of IP addresses');
    }
    if (typeof opts.clock !== 'function') throw new TypeError('options.clock must be a function returning microseconds');
    this.now = opts.clock;
    this.ip = new IpLayer(this.counters, this.now, (reason) => this.publishDrop(reason));
    this.primary = this.ip.addInterface(opts.ifname ?? 'eth0', null, opts.addresses.map((a) => prefixed(a, 'options.addresses')));
    this.defaultRoutes(opts);
    this.name = opts.name ?? this.primary.addrs[0]!.addr;
    this.config = Object.freeze(makeConfig(DEFAULT_CONFIG, opts.tcp));
    this.somaxconn = opts.somaxconn ?? 4096;
    this.syncookies = opts.syncookies ?? 1;
    this.rng = new Rng(opts.seed ?? 1);
    this.isnGen = new IsnGenerator(new Uint32Array([this.rng.u32(), this.rng.u32()]));
    this.ports = new Ports(this.conns, this.listeners, this.rng, this.isnGen, opts.ephemeralPorts ?? [32768, 60999]);
    this.tcp = new TcpGlue(this);
    this.ip.register(IPPROTO_TCP, this.tcp);
    // A generator of its own, so UDP's port choices leave TCP's random sequence as it was.
    const ports = opts.ephemeralPorts ?? [32768, 60999];
    this.udp = new UdpLayer(this.ip, this.counters, new Rng((opts.seed ?? 1) ^ 0x55445000), [ports[0], ports[1]], (reason) => this.publishDrop(reason));
    this.ip.register(IPPROTO_UDP, this.udp);
    // The Fast Open key from a generator of its own too (LINUX: random until tcp_fastopen_key sets one).
    const fo = new Rng((opts.seed ?? 1) ^ 0x7f0c3400);
    this.fastOpen = new FastOpenContext(new Uint8Array(new Uint32Array([fo.u32(), fo.u32(), fo.u32(), fo.u32()]).buffer));
  }

  /** Addresses given without a length: their family's default route goes out the first interface. */
  private defaultRoutes(opts: StackOptions): void {
    const gws = opts.gateway === undefined ? [] : Array.isArray(opts.gateway) ? opts.gateway : [opts.gateway];
    for (const g of gws) {
      const v = addrVersion(String(g).replace(/%.*$/, ''));
      if (v === 0) throw new TypeError(`options.gateway: '${String(g)}' is not an IP address`);
      this.ip.addRoute(v === 4 ? '0.0.0.0/0' : '::/0', this.primary, g);
    }
    for (const v of [4, 6] as const) {
      if (gws.some((g) => addrVersion(g.replace(/%.*$/, '')) === v)) continue;
      const bare = opts.addresses.some((a) => !a.includes('/') && addrVersion(a.replace(/%.*$/, '')) === v);
      if (bare) this.ip.addRoute(v === 4 ? '0.0.0.0/0' : '::/0', this.primary);
    }
  }

  /**
   * TCP forwarding: SYNs no listener claims go to `handler` (with `Interface.anyIp` on the
   * guest interface, SYNs to any address), which accepts, refuses or answers unreachable —
   * see forwarder.ts. At most `maxInFlight` requests wait for a decision. Null turns it off.
   */
  setTcpForwarder(handler: TcpForwardHandler | null, opts: { maxInFlight?: number } = {}): TcpForwarder | null {
    if (handler !== null && typeof handler !== 'function') throw new TypeError('handler must be a function or null');
    this.forwarder = handler === null ? null : new TcpForwarder(this, handler, opts.maxInFlight ?? 1024);
    return this.forwarder;
  }

  /** @internal The TCP forwarder, when setTcpForwarder installed one. */
  forwarder: TcpForwarder | null = null;

  /** Connect the stack's first interface to its link. */
  attach(link: Link): void {
    this.ip.setLink(this.primary, link);
  }

  /**
   * Add another interface (a router, a multi-homed host): `ip link add` + `ip addr add` in one.
   * Addresses are 'ADDR/LEN'; connected routes are added for each.
   */
  addInterface(name: string, link: Link, addresses: string[]): Interface {
    return this.ip.addInterface(name, link, addresses.map((a) => prefixed(a, 'addresses')));
  }

  /** `ip route add DEST [via GATEWAY] dev IFNAME` (IFNAME: the first interface by default). */
  addRoute(dest: string, opts: { via?: string; dev?: string } = {}): void {
    const iface = opts.dev === undefined ? this.primary : this.ip.iface(opts.dev);
    if (iface === undefined) throw new TypeError(`dev: no interface '${opts.dev}'`);
    this.ip.addRoute(dest, iface, opts.via);
  }

  /**
   * `ip route add unreachable DEST`: connects to it fail with EHOSTUNREACH, and as a router the
   * host answers datagrams for it with ICMP host unreachable (LINUX ip_error).
   */
  addUnreachableRoute(dest: string): void {
    this.ip.addUnreachable(dest);
  }

  /**
   * Send an ICMP/ICMPv6 echo request (ping(8)): resolves with the round-trip time (µs), the
   * reply's TTL and size; rejects with ETIMEDOUT after `timeout` µs (default 1 s) or the
   * errno of why it could not be sent. `size` is the data length (ping -s, default 56).
   */
  ping(dst: string, opts: PingOptions = {}): Promise<PingResult> {
    const args = pingArgs(dst, opts, () => (this.pingId = (this.pingId + 1) & 0xffff));
    return new Promise((resolve, reject) => {
      this.ip.icmp.ping(args.dst, args, (err, r) => (err !== null ? reject(err) : resolve(r!)));
    });
  }

  private pingId = 0;

  /** Every address the host owns: its interfaces' in order, lo's last. */
  get addresses(): ReadonlySet<string> {
    if (this.addrGen !== this.ip.addrGeneration) {
      const all = this.ip.addresses();
      const lo = new Set(this.ip.lo.addrs.map((a) => a.addr));
      this.addrSet = new Set([...all.filter((a) => !lo.has(a)), ...lo]);
      this.addrGen = this.ip.addrGeneration;
    }
    return this.addrSet;
  }

  private addrSet: Set<string> = new Set();
  private addrGen = -1;

  /** MTU of the first interface. */
  get mtu(): number {
    return this.primary.mtu;
  }

  /** A frame arrived on the first interface (what its link delivers; packetdrill injects here). */
  input(frame: Uint8Array): void {
    this.ip.input(frame, this.primary);
  }

  /** Subscribe to state changes, errors and drops of every connection; returns the unsubscribe function. */
  observe(cb: (ev: StackEvent) => void): () => void {
    this.observers.push(cb);
    return () => {
      const i = this.observers.indexOf(cb);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** Change one of the stack's settings (a sysctl); connections opened later use the new value. */
  setConfig<K extends keyof TcpConfig>(name: K, value: TcpConfig[K]): void {
    this.config = Object.freeze(makeConfig(this.config, { [name]: value } as Partial<TcpConfig>));
  }

  private publish(ev: StackEvent): void {
    for (const o of this.observers) o(ev);
  }

  /** @internal Count and publish one dropped datagram or segment. */
  publishDrop(reason: DropReason | IpDropReason | UdpLayerDropReason): void {
    const k = `${DROP_PREFIX}${reason}` as const;
    this.counters[k] = (this.counters[k] ?? 0) + 1;
    if (this.observers.length > 0) this.publish({ type: 'drop', reason });
  }

  // ------------------------------------------------------------------ user API

  /** Passive OPEN: listen on (address, port). Throws EADDRINUSE by Linux's bind rules. */
  /**
   * `fastOpen`: accept data in SYNs (RFC 7413), at most this many handshakes pending at once
   * (LINUX setsockopt TCP_FASTOPEN's qlen); it also turns the server bit of tcp_fastopen on.
   */
  listen(opts: { port: number; address?: string; backlog?: number; reuseAddr?: boolean; ipv6Only?: boolean; tcp?: Partial<TcpConfig>; fastOpen?: number }): Listener {
    const address = opts.address === undefined ? '0.0.0.0' : localAddress(this.ip, this.name, opts.address, 'address', true);
    // Port 0: the stack picks a free ephemeral port (LINUX inet_csk_get_port), as bind(0) does.
    const port = opts.port === 0 ? this.ports.freePort(address) : checkPort(opts.port, 'port', false);
    const backlog = Math.min(Math.max(opts.backlog ?? 511, 0), this.somaxconn);
    makeConfig(this.config, opts.tcp); // validate now, with a clear error
    this.ports.checkBind(address, port, opts.reuseAddr ?? false);
    const l = new Listener(this, address, port, backlog, opts.tcp ?? {}, opts.reuseAddr ?? false);
    l.ipv6Only = opts.ipv6Only ?? false;
    if (opts.fastOpen !== undefined) {
      if (!Number.isInteger(opts.fastOpen) || opts.fastOpen < 0) throw new TypeError(`fastOpen: ${String(opts.fastOpen)} is not a queue length (a non-negative integer)`);
      this.fastOpen.sysctl |= TFO.SERVER_ENABLE;
      l.fastOpen.maxQlen = Math.min(opts.fastOpen, this.somaxconn);
    } else if (this.fastOpen.has(TFO.SERVER_ENABLE) && this.fastOpen.has(TFO.SERVER_WO_SOCKOPT1)) {
      // LINUX inet_listen: TFO_SERVER_WO_SOCKOPT1 makes every listener a Fast Open one.
      l.fastOpen.maxQlen = backlog;
    }
    this.listeners.add(l);
    this.publish({ type: 'state', local: endpoint(address, port), remote: endpoint(address.includes(':') ? '::' : '0.0.0.0', 0), from: 'CLOSED', to: 'LISTEN', cause: 'listen', conn: null });
    return l;
  }

  /**
   * Active OPEN: connect to (remoteAddress, remotePort). `fastOpen` (RFC 7413, LINUX
   * TCP_FASTOPEN_CONNECT): with a cookie cached for the server the SYN waits for the first write
   * and carries its data; without one it goes at once and asks for a cookie for next time.
   * `fastOpenNoCookie` (TCP_FASTOPEN_NO_COOKIE): send SYN data without a cookie.
   */
  connect(opts: { remoteAddress: string; remotePort: number; localAddress?: string; localPort?: number; reuseAddr?: boolean; tcp?: Partial<TcpConfig>; fastOpen?: boolean; fastOpenNoCookie?: boolean }): TcpSocket {
    const remoteAddr = connectTarget(this.ip, opts.remoteAddress);
    const remotePort = checkPort(opts.remotePort, 'remotePort', true);
    const zone = zoneOf(this.ip, opts.remoteAddress, remoteAddr);
    const localAddr = opts.localAddress !== undefined ? localAddress(this.ip, this.name, opts.localAddress, 'localAddress', false) : sourceFor(this.ip, this.name, remoteAddr, zone);
    let localPort: number;
    if (opts.localPort !== undefined && opts.localPort !== 0) {
      localPort = checkPort(opts.localPort, 'localPort', true);
      const existing = this.conns.find(localAddr, localPort, remoteAddr, remotePort);
      if (existing) {
        throw new StackError('EADDRINUSE', `${endpoint(localAddr, localPort)} -> ${endpoint(remoteAddr, remotePort)} is in use (${existing.state})`);
      }
      this.ports.checkBind(localAddr, localPort, opts.reuseAddr ?? false, true);
    } else {
      localPort = this.ports.ephemeralPort(localAddr, remoteAddr, remotePort);
    }
    const c = this.newConnection(localAddr, localPort, remoteAddr, remotePort, opts.tcp);
    if (opts.fastOpen === true) {
      if (!this.fastOpen.has(TFO.CLIENT_ENABLE)) throw new StackError('EOPNOTSUPP', 'fastOpen: the client bit of net.ipv4.tcp_fastopen is off');
      c.fastOpen = activeFastOpen(this.fastOpen, remoteAddr, opts.fastOpenNoCookie === true);
      c.fastOpen.deferConnect = c.fastOpen.withData;
    }
    const sock = new TcpSocket(this, c);
    this.register(c);
    c.open(this.now());
    this.service(c);
    return sock;
  }


  /** A listener's SEND (RFC 9293 §3.10.2): the listening endpoint becomes an active open. */
  connectFromListener(l: Listener, remoteAddress: string, remotePort: number): TcpSocket {
    const remoteAddr = canonicalAddr(remoteAddress);
    if (remoteAddr === null) throw new TypeError(`remoteAddress: '${remoteAddress}' is not an IP address`);
    const localAddr = l.address === '0.0.0.0' || l.address === '::' ? sourceFor(this.ip, this.name, remoteAddr) : l.address;
    this.listeners.delete(l);
    l.closed = true;
    const c = this.newConnection(localAddr, l.port, remoteAddr, checkPort(remotePort, 'remotePort', true), l.config);
    const sock = new TcpSocket(this, c);
    this.register(c);
    c.open(this.now(), 'LISTEN');
    this.service(c);
    return sock;
  }

  /** Stop listening (what `Listener.close` calls): not-yet-accepted connections are reset. */
  closeListener(l: Listener): void {
    if (l.closed) return;
    l.closed = true;
    this.listeners.delete(l);
    // LINUX inet_csk_listen_stop: drop requests; reset established children nobody accepted.
    for (const c of l.synQueue) this.dropConnection(c, 'listener closed: request dropped');
    l.synQueue.clear();
    for (const s of l.acceptQueue) s.abort();
    l.acceptQueue.length = 0;
    this.publish({ type: 'state', local: endpoint(l.address, l.port), remote: endpoint(l.address.includes(':') ? '::' : '0.0.0.0', 0), from: 'LISTEN', to: 'CLOSED', cause: 'close', conn: null });
  }

  // ------------------------------------------------------------------ driving

  nextDeadline(): Instant {
    return Math.min(this.timerQueue.top(), this.sweepAt, this.ip.nextDeadline());
  }

  /** The connections' timers and the IP layer's work; the buffer sweep and PMTU expiry are housekeeping and keep no simulation alive. */
  nextWorkDeadline(): Instant {
    return Math.min(this.timerQueue.top(), this.ip.nextWorkDeadline());
  }

  /** Run every timer due at `now` (the driver calls this at `nextDeadline()`). */
  onTimer(now: Instant): void {
    this.ip.onTimer(now);
    for (let guard = 0; guard < 1_000_000; guard++) {
      const c = this.timerQueue.popDue(now);
      if (c === undefined) break;
      c.xmitDrop = this.ip.egressDrops(c.remoteAddr);
      c.onTimeout(now);
      this.service(c);
    }
    if (this.sweepAt <= now) this.sweepBuffers(now);
  }

  /**
   * Buffers are kept while a connection is busy (a steady transfer allocates nothing per
   * segment) and freed once it has gone idle: every BUFFER_IDLE, each connection holding a
   * buffer that has neither sent nor received a segment for BUFFER_IDLE releases its empty
   * rings. An idle connection so holds no buffer memory at most 2 x BUFFER_IDLE after its last
   * segment (and one that never carried data never held any).
   */
  private sweepBuffers(now: Instant): void {
    for (const c of this.buffered) {
      if (now - Math.max(c.lastRecv, c.lastSend) < BUFFER_IDLE) continue;
      const sendFree = c.sendBuf.release();
      const recvFree = c.recvBuf.release();
      if (sendFree && recvFree) this.forgetBuffers(c);
    }
    this.sweepAt = this.buffered.size > 0 ? now + BUFFER_IDLE : NEVER;
  }

  private forgetBuffers(c: Connection): void {
    this.buffered.delete(c);
    if (this.buffered.size === 0) this.sweepAt = NEVER;
  }

  /**
   * Push out everything a connection has to send, deliver its events, update its place in the
   * timer queue, forget it once CLOSED. Every entry point calls this after touching a connection.
   */
  service(c: Connection): void {
    // Re-entered from an application callback of this same connection: the outer call drains
    // the rest in order (an event handler must not see later events before it returns).
    const active = this.servicing;
    for (let i = 0; i < active.length; i++) if (active[i] === c) return;
    active.push(c);
    try {
      this.serviceOnce(c);
    } finally {
      active.pop();
    }
    if (c.state !== 'CLOSED' && (c.hasEvents || c.ackNow)) this.serviceOnce(c);
  }

  /** Connections being serviced, innermost last (a few deep at most: a scan beats a Set). */
  private readonly servicing: Connection[] = [];

  private serviceOnce(c: Connection): void {
    const now = this.now();
    const tx = this.tx;
    c.xmitDrop = this.ip.egressDrops(c.remoteAddr); // local congestion (local-drop.ts)
    // Events first (a state change is shown before the segment it causes), then output; an
    // application callback may act on the connection, which nests another service() call.
    for (let round = 0; round < 1000; round++) {
      for (let ev = c.pollEvent(); ev !== undefined; ev = c.pollEvent()) this.dispatch(c, ev);
      for (let sent = 0; sent < 100_000 && c.pollTransmit(now, tx); sent++) {
        // LINUX sock_confirm_neigh: the first segment out after progress carries the confirmation.
        const confirm = c.dstPendingConfirm;
        if (confirm) c.dstPendingConfirm = false;
        this.tcp.transmit(c.localAddr, c.remoteAddr, tx, confirm);
      }
      if (!c.hasEvents) break;
    }
    if (c.state === 'CLOSED') {
      this.timerQueue.remove(c);
      this.unregister(c);
      if (c.bufferSlot >= 0) this.forgetBuffers(c);
    } else {
      if (c.bufferSlot < 0 && c.sendBuf.capacity + c.recvBuf.capacity > 0) {
        this.buffered.add(c);
        if (this.sweepAt === NEVER) this.sweepAt = now + BUFFER_IDLE;
      }
      this.timerQueue.schedule(c);
    }
  }

  // ------------------------------------------------------------------ views

  /** The connection table (netstat/ss view). */
  netstat(): ConnRow[] {
    return tcpRows(this.listeners.values(), this.conns.values());
  }

  /** Every connection's row, the counters and the host name, for netstat-style tools. */
  snapshot(): Snapshot {
    return {
      source: 'stack', time: this.now() / 1e6, rows: this.netstat(), udp: this.udp.netstat(), counters: { ...this.counters },
      settings: {
        tcp_syncookies: this.syncookies, somaxconn: this.somaxconn, tcp_fin_timeout: this.config.finTimeout / 1e6,
        tcp_syn_retries: this.config.synRetries, tcp_synack_retries: this.config.synAckRetries, tcp_tw_reuse: 0,
        tcp_max_syn_backlog: this.somaxconn,
      },
    };
  }

  /** Every connection (not listeners), for tests and tools. */
  connections(): Connection[] {
    return [...this.conns.values()];
  }

  /** The listening sockets. */
  listenersList(): Listener[] {
    return [...this.listeners.values()];
  }

  // ------------------------------------------------------------------ internals

  /** @internal */
  register(c: Connection): void {
    this.conns.set(c);
  }

  private unregister(c: Connection): void {
    this.conns.delete(c);
    this.ports.forget(c.localAddr, c.remoteAddr, c.remotePort);
    if (c.owner instanceof Listener) c.owner.synQueue.delete(c);
  }

  private dropConnection(c: Connection, cause: string): void {
    if (c.state !== 'CLOSED') c.setState('CLOSED', cause);
    this.service(c);
  }

  /** @internal */
  newConnection(localAddr: string, localPort: number, remoteAddr: string, remotePort: number, tcp: Partial<TcpConfig> | undefined, iss?: number): Connection {
    const ipv6 = addrVersion(localAddr) === 6;
    const now = this.now();
    return new Connection({
      localAddr, localPort, remoteAddr, remotePort, ipv6,
      iss: iss ?? this.isnGen.isn(now, localAddr, localPort, remoteAddr, remotePort),
      // RFC 9293 §3.7.1: MSS = MTU - fixed IP header - fixed TCP header, the MTU of the route
      // to the peer (LINUX tcp_mss_clamp via dst_mtu).
      linkMss: this.routeMtu(remoteAddr) - (ipv6 ? 40 : 20) - 20,
      gsoMaxSize: this.ip.path(remoteAddr)?.route.iface.link?.gsoMaxSize,
      tsOffset: this.isnGen.tsOffset(localAddr, remoteAddr),
      base: this.config,
      config: hasOptions(tcp) ? tcp : undefined,
      mib: this.counters,
    });
  }

  private dispatch(c: Connection, ev: ConnEvent): void {
    const sock = c.owner instanceof TcpSocket ? c.owner : null;
    // Observer events are built only when someone observes (no strings per event otherwise).
    const observed = this.observers.length > 0;
    switch (ev.type) {
      case 'state':
        if (observed) this.publish({ type: 'state', local: endpoint(c.localAddr, c.localPort), remote: endpoint(c.remoteAddr, c.remotePort), from: ev.from, to: ev.to, cause: ev.cause, conn: c });
        sock?.onState?.(ev.from, ev.to, ev.cause);
        if (ev.to === 'ESTABLISHED' && c.owner instanceof Listener) this.queueAccept(c.owner, c); // SYN queue → accept queue
        return;
      case 'connected':
        sock?.onConnect?.();
        return;
      case 'readable':
        sock?.onData?.();
        return;
      case 'writable':
        sock?.onWritable?.();
        return;
      case 'end':
        sock?.onEnd?.();
        return;
      case 'error':
        if (observed) this.publish({ type: 'error', local: endpoint(c.localAddr, c.localPort), remote: endpoint(c.remoteAddr, c.remotePort), code: ev.code, message: ev.message });
        sock?.onError?.(ev.code, ev.message);
        return;
      case 'linger':
        sock?.onLinger?.(ev.acked);
        return;
      case 'closed':
        sock?.onClose?.();
        return;
    }
  }

  /** @internal Hand a child to accept(): at ESTABLISHED, or at once for a Fast Open child (RFC 7413 §4.2.2). */
  queueAccept(l: Listener, c: Connection): void {
    l.synQueue.delete(c);
    const sock = new TcpSocket(this, c);
    // An IPv4 peer of a dual-stack listener is seen as ::ffff:a.b.c.d, as Linux and Node show it.
    if (l.address === '::' && !c.ipv6) sock.v4Mapped = true;
    if (l.closed) {
      sock.abort();
      return;
    }
    sock.accepted = false;
    l.acceptQueue.push(sock);
    l.onConnection?.(sock);
  }

  /** @internal RFC 9293 §3.10.7.1: the answer to a segment for no connection. */
  resetFor(localAddr: string, remoteAddr: string, seg: TcpRepr): void {
    this.tcp.resetFor(localAddr, remoteAddr, seg);
  }

  /** @internal Send one segment through the IP layer. */
  transmit(src: string, dst: string, seg: TcpRepr): void {
    this.tcp.transmit(src, dst, seg);
  }

  /** MTU of the path to `remote` (the first interface's when there is no route). */
  private routeMtu(remote: string): number {
    return this.ip.path(remote)?.mtu ?? this.mtu;
  }

  /** @internal */
  findListener(addr: string, port: number): Listener | undefined {
    return this.ports.findListener(addr, port);
  }
}

function hasOptions(tcp: Partial<TcpConfig> | undefined): tcp is Partial<TcpConfig> {
  if (tcp === undefined) return false;
  for (const k in tcp) if ((tcp as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}
