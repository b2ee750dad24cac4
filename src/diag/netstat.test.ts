import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { ConnRow } from './types.js';
import type { TcpStateName } from '../tcp/state.js';
import { formatCounters, formatNetstat, formatStats, selectRows, stateStats } from './netstat.js';

function row(state: TcpStateName, local: string, lport: number, remote: string, rport: number, extra: Partial<ConnRow> = {}): ConnRow {
  return {
    proto: local.includes(':') ? 'tcp6' : 'tcp',
    localAddress: local, localPort: lport, remoteAddress: remote, remotePort: rport,
    state, recvQ: 0, sendQ: 0, ...extra,
  };
}

const ROWS: ConnRow[] = [
  row('LISTEN', '0.0.0.0', 22, '0.0.0.0', 0, { pid: 812, process: 'sshd' }),
  row('LISTEN', '127.0.0.1', 3306, '0.0.0.0', 0, { recvQ: 2 }),
  row('ESTABLISHED', '10.0.0.10', 22, '10.0.0.9', 54321, { sendQ: 36, pid: 1500, process: 'sshd' }),
  row('TIME_WAIT', '10.0.0.10', 8080, '10.0.0.9', 54322),
  row('CLOSE_WAIT', '10.0.0.10', 8080, '10.0.0.8', 54323, { recvQ: 1 }),
  row('SYN_RECEIVED', '10.0.0.10', 8080, '10.0.0.9', 54324),
  row('SYN_SENT', '10.0.0.10', 50000, '192.0.2.1', 80, { sendQ: 1 }),
  row('LISTEN', '::', 80, '::', 0, { pid: 900, process: 'nginx' }),
  row('ESTABLISHED', '::ffff:10.0.0.10', 80, '::ffff:10.0.0.9', 54325),
  row('FIN_WAIT_2', '2001:db8::1', 443, '2001:db8::2', 57344),
];

test('formatNetstat -tan: exact net-tools layout', () => {
  const expected = [
    'Active Internet connections (servers and established)',
    'Proto Recv-Q Send-Q Local Address           Foreign Address         State',
    'tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN',
    'tcp        2      0 127.0.0.1:3306          0.0.0.0:*               LISTEN',
    'tcp        0     36 10.0.0.10:22            10.0.0.9:54321          ESTABLISHED',
    'tcp        0      0 10.0.0.10:8080          10.0.0.9:54322          TIME_WAIT',
    'tcp        1      0 10.0.0.10:8080          10.0.0.8:54323          CLOSE_WAIT',
    'tcp        0      0 10.0.0.10:8080          10.0.0.9:54324          SYN_RECV',
    'tcp        0      1 10.0.0.10:50000         192.0.2.1:80            SYN_SENT',
    'tcp6       0      0 :::80                   :::*                    LISTEN',
    'tcp6       0      0 ::ffff:10.0.0.10:80     ::ffff:10.0.0.9:54325   ESTABLISHED',
    'tcp6       0      0 2001:db8::1:443         2001:db8::2:57344       FIN_WAIT2',
  ].join('\n');
  assert.equal(formatNetstat(ROWS, { all: true, numeric: true }), expected);
});

test('formatNetstat -tlnp: only servers, PID/Program name column', () => {
  const expected = [
    'Active Internet connections (only servers)',
    'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name',
    'tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd',
    'tcp        2      0 127.0.0.1:3306          0.0.0.0:*               LISTEN      -',
    'tcp6       0      0 :::80                   :::*                    LISTEN      900/nginx',
  ].join('\n');
  assert.equal(formatNetstat(ROWS, { listening: true, numeric: true, processes: true }), expected);
});

test('formatNetstat default: w/o servers; -4/-6; --port; service names without -n', () => {
  const out = formatNetstat(ROWS, { family: 4, port: 8080 }).split('\n');
  assert.equal(out[0], 'Active Internet connections (w/o servers)');
  assert.equal(out.length, 2 + 3);
  assert.equal(out[2], 'tcp        0      0 10.0.0.10:http-alt      10.0.0.9:54322          TIME_WAIT');
  assert.equal(selectRows(ROWS, { family: 6 }).length, 2);
  assert.equal(selectRows(ROWS, { family: 6, all: true }).length, 3);
  assert.equal(selectRows(ROWS, {}).length, 7);
  // Wide addresses push the next column instead of being cut.
  const wide = formatNetstat([row('ESTABLISHED', '2001:db8:1234:5678:9abc:def0:1234:5678', 443, '::1', 1)], { numeric: true });
  assert.equal(wide.split('\n')[2], 'tcp6       0      0 2001:db8:1234:5678:9abc:def0:1234:5678:443 ::1:1                   ESTABLISHED');
});

test('stateStats: per state in Linux order, per remote IP by count then address', () => {
  const extra = [
    row('ESTABLISHED', '10.0.0.10', 8080, '10.0.0.10', 1000),
    row('ESTABLISHED', '10.0.0.10', 8080, '10.0.0.10', 1001),
    row('ESTABLISHED', '10.0.0.10', 8080, '10.0.0.10', 1002),
  ];
  const s = stateStats([...ROWS, ...extra]);
  assert.deepEqual(s.states, {
    ESTABLISHED: 5, SYN_SENT: 1, SYN_RECEIVED: 1, FIN_WAIT_2: 1, TIME_WAIT: 1, CLOSE_WAIT: 1, LISTEN: 3,
  });
  assert.deepEqual(Object.keys(s.states), ['ESTABLISHED', 'SYN_SENT', 'SYN_RECEIVED', 'FIN_WAIT_2', 'TIME_WAIT', 'CLOSE_WAIT', 'LISTEN']);
  assert.deepEqual(s.remotes, [
    { address: '10.0.0.9', count: 4 }, // three tcp rows plus one IPv4-mapped tcp6 row
    { address: '10.0.0.10', count: 3 },
    { address: '10.0.0.8', count: 1 },
    { address: '192.0.2.1', count: 1 },
    { address: '2001:db8::2', count: 1 },
  ]);
  assert.equal(
    JSON.stringify(stateStats(ROWS.slice(0, 3))),
    '{"states":{"ESTABLISHED":1,"LISTEN":2},"remotes":[{"address":"10.0.0.9","count":1}]}',
  );
});

test('formatStats: the awk output', () => {
  const text = formatStats(stateStats(ROWS));
  assert.equal(
    text,
    [
      'ESTABLISHED 2', 'SYN_SENT 1', 'SYN_RECV 1', 'FIN_WAIT2 1', 'TIME_WAIT 1', 'CLOSE_WAIT 1', 'LISTEN 3',
      '',
      '4 10.0.0.9', '1 10.0.0.8', '1 192.0.2.1', '1 2001:db8::2',
    ].join('\n'),
  );
  assert.equal(formatStats(stateStats([])), '');
});

test('formatCounters: non-zero values; deltas and rates with previous', () => {
  const c = { ActiveOpens: 10, AttemptFails: 0, ListenOverflows: 30 };
  assert.equal(formatCounters(c), 'ActiveOpens               10\nListenOverflows           30');
  assert.equal(formatCounters(c, { all: true }).split('\n').length, 3);
  const d = formatCounters(c, { previous: { ActiveOpens: 10, AttemptFails: 0, ListenOverflows: 10 }, seconds: 4 });
  assert.equal(d, 'ListenOverflows           30        +20  5.0/s');
});

// ---- the CLI (src/cli/netstat.ts) on the fixture /proc tree ------------------------------------

/** Run a CLI main() and capture what it prints. */
async function runCli(
  main: (argv: string[]) => Promise<number>,
  argv: string[],
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const FIXTURE_PROC = fileURLToPath(new URL('../../../test/fixtures/proc', import.meta.url));

test('synack netstat: table, stats, counters, bad arguments', async () => {
  const { main } = await import('../cli/netstat.js');
  const root = ['--proc-root', FIXTURE_PROC];
  const table = await runCli(main, ['-tan', ...root]);
  assert.equal(table.code, 0);
  const lines = table.out.split('\n');
  assert.equal(lines[0], 'Active Internet connections (servers and established)');
  assert.equal(lines.length, 2 + 11);
  assert.equal(lines[2], 'tcp        3      0 0.0.0.0:8080            0.0.0.0:*               LISTEN');
  assert.equal((await runCli(main, ['-ln', '-6', ...root])).out.split('\n')[2], 'tcp6       0      0 :::80                   :::*                    LISTEN');

  const stats = await runCli(main, ['--stats', '--json', ...root]);
  assert.equal(
    stats.out,
    '{"states":{"ESTABLISHED":3,"SYN_SENT":1,"SYN_RECEIVED":1,"TIME_WAIT":1,"CLOSE_WAIT":2,"LISTEN":3},' +
      '"remotes":[{"address":"10.0.0.9","count":3},{"address":"10.0.0.7","count":1},{"address":"10.0.0.8","count":1},' +
      '{"address":"192.0.2.1","count":1},{"address":"::1","count":1},{"address":"2001:db8::2","count":1}]}',
  );
  assert.match((await runCli(main, ['--stats', '--port', '8080', ...root])).out, /^ESTABLISHED 1\nSYN_RECV 1\nTIME_WAIT 1\nCLOSE_WAIT 1\nLISTEN 1\n\n2 10\.0\.0\.9\n1 10\.0\.0\.7\n1 10\.0\.0\.8$/);
  const counters = JSON.parse((await runCli(main, ['--counters', '--json', ...root])).out) as { counters: Record<string, number> };
  assert.equal(counters.counters.ListenOverflows, 17);

  for (const [argv, re] of [
    [['--port', '99999'], /--port: expected an integer 1\.\.65535, got '99999'/],
    [['--watch', '0'], /--watch: expected a positive number of seconds/],
    [['-4', '-6'], /-4 and -6 exclude each other/],
    [['--bogus'], /unknown option '--bogus'/],
    [['extra'], /unexpected argument 'extra'/],
  ] as [string[], RegExp][]) {
    const r = await runCli(main, [...argv, ...root]);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re);
  }
});
