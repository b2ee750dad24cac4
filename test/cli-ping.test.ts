import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pingLines } from '../src/cli/ping.js';
import { ms, sec } from '../src/time.js';

const base = { v6: false, count: 3, size: 56, interval: sec(1), timeout: sec(1), ttl: 64, delay: ms(5), loss: 0, mtu: 1500, seed: 1 };

test('synack ping prints what ping(8) prints, on virtual time', async () => {
  const r = await pingLines(base);
  assert.equal(r.status, 0);
  assert.deepEqual(r.lines, [
    'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.',
    '64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=10.0 ms',
    '64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=10.0 ms',
    '64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=10.0 ms',
    '',
    '--- 10.0.0.2 ping statistics ---',
    '3 packets transmitted, 3 received, 0% packet loss, time 2010ms',
    'rtt min/avg/max/mdev = 10.000/10.000/10.000/0.000 ms',
  ]);
  const six = await pingLines({ ...base, v6: true, size: 4000, count: 1 });
  assert.equal(six.lines[0], 'PING fd00::2 (fd00::2) 4000 data bytes');
  assert.equal(six.lines[1], '4008 bytes from fd00::2: icmp_seq=1 ttl=64 time=10.0 ms');
  const lost = await pingLines({ ...base, loss: 1 });
  assert.equal(lost.status, 1);
  assert.match(lost.lines.join('\n'), /3 packets transmitted, 0 received, 100% packet loss/);
});

test('synack ping: the CLI command, and a clear error for a bad option', () => {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const ok = spawnSync(process.execPath, [main, 'ping', '-c', '2', '-s', '100'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^108 bytes from 10\.0\.0\.2: icmp_seq=2 ttl=64 time=1\.00 ms$/m);
  const bad = spawnSync(process.execPath, [main, 'ping', '-s', 'x'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /-s: an integer 0\.\.65507, got x/);
});
