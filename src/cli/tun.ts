/**
 * `synack tun`: run a synack stack on a Linux TUN device, so real programs (curl, ssh, nc,
 * browsers) talk to it through the kernel. Argument parsing and printing only; the work is in
 * src/tun/ and src/link/tun.ts.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { stateStats } from '../diag/netstat.js';
import { formatNetstat } from '../diag/netstat.js';
import { discardService, echoService, httpService } from '../tun/services.js';
import { startTunStack, type TunStack } from '../tun/run.js';
import { TunUnavailableError } from '../link/tun.js';
import { argError } from './netstat.js';

const USAGE = `usage: synack tun [--dev NAME] [--addr A/P] [--peer A] [--netns NS] [--mtu N]
                  [--echo PORT] [--discard PORT] [--http PORT] [--pcap FILE]
                  [--loss P] [--delay MS] [--reorder P] [--seed N] [--quiet] [--ready]

Runs a synack stack on a TUN device. The kernel side of the device gets --peer (with the
prefix of --addr), so the kernel routes the subnet into synack:

  sudo synack tun --dev synack0 --addr 10.77.0.2/24 --http 80 --echo 7
  curl http://10.77.0.2/            # in another terminal
  curl -o /dev/null http://10.77.0.2/bytes/100000000

  --dev NAME       device name (default: the kernel picks tunN)
  --addr A/P       the stack's address and prefix (default 10.77.0.2/24)
  --peer A         the kernel side's address (default: .1 of the subnet)
  --netns NS       create the device inside network namespace NS (ip netns add NS first)
  --mtu N          device and link MTU (default 1500)
  --echo PORT      RFC 862 echo service
  --discard PORT   RFC 863 discard service
  --http PORT      HTTP/1.1: / (a page), /bytes/N (N bytes of deterministic data),
                   POST /upload (answers the byte count and SHA-256)
  --pcap FILE      capture what synack sends and receives on the device (LINKTYPE_RAW)
  --loss P         drop this fraction of frames on our side, both directions (0..1)
  --delay MS       add this delay on our side, both directions
  --reorder P      hold back this fraction of frames by a random extra delay
  --seed N         seed for the ISN secret, ports and fault injection
  --quiet          no status line
  --ready          print one JSON line {"ready":true,...} on stdout once the device is up

A status line (on a terminal) shows connections by state. It runs until SIGINT (Ctrl-C),
SIGTERM or SIGHUP, then removes the device. It never reads stdin, so it keeps running in the
background (\`synack tun ... --ready &\`, under nohup or a service manager): stop it with
\`kill %1\` or \`kill PID\`.`;


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
  return `[${secs}s] ${ts.tun.name} ${ts.address}: ${parts.join(', ') || 'no sockets'} | in ${st.rxPackets} pkts ${mb(st.rxBytes)} MB, out ${st.txPackets} pkts ${mb(st.txBytes)} MB`;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dev: { type: 'string' },
        addr: { type: 'string', default: '10.77.0.2/24' },
        peer: { type: 'string' },
        netns: { type: 'string' },
        mtu: { type: 'string' },
        echo: { type: 'string' },
        discard: { type: 'string' },
        http: { type: 'string' },
        pcap: { type: 'string' },
        loss: { type: 'string' },
        delay: { type: 'string' },
        reorder: { type: 'string' },
        seed: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        ready: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`synack tun: ${argError(e)}\n\n${USAGE}`);
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
    const discard = num('discard', values.discard, 1, 65535, true);
    const http = num('http', values.http, 1, 65535, true);
    const loss = num('loss', values.loss, 0, 1, false);
    const reorder = num('reorder', values.reorder, 0, 1, false);
    const delayMs = num('delay', values.delay, 0, 60_000, false);
    const seed = num('seed', values.seed, 0, 2 ** 32 - 1, true);
    const ports = [echo, discard, http].filter((p) => p !== undefined);
    if (new Set(ports).size !== ports.length) throw new UsageError('--echo, --discard and --http need different ports');
    ts = startTunStack({
      dev: values.dev,
      addr: values.addr!,
      peer: values.peer,
      netns: values.netns,
      mtu,
      pcap: values.pcap,
      seed,
      fault: { loss, reorder, delay: delayMs === undefined ? undefined : Math.round(delayMs * 1000) },
    });
    const info = (): string => formatNetstat(ts.stack.netstat(), { all: true, numeric: true });
    if (echo !== undefined) services.push({ name: 'echo', port: echo, stats: echoService(ts.stack, echo).stats });
    if (discard !== undefined) services.push({ name: 'discard', port: discard, stats: discardService(ts.stack, discard).stats });
    if (http !== undefined) services.push({ name: 'http', port: http, stats: httpService(ts.stack, http, { info }).stats });
    ts.driver.kick();
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      console.error(`synack tun: ${e.message}`);
      return 2;
    }
    if (e instanceof TunUnavailableError) {
      console.error(`synack tun: ${e.message}`);
      return 1;
    }
    throw e;
  }

  const t0 = Date.now();
  const svc = services.map((s) => `${s.name} :${s.port}`).join(', ') || 'no services';
  if (values.ready) {
    process.stdout.write(`${JSON.stringify({ ready: true, dev: ts.tun.name, address: ts.address, peer: ts.peer, netns: values.netns ?? null, services: Object.fromEntries(services.map((s) => [s.name, s.port])) })}\n`);
  }
  const tty = process.stderr.isTTY === true && !values.quiet;
  if (!values.quiet) {
    console.error(`synack tun: ${ts.tun.name} up; synack is ${ts.address}, the kernel is ${ts.peer}${values.netns ? ` (netns ${values.netns})` : ''}; ${svc}${values.pcap ? `; capturing to ${values.pcap}` : ''}`);
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
      ts.close(); // closing the fd removes the device
      if (!values.quiet) {
        console.error(`synack tun: ${sig}: removed ${ts.tun.name}. ${line.replace(/^\[[^\]]*\] /, '')}`);
        for (const s of services) console.error(`  ${s.name} :${s.port}  ${s.stats.connections} connections, ${s.stats.bytesIn} bytes in, ${s.stats.bytesOut} bytes out`);
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
    // once), so tying it to stdin made `synack tun --ready &` exit at once. The open TUN device
    // keeps the process alive.
  });
}
