/**
 * Every transition of RFC 9293 Figure 5 (and those its text adds), driven through the simulator:
 * the exact (from, to) state events of each endpoint and the segments on the wire, with
 * tcpdump-style relative sequence numbers. The last test checks that every transition listed in
 * LEGAL_TRANSITIONS was seen by some test of this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEGAL_TRANSITIONS } from '../src/tcp/transitions.js';
import { STATE_NAMES, TcpState, stateNum, type TcpStateName } from '../src/tcp/state.js';
import { sec } from '../src/time.js';
import { StackError } from '../src/stack/errors.js';
import { ACK, FIN, RST, SYN } from '../src/wire/tcp-repr.js';
import { A_ADDR, B_ADDR, Harness, scriptedPeerConnection, text, type Seg } from './helpers.js';

const covered = new Set<string>();

test('stateNum (the switch setState uses) agrees with TcpState for every state', () => {
  for (const name of STATE_NAMES) assert.equal(stateNum(name), TcpState[name], name);
});

function expectStates(h: Harness, host: string, expected: string[], local?: string): void {
  assert.deepEqual(h.states(host, local), expected, `states of ${host}\n${h.dump()}`);
  for (const t of expected) covered.add(t);
}

function expectWire(h: Harness, expected: string[], from = 0): void {
  assert.deepEqual(h.wire(from), expected, `wire\n${h.dump()}`);
}

/** A connected pair A (client) → B:80 (server), accepted; returns sockets after the handshake. */
function connected(h: Harness, opts: { port?: number } = {}) {
  const port = opts.port ?? 80;
  const l = h.B.listen({ port });
  const server: { s: import('../src/stack/socket.js').TcpSocket | null } = { s: null };
  l.onConnection = () => {
    server.s = l.accept();
  };
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: port, localPort: 40000 });
  h.runFor(sec(1));
  assert.equal(c.state, 'ESTABLISHED');
  assert.ok(server.s, 'server accepted');
  return { l, c, s: server.s! };
}

test('CLOSED→LISTEN and LISTEN→CLOSED: listen() then close() of the listener', () => {
  const h = new Harness();
  const l = h.B.listen({ port: 80 });
  assert.deepEqual(h.B.netstat().map((r) => r.state), ['LISTEN']);
  l.close();
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>CLOSED']);
  assert.equal(h.B.netstat().length, 0);
  expectWire(h, []);
});

test('three-way handshake: CLOSED→SYN_SENT→ESTABLISHED and LISTEN→SYN_RECEIVED→ESTABLISHED', () => {
  const h = new Harness();
  connected(h);
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED']);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED']);
  expectWire(h, ['A S 0', 'B S. 0 ack 1', 'A . 1 ack 1']);
  // The listener itself stays in LISTEN.
  assert.deepEqual(h.B.netstat().map((r) => r.state).sort(), ['ESTABLISHED', 'LISTEN']);
  assert.equal(h.a.counters.ActiveOpens, 1);
  assert.equal(h.B.counters.PassiveOpens, 1);
  assert.equal(h.a.counters.CurrEstab, 1);
  assert.equal(h.B.counters.CurrEstab, 1);
});

test('active close: ESTABLISHED→FIN_WAIT_1→FIN_WAIT_2→TIME_WAIT→CLOSED after exactly 60 s; passive: CLOSE_WAIT→LAST_ACK→CLOSED', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  const mark = h.segs.length;
  c.close();
  h.runFor(sec(1));
  assert.equal(c.state, 'FIN_WAIT_2');
  assert.equal(s.state, 'CLOSE_WAIT');
  assert.ok(s.eof);
  s.close();
  h.runFor(sec(1));
  assert.equal(c.state, 'TIME_WAIT');
  h.run();
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>TIME_WAIT', 'TIME_WAIT>CLOSED']);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
  expectWire(h, ['A F. 1 ack 1', 'B . 1 ack 2', 'B F. 1 ack 2', 'A . 2 ack 2'], mark);
  assert.equal(h.timeOf('A', 'TIME_WAIT>CLOSED') - h.timeOf('A', 'FIN_WAIT_2>TIME_WAIT'), sec(60));
  assert.equal(h.a.connections().length, 0);
  assert.equal(h.a.counters.CurrEstab, 0);
  assert.equal(h.B.counters.CurrEstab, 0);
});

test('FIN_WAIT_1→TIME_WAIT: the peer\'s FIN carries the ACK of our FIN', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  s.onEnd = () => s.close(); // closes as soon as the FIN arrives: the ACK rides on its FIN
  const mark = h.segs.length;
  c.close();
  h.run();
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>TIME_WAIT', 'TIME_WAIT>CLOSED']);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
  expectWire(h, ['A F. 1 ack 1', 'B F. 1 ack 2', 'A . 2 ack 2'], mark);
  assert.equal(h.timeOf('A', 'TIME_WAIT>CLOSED') - h.timeOf('A', 'FIN_WAIT_1>TIME_WAIT'), sec(60));
});

test('simultaneous close: FIN_WAIT_1→CLOSING→TIME_WAIT on both ends', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  const mark = h.segs.length;
  c.close();
  s.close();
  h.run();
  const both = ['ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>CLOSING', 'CLOSING>TIME_WAIT', 'TIME_WAIT>CLOSED'];
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', ...both]);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', ...both]);
  expectWire(h, ['A F. 1 ack 1', 'B F. 1 ack 1', 'B . 2 ack 2', 'A . 2 ack 2'], mark);
  assert.equal(h.timeOf('A', 'TIME_WAIT>CLOSED') - h.timeOf('A', 'CLOSING>TIME_WAIT'), sec(60));
  assert.equal(h.timeOf('B', 'TIME_WAIT>CLOSED') - h.timeOf('B', 'CLOSING>TIME_WAIT'), sec(60));
});

test('half-close: data flows toward the closer in FIN_WAIT_2, and CLOSE_WAIT can still send', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  let got = '';
  c.onData = () => {
    got += text(c.read());
  };
  const mark = h.segs.length;
  c.shutdown(); // SHUT_WR: A still reads
  h.runFor(sec(1));
  assert.equal(c.state, 'FIN_WAIT_2');
  assert.equal(s.state, 'CLOSE_WAIT');
  assert.equal(s.write('still talking'), 13);
  h.runFor(sec(1));
  assert.equal(got, 'still talking');
  assert.equal(c.state, 'FIN_WAIT_2');
  s.write(' and more');
  s.close();
  h.run();
  assert.equal(got, 'still talking and more');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>TIME_WAIT', 'TIME_WAIT>CLOSED']);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
  const w = h.wire(mark);
  assert.deepEqual(w.slice(0, 3), ['A F. 1 ack 1', 'B . 1 ack 2', 'B P. 1:14 ack 2'], h.dump());
  // write() sends at once (nothing in flight), close() then sends the FIN on its own.
  assert.ok(w.includes('B P. 14:23 ack 2') && w.includes('B F. 23 ack 2'), h.dump());
});

test('simultaneous open: SYN_SENT→SYN_RECEIVED→ESTABLISHED on both ends, 6 segments', () => {
  const h = new Harness();
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 5000, localPort: 6000 });
  const d = h.B.connect({ remoteAddress: A_ADDR, remotePort: 6000, localPort: 5000 });
  let connects = 0;
  c.onConnect = () => connects++;
  d.onConnect = () => connects++;
  h.runFor(sec(1));
  assert.equal(c.state, 'ESTABLISHED');
  assert.equal(d.state, 'ESTABLISHED');
  assert.equal(connects, 2);
  const path = ['CLOSED>SYN_SENT', 'SYN_SENT>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED'];
  expectStates(h, 'A', path);
  expectStates(h, 'B', path);
  // Each SYN-ACK repeats a SYN already taken: Linux answers the duplicate with an ACK (and a
  // D-SACK when SACK is on; tcp_data_queue), as test/packetdrill/simultaneous-open-dsack.pkt shows.
  expectWire(h, ['A S 0', 'B S 0', 'B S. 0 ack 1', 'A S. 0 ack 1', 'A . 1 ack 1', 'B . 1 ack 1']);
  // Data flows both ways afterwards.
  let ab = '';
  let ba = '';
  d.onData = () => (ab += text(d.read()));
  c.onData = () => (ba += text(c.read()));
  c.write('ping');
  d.write('pong');
  h.runFor(sec(1));
  assert.equal(ab, 'ping');
  assert.equal(ba, 'pong');
});

test('SYN_RECEIVED→FIN_WAIT_1: close during a simultaneous open sends FIN', () => {
  const h = new Harness();
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 5000, localPort: 6000 });
  const d = h.B.connect({ remoteAddress: A_ADDR, remotePort: 6000, localPort: 5000 });
  // SYNs cross and arrive at 10 ms; the SYN-ACKs arrive at 20 ms. Close A at 15 ms.
  h.runFor(15_000);
  assert.equal(c.state, 'SYN_RECEIVED');
  c.close();
  assert.equal(c.state, 'FIN_WAIT_1');
  h.runFor(sec(1));
  assert.equal(d.state, 'CLOSE_WAIT');
  assert.equal(c.state, 'FIN_WAIT_2');
  d.close();
  h.run();
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>SYN_RECEIVED', 'SYN_RECEIVED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>TIME_WAIT', 'TIME_WAIT>CLOSED']);
  expectStates(h, 'B', ['CLOSED>SYN_SENT', 'SYN_SENT>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
  const w = h.wire();
  assert.deepEqual(w.slice(0, 5), ['A S 0', 'B S 0', 'B S. 0 ack 1', 'A S. 0 ack 1', 'A F. 1 ack 1'], h.dump());
  // B's FIN must acknowledge A's FIN (ack 2).
  assert.ok(w.includes('B F. 1 ack 2'), h.dump());
});

test('LISTEN→SYN_SENT: a listener turned into an active open (connectFromListener)', () => {
  const h = new Harness();
  const la = h.a.listen({ port: 8000 });
  let accepted = false;
  la.onConnection = () => {
    accepted = la.accept() !== null;
  };
  const lb = h.B.listen({ port: 7000 });
  const s = h.B.connectFromListener(lb, A_ADDR, 8000);
  h.runFor(sec(1));
  assert.equal(s.state, 'ESTABLISHED');
  assert.ok(accepted);
  assert.equal(s.localPort, 7000);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_SENT', 'SYN_SENT>ESTABLISHED']);
  expectStates(h, 'A', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED']);
  expectWire(h, ['B S 0', 'A S. 0 ack 1', 'B . 1 ack 1']);
  // B no longer listens on 7000.
  assert.ok(!h.B.netstat().some((r) => r.state === 'LISTEN'));
});

test('SYN_SENT→CLOSED by close(); the late SYN-ACK gets a RST and the server child goes SYN_RECEIVED→CLOSED while its listener stays LISTEN', () => {
  const h = new Harness();
  h.B.listen({ port: 80 });
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  let closed = false;
  c.onClose = () => (closed = true);
  h.runFor(5_000); // the SYN is in flight
  c.close();
  assert.equal(c.state, 'CLOSED');
  assert.ok(closed);
  h.runFor(sec(1));
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>CLOSED']);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>CLOSED']);
  expectWire(h, ['A S 0', 'B S. 0 ack 1', 'A R 1']);
  assert.deepEqual(h.B.netstat().map((r) => r.state), ['LISTEN']);
  assert.equal(h.B.counters.AttemptFails, 1);
  assert.equal(h.B.listenersList()[0]!.synQueue.size, 0);
});

test('SYN_SENT→CLOSED by RST: connection refused', () => {
  const h = new Harness();
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 81, localPort: 40000 });
  let err = '';
  c.onError = (code) => (err = code);
  h.run();
  assert.equal(err, 'ECONNREFUSED');
  assert.equal(c.error, 'ECONNREFUSED');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>CLOSED']);
  expectWire(h, ['A S 0', 'B R. 0 ack 1']);
  assert.equal(h.a.counters.AttemptFails, 1);
});

test('SYN_SENT→CLOSED by timeout (synRetries 1): ETIMEDOUT, no RST', () => {
  const h = new Harness();
  const c = h.a.connect({ remoteAddress: '10.0.0.99', remotePort: 80, localPort: 40000, tcp: { synRetries: 1 } });
  let err = '';
  c.onError = (code) => (err = code);
  h.run();
  assert.equal(err, 'ETIMEDOUT');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>CLOSED']);
  expectWire(h, ['A S 0 DROPPED', 'A S 0 DROPPED']);
  assert.deepEqual(h.segs.map((s) => s.t), [0, sec(1)]);
  assert.equal(h.timeOf('A', 'SYN_SENT>CLOSED'), sec(3));
});

test('ESTABLISHED→CLOSED by abort (RST) and the peer\'s ESTABLISHED→CLOSED by the RST', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  let err = '';
  s.onError = (code) => (err = code);
  const mark = h.segs.length;
  c.abort();
  h.run();
  assert.equal(err, 'ECONNRESET');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>CLOSED']);
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSED']);
  expectWire(h, ['A R. 1 ack 1'], mark);
  assert.equal(h.a.counters.EstabResets, 1);
  assert.equal(h.B.counters.EstabResets, 1);
});

test('CLOSE_WAIT→CLOSED by abort, and FIN_WAIT_2→CLOSED on the RST', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  let err = '';
  c.onError = (code) => (err = code);
  c.shutdown();
  h.runFor(sec(1));
  assert.equal(s.state, 'CLOSE_WAIT');
  const mark = h.segs.length;
  s.abort();
  h.run();
  assert.equal(err, 'ECONNRESET');
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>CLOSED']);
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>CLOSED']);
  expectWire(h, ['B R. 1 ack 2'], mark);
});

test('FIN_WAIT_2→CLOSED: an orphaned FIN_WAIT_2 is dropped after tcp_fin_timeout (60 s), silently', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  c.close();
  h.runFor(sec(1));
  assert.equal(s.state, 'CLOSE_WAIT');
  const mark = h.segs.length;
  h.run(sec(1000));
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>CLOSED']);
  assert.equal(h.timeOf('A', 'FIN_WAIT_2>CLOSED') - h.timeOf('A', 'FIN_WAIT_1>FIN_WAIT_2'), sec(60));
  expectWire(h, [], mark);
  assert.equal(s.state, 'CLOSE_WAIT'); // the peer does not know
});

test('FIN_WAIT_1→CLOSED: abort while our FIN is unacknowledged sends RST', () => {
  const h = new Harness();
  const { c, s } = connected(h);
  let err = '';
  s.onError = (code) => (err = code);
  // Lose A's FIN so A stays in FIN_WAIT_1.
  h.w.net.dropNext((f) => parseSegFlags(f) === 'F.');
  c.close();
  h.runFor(100_000);
  assert.equal(c.state, 'FIN_WAIT_1');
  const mark = h.segs.length;
  c.abort();
  h.runFor(sec(1));
  assert.equal(err, 'ECONNRESET');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>CLOSED']);
  // The RST carries SND.NXT past the lost FIN (as LINUX tcp_send_active_reset), so it is in the
  // window but not exact at B: RFC 5961 §3.2 challenge ACK, which A (now without a connection)
  // answers with <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1), and that one is exact.
  expectWire(h, ['A R. 2 ack 1', 'B . 1 ack 1', 'A R 1'], mark);
});

test('CLOSING→CLOSED on a RST from the peer (scripted peer)', () => {
  const h = new Harness({ onlyA: true });
  const { pc, c } = scriptedPeerConnection(h);
  assert.equal(c.state, 'ESTABLISHED');
  c.close(); // A: FIN
  h.runFor(sec(0.1));
  assert.equal(c.state, 'FIN_WAIT_1');
  // Peer's FIN that does not acknowledge A's FIN: simultaneous close.
  pc.send(FIN | ACK, { ack: (pc.rcvNxt - 1) >>> 0 });
  h.runFor(sec(0.1));
  assert.equal(c.state, 'CLOSING');
  pc.send(RST, { ack: 0 });
  h.runFor(sec(0.1));
  assert.equal(c.state, 'CLOSED');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>CLOSING', 'CLOSING>CLOSED']);
  expectWire(h, ['A S 0', 'P S. 0 ack 1', 'A . 1 ack 1', 'A F. 1 ack 1', 'P F. 1 ack 1', 'A . 2 ack 2', 'P R 2']);
});

test('LAST_ACK→CLOSED on a RST, and TIME_WAIT→CLOSED on a RST (scripted peer)', () => {
  const h = new Harness({ onlyA: true });
  // LAST_ACK: the peer closes first, A closes, the peer resets instead of acknowledging.
  const { p, pc, c } = scriptedPeerConnection(h);
  pc.send(FIN | ACK);
  h.runFor(sec(0.1));
  assert.equal(c.state, 'CLOSE_WAIT');
  c.close();
  h.runFor(sec(0.1));
  assert.equal(c.state, 'LAST_ACK');
  pc.send(RST);
  h.runFor(sec(0.1));
  assert.equal(c.state, 'CLOSED');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED'], `${A_ADDR}:40000`);

  // TIME_WAIT: A closes first, the peer's FIN+ACK puts A in TIME_WAIT, a RST ends it (RFC 9293
  // §3.10.7.4 second check: TIME-WAIT "enter the CLOSED state").
  const pc2 = p.conn(A_ADDR, 80, 40001, 9000);
  const c2 = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40001 });
  h.runFor(sec(0.1));
  pc2.send(SYN | ACK, { mss: 1460 });
  h.runFor(sec(0.1));
  c2.close();
  h.runFor(sec(0.1));
  pc2.send(FIN | ACK);
  h.runFor(sec(0.1));
  assert.equal(c2.state, 'TIME_WAIT');
  pc2.send(RST);
  h.runFor(sec(0.1));
  assert.equal(c2.state, 'CLOSED');
  expectStates(h, 'A', ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>TIME_WAIT', 'TIME_WAIT>CLOSED'], `${A_ADDR}:40001`);
  assert.ok(h.timeOf('A', 'TIME_WAIT>CLOSED') < sec(60));
});

test('LISTEN→CLOSED drops the SYN queue; SYN_RECEIVED children go to CLOSED', () => {
  const h = new Harness();
  const l = h.B.listen({ port: 80 });
  // Lose A's third ACK so B's child stays in SYN_RECEIVED.
  h.w.net.dropNext((f, from) => from === 'A' && parseSegFlags(f) === '.');
  h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(30_000);
  assert.equal(l.synQueue.size, 1);
  l.close();
  h.runFor(sec(0.1));
  expectStates(h, 'B', ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>CLOSED', 'LISTEN>CLOSED']);
});

// ------------------------------------------------------------------------------------- TIME_WAIT

/** A reaches TIME_WAIT on 10.0.0.1:40000 ↔ 10.0.0.2:80 (A closed first). */
function toTimeWait(h: Harness) {
  const r = connected(h);
  r.s.onEnd = () => r.s.close();
  r.c.close();
  h.runFor(sec(1));
  assert.equal(r.c.state, 'TIME_WAIT');
  return r;
}

test('TIME_WAIT: connect() with the same local port to the same peer fails with EADDRINUSE', () => {
  const h = new Harness();
  toTimeWait(h);
  assert.throws(
    () => h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 }),
    (e: unknown) => e instanceof StackError && e.code === 'EADDRINUSE',
  );
  // After 2MSL the 4-tuple is free again.
  h.run();
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(sec(1));
  assert.equal(c.state, 'ESTABLISHED');
});

test('TIME_WAIT: a retransmitted FIN is ACKed again and restarts 2MSL; late data is dropped', () => {
  const h = new Harness({ onlyA: true });
  const { pc, c } = scriptedPeerConnection(h);
  c.close();
  h.runFor(sec(0.1));
  const finSeq = pc.sndNxt;
  pc.send(FIN | ACK);
  h.runFor(sec(0.1));
  assert.equal(c.state, 'TIME_WAIT');
  const enter = h.timeOf('A', 'FIN_WAIT_1>TIME_WAIT');
  const mark = pc.rx.length;
  // 30 s later, the peer retransmits its FIN (as if A's last ACK had been lost).
  h.run(enter + sec(30));
  pc.send(FIN | ACK, { seq: finSeq });
  h.runFor(sec(0.1));
  assert.deepEqual(pc.lines(mark), ['. 2 ack 2'], h.dump());
  // Late data (old sequence numbers) is dropped: nothing is delivered, the state stays.
  pc.send(ACK | 0x08, { seq: finSeq, payload: 'late' });
  h.runFor(sec(0.1));
  assert.equal(c.state, 'TIME_WAIT');
  assert.equal(c.readable, 0);
  // 2MSL restarted at the retransmitted FIN: CLOSED 60 s after it, not after the first FIN.
  h.run(enter + sec(60) + sec(1));
  assert.equal(c.state, 'TIME_WAIT');
  h.run();
  assert.equal(c.state, 'CLOSED');
  assert.equal(h.timeOf('A', 'TIME_WAIT>CLOSED'), enter + sec(30) + 10_000 + sec(60));
});

test('TIME_WAIT: a new SYN with a higher sequence number reopens the 4-tuple when a listener exists', () => {
  const h = new Harness();
  // Here B closes first, so B (the server, with a listener) holds TIME_WAIT.
  const { c, s } = connected(h);
  c.onEnd = () => c.close();
  s.close();
  h.runFor(sec(1));
  assert.equal(s.state, 'TIME_WAIT');
  assert.equal(c.state, 'CLOSED');
  const oldRcvNxt = s.snapshot().rcvNxt;
  let accepted = 0;
  const l = h.B.listenersList()[0]!;
  l.onConnection = () => {
    accepted++;
    l.accept();
  };
  const c2 = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(sec(1));
  assert.equal(c2.state, 'ESTABLISHED', h.dump());
  assert.equal(accepted, 1);
  const syn = h.segs.filter((x: Seg) => x.f === 'S').at(-1)!;
  assert.ok(((syn.seq - oldRcvNxt) | 0) > 0, 'the new SYN is above the old RCV.NXT');
  const bStates = h.states('B', `${B_ADDR}:80`);
  assert.deepEqual(bStates.slice(-3), ['TIME_WAIT>CLOSED', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED'], h.dump());
  assert.equal(h.B.counters.TWRecycled, 1);
});

test('TIME_WAIT: listen() on the port fails with EADDRINUSE unless reuseAddr', () => {
  const h = new Harness();
  const { l, c, s } = connected(h);
  c.onEnd = () => c.close();
  s.close();
  h.runFor(sec(1));
  assert.equal(s.state, 'TIME_WAIT');
  l.close();
  assert.throws(
    () => h.B.listen({ port: 80 }),
    (e: unknown) => e instanceof StackError && e.code === 'EADDRINUSE',
  );
  const l2 = h.B.listen({ port: 80, reuseAddr: true });
  assert.equal(l2.port, 80);
});

test('every transition of LEGAL_TRANSITIONS is covered by a test in this file', () => {
  const missing: string[] = [];
  for (const [from, tos] of Object.entries(LEGAL_TRANSITIONS) as [TcpStateName, readonly TcpStateName[]][]) {
    for (const to of tos) if (!covered.has(`${from}>${to}`)) missing.push(`${from}>${to}`);
  }
  assert.deepEqual(missing, []);
});

/** tcpdump flag letters of a raw frame (for dropNext predicates). */
function parseSegFlags(f: Uint8Array): string {
  const ihl = (f[0]! & 0x0f) * 4;
  const flags = f[ihl + 13]!;
  let s = '';
  if (flags & FIN) s += 'F';
  if (flags & SYN) s += 'S';
  if (flags & RST) s += 'R';
  if (flags & 0x08) s += 'P';
  if (flags & ACK) s += '.';
  return s;
}

test('shutdown(SHUT_RD): queued data is still read, then reads see end-of-file (LINUX tcp_recvmsg)', () => {
  const h = new Harness({ onlyA: true });
  const { pc, c } = scriptedPeerConnection(h);
  pc.send(ACK | 0x08, { payload: 'queued' });
  h.runFor(50_000);
  c.shutdownRead();
  assert.equal(c.eof, false, 'data is still queued');
  assert.equal(text(c.read()!), 'queued');
  assert.equal(c.eof, true, 'an empty queue after SHUT_RD reads as end-of-file');
  assert.equal(c.state, 'ESTABLISHED', 'SHUT_RD sends nothing and changes no state');
});
