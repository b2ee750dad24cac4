/**
 * The host around TCP: interfaces, lo, routes (longest prefix), next hops, the handler table.
 * All on virtual time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { RouteTable } from '../src/ip/route.js';
import { Interface } from '../src/ip/iface.js';
import { parseAddr } from '../src/wire/addr.js';
import { Stack } from '../src/stack/stack.js';
import { ms, sec } from '../src/time.js';
import type { TcpSocket } from '../src/stack/socket.js';

test('routing table: longest prefix wins, then the default route; none → null', () => {
  const t = new RouteTable();
  const a = new Interface('a', 2, null);
  const b = new Interface('b', 3, null);
  t.add('0.0.0.0/0', a, { gateway: '10.0.0.254' });
  t.add('10.0.0.0/8', a);
  t.add('10.1.2.0/24', b);
  t.add('10.1.2.128/25', a, { gateway: '10.1.2.1' });
  const look = (d: string) => t.lookup(parseAddr(d)!);
  assert.equal(look('10.1.2.3')!.iface, b);
  assert.equal(look('10.1.2.200')!.gateway, '10.1.2.1');
  assert.equal(look('10.9.9.9')!.text, '10.0.0.0/8');
  assert.equal(look('192.0.2.1')!.gateway, '10.0.0.254');
  assert.equal(look('::1'), null);
  t.add('2001:db8::/32', b);
  assert.equal(look('2001:db8::7')!.text, '2001:db8::/32');
  assert.throws(() => t.add('10.0.0.0/33', a), /prefix length/);
  assert.throws(() => t.add('10.0.0.0/8', a, { gateway: 'fd00::1' }), /gateway/);
});

test('every stack has lo (127.0.0.1/8, ::1) first; addresses accept ADDR/LEN', () => {
  const s = new Stack({ addresses: ['10.0.0.1/24', 'fd00::1/64'], clock: () => 0 });
  assert.deepEqual(s.ip.interfaces.map((i) => i.name), ['lo', 'eth0']);
  assert.deepEqual([...s.addresses], ['10.0.0.1', 'fd00::1', '127.0.0.1', '::1']);
  assert.equal(s.ip.path('127.0.0.5')!.route.iface.name, 'lo');
  assert.equal(s.ip.path('10.0.0.1')!.route.iface.name, 'lo', 'own address goes through lo');
  assert.equal(s.ip.path('10.0.0.9')!.nextHop, '10.0.0.9');
  assert.equal(s.ip.path('192.0.2.1'), null, 'a prefixed address adds no default route');
  assert.throws(() => s.connect({ remoteAddress: '192.0.2.1', remotePort: 80 }), /ENETUNREACH/);
  assert.throws(() => new Stack({ addresses: ['10.0.0.1/40'], clock: () => 0 }), /prefix length/);
  s.addInterface('eth1', { mtu: 1500, send() {}, onReceive() {} }, ['192.168.7.1']);
  assert.deepEqual([...s.addresses], ['10.0.0.1', 'fd00::1', '192.168.7.1', '127.0.0.1', '::1'], 'the view follows added addresses');
});

function transfer(w: SimWorld, client: Stack, server: Stack, to: string, bytes: number): { got: number; sock: TcpSocket } {
  const l = server.listen({ port: 7, address: to.includes(':') ? '::' : '0.0.0.0' });
  let got = 0;
  l.onConnection = (s) => {
    s.onData = () => {
      for (let b = s.read(); b !== null; b = s.read()) got += b.length;
    };
  };
  const sock = client.connect({ remoteAddress: to, remotePort: 7 });
  const data = new Uint8Array(bytes).fill(7);
  let off = 0;
  const pump = (): void => {
    while (off < bytes) {
      const n = sock.write(data.subarray(off));
      if (n === 0) break;
      off += n;
    }
  };
  sock.onConnect = pump;
  sock.onWritable = pump;
  w.run(w.now + sec(5));
  return { get got() { return got; }, sock };
}

test('loopback: a stack connects to itself over 127.0.0.1 and ::1 (MSS from lo MTU 65536)', () => {
  for (const to of ['127.0.0.1', '::1', '10.0.0.1']) {
    const w = new SimWorld();
    const a = w.addHost('a', ['10.0.0.1']);
    const r = transfer(w, a, a, to, 1_000_000);
    assert.equal(r.got, 1_000_000, to);
    assert.equal(r.sock.localAddress, to, 'source = the local destination itself');
    assert.equal(r.sock.conn.snapshot(w.now).mss > 60_000, true, `lo MSS for ${to}`);
  }
});

test('a router: two interfaces, forwarding on, hosts behind it reach each other through their gateways', () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.1.2/24'], { gateway: '10.0.1.1' });
  const b = w.addHost('b', ['10.0.2.2/24'], { gateway: '10.0.2.1' });
  const r = w.addHost('r', ['10.0.1.1/24']);
  r.addInterface('eth1', w.net.attach('r:eth1', ['10.0.2.1']), ['10.0.2.1/24']);
  r.ip.forwarding = true;
  const hops: string[] = [];
  w.onFrame((ev) => hops.push(`${ev.from}>${ev.to}`));
  const t = transfer(w, a, b, '10.0.2.2', 100_000);
  assert.equal(t.got, 100_000);
  assert.ok(hops.includes('a>r') && hops.includes('r:eth1>b') && hops.includes('b>r:eth1') && hops.includes('r>a'), hops.slice(0, 6).join(' '));
  assert.ok(r.counters.IpForwDatagrams! > 50);
  // Without forwarding the router drops what is not for it (counted, as Linux's InAddrErrors).
  r.ip.forwarding = false;
  const before = r.counters.IpInAddrErrors ?? 0;
  const s2 = a.connect({ remoteAddress: '10.0.2.2', remotePort: 7 });
  w.run(w.now + ms(10));
  assert.equal(s2.state, 'SYN_SENT');
  assert.ok(r.counters.IpInAddrErrors! > before);
});

test('the forwarding hook sees datagrams for other hosts first and may take them (user-mode networking)', () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['10.0.1.2/24'], { gateway: '10.0.1.1' });
  const r = w.addHost('r', ['10.0.1.1/24']);
  const seen: string[] = [];
  r.ip.forwardHook = (ip) => {
    seen.push(`${ip.src}>${ip.dst} ${ip.protocol}`);
    return true;
  };
  a.connect({ remoteAddress: '93.184.216.34', remotePort: 80 });
  w.run(w.now + ms(10));
  assert.deepEqual(seen, ['10.0.1.2>93.184.216.34 6']);
  assert.equal(r.counters.IpInAddrErrors, 0, 'taken, not dropped');
});

test('scoped link-local: fe80::2%eth1 leaves through eth1 even though eth0 has fe80::/64 too (RFC 4007)', () => {
  const w = new SimWorld();
  const a = w.addHost('a', ['fe80::1/64', '10.0.0.1/24']);
  a.addInterface('eth1', w.net.attach('a:eth1', ['fe80::11']), ['fe80::11/64']);
  const b = w.addHost('b', ['fe80::2/64']);
  b.listen({ port: 7, address: '::' });
  const via: string[] = [];
  w.onFrame((ev) => via.push(ev.from));
  const s = a.connect({ remoteAddress: 'fe80::2%eth1', remotePort: 7 });
  w.run(w.now + ms(10));
  assert.equal(s.localAddress, 'fe80::11');
  assert.equal(s.state, 'ESTABLISHED');
  assert.equal(via[0], 'a:eth1');
  assert.throws(() => a.connect({ remoteAddress: 'fe80::2%eth9', remotePort: 7 }), /EINVAL/);
});
