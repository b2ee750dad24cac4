/**
 * `synack tun` and `synack tap`: run a synack stack on a Linux TUN device (raw IP) or TAP device
 * (Ethernet, with ARP and NDP), so real programs (curl, ssh, nc, browsers) talk to it through the
 * kernel. One set of flags and services for both (src/cli/tun.ts and tap.ts only pick the kind).
 * Argument parsing and printing only; the work is in src/tun/, src/link/tun.ts and
 * src/link/ethernet.ts.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { stateStats } from '../diag/netstat.js';
import { formatNetstat } from '../diag/netstat.js';
import { discardService, echoService, httpService, udpEchoService } from '../tun/services.js';
import { startTapStack, startTunStack, type TunStack } from '../tun/run.js';
import { TunUnavailableError } from '../link/tun.js';
import { formatNeighbors } from '../link/neighbor.js';
import { argError } from './netstat.js';
import { ensureTunAddon } from './build-native.js';

function usage(kind: 'tun' | 'tap'): string {
  const net = kind === 'tun' ? '77' : '78';
  const KIND = kind.toUpperCase();
  return `usage: synack ${kind} [--dev NAME] [--addr A/P] [--peer A[/P]] [--addr6 A/P] [--peer6 A[/P]]
                  [--gateway A]... ${kind === 'tap' ? '[--mac MAC] ' : ''}[--netns NS] [--mtu N]
                  [--echo PORT] [--udp-echo PORT] [--discard PORT] [--http PORT] [--pcap FILE]
                  [--loss P] [--delay MS] [--reorder P] [--seed N] [--no-offload] [--busy-poll US]
                  [--quiet] [--ready]

Runs a synack stack on a ${KIND} device${kind === 'tap' ? ' (Ethernet frames; synack answers ARP and\nneighbour solicitations itself)' : ''}. The kernel side of the device gets --peer and --peer6
(with the prefixes of --addr and --addr6), so the kernel routes the subnets into synack:

  sudo synack ${kind} --dev ${kind}0 --addr 10.${net}.0.2/24 --addr6 fd00:${net}::2/64 --http 80 --echo 7
  curl http://10.${net}.0.2/            # in another terminal
  curl -g 'http://[fd00:${net}::2]/bytes/100000000' -o /dev/null

  --dev NAME       device name (default: the kernel picks ${kind}N)
  --addr A/P       the stack's IPv4 address and prefix (default 10.${net}.0.2/24)
  --peer A[/P]     the kernel side's IPv4 address (default: .1 of the subnet)
  --addr6 A/P      the stack's IPv6 address and prefix (default: none; IPv4 only)
  --peer6 A[/P]    the kernel side's IPv6 address (default: ::1 of the prefix)
  --gateway A      default gateway, one per family (default: the peers)${kind === 'tun' ? '; on a TUN device\n                   every packet reaches the kernel whatever the gateway' : ''}${kind === 'tap' ? '\n  --mac MAC        synack\'s MAC (default: a locally administered one from --seed)' : ''}
  --netns NS       create the device inside network namespace NS (ip netns add NS first)
  --mtu N          device and link MTU (default 1500)
  --echo PORT      RFC 862 echo service
  --udp-echo PORT  RFC 862 echo over UDP, IPv4 and IPv6 (may share --echo's port number)
  --discard PORT   RFC 863 discard service
  --http PORT      HTTP/1.1: / (a page), /bytes/N (N bytes of deterministic data),
                   POST /upload (answers the byte count and SHA-256)
  --pcap FILE      capture what synack sends and receives on the device (${kind === 'tap' ? 'LINKTYPE_ETHERNET' : 'LINKTYPE_RAW'})
  --loss P         drop this fraction of frames on our side, both directions (0..1)
  --delay MS       add this delay on our side, both directions
  --reorder P      hold back this fraction of frames by a random extra delay
  --seed N         seed for the ISN secret, ports${kind === 'tap' ? ', the MAC' : ''} and fault injection
  --no-offload     open the device without the kernel's offloads (IFF_VNET_HDR: partial checksums,
                   64 KiB GSO/TSO packets); with them (the default) captures still show real segments
  --busy-poll US   keep polling the device for US µs after each packet instead of sleeping (like
                   Linux's busy_poll: no wake-up per packet, at the price of a busy CPU while
                   packets keep coming; for a machine with a core to spare; default 0: off)
  --quiet          no status line
  --ready          print one JSON line {"ready":true,...} on stdout once the device is up

A status line (on a terminal) shows connections by state. It runs until SIGINT (Ctrl-C),
SIGTERM or SIGHUP, then removes the device. It never reads stdin, so it keeps running in the
background (\`synack ${kind} ... --ready &\`, under nohup or a service manager): stop it with
\`kill %1\` or \`kill PID\`.`;
}


function num(name: string, v: string | undefined, lo: number, hi: number, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}, got '${v}'`);
  }
  return n;
}

const SHORT: Record<string, string> = {
  ESTABLISHED: 'ESTAB', SYN_SENT: 'SYN-SENT', SYN_RECEIVED: 'SYN-RECV', FIN_WAIT_1: 'FIN-WAIT-1', FIN_WAIT_2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT', CLOSE: 'CLOSED', CLOSED: 'CLOSED', CLOSE_WAIT: 'CLOSE-WAIT', LAST_ACK: 'LAST-ACK', LISTEN: 'LISTEN', CLOSING: 'CLOSING',
};

function statusLine(ts: TunStack, t0: number): string {
  const { states } = stateStats(ts.stack.netstat());
  const parts = Object.entries(states).map(([s, n]) => `${SHORT[s] ?? s} ${n}`);
  const st = ts.tun.stats();
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  const neigh = ts.eth === null ? '' : ` | ${ts.eth.neighbors().filter((n) => n.state === 'REACHABLE').length} neighbours reachable`;
  return `[${secs}s] ${ts.tun.name} ${ts.address}: ${parts.join(', ') || 'no sockets'}${neigh} | in ${st.rxPackets} pkts ${mb(st.rxBytes)} MB, out ${st.txPackets} pkts ${mb(st.txBytes)} MB`;
}

/** `synack tun` / `synack tap`. */
export async function runDevice(kind: 'tun' | 'tap', argv: string[]): Promise<number> {
  const USAGE = usage(kind);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dev: { type: 'string' },
        addr: { type: 'string', default: kind === 'tun' ? '10.77.0.2/24' : '10.78.0.2/24' },
        peer: { type: 'string' },
        addr6: { type: 'string' },
        peer6: { type: 'string' },
        gateway: { type: 'string', multiple: true },
        ...(kind === 'tap' ? { mac: { type: 'string' as const } } : {}),
        netns: { type: 'string' },
        mtu: { type: 'string' },
        echo: { type: 'string' },
        'udp-echo': { type: 'string' },
        discard: { type: 'string' },
        http: { type: 'string' },
        pcap: { type: 'string' },
        loss: { type: 'string' },
        delay: { type: 'string' },
        reorder: { type: 'string' },
        seed: { type: 'string' },
        'no-offload': { type: 'boolean', default: false },
        'busy-poll': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        ready: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`synack ${kind}: ${argError(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let ts: TunStack;
  const services: { name: string; port: number; stats: { connections: number; active: number; bytesIn: number; bytesOut: number } }[] = [];
  try {
    const mtu = num('mtu', values.mtu, 576, 65535, true);
    const echo = num('echo', values.echo, 1, 65535, true);
    const udpEcho = num('udp-echo', values['udp-echo'], 1, 65535, true);
    const discard = num('discard', values.discard, 1, 65535, true);
    const http = num('http', values.http, 1, 65535, true);
    const loss = num('loss', values.loss, 0, 1, false);
    const reorder = num('reorder', values.reorder, 0, 1, false);
    const delayMs = num('delay', values.delay, 0, 60_000, false);
    const seed = num('seed', values.seed, 0, 2 ** 32 - 1, true);
    const busyPoll = num('busy-poll', values['busy-poll'], 0, 1_000_000, true);
    const ports = [echo, discard, http].filter((p) => p !== undefined);
    if (new Set(ports).size !== ports.length) throw new UsageError('--echo, --discard and --http need different ports');
    ensureTunAddon(); // the package has no install script: the first use builds the addon
    ts = (kind === 'tap' ? startTapStack : startTunStack)({
      dev: values.dev,
      addr: values.addr!,
      peer: values.peer,
      addr6: values.addr6,
      peer6: values.peer6,
      gateway: values.gateway,
      mac: (values as { mac?: string }).mac,
      netns: values.netns,
      mtu,
      pcap: values.pcap,
      seed,
      offload: !values['no-offload'],
      busyPoll,
      fault: { loss, reorder, delay: delayMs === undefined ? undefined : Math.round(delayMs * 1000) },
    });
    const info = (): string => {
      const table = formatNetstat([...ts.stack.netstat(), ...ts.stack.udp.netstat()], { all: true, numeric: true });
      return ts.eth === null ? table : `${table}\n\nneighbours (ip neigh):\n${formatNeighbors(ts.eth.neighbors(), ts.tun.name)}`;
    };
    if (echo !== undefined) services.push({ name: 'echo', port: echo, stats: echoService(ts.stack, echo).stats });
    if (udpEcho !== undefined) services.push({ name: 'udp-echo', port: udpEcho, stats: udpEchoService(ts.stack, udpEcho).stats });
    if (discard !== undefined) services.push({ name: 'discard', port: discard, stats: discardService(ts.stack, discard).stats });
    if (http !== undefined) services.push({ name: 'http', port: http, stats: httpService(ts.stack, http, { info }).stats });
    ts.driver.kick();
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError || e instanceof TypeError) {
      console.error(`synack ${kind}: ${e.message}`);
      return 2;
    }
    if (e instanceof TunUnavailableError) {
      console.error(`synack ${kind}: ${e.message}`);
      return 1;
    }
    throw e;
  }

  const t0 = Date.now();
  const svc = services.map((s) => `${s.name} :${s.port}`).join(', ') || 'no services';
  if (values.ready) {
    process.stdout.write(`${JSON.stringify({ ready: true, kind, dev: ts.tun.name, address: ts.address, peer: ts.peer, address6: ts.address6, peer6: ts.peer6, mac: ts.eth?.macText ?? null, netns: values.netns ?? null, services: Object.fromEntries(services.map((s) => [s.name, s.port])) })}\n`);
  }
  const tty = process.stderr.isTTY === true && !values.quiet;
  if (!values.quiet) {
    const six = ts.address6 === null ? '' : ` and ${ts.address6}`;
    const six2 = ts.peer6 === null ? '' : ` and ${ts.peer6}`;
    const mac = ts.eth === null ? '' : ` (MAC ${ts.eth.macText})`;
    console.error(`synack ${kind}: ${ts.tun.name} up; synack is ${ts.address}${six}${mac}, the kernel is ${ts.peer}${six2}${values.netns ? ` (netns ${values.netns})` : ''}; ${svc}${values.pcap ? `; capturing to ${values.pcap}` : ''}`);
  }

  return await new Promise<number>((resolve) => {
    let status: ReturnType<typeof setInterval> | null = null;
    if (tty) {
      status = setInterval(() => process.stderr.write(`\r\x1b[K${statusLine(ts, t0)}`), 500);
    }
    let stopped = false;
    const stop = (sig: string): void => {
      if (stopped) return;
      stopped = true;
      if (status !== null) clearInterval(status);
      if (tty) process.stderr.write('\r\x1b[K');
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      const line = statusLine(ts, t0);
      const neighbours = ts.eth === null ? '' : formatNeighbors(ts.eth.neighbors(), ts.tun.name);
      ts.close(); // closing the fd removes the device
      if (!values.quiet) {
        console.error(`synack ${kind}: ${sig}: removed ${ts.tun.name}. ${line.replace(/^\[[^\]]*\] /, '')}`);
        for (const l of neighbours.split('\n')) if (l) console.error(`  neighbour ${l}`);
        for (const s of services) console.error(`  ${s.name} :${s.port}  ${s.stats.connections} ${s.name === 'udp-echo' ? 'datagrams' : 'connections'}, ${s.stats.bytesIn} bytes in, ${s.stats.bytesOut} bytes out`);
      }
      resolve(0);
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    const onHup = (): void => stop('SIGHUP');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    // The lifetime is the signals' alone: a background job's stdin is /dev/null (closed at
    // once), so tying it to stdin made `synack tun --ready &` exit at once. The open device
    // keeps the process alive.
  });
}
