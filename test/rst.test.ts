/**
 * RST rules: RFC 9293 §3.10.7.1 (no connection), §3.10.7.2 (listener), §3.10.7.3 (SYN_SENT),
 * §3.10.7.4 (synchronized states), §3.10.5 abort, RFC 5961 challenge ACKs, and Linux's abortive
 * close rules (SO_LINGER 0, unread data).
 */
import type { TcpStateName } from '../src/tcp/state.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ms, sec } from '../src/time.js';
import { ACK, FIN, PSH, RST, SYN } from '../src/wire/tcp-repr.js';
import { A_ADDR, B_ADDR, Harness, scriptedPeerConnection, text, driveToState } from './helpers.js';

// ------------------------------------------------------------------ no connection (§3.10.7.1)

test('SYN to a port with no listener: RST,ACK <SEQ=0><ACK=SEG.SEQ+1>; the client sees ECONNREFUSED', () => {
  const h = new Harness({ onlyA: true });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 1234, 81, 1000);
  pc.send(SYN, { mss: 1460 });
  h.runFor(sec(1));
  assert.deepEqual(pc.lines(), ['R. 0 ack 1'], h.dump());
  assert.equal(pc.rx[0]!.ack, 1001);
  assert.equal(h.a.counters.OutRsts, 1);
  assert.equal(h.a.counters.TCPNoSocket, 1);

  // And over two stacks: the client's connect fails with ECONNREFUSED.
  const h2 = new Harness();
  const c = h2.a.connect({ remoteAddress: B_ADDR, remotePort: 81 });
  const errors: string[] = [];
  c.onError = (code) => errors.push(code);
  h2.run();
  assert.deepEqual(errors, ['ECONNREFUSED']);
  assert.equal(c.state, 'CLOSED');
});

test('ACK to a port with no listener: RST <SEQ=SEG.ACK>; data without ACK: RST,ACK <ACK=SEG.SEQ+SEG.LEN>', () => {
  const h = new Harness({ onlyA: true });
  const p = h.peer();
  p.send(A_ADDR, 1234, 81, { seq: 1000, ack: 777_777, flags: ACK });
  h.runFor(sec(1));
  assert.equal(p.rx.length, 1);
  assert.equal(p.rx[0]!.f, 'R');
  assert.equal(p.rx[0]!.seq, 777_777);
  p.send(A_ADDR, 1234, 81, { seq: 5000, flags: PSH, payload: 'hello' });
  p.send(A_ADDR, 1234, 81, { seq: 9000, flags: FIN });
  h.runFor(sec(1));
  assert.equal(p.rx.length, 3);
  assert.deepEqual([p.rx[1]!.f, p.rx[1]!.seq, p.rx[1]!.ack], ['R.', 0, 5005]);
  assert.deepEqual([p.rx[2]!.f, p.rx[2]!.seq, p.rx[2]!.ack], ['R.', 0, 9001]);
});

test('never a RST in answer to a RST: to a closed port, to a listener, to a connection (out of window)', () => {
  const h = new Harness({ onlyA: true });
  const p = h.peer();
  p.send(A_ADDR, 1234, 81, { seq: 1000, flags: RST });
  p.send(A_ADDR, 1234, 81, { seq: 1000, ack: 5, flags: RST | ACK });
  h.a.listen({ port: 82 });
  p.send(A_ADDR, 1234, 82, { seq: 1000, flags: RST });
  p.send(A_ADDR, 1234, 82, { seq: 1000, ack: 5, flags: RST | ACK });
  h.runFor(sec(1));
  assert.deepEqual(p.rx, []);
  assert.equal(h.a.counters.OutRsts, 0);
  assert.equal(h.a.connections().length, 0);
});

// ------------------------------------------------------------------ listener (§3.10.7.2)

test('a bad ACK to a listener gets <SEQ=SEG.ACK><CTL=RST> and creates nothing', () => {
  const h = new Harness({ onlyA: true });
  const l = h.a.listen({ port: 80 });
  const p = h.peer();
  p.send(A_ADDR, 1234, 80, { seq: 1000, ack: 424242, flags: ACK });
  h.runFor(sec(1));
  assert.equal(p.rx.length, 1);
  assert.deepEqual([p.rx[0]!.f, p.rx[0]!.seq], ['R', 424242]);
  assert.equal(l.synQueue.size, 0);
  assert.equal(h.a.connections().length, 0);
  // A SYN,ACK to a listener is also a bad ACK.
  p.send(A_ADDR, 1235, 80, { seq: 1000, ack: 99, flags: SYN | ACK });
  h.runFor(sec(1));
  assert.deepEqual([p.rx[1]!.f, p.rx[1]!.seq], ['R', 99]);
  assert.equal(h.a.connections().length, 0);
});

// ------------------------------------------------------------------ abortive close

test('abortive close with SO_LINGER 0: RST, the peer gets ECONNRESET, no TIME_WAIT anywhere', () => {
  const h = new Harness();
  const l = h.B.listen({ port: 80 });
  const errs: string[] = [];
  l.onConnection = () => {
    const s = l.accept()!;
    s.onError = (code) => errs.push(code);
  };
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(sec(1));
  c.setOption('linger', 0);
  const mark = h.segs.length;
  c.close();
  h.run();
  assert.deepEqual(h.wire(mark), ['A R. 1 ack 1'], h.dump());
  assert.deepEqual(errs, ['ECONNRESET']);
  assert.ok(!h.events.some((e) => e.to === 'TIME_WAIT'), h.dump());
  assert.equal(h.a.connections().length, 0);
  assert.equal(h.B.connections().length, 0);
  assert.equal(h.a.counters.OutRsts, 1);
  assert.equal(c.error, null, 'an abortive close reports no error to the closer');
});

test('close with unread data sends RST (TCPAbortOnClose), the peer gets ECONNRESET', () => {
  const h = new Harness();
  const l = h.B.listen({ port: 80 });
  const errs: string[] = [];
  let s: import('../src/stack/socket.js').TcpSocket | null = null;
  l.onConnection = () => {
    s = l.accept()!;
    s.onError = (code) => errs.push(code);
  };
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(sec(1));
  s!.write('unread');
  h.runFor(sec(1));
  assert.equal(c.readable, 6);
  const mark = h.segs.length;
  c.close();
  h.run();
  assert.deepEqual(h.wire(mark), ['A R. 1 ack 7'], h.dump());
  assert.equal(h.a.counters.TCPAbortOnClose, 1);
  assert.deepEqual(errs, ['ECONNRESET']);
  assert.ok(!h.events.some((e) => e.to === 'TIME_WAIT'));
});

// ------------------------------------------------------------------ incoming RST per state

test('RST in SYN_SENT: ignored without ACK or with a bad ACK (no reply); with an acceptable ACK, ECONNREFUSED', () => {
  const h = new Harness({ onlyA: true });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 80, 40000, 5000);
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  const errs: string[] = [];
  c.onError = (code) => errs.push(code);
  h.runFor(50_000);
  const iss = pc.irs!;
  pc.send(RST, { seq: 1 });
  pc.send(RST | ACK, { seq: 1, ack: iss }); // acknowledges nothing of ours: unacceptable
  pc.send(RST | ACK, { seq: 1, ack: (iss + 2) >>> 0 }); // acknowledges more than we sent
  h.runFor(50_000);
  assert.equal(c.state, 'SYN_SENT');
  assert.deepEqual(pc.lines(), ['S 0'], h.dump());
  pc.send(RST | ACK, { seq: 0, ack: (iss + 1) >>> 0 });
  h.runFor(50_000);
  assert.equal(c.state, 'CLOSED');
  assert.deepEqual(errs, ['ECONNREFUSED']);
  assert.deepEqual(pc.lines(), ['S 0']);
});

test('a bad ACK in SYN_SENT gets <SEQ=SEG.ACK><CTL=RST> and the connection stays in SYN_SENT', () => {
  const h = new Harness({ onlyA: true });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 80, 40000, 5000);
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(50_000);
  const iss = pc.irs!;
  pc.send(SYN | ACK, { seq: 5000, ack: (iss + 100) >>> 0, mss: 1460 });
  h.runFor(50_000);
  assert.equal(c.state, 'SYN_SENT');
  assert.deepEqual(pc.lines(), ['S 0', 'R 100'], h.dump());
  // The real SYN-ACK still completes the handshake.
  pc.send(SYN | ACK, { seq: 5000, ack: (iss + 1) >>> 0, mss: 1460 });
  h.runFor(50_000);
  assert.equal(c.state, 'ESTABLISHED');
});

test('RST in SYN_RECEIVED (passive open): the request is dropped, the listener stays in LISTEN', () => {
  const h = new Harness({ onlyA: true });
  const l = h.a.listen({ port: 80 });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 1234, 80, 1000);
  pc.send(SYN, { mss: 1460 });
  h.runFor(50_000);
  assert.deepEqual(pc.lines(), ['S. 0 ack 1']);
  assert.equal(l.synQueue.size, 1);
  pc.send(RST);
  h.runFor(50_000);
  assert.equal(l.synQueue.size, 0);
  assert.equal(h.a.connections().length, 0);
  assert.deepEqual(h.a.netstat().map((r) => r.state), ['LISTEN']);
  assert.deepEqual(h.states('A'), ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>CLOSED']);
  assert.deepEqual(pc.lines(), ['S. 0 ack 1'], 'nothing answers the RST');
  // The port still accepts a new connection.
  const pc2 = p.conn(A_ADDR, 1235, 80, 7000);
  pc2.send(SYN, { mss: 1460 });
  h.runFor(50_000);
  pc2.send(ACK);
  h.runFor(50_000);
  assert.equal(l.acceptQueue.length, 1);
});

/** Drive a scripted connection to `state`; returns the pieces. */
function reach(state: TcpStateName) {
  const h = new Harness({ onlyA: true });
  const { pc, c } = scriptedPeerConnection(h);
  const errs: string[] = [];
  c.onError = (code) => errs.push(code);
  driveToState(h, pc, c, state, 50_000);
  h.runFor(50_000);
  assert.equal(c.state, state, h.dump());
  return { h, pc, c, errs };
}

const rstOutcome: Record<string, string[]> = {
  ESTABLISHED: ['ECONNRESET'],
  FIN_WAIT_1: ['ECONNRESET'],
  FIN_WAIT_2: ['ECONNRESET'],
  CLOSE_WAIT: ['EPIPE'], // LINUX tcp_reset
  CLOSING: [],
  LAST_ACK: [],
  TIME_WAIT: [],
};

for (const [state, expectErrs] of Object.entries(rstOutcome)) {
  test(`RST at RCV.NXT in ${state}: CLOSED${expectErrs.length ? ` with ${expectErrs[0]}` : ''}, nothing sent back`, () => {
    const { h, pc, c, errs } = reach(state as TcpStateName);
    const mark = pc.rx.length;
    const resetsBefore = h.a.counters.OutRsts;
    pc.send(RST);
    h.runFor(sec(1));
    assert.equal(c.state, 'CLOSED', h.dump());
    assert.deepEqual(errs, expectErrs);
    assert.deepEqual(pc.lines(mark), [], h.dump());
    assert.equal(h.a.counters.OutRsts, resetsBefore);
    assert.equal(h.a.connections().length, 0);
  });
}

// ------------------------------------------------------------------ RFC 5961

test('RFC 5961 §3.2: an in-window RST that is not exact gets a challenge ACK and the connection survives', () => {
  const { h, pc, c, errs } = reach('ESTABLISHED');
  const mark = pc.rx.length;
  pc.send(RST, { seq: (pc.sndNxt + 100) >>> 0 });
  h.runFor(50_000);
  assert.equal(c.state, 'ESTABLISHED');
  assert.deepEqual(errs, []);
  assert.deepEqual(pc.lines(mark), ['. 1 ack 1'], h.dump());
  assert.equal(h.a.counters.TCPChallengeACK, 1);
  // The peer answers the challenge with an exact RST (what a peer that really lost state does).
  pc.send(RST, { seq: pc.rx.at(-1)!.ack });
  h.runFor(50_000);
  assert.equal(c.state, 'CLOSED');
  assert.deepEqual(errs, ['ECONNRESET']);
});

test('RFC 5961 §3.2: an out-of-window RST is silently ignored', () => {
  const { h, pc, c } = reach('ESTABLISHED');
  const mark = pc.rx.length;
  pc.send(RST, { seq: (pc.sndNxt + 1_000_000) >>> 0 });
  pc.send(RST, { seq: (pc.sndNxt - 1) >>> 0 });
  pc.send(RST | ACK, { seq: (pc.sndNxt - 70_000) >>> 0 });
  h.runFor(sec(1));
  assert.equal(c.state, 'ESTABLISHED');
  assert.deepEqual(pc.lines(mark), []);
  assert.equal(h.a.counters.TCPChallengeACK, 0);
  // Still usable.
  let got = '';
  c.onData = () => (got += text(c.read()));
  pc.send(ACK | PSH, { payload: 'alive' });
  h.runFor(sec(1));
  assert.equal(got, 'alive');
});

test('RFC 5961 §4.2: a SYN in ESTABLISHED gets a challenge ACK; challenge ACKs are rate-limited (500 ms)', () => {
  const { h, pc, c } = reach('ESTABLISHED');
  const mark = pc.rx.length;
  h.runFor(sec(1));
  pc.send(SYN, { seq: (pc.sndNxt + 12345) >>> 0, mss: 1460 });
  h.runFor(ms(100));
  assert.deepEqual(pc.lines(mark), ['. 1 ack 1'], h.dump());
  assert.equal(c.state, 'ESTABLISHED');
  assert.equal(h.a.counters.TCPChallengeACK, 1);
  // A second within 500 ms of the first: skipped.
  pc.send(RST, { seq: (pc.sndNxt + 10) >>> 0 });
  h.runFor(ms(100));
  assert.deepEqual(pc.lines(mark), ['. 1 ack 1']);
  assert.equal(h.a.counters.TCPChallengeACK, 1);
  assert.equal(h.a.counters.TCPACKSkippedChallenge, 1);
  // After 500 ms another is allowed.
  h.runFor(ms(400));
  pc.send(SYN, { seq: (pc.sndNxt + 777) >>> 0, mss: 1460 });
  h.runFor(ms(100));
  assert.deepEqual(pc.lines(mark), ['. 1 ack 1', '. 1 ack 1']);
  assert.equal(h.a.counters.TCPChallengeACK, 2);
  assert.equal(c.state, 'ESTABLISHED');
});

test('10,000 out-of-window SYNs, one a millisecond, get one challenge ACK per 500 ms, as on Linux', () => {
  // LINUX tcp_validate_incoming: a SYN failing tcp_sequence goes to syn_challenge →
  // tcp_send_challenge_ack, limited per socket by tcp_oow_rate_limited (tcp_invalid_ratelimit
  // 500 ms; the host-wide tcp_challenge_ack_limit is INT_MAX, unlimited, since Linux 6.0).
  const { h, pc, c } = reach('ESTABLISHED');
  h.runFor(sec(1));
  const mark = pc.rx.length;
  for (let k = 0; k < 10_000; k++) {
    h.at(h.now + k * ms(1), () => pc.send(SYN, { seq: (pc.sndNxt + 10_000_000) >>> 0, mss: 1460 }));
  }
  h.runFor(sec(11));
  assert.equal(c.state, 'ESTABLISHED');
  assert.deepEqual(pc.lines(mark), Array.from({ length: 20 }, () => '. 1 ack 1'));
  assert.equal(h.a.counters.TCPSYNChallenge, 10_000);
  assert.equal(h.a.counters.TCPChallengeACK, 20);
  assert.equal(h.a.counters.TCPACKSkippedChallenge, 9_980);
});

test('RFC 5961 §5.2: an ACK for data never sent gets a challenge ACK and is dropped', () => {
  const { h, pc, c } = reach('ESTABLISHED');
  const mark = pc.rx.length;
  h.runFor(sec(1));
  let got = '';
  c.onData = () => (got += text(c.read()));
  pc.send(ACK | PSH, { ack: (pc.rcvNxt + 5000) >>> 0, payload: 'nope' });
  h.runFor(ms(100));
  assert.equal(got, '', 'the segment is dropped');
  assert.deepEqual(pc.lines(mark), ['. 1 ack 1'], h.dump());
  assert.equal(c.state, 'ESTABLISHED');
});
