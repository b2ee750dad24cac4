/**
 * The UDP half of user-mode networking: every guest datagram no synack socket claims (see
 * UdpLayer.forwarder) belongs to a UdpNat flow (Linux conntrack's 30 s / 120 s timeouts); each
 * flow has one connected host socket (`node:dgram`), whose replies go back to the guest from the
 * address and port it sent to. A connected socket is what makes Linux report ICMP port
 * unreachable as ECONNREFUSED (LINUX __udp4_lib_err: only for connected sockets without
 * IP_RECVERR); it becomes an ICMP port unreachable to the guest, quoting its last datagram.
 */
import dgram from 'node:dgram';
import type { Timers } from '../link/neighbor.js';
import type { Stack } from '../stack/stack.js';
import type { DriverTimer } from '../driver/node.js';
import type { ForwardedDatagram } from '../udp/layer.js';
import { NEVER } from '../time.js';
import { UdpNat, type UdpFlow } from './udp-nat.js';

/** The part of a `node:dgram` Socket the relay uses. */
export type HostDgram = Pick<dgram.Socket, 'on' | 'connect' | 'send' | 'close'>;

export interface UdpRelayOptions {
  stack: Stack;
  timers: Timers;
  kick?: () => void;
  /** The host address for a guest destination, or null (refused: port unreachable to the guest). */
  hostFor: (dst: string) => string | null;
  /** Most flows (UdpNat's bound). Default 4096. */
  maxFlows?: number;
  /** Default: `dgram.createSocket('udp4' | 'udp6')`. */
  createSocket?: (family: 4 | 6) => HostDgram;
}

export interface UdpRelayCounters {
  datagramsOut: number;
  datagramsIn: number;
  /** Datagrams the NAT table refused (full of streams), or sent before the socket connected past the queue bound. */
  dropped: number;
  /** Port unreachable sent to the guest (ECONNREFUSED on the host side, or a refused destination). */
  unreachable: number;
  /** Host socket errors other than ECONNREFUSED. */
  hostErrors: number;
}

/** Datagrams held per flow while its host socket connects. */
const CONNECT_QUEUE = 16;

interface Relay {
  flow: UdpFlow;
  sock: HostDgram;
  connected: boolean;
  queue: Uint8Array[];
  /** Quotes the guest's latest datagram in an ICMP error. */
  unreachable: (code?: number) => void;
}

export interface UdpFlowView {
  proto: 'udp';
  guest: string;
  dst: string;
  host: string;
  assured: boolean;
  packetsOut: number;
  packetsIn: number;
  bytesOut: number;
  bytesIn: number;
}

const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

export class UdpRelay {
  readonly nat: UdpNat;
  readonly counters: UdpRelayCounters = { datagramsOut: 0, datagramsIn: 0, dropped: 0, unreachable: 0, hostErrors: 0 };
  private readonly relays = new Map<number, Relay>();
  private readonly hosts = new Map<number, string>();
  private timer: DriverTimer | null = null;
  private timerAt = NEVER;
  private readonly kick: () => void;
  private readonly create: (family: 4 | 6) => HostDgram;

  constructor(private readonly opts: UdpRelayOptions) {
    this.nat = new UdpNat({ maxFlows: opts.maxFlows ?? 4096 });
    this.kick = opts.kick ?? (() => {});
    this.create = opts.createSocket ?? ((f) => dgram.createSocket(f === 4 ? 'udp4' : 'udp6'));
  }

  install(): void {
    this.opts.stack.udp.forwarder = (d) => this.onDatagram(d);
  }

  private onDatagram(d: ForwardedDatagram): void {
    const host = this.opts.hostFor(d.dst);
    // Port 0 cannot be connected to on the host (Node throws): refused, as a closed port is.
    if (host === null || d.dstPort === 0) {
      this.counters.unreachable++;
      d.unreachable();
      return;
    }
    const now = this.opts.timers.now();
    const r = this.nat.outbound({ guestAddr: d.src, guestPort: d.srcPort, dstAddr: d.dst, dstPort: d.dstPort }, d.data.length, now);
    if (r === null) {
      this.counters.dropped++;
      return;
    }
    for (const f of r.closed) this.closeRelay(f);
    let relay = this.relays.get(r.flow.id);
    if (relay === undefined) relay = this.open(r.flow, host, d.version);
    relay.unreachable = d.unreachable;
    this.counters.datagramsOut++;
    if (relay.connected) relay.sock.send(d.data);
    else if (relay.queue.length < CONNECT_QUEUE) relay.queue.push(d.data);
    else this.counters.dropped++;
    this.arm();
  }

  private open(flow: UdpFlow, host: string, family: 4 | 6): Relay {
    const sock = this.create(family);
    const relay: Relay = { flow, sock, connected: false, queue: [], unreachable: () => {} };
    this.relays.set(flow.id, relay);
    this.hosts.set(flow.id, host);
    sock.on('message', (msg: Buffer) => {
      if (this.relays.get(flow.id) !== relay) return;
      this.nat.inbound(flow, msg.length, this.opts.timers.now());
      this.counters.datagramsIn++;
      const k = flow.key;
      this.opts.stack.udp.sendFrom(k.dstAddr, k.dstPort, k.guestAddr, k.guestPort, new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
      this.kick();
      this.arm();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (this.relays.get(flow.id) !== relay) return;
      if (e.code === 'ECONNREFUSED') {
        // RFC 1122 §4.1.3.1 on the host's side, carried to the guest as the same ICMP message.
        this.counters.unreachable++;
        relay.unreachable();
        this.kick();
      } else {
        this.counters.hostErrors++;
      }
    });
    sock.connect(flow.key.dstPort, host, () => {
      relay.connected = true;
      for (const q of relay.queue) sock.send(q);
      relay.queue.length = 0;
    });
    return relay;
  }

  private closeRelay(flow: UdpFlow): void {
    const r = this.relays.get(flow.id);
    if (r === undefined) return;
    this.relays.delete(flow.id);
    this.hosts.delete(flow.id);
    try {
      r.sock.close();
    } catch {
      // already closed
    }
  }

  /** The expiry timer at the NAT's next deadline. */
  private arm(): void {
    const at = this.nat.nextDeadline();
    if (at === NEVER) return;
    if (this.timer !== null && this.timer.pending) {
      if (this.timerAt <= at) return; // an earlier wake-up re-arms for the rest
      this.timer.cancel();
    }
    this.timerAt = at;
    this.timer = this.opts.timers.setTimer(at, () => {
      this.timer = null;
      for (const f of this.nat.expire(this.opts.timers.now())) this.closeRelay(f);
      this.arm();
    });
  }

  flows(): UdpFlowView[] {
    return this.nat.flows().map((f) => ({
      proto: 'udp' as const,
      guest: ep(f.key.guestAddr, f.key.guestPort),
      dst: ep(f.key.dstAddr, f.key.dstPort),
      host: ep(this.hosts.get(f.id) ?? '?', f.key.dstPort),
      assured: f.assured,
      packetsOut: f.packetsOut,
      packetsIn: f.packetsIn,
      bytesOut: f.bytesOut,
      bytesIn: f.bytesIn,
    }));
  }

  close(): void {
    if (this.timer !== null) this.timer.cancel();
    for (const f of this.nat.flows()) this.closeRelay(f);
    for (const f of this.nat.flows()) this.nat.remove(f);
  }
}
