import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS, runScenario } from '../src/demo/scenarios.js';
import type { DemoEvent, DemoResult } from '../src/demo/events.js';
import { renderLadder } from '../src/viz/ladder.js';

type Seg = Extract<DemoEvent, { type: 'segment' }>;
type St = Extract<DemoEvent, { type: 'state' }>;
const segs = (r: DemoResult, host?: string): Seg[] =>
  r.events.filter((e): e is Seg => e.type === 'segment' && (host === undefined || e.host === host));
const states = (r: DemoResult, host: string): string[] =>
  r.events.filter((e): e is St => e.type === 'state' && e.host === host).map((e) => `${e.from}>${e.to}`);
const errors = (r: DemoResult): string[] => r.events.filter((e) => e.type === 'error').map((e) => `${(e as { host: string }).host}:${(e as { code: string }).code}`);

test('every scenario runs, renders, and is deterministic for a seed', () => {
  for (const s of SCENARIOS) {
    const a = runScenario(s.name, { seed: 7 });
    const b = runScenario(s.name, { seed: 7 });
    assert.equal(JSON.stringify(a), JSON.stringify(b), `${s.name}: same seed, same JSON`);
    assert.ok(a.events.length > 0, s.name);
    assert.match(renderLadder(a), /summary/);
    for (const e of a.events) assert.equal(typeof e.t, 'number');
  }
});

test('different seeds give different ISNs', () => {
  const a = segs(runScenario('handshake', { seed: 1 }))[0]!;
  const b = segs(runScenario('handshake', { seed: 2 }))[0]!;
  assert.notEqual(a.seq, b.seq);
});

test('handshake: S, S., . and both ends ESTABLISHED', () => {
  const r = runScenario('handshake');
  assert.deepEqual(segs(r).map((s) => s.flags), ['S', 'S.', '.']);
  assert.deepEqual(states(r, 'client'), ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED']);
  assert.deepEqual(states(r, 'server'), ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED']);
  const [syn, synack, ack] = segs(r);
  assert.equal(synack!.ack, (syn!.seq + 1) >>> 0);
  assert.equal(ack!.ack, (synack!.seq + 1) >>> 0);
  assert.equal(syn!.options, `mss 1460,sackOK,TS val ${syn!.options.match(/TS val (\d+)/)![1]} ecr 0,nop,wscale 7`);
  assert.equal(syn!.win, 64240);
});

test('syn-timeout: SYNs at 0,1,3,7,15,31,63 s and ETIMEDOUT at 127 s', () => {
  const r = runScenario('syn-timeout');
  const t = segs(r, 'client').filter((s) => s.flags === 'S').map((s) => s.t);
  assert.deepEqual(t, [0, 1, 3, 7, 15, 31, 63]);
  const err = r.events.find((e) => e.type === 'error')!;
  assert.equal((err as { code: string }).code, 'ETIMEDOUT');
  assert.equal(err.t, 127);
  assert.deepEqual(states(r, 'client'), ['CLOSED>SYN_SENT', 'SYN_SENT>CLOSED']);
});

test('syn-lost: the SYN is lost, retransmitted at 1 s, then the handshake completes', () => {
  const r = runScenario('syn-lost');
  const syns = segs(r, 'client').filter((s) => s.flags === 'S');
  assert.deepEqual(syns.map((s) => [s.t, s.dropped]), [[0, true], [1, false]]);
  assert.ok(syns[1]!.retransmit);
  assert.deepEqual(states(r, 'client').at(-1), 'SYN_SENT>ESTABLISHED');
});

test('refused: RST,ACK answers the SYN; ECONNREFUSED', () => {
  const r = runScenario('refused');
  const [syn, rst] = segs(r);
  assert.equal(rst!.flags, 'R.');
  assert.equal(rst!.ack, (syn!.seq + 1) >>> 0);
  assert.deepEqual(errors(r), ['client:ECONNREFUSED']);
});

test('active-close: four segments, FIN_WAIT_2 and TIME_WAIT for 60 s on the client, LAST_ACK on the server', () => {
  const r = runScenario('active-close');
  assert.deepEqual(states(r, 'client').slice(2), ['ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>TIME_WAIT', 'TIME_WAIT>CLOSED']);
  assert.deepEqual(states(r, 'server').slice(3), ['ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
  const all = r.events.filter((e): e is St => e.type === 'state' && e.host === 'client');
  const tw = all.find((e) => e.to === 'TIME_WAIT')!;
  const closed = all.find((e) => e.from === 'TIME_WAIT')!;
  assert.equal(Math.round((closed.t - tw.t) * 1e6), 60_000_000);
  const closing = segs(r).filter((s) => s.t >= 0.1);
  assert.deepEqual(closing.map((s) => `${s.host}:${s.flags}`), ['client:F.', 'server:.', 'server:F.', 'client:.']);
});

test('fin-ack-combined: FIN_WAIT_1 goes straight to TIME_WAIT', () => {
  const r = runScenario('fin-ack-combined');
  const c = states(r, 'client');
  assert.ok(c.includes('FIN_WAIT_1>TIME_WAIT'));
  assert.ok(!c.some((s) => s.includes('FIN_WAIT_2')));
});

test('simultaneous-open: two SYNs, two SYN-ACKs, then an ACK with a D-SACK each way (as Linux); both ends pass SYN_RECEIVED', () => {
  const r = runScenario('simultaneous-open');
  // The seed article draws four segments. Linux 6.18 answers the peer's SYN-ACK, which repeats the
  // SYN already taken, with an ACK carrying a D-SACK (tcp_data_queue: a retransmit gets an
  // immediate ACK), checked against Linux with test/packetdrill/simultaneous-open-dsack.pkt.
  const s = segs(r);
  assert.deepEqual(s.map((x) => x.flags).sort(), ['.', '.', 'S', 'S', 'S.', 'S.']);
  for (const h of ['client', 'server']) {
    assert.deepEqual(states(r, h), ['CLOSED>SYN_SENT', 'SYN_SENT>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED']);
  }
});

test('simultaneous-close: both ends in CLOSING, then TIME_WAIT', () => {
  const r = runScenario('simultaneous-close');
  for (const h of ['client', 'server']) {
    const s = states(r, h);
    assert.ok(s.includes('FIN_WAIT_1>CLOSING') && s.includes('CLOSING>TIME_WAIT') && s.includes('TIME_WAIT>CLOSED'), `${h}: ${s.join(' ')}`);
  }
});

test('half-close: the server sends in CLOSE_WAIT and the client reads it in FIN_WAIT_2', () => {
  const r = runScenario('half-close');
  const reads = r.events.filter((e) => e.type === 'app' && e.host === 'client' && e.what === 'read' && (e as unknown as { bytes: number }).bytes > 0);
  assert.equal(reads.length, 3);
  const fw2 = r.events.find((e): e is St => e.type === 'state' && e.host === 'client' && e.to === 'FIN_WAIT_2')!;
  assert.ok(reads.every((e) => e.t >= fw2.t));
  assert.ok(states(r, 'server').includes('ESTABLISHED>CLOSE_WAIT'));
});

test('linger-abort: RST instead of FIN, ECONNRESET at the server, no TIME_WAIT anywhere', () => {
  const r = runScenario('linger-abort');
  assert.ok(segs(r, 'client').some((s) => s.flags === 'R.'));
  assert.ok(!segs(r).some((s) => s.flags.includes('F')));
  assert.deepEqual(errors(r), ['server:ECONNRESET']);
  assert.ok(!r.events.some((e) => e.type === 'state' && e.to === 'TIME_WAIT'));
});

test('linger-timeout: the first close is acknowledged, the second times out with EWOULDBLOCK and RST', () => {
  const r = runScenario('linger-timeout');
  const returns = r.events.filter((e) => e.type === 'app' && e.what === 'close-returned') as unknown as { acked: boolean; t: number }[];
  assert.deepEqual(returns.map((e) => e.acked), [true, false]);
  assert.ok(errors(r).includes('client:EWOULDBLOCK'));
  assert.ok(segs(r, 'client').some((s) => s.flags === 'R.' && s.t > 7));
});

test('time-wait: lost last ACK, FIN retransmitted and re-ACKed, EADDRINUSE during TIME_WAIT', () => {
  const r = runScenario('time-wait');
  const lost = segs(r, 'client').filter((s) => s.dropped);
  assert.equal(lost.length, 1);
  assert.equal(lost[0]!.flags, '.');
  const fins = segs(r, 'server').filter((s) => s.flags.includes('F'));
  assert.equal(fins.length, 2);
  assert.ok(fins[1]!.retransmit);
  const reack = segs(r, 'client').filter((s) => s.t > fins[1]!.t && s.flags === '.');
  assert.equal(reack.length, 1);
  assert.ok(errors(r).includes('client:EADDRINUSE'));
  const tw = r.events.filter((e): e is St => e.type === 'state' && e.host === 'client' && (e.to === 'TIME_WAIT' || e.from === 'TIME_WAIT'));
  // 2MSL restarts at the retransmitted FIN.
  assert.equal(Math.round((tw[1]!.t - fins[1]!.t - 0.01) * 1e6), 60_000_000);
});

test('close-wait-leak: five CLOSE_WAIT left on the server; clients leave FIN_WAIT_2 after tcp_fin_timeout', () => {
  const r = runScenario('close-wait-leak');
  const left = (r.summary.server as { connections: string[] }).connections.filter((c) => c.endsWith('CLOSE_WAIT'));
  assert.equal(left.length, 5);
  const fw2Closed = r.events.filter((e): e is St => e.type === 'state' && e.host === 'client' && e.from === 'FIN_WAIT_2' && e.to === 'CLOSED');
  assert.equal(fw2Closed.length, 5);
});

test('syn-flood: SYN_RECEIVED piles up to the backlog, cookies let the real client in', () => {
  const r = runScenario('syn-flood');
  const snap = r.events.find((e) => e.type === 'app' && e.what === 'netstat') as unknown as { synReceived: number; counters: Record<string, number> };
  assert.equal(snap.synReceived, 8);
  assert.ok(snap.counters.SyncookiesSent! > 0);
  assert.ok(r.events.some((e) => e.type === 'app' && e.host === 'client' && e.what === 'connected'));
});

test('keepalive: probes at 7200 s then every 75 s, 9 unanswered, RST and ETIMEDOUT', () => {
  const r = runScenario('keepalive');
  const probes = segs(r, 'client').filter((s) => s.t > 100 && s.flags === '.');
  assert.equal(probes.length, 9);
  assert.deepEqual(probes.map((p) => Math.round(p.t - probes[0]!.t)), [0, 75, 150, 225, 300, 375, 450, 525, 600]);
  assert.ok(Math.abs(probes[0]!.t - 7200.02) < 0.001);
  const rst = segs(r, 'client').find((s) => s.flags === 'R.')!;
  assert.ok(Math.abs(rst.t - (probes[0]!.t + 675)) < 0.001);
  assert.ok(errors(r).includes('client:ETIMEDOUT'));
});

test('mss: 1360 from a 1400-byte MTU is honoured; a SYN without MSS gets 536-byte segments', () => {
  const r = runScenario('mss');
  assert.match(segs(r, 'client')[0]!.options, /^mss 1360,/);
  const toClient = segs(r, 'server').filter((s) => s.dst.startsWith('10.0.0.1:') && s.len > 0);
  assert.ok(toClient.length > 0 && toClient.every((s) => s.len <= 1360));
  const toOld = segs(r, 'server').filter((s) => s.dst.startsWith('10.0.0.9:') && s.len > 0);
  assert.ok(toOld.length > 0 && toOld.every((s) => s.len <= 536));
  assert.equal(Math.max(...toOld.map((s) => s.len)), 536);
});

test('transfer under loss arrives intact (the recorded reads add up)', () => {
  for (const seed of [1, 2, 3]) {
    const r = runScenario('transfer', { seed, loss: 0.1 });
    const got = r.events.find((e) => e.type === "app" && e.host === "server" && e.what === "read" && (e as unknown as { eof?: boolean }).eof) as unknown as { bytes: number };
    assert.equal(got.bytes, 20_000, `seed ${seed}`);
  }
});
