/**
 * A stand-in for a v86 VM on a v86-shaped bus, for the v86 adapter's tests (in Node,
 * test/usernet-v86.test.ts, and bundled into a page in Chromium): it takes an address by DHCP with
 * hand-built DISCOVER/REQUEST frames (src/wire/dhcp.ts), then runs a synack stack with the lease
 * on its NIC and fetches over HTTP through the gateway. No Node imports: it runs in a page.
 */
import type { V86Bus } from '../src/usernet/v86-adapter.js';
import { NodeDriver } from '../src/driver/node-driver.js';
import { EthernetInterface } from '../src/link/ethernet.js';
import type { Link } from '../src/link/link.js';
import { connectStream } from '../src/streams/web.js';
import { Rng } from '../src/rng.js';
import { formatAddr } from '../src/wire/addr.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from '../src/wire/checksum.js';
import { emitIpv4Header } from '../src/wire/ip.js';
import { BootpOp, DhcpOpt, DhcpType, dhcpAddrOption, dhcpMessageType, emitDhcp, newDhcpMessage, parseDhcp, type DhcpMessage } from '../src/wire/dhcp.js';

/** v86's bus (src/bus.js): named messages between the emulator's devices and its adapters, delivered asynchronously here. */
export function fakeBus(): V86Bus {
  const handlers = new Map<string, ((d: Uint8Array) => void)[]>();
  return {
    register(name, fn) {
      handlers.set(name, [...(handlers.get(name) ?? []), fn]);
    },
    unregister(name, fn) {
      handlers.set(name, (handlers.get(name) ?? []).filter((f) => f !== fn));
    },
    send(name, data) {
      queueMicrotask(() => {
        for (const f of handlers.get(name) ?? []) f(data);
      });
    },
  };
}

const VM_MAC = Uint8Array.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

/** An Ethernet frame with an IPv4/UDP datagram 0.0.0.0:68 → 255.255.255.255:67 (RFC 2131 §4.1). */
function dhcpFrame(payload: Uint8Array): Uint8Array {
  const src = new Uint8Array(4);
  const dst = Uint8Array.from([255, 255, 255, 255]);
  const ulen = 8 + payload.length;
  const f = new Uint8Array(14 + 20 + ulen);
  f.fill(0xff, 0, 6);
  f.set(VM_MAC, 6);
  f[12] = 0x08;
  const p = f.subarray(14);
  emitIpv4Header(p, 0, src, dst, 17, ulen, 64, 0, true);
  p.set([0, 68, 0, 67, ulen >> 8, ulen & 0xff, 0, 0], 20);
  p.set(payload, 28);
  const c = finishChecksum(sum16(p, 20, ulen, pseudoHeaderSum(src, dst, 17, ulen))) || 0xffff;
  p[26] = c >> 8;
  p[27] = c & 0xff;
  return f;
}

function dhcpRequest(type: number, xid: number, extra: [number, Uint8Array][] = []): Uint8Array {
  const m = newDhcpMessage();
  m.op = BootpOp.REQUEST;
  m.hlen = 6;
  m.xid = xid;
  m.chaddr.set(VM_MAC);
  m.options.set(DhcpOpt.MESSAGE_TYPE, Uint8Array.of(type));
  m.options.set(DhcpOpt.PARAM_REQUEST, Uint8Array.of(DhcpOpt.SUBNET_MASK, DhcpOpt.ROUTER, DhcpOpt.DNS, DhcpOpt.MTU));
  for (const [k, v] of extra) m.options.set(k, v);
  return dhcpFrame(emitDhcp(m));
}

export interface VmResult {
  /** [offered, acked, router, dns] */
  lease: (string | null)[];
  /** The HTTP response's status line and body. */
  status: string;
  body: Uint8Array;
  /** What connecting to `refusedPort` on the gateway gave: 'connected' or an error code. */
  refused: string;
}

/** Be the VM on `bus`: DHCP, then GET / from 10.0.2.2:`port`, then try 10.0.2.2:`refusedPort`. */
export async function runVm(bus: V86Bus, port: number, refusedPort: number): Promise<VmResult> {
  let toVm: ((f: Uint8Array) => void) | null = null;
  const replies: (DhcpMessage | string)[] = [];
  bus.register('net0-receive', (f) => {
    if (toVm !== null) return toVm(f);
    // Before the VM has an address, only DHCP replies (UDP to port 68) matter.
    if (f[12] === 0x08 && f[13] === 0 && f[14 + 9] === 17 && ((f[14 + 22]! << 8) | f[14 + 23]!) === 68) replies.push(parseDhcp(f.subarray(14 + (f[14]! & 15) * 4 + 8)));
  });
  const nextReply = async (want: number): Promise<DhcpMessage> => {
    for (let i = 0; i < 300 && replies.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const m = replies.shift();
    if (m === undefined || typeof m === 'string' || dhcpMessageType(m) !== want) throw new Error(`expected DHCP type ${want}, got ${typeof m === 'object' ? dhcpMessageType(m) : String(m)}`);
    return m;
  };
  const xid = 0x5eed;
  bus.send('net0-send', dhcpRequest(DhcpType.DISCOVER, xid));
  const offer = await nextReply(DhcpType.OFFER);
  bus.send('net0-send', dhcpRequest(DhcpType.REQUEST, xid, [[DhcpOpt.REQUESTED_ADDR, offer.yiaddr], [DhcpOpt.SERVER_ID, offer.options.get(DhcpOpt.SERVER_ID)!]]));
  const ack = await nextReply(DhcpType.ACK);
  const addr = formatAddr(ack.yiaddr);
  const router = dhcpAddrOption(ack, DhcpOpt.ROUTER);
  const lease = [formatAddr(offer.yiaddr), addr, router, dhcpAddrOption(ack, DhcpOpt.DNS)];
  if (router === null) throw new Error('no router in the DHCP ACK');

  // A synack stack with the lease on the VM's NIC (ref: a page's setTimeout has no unref).
  const driver = new NodeDriver({ ref: true });
  const link: Link = {
    mtu: 1500,
    send: (f) => bus.send('net0-send', f.slice()),
    onReceive: (cb) => {
      toVm = cb;
    },
  };
  const eth = new EthernetInterface(link, { mac: VM_MAC, addresses: [`${addr}/24`], gateway: router, linkLocal: false, timers: driver, rng: new Rng(9) });
  const stack = driver.createStack({ name: 'vm', addresses: [`${addr}/24`], gateway: router, seed: 5 });
  driver.attach(stack, eth.link);
  try {
    const conn = connectStream(stack, { remoteAddress: router, remotePort: port }, { driver });
    await conn.opened;
    const w = conn.writable.getWriter();
    await w.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: host\r\nConnection: close\r\n\r\n'));
    const parts: Uint8Array[] = [];
    for await (const chunk of conn.readable) parts.push(chunk.slice());
    await w.close().catch(() => {});
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    let split = -1;
    for (let i = 0; i + 3 < all.length; i++) {
      if (all[i] === 13 && all[i + 1] === 10 && all[i + 2] === 13 && all[i + 3] === 10) {
        split = i;
        break;
      }
    }
    const status = new TextDecoder().decode(all.subarray(0, all.indexOf(13)));
    const refusedConn = connectStream(stack, { remoteAddress: router, remotePort: refusedPort }, { driver });
    const refused = await refusedConn.opened.then(
      () => 'connected',
      (e: { code?: string; message: string }) => e.code ?? e.message,
    );
    return { lease, status, body: all.subarray(split + 4), refused };
  } finally {
    driver.close();
  }
}
