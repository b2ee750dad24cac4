/**
 * The IP layer against the real Linux kernel over a TUN device (root, /dev/net/tun, ip netns,
 * the native addon and iputils ping; otherwise skipped with the reason): the kernel pings synack
 * over IPv4 and IPv6, also with 4000-byte payloads (fragmented both ways). synack's device lives
 * in a namespace the test creates and deletes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { tunUnavailableReason } from '../src/link/tun.js';
import { Netns, netnsUnavailableReason } from '../src/tun/netns.js';
import { startTapStack, startTunStack, type TunStack } from '../src/tun/run.js';
import { httpService, patternSha256 } from '../src/tun/services.js';

const skipReason: string | null = (() => {
  const r = netnsUnavailableReason() ?? tunUnavailableReason();
  if (r !== null) return r;
  for (const cmd of ['ping', 'curl', 'sha256sum']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `${cmd} is not installed`;
  }
  return null;
})();
if (skipReason !== null) console.log(`# IP interop tests skipped: ${skipReason}`);

function itest(name: string, fn: (t: TestContext) => Promise<void>): void {
  test(name, { timeout: 60_000 }, async (t) => {
    if (skipReason !== null) {
      t.skip(skipReason);
      return;
    }
    await fn(t);
  });
}

async function withTun(fn: (ts: TunStack, ns: Netns) => Promise<void>, kind: 'tun' | 'tap' = 'tun'): Promise<void> {
  const ns = Netns.create();
  let ts: TunStack | null = null;
  try {
    const opts = { netns: ns.name, dev: 'sk0', addr: '10.79.0.2/24', peer: '10.79.0.1', addr6: 'fd00:79::2/64', seed: 3 };
    ts = kind === 'tun' ? startTunStack(opts) : startTapStack(opts);
    await fn(ts, ns);
  } finally {
    ts?.close();
    ns.delete();
  }
}

for (const kind of ['tun', 'tap'] as const) itest(`the kernel pings synack over ${kind.toUpperCase()}: IPv4 and IPv6, 56 and 4000 bytes (fragmented both ways)`, async () => {
  await withTun(async (ts, ns) => {
    assert.equal(ts.peer6, 'fd00:79::1');
    for (const [args, dst] of [[[], '10.79.0.2'], [['-s', '4000'], '10.79.0.2'], [['-6'], 'fd00:79::2'], [['-6', '-s', '4000'], 'fd00:79::2']] as const) {
      const r = await ns.run('ping', [...args, '-c', '3', '-i', '0.2', '-W', '2', dst], { timeout: 20_000 });
      const out = r.stdout.toString();
      assert.equal(r.code, 0, `ping ${args.join(' ')} ${dst}: ${out} ${r.stderr}`);
      assert.match(out, / 3 received, 0% packet loss/);
      const size = (args as readonly string[]).includes('4000') ? 4008 : 64;
      assert.match(out, new RegExp(`^${size} bytes from ${dst.replace(/\./g, '\\.')}: icmp_seq=1 ttl=64`, 'm'));
    }
    const c = ts.stack.counters;
    assert.ok(c.IpReasmOKs! >= 3 && c.IpFragCreates! >= 9, `v4 reasm ${c.IpReasmOKs} frags ${c.IpFragCreates}`);
    assert.ok(c.Ip6ReasmOKs! >= 3 && c.Ip6FragCreates! >= 9, `v6 reasm ${c.Ip6ReasmOKs} frags ${c.Ip6FragCreates}`);
    assert.equal(c.IcmpOutEchoReps, 6);
    assert.equal(c.Icmp6OutEchoReplies, 6);
  }, kind);
});

itest('synack pings the kernel (stack.ping) over TUN, IPv4 and IPv6', async () => {
  await withTun(async (ts) => {
    for (const dst of ['10.79.0.1', 'fd00:79::1']) {
      const p = ts.stack.ping(dst, { size: 2000, timeout: 3_000_000 });
      ts.driver.kick();
      const r = await p;
      assert.equal(r.from, dst);
      assert.equal(r.bytes, 2008);
    }
  });
});

itest('PMTU: a kernel client behind a router whose onward link has MTU 1280 downloads 20 MB from synack intact', async () => {
  // synack (10.79.0.2) —TUN— router namespace R (10.79.0.1 | 10.81.0.1, forwarding) —veth MTU 1280— client C (10.81.0.2).
  // C's own side of the veth keeps MTU 1500, so C offers MSS 1460 and only the router's
  // "fragmentation needed" can tell synack to send smaller segments.
  const client = Netns.create();
  try {
    await withTun(async (ts, router) => {
      httpService(ts.stack, 80);
      ts.driver.kick();
      execFileSync('ip', ['-n', router.name, 'link', 'add', 'vr0', 'type', 'veth', 'peer', 'name', 'vc0', 'netns', client.name]);
      router.ip('link', 'set', 'vr0', 'mtu', '1280');
      router.ip('addr', 'add', '10.81.0.1/24', 'dev', 'vr0');
      router.ip('link', 'set', 'vr0', 'up');
      router.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      client.ip('addr', 'add', '10.81.0.2/24', 'dev', 'vc0');
      client.ip('link', 'set', 'vc0', 'up');
      client.ip('route', 'add', 'default', 'via', '10.81.0.1');
      const n = 20 * 1024 * 1024;
      const script = `curl -sS --max-time 50 -o - 'http://10.79.0.2/bytes/${n}' | sha256sum`;
      const r = await client.run('sh', ['-c', script], { timeout: 55_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString().split(' ')[0], patternSha256(n));
      assert.deepEqual(ts.stack.ip.pmtu.list(0).map((e) => [e.dst, e.mtu]), [['10.81.0.2', 1280]]);
      assert.ok(ts.stack.counters.IcmpInDestUnreachs! >= 1);
    });
  } finally {
    client.delete();
  }
});
