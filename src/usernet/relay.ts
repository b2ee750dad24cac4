/**
 * `synack relay`'s session: one WebSocket from a page running synack, whose flows (relay-
 * protocol.ts) become real host sockets (`node:net`, `node:dgram`) — only to destinations the
 * allow list names. Backpressure both ways: DATA to the page is sent only within the credit the
 * page granted and while the WebSocket's queue has room, else the host socket is paused (its TCP
 * window closes); DATA from the page beyond the credit we granted is a protocol error, and credit
 * is granted back only once the bytes reached the kernel. Nothing buffers without bound: per flow
 * at most the credit plus one read, at most `maxFlows` flows.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { formatAddr } from '../wire/addr.js';
import type { AllowList } from './allow-list.js';
import { decodeRelay, encodeRelay, INITIAL_CREDIT, RelayType, type RelayFrame } from './relay-protocol.js';
import type { WsConnection } from './ws-server.js';

export interface RelayOptions {
  allow: AllowList;
  /** Flows open at once per session; more get ERROR EMFILE. Default 256. */
  maxFlows?: number;
  /** A TCP connect that takes longer fails with ETIMEDOUT. Default 10000 ms. */
  connectTimeoutMs?: number;
}

export interface RelayCounters {
  opened: number;
  /** OPENs refused by the allow list (EACCES). */
  denied: number;
  /** OPENs that failed (refused, unreachable, timed out) or hit maxFlows. */
  failed: number;
  /** Malformed frames or credit violations: the session was closed with 1002. */
  protocolErrors: number;
  /** UDP datagrams dropped: the WebSocket queue was full, or the flow was not open yet. */
  udpDropped: number;
}

interface Flow {
  id: number;
  tcp: net.Socket | null;
  udp: dgram.Socket | null;
  /** Bytes we may still send to the page (its credit). */
  sendCredit: number;
  /** Bytes the page may still send us (our credit). */
  recvCredit: number;
  /** Read from the host, not yet sent for lack of credit or queue room. */
  pending: Uint8Array | null;
  connected: boolean;
  gone: boolean;
  /** The host sent its FIN: END goes to the page once `pending` has gone. */
  hostEnded: boolean;
  endSent: boolean;
  /** The host socket closed cleanly with bytes still pending: CLOSE once they have gone. */
  closeAfterFlush: boolean;
}

export class RelaySession {
  readonly counters: RelayCounters = { opened: 0, denied: 0, failed: 0, protocolErrors: 0, udpDropped: 0 };
  private readonly flows = new Map<number, Flow>();
  private readonly maxFlows: number;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(
    private readonly ws: WsConnection,
    private readonly opts: RelayOptions,
  ) {
    if (!opts || !opts.allow) throw new TypeError('RelaySession: opts.allow (an AllowList) is required');
    this.maxFlows = opts.maxFlows ?? 256;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    ws.onMessage((data, binary) => (binary ? this.input(data) : this.fail()));
    ws.onDrain(() => {
      for (const f of this.flows.values()) this.flush(f);
    });
    ws.onClose(() => this.shutdown());
  }

  get size(): number {
    return this.flows.size;
  }

  private send(f: RelayFrame): boolean {
    return !this.closed && this.ws.send(encodeRelay(f));
  }

  private fail(): void {
    this.counters.protocolErrors++;
    this.ws.close(1002, 'relay protocol error');
    this.shutdown();
  }

  private input(msg: Uint8Array): void {
    const f = decodeRelay(msg);
    if (typeof f === 'string') return this.fail();
    const flow = this.flows.get(f.id);
    switch (f.type) {
      case RelayType.OPEN_TCP:
      case RelayType.OPEN_UDP:
        if (flow !== undefined) return this.fail();
        return this.open(f.id, f.type === RelayType.OPEN_TCP ? 'tcp' : 'udp', formatAddr(f.addr, 0, f.addr.length as 4 | 16), f.port);
      case RelayType.DATA:
        if (flow === undefined) return; // raced with our CLOSE
        if (flow.tcp !== null) {
          if (!flow.connected || f.data.length > flow.recvCredit) return this.fail();
          flow.recvCredit -= f.data.length;
          const n = f.data.length;
          // Grant the credit back once the kernel has the bytes (write callback).
          flow.tcp.write(f.data.slice(), () => {
            if (flow.gone) return;
            flow.recvCredit += n;
            this.send({ type: RelayType.CREDIT, id: flow.id, bytes: n });
          });
        } else if (flow.udp !== null) {
          // A datagram before the socket is connected has nowhere to go yet: dropped, as UDP may be.
          if (flow.connected) flow.udp.send(f.data);
          else this.counters.udpDropped++;
        }
        return;
      case RelayType.CREDIT:
        if (flow === undefined) return;
        flow.sendCredit = Math.min(0xffffffff, flow.sendCredit + f.bytes);
        return this.flush(flow);
      case RelayType.END:
        flow?.tcp?.end();
        return;
      case RelayType.CLOSE:
        if (flow !== undefined) this.drop(flow, true);
        return;
      default:
        // OPENED and ERROR only travel from the relay to the page.
        return this.fail();
    }
  }

  private open(id: number, proto: 'tcp' | 'udp', host: string, port: number): void {
    if (this.opts.allow.match(proto, host, port) === null) {
      this.counters.denied++;
      this.send({ type: RelayType.ERROR, id, errno: 'EACCES' });
      return;
    }
    if (this.flows.size >= this.maxFlows) {
      this.counters.failed++;
      this.send({ type: RelayType.ERROR, id, errno: 'EMFILE' });
      return;
    }
    const flow: Flow = { id, tcp: null, udp: null, sendCredit: INITIAL_CREDIT, recvCredit: INITIAL_CREDIT, pending: null, connected: false, gone: false, hostEnded: false, endSent: false, closeAfterFlush: false };
    this.flows.set(id, flow);
    if (proto === 'udp') return this.openUdp(flow, host, port);
    // allowHalfOpen: the host's FIN (END) leaves the page's direction open until the page's END, as
    // TCP half-close does; CLOSE then means both directions are done.
    const s = net.connect({ host, port, allowHalfOpen: true });
    flow.tcp = s;
    const timer = setTimeout(() => s.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), this.connectTimeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      flow.connected = true;
      this.counters.opened++;
      this.send({ type: RelayType.OPENED, id });
    });
    s.on('data', (d: Uint8Array) => {
      flow.pending = flow.pending === null ? d : concat(flow.pending, d);
      this.flush(flow);
    });
    // The FIN and the close follow every byte before them: bytes held for the page's credit are
    // not overtaken (the page would take the flow as closed, or reset, with data missing).
    s.on('end', () => {
      flow.hostEnded = true;
      this.flush(flow);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!flow.connected && !flow.gone) {
        this.counters.failed++;
        this.send({ type: RelayType.ERROR, id, errno: /^[0-9A-Z]{1,32}$/.test(e.code ?? '') ? e.code! : 'EIO' });
        flow.gone = true;
        this.flows.delete(id);
      }
    });
    s.on('close', (hadError: boolean) => {
      clearTimeout(timer);
      if (!hadError && flow.pending !== null) flow.closeAfterFlush = true;
      else if (!flow.gone) this.drop(flow, false);
    });
  }

  private openUdp(flow: Flow, host: string, port: number): void {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    flow.udp = s;
    s.on('message', (m: Uint8Array) => {
      if (!this.send({ type: RelayType.DATA, id: flow.id, data: m })) this.counters.udpDropped++;
    });
    // A connected UDP socket reports ICMP port unreachable as ECONNREFUSED: the page turns it into
    // an ICMP error for the guest; the flow stays (Linux keeps the socket usable too).
    s.on('error', (e: NodeJS.ErrnoException) => this.send({ type: RelayType.ERROR, id: flow.id, errno: e.code ?? 'EIO' }));
    s.connect(port, host, () => {
      flow.connected = true;
      this.counters.opened++;
      this.send({ type: RelayType.OPENED, id: flow.id });
    });
  }

  /** Send what the host gave us, as far as credit and the WebSocket queue allow; pause otherwise. */
  private flush(f: Flow): void {
    if (f.tcp === null || f.gone) return;
    while (f.pending !== null && f.sendCredit > 0) {
      const n = Math.min(f.pending.length, f.sendCredit, 64 * 1024);
      if (!this.send({ type: RelayType.DATA, id: f.id, data: f.pending.subarray(0, n) })) break;
      f.sendCredit -= n;
      f.pending = n === f.pending.length ? null : f.pending.subarray(n);
    }
    if (f.pending !== null) {
      if (!f.tcp.destroyed) f.tcp.pause();
      return;
    }
    if (f.hostEnded && !f.endSent) {
      f.endSent = true;
      this.send({ type: RelayType.END, id: f.id });
    }
    if (f.closeAfterFlush) this.drop(f, false);
    else if (f.tcp.isPaused()) f.tcp.resume();
  }

  /** The flow ends: tell the page (unless it asked), reset or close the host socket. */
  private drop(f: Flow, byPage: boolean): void {
    if (f.gone) return;
    f.gone = true;
    this.flows.delete(f.id);
    if (!byPage) this.send({ type: RelayType.CLOSE, id: f.id });
    if (f.tcp !== null) {
      if (byPage && f.connected) f.tcp.resetAndDestroy();
      else f.tcp.destroy();
    }
    f.udp?.close();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of [...this.flows.values()]) this.drop(f, true);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
