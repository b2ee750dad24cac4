/**
 * The relay's `--allow` list: networks, ports and protocols match as written, nothing else does,
 * and malformed rules are refused with the rule named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllowList } from './allow-list.js';

test('the allow list: networks, ports, protocols; empty allows nothing', () => {
  const a = new AllowList(['10.1.2.3', '192.168.0.0/16:443', 'tcp:0.0.0.0/0:80-81', 'udp:[2001:db8::/32]:53']);
  assert.equal(a.match('tcp', '10.1.2.3', 22)?.text, '10.1.2.3');
  assert.equal(a.match('udp', '10.1.2.3', 9), a.rules[0]);
  assert.equal(a.match('tcp', '10.1.2.4', 22), null);
  assert.equal(a.match('tcp', '192.168.77.1', 443)?.text, '192.168.0.0/16:443');
  assert.equal(a.match('tcp', '192.168.77.1', 444), null);
  assert.equal(a.match('tcp', '8.8.8.8', 81)?.text, 'tcp:0.0.0.0/0:80-81');
  assert.equal(a.match('udp', '8.8.8.8', 80), null);
  assert.equal(a.match('udp', '2001:DB8:0::1', 53)?.text, 'udp:[2001:db8::/32]:53');
  assert.equal(a.match('tcp', '2001:db8::1', 53), null);
  // IPv4-mapped addresses are their IPv4 address; an IPv4 rule never matches a plain IPv6 one.
  assert.equal(a.match('tcp', '::ffff:10.1.2.3', 1)?.text, '10.1.2.3');
  assert.equal(a.match('tcp', 'fd00::1', 80), null);
  assert.equal(a.match('tcp', 'not-an-address', 80), null);
  assert.equal(new AllowList([]).match('tcp', '127.0.0.1', 80), null);
});

test('malformed allow rules are refused with the rule named', () => {
  assert.throws(() => new AllowList(['10.0.0.0/33']), /"10\.0\.0\.0\/33": prefix length/);
  assert.throws(() => new AllowList(['2001:db8::1']), /expected|IPv6 goes in brackets/);
  assert.throws(() => new AllowList(['example.com:80']), /not an IP address/);
  assert.throws(() => new AllowList(['10.0.0.1:0']), /ports/);
  assert.throws(() => new AllowList(['10.0.0.1:90-80']), /ports/);
  assert.throws(() => new AllowList('10.0.0.1' as unknown as string[]), /array/);
});
