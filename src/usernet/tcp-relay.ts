/**
 * The TCP half of user-mode networking: the stack's forward handler (src/stack/forwarder.ts)
 * connects to the real destination with a host socket first, and only then answers the guest's
 * SYN (slirp's tcp_fconnect → tcp_input, gVisor's tcp.NewForwarder): a connected host socket
 * accepts (SYN-ACK), ECONNREFUSED refuses (RST), anything else — a timeout, no route — becomes an
 * ICMP destination unreachable (slirp: icmp_send_error with ICMP_UNREACH_HOST / _NET). Accepted
 * connections are spliced (splice.ts). The flow table is bounded: past `maxFlows` relayed plus
 * pending connections, a new SYN is refused.
 */
import net from 'node:net';
import type { Stack } from '../stack/stack.js';
import type { TcpForwardRequest, UnreachableKind } from '../stack/forwarder.js';
import type { Timers } from '../link/neighbor.js';
import { ReadBuffer, Splice, type HostStream } from './splice.js';

/** Opens the host-side stream to (host, port); it emits 'connect' or 'error'. */
export type HostConnect = (host: string, port: number) => HostStream;

export interface TcpRelayOptions {
  stack: Stack;
  timers: Timers;
  /** Re-arm the driver after touching the stack outside its receive path. */
  kick?: () => void;
  /**
   * The host address a guest destination is relayed to, or null to refuse it (GuestNet's
   * hostAddressFor: the gateway → 127.0.0.1 / ::1, outside addresses as they are).
   */
  hostFor: (dst: string) => string | null;
  /** Default: `net.createConnection` with allowHalfOpen (the guest's half-close must not close the host's side). */
  connect?: HostConnect;
  /** Most relayed plus pending connections. Default 4096. */
  maxFlows?: number;
  /** How long a host connect may take before the guest gets ICMP host unreachable, ms. Default 20000. */
  connectTimeoutMs?: number;
}

export interface TcpRelayCounters {
  /** Host connects started. */
  connects: number;
  /** Guest SYNs answered: after a host connect succeeded. */
  accepted: number;
  /** RST to the guest: the host refused, or the destination is not relayed. */
  refused: number;
  /** ICMP unreachable to the guest: a host connect failed otherwise, or timed out. */
  unreachable: number;
  /** SYNs refused because the flow table was full. */
  flowLimit: number;
  /** Relayed connections ended by a reset (either side). */
  resets: number;
  /** Relayed connections closed normally. */
  closed: number;
}

/** One row of the flow table, for netstat and tests. */
export interface TcpFlowView {
  proto: 'tcp';
  guest: string;
  dst: string;
  host: string;
  state: 'connecting' | 'relaying';
  guestState: string;
  bytesOut: number;
  bytesIn: number;
  hostStalls: number;
  guestStalls: number;
}

interface Flow {
  req: TcpForwardRequest;
  /** The host socket (connecting, then spliced). */
  h: HostStream | null;
  host: string;
  port: number;
  splice: Splice | null;
}

/** Bytes a host socket reads at most per read() (Node's default is 64 KiB). */
const HOST_READ = 256 * 1024;

const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

/** Linux errno of a failed connect → what the guest is told (slirp's tcp_input on a failed tcp_fconnect). */
function unreachableKind(code: string | undefined): UnreachableKind {
  if (code === 'ENETUNREACH') return 'net';
  if (code === 'EACCES' || code === 'EPERM') return 'admin';
  return 'host';
}

export class TcpRelay {
  readonly counters: TcpRelayCounters = { connects: 0, accepted: 0, refused: 0, unreachable: 0, flowLimit: 0, resets: 0, closed: 0 };
  readonly maxFlows: number;
  private readonly flowSet = new Set<Flow>();
  private readonly connect: HostConnect | null;
  /**
   * What host sockets read into (`onread`): one buffer for all, each read copied out at once.
   * Made at the first host socket (a relay in the browser has none, and no Buffer either).
   */
  private get hostReadBuf(): Uint8Array {
    return (this.hostReadBufMem ??= new Uint8Array(HOST_READ));
  }
  private hostReadBufMem: Uint8Array | null = null;
  /** What guest bytes are read into for host writes (splice.ts). */
  private readonly guestReadBuf = new ReadBuffer();
  private readonly kick: () => void;
  private readonly connectTimeout: number;

  constructor(private readonly opts: TcpRelayOptions) {
    this.maxFlows = opts.maxFlows ?? 4096;
    if (!Number.isInteger(this.maxFlows) || this.maxFlows < 1) throw new RangeError(`maxFlows must be a positive integer, got ${String(opts.maxFlows)}`);
    this.connectTimeout = (opts.connectTimeoutMs ?? 20_000) * 1000;
    this.connect = opts.connect ?? null;
    this.kick = opts.kick ?? (() => {});
  }

  /** Install as the stack's TCP forward handler. */
  install(): void {
    // One more than the relay's own bound, so that past it the relay refuses (a RST the guest
    // sees at once) rather than the forwarder dropping the SYN silently.
    this.opts.stack.setTcpForwarder((req) => this.onRequest(req), { maxInFlight: this.maxFlows + 1 });
  }

  /** Buffers made for guest → host writes (splice.ts ReadBuffer: few while host writes complete at once). */
  get readBuffers(): number {
    return this.guestReadBuf.allocated;
  }

  get size(): number {
    return this.flowSet.size;
  }

  private onRequest(req: TcpForwardRequest): void {
    const host = this.opts.hostFor(req.localAddress);
    if (host === null) {
      // Nothing on the host stands for it (the gateway with hostLoopback off, the guest subnet).
      this.counters.refused++;
      req.refuse();
      return;
    }
    if (this.flowSet.size >= this.maxFlows) {
      this.counters.flowLimit++;
      req.refuse();
      return;
    }
    const flow: Flow = { req, h: null, host, port: req.localPort, splice: null };
    this.flowSet.add(flow);
    this.counters.connects++;
    let h: HostStream;
    try {
      h = this.connect !== null ? this.connect(host, req.localPort) : this.hostSocket(flow, host, req.localPort);
    } catch {
      // What the host's connect refuses outright (port 0 …): the guest gets a RST, nothing throws.
      this.flowSet.delete(flow);
      this.counters.refused++;
      req.refuse();
      return;
    }
    flow.h = h;
    let settled = false;
    const timer = this.opts.timers.setTimer(this.opts.timers.now() + this.connectTimeout, () => fail('ETIMEDOUT'));
    const fail = (code: string | undefined): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      h.destroy();
      this.flowSet.delete(flow);
      if (code === 'ECONNREFUSED') {
        this.counters.refused++;
        req.refuse();
      } else {
        this.counters.unreachable++;
        req.unreachable(unreachableKind(code));
      }
      this.kick();
    };
    h.once('error', (e: NodeJS.ErrnoException) => fail(e.code));
    h.once('connect', () => {
      if (settled) return;
      settled = true;
      timer.cancel();
      this.counters.accepted++;
      const g = req.accept();
      flow.splice = new Splice(g, h, this.kick, (s) => {
        this.flowSet.delete(flow);
        if (s.outcome === 'closed') this.counters.closed++;
        else this.counters.resets++;
      }, this.connect === null ? this.guestReadBuf : null);
      this.kick();
    });
  }

  /**
   * The default host socket: `node:net` with allowHalfOpen (the guest's half-close must not
   * close the host's side), no Nagle (the guest's own TCP already decided when to send), and
   * `onread` into the relay's one read buffer, so a bulk download allocates nothing per read
   * (the splice copies each read into the synack send buffer before the next one).
   */
  private hostSocket(flow: Flow, host: string, port: number): HostStream {
    const s: net.Socket = net.createConnection({
      host, port, allowHalfOpen: true, noDelay: true,
      onread: {
        buffer: this.hostReadBuf,
        callback: (n: number, buf: Uint8Array): boolean => {
          // Reading starts after 'connect', where the splice is made; a read without one is a bug.
          if (flow.splice === null) s.destroy(new Error('host data before the splice'));
          else flow.splice.hostData(buf.subarray(0, n));
          return true;
        },
      },
    });
    return s;
  }

  /** The flow table now. */
  flows(): TcpFlowView[] {
    return [...this.flowSet].map((f) => ({
      proto: 'tcp' as const,
      guest: ep(f.req.remoteAddress, f.req.remotePort),
      dst: ep(f.req.localAddress, f.req.localPort),
      host: ep(f.host, f.port),
      state: f.splice === null ? ('connecting' as const) : ('relaying' as const),
      guestState: f.splice?.guest.state ?? 'SYN_RECEIVED',
      bytesOut: f.splice?.stats.bytesOut ?? 0,
      bytesIn: f.splice?.stats.bytesIn ?? 0,
      hostStalls: f.splice?.stats.hostStalls ?? 0,
      guestStalls: f.splice?.stats.guestStalls ?? 0,
    }));
  }

  /** Reset every relayed connection and forget pending ones (shutting down). */
  close(): void {
    for (const f of this.flowSet) {
      if (f.splice !== null && f.splice.guest.state !== 'CLOSED') f.splice.guest.abort();
      f.h?.destroy();
    }
    this.flowSet.clear();
  }
}
