/**
 * RouterAdvertiser against a real kernel: a namespace the test creates (the guest) is joined by
 * a veth pair to a second one (the router), where `socat` bridges the veth's raw Ethernet frames
 * (a packet socket, INTERFACE:) to UDP datagrams on the router namespace's loopback, one frame
 * per datagram, and a Node script runs the advertiser on them. When the guest's link comes up,
 * its kernel solicits; the advertiser answers, and the kernel configures an address in the
 * prefix by SLAAC, a default route through the router's link-local address, and the MTU.
 *
 * Needs root, `ip` and `socat`; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './interop-helpers.js';

const ADVERTISER = fileURLToPath(new URL('../src/usernet/router-advert.js', import.meta.url));
const RNG = fileURLToPath(new URL('../src/rng.js', import.meta.url));

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const tool of ['ip', 'socat']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `'${tool}' is not installed (apt-get install -y iproute2 socat)`;
    }
  }
  return null;
}

// Runs in the router namespace: frames in and out as UDP datagrams from/to socat.
const ROUTER = `
import dgram from 'node:dgram';
const { RouterAdvertiser } = await import(process.argv[2]);
const { Rng } = await import(process.argv[3]);
const [inPort, socatPort] = [Number(process.argv[4]), Number(process.argv[5])];
const MAC = Uint8Array.from([2, 0, 0, 0, 0, 2]);
const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 1000);
const ra = new RouterAdvertiser({ source: 'fe80::ff:fe00:2', lladdr: MAC, prefixes: [{ prefix: 'fd00:13::/64' }],
  mtu: 1400, dns: ['fd00:13::3'], rng: new Rng(1) }, now());
const sock = dgram.createSocket('udp4');
function flush() {
  for (const pkt of ra.poll(now())) {
    const f = new Uint8Array(14 + pkt.length);
    f.set([0x33, 0x33, 0, 0, 0, 1], 0); // RFC 2464 §7: ff02::1 → 33:33:00:00:00:01
    f.set(MAC, 6);
    f.set([0x86, 0xdd], 12);
    f.set(pkt, 14);
    sock.send(f, socatPort, '127.0.0.1');
  }
  const wait = Math.max(0, Math.min(1000, (ra.nextDeadline() - now()) / 1000));
  setTimeout(flush, wait);
}
sock.on('message', (f) => {
  if (f.length > 14 && f[12] === 0x86 && f[13] === 0xdd && ra.onPacket(new Uint8Array(f.subarray(14)), now())) {
    console.log(JSON.stringify(ra.counters));
  }
});
sock.bind(inPort, '127.0.0.1', () => { console.log('ready'); flush(); });
`;

test('a kernel configures SLAAC, its default route and MTU from RouterAdvertiser', { timeout: 60_000 }, async (t) => {
  const why = missing();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const nsR = `synack-rar-${process.pid}`;
  const nsG = `synack-rag-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'synack-ra-'));
  writeFileSync(join(dir, 'router.mjs'), ROUTER);
  const children: ChildProcess[] = [];
  const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
  ip('netns', 'add', nsR);
  ip('netns', 'add', nsG);
  try {
    ip('link', 'add', 'vR', 'netns', nsR, 'type', 'veth', 'peer', 'name', 'vG', 'netns', nsG);
    ip('-n', nsR, 'link', 'set', 'lo', 'up');
    ip('-n', nsR, 'link', 'set', 'vR', 'up');
    execFileSync('ip', ['netns', 'exec', nsG, 'sysctl', '-qw', 'net.ipv6.conf.vG.accept_ra=1', 'net.ipv6.conf.vG.autoconf=1', 'net.ipv6.conf.vG.accept_dad=0']);
    const out: string[] = [];
    const router = spawn('ip', ['netns', 'exec', nsR, process.execPath, join(dir, 'router.mjs'), ADVERTISER, RNG, '40001', '40002'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(router);
    router.stdout!.on('data', (d: Buffer) => out.push(...d.toString().trim().split('\n')));
    await until('the router', 15_000, () => (out.includes('ready') ? true : undefined));
    const socat = spawn('ip', ['netns', 'exec', nsR, 'socat', 'INTERFACE:vR', 'UDP4-DATAGRAM:127.0.0.1:40001,bind=127.0.0.1:40002'], { stdio: 'ignore' });
    children.push(socat);
    await new Promise((r) => setTimeout(r, 300));
    // The guest's link comes up now: its kernel sends router solicitations.
    ip('-n', nsG, 'link', 'set', 'vG', 'up');
    const addr = await until('a SLAAC address', 20_000, () => {
      const m = /inet6 (fd00:13::[0-9a-f:]+)\/64 scope global/.exec(ip('-n', nsG, '-6', 'addr', 'show', 'dev', 'vG'));
      return m === null ? undefined : m[1];
    });
    // Modified EUI-64 from the veth's MAC (RFC 4862 §5.5.3, RFC 4291 Appendix A).
    const mac = /link\/ether ([0-9a-f:]+)/.exec(ip('-n', nsG, 'link', 'show', 'dev', 'vG'))![1]!.split(':').map((h) => parseInt(h, 16));
    const iid = [mac[0]! ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]].map((b) => b!.toString(16).padStart(2, '0'));
    const expected = `fd00:13::${[0, 2, 4, 6].map((i) => parseInt(iid[i]! + iid[i + 1]!, 16).toString(16)).join(':')}`;
    assert.equal(addr, expected);
    assert.match(ip('-n', nsG, '-6', 'route', 'show', 'default'), /default via fe80::ff:fe00:2 dev vG proto ra/);
    const mtu = execFileSync('ip', ['netns', 'exec', nsG, 'cat', '/proc/sys/net/ipv6/conf/vG/mtu'], { encoding: 'utf8' }).trim();
    assert.equal(mtu, '1400');
    // The kernel's solicitation reached the advertiser and was valid.
    const counters = out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { solicitsReceived: number; solicitsDropped: object });
    assert.ok(counters.length > 0 && counters.at(-1)!.solicitsReceived >= 1, `solicitations seen: ${JSON.stringify(counters.at(-1))}`);
    assert.deepEqual(counters.at(-1)!.solicitsDropped, {});
  } finally {
    for (const c of children) c.kill('SIGKILL');
    try {
      ip('netns', 'del', nsG);
    } catch {}
    try {
      ip('netns', 'del', nsR);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
});
