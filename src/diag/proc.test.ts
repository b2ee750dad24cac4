import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIPv6, hostSnapshot, parseNetstat, parseProcNetTcp, parseSnmp, processOwners } from './proc.js';

// dist/src/diag/proc.test.js → <repo>/test/fixtures/proc
const FIX = fileURLToPath(new URL('../../../test/fixtures/proc', import.meta.url));
const fixture = (rel: string): string => readFileSync(join(FIX, rel), 'utf8');
const LE = { bigEndian: false };

test('parseProcNetTcp: IPv4 rows of every kind', () => {
  const rows = parseProcNetTcp(fixture('net/tcp'), 'tcp', LE);
  assert.equal(rows.length, 7);
  assert.deepEqual(rows[0], {
    proto: 'tcp', localAddress: '0.0.0.0', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0,
    state: 'LISTEN', recvQ: 3, sendQ: 0, uid: 1000, inode: 40001,
  });
  assert.equal(rows[1]!.localAddress, '127.0.0.1');
  assert.equal(rows[1]!.localPort, 3306);
  assert.deepEqual(
    rows.map((r) => r.state),
    ['LISTEN', 'LISTEN', 'ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECEIVED', 'SYN_SENT'],
  );
  const est = rows[2]!;
  assert.equal(est.localAddress, '10.0.0.10');
  assert.equal(est.remoteAddress, '10.0.0.9');
  assert.equal(est.remotePort, 54321);
  assert.equal(est.recvQ, 16);
  // TIME_WAIT and SYN_RECV rows have no inode.
  assert.equal(rows[3]!.inode, undefined);
  assert.equal(rows[5]!.inode, undefined);
  const synSent = rows[6]!;
  assert.equal(synSent.remoteAddress, '192.0.2.1');
  assert.equal(synSent.remotePort, 80);
  assert.equal(synSent.sendQ, 1);
});

test('parseProcNetTcp: big-endian word order', () => {
  const line = '   0: 7F000001:0050 0A000009:D431 01 00000000:00000000 00:00000000 00000000     0        0 7 1';
  const [row] = parseProcNetTcp(line, 'tcp', { bigEndian: true });
  assert.equal(row!.localAddress, '127.0.0.1');
  assert.equal(row!.remoteAddress, '10.0.0.9');
});

test('parseProcNetTcp: IPv6 rows, including IPv4-mapped', () => {
  const rows = parseProcNetTcp(fixture('net/tcp6'), 'tcp6', LE);
  assert.equal(rows.length, 4);
  assert.equal(rows[0]!.localAddress, '::');
  assert.equal(rows[0]!.localPort, 80);
  assert.equal(rows[0]!.state, 'LISTEN');
  assert.equal(rows[1]!.localAddress, '::ffff:10.0.0.10');
  assert.equal(rows[1]!.remoteAddress, '::ffff:10.0.0.9');
  assert.equal(rows[1]!.sendQ, 42);
  assert.equal(rows[2]!.localAddress, '2001:db8::1');
  assert.equal(rows[2]!.remoteAddress, '2001:db8::2');
  assert.equal(rows[2]!.remotePort, 57344);
  assert.equal(rows[3]!.localAddress, '::1');
  assert.equal(rows[3]!.state, 'CLOSE_WAIT');
  assert.ok(rows.every((r) => r.proto === 'tcp6'));
});

test('parseProcNetTcp: malformed lines throw with the line number', () => {
  assert.throws(() => parseProcNetTcp('  sl\n   0: nonsense', 'tcp'), /line 2/);
  assert.throws(
    () => parseProcNetTcp('   0: 0100007F:0050 00000000:0000 1F 00000000:00000000 00:00000000 00000000 0 0 1', 'tcp'),
    /unknown state 1F/,
  );
  // An IPv4 address in a tcp6 file.
  assert.throws(
    () => parseProcNetTcp('   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1', 'tcp6'),
    /bad address/,
  );
});

test('formatIPv6 follows RFC 5952', () => {
  const b = (...g: number[]): Uint8Array => {
    const out = new Uint8Array(16);
    g.forEach((x, i) => {
      out[2 * i] = x >> 8;
      out[2 * i + 1] = x & 0xff;
    });
    return out;
  };
  assert.equal(formatIPv6(b(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), '2001:db8::1:0:0:1'); // first of equal runs
  assert.equal(formatIPv6(b(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), '2001:db8:0:1:1:1:1:1'); // one zero: not compressed
  assert.equal(formatIPv6(b(0, 0, 0, 0, 0, 0, 0, 0)), '::');
  assert.equal(formatIPv6(b(0, 0, 0, 0, 0, 0, 0, 1)), '::1');
  assert.equal(formatIPv6(b(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0)), 'fe80::abcd:0:0:0');
  assert.equal(formatIPv6(b(1, 0, 0, 2, 0, 0, 0, 3)), '1:0:0:2::3'); // longest run wins
});

test('parseSnmp: the Tcp MIB (RFC 4022 names as Linux prints them)', () => {
  const c = parseSnmp(fixture('net/snmp'));
  assert.equal(c.ActiveOpens, 120);
  assert.equal(c.PassiveOpens, 340);
  assert.equal(c.AttemptFails, 7);
  assert.equal(c.EstabResets, 5);
  assert.equal(c.CurrEstab, 3);
  assert.equal(c.InSegs, 98765);
  assert.equal(c.OutSegs, 87654);
  assert.equal(c.RetransSegs, 321);
  assert.equal(c.InErrs, 2);
  assert.equal(c.OutRsts, 44);
  assert.equal(c.InCsumErrors, 1);
  assert.equal(c.MaxConn, -1);
  assert.equal(c.InReceives, undefined, 'Ip: lines are not TCP counters');
  assert.equal(c.NoPorts, undefined);
});

test('parseNetstat: TcpExt only, without the prefix', () => {
  const c = parseNetstat(fixture('net/netstat'));
  assert.equal(c.SyncookiesSent, 12);
  assert.equal(c.ListenOverflows, 17);
  assert.equal(c.ListenDrops, 19);
  assert.equal(c.TCPTimeouts, 40);
  assert.equal(c.TCPChallengeACK, 6);
  assert.equal(c.InMcastPkts, undefined);
  assert.throws(() => parseNetstat('TcpExt: A B\nTcpExt: 1\n'), /2 names but 1 values/);
});

test('hostSnapshot on the fixture tree', () => {
  const s = hostSnapshot({ procRoot: FIX });
  assert.equal(s.source, 'host');
  assert.equal(s.rows.length, 11);
  assert.equal(s.rows.filter((r) => r.proto === 'tcp6').length, 4);
  assert.equal(s.counters.ActiveOpens, 120);
  assert.equal(s.counters.ListenOverflows, 17);
  assert.deepEqual(s.settings, {
    tcp_syncookies: 1, tcp_max_syn_backlog: 512, somaxconn: 4096, tcp_fin_timeout: 60, tcp_tw_reuse: 2,
    tcp_syn_retries: 6, tcp_synack_retries: 5, ip_local_port_range_min: 32768, ip_local_port_range_max: 60999,
  });
  assert.ok(Math.abs(s.time - Date.now() / 1000) < 60);
  assert.throws(() => hostSnapshot({ procRoot: join(FIX, 'nope') }), /cannot read .*net\/tcp/);
});

test('processOwners and hostSnapshot({owners}) on a fake /proc', () => {
  const root = mkdtempSync(join(tmpdir(), 'synack-proc-'));
  try {
    for (const d of ['net', 'sys']) symlinkSync(join(FIX, d), join(root, d));
    const proc = (pid: number, comm: string, links: string[]): void => {
      mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
      writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
      links.forEach((l, i) => symlinkSync(l, join(root, String(pid), 'fd', String(i))));
    };
    proc(100, 'server', ['/dev/null', 'socket:[40001]', 'socket:[40003]', 'pipe:[9]']);
    proc(200, 'psql', ['socket:[50004]']);
    mkdirSync(join(root, '300')); // a process with no fd directory we can read
    mkdirSync(join(root, 'self'));
    const owners = processOwners(root);
    assert.deepEqual(owners.get(40001), { pid: 100, name: 'server' });
    assert.deepEqual(owners.get(50004), { pid: 200, name: 'psql' });
    assert.equal(owners.size, 3);
    const s = hostSnapshot({ procRoot: root, owners: true });
    const listen = s.rows.find((r) => r.inode === 40001)!;
    assert.equal(listen.pid, 100);
    assert.equal(listen.process, 'server');
    assert.equal(s.rows.find((r) => r.inode === 40002)!.pid, undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('live: this machine /proc', (t) => {
  if (!existsSync('/proc/net/tcp')) {
    t.skip('no /proc/net/tcp here (not Linux, or /proc not mounted)');
    console.log('# skipped live /proc test: /proc/net/tcp is absent');
    return;
  }
  const s = hostSnapshot({ owners: true });
  assert.equal(s.source, 'host');
  for (const r of s.rows) {
    assert.ok(r.localPort >= 0 && r.localPort <= 65535);
    assert.ok(r.proto === 'tcp' ? /^\d+\.\d+\.\d+\.\d+$/.test(r.localAddress) : r.localAddress.includes(':'));
  }
  if (existsSync('/proc/net/snmp')) assert.equal(typeof s.counters.ActiveOpens, 'number');
  if (existsSync('/proc/sys/net/core/somaxconn')) assert.ok(s.settings.somaxconn! > 0);
});
