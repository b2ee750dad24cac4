/**
 * `--forward` specifications: what each form means, the loopback default, overlaps refused, and
 * every malformed value refused with its name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestPortFor, parseForward, parseForwards } from './forward-spec.js';

test('forward specs: protocol, loopback by default, explicit bind addresses, ranges', () => {
  assert.deepEqual(parseForward('tcp:8080:80'), { protocol: 'tcp', bindAddr: '127.0.0.1', hostPort: 8080, guestPort: 80, count: 1 });
  assert.deepEqual(parseForward('udp:5353:53'), { protocol: 'udp', bindAddr: '127.0.0.1', hostPort: 5353, guestPort: 53, count: 1 });
  assert.equal(parseForward('tcp:0.0.0.0:8080:80').bindAddr, '0.0.0.0');
  assert.equal(parseForward('tcp:[0:0::1]:8080:80').bindAddr, '::1');
  const r = parseForward('tcp:9000-9009:7000-7009');
  assert.equal(r.count, 10);
  assert.equal(guestPortFor(r, 9003), 7003);
  assert.equal(guestPortFor(r, 9010), null);
});

test('malformed forward specs are refused with the value named', () => {
  for (const [spec, why] of [
    ['icmp:1:1', /expected tcp\|udp/],
    ['tcp:80', /expected/],
    ['tcp:0:80', /HOSTPORT/],
    ['tcp:70000:80', /HOSTPORT/],
    ['tcp:90-80:80', /HOSTPORT/],
    ['tcp:8080:0', /GUESTPORT/],
    ['tcp:9000-9001:80', /host range has 2 ports and the guest range 1/],
    ['tcp:300.1.1.1:80:80', /not an IP address/],
    ['tcp:[10.0.0.1]:80:80', /not an IP address/],
  ] as const) {
    assert.throws(() => parseForward(spec), (e: Error) => why.test(e.message) && e.message.includes(JSON.stringify(spec)), spec);
  }
});

test('forwards that would listen on the same port are refused; other protocols and addresses are not', () => {
  assert.equal(parseForwards(['tcp:8080:80', 'udp:8080:80', 'tcp:127.0.0.2:8080:80', 'tcp:[::1]:8080:80']).length, 4);
  assert.throws(() => parseForwards(['tcp:8080:80', 'tcp:8080:81']), /overlaps "tcp:8080:80"/);
  assert.throws(() => parseForwards(['tcp:9000-9010:9000-9010', 'tcp:9005:22']), /port 9005/);
  assert.throws(() => parseForwards(['tcp:0.0.0.0:22:22', 'tcp:127.0.0.1:22:2222']), /overlaps/);
  assert.equal(parseForwards(['tcp:[::]:22:22', 'tcp:127.0.0.1:22:2222']).length, 2);
});
