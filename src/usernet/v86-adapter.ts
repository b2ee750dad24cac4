/**
 * The browser front end: a v86 network adapter backed by a synack user-mode network running in
 * the page. v86 (copy.sh/v86) talks to its network adapter through its bus — the emulated NIC
 * sends each outgoing Ethernet frame as a "net0-send" message, and a frame given to
 * "net0-receive" arrives at the NIC (v86's src/browser/network.js and fake_network.js have this
 * shape: a constructor taking the bus, `destroy()`). Here those frames are a frame link
 * (`busLink`) under createUserNet, whose host sockets are not Node's but flows of `synack relay`
 * reached over a WebSocket (`relayConnect` turns RelayClient flows into the HostStream the TCP
 * relay splices, with the relay's credit as the backpressure).
 *
 *   guest (v86) ⇄ bus frames ⇄ busLink ⇄ createUserNet (DHCP, RA, TCP forwarder) ⇄ RelayClient ⇄ WebSocket ⇄ synack relay ⇄ host sockets
 *
 * What the page still lacks: UDP and DNS relaying (createUserNet's UDP relay and DNS forwarder open
 * node:dgram / node:dns sockets, which a page has not, and DNS over TCP uses synack's Node-shaped
 * `net` API), so a page bundle maps those Node modules to stand-ins that fail when used
 * (test/usernet-v86-browser.test.ts shows how).
 */
import type { Link } from '../link/link.js';
import type { HostConnect } from './tcp-relay.js';
import type { RelayClient, RelayFlow } from './relay-client.js';
import { createUserNet, type UserNet, type UserNetOptions } from './usernet.js';

/** The part of v86's bus an adapter uses (v86's src/bus.js). */
export interface V86Bus {
  register(name: string, fn: (data: Uint8Array) => void, ctx?: unknown): void;
  unregister?(name: string, fn: (data: Uint8Array) => void): void;
  send(name: string, data: Uint8Array): void;
}

/** Largest frame v86's NICs (ne2k, virtio-net with MTU 1500) take: 1500 + the 14-byte header. */
export const V86_MTU = 1500;

/** A frame link over v86's bus: our frames go to "net0-receive", the NIC's come from "net0-send". */
export function busLink(bus: V86Bus, opts: { mtu?: number; id?: number } = {}): Link & { counters: { rx: number; tx: number; rxBad: number }; close(): void } {
  if (bus === null || typeof bus !== 'object' || typeof bus.register !== 'function' || typeof bus.send !== 'function') {
    throw new TypeError('busLink: bus must have register(name, fn) and send(name, data)');
  }
  const id = opts.id ?? 0;
  const mtu = opts.mtu ?? V86_MTU;
  let deliver: ((frame: Uint8Array) => void) | null = null;
  const counters = { rx: 0, tx: 0, rxBad: 0 };
  const onSend = (data: Uint8Array): void => {
    // Bad input from the guest is counted and dropped: shorter than an Ethernet header or too long.
    if (!(data instanceof Uint8Array) || data.length < 14 || data.length > mtu + 14) {
      counters.rxBad++;
      return;
    }
    counters.rx++;
    deliver?.(data);
  };
  bus.register(`net${id}-send`, onSend);
  return {
    mtu,
    counters,
    send(frame: Uint8Array): void {
      counters.tx++;
      // The bus hands the array to the NIC, which may keep it: a copy, not a view of our buffer.
      bus.send(`net${id}-receive`, frame.slice());
    },
    onReceive(cb: (frame: Uint8Array) => void): void {
      deliver = cb;
    },
    close(): void {
      deliver = null;
      bus.unregister?.(`net${id}-send`, onSend);
    },
  };
}

type Listener = (...args: never[]) => void;

/**
 * A relay flow as the HostStream the TCP relay splices (the events and calls of a node:net Socket
 * it uses: connect, data, end, drain, error, close; write, end, pause, resume, destroy).
 * Received bytes are granted back to the relay (`consumed`) only when delivered while not paused,
 * so a paused stream holds at most the relay's credit.
 */
class RelayStream {
  destroyed = false;
  private readonly listeners = new Map<string, { fn: Listener; once: boolean }[]>();
  private paused = false;
  private held: Uint8Array[] = [];
  private endHeld = false;
  private closeHeld = false;
  private blocked = false;
  flow: RelayFlow | null = null;

  on(ev: string, fn: Listener): this {
    (this.listeners.get(ev) ?? this.listeners.set(ev, []).get(ev)!).push({ fn, once: false });
    return this;
  }

  once(ev: string, fn: Listener): this {
    (this.listeners.get(ev) ?? this.listeners.set(ev, []).get(ev)!).push({ fn, once: true });
    return this;
  }

  emit(ev: string, ...args: unknown[]): void {
    const ls = this.listeners.get(ev);
    if (ls === undefined) return;
    this.listeners.set(ev, ls.filter((l) => !l.once));
    for (const l of ls) (l.fn as (...a: unknown[]) => void)(...args);
  }

  write(data: Uint8Array): boolean {
    if (this.destroyed || this.flow === null) return false;
    const all = this.flow.write(data);
    if (!all) this.blocked = true;
    return all;
  }

  end(): this {
    this.flow?.end();
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const d of held) this.deliver(d);
    if (this.endHeld && this.held.length === 0) {
      this.endHeld = false;
      this.emit('end');
    }
    if (this.closeHeld && this.held.length === 0 && !this.endHeld) this.hostClose();
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.flow?.close();
    this.emit('close');
    return this;
  }

  /** @internal bytes from the relay */
  deliver(d: Uint8Array): void {
    if (this.paused || this.held.length > 0) {
      this.held.push(d);
      return;
    }
    this.flow?.consumed(d.length);
    this.emit('data', d);
  }

  /** @internal the host half-closed */
  hostEnd(): void {
    if (this.paused || this.held.length > 0) this.endHeld = true;
    else this.emit('end');
  }

  /** @internal the relay's flow is gone: 'close' after every byte and the FIN before it. */
  hostClose(): void {
    if (this.held.length > 0 || this.endHeld) {
      this.closeHeld = true;
      return;
    }
    this.closeHeld = false;
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }

  /** @internal credit may have come back: 'drain' once nothing is held for it. */
  checkDrain(): void {
    if (this.blocked && this.flow !== null && this.flow.pendingBytes === 0) {
      this.blocked = false;
      this.emit('drain');
    }
  }
}

/**
 * A HostConnect over a RelayClient, and the receive function to give every WebSocket message
 * (it passes the message to the client, then tells blocked streams whose credit came back).
 */
export function relayConnect(client: RelayClient): { connect: HostConnect; receive(msg: Uint8Array): void } {
  const open = new Set<RelayStream>();
  const connect = ((host: string, port: number) => {
    const s = new RelayStream();
    open.add(s);
    const gone = (): void => {
      open.delete(s);
    };
    s.flow = client.openTcp(host, port, {
      onOpen: () => s.emit('connect'),
      onError: (errno) => {
        gone();
        // The relay's errno names are node:net's, so the TCP relay maps them to RST / ICMP as for a host socket.
        s.emit('error', Object.assign(new Error(errno), { code: errno }));
        if (!s.destroyed) {
          s.destroyed = true;
          s.emit('close');
        }
      },
      onData: (d) => s.deliver(d),
      onEnd: () => s.hostEnd(),
      onClose: () => {
        gone();
        s.hostClose();
      },
    });
    return s;
  }) as unknown as HostConnect;
  return {
    connect,
    receive(msg: Uint8Array): void {
      client.receive(msg);
      for (const s of open) s.checkDrain();
    },
  };
}

export interface V86AdapterOptions extends Omit<UserNetOptions, 'link' | 'connect'> {
  /** The page's client of `synack relay` (its send goes to the WebSocket). */
  relay: RelayClient;
  /** Which NIC of the emulator: its bus messages are net<id>-send / net<id>-receive. Default 0. */
  id?: number;
}

/**
 * A v86 network adapter (constructed with the emulator's bus, as v86's own adapters are) whose
 * network is a synack user-mode network relaying through `synack relay`. Give every WebSocket
 * message to `receive`. `ready` resolves with the network once it runs.
 */
export class SynackNetworkAdapter {
  readonly ready: Promise<UserNet>;
  private readonly link: ReturnType<typeof busLink>;
  private readonly relay: ReturnType<typeof relayConnect>;
  private net: UserNet | null = null;
  private destroyed = false;

  constructor(bus: V86Bus, opts: V86AdapterOptions) {
    if (opts === null || typeof opts !== 'object' || opts.relay === undefined) throw new TypeError('SynackNetworkAdapter: options.relay (a RelayClient) is required');
    const { relay, id, ...rest } = opts;
    this.link = busLink(bus, { mtu: rest.mtu ?? V86_MTU, id });
    this.relay = relayConnect(relay);
    this.ready = createUserNet({ ...rest, link: this.link, connect: this.relay.connect }).then((n) => {
      if (this.destroyed) n.close();
      this.net = n;
      return n;
    });
  }

  /** A message from the relay's WebSocket. */
  receive(msg: Uint8Array): void {
    this.relay.receive(msg);
  }

  /** v86 calls this when the emulator is destroyed. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.net?.close();
    this.link.close();
  }
}
