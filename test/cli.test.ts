/**
 * The command line's own behaviours (issue #15): a closed pipe, help for one command, no seed
 * for a capture, backlog-relative SYN_RECV diagnosis. Each runs the built CLI as a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PROC = fileURLToPath(new URL('../../test/fixtures/proc', import.meta.url));
const PCAP = fileURLToPath(new URL('../../test/fixtures/linux-refused.pcap', import.meta.url));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('netstat --counters --watch into a reader that goes away (| head -3): exits at once and quietly, as coreutils', async () => {
  const child = spawn(process.execPath, [CLI, 'netstat', '--counters', '--watch', '0.05', '--proc-root', PROC], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let out = '';
  // What `head -3` does: read three lines, then close the pipe.
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > 3) {
        child.stdout.destroy();
        resolve();
      }
    });
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(stderr, '', 'no EPIPE stack trace');
  assert.equal(code, 141, '128 + SIGPIPE, what a shell reports for a coreutils command in that place');
});

test("'synack help demo' prints the demo command's help, not the general one", () => {
  const r = cli('help', 'demo');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: synack demo /);
  assert.equal(r.stdout, cli('demo', '--help').stdout);
  assert.match(cli('help').stdout, /^usage: synack <command>/);
});

test("'synack read' of a capture prints no seed (a capture has none)", () => {
  const r = cli('read', PCAP);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /summary \(.*linux-refused\.pcap\)/);
  assert.doesNotMatch(r.stdout, /seed/);
});

test('diagnose --demo syn-flood --at 0.25: a full SYN queue of backlog 8 is flagged (thresholds relative to the backlog)', () => {
  const r = cli('diagnose', '--demo', 'syn-flood', '--at', '0.25', '--host', 'server', '--json');
  assert.equal(r.status, 1, r.stderr);
  type Finding = { rule: string; severity: string; evidence: { backlog?: number; count?: number } };
  const out = JSON.parse(r.stdout) as { hosts: { server: { findings: Finding[] } } };
  const f = out.hosts.server.findings.find((x) => x.rule === 'syn-recv');
  assert.ok(f, r.stdout);
  assert.equal(f.severity, 'critical');
  assert.equal(f.evidence.backlog, 8);
  assert.equal(f.evidence.count, 8);
});
