/**
 * The page side of the relay protocol (relay-protocol.ts): what the forwarder of a synack stack
 * running in a browser calls instead of opening Node sockets. No Node imports: it runs in the
 * page. The caller passes every binary WebSocket message to `receive` and gives a `send`.
 *
 * Backpressure: `write` sends within the relay's credit and holds the rest (`pendingBytes`, the
 * caller stops reading its guest-side connection while it is non-zero, so the guest's TCP window
 * closes); received DATA is granted back to the relay only when the caller says it was consumed
 * (`consumed(n)`, once the guest-side connection took the bytes), so a slow guest pauses the host.
 */
import { parseAddr } from '../wire/addr.js';
import { decodeRelay, encodeRelay, INITIAL_CREDIT, RelayType, type RelayFrame } from './relay-protocol.js';

export interface RelayFlowHandlers {
  /** The host connect succeeded (TCP) or the UDP flow is ready. */
  onOpen?(): void;
  /** The relay refused or failed the flow (errno name: EACCES, ECONNREFUSED, ETIMEDOUT …); for UDP, an ICMP error. */
  onError?(errno: string): void;
  onData?(data: Uint8Array): void;
  /** The host half-closed (TCP FIN). */
  onEnd?(): void;
  /** The flow is gone (host closed or reset it, or the relay went away). */
  onClose?(): void;
}

export class RelayFlow {
  /** DATA bytes the relay still accepts from us. */
  private credit = INITIAL_CREDIT;
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  private ended = false;
  private endSent = false;
  /** OPENED arrived: the relay takes DATA from now on. */
  private opened = false;
  closed = false;

  constructor(
    readonly id: number,
    /** A UDP flow (DATA is one datagram; an ERROR does not end it). */
    readonly udp: boolean,
    private readonly client: RelayClient,
    readonly handlers: RelayFlowHandlers,
  ) {}

  /** Bytes written but held for lack of credit. */
  get pendingBytes(): number {
    return this.pendingLen;
  }

  /** Send bytes (TCP) or one datagram (UDP); returns false when some are held for credit. */
  write(data: Uint8Array): boolean {
    if (this.closed || this.ended) return false;
    if (!(data instanceof Uint8Array)) throw new TypeError('RelayFlow.write: data must be a Uint8Array');
    if (this.udp) {
      // Datagrams take no credit: a relay that cannot keep up drops them, as a network would
      // (and so are datagrams sent before the flow is open).
      if (!this.opened) return false;
      this.client.emit({ type: RelayType.DATA, id: this.id, data });
      return true;
    }
    this.pending.push(data.slice());
    this.pendingLen += data.length;
    this.flush();
    return this.pendingLen === 0;
  }

  /** Half-close towards the host, after what is held has gone. */
  end(): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.flush();
  }

  /** Abort the flow (a TCP reset towards the host). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.forget(this.id);
    this.client.emit({ type: RelayType.CLOSE, id: this.id });
  }

  /** The caller consumed `n` received bytes: the relay may send that many more. */
  consumed(n: number): void {
    if (!Number.isInteger(n) || n <= 0 || this.closed) return;
    this.client.emit({ type: RelayType.CREDIT, id: this.id, bytes: n });
  }

  /** @internal the relay opened the flow: what was written meanwhile goes out. */
  markOpen(): void {
    this.opened = true;
    this.flush();
  }

  /** @internal the relay granted more credit. */
  grant(n: number): void {
    this.credit += n;
    this.flush();
  }

  private flush(): void {
    // TCP bytes wait for OPENED: the relay treats DATA on a connecting flow as a protocol error.
    if (!this.opened) return;
    while (this.pending.length > 0 && this.credit > 0 && !this.closed) {
      const head = this.pending[0]!;
      const n = Math.min(head.length, this.credit);
      this.client.emit({ type: RelayType.DATA, id: this.id, data: head.subarray(0, n) });
      this.credit -= n;
      this.pendingLen -= n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    if (this.ended && !this.endSent && this.pendingLen === 0 && !this.closed) {
      this.endSent = true;
      this.client.emit({ type: RelayType.END, id: this.id });
    }
  }
}

export class RelayClient {
  /** Malformed frames from the relay (counted and ignored). */
  badFrames = 0;
  private readonly flows = new Map<number, RelayFlow>();
  private nextId = 1;

  constructor(private readonly sendFn: (msg: Uint8Array) => void) {
    if (typeof sendFn !== 'function') throw new TypeError('RelayClient: send must be a function');
  }

  get size(): number {
    return this.flows.size;
  }

  openTcp(addr: string, port: number, handlers: RelayFlowHandlers = {}): RelayFlow {
    return this.open(RelayType.OPEN_TCP, addr, port, handlers);
  }

  openUdp(addr: string, port: number, handlers: RelayFlowHandlers = {}): RelayFlow {
    return this.open(RelayType.OPEN_UDP, addr, port, handlers);
  }

  /** Pass every binary message from the relay's WebSocket. */
  receive(msg: Uint8Array): void {
    const f = decodeRelay(msg);
    if (typeof f === 'string') {
      this.badFrames++;
      return;
    }
    const flow = this.flows.get(f.id);
    if (flow === undefined) return;
    const h = flow.handlers;
    switch (f.type) {
      case RelayType.OPENED:
        flow.markOpen();
        return h.onOpen?.();
      case RelayType.ERROR:
        // A TCP flow that failed is over; a UDP flow lives on after an ICMP error.
        if (!flow.udp) this.gone(flow);
        return h.onError?.(f.errno);
      case RelayType.DATA:
        return h.onData?.(f.data);
      case RelayType.END:
        return h.onEnd?.();
      case RelayType.CLOSE:
        this.gone(flow);
        return h.onClose?.();
      case RelayType.CREDIT:
        return flow.grant(f.bytes);
      default:
        this.badFrames++;
    }
  }

  /** The WebSocket closed: every flow is gone. */
  disconnected(): void {
    for (const f of [...this.flows.values()]) {
      this.gone(f);
      f.handlers.onClose?.();
    }
  }

  /** @internal */
  emit(f: RelayFrame): void {
    this.sendFn(encodeRelay(f));
  }

  /** @internal */
  forget(id: number): void {
    this.flows.delete(id);
  }

  private gone(f: RelayFlow): void {
    f.closed = true;
    this.flows.delete(f.id);
  }

  private open(type: typeof RelayType.OPEN_TCP | typeof RelayType.OPEN_UDP, addr: string, port: number, handlers: RelayFlowHandlers): RelayFlow {
    const a = parseAddr(addr);
    if (a === null) throw new TypeError(`RelayClient: addr must be an IP address, got ${JSON.stringify(addr)}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`RelayClient: port must be 1..65535, got ${port}`);
    const id = this.nextId;
    this.nextId = this.nextId === 0xffffffff ? 1 : this.nextId + 1;
    const flow = new RelayFlow(id, type === RelayType.OPEN_UDP, this, handlers);
    this.flows.set(id, flow);
    this.emit({ type, id, port, addr: a });
    return flow;
  }
}
