/**
 * diagnose() on real synack stacks: snapshots of scenarios taken at a virtual time, the capture of
 * a demo run read back through readCapture + reconstruct, and the capture checked by tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo.js';
import { diagnose, type Finding } from '../src/diag/diagnose.js';
import { readCapture } from '../src/diag/pcap-read.js';
import { reconstruct, stateSequence } from '../src/diag/reconstruct.js';
import type { Snapshot } from '../src/diag/types.js';

function snap(scenario: string, at: number, host: string): Snapshot {
  const { snapshots } = runDemo(scenario, { snapshotsAt: [at] });
  const s = snapshots[0]?.hosts[host];
  assert.ok(s, `no snapshot of ${host} at ${at} s in ${scenario}`);
  return s;
}
const rules = (f: Finding[]): string[] => f.map((x) => x.rule);

test('close-wait-leak at t=2 s: close-wait on the server', () => {
  const s = snap('close-wait-leak', 2, 'server');
  assert.equal(s.rows.filter((r) => r.state === 'CLOSE_WAIT').length, 5);
  // Only 5 connections pile up in the scenario, below the default threshold of 16: lower it.
  assert.deepEqual(rules(diagnose(s)), []);
  const f = diagnose(s, { closeWait: 5 });
  assert.deepEqual(rules(f), ['close-wait']);
  assert.match(f[0]!.summary, /5 connections in CLOSE_WAIT, most on local port 80/);
  // The clients meanwhile wait in FIN_WAIT_2, which is not a finding.
  assert.deepEqual(rules(diagnose(snap('close-wait-leak', 2, 'client'), { closeWait: 5 })), []);
});

test('syn-flood at t=0.25 s: syn-recv on port 80 with the backlog and SyncookiesSent as evidence', () => {
  const s = snap('syn-flood', 0.25, 'server');
  // The backlog of 8 caps the SYN queue at 8 half-open connections; the default threshold is 32.
  const f = diagnose(s, { synRecv: 8 });
  assert.deepEqual(rules(f), ['syn-recv']);
  const ev = f[0]!.evidence;
  assert.equal(ev.port, 80);
  assert.equal(ev.count, 8);
  assert.equal(ev.backlog, 8);
  assert.ok((ev.SyncookiesSent as number) > 0, JSON.stringify(ev));
  assert.equal(ev.distinctClients, 8);
});

test('syn-timeout at t=20 s: syn-sent on the client', () => {
  const s = snap('syn-timeout', 20, 'client');
  const f = diagnose(s, { synSent: 1 }); // one connect() only: threshold 1
  assert.deepEqual(rules(f), ['syn-sent']);
  assert.match(f[0]!.summary, /1 connection stuck in SYN_SENT \(most to 10\.0\.0\.2:80\)/);
});

test('time-wait: nothing with default thresholds, time-wait with a low one', () => {
  const s = snap('time-wait', 10, 'client');
  assert.equal(s.rows.filter((r) => r.state === 'TIME_WAIT').length, 1);
  assert.deepEqual(rules(diagnose(s)), []);
  assert.deepEqual(rules(diagnose(s, { timeWait: 1 })), ['time-wait']);
});

test('a healthy handshake flags nothing on either host', () => {
  for (const h of ['client', 'server']) assert.deepEqual(rules(diagnose(snap('handshake', 1, h))), [], h);
});

test('refused with --port 81: no-listener on the server', () => {
  const f = diagnose(snap('refused', 0.02, 'server'), { port: 81 });
  assert.deepEqual(rules(f), ['no-listener']);
});

function demoCapture(scenario: string): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'synack-pcap-'));
  const file = join(dir, `${scenario}.pcap`);
  runDemo(scenario, { pcap: file });
  return { file, dir };
}

for (const scenario of ['handshake', 'transfer', 'active-close', 'half-close', 'simultaneous-open', 'simultaneous-close', 'fin-ack-combined', 'refused', 'syn-lost', 'linger-abort', 'time-wait']) {
  test(`demo ${scenario} --pcap, read back: the same state sequences as the demo`, () => {
    const { file, dir } = demoCapture(scenario);
    try {
      const demo = runDemo(scenario).result;
      const [conn, ...more] = reconstruct(readCapture(new Uint8Array(readFileSync(file))).packets);
      assert.equal(more.length, 0);
      for (const [name, addr] of [['client', '10.0.0.1'], ['server', '10.0.0.2']] as const) {
        const ep = name === 'client' ? conn!.client : conn!.server;
        // A capture ends before TIME_WAIT's 2MSL timer fires (nothing is sent when it does), so the
        // demo's last TIME_WAIT -> CLOSED (2MSL timeout) is invisible on the wire.
        const want = stateSequence(demo, name, { local: ep });
        if (want.at(-1) === 'CLOSED' && want.at(-2) === 'TIME_WAIT') want.pop();
        assert.deepEqual(stateSequence(conn!.result, addr), want, `${scenario} ${name}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('demo capture passes tshark: no Malformed packets, valid checksums', (t) => {
  const have = spawnSync('tshark', ['--version'], { stdio: 'ignore' });
  if (have.error || have.status !== 0) {
    t.skip('tshark is not installed (apt-get install -y tshark)');
    return;
  }
  for (const scenario of ['handshake', 'transfer']) {
    const { file, dir } = demoCapture(scenario);
    try {
      const out = execFileSync('tshark', ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields',
        '-e', 'frame.number', '-e', '_ws.expert.message', '-e', 'tcp.checksum.status', '-e', 'ip.checksum.status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const lines = out.trim().split('\n');
      assert.ok(lines.length >= 3, `${scenario}: tshark read ${lines.length} frames`);
      for (const l of lines) {
        assert.doesNotMatch(l, /Malformed/i, `${scenario}: ${l}`);
        const [, , tcpSum, ipSum] = l.split('\t');
        // Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
        assert.equal(tcpSum, '1', `${scenario}: TCP checksum status (1 = good): ${l}`);
        assert.equal(ipSum, '1', `${scenario}: IP checksum status (1 = good): ${l}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
