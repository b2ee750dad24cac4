/**
 * Interop with the real Linux kernel over a TAP device (Ethernet: the kernel resolves synack with
 * ARP and NDP, synack resolves the kernel), and IPv6 over TUN. Needs root, /dev/net/tun, `ip
 * netns`, the native addon, curl; otherwise every test is skipped with the reason.
 *
 * Layout as in interop.test.ts: each test makes its own namespace, synack's device is created
 * inside it, the stack runs in this process, the kernel side (curl, ip neigh) runs in the
 * namespace. The kernel is 10.78.0.1/24 and fd00:78::1/64 on the TAP device, synack .2 / ::2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns } from '../src/tun/netns.js';
import { startTapStack, startTunStack, type TunStack, type TunStackOptions } from '../src/tun/run.js';
import { clientTransfer, httpService, patternSha256 } from '../src/tun/services.js';
import { EtherType } from '../src/wire/ethernet.js';
import { curlBody, interopSkipReason, itest, waitFor, within } from './interop-helpers.js';

if (interopSkipReason !== null) console.log(`# TAP interop tests skipped: ${interopSkipReason}`);

const MB20 = 20_000_000;

async function withDevice(kind: 'tun' | 'tap', opts: Partial<TunStackOptions>, fn: (ts: TunStack, ns: Netns) => Promise<void>): Promise<void> {
  const ns = Netns.create();
  let ts: TunStack | null = null;
  try {
    const net = kind === 'tap' ? 78 : 77;
    ts = (kind === 'tap' ? startTapStack : startTunStack)({
      netns: ns.name,
      dev: `sk${kind}0`,
      addr: `10.${net}.0.2/24`,
      addr6: `fd00:${net}::2/64`,
      seed: 11,
      ...opts,
    });
    await within(80_000, 'the test body', fn(ts, ns));
  } finally {
    ts?.close();
    ns.delete();
  }
}

/** `ip neigh show dev DEV` in the namespace: address → { lladdr, state }. */
function kernelNeighbours(ns: Netns, dev: string): Map<string, { lladdr: string; state: string }> {
  const out = new Map<string, { lladdr: string; state: string }>();
  for (const line of ns.ip('neigh', 'show', 'dev', dev).trim().split('\n')) {
    const m = /^(\S+) lladdr (\S+)(?: router)? (\S+)/.exec(line.trim());
    if (m) out.set(m[1]!, { lladdr: m[2]!, state: m[3]! });
  }
  return out;
}

itest('TAP: curl over IPv4 and IPv6 gets 200 and 20 MB intact; the kernel sees synack\'s MAC as REACHABLE for both', async () => {
  await withDevice('tap', {}, async (ts, ns) => {
    httpService(ts.stack, 80);
    const want = patternSha256(MB20);
    const r4 = await curlBody(ns, `http://10.78.0.2/bytes/${MB20}`);
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(r4.http, 200);
    assert.equal(r4.size, MB20);
    assert.equal(r4.sha, want);
    const r6 = await curlBody(ns, `http://[fd00:78::2]/bytes/${MB20}`, ['-g']);
    assert.equal(r6.code, 0, r6.stderr);
    assert.equal(r6.http, 200);
    assert.equal(r6.size, MB20);
    assert.equal(r6.sha, want);
    const neigh = kernelNeighbours(ns, ts.tun.name);
    const mac = ts.eth!.macText;
    assert.deepEqual(neigh.get('10.78.0.2'), { lladdr: mac, state: 'REACHABLE' }, `ip neigh: ${JSON.stringify([...neigh])}`);
    assert.deepEqual(neigh.get('fd00:78::2'), { lladdr: mac, state: 'REACHABLE' }, `ip neigh: ${JSON.stringify([...neigh])}`);
    // And synack resolved the kernel: its own table has the kernel's MAC for both peers.
    const kernelMac = /link\/ether (\S+)/.exec(ns.ip('link', 'show', ts.tun.name))![1]!;
    const ours = new Map(ts.eth!.neighbors().map((n) => [n.address, n]));
    assert.equal(ours.get('10.78.0.1')?.lladdr, kernelMac);
    assert.equal(ours.get('fd00:78::1')?.lladdr, kernelMac);
    assert.equal(ts.eth!.neighStats.resFailed, 0);
  });
}, 120_000);

itest('TAP: the kernel\'s ARP request and neighbour solicitation are answered; a kernel that forgot us re-resolves', async () => {
  await withDevice('tap', {}, async (ts, ns) => {
    httpService(ts.stack, 80);
    const page = await ns.run('curl', ['-sS', '--max-time', '10', 'http://10.78.0.2/']);
    assert.equal(page.code, 0, page.stderr);
    const before = ts.eth!.counters.txArpReplies;
    ns.ip('neigh', 'flush', 'dev', ts.tun.name);
    const again = await ns.run('curl', ['-sS', '-g', '--max-time', '10', 'http://[fd00:78::2]/']);
    assert.equal(again.code, 0, again.stderr);
    const v4 = await ns.run('curl', ['-sS', '--max-time', '10', 'http://10.78.0.2/']);
    assert.equal(v4.code, 0, v4.stderr);
    assert.ok(ts.eth!.counters.txArpReplies > before, 'an ARP reply after the flush');
    assert.ok(ts.eth!.counters.rxNeighborSolicits > 0 && ts.eth!.counters.txNeighborAdverts > 0);
    await waitFor('kernel entries', () => kernelNeighbours(ns, ts.tun.name).size >= 2, 5000);
  });
});

itest('synack tap as a child in the namespace: flags, neighbours on the page and at exit, LINKTYPE_ETHERNET capture with ARP', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-tap-'));
  const pcap = join(dir, 'tap.pcap');
  const ns = Netns.create();
  try {
    const main = new URL('../src/cli/main.js', import.meta.url).pathname;
    const args = ['tap', '--dev', 'skt0', '--addr', '10.78.0.2/24', '--peer', '10.78.0.1/24', '--addr6', 'fd00:78::2/64', '--peer6', 'fd00:78::1/64', '--gateway', '10.78.0.1', '--mtu', '1400', '--mac', '02:00:00:78:00:02', '--http', '80', '--pcap', pcap, '--ready'];
    const child = ns.spawn(process.execPath, [main, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await within(15_000, 'synack tap readiness', new Promise<Record<string, unknown>>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const i = out.indexOf('\n');
        if (i >= 0) resolve(JSON.parse(out.slice(0, i)) as Record<string, unknown>);
      });
      child.on('exit', (code) => reject(new Error(`synack tap exited with ${code}: ${stderr}`)));
    }));
    assert.equal(ready.kind, 'tap');
    assert.equal(ready.dev, 'skt0');
    assert.equal(ready.mac, '02:00:00:78:00:02');
    assert.equal(ready.address6, 'fd00:78::2');
    assert.match(ns.ip('link', 'show', 'dev', 'skt0'), /mtu 1400/);
    const page = await ns.run('curl', ['-sS', '-g', '--max-time', '10', 'http://[fd00:78::2]/']);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout.toString(), /neighbours \(ip neigh\):\n.*fd00:78::1 dev skt0 lladdr [0-9a-f:]{17} (REACHABLE|STALE|DELAY|PROBE)/s);
    const r = await curlBody(ns, 'http://10.78.0.2/bytes/3000000');
    assert.equal(r.sha, patternSha256(3_000_000));
    assert.equal(kernelNeighbours(ns, 'skt0').get('10.78.0.2')?.lladdr, '02:00:00:78:00:02');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await within(10_000, 'synack tap to exit on SIGTERM', exited), 0, stderr);
    assert.throws(() => ns.ip('link', 'show', 'dev', 'skt0'), /does not exist|Cannot find/);
    assert.match(stderr, /neighbour 10\.78\.0\.1 dev skt0 lladdr [0-9a-f:]{17} (REACHABLE|STALE|DELAY)/);
    const b = readFileSync(pcap);
    assert.equal(b.readUInt32LE(20), 1, 'LINKTYPE_ETHERNET');
    const types: number[] = [];
    for (let off = 24; off + 16 <= b.length; ) {
      const incl = b.readUInt32LE(off + 8);
      types.push(b.readUInt16BE(off + 16 + 12));
      off += 16 + incl;
    }
    assert.ok(types.includes(EtherType.ARP), 'ARP frames captured');
    assert.ok(types.includes(EtherType.IPV4) && types.includes(EtherType.IPV6));
  } finally {
    ns.delete();
    rmSync(dir, { recursive: true, force: true });
  }
});

itest('TAP: with 5 % loss and reordering on our side (ARP and NDP frames included), downloads arrive intact', async () => {
  await withDevice('tap', { fault: { loss: 0.05, reorder: 0.05, delay: 1000 } }, async (ts, ns) => {
    httpService(ts.stack, 80);
    const n = 2_000_000;
    for (const url of ['http://10.78.0.2/bytes/2000000', 'http://[fd00:78::2]/bytes/2000000']) {
      const r = await curlBody(ns, url, ['-g']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.size, n, url);
      assert.equal(r.sha, patternSha256(n), url);
    }
    assert.ok((ts.stack.counters.RetransSegs ?? 0) > 0, 'losses were repaired by retransmission');
  });
}, 90_000);

const ECHO_PY = String.raw`
import socket, threading
def listen(fam, addr):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((addr, 7)); s.listen(8)
    return s
def serve(s):
    while True:
        c, _ = s.accept(); d = b''
        while True:
            x = c.recv(65536)
            if not x: break
            d += x
        c.sendall(d); c.close()
# Both sockets listen before 'ready' is printed (a connect that raced a thread's listen() was refused).
socks = [listen(fam, a) for fam, a in ((socket.AF_INET, '10.79.0.2'), (socket.AF_INET6, 'fd00:79::2'))]
for s in socks:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
print('ready', flush=True)
threading.Event().wait()
`;

itest('TAP: off-link destinations go through the gateway (the kernel namespace routes to a second one), IPv4 and IPv6', async () => {
  const far = Netns.create();
  try {
    await withDevice('tap', {}, async (ts, ns) => {
      // ns (the kernel side of the TAP device) routes between the TAP subnet and a veth to `far`.
      ns.ip('link', 'add', 'skv0', 'type', 'veth', 'peer', 'name', 'skv1', 'netns', far.name);
      ns.ip('addr', 'add', '10.79.0.1/24', 'dev', 'skv0');
      ns.ip('-6', 'addr', 'add', 'fd00:79::1/64', 'dev', 'skv0', 'nodad');
      ns.ip('link', 'set', 'skv0', 'up');
      // /proc/sys/net is per namespace; no sysctl(8) needed (procps may not be installed).
      ns.exec('sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding']);
      far.ip('addr', 'add', '10.79.0.2/24', 'dev', 'skv1');
      far.ip('-6', 'addr', 'add', 'fd00:79::2/64', 'dev', 'skv1', 'nodad');
      far.ip('link', 'set', 'skv1', 'up');
      far.ip('route', 'add', 'default', 'via', '10.79.0.1');
      far.ip('-6', 'route', 'add', 'default', 'via', 'fd00:79::1');
      const srv = far.spawn('python3', ['-u', '-c', ECHO_PY], { stdio: ['ignore', 'pipe', 'pipe'] });
      await within(10_000, 'the echo server in the far namespace', new Promise<void>((resolve) => srv.stdout!.once('data', () => resolve())));
      const kick = (): void => ts.driver.kick();
      for (const remoteAddress of ['10.79.0.2', 'fd00:79::2']) {
        const r = await clientTransfer(ts.stack, { remoteAddress, remotePort: 7, upload: 1_000_000, kick });
        assert.equal(r.bytes, 1_000_000, remoteAddress);
        assert.equal(r.sha256, patternSha256(1_000_000), remoteAddress);
      }
      // Only the gateways were resolved; the far hosts never appear in synack's neighbour table.
      const addrs = ts.eth!.neighbors().map((n) => n.address).sort();
      assert.ok(addrs.includes('10.78.0.1') && addrs.includes('fd00:78::1'), addrs.join(' '));
      assert.ok(!addrs.includes('10.79.0.2') && !addrs.includes('fd00:79::2'), addrs.join(' '));
    });
  } finally {
    far.delete();
  }
}, 90_000);

itest('TUN: curl over IPv6 gets 200 and 20 MB intact', async () => {
  await withDevice('tun', {}, async (ts, ns) => {
    assert.equal(ts.address6, 'fd00:77::2');
    assert.equal(ts.peer6, 'fd00:77::1');
    httpService(ts.stack, 80);
    const r6 = await curlBody(ns, `http://[fd00:77::2]/bytes/${MB20}`, ['-g']);
    assert.equal(r6.code, 0, r6.stderr);
    assert.equal(r6.http, 200);
    assert.equal(r6.size, MB20);
    assert.equal(r6.sha, patternSha256(MB20));
    // The IPv4 side still works beside it.
    const r4 = await curlBody(ns, 'http://10.77.0.2/bytes/100000');
    assert.equal(r4.sha, patternSha256(100000));
  });
}, 120_000);

test('synack tun/tap: --help, and flag errors exit 2 naming the flag (runs anywhere)', () => {
  const main = new URL('../src/cli/main.js', import.meta.url).pathname;
  const run = (...args: string[]): { status: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };
  const help = run('tap', '--help');
  assert.equal(help.status, 0);
  assert.match(help.out, /usage: synack tap .*--addr6 A\/P.*--mac MAC/s);
  assert.match(run('tun', '--help').out, /--gateway A/);
  assert.doesNotMatch(run('tun', '--help').out, /--mac/);
  const bad6 = run('tap', '--addr6', 'fd00::1/200');
  assert.equal(bad6.status, 2);
  assert.match(bad6.err, /synack tap: prefix \/200 must be 1\.\.126/);
  const badMac = run('tun', '--mac', '02:00:00:00:00:01');
  assert.equal(badMac.status, 2, 'tun has no --mac');
  const badGw = run('tap', '--gateway', 'nope');
  assert.equal(badGw.status, 2);
  assert.match(badGw.err, /synack tap: gateway 'nope' is not an IP address/);
  const badPeer = run('tun', '--addr6', 'fd00::2/64', '--peer6', '10.0.0.1');
  assert.equal(badPeer.status, 2);
  assert.match(badPeer.err, /synack tun: peer6: '10\.0\.0\.1' is not an IPv6 address/);
});
