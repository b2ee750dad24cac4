/**
 * Run a synack Stack on a TUN device in real time: open the device (optionally inside a network
 * namespace), configure the kernel side with `ip`, stack the link wrappers, start a NodeDriver.
 * Used by `synack tun`, the interop tests and bench/tun.ts.
 *
 *   kernel  ⇄  TUN fd  ⇄  pcapLink (what is on the wire)  ⇄  faultLink (our side's loss/delay)  ⇄  Stack
 */
import { NodeDriver } from '../driver/node.js';
import { faultLink, type FaultConfig } from '../link/fault.js';
import type { Link } from '../link/link.js';
import { pcapFile, pcapLink } from '../link/pcap.js';
import { configureTun, openTun, type TunLink } from '../link/tun.js';
import { Rng } from '../rng.js';
import type { Stack } from '../stack/stack.js';
import type { TcpConfig } from '../tcp/config.js';

export interface TunStackOptions {
  /** Device name (default: kernel's choice). */
  dev?: string;
  /** Network namespace (a name under /run/netns) for the device; default our own. */
  netns?: string;
  /** The stack's address with prefix, e.g. 10.77.0.2/24. */
  addr: string;
  /** The kernel side's address on the device (default: .1 of the stack's /24 if the stack's isn't .1). */
  peer?: string;
  mtu?: number;
  /** Configure the device with `ip` (address, mtu, up). Default true. */
  configure?: boolean;
  pcap?: string;
  fault?: FaultConfig;
  seed?: number;
  tcp?: Partial<TcpConfig>;
}

export interface TunStack {
  stack: Stack;
  driver: NodeDriver;
  tun: TunLink;
  /** The stack's address (no prefix). */
  address: string;
  /** The kernel side's address. */
  peer: string;
  /** Stop the driver, close the device (it disappears) and the capture. Idempotent. */
  close(): void;
}

/** "10.77.0.2/24" → { address, prefix }. */
export function parseCidr(s: string): { address: string; prefix: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(s);
  if (m === null || m[1]!.split('.').some((o) => Number(o) > 255)) throw new RangeError(`'${s}' is not an IPv4 address with an optional /prefix`);
  const prefix = m[2] === undefined ? 24 : Number(m[2]);
  if (prefix < 1 || prefix > 30) throw new RangeError(`prefix /${prefix} must be 1..30 (the kernel and the stack need a shared subnet)`);
  return { address: m[1]!, prefix };
}

function defaultPeer(address: string): string {
  const o = address.split('.').map(Number);
  o[3] = o[3] === 1 ? 2 : 1;
  return o.join('.');
}

export function startTunStack(opts: TunStackOptions): TunStack {
  const { address, prefix } = parseCidr(opts.addr);
  const peer = opts.peer ?? defaultPeer(address);
  if (peer === address) throw new RangeError(`peer ${peer} must differ from the stack's address`);
  const mtu = opts.mtu ?? 1500;
  const tun = openTun({ name: opts.dev, mtu, netns: opts.netns });
  let capture: ReturnType<typeof pcapFile> | null = null;
  let driver: NodeDriver | null = null;
  try {
    if (opts.configure ?? true) configureTun({ dev: tun.name, netns: opts.netns, addr: `${peer}/${prefix}`, mtu });
    driver = new NodeDriver();
    const d = driver;
    let link: Link = tun;
    if (opts.pcap !== undefined) {
      capture = pcapFile(opts.pcap);
      // pcap timestamps are wall-clock microseconds.
      link = pcapLink(link, capture.writer, () => Math.floor((performance.timeOrigin + performance.now()) * 1000));
    }
    const f = opts.fault ?? {};
    if ((f.loss ?? 0) > 0 || (f.delay ?? 0) > 0 || (f.reorder ?? 0) > 0 || (f.duplicate ?? 0) > 0 || (f.corrupt ?? 0) > 0) {
      link = faultLink(link, new Rng((opts.seed ?? 1) ^ 0xfa17), f, (delay, fn) => void d.after(delay, fn));
    }
    const stack = d.createStack({ name: `synack@${tun.name}`, addresses: [address], seed: opts.seed ?? Date.now() >>> 0, tcp: opts.tcp });
    d.attach(stack, link);
    let closed = false;
    return {
      stack,
      driver: d,
      tun,
      address,
      peer,
      close(): void {
        if (closed) return;
        closed = true;
        d.close();
        tun.close();
        capture?.close();
      },
    };
  } catch (e) {
    driver?.close();
    tun.close();
    capture?.close();
    throw e;
  }
}
