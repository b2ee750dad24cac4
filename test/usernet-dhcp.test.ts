/**
 * synack's DHCP server against a real client: busybox `udhcpc` in a network namespace gets its
 * address, router, DNS server, MTU, domain and lease from `DhcpServer` running (over a kernel UDP
 * socket on port 67) in a second namespace at the other end of a veth pair; then it renews
 * (SIGUSR1, a unicast REQUEST) and releases (SIGUSR2). Both namespaces are the test's own.
 *
 * The OFFER goes by unicast to the client's MAC (RFC 2131 §4.1: the client sets no broadcast bit),
 * which a kernel socket can only do with a neighbour entry for the not-yet-configured address:
 * the serving script adds one with `ip neigh replace`, as dnsmasq does with SIOCSARP. Once the
 * TAP link exists, the usernet front end will send DhcpReply.dstMac frames itself.
 *
 * Needs root, `ip` and busybox `udhcpc`; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './interop-helpers.js';

const SERVER_MODULE = fileURLToPath(new URL('../src/usernet/dhcp-server.js', import.meta.url));

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const tool of ['ip', 'udhcpc', 'ping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `'${tool}' is not installed (apt-get install -y iproute2 udhcpc iputils-ping)`;
    }
  }
  return null;
}

// Runs in the server namespace: DhcpServer behind a UDP socket on port 67; one JSON line per message.
const SERVE = `
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
const { DhcpServer } = await import(process.argv[2]);
const dev = process.argv[3];
const s = new DhcpServer({ serverAddr: '10.0.2.2', prefixLength: 24, poolStart: '10.0.2.15', dns: ['10.0.2.3'],
  mtu: 1400, domainName: 'usernet.test', leaseTime: 3600e6 });
const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
sock.on('message', (msg) => {
  const now = Math.round(performance.now() * 1000);
  const r = s.handle(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), now);
  let reply = null;
  if (r !== null) {
    if (r.dstMac !== null) {
      const mac = [...r.dstMac].map((b) => b.toString(16).padStart(2, '0')).join(':');
      execFileSync('ip', ['neigh', 'replace', r.dst, 'lladdr', mac, 'dev', dev, 'nud', 'reachable']);
    }
    sock.send(r.payload, r.dstPort, r.dst);
    reply = { type: r.message.options.get(53)[0], dst: r.dst, unicastMac: r.dstMac !== null };
  }
  console.log(JSON.stringify({ type: msg[242], reply, counters: s.counters, leases: s.leases(now) }));
});
sock.bind(67, () => { sock.setBroadcast(true); console.log(JSON.stringify({ ready: true })); });
`;

// udhcpc's event script: configure on bound/renew, then log the event with its variables.
const SCRIPT = `#!/bin/sh
case "$1" in
  bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
echo "$1 ip=$ip subnet=$subnet router=$router dns=$dns mtu=$mtu lease=$lease domain=$domain serverid=$serverid" >> "$(dirname "$0")/events"
`;

interface Line {
  ready?: boolean;
  type?: number;
  reply?: { type: number; dst: string; unicastMac: boolean } | null;
  counters?: { received: Record<string, number>; sent: Record<string, number>; releases: number };
  leases?: { addr: string; state: string; hostname: string | null }[];
}

test('busybox udhcpc gets an address from DhcpServer, renews and releases', { timeout: 60_000 }, async (t) => {
  const why = missing();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const nsS = `synack-dhcps-${process.pid}`;
  const nsC = `synack-dhcpc-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'synack-dhcp-'));
  writeFileSync(join(dir, 'serve.mjs'), SERVE);
  writeFileSync(join(dir, 'script.sh'), SCRIPT);
  chmodSync(join(dir, 'script.sh'), 0o755);
  const children: ChildProcess[] = [];
  const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
  ip('netns', 'add', nsS);
  ip('netns', 'add', nsC);
  try {
    ip('link', 'add', 'vS', 'netns', nsS, 'type', 'veth', 'peer', 'name', 'vC', 'netns', nsC);
    ip('-n', nsS, 'addr', 'add', '10.0.2.2/24', 'dev', 'vS');
    ip('-n', nsS, 'link', 'set', 'vS', 'up');
    // Limited broadcast (255.255.255.255) needs a route out of an unbound socket.
    ip('-n', nsS, 'route', 'add', 'default', 'dev', 'vS');
    ip('-n', nsC, 'link', 'set', 'vC', 'up');
    ip('-n', nsC, 'link', 'set', 'lo', 'up');

    const lines: Line[] = [];
    const server = spawn('ip', ['netns', 'exec', nsS, process.execPath, join(dir, 'serve.mjs'), SERVER_MODULE, 'vS'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(server);
    let buf = '';
    server.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, i)) as Line);
        buf = buf.slice(i + 1);
      }
    });
    await until('the server', 15_000, () => (lines.some((l) => l.ready) ? true : undefined));

    const client = spawn('ip', ['netns', 'exec', nsC, 'udhcpc', '-f', '-i', 'vC', '-s', join(dir, 'script.sh'), '-t', '5', '-T', '1', '-x', 'hostname:guest1'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    children.push(client);
    const events = (): string[] => (existsSync(join(dir, 'events')) ? readFileSync(join(dir, 'events'), 'utf8').trim().split('\n') : []);
    const bound = await until('udhcpc bound', 20_000, () => events().find((e) => e.startsWith('bound')));
    assert.match(bound, /ip=10\.0\.2\.15 subnet=255\.255\.255\.0 router=10\.0\.2\.2 dns=10\.0\.2\.3 mtu=1400 lease=3600 domain=usernet\.test serverid=10\.0\.2\.2/);
    assert.match(ip('-n', nsC, 'addr', 'show', 'dev', 'vC'), /inet 10\.0\.2\.15\/24/);
    // The OFFER and ACK: unicast to the client's MAC (no broadcast bit, no ciaddr yet).
    const offer = lines.find((l) => l.reply?.type === 2)!;
    assert.deepEqual(offer.reply, { type: 2, dst: '10.0.2.15', unicastMac: true });
    const firstAck = lines.find((l) => l.reply?.type === 5)!;
    assert.deepEqual(firstAck.leases!.map((l) => [l.addr, l.state, l.hostname]), [['10.0.2.15', 'bound', 'guest1']]);
    // The configured address works: the server namespace answers ping.
    execFileSync('ip', ['netns', 'exec', nsC, 'ping', '-c', '1', '-W', '2', '10.0.2.2'], { stdio: 'ignore' });

    // RENEWING: udhcpc unicasts a REQUEST with ciaddr; the ACK is unicast back to 10.0.2.15.
    client.kill('SIGUSR1');
    await until('renew', 15_000, () => events().find((e) => e.startsWith('renew')));
    // The server's log line of that ACK may reach us after udhcpc's script ran: wait for it.
    const renewAck = await until('the server to log the renewal ACK', 5_000, () => lines.find((l) => l.reply?.type === 5 && l.counters?.received.REQUEST === 2));
    assert.deepEqual(renewAck.reply, { type: 5, dst: '10.0.2.15', unicastMac: false });

    // RELEASE: the lease leaves the table.
    client.kill('SIGUSR2');
    const released = await until('release', 15_000, () => lines.find((l) => l.counters !== undefined && l.counters.releases === 1));
    assert.deepEqual(released.leases, []);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    try {
      ip('netns', 'del', nsC);
    } catch {}
    try {
      ip('netns', 'del', nsS);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
});
