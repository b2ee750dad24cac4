import type { TimerClient } from '../driver/sim.js';
import type { Link } from '../link/link.js';
import { Rng } from '../rng.js';
import { seqAdd, seqGt } from '../seq.js';
import { Connection, bump, type Mib } from '../tcp/connection.js';
import { DEFAULT_CONFIG, makeConfig, type TcpConfig } from '../tcp/config.js';
import type { ConnEvent } from '../tcp/events.js';
import type { TcpStateName } from '../tcp/state.js';
import { NEVER, type Instant } from '../time.js';
import { Heap } from '../util/heap.js';
import { addrKeyOfText, canonicalAddr, addrVersion, parseAddrInto } from '../wire/addr.js';
import { emitIpv4Header, emitIpv6Header, IPPROTO_TCP, IPV4_HEADER_LEN, IPV6_HEADER_LEN, newIpRepr, parseIpHeader } from '../wire/ip.js';
import { emitTcp, parseTcp, tcpHeaderLength } from '../wire/tcp.js';
import { ACK, RST, SYN, FIN, clearTcpRepr, newTcpRepr, segLen, type TcpRepr } from '../wire/tcp-repr.js';
import type { ConnRow, Snapshot } from '../diag/types.js';
import { DROP_PREFIX, newMib } from './counters.js';
import { StackError } from './errors.js';
import { IsnGenerator } from './isn.js';
import { listenInput } from './passive-open.js';
import { ConnTable } from './conn-table.js';
import { Listener } from './listener.js';
import { TcpSocket } from './socket.js';

export interface StackOptions {
  /** Host name for events and netstat. */
  name?: string;
  /** The addresses this host owns (IPv4 and/or IPv6). */
  addresses: string[];
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

const endpoint = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/**
 * One host's TCP: demultiplexing (DESIGN.md principle 11: exact 4-tuple, then listener on
 * (addr, port), then on port), listeners, ports, the timer queue of all connections, counters.
 * Driven by `input(frame)` from its link and `onTimer(now)` from its driver.
 */
export class Stack implements TimerClient {
  readonly name: string;
  readonly addresses: Set<string>;
  readonly counters: Mib = newMib();
  /**
   * The stack's settings (its sysctls), frozen: connections without options of their own share
   * this object. Change them with setConfig().
   */
  config: Readonly<TcpConfig>;
  readonly somaxconn: number;
  readonly syncookies: 0 | 1 | 2;
  readonly now: () => Instant;
  private link: Link | null = null;
  private readonly conns = new ConnTable();
  private readonly listeners = new Map<string, Listener>();
  private readonly timerQueue = new Heap<Connection>();
  /** Connections whose send or receive ring holds a buffer (see sweepBuffers). */
  private readonly buffered = new Set<Connection>();
  /** When sweepBuffers runs next; NEVER while no connection holds a buffer. */
  private sweepAt: Instant = NEVER;
  /** @internal */
  readonly isnGen: IsnGenerator;
  private readonly rng: Rng;
  private readonly portRange: [number, number];
  private readonly observers: ((ev: StackEvent) => void)[] = [];
  private readonly ip = newIpRepr();
  private readonly rx = newTcpRepr();
  /** @internal */
  readonly tx = newTcpRepr();

  constructor(opts: StackOptions) {
    if (!opts || !Array.isArray(opts.addresses) || opts.addresses.length === 0) {
      throw new TypeError('options.addresses must be a non-empty array of IP addresses');
    }
    this.addresses = new Set(
      opts.addresses.map((a) => {
        const c = canonicalAddr(a);
        if (c === null) throw new TypeError(`options.addresses: '${a}' is not an IP address`);
        return c;
      }),
    );
    if (typeof opts.clock !== 'function') throw new TypeError('options.clock must be a function returning microseconds');
    this.name = opts.name ?? [...this.addresses][0]!;
    this.now = opts.clock;
    this.config = Object.freeze(makeConfig(DEFAULT_CONFIG, opts.tcp));
    this.somaxconn = opts.somaxconn ?? 4096;
    this.syncookies = opts.syncookies ?? 1;
    this.rng = new Rng(opts.seed ?? 1);
    this.isnGen = new IsnGenerator(new Uint32Array([this.rng.u32(), this.rng.u32()]));
    this.portRange = opts.ephemeralPorts ?? [32768, 60999];
  }

  /** Connect the stack to its link (one interface per stack). */
  attach(link: Link): void {
    this.link = link;
    link.onReceive((frame) => this.input(frame));
  }

  get mtu(): number {
    return this.link?.mtu ?? 1500;
  }

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

  // ------------------------------------------------------------------ user API

  /** Passive OPEN: listen on (address, port). Throws EADDRINUSE by Linux's bind rules. */
  listen(opts: { port: number; address?: string; backlog?: number; reuseAddr?: boolean; tcp?: Partial<TcpConfig> }): Listener {
    const address = opts.address === undefined ? '0.0.0.0' : this.localAddress(opts.address, 'address', true);
    // Port 0: the stack picks a free ephemeral port (LINUX inet_csk_get_port), as bind(0) does.
    const port = opts.port === 0 ? this.freePort(address) : checkPort(opts.port, 'port', false);
    const backlog = Math.min(Math.max(opts.backlog ?? 511, 0), this.somaxconn);
    makeConfig(this.config, opts.tcp); // validate now, with a clear error
    this.checkBind(address, port, opts.reuseAddr ?? false);
    const l = new Listener(this, address, port, backlog, opts.tcp ?? {}, opts.reuseAddr ?? false);
    this.listeners.set(l.key, l);
    this.publish({ type: 'state', local: endpoint(address, port), remote: endpoint(address.includes(':') ? '::' : '0.0.0.0', 0), from: 'CLOSED', to: 'LISTEN', cause: 'listen', conn: null });
    return l;
  }

  /** Active OPEN: connect to (remoteAddress, remotePort). */
  connect(opts: { remoteAddress: string; remotePort: number; localAddress?: string; localPort?: number; reuseAddr?: boolean; tcp?: Partial<TcpConfig> }): TcpSocket {
    const remoteAddr = canonicalAddr(opts.remoteAddress ?? '');
    if (remoteAddr === null) throw new TypeError(`remoteAddress: '${String(opts.remoteAddress)}' is not an IP address`);
    const remotePort = checkPort(opts.remotePort, 'remotePort', true);
    const localAddr = opts.localAddress !== undefined ? this.localAddress(opts.localAddress, 'localAddress', false) : this.sourceFor(remoteAddr);
    let localPort: number;
    if (opts.localPort !== undefined && opts.localPort !== 0) {
      localPort = checkPort(opts.localPort, 'localPort', true);
      const existing = this.conns.find(localAddr, localPort, remoteAddr, remotePort);
      if (existing) {
        throw new StackError('EADDRINUSE', `${endpoint(localAddr, localPort)} -> ${endpoint(remoteAddr, remotePort)} is in use (${existing.state})`);
      }
      this.checkBind(localAddr, localPort, opts.reuseAddr ?? false, true);
    } else {
      localPort = this.ephemeralPort(localAddr, remoteAddr, remotePort);
    }
    const c = this.newConnection(localAddr, localPort, remoteAddr, remotePort, opts.tcp);
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
    const localAddr = l.address === '0.0.0.0' || l.address === '::' ? this.sourceFor(remoteAddr) : l.address;
    this.listeners.delete(l.key);
    l.closed = true;
    const c = this.newConnection(localAddr, l.port, remoteAddr, checkPort(remotePort, 'remotePort', true), l.config);
    const sock = new TcpSocket(this, c);
    this.register(c);
    c.open(this.now(), 'LISTEN');
    this.service(c);
    return sock;
  }

  closeListener(l: Listener): void {
    if (l.closed) return;
    l.closed = true;
    this.listeners.delete(l.key);
    // LINUX inet_csk_listen_stop: drop requests; reset established children nobody accepted.
    for (const c of l.synQueue) this.dropConnection(c, 'listener closed: request dropped');
    l.synQueue.clear();
    for (const s of l.acceptQueue) s.abort();
    l.acceptQueue.length = 0;
    this.publish({ type: 'state', local: endpoint(l.address, l.port), remote: endpoint(l.address.includes(':') ? '::' : '0.0.0.0', 0), from: 'LISTEN', to: 'CLOSED', cause: 'close', conn: null });
  }

  // ------------------------------------------------------------------ driving

  nextDeadline(): Instant {
    return Math.min(this.timerQueue.peekKey(), this.sweepAt);
  }

  /** The connections' timers; the buffer sweep is housekeeping and keeps no simulation alive. */
  nextWorkDeadline(): Instant {
    return this.timerQueue.peekKey();
  }

  onTimer(now: Instant): void {
    for (let guard = 0; guard < 1_000_000 && this.timerQueue.peekKey() <= now; guard++) {
      const c = this.timerQueue.pop()!;
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
    c.inBufferSweep = false;
    this.buffered.delete(c);
    if (this.buffered.size === 0) this.sweepAt = NEVER;
  }

  /** A frame arrived from the link (RFC 9293 §3.10.7). Malformed input is counted and dropped. */
  input(frame: Uint8Array): void {
    const verify = !this.link?.checksumOffload;
    const ip = this.ip;
    const seg = this.rx;
    let reason = parseIpHeader(frame, ip, verify);
    if (reason === null && !this.addresses.has(ip.dst)) reason = 'not-for-us' as never;
    if (reason === null) reason = parseTcp(frame, ip, seg, verify);
    if (reason !== null) {
      bump(this.counters, `${DROP_PREFIX}${reason}` as const);
      if (reason !== ('not-for-us' as never)) bump(this.counters, 'InErrs');
      if (reason === 'bad-tcp-checksum') bump(this.counters, 'InCsumErrors');
      this.publish({ type: 'drop', reason });
      return;
    }
    this.counters.InSegs!++; // a named access (monomorphic), not bump's keyed one: once per segment
    const now = this.now();
    const c = this.conns.get(ip.dst, ip.dstKey, seg.dstPort, ip.src, ip.srcKey, seg.srcPort);
    if (c !== undefined) {
      if (c.state === 'TIME_WAIT' && (seg.flags & (SYN | ACK | RST | FIN)) === SYN) {
        const l = this.findListener(ip.dst, seg.dstPort);
        // RFC 9293 §3.10.7.4 note / RFC 6191 / LINUX tcp_timewait_state_process: a new SYN above
        // the old RCV.NXT (or with a newer timestamp) may reopen the 4-tuple in TIME_WAIT.
        const newer = seqGt(seg.seq, c.rcvNxt) || (c.tsEnabled && seg.hasTimestamp && ((seg.tsVal - c.tsRecent) | 0) > 0);
        if (l !== undefined && newer) {
          const issHint = seqAdd(c.sndMax, 65535 + 2); // LINUX: tw_snd_nxt + 65535 + 2
          bump(this.counters, 'TWRecycled');
          c.setState('CLOSED', 'new SYN in TIME_WAIT reuses the 4-tuple');
          this.service(c);
          listenInput(this, l, ip.src, ip.dst, seg, now, issHint);
          return;
        }
      }
      const l = c.owner instanceof Listener ? c.owner : null;
      if (l !== null && c.state === 'SYN_RECEIVED' && seg.flags & ACK && !(seg.flags & (RST | SYN)) && l.acceptQueueFull) {
        // LINUX tcp_check_req → listen overflow: the final ACK is dropped (tcp_abort_on_overflow
        // = 0); the SYN-ACK timer will try again.
        bump(this.counters, 'ListenOverflows');
        bump(this.counters, 'ListenDrops');
        return;
      }
      c.onSegment(now, seg);
      this.service(c);
      return;
    }
    const l = this.findListener(ip.dst, seg.dstPort);
    if (l !== undefined) {
      listenInput(this, l, ip.src, ip.dst, seg, now);
      return;
    }
    bump(this.counters, 'TCPNoSocket');
    this.resetFor(ip.dst, ip.src, seg);
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
    // Events first (a state change is shown before the segment it causes), then output; an
    // application callback may act on the connection, which nests another service() call.
    for (let round = 0; round < 1000; round++) {
      for (let ev = c.pollEvent(); ev !== undefined; ev = c.pollEvent()) this.dispatch(c, ev);
      for (let sent = 0; sent < 100_000 && c.pollTransmit(now, tx); sent++) this.transmit(c.localAddr, c.remoteAddr, tx);
      if (!c.hasEvents) break;
    }
    if (c.state === 'CLOSED') {
      this.timerQueue.remove(c);
      this.unregister(c);
      if (c.inBufferSweep) this.forgetBuffers(c);
    } else {
      if (!c.inBufferSweep && c.sendBuf.capacity + c.recvBuf.capacity > 0) {
        c.inBufferSweep = true;
        this.buffered.add(c);
        if (this.sweepAt === NEVER) this.sweepAt = now + BUFFER_IDLE;
      }
      const d = c.nextDeadline();
      if (d === Number.POSITIVE_INFINITY) this.timerQueue.remove(c);
      else this.timerQueue.update(c, d);
    }
  }

  // ------------------------------------------------------------------ views

  /** The connection table (netstat/ss view). */
  netstat(): ConnRow[] {
    const rows: ConnRow[] = [];
    for (const l of this.listeners.values()) {
      rows.push({
        proto: l.address.includes(':') ? 'tcp6' : 'tcp', localAddress: l.address, localPort: l.port,
        remoteAddress: l.address.includes(':') ? '::' : '0.0.0.0', remotePort: 0, state: 'LISTEN',
        recvQ: l.acceptQueue.length, sendQ: l.backlog,
      });
    }
    for (const c of this.conns.values()) {
      const row: ConnRow = {
        proto: c.ipv6 ? 'tcp6' : 'tcp', localAddress: c.localAddr, localPort: c.localPort,
        remoteAddress: c.remoteAddr, remotePort: c.remotePort, state: c.state,
        recvQ: c.recvBuf.length, sendQ: c.sendBuf.length,
      };
      if (c.owner instanceof Listener) row.listener = endpoint(c.owner.address, c.owner.port);
      rows.push(row);
    }
    return rows;
  }

  snapshot(): Snapshot {
    return {
      source: 'stack', time: this.now() / 1e6, rows: this.netstat(), counters: { ...this.counters },
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
    if (this.evenPortsFull.size > 0) this.evenPortsFull.delete(`${c.localAddr} ${c.remoteAddr} ${c.remotePort}`);
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
      // RFC 9293 §3.7.1: MSS = MTU - fixed IP header - fixed TCP header.
      linkMss: this.mtu - (ipv6 ? 40 : 20) - 20,
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
        if (ev.to === 'ESTABLISHED' && c.owner instanceof Listener) this.established(c.owner, c);
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

  /** A passive child completed its handshake: SYN queue → accept queue. */
  private established(l: Listener, c: Connection): void {
    l.synQueue.delete(c);
    const sock = new TcpSocket(this, c);
    if (l.closed) {
      sock.abort();
      return;
    }
    l.acceptQueue.push(sock);
    l.onConnection?.(sock);
  }

  /** RFC 9293 §3.10.7.1: the answer to a segment for no connection. Never answers a RST. */
  /** @internal */
  resetFor(localAddr: string, remoteAddr: string, seg: TcpRepr): void {
    if (seg.flags & RST) return;
    const len = segLen(seg);
    const hadAck = (seg.flags & ACK) !== 0;
    const ackIn = seg.ack;
    const seqIn = seg.seq;
    const tx = clearTcpRepr(this.tx); // no options, no payload, window 0
    tx.srcPort = seg.dstPort;
    tx.dstPort = seg.srcPort;
    if (hadAck) {
      tx.seq = ackIn; // <SEQ=SEG.ACK><CTL=RST>
      tx.ack = 0;
      tx.flags = RST;
    } else {
      tx.seq = 0; // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
      tx.ack = seqAdd(seqIn, len);
      tx.flags = RST | ACK;
    }
    bump(this.counters, 'OutRsts');
    this.transmit(localAddr, remoteAddr, tx);
  }

  /**
   * Write the IP packet carrying `seg` into a frame from the link (DESIGN.md principle 5: the
   * link's buffer when it recycles them, else a new one) and send it. Address bytes are parsed
   * once per change of address, not per frame.
   */
  /** @internal */
  transmit(src: string, dst: string, seg: TcpRepr): void {
    this.counters.OutSegs!++;
    const link = this.link;
    if (link === null) return;
    if (src !== this.txSrcText) {
      this.txSrcLen = parseAddrInto(src, this.txSrcBytes, 0);
      this.txSrcText = src;
    }
    if (dst !== this.txDstText) {
      this.txDstLen = parseAddrInto(dst, this.txDstBytes, 0);
      this.txDstText = dst;
    }
    const v4 = this.txSrcLen === 4;
    if (this.txSrcLen === 0 || this.txDstLen !== this.txSrcLen) throw new TypeError(`transmit: bad address pair ${src} -> ${dst}`);
    const s = v4 ? this.txSrc4 : this.txSrcBytes;
    const d = v4 ? this.txDst4 : this.txDstBytes;
    const checksum = link.checksumOffload !== true;
    const tcpLen = tcpHeaderLength(seg) + seg.payload.length;
    const ipLen = v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const frame = link.allocFrame !== undefined ? link.allocFrame(ipLen + tcpLen) : new Uint8Array(ipLen + tcpLen);
    // TTL / hop limit 64 (LINUX ip_default_ttl); IP ID 0 (DF is set).
    if (v4) emitIpv4Header(frame, 0, s, d, IPPROTO_TCP, tcpLen, 64, 0, checksum);
    else emitIpv6Header(frame, 0, s, d, IPPROTO_TCP, tcpLen, 64);
    emitTcp(frame, ipLen, seg, s, d, checksum);
    link.send(frame);
  }

  /** transmit's parsed-address cache (the last source and destination written). */
  private txSrcText = '';
  private txDstText = '';
  private txSrcLen: 0 | 4 | 16 = 0;
  private txDstLen: 0 | 4 | 16 = 0;
  private readonly txSrcBytes = new Uint8Array(16);
  private readonly txDstBytes = new Uint8Array(16);
  private readonly txSrc4 = this.txSrcBytes.subarray(0, 4);
  private readonly txDst4 = this.txDstBytes.subarray(0, 4);

  private findListener(addr: string, port: number): Listener | undefined {
    return this.listeners.get(`${addr} ${port}`) ?? this.listeners.get(`${addr.includes(':') ? '::' : '0.0.0.0'} ${port}`);
  }

  private localAddress(a: string, what: string, allowAny: boolean): string {
    const c = canonicalAddr(a);
    if (c === null) throw new TypeError(`${what}: '${a}' is not an IP address`);
    if (allowAny && (c === '0.0.0.0' || c === '::')) return c;
    if (!this.addresses.has(c)) throw new StackError('EADDRNOTAVAIL', `${what} ${c} is not an address of host ${this.name}`);
    return c;
  }

  /** Source address selection: the first address of the same family. */
  private sourceFor(remote: string): string {
    const v = addrVersion(remote);
    for (const a of this.addresses) if (addrVersion(a) === v) return a;
    throw new StackError('EADDRNOTAVAIL', `host ${this.name} has no IPv${v} address to reach ${remote}`);
  }

  /**
   * LINUX inet_csk_bind_conflict, simplified: a port is in use on an overlapping address by a
   * listener (always a conflict) or by a connection (a conflict unless SO_REUSEADDR; this is
   * what makes a restarted server fail with EADDRINUSE while its old connections sit in TIME_WAIT).
   */
  private checkBind(address: string, port: number, reuseAddr: boolean, connecting = false): void {
    const wildcard = (a: string): boolean => a === '0.0.0.0' || a === '::';
    const overlap = (a: string): boolean => wildcard(a) || wildcard(address) || a === address;
    for (const l of this.listeners.values()) {
      if (l.port === port && overlap(l.address) && !connecting) {
        throw new StackError('EADDRINUSE', `port ${port} on ${address} already has a listener`);
      }
    }
    if (reuseAddr) return;
    for (const c of this.conns.values()) {
      if (c.localPort === port && overlap(c.localAddr) && !(c.owner instanceof Listener && !connecting)) {
        throw new StackError('EADDRINUSE', `port ${port} on ${address} is in use by a connection in ${c.state} (set reuseAddr to bind anyway)`);
      }
    }
  }

  /** A port nobody uses on `address`: no listener, no connection (LINUX: odd ports first for bind). */
  private freePort(address: string): number {
    const [lo, hi] = this.portRange;
    const n = hi - lo + 1;
    const start = this.rng.int(0, n - 1) | 1;
    const used = new Set<number>();
    for (const c of this.conns.values()) used.add(c.localPort);
    for (const parity of [0, 1]) {
      for (let i = 0; i < n; i += 2) {
        const port = lo + ((start + i + parity) % n);
        if (!used.has(port) && this.findListener(address, port) === undefined && this.findListener('0.0.0.0', port) === undefined && this.findListener('::', port) === undefined) return port;
      }
    }
    throw new StackError('EADDRINUSE', `no free port in ${lo}-${hi} to listen on`);
  }

  /**
   * LINUX __inet_hash_connect: an ephemeral port unique for this 4-tuple, even ports first then
   * odd, starting at offset = keyed hash(addresses, remote port) + table_perturb[hash % size];
   * after a success the perturbation advances past the port found (+ i + 2), so connections to
   * one destination take consecutive free ports: O(1) amortized, not a scan of the used ones.
   */
  private ephemeralPort(localAddr: string, remoteAddr: string, remotePort: number): number {
    const [lo, hi] = this.portRange;
    const n = hi - lo + 1;
    const lk = addrKeyOfText(localAddr);
    const rk = addrKeyOfText(remoteAddr);
    const h = this.isnGen.portOffset(localAddr, remoteAddr, remotePort);
    const index = h & (PERTURB_SIZE - 1);
    const offset = ((h + this.perturb[index]!) % n) & ~1;
    // Once every even port towards a destination is taken, remember it (until a connection to it
    // goes away) so each further connect does not rescan them all before trying the odd ones.
    const full = this.evenPortsFull.size > 0 && this.evenPortsFull.has(`${localAddr} ${remoteAddr} ${remotePort}`);
    for (let parity = full ? 1 : 0; parity < 2; parity++) {
      const start = offset + parity;
      for (let i = 0; i < n; i += 2) {
        const port = lo + ((start + i) % n);
        if (this.conns.get(localAddr, lk, port, remoteAddr, rk, remotePort) !== undefined) continue;
        if (this.listeners.size > 0 && this.findListener(localAddr, port) !== undefined) continue;
        this.perturb[index] = (this.perturb[index]! + i + 2) >>> 0;
        return port;
      }
      if (parity === 0) this.evenPortsFull.add(`${localAddr} ${remoteAddr} ${remotePort}`);
    }
    throw new StackError('EADDRNOTAVAIL', `no free ephemeral port in ${lo}-${hi} towards ${endpoint(remoteAddr, remotePort)}`);
  }

  /** LINUX table_perturb: per-destination-bucket cursor of ephemeralPort. */
  private readonly perturb = new Uint32Array(PERTURB_SIZE);
  /** Destinations ("local remote port") whose even ephemeral ports are all taken. */
  private readonly evenPortsFull = new Set<string>();
}

/** LINUX INET_TABLE_PERTURB_SIZE is 2^16; 256 buckets keep a stack small. */
const PERTURB_SIZE = 256;

function hasOptions(tcp: Partial<TcpConfig> | undefined): tcp is Partial<TcpConfig> {
  if (tcp === undefined) return false;
  for (const k in tcp) if ((tcp as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}

function checkPort(p: unknown, what: string, nonZero: boolean): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < (nonZero ? 1 : 0) || p > 65535) {
    throw new RangeError(`${what} must be an integer ${nonZero ? 1 : 0}..65535, got ${String(p)}`);
  }
  return p;
}
