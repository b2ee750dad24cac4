import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { ConnRow, Snapshot } from './types.js';
import type { TcpStateName } from '../tcp/state.js';
import { DEFAULT_THRESHOLDS, diagnose, formatFindings, type Finding } from './diagnose.js';

function row(state: TcpStateName, local: string, lport: number, remote: string, rport: number, extra: Partial<ConnRow> = {}): ConnRow {
  return {
    proto: 'tcp', localAddress: local, localPort: lport, remoteAddress: remote, remotePort: rport,
    state, recvQ: 0, sendQ: 0, ...extra,
  };
}

const SETTINGS = {
  tcp_syncookies: 1, tcp_max_syn_backlog: 512, somaxconn: 4096, tcp_fin_timeout: 60, tcp_tw_reuse: 2,
  tcp_syn_retries: 6, tcp_synack_retries: 5,
};

function snap(rows: ConnRow[], counters: Record<string, number> = {}, settings: Record<string, number> = SETTINGS, time = 1000): Snapshot {
  return { source: 'host', time, rows, counters, settings };
}

/** A healthy server: listeners, a handful of connections in every ordinary state. */
function healthyRows(): ConnRow[] {
  const rows = [
    row('LISTEN', '0.0.0.0', 22, '0.0.0.0', 0),
    row('LISTEN', '0.0.0.0', 80, '0.0.0.0', 0, { sendQ: 511 }),
    row('LISTEN', '127.0.0.1', 5432, '0.0.0.0', 0),
  ];
  for (let i = 0; i < 30; i++) rows.push(row('ESTABLISHED', '10.0.0.10', 80, `10.0.1.${i}`, 40000 + i));
  for (let i = 0; i < 5; i++) rows.push(row('TIME_WAIT', '10.0.0.10', 80, `10.0.2.${i}`, 40000 + i));
  rows.push(row('SYN_SENT', '10.0.0.10', 50001, '10.0.0.20', 443, { sendQ: 1 }));
  rows.push(row('SYN_RECEIVED', '10.0.0.10', 80, '10.0.3.1', 40001));
  rows.push(row('CLOSE_WAIT', '10.0.0.10', 80, '10.0.3.2', 40002));
  rows.push(row('FIN_WAIT_2', '10.0.0.10', 80, '10.0.3.3', 40003));
  return rows;
}

const rules = (fs: Finding[]): string[] => fs.map((f) => f.rule);
const many = (n: number, mk: (i: number) => ConnRow): ConnRow[] => Array.from({ length: n }, (_, i) => mk(i));

test('healthy snapshot: no findings', () => {
  const fs = diagnose(snap(healthyRows(), { ListenOverflows: 3, RetransSegs: 10, OutSegs: 1000 }));
  assert.deepEqual(fs, []);
  assert.equal(formatFindings(fs), 'No problems found.');
  assert.deepEqual(diagnose(snap(healthyRows()), { port: 80 }), []);
});

test('syn-sent: fires at the threshold with top destinations; critical at criticalFactor x', () => {
  const base = healthyRows();
  const stuck = (n: number): ConnRow[] =>
    many(n, (i) => row('SYN_SENT', '10.0.0.10', 50000 + i, i % 3 === 0 ? '198.51.100.7' : '192.0.2.1', 443, { sendQ: 1 }));
  assert.deepEqual(diagnose(snap([...base, ...stuck(DEFAULT_THRESHOLDS.synSent - 2)])), []); // +1 healthy one = 9
  const [f] = diagnose(snap([...base, ...stuck(DEFAULT_THRESHOLDS.synSent - 1)], { AttemptFails: 4 }));
  assert.equal(f!.rule, 'syn-sent');
  assert.equal(f!.severity, 'warning');
  assert.equal(f!.evidence.count, 10);
  assert.deepEqual((f!.evidence.topDestinations as unknown[])[0], { destination: '192.0.2.1:443', count: 6 });
  assert.equal(f!.evidence.AttemptFails, 4);
  assert.match(f!.explanation, /127 s/);
  assert.match(f!.summary, /10 connections stuck in SYN_SENT \(most to 192\.0\.2\.1:443\)/);
  assert.equal(diagnose(snap([...base, ...stuck(60)]))[0]!.severity, 'critical');
  // Named threshold option.
  assert.deepEqual(diagnose(snap([...base, ...stuck(20)]), { synSent: 30 }), []);
  assert.equal(diagnose(snap([...base, ...stuck(3)]), { synSent: 4 })[0]!.rule, 'syn-sent');
});

test('syn-recv: per listening port, flood vs lossy clients, syncookies and counters', () => {
  const flood = many(40, (i) => row('SYN_RECEIVED', '10.0.0.10', 80, `203.0.113.${i}`, 1024 + i));
  const lossy = many(40, (i) => row('SYN_RECEIVED', '10.0.0.10', 443, `10.9.0.${i % 2}`, 1024 + i));
  const few = many(20, (i) => row('SYN_RECEIVED', '10.0.0.10', 22, `10.8.0.${i}`, 1024 + i));
  const fs = diagnose(snap([...healthyRows(), ...flood, ...lossy, ...few], { ListenOverflows: 9, SyncookiesSent: 0 }));
  assert.deepEqual(rules(fs), ['syn-recv', 'syn-recv']);
  const p80 = fs.find((f) => f.evidence.port === 80)!;
  assert.equal(p80.evidence.count, 41); // + the healthy row
  assert.equal(p80.evidence.backlog, 511);
  assert.equal(p80.evidence.tcp_syncookies, 1);
  assert.equal(p80.evidence.ListenOverflows, 9);
  assert.match(p80.explanation, /SYN flood/);
  const p443 = fs.find((f) => f.evidence.port === 443)!;
  assert.equal(p443.evidence.distinctClients, 2);
  assert.match(p443.explanation, /only 2 addresses/);
  // Cookies off and the SYN queue near tcp_max_syn_backlog: critical, and say so.
  const off = diagnose(snap(flood, {}, { ...SETTINGS, tcp_syncookies: 0, tcp_max_syn_backlog: 48 }));
  assert.equal(off[0]!.severity, 'critical');
  assert.match(off[0]!.explanation, /SYN cookies are OFF/);
  // Cookies being sent during the interval: critical, with the rate.
  const now = snap(flood, { SyncookiesSent: 150 }, SETTINGS, 1010);
  const prev = snap([], { SyncookiesSent: 100 }, SETTINGS, 1000);
  const rated = diagnose(now, { previous: prev })[0]!;
  assert.equal(rated.severity, 'critical');
  assert.equal(rated.evidence['SyncookiesSent/s'], 5);
  assert.match(rated.explanation, /SyncookiesSent 5\/s/);
});

test('syn-recv: relative to the listener backlog (a listen(8) server is full at 8, a listen(1024) one is not)', () => {
  const pile = (n: number, backlog: number): ConnRow[] => [
    row('LISTEN', '0.0.0.0', 80, '0.0.0.0', 0, { sendQ: backlog }),
    ...Array.from({ length: n }, (_, i) => row('SYN_RECEIVED', '10.0.0.2', 80, `198.51.100.${i + 1}`, 10000 + i)),
  ];
  const find = (rows: ConnRow[]): Finding | undefined => diagnose(snap(rows)).find((f) => f.rule === 'syn-recv');
  assert.equal(find(pile(8, 1024)), undefined, '8 of 1024 is no pile');
  assert.equal(find(pile(6, 8)), undefined, 'below 80 % of the backlog');
  const filling = find(pile(7, 8));
  assert.equal(filling?.severity, 'warning');
  assert.match(filling!.summary, /88 % of backlog 8/);
  const full = find(pile(8, 8));
  assert.equal(full?.severity, 'critical');
  assert.match(full!.summary, /the SYN queue is full: backlog 8/);
  // Without a visible backlog (a host LISTEN row), the absolute threshold still applies.
  assert.equal(find(pile(8, 0)), undefined);
  assert.equal(find(pile(DEFAULT_THRESHOLDS.synRecv, 0))?.rule, 'syn-recv');
  assert.equal(diagnose(snap(pile(7, 8)), { synQueue: 0.9 }).find((f) => f.rule === 'syn-recv'), undefined, '--threshold-syn-queue');
});

test('close-wait: names the local port and the process', () => {
  const cw = many(20, (i) => row('CLOSE_WAIT', '10.0.0.10', 8080, '10.0.0.9', 30000 + i, { pid: 4242, process: 'java', recvQ: i < 3 ? 10 : 0 }));
  const [f, ...rest] = diagnose(snap([...healthyRows(), ...cw]));
  assert.equal(rest.length, 0);
  assert.equal(f!.rule, 'close-wait');
  assert.equal(f!.severity, 'warning');
  assert.deepEqual((f!.evidence.byLocalPort as unknown[])[0], { local: '8080 (4242/java)', count: 20 });
  assert.equal(f!.evidence.withUnreadData, 3);
  assert.match(f!.explanation, /has not called close\(\)/);
  assert.deepEqual(diagnose(snap([...healthyRows(), ...cw]), { closeWait: 22 }), []);
});

test('time-wait: server closes first (count threshold)', () => {
  const tw = many(200, (i) => row('TIME_WAIT', '10.0.0.10', 80, `10.1.${i >> 8}.${i & 255}`, 40000 + i));
  assert.deepEqual(diagnose(snap([...healthyRows(), ...tw])), []);
  const [f] = diagnose(snap([...healthyRows(), ...tw]), { timeWait: 100 });
  assert.equal(f!.rule, 'time-wait');
  assert.equal(f!.evidence.serverSide, 205);
  assert.match(f!.explanation, /the server closes first/);
  assert.match(f!.explanation, /tcp_fin_timeout does NOT shorten TIME_WAIT/);
  assert.match(f!.explanation, /tcp_tw_reuse=2/);
});

test('time-wait: ephemeral port pressure toward one destination', () => {
  const small = { ...SETTINGS, ip_local_port_range_min: 60000, ip_local_port_range_max: 60999 }; // 1000 ports
  const tw = (n: number): ConnRow[] => many(n, (i) => row('TIME_WAIT', '10.0.0.10', 60000 + i, '10.0.0.50', 6379));
  assert.deepEqual(diagnose(snap(tw(400), {}, small)), []);
  const [w] = diagnose(snap(tw(600), {}, small));
  assert.equal(w!.severity, 'warning');
  assert.equal(w!.evidence.ephemeralPorts, 1000);
  assert.deepEqual((w!.evidence.topDestinations as unknown[])[0], { destination: '10.0.0.10 -> 10.0.0.50:6379', count: 600, share: 0.6 });
  assert.match(w!.summary, /60 % of ephemeral ports toward 10\.0\.0\.10 -> 10\.0\.0\.50:6379/);
  assert.match(w!.explanation, /about 16 new connections per second/);
  assert.equal(diagnose(snap(tw(950), {}, small))[0]!.severity, 'critical');
  // Default range: 28232 ports.
  assert.equal(diagnose(snap(tw(600)), { ephemeralShare: 0.02 })[0]!.evidence.ephemeralPorts, 28232);
});

test('no-listener: nothing on --port; SYN_SENT hints; loopback-only', () => {
  const base = healthyRows();
  const [f] = diagnose(snap(base), { port: 8080 });
  assert.equal(f!.rule, 'no-listener');
  assert.equal(f!.severity, 'critical');
  assert.deepEqual(f!.evidence.listeningPorts, [22, 80, 5432]);
  assert.match(f!.explanation, /ECONNREFUSED/);
  const hints = many(3, (i) => row('SYN_SENT', '10.0.0.10', 50100 + i, '192.0.2.8', 8080, { sendQ: 1 }));
  const [g] = diagnose(snap([...base, ...hints], { OutRsts: 50, AttemptFails: 5 }), { port: 8080 });
  assert.deepEqual(g!.evidence.synSentToPort, [{ destination: '192.0.2.8:8080', count: 3 }]);
  assert.equal(g!.evidence.OutRsts, 50);
  assert.match(g!.explanation, /3 connections in SYN_SENT toward port 8080/);
  const [l] = diagnose(snap(base), { port: 5432 });
  assert.equal(l!.rule, 'loopback-only');
  assert.equal(l!.severity, 'warning');
  assert.throws(() => diagnose(snap(base), { port: 70000 }), /port must be/);
});

test('--port limits the state rules to that port', () => {
  const cw = many(30, (i) => row('CLOSE_WAIT', '10.0.0.10', 9000, '10.0.0.9', 30000 + i));
  const rows = [...healthyRows(), row('LISTEN', '0.0.0.0', 9000, '0.0.0.0', 0), ...cw];
  assert.deepEqual(rules(diagnose(snap(rows))), ['close-wait']);
  assert.deepEqual(diagnose(snap(rows), { port: 80 }), []);
  assert.deepEqual(rules(diagnose(snap(rows), { port: 9000 })), ['close-wait']);
});

test('accept-queue: recvQ against the backlog; host rows via somaxconn and ListenOverflows/s', () => {
  const lst = (recvQ: number, sendQ: number): ConnRow => row('LISTEN', '0.0.0.0', 8443, '0.0.0.0', 0, { recvQ, sendQ, pid: 7, process: 'node' });
  assert.deepEqual(diagnose(snap([lst(100, 128)])), []);
  const [w] = diagnose(snap([lst(103, 128)]));
  assert.equal(w!.rule, 'accept-queue');
  assert.equal(w!.severity, 'warning');
  assert.equal(w!.evidence.backlog, 128);
  assert.equal(w!.evidence.acceptQueue, 103);
  assert.equal(w!.evidence.process, 'node');
  assert.equal(diagnose(snap([lst(129, 128)]))[0]!.severity, 'critical');
  assert.deepEqual(diagnose(snap([lst(103, 128)]), { acceptQueue: 0.9 }), []);
  // Host row: backlog unknown (sendQ 0), bounded by somaxconn.
  const small = { ...SETTINGS, somaxconn: 16 };
  const [h] = diagnose(snap([lst(15, 0)], {}, small));
  assert.equal(h!.evidence.backlog, undefined);
  assert.equal(h!.evidence.somaxconn, 16);
  assert.match(h!.explanation, /not visible in \/proc/);
  // Short queue but overflows during the interval.
  const prev = snap([], { ListenOverflows: 10, ListenDrops: 10 }, SETTINGS, 100);
  const now = snap([lst(3, 0)], { ListenOverflows: 30, ListenDrops: 30 }, SETTINGS, 110);
  const [o] = diagnose(now, { previous: prev });
  assert.equal(o!.severity, 'critical');
  assert.equal(o!.evidence['ListenOverflows/s'], 2);
  assert.match(o!.explanation, /ListenOverflows 2\/s/);
  // Overflows with no listener row queued at all.
  const [n] = diagnose(snap([], { ListenOverflows: 30 }, SETTINGS, 110), { previous: prev });
  assert.match(n!.summary, /overflowed 2 times per second/);
});

test('retransmits: only with previous, ratio over the interval', () => {
  const prev = snap(healthyRows(), { OutSegs: 10000, RetransSegs: 100 }, SETTINGS, 100);
  assert.deepEqual(diagnose(snap(healthyRows(), { OutSegs: 11000, RetransSegs: 110 }, SETTINGS, 110), { previous: prev }), []);
  const [f] = diagnose(snap(healthyRows(), { OutSegs: 11000, RetransSegs: 150 }, SETTINGS, 110), { previous: prev });
  assert.equal(f!.rule, 'retransmits');
  assert.equal(f!.evidence.ratio, 0.05);
  assert.equal(f!.evidence['RetransSegs/s'], 5);
  assert.match(f!.summary, /5\.0 % of sent segments/);
  assert.deepEqual(diagnose(snap([], { OutSegs: 1e6, RetransSegs: 1e5 })), [], 'lifetime counters alone do not fire');
});

test('critical findings first; formatFindings prints headline, explanation and evidence', () => {
  const cw = many(16, (i) => row('CLOSE_WAIT', '10.0.0.10', 8080, '10.0.0.9', 30000 + i));
  const fs = diagnose(snap([...healthyRows(), ...cw]), { port: 8080 });
  assert.deepEqual(rules(fs), ['no-listener', 'close-wait']);
  const text = formatFindings(fs);
  const lines = text.split('\n');
  assert.equal(lines[0], 'CRITICAL no-listener: nothing listens on TCP port 8080');
  assert.ok(lines.includes('WARNING close-wait: 16 connections in CLOSE_WAIT, most on local port 8080'));
  assert.ok(lines.includes('    count: 16'));
  assert.ok(lines.every((l) => l.length <= 100 || l.startsWith('    ')));
  assert.throws(() => diagnose(snap([]), { synSent: -1 }), /threshold synSent/);
});

// ---- the CLI (src/cli/diagnose.ts) on the fixture /proc tree -----------------------------------

/** Run a CLI main() and capture what it prints. */
async function runCli(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('synack diagnose: exit 0 healthy, 1 flagged, 2 bad arguments; --json; thresholds', async () => {
  const { main } = await import('../cli/diagnose.js');
  const root = ['--proc-root', fileURLToPath(new URL('../../../test/fixtures/proc', import.meta.url))];
  const healthy = await runCli(main, root);
  assert.equal(healthy.code, 0);
  assert.equal(healthy.out, 'TCP sockets: 11\nNo problems found.');
  const down = await runCli(main, ['--port', '9999', ...root]);
  assert.equal(down.code, 1);
  assert.match(down.out, /CRITICAL no-listener: nothing listens on TCP port 9999/);
  const j = await runCli(main, ['--json', '--threshold-close-wait', '2', ...root]);
  assert.equal(j.code, 1);
  const parsed = JSON.parse(j.out) as { healthy: boolean; findings: Finding[] };
  assert.equal(parsed.healthy, false);
  assert.deepEqual(parsed.findings.map((f) => f.rule), ['close-wait']);
  const rated = await runCli(main, ['--interval', '0.05', '--port', '8080', ...root]);
  assert.equal(rated.code, 0);
  assert.match(rated.out, /^TCP sockets: 11; looking at port 8080, counters over 0\.\d s\nNo problems found\.$/);
  for (const [argv, re] of [
    [['--threshold-syn-sent', 'abc'], /--threshold-syn-sent: expected a non-negative number, got 'abc'/],
    [['--port', '0'], /--port: expected an integer 1\.\.65535/],
    [['--interval=-1'], /--interval: expected a positive number of seconds/],
    [['--threshold-nope', '1'], /unknown option '--threshold-nope'/],
  ] as [string[], RegExp][]) {
    const r = await runCli(main, [...argv, ...root]);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re);
  }
});
