/**
 * The QEMU front end (what passt does for a VM): a Unix socket QEMU connects to with
 * `-netdev stream,id=n0,server=off,addr.type=unix,addr.path=PATH -device virtio-net-pci,netdev=n0`,
 * carrying the guest's Ethernet frames (link/qemu-stream.ts), whose other end is a user-mode
 * network (usernet.ts). The guest configures itself: DHCP (10.0.2.15), SLAAC from the router
 * advertisements. One guest at a time, as passt serves it; a guest that goes away may be replaced
 * by the next connection (a rebooted VM) with the network and its leases kept.
 */
import { LINKTYPE_ETHERNET, pcapLink } from '../link/pcap.js';
import { pcapFile } from '../link/pcap-file.js';
import { listenQemuStream, type QemuStreamServer } from '../link/qemu-stream.js';
import type { Link } from '../link/link.js';
import { createUserNet, type UserNet, type UserNetOptions } from './usernet.js';

export interface QemuFrontOptions extends Omit<UserNetOptions, 'link'> {
  /** The Unix socket to listen on (a stale socket file is replaced, a live one refused). */
  socket: string;
  /** Capture the guest side (Ethernet frames) to this pcap file. */
  pcap?: string;
}

export interface QemuFrontInstance {
  readonly server: QemuStreamServer;
  readonly usernet: UserNet;
  /** Stop listening, close the guest's connection, the network and the capture. Idempotent. */
  close(): Promise<void>;
}

/** passt's default for QEMU: the stream carries frames up to 65520 bytes of IP. */
export const QEMU_DEFAULT_MTU = 65520;

export async function startQemu(opts: QemuFrontOptions): Promise<QemuFrontInstance> {
  if (opts === null || typeof opts !== 'object' || typeof opts.socket !== 'string' || opts.socket === '') {
    throw new TypeError('startQemu: options.socket (a Unix socket path) is required');
  }
  const mtu = opts.mtu ?? QEMU_DEFAULT_MTU;
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > QEMU_DEFAULT_MTU) throw new RangeError(`startQemu: options.mtu must be an integer 576..65520, got ${String(mtu)}`);
  const server = await listenQemuStream(opts.socket, { mtu });
  let cap: ReturnType<typeof pcapFile> | null = null;
  let un: UserNet;
  try {
    let link: Link = server.link;
    if (opts.pcap !== undefined) {
      cap = pcapFile(opts.pcap, { linktype: LINKTYPE_ETHERNET });
      link = pcapLink(link, cap.writer, () => Math.floor((performance.timeOrigin + performance.now()) * 1000));
    }
    const { socket: _socket, pcap: _pcap, ...rest } = opts;
    un = await createUserNet({ ...rest, link, mtu });
  } catch (e) {
    cap?.close();
    await server.close();
    throw e;
  }
  let closing: Promise<void> | null = null;
  return {
    server,
    usernet: un,
    close(): Promise<void> {
      closing ??= (async () => {
        un.close();
        await server.close();
        cap?.close();
      })();
      return closing;
    },
  };
}
