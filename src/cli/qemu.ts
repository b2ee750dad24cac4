/**
 * `synack qemu`: give a QEMU virtual machine a network through synack (as passt does). Argument
 * parsing and printing only; the work is in src/usernet/qemu-front.ts and usernet.ts.
 */
import { parseArgs } from 'node:util';
import { startQemu, QEMU_DEFAULT_MTU, type QemuFrontInstance } from '../usernet/qemu-front.js';
import { serveControl } from '../usernet/control.js';
import { argError } from './netstat.js';

const USAGE = `usage: synack qemu --socket PATH [--forward SPEC]... [--dns HOST[:PORT]] [--pcap FILE]
                   [--mtu N] [--no-host-loopback] [--control PATH] [--ready] [--quiet]

Gives a QEMU virtual machine a network made of this host's ordinary sockets, as passt does:
listens on the Unix socket PATH for QEMU's stream netdev (a 4-byte length before each Ethernet
frame) and answers the guest with a synack stack: DHCP (10.0.2.15), router advertisements
(fd00::/64), DNS on 10.0.2.3 and fd00::3, ping to the gateway, and every other TCP connection
and UDP flow relayed through host sockets. The gateway 10.0.2.2 / fd00::2 is the host's
127.0.0.1 / ::1. No root needed.

  synack qemu --socket /tmp/vm.sock &
  qemu-system-x86_64 ... -netdev stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/vm.sock \\
                         -device virtio-net-pci,netdev=n0

  --socket PATH       the Unix socket QEMU connects to (required; a stale file is replaced)
  --forward SPEC      tcp|udp:[BIND:]HOSTPORT:GUESTPORT: a host listener (127.0.0.1 unless BIND)
                      relayed to the guest's GUESTPORT; ranges LOW-HIGH; repeatable
  --dns HOST[:PORT]   the DNS forwarder's upstream (default: this host's resolver)
  --pcap FILE         capture the guest's side (Ethernet frames)
  --mtu N             the MTU DHCP and RA give the guest (default ${QEMU_DEFAULT_MTU}, passt's; 576..65520)
  --no-host-loopback  refuse connections to the gateway instead of reaching the host's loopback
  --control PATH      serve the connection and flow tables on this Unix socket for
                      \`synack netstat --usernet PATH\` (default PATH.control, beside --socket)
  --ready             print one JSON line {"ready":true,...} on stdout once listening
  --quiet             no messages on stderr

It runs until SIGINT, SIGTERM or SIGHUP; one guest at a time (a rebooted guest reconnects).`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        socket: { type: 'string' },
        forward: { type: 'string', multiple: true },
        dns: { type: 'string' },
        pcap: { type: 'string' },
        mtu: { type: 'string' },
        'no-host-loopback': { type: 'boolean', default: false },
        control: { type: 'string' },
        ready: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`synack qemu: ${argError(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.socket === undefined || values.socket === '') {
    console.error(`synack qemu: --socket PATH is required\n\n${USAGE}`);
    return 2;
  }
  const mtu = values.mtu === undefined ? undefined : Number(values.mtu);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 576 || mtu > QEMU_DEFAULT_MTU)) {
    console.error(`synack qemu: --mtu must be an integer 576..${QEMU_DEFAULT_MTU}, got '${values.mtu}'`);
    return 2;
  }
  let inst: QemuFrontInstance;
  try {
    inst = await startQemu({ socket: values.socket, forwards: values.forward ?? [], dns: values.dns, pcap: values.pcap, mtu, hostLoopback: !values['no-host-loopback'] });
  } catch (e) {
    console.error(`synack qemu: ${(e as Error).message}`);
    return e instanceof TypeError || e instanceof RangeError ? 2 : 1;
  }
  const controlPath = values.control ?? `${values.socket}.control`;
  let control: { close(): void } | null = null;
  try {
    control = await serveControl(controlPath, inst.usernet);
  } catch (e) {
    if (!values.quiet) console.error(`synack qemu: no control socket at ${controlPath}: ${(e as Error).message}`);
  }
  const un = inst.usernet;
  if (values.ready) {
    process.stdout.write(`${JSON.stringify({ ready: true, socket: inst.server.path, control: control === null ? null : controlPath, forwards: un.forwards, gateway: un.guestNet.gateway, dns: un.guestNet.dns })}\n`);
  }
  if (!values.quiet) {
    const fw = un.forwards.map((f) => `${f.protocol} ${f.bindAddr}:${f.hostPort} → ${f.guestPort}`).join(', ');
    console.error(`synack qemu: listening on ${inst.server.path}; gateway ${un.guestNet.gateway} (the host's loopback${un.guestNet.hostLoopback ? '' : ': refused'}), DNS ${un.guestNet.dns}, DHCP from ${un.guestNet.poolStart}${fw ? `; forwards ${fw}` : ''}`);
  }
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve(s));
  });
  control?.close();
  await inst.close();
  if (!values.quiet) console.error(`synack qemu: ${sig}: stopped (${inst.server.link.counters.connections} guest connections served)`);
  return 0;
}
