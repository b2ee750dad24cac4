/**
 * The namespace front end (what `pasta` does for a namespace): a network namespace — made here,
 * or an existing one joined by name — with a TAP device `tap0` inside whose other end is a
 * user-mode network (usernet.ts). The TAP is opened from inside the namespace (the native addon
 * enters it with setns only while opening /dev/net/tun), so the fd stays with synack while the
 * device lives in the namespace.
 *
 * Addressing, as the issue and pasta's DHCP mode have it: by default the namespace gets only an
 * up tap0 and lo, and configures itself (a DHCP client such as busybox `udhcpc`, SLAAC from our
 * router advertisements); with `configure`, synack sets the address (the DHCP pool's first),
 * the default route and /etc/netns/NAME/resolv.conf (which `ip netns exec` bind-mounts over
 * /etc/resolv.conf) itself. Everything made is removed on close.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { LINKTYPE_ETHERNET, pcapLink } from '../link/pcap.js';
import { pcapFile } from '../link/pcap-file.js';
import { openTap, type TunLink } from '../link/tun.js';
import type { Link } from '../link/link.js';
import { createUserNet, type UserNet, type UserNetOptions } from './usernet.js';

export interface NetnsOptions extends Omit<UserNetOptions, 'link'> {
  /** Join this namespace (made if it does not exist); default: a new one, synack-PID. */
  netns?: string;
  /** Set address, route and resolv.conf instead of leaving it to DHCP. */
  configure?: boolean;
  /** Capture the guest side (Ethernet) to this pcap file. */
  pcap?: string;
  /** The TAP device's name in the namespace. Default tap0. */
  dev?: string;
}

export interface NetnsInstance {
  readonly name: string;
  readonly dev: string;
  readonly usernet: UserNet;
  readonly tap: TunLink;
  /** Undo everything (device, resolv.conf, the namespace if we made it). Idempotent. */
  close(): void;
}

function ip(...args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
}

export async function startNetns(opts: NetnsOptions): Promise<NetnsInstance> {
  const name = opts.netns ?? `synack-${process.pid}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new TypeError(`netns: '${name}' is not a usable namespace name`);
  const dev = opts.dev ?? 'tap0';
  const undo: (() => void)[] = [];
  const cleanup = (): void => {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // best effort: keep removing the rest
      }
    }
    undo.length = 0;
  };
  try {
    if (!existsSync(`/run/netns/${name}`)) {
      ip('netns', 'add', name);
      undo.push(() => ip('netns', 'del', name));
    }
    ip('-n', name, 'link', 'set', 'lo', 'up');
    const mtu = opts.mtu ?? 1500;
    const tap = openTap({ name: dev, mtu, netns: name });
    undo.push(() => tap.close());
    ip('-n', name, 'link', 'set', dev, 'mtu', String(mtu), 'up');
    let link: Link = tap;
    if (opts.pcap !== undefined) {
      const cap = pcapFile(opts.pcap, { linktype: LINKTYPE_ETHERNET });
      undo.push(() => cap.close());
      link = pcapLink(link, cap.writer, () => Math.floor((performance.timeOrigin + performance.now()) * 1000));
    }
    const un = await createUserNet({ ...opts, link, mtu, linkStats: () => tap.stats() });
    undo.push(() => un.close());
    if (opts.configure === true) configure(name, dev, un, undo);
    let closed = false;
    return {
      name, dev, usernet: un, tap,
      close(): void {
        if (closed) return;
        closed = true;
        cleanup();
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** --configure: the first pool address, the default route via the gateway, resolv.conf. */
function configure(name: string, dev: string, un: UserNet, undo: (() => void)[]): void {
  const g = un.guestNet;
  ip('-n', name, 'addr', 'add', `${g.poolStart}/${g.prefixLength}`, 'dev', dev);
  ip('-n', name, 'route', 'add', 'default', 'via', g.gateway, 'dev', dev);
  const dir = `/etc/netns/${name}`;
  const madeDir = !existsSync(dir);
  if (madeDir) mkdirSync(dir, { recursive: true });
  const file = `${dir}/resolv.conf`;
  if (existsSync(file)) return; // the user's own: left alone
  writeFileSync(file, `# written by synack netns\nnameserver ${g.dns}\n${g.dns6 !== null ? `nameserver ${g.dns6}\n` : ''}`);
  undo.push(() => {
    unlinkSync(file);
    if (madeDir) rmdirSync(dir);
  });
}
