/**
 * A Linux TUN device as a Link: frames are raw IP packets (IFF_TUN | IFF_NO_PI), exactly a
 * synack frame. The I/O is done by the small Node-API addon in native/tun.c (non-blocking fd on
 * libuv's poll, read-until-EAGAIN into a shared arena, one JS call per batch of packets).
 *
 * The addon is optional: `npm install` tries to build it and goes on without it. It is loaded
 * lazily the first time a TUN device is opened, and `openTun` throws a `TunUnavailableError`
 * saying why (not Linux, addon not built, no /dev/net/tun, not root) when it cannot work.
 *
 * Offloads (`offload`, on by default): the device is opened with IFF_VNET_HDR and TUNSETOFFLOAD
 * (TUN_F_CSUM, TSO4/6, TSO_ECN, USO4/6 where the kernel has them), as gVisor's fdbased link and
 * QEMU do. The kernel then hands us TCP GSO packets of up to 64 KiB with partial checksums; each
 * is given to the stack as one large segment, as Linux's GRO would (LINUX: a CHECKSUM_PARTIAL
 * skb counts as verified, skb_csum_unnecessary). USO packets are cut into their datagrams.
 * Packets the kernel flags neither NEEDS_CSUM nor DATA_VALID are verified here in software, so
 * the stack can skip transport checksums (`checksumOffload` true). Outgoing TCP/UDP packets get a
 * partial checksum (NEEDS_CSUM) the kernel never has to finish for local delivery, and a TCP
 * packet up to `gsoMaxSize` leaves as one TSO packet (the kernel cuts it where it must).
 * Captures of such a link see real segments: src/link/pcap.ts cuts them in software.
 * Without offloads the device hands us complete checksums and verifies ours; the stack computes them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Link } from './link.js';
import { SynackError, TunUnavailableError } from '../errors.js';
import { offloadPath, type OffloadPath } from './tun-offload.js';
import { AckCoalescer } from './ack-coalesce.js';

/** Counters of a TUN link's I/O (packets, bytes, batches, queueing, errors). */
export interface TunStats {
  rxPackets: number;
  rxBytes: number;
  /** JS calls made for received packets (rxPackets / rxBatches = packets per crossing). */
  rxBatches: number;
  rxWakeups: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  /** Packets that met EAGAIN and were queued in C. */
  txQueued: number;
  /** Packets dropped because the C queue was full. */
  txDropped: number;
  txErrors: number;
  txQueueBytes: number;
  /** Offloads: GSO packets received (each handed to the stack as one segment). */
  rxGsoPackets: number;
  /** Offloads: USO packets cut into datagrams. */
  rxGsoSplit: number;
  /** Offloads: packets dropped because the software checksum check failed or the header was bad. */
  rxCsumErrors: number;
  /** Offloads: TSO packets written (the kernel cuts them). */
  txGsoPackets: number;
  /** Pure ACKs not written because a later one of the same batch acknowledged more (src/link/ack-coalesce.ts). */
  txAcksCoalesced: number;
  /** Busy polling: wake-ups of the event loop that found packets while it was polling, not asleep. */
  rxBusyPolled: number;
}

export interface TunLink extends Link {
  /** The interface name the kernel gave the device (e.g. tun0). */
  readonly name: string;
  /** The network namespace the device was created in (undefined: our own). */
  readonly netns: string | undefined;
  readonly closed: boolean;
  /** Close the fd; the (non-persistent) device disappears with it. Idempotent. */
  close(): void;
  /** The link's I/O counters. */
  stats(): TunStats;
  /** Keep the process alive while open (default) or not, like a socket's ref/unref. */
  ref(): void;
  /** Let the process exit while the device is open. */
  unref(): void;
  /** The TUNSETOFFLOAD flags the kernel accepted (TUN_F_*; 0 without offloads). */
  readonly offloads: number;
  /** Change the busy-poll window (OpenTunOptions.busyPoll), µs; 0 turns it off. */
  setBusyPoll(us: number): void;
}

/** Which TUN device to open: name, MTU, network namespace. */
export interface OpenTunOptions {
  /** Interface name (≤ 15 bytes, may contain %d); default: the kernel picks tunN. */
  name?: string;
  /** The link's MTU (what the stack derives its MSS from). Default 1500. Set the device's with `configureTun`. */
  mtu?: number;
  /**
   * Create the device inside this network namespace: a name from `ip netns` (/run/netns/NAME)
   * or a path such as /proc/PID/ns/net. The calling thread enters it only while opening.
   */
  netns?: string;
  /**
   * Negotiate the kernel's offloads (IFF_VNET_HDR, TUNSETOFFLOAD: partial checksums, TSO, USO).
   * Default true; false gives a plain device with complete checksums and MTU-sized packets.
   */
  offload?: boolean;
  /**
   * Busy polling, µs (default 0: off). For this long after each packet read or written the event
   * loop polls without sleeping, so a packet arriving in that window is found at once instead of
   * after a wake-up of the process (20-40 µs where idle CPUs halt, as in most VMs). The price is
   * CPU: while packets keep coming within the window the event loop runs flat out, which helps
   * only where a core is free (on two cores, shared with the peer, it can make latency worse: see
   * the README's TUN figures). The same trade as Linux's net.core.busy_poll and SO_BUSY_POLL (50
   * is the value Linux's documentation suggests).
   */
  busyPoll?: number;
}

/** Why TUN cannot be used here; `reason` is a sentence for the user (src/errors.ts). */
export { TunUnavailableError };

interface Handle {
  readonly arena: ArrayBuffer;
  readonly lens: ArrayBuffer;
  readonly name: string;
  /** Absent in addons built before TAP support. */
  readonly kind?: 'tun' | 'tap';
  /** 10 with IFF_VNET_HDR, 0 without (absent: an addon built before offloads). */
  readonly vnetHdrLen?: number;
  readonly offloads?: number;
  /** The virtio_net_hdr the next write sends (vnet only). */
  readonly txHdr?: ArrayBuffer;
}

interface Addon {
  open(name: string | null, netns: string | null, onPackets: (count: number) => void, tap: boolean, vnet: boolean): Handle;
  write(h: Handle, data: Uint8Array): number;
  close(h: Handle): void;
  ref(h: Handle, on: boolean): void;
  stats(h: Handle): Omit<TunStats, 'rxBusyPolled'> & { rxBusyPolled?: number };
  /** Absent in addons built before busy polling. */
  busyPoll?(h: Handle, us: number): void;
  MAX_BATCH: number;
  MAX_PKT: number;
}

let addon: Addon | null = null;
let addonError: TunUnavailableError | null = null;

/** Where the addon is looked for: $SYNACK_TUN_ADDON, then native/build/Release in the package. */
export function addonPath(): string {
  if (process.env.SYNACK_TUN_ADDON) return resolve(process.env.SYNACK_TUN_ADDON);
  return join(nativeDir(), 'build', 'Release', 'synack_tun.node');
}

/** The package's native/ folder (the addon's sources and native/build.mjs). */
export function nativeDir(): string {
  // This file is src/link/tun.ts, compiled to dist/src/link/tun.js (the package root is 3 up) and
  // to dist/cjs/src/link/tun.js for CommonJS (4 up): the root is the one holding native/.
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = ['../../..', '../../../..', '../..'].map((up) => resolve(here, up));
  const root = roots.find((r) => existsSync(join(r, 'native', 'binding.gyp'))) ?? roots[0]!;
  return join(root, 'native');
}

/** Load the addon once; throws TunUnavailableError with the reason. */
export function loadTunAddon(): Addon {
  if (addon !== null) return addon;
  if (addonError !== null) throw addonError;
  try {
    if (process.platform !== 'linux') throw new TunUnavailableError(`TUN devices need Linux; this is ${process.platform}`, 'ENOTSUP');
    const p = addonPath();
    if (!existsSync(p)) {
      throw new TunUnavailableError(
        `the native addon is not built (${p} is missing; build it with \`synack build-native\` (\`npx synack build-native\` in a project that depends on synack), which needs a C compiler, python3 and the Node headers)`,
        'ENOADDON',
      );
    }
    try {
      addon = createRequire(import.meta.url)(p) as Addon;
    } catch (e) {
      throw new TunUnavailableError(`the native addon at ${p} failed to load: ${(e as Error).message}`, 'ENOADDON');
    }
    return addon;
  } catch (e) {
    const err = e instanceof TunUnavailableError ? e : new TunUnavailableError(String(e));
    // A missing addon is not remembered: `synack build-native` may build it in this process.
    if (existsSync(addonPath()) || err.code !== 'ENOADDON') addonError = err;
    throw err;
  }
}

/** Can a TUN device be opened here? Returns null if so, else the reason (for test skips). */
export function tunUnavailableReason(): string | null {
  try {
    loadTunAddon();
  } catch (e) {
    return (e as TunUnavailableError).reason;
  }
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist (load the tun module or run the container with --device /dev/net/tun)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'opening a TUN device needs root (CAP_NET_ADMIN)';
  return null;
}

/** Open (create) a TUN device and return it as a Link. */
export function openTun(opts: OpenTunOptions = {}): TunLink {
  return openDevice('tun', opts);
}

/**
 * Open (create) a TAP device: a link whose frames are Ethernet II frames without FCS (IFF_TAP |
 * IFF_NO_PI), for an EthernetInterface (src/link/ethernet.ts) to carry IP over. `mtu` is the
 * Ethernet payload MTU (the device's MTU, as `ip link` shows it); frames are up to mtu + 14 bytes.
 */
export function openTap(opts: OpenTunOptions = {}): TunLink {
  return openDevice('tap', opts);
}

function openDevice(kind: 'tun' | 'tap', opts: OpenTunOptions): TunLink {
  const mtu = opts.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535 - (kind === 'tap' ? 14 : 0)) throw new RangeError(`mtu must be an integer 68..${65535 - (kind === 'tap' ? 14 : 0)}, got ${String(opts.mtu)}`);
  if (opts.name !== undefined && (typeof opts.name !== 'string' || Buffer.byteLength(opts.name) > 15 || opts.name.length === 0)) {
    throw new RangeError(`name must be 1..15 bytes, got '${String(opts.name)}'`);
  }
  const busyPoll = checkBusyPoll(opts.busyPoll ?? 0);
  const a = loadTunAddon();
  const nsPath = opts.netns === undefined ? null : netnsPath(opts.netns);
  // A TAP frame carries the 14-byte Ethernet header on top of the MTU (no FCS: IFF_NO_PI).
  const KIND = kind.toUpperCase();

  const receivers: ((frame: Uint8Array) => void)[] = [];
  const deliver = (frame: Uint8Array): void => {
    for (const r of receivers) r(frame);
  };
  let arena: Uint8Array;
  let lens: Uint32Array;
  let path: OffloadPath | null = null;
  let acks: AckCoalescer | null = null;
  const onPackets = (count: number): void => {
    let off = 0;
    acks?.begin();
    try {
      for (let i = 0; i < count; i++) {
        const len = lens[i]!;
        if (path !== null) path.receive(arena, off, len, deliver);
        else deliver(arena.subarray(off, off + len));
        off += len;
      }
    } finally {
      acks?.end();
    }
  };
  const wantVnet = opts.offload ?? true;
  let handle: Handle;
  try {
    handle = a.open(opts.name ?? null, nsPath, onPackets, kind === 'tap', wantVnet);
  } catch (e) {
    throw openError(e as NodeJS.ErrnoException, KIND, nsPath, opts.name);
  }
  if ((handle.kind ?? 'tun') !== kind || (wantVnet && handle.vnetHdrLen === undefined)) {
    a.close(handle);
    throw new TunUnavailableError(`the native addon predates ${handle.vnetHdrLen === undefined ? 'offloads' : KIND + ' support'} (rebuild it with \`synack build-native\`)`, 'ENOADDON');
  }
  const setBusyPoll = (us: number): void => {
    if (a.busyPoll !== undefined) a.busyPoll(handle, us);
    else if (us > 0) throw new TunUnavailableError('the native addon predates busy polling (rebuild it with `synack build-native`)', 'ENOADDON');
  };
  if (busyPoll > 0) {
    try {
      setBusyPoll(busyPoll);
    } catch (e) {
      a.close(handle);
      throw e;
    }
  }
  arena = new Uint8Array(handle.arena);
  lens = new Uint32Array(handle.lens);
  const offloads = handle.offloads ?? 0;
  if ((handle.vnetHdrLen ?? 0) > 0) path = offloadPath(kind === 'tap', mtu, offloads);
  const txHdr = handle.txHdr !== undefined ? new Uint8Array(handle.txHdr) : null;
  // With offloads a TCP packet may be a TSO packet of up to 64 KiB (the kernel's gso_max_size).
  const gsoMaxSize = path?.checksumOffload ? GSO_MAX_SIZE : undefined;
  const maxFrame = (gsoMaxSize ?? mtu) + (kind === 'tap' ? 14 : 0);
  // The write copies a frame into the kernel (or, on EAGAIN, into the addon's queue) before send
  // returns, so one buffer serves every frame the stack builds (DESIGN.md principle 5): no 64 KiB
  // allocation per TSO packet. A TAP's EthernetInterface frames its packets in it too.
  const txBuf = new Uint8Array(maxFrame);
  const write = (frame: Uint8Array): void => {
    if (path !== null && !path.prepare(frame, txHdr!)) return;
    a.write(handle, frame);
  };
  acks = new AckCoalescer(write, kind === 'tap' ? (f) => (f.length >= 14 && ((f[12] === 0x08 && f[13] === 0x00) || (f[12] === 0x86 && f[13] === 0xdd)) ? 14 : -1) : () => 0);
  const ackFilter = acks;
  let closed = false;
  return {
    mtu,
    checksumOffload: path?.checksumOffload ?? false,
    allocFrame: (len: number) => (len <= txBuf.length ? txBuf.subarray(0, len) : new Uint8Array(len)),
    gsoMaxSize,
    offloads,
    name: handle.name,
    netns: opts.netns,
    get closed() {
      return closed;
    },
    send(frame: Uint8Array): void {
      if (closed) return;
      if (frame.length > maxFrame) return; // the kernel would refuse it; an oversize frame is a drop
      ackFilter.send(frame);
    },
    onReceive(cb: (frame: Uint8Array) => void): void {
      receivers.push(cb);
    },
    close(): void {
      if (closed) return;
      closed = true;
      a.close(handle);
    },
    stats(): TunStats {
      const c = path?.counters;
      const raw = a.stats(handle);
      return {
        ...raw,
        rxGsoPackets: c?.rxGsoPackets ?? 0, rxGsoSplit: c?.rxGsoSplit ?? 0, rxCsumErrors: c?.rxCsumErrors ?? 0, txGsoPackets: c?.txGsoPackets ?? 0,
        txAcksCoalesced: ackFilter.coalesced,
        rxBusyPolled: raw.rxBusyPolled ?? 0, // absent from an addon built before busy polling
      };
    },
    ref(): void {
      a.ref(handle, true);
    },
    setBusyPoll(us: number): void {
      setBusyPoll(checkBusyPoll(us));
    },
    unref(): void {
      a.ref(handle, false);
    },
  };
}

function checkBusyPoll(us: unknown): number {
  if (typeof us !== 'number' || !Number.isInteger(us) || us < 0 || us > 1_000_000) {
    throw new RangeError(`busyPoll must be an integer 0..1000000 (µs), got ${String(us)}`);
  }
  return us;
}

/** LINUX: GSO_LEGACY_MAX_SIZE (65536), less one: the largest IPv4 Total Length. */
const GSO_MAX_SIZE = 65535;

/** The error for a failed open, with what to do about it. */
function openError(err: NodeJS.ErrnoException, KIND: string, nsPath: string | null, name: string | undefined): Error {
  if (err.code === 'EPERM' || err.code === 'EACCES') {
    return new TunUnavailableError(`${err.message} (opening a ${KIND} device needs root or CAP_NET_ADMIN${nsPath ? ', entering a namespace CAP_SYS_ADMIN' : ''})`, err.code);
  }
  if (err.code === 'ENOENT' && /dev\/net\/tun/.test(err.message)) {
    return new TunUnavailableError(`${err.message} (no TUN/TAP driver: modprobe tun, or give the container /dev/net/tun)`, 'ENOENT');
  }
  if (err.code === 'EBUSY') return new SynackError('EBUSY', `${KIND} device '${name}' is busy (${err.message})`);
  if (err.code === 'EINVAL' && name !== undefined) {
    return new SynackError('EINVAL', `${err.message}: '${name}' may already exist as another kind of device`);
  }
  return err;
}

/** A namespace name becomes /run/netns/NAME; paths are taken as they are. */
export function netnsPath(ns: string): string {
  if (ns.includes('/')) return ns;
  if (!/^[A-Za-z0-9_.-]+$/.test(ns)) throw new RangeError(`netns: '${ns}' is not a valid namespace name`);
  return `/run/netns/${ns}`;
}

/** How `configureTun` sets the device up with `ip`: namespace, kernel-side address, MTU, routes. */
export interface ConfigureTunOptions {
  /** Interface name. */
  dev: string;
  /** Named network namespace the device lives in (ip -n NS). */
  netns?: string;
  /** Address (with prefix length) the KERNEL side gets, e.g. 10.77.0.1/24. */
  addr?: string;
  /** IPv6 address (with prefix length) the kernel side gets, e.g. fd00:77::1/64 (added nodad). */
  addr6?: string;
  /** Device MTU. */
  mtu?: number;
  /** Extra routes via the device, e.g. ['10.88.0.0/16']. */
  routes?: string[];
}

/**
 * Configure a TUN or TAP device with `ip`: MTU, addresses and up (and optional routes). With a /24 on the
 * device, the kernel sends the whole subnet (our stack's address included) into the TUN.
 */
export function configureTun(opts: ConfigureTunOptions): void {
  const ip = (...args: string[]): void => {
    const full = opts.netns ? ['-n', opts.netns, ...args] : args;
    try {
      execFileSync('ip', full, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`ip ${full.join(' ')} failed: ${err.stderr?.toString().trim() || err.message}`);
    }
  };
  if (opts.mtu !== undefined) ip('link', 'set', 'dev', opts.dev, 'mtu', String(opts.mtu));
  if (opts.addr !== undefined) ip('addr', 'add', opts.addr, 'dev', opts.dev);
  // nodad: the address is usable at once instead of after duplicate address detection's ~1 s
  // (RFC 4862 §5.4); synack is the only other node on the device and never claims it.
  if (opts.addr6 !== undefined) ip('-6', 'addr', 'add', opts.addr6, 'dev', opts.dev, 'nodad');
  ip('link', 'set', 'dev', opts.dev, 'up');
  for (const r of opts.routes ?? []) ip('route', 'add', r, 'dev', opts.dev);
}
