/**
 * `synack netns`: give a network namespace a network through synack (like `pasta`). Argument
 * parsing and printing only; the work is in src/usernet/netns-front.ts and usernet.ts.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { TunUnavailableError } from '../link/tun.js';
import { startNetns, type NetnsInstance } from '../usernet/netns-front.js';
import { serveControl } from '../usernet/control.js';
import { argError } from './netstat.js';
import { ensureTunAddon } from './build-native.js';

const USAGE = `usage: synack netns [--netns NAME] [--configure] [--forward SPEC]... [--dns HOST[:PORT]]
                    [--pcap FILE] [--mtu N] [--no-host-loopback] [--control PATH] [--ready]
                    [--quiet] [-- COMMAND ARGS...]

Gives a network namespace a network made of this host's ordinary sockets, as pasta and
slirp4netns do: a TAP device tap0 in the namespace whose other end is a synack stack that
answers DHCP (10.0.2.15 from a pool), router advertisements (fd00::/64), DNS on 10.0.2.3 and
fd00::3, ping to the gateway, and relays every other TCP connection and UDP flow through host
sockets. The gateway 10.0.2.2 / fd00::2 is the host's 127.0.0.1 / ::1.

  sudo synack netns -- sh -c 'udhcpc -i tap0 -q && curl http://10.0.2.2:8080/'
  sudo synack netns --configure --forward tcp:8022:22 -- /usr/sbin/sshd -D

  --netns NAME        join namespace NAME (made if missing); default: a new one, removed at exit
  --configure         set 10.0.2.15/24, the default route and resolv.conf (nameserver 10.0.2.3)
                      instead of leaving it to a DHCP client in the namespace (udhcpc -i tap0)
  --forward SPEC      tcp|udp:[BIND:]HOSTPORT:GUESTPORT: a host listener (127.0.0.1 unless BIND)
                      relayed into the namespace's GUESTPORT; ranges LOW-HIGH; repeatable
  --dns HOST[:PORT]   the DNS forwarder's upstream (default: this host's resolver)
  --pcap FILE         capture the namespace's side (Ethernet frames on tap0)
  --mtu N             tap0's MTU (default 1500; up to 65520)
  --no-host-loopback  refuse connections to the gateway instead of reaching the host's loopback
  --control PATH      serve the connection and flow tables on this Unix socket for
                      \`synack netstat --usernet PATH\` (default /run/synack/netns-NAME.sock)
  --ready             print one JSON line {"ready":true,...} on stdout once the network is up
  --quiet             no messages on stderr

With COMMAND, it runs COMMAND in the namespace (ip netns exec) and exits with its status; without,
it runs until SIGINT, SIGTERM or SIGHUP. Either way it removes what it made.`;

export async function main(argv: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        netns: { type: 'string' },
        configure: { type: 'boolean', default: false },
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
      allowPositionals: true,
    }));
  } catch (e) {
    console.error(`synack netns: ${argError(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const mtu = values.mtu === undefined ? undefined : Number(values.mtu);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65520)) {
    console.error(`synack netns: --mtu must be an integer 1280..65520, got '${values.mtu}'`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('synack netns: needs root (creating a namespace and a TAP device in it)');
    return 1;
  }
  let inst: NetnsInstance;
  try {
    ensureTunAddon();
    inst = await startNetns({
      netns: values.netns, configure: values.configure, forwards: values.forward ?? [], dns: values.dns, pcap: values.pcap, mtu,
      hostLoopback: !values['no-host-loopback'],
    });
  } catch (e) {
    const usage = e instanceof TypeError || e instanceof RangeError;
    console.error(`synack netns: ${e instanceof TunUnavailableError ? e.message : (e as Error).message}`);
    return usage ? 2 : 1;
  }
  const controlPath = values.control ?? `/run/synack/netns-${inst.name}.sock`;
  let control: { close(): void } | null = null;
  try {
    control = await serveControl(controlPath, inst.usernet);
  } catch (e) {
    if (!values.quiet) console.error(`synack netns: no control socket at ${controlPath}: ${(e as Error).message}`);
  }
  const un = inst.usernet;
  if (values.ready) {
    process.stdout.write(`${JSON.stringify({ ready: true, netns: inst.name, dev: inst.dev, control: control === null ? null : controlPath, forwards: un.forwards, gateway: un.guestNet.gateway, dns: un.guestNet.dns })}\n`);
  }
  if (!values.quiet) {
    const fw = un.forwards.map((f) => `${f.protocol} ${f.bindAddr}:${f.hostPort} → ${f.guestPort}`).join(', ');
    console.error(`synack netns: ${inst.dev} up in netns ${inst.name}; gateway ${un.guestNet.gateway} (the host's loopback${un.guestNet.hostLoopback ? '' : ': refused'}), DNS ${un.guestNet.dns}${values.configure ? `, configured ${un.guestNet.poolStart}` : ', DHCP'}${fw ? `; forwards ${fw}` : ''}`);
  }
  const finish = (): void => {
    control?.close();
    inst.close();
  };
  return await new Promise<number>((resolve) => {
    let child: ReturnType<typeof spawn> | null = null;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (child !== null) {
        child.kill(sig); // its exit ends us, with its status
        return;
      }
      done(128 + (constants.signals[sig] ?? 0), sig);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    const done = (code: number, why: string): void => {
      for (const s of signals) process.off(s, onSignal);
      finish();
      if (!values.quiet) console.error(`synack netns: ${why}: removed ${inst.dev}${values.netns === undefined ? ` and netns ${inst.name}` : ''}`);
      resolve(code);
    };
    if (positionals.length > 0) {
      child = spawn('ip', ['netns', 'exec', inst.name, ...positionals], { stdio: 'inherit' });
      child.on('error', (e) => done(127, `${positionals[0]}: ${e.message}`));
      child.on('exit', (code, sig) => done(code ?? 128 + (sig === null ? 0 : constants.signals[sig] ?? 0), `${positionals[0]} exited ${sig ?? code}`));
    }
  });
}
