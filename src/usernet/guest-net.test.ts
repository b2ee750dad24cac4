/**
 * The guest network's plan: slirp's addresses by default, other subnets, the options handed to
 * the DHCP server and the router advertiser (both accept them), and what each destination means.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { DhcpServer } from './dhcp-server.js';
import { GuestNet } from './guest-net.js';
import { RouterAdvertiser } from './router-advert.js';

test("slirp's addresses by default, IPv6 beside them", () => {
  const g = new GuestNet();
  assert.deepEqual(
    [g.net, g.gateway, g.dns, g.poolStart, g.net6, g.gateway6, g.dns6, g.routerLinkLocal, g.mtu],
    ['10.0.2.0/24', '10.0.2.2', '10.0.2.3', '10.0.2.15', 'fd00::/64', 'fd00::2', 'fd00::3', 'fe80::2', 1500],
  );
  // The pieces accept the options as they are.
  const dhcp = new DhcpServer(g.dhcpOptions());
  assert.equal(dhcp.poolSize, 16);
  const ra = new RouterAdvertiser({ ...g.raOptions()!, lladdr: Uint8Array.from([0x52, 0x55, 10, 0, 2, 2]), rng: new Rng(1) }, 0);
  assert.equal(ra.poll(0).length, 1);
});

test('other subnets: host bits cleared, a wider net, no IPv6', () => {
  const g = new GuestNet({ net: '192.168.77.9/24', net6: 'fd00:77:1:2:3::/64', mtu: 9000 });
  assert.deepEqual([g.net, g.gateway, g.dns, g.poolStart, g.net6, g.dns6], ['192.168.77.0/24', '192.168.77.2', '192.168.77.3', '192.168.77.15', 'fd00:77:1:2::/64', 'fd00:77:1:2::3']);
  const v4only = new GuestNet({ net: '172.16.0.0/16', net6: null, mtu: 576 });
  assert.deepEqual([v4only.gateway, v4only.net6, v4only.raOptions()], ['172.16.0.2', null, null]);
  assert.throws(() => new GuestNet({ net: '10.0.0.0/28' }), /too small/);
  assert.throws(() => new GuestNet({ net: 'fd00::/64' }), /net must be an IPv4/);
  assert.throws(() => new GuestNet({ net6: 'fd00::/56' }), /\/64/);
  assert.throws(() => new GuestNet({ mtu: 1000 }), /mtu/);
});

test('destinations: the gateway is the host loopback (unless refused), DNS is local, the rest is relayed', () => {
  const g = new GuestNet();
  assert.equal(g.classify('10.0.2.2'), 'gateway');
  assert.equal(g.classify('FD00:0::2'), 'gateway');
  assert.equal(g.classify('10.0.2.3'), 'dns');
  assert.equal(g.classify('fd00::3'), 'dns');
  assert.equal(g.classify('10.0.2.99'), 'guest-net');
  assert.equal(g.classify('93.184.216.34'), 'outside');
  assert.equal(g.hostAddressFor('10.0.2.2'), '127.0.0.1');
  assert.equal(g.hostAddressFor('fd00::2'), '::1');
  assert.equal(g.hostAddressFor('10.0.2.3'), null);
  assert.equal(g.hostAddressFor('10.0.2.50'), null);
  assert.equal(g.hostAddressFor('2001:DB8::1'), '2001:db8::1');
  assert.equal(new GuestNet({ hostLoopback: false }).hostAddressFor('10.0.2.2'), null);
  assert.throws(() => g.classify('x'), /not an IP address/);
});
