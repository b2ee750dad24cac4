/**
 * `synack netstat --host --stats` agrees with `ss -tan` on the same machine at the same moment:
 * a network namespace of our own holds connections in several states (LISTEN, ESTABLISHED,
 * FIN_WAIT_2, CLOSE_WAIT, TIME_WAIT), and both views are read inside it and compared.
 * Needs root, `ip netns` and `ss`; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SS_NAMES, STATE_NAMES } from '../src/tcp/state.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  for (const tool of ['ip', 'ss']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `'${tool}' is not installed`;
    }
  }
  return null;
}

// Runs inside the namespace: makes the connections, prints "ready", then waits to be killed.
const PEERS = `
import net from 'node:net';
const srv = net.createServer({ allowHalfOpen: true }, (s) => { s.on('data', () => {}); s.on('end', () => { if (s.remotePort % 3 === 0) s.end(); }); });
await new Promise((r) => srv.listen(9000, '127.0.0.1', r));
const keep = [];
const open = () => new Promise((r) => { const c = net.connect(9000, '127.0.0.1', () => r(c)); c.on('data', () => {}); });
// 3 established pairs
for (let i = 0; i < 3; i++) keep.push(await open());
// half-closed: the client shuts down its side, the server never closes (FIN_WAIT_2 / CLOSE_WAIT);
// closed both ways: the client closes first, so it keeps TIME_WAIT.
let half = 0, closed = 0;
while (half < 2 || closed < 2) {
  const c = await open();
  if (c.localPort % 3 === 0) { if (closed >= 2) { keep.push(c); continue; } closed++; c.end(); c.on('end', () => c.destroy()); }
  else { if (half >= 2) { keep.push(c); continue; } half++; c.end(); keep.push(c); }
}
setTimeout(() => console.log('ready'), 300);
setInterval(() => {}, 1000);
`;

test('synack netstat --host --stats agrees with ss -tan inside a namespace', { timeout: 60_000 }, async (t) => {
  const why = missing();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const ns = `synack-ns-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'synack-netstat-'));
  const script = join(dir, 'peers.mjs');
  writeFileSync(script, PEERS);
  execFileSync('ip', ['netns', 'add', ns]);
  let child: ReturnType<typeof spawn> | null = null;
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('peers did not get ready')), 20_000);
      child!.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child!.on('exit', (code) => reject(new Error(`peers exited with ${code}`)));
    });
    // The same moment: both read back to back (the states here stay put for 60 s).
    const ss = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-tan'], { encoding: 'utf8' });
    const ours = JSON.parse(execFileSync('ip', ['netns', 'exec', ns, process.execPath, CLI, 'netstat', '--host', '--stats', '--json'], { encoding: 'utf8' })) as {
      states: Record<string, number>;
      remotes: { address: string; count: number }[];
    };
    const fromSs: Record<string, number> = {};
    const bySs = new Map(STATE_NAMES.map((n) => [SS_NAMES[n], n] as const));
    for (const line of ss.trim().split('\n').slice(1)) {
      const name = bySs.get(line.trim().split(/\s+/)[0]!);
      assert.ok(name !== undefined, `unknown ss state in: ${line}`);
      fromSs[name] = (fromSs[name] ?? 0) + 1;
    }
    assert.deepEqual(ours.states, fromSs, `ss -tan:\n${ss}`);
    // The namespace really has every kind of state the test meant to create.
    for (const s of ['LISTEN', 'ESTABLISHED', 'FIN_WAIT_2', 'CLOSE_WAIT', 'TIME_WAIT']) assert.ok((ours.states[s] ?? 0) > 0, `${s} missing: ${JSON.stringify(ours.states)}`);
    // Per remote address: every non-listening socket's peer is 127.0.0.1.
    const total = Object.entries(fromSs).filter(([k]) => k !== 'LISTEN').reduce((a, [, v]) => a + v, 0);
    assert.deepEqual(ours.remotes, [{ address: '127.0.0.1', count: total }]);
  } finally {
    child?.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    assert.ok(!existsSync(`/run/netns/${ns}`), 'namespace deleted');
  }
});
