/**
 * Timers on virtual time: SYN and SYN-ACK retransmission, keepalive, SO_LINGER, data
 * retransmission with exponential backoff, orphaned FIN_WAIT_2 (tcp_fin_timeout), and the MSS
 * rules that shape segment sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sec } from '../src/time.js';
import { SimWorld } from '../src/driver/world.js';
import { ACK, SYN } from '../src/wire/tcp-repr.js';
import type { TcpSocket } from '../src/stack/socket.js';
import { A_ADDR, B_ADDR, Harness, scriptedPeerConnection, text } from './helpers.js';

/** Two connected stacks; `server` is B's accepted socket. */
function pair(h: Harness, opts: { clientTcp?: Parameters<Harness['a']['connect']>[0]['tcp']; serverTcp?: Parameters<Harness['a']['listen']>[0]['tcp'] } = {}) {
  const l = h.B.listen({ port: 80, ...(opts.serverTcp ? { tcp: opts.serverTcp } : {}) });
  const box: { s: TcpSocket | null } = { s: null };
  l.onConnection = () => {
    box.s = l.accept();
  };
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000, ...(opts.clientTcp ? { tcp: opts.clientTcp } : {}) });
  h.runFor(sec(0.1));
  assert.equal(c.state, 'ESTABLISHED');
  return { l, c, s: box.s! };
}

// ------------------------------------------------------------------ SYN / SYN-ACK

test('SYN retransmissions at exactly 0,1,3,7,15,31,63 s and ETIMEDOUT at 127 s (tcp_syn_retries 6)', () => {
  const h = new Harness({ onlyA: true });
  const c = h.a.connect({ remoteAddress: '10.0.0.99', remotePort: 80, localPort: 40000 });
  let err: { code: string; t: number } | null = null;
  c.onError = (code) => (err = { code, t: h.now });
  h.run();
  assert.deepEqual(h.segs.map((s) => s.t), [0, 1, 3, 7, 15, 31, 63].map(sec));
  assert.ok(h.segs.every((s) => s.f === 'S' && s.rseq === 0));
  assert.deepEqual(err, { code: 'ETIMEDOUT', t: sec(127) });
  assert.deepEqual(h.states('A'), ['CLOSED>SYN_SENT', 'SYN_SENT>CLOSED']);
  assert.equal(h.a.counters.RetransSegs, 6);
  assert.equal(h.a.counters.AttemptFails, 1);
});

test('synRetries 2: SYNs at 0,1,3 s and ETIMEDOUT at 7 s', () => {
  const h = new Harness({ onlyA: true });
  const c = h.a.connect({ remoteAddress: '10.0.0.99', remotePort: 80, tcp: { synRetries: 2 } });
  let err: { code: string; t: number } | null = null;
  c.onError = (code) => (err = { code, t: h.now });
  h.run();
  assert.deepEqual(h.segs.map((s) => s.t), [0, 1, 3].map(sec));
  assert.deepEqual(err, { code: 'ETIMEDOUT', t: sec(7) });
  // And as a stack-wide default (the sysctl).
  const h2 = new Harness({ onlyA: true, a: { tcp: { synRetries: 2 } } });
  const c2 = h2.a.connect({ remoteAddress: '10.0.0.99', remotePort: 80 });
  let t2 = -1;
  c2.onError = () => (t2 = h2.now);
  h2.run();
  assert.equal(t2, sec(7));
});

test('a lost SYN is retransmitted after 1 s and the handshake completes', () => {
  const h = new Harness();
  h.B.listen({ port: 80 });
  h.w.net.dropNext((_f, from) => from === 'A');
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000 });
  h.runFor(sec(2));
  assert.equal(c.state, 'ESTABLISHED');
  assert.deepEqual(h.wire(), ['A S 0 DROPPED', 'A S 0', 'B S. 0 ack 1', 'A . 1 ack 1']);
  assert.equal(h.segs[1]!.t, sec(1));
});

test('SYN-ACK retransmissions (5 by default) at 1,3,7,15,31 s, then the request is dropped at 63 s', () => {
  const h = new Harness({ onlyA: true });
  const l = h.a.listen({ port: 80 });
  const p = h.peer();
  const pc = p.conn(A_ADDR, 1234, 80, 1000);
  pc.send(SYN, { mss: 1460 });
  h.run();
  const t0 = pc.rx[0]!.t; // arrival of the first SYN-ACK at the peer
  const sent = pc.rx.map((s) => s.t - t0);
  assert.deepEqual(sent, [0, 1, 3, 7, 15, 31].map(sec));
  assert.ok(pc.rx.every((s) => s.f === 'S.' && s.rseq === 0 && s.rack === 1));
  assert.equal(l.synQueue.size, 0);
  assert.equal(h.a.connections().length, 0);
  assert.deepEqual(h.states('A'), ['CLOSED>LISTEN', 'LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>CLOSED']);
  assert.equal(h.timeOf('A', 'SYN_RECEIVED>CLOSED') - h.timeOf('A', 'LISTEN>SYN_RECEIVED'), sec(63));
  // Dropped silently: no RST.
  assert.ok(!pc.rx.some((s) => s.flags & 0x04));
  // synAckRetries is configurable per listener.
  const h2 = new Harness({ onlyA: true });
  h2.a.listen({ port: 80, tcp: { synAckRetries: 1 } });
  const pc2 = h2.peer().conn(A_ADDR, 1234, 80, 1000);
  pc2.send(SYN, { mss: 1460 });
  h2.run();
  assert.deepEqual(pc2.rx.map((s) => s.t - pc2.rx[0]!.t), [0, sec(1)]);
  assert.equal(h2.timeOf('A', 'SYN_RECEIVED>CLOSED') - h2.timeOf('A', 'LISTEN>SYN_RECEIVED'), sec(3));
});

test('a retransmitted SYN in SYN_RECEIVED gets the SYN-ACK again', () => {
  const h = new Harness({ onlyA: true });
  h.a.listen({ port: 80 });
  const pc = h.peer().conn(A_ADDR, 1234, 80, 1000);
  pc.send(SYN, { mss: 1460 });
  h.runFor(sec(0.1));
  pc.send(SYN, { seq: 1000, mss: 1460 });
  h.runFor(sec(0.1));
  assert.deepEqual(pc.lines(), ['S. 0 ack 1', 'S. 0 ack 1']);
});

// ------------------------------------------------------------------ keepalive

test('keepalive defaults: probes at 7200 s idle then every 75 s, 9 probes, then RST and ETIMEDOUT', () => {
  const h = new Harness();
  const { c } = pair(h, { clientTcp: { keepAlive: true } });
  const t0 = h.timeOf('A', 'SYN_SENT>ESTABLISHED'); // last segment received
  let err: { code: string; t: number } | null = null;
  c.onError = (code) => (err = { code, t: h.now });
  h.w.net.detach('B'); // the peer vanishes without a word
  const mark = h.segs.length;
  h.run(sec(20000));
  const sent = h.segs.slice(mark);
  const probes = sent.filter((s) => s.f === '.');
  assert.equal(probes.length, 9, h.dump());
  assert.deepEqual(probes.map((s) => s.t - t0), Array.from({ length: 9 }, (_, k) => sec(7200 + 75 * k)));
  // A keepalive probe is SEG.SEQ = SND.UNA - 1 with no data (RFC 1122 §4.2.3.6, LINUX).
  assert.ok(probes.every((s) => s.rseq === 0 && s.len === 0));
  const rst = sent.filter((s) => s.flags & 0x04);
  assert.equal(rst.length, 1);
  assert.equal(rst[0]!.t - t0, sec(7200 + 75 * 9));
  assert.deepEqual(err, { code: 'ETIMEDOUT', t: t0 + sec(7200 + 75 * 9) });
  assert.equal(c.state, 'CLOSED');
  assert.equal(h.a.counters.TCPKeepAliveTimeouts, 1);
});

test('keepalive answered: the peer ACKs each probe and the connection lives on', () => {
  const h = new Harness();
  const { c } = pair(h, { clientTcp: { keepAlive: true } });
  const mark = h.segs.length;
  h.run(sec(7200 * 3 + 10));
  assert.equal(c.state, 'ESTABLISHED');
  const w = h.wire(mark);
  assert.deepEqual(w, ['A . 0 ack 1', 'B . 1 ack 1', 'A . 0 ack 1', 'B . 1 ack 1', 'A . 0 ack 1', 'B . 1 ack 1'], h.dump());
  const probeTimes = h.segs.slice(mark).filter((s) => s.from === 'A').map((s) => s.t);
  // Each answer restarts the idle time: probes 7200 s after the last answer.
  assert.equal(probeTimes[1]! - probeTimes[0]!, sec(7200) + 20_000);
});

test('keepalive per-connection options (setOption keepIdle 10 s, keepInterval 2 s, keepCount 3)', () => {
  const h = new Harness();
  const { c } = pair(h);
  c.setOption('keepIdle', sec(10));
  c.setOption('keepInterval', sec(2));
  c.setOption('keepCount', 3);
  const t1 = h.now;
  c.setOption('keepAlive', true);
  let err: { code: string; t: number } | null = null;
  c.onError = (code) => (err = { code, t: h.now });
  h.w.net.detach('B');
  const mark = h.segs.length;
  h.run(sec(100));
  const sent = h.segs.slice(mark);
  assert.deepEqual(sent.map((s) => [s.f, s.t - t1]), [['.', sec(10)], ['.', sec(12)], ['.', sec(14)], ['R.', sec(16)]], h.dump());
  assert.deepEqual(err, { code: 'ETIMEDOUT', t: t1 + sec(16) });
});

// ------------------------------------------------------------------ SO_LINGER

test('linger with a timeout, acked in time: onLinger(true), normal FIN close', () => {
  const h = new Harness();
  const { c, s } = pair(h);
  let got = '';
  s.onData = () => (got += text(s.read()));
  s.onEnd = () => s.close();
  const linger: boolean[] = [];
  const errs: string[] = [];
  c.onLinger = (acked) => linger.push(acked);
  c.onError = (code) => errs.push(code);
  c.setOption('linger', sec(5));
  c.write('x'.repeat(5000));
  c.close();
  h.runFor(sec(1));
  assert.deepEqual(linger, [true]);
  assert.deepEqual(errs, []);
  assert.equal(got.length, 5000);
  assert.ok(!h.segs.some((x) => x.flags & 0x04));
  assert.equal(c.state, 'TIME_WAIT');
});

test('linger timeout: the peer never reads (zero window): onLinger(false), EWOULDBLOCK, RST at exactly the timeout', () => {
  const h = new Harness();
  const { c, s } = pair(h, { serverTcp: { recvBuffer: 2000 } });
  const peerErrs: string[] = [];
  s.onError = (code) => peerErrs.push(code);
  const linger: boolean[] = [];
  const errs: string[] = [];
  c.onLinger = (acked) => linger.push(acked);
  c.onError = (code) => errs.push(code);
  c.setOption('linger', sec(5));
  c.write('y'.repeat(20000));
  h.runFor(sec(1));
  // B's buffer filled up to what receiver SWS avoidance lets it advertise; its window is now 0.
  assert.ok(s.readable > 0 && s.readable <= 2000, h.dump());
  assert.equal(c.snapshot().sndWnd, 0);
  assert.ok(c.snapshot().sendQueue > 0);
  const t1 = h.now;
  c.close();
  assert.equal(c.state, 'FIN_WAIT_1');
  h.runFor(sec(10));
  assert.deepEqual(linger, [false]);
  assert.deepEqual(errs, ['EWOULDBLOCK']);
  assert.equal(c.state, 'CLOSED');
  const rst = h.segs.filter((x) => x.from === 'A' && x.flags & 0x04);
  assert.equal(rst.length, 1, h.dump());
  assert.equal(rst[0]!.t, t1 + sec(5));
  assert.deepEqual(peerErrs, ['ECONNRESET']);
  assert.ok(!h.events.some((e) => e.to === 'TIME_WAIT'));
});

// ------------------------------------------------------------------ data retransmission

test('data retransmission on timeout: RTO doubles, ETIMEDOUT after retries2 retransmissions, no RST', () => {
  for (const retries2 of [3, 15]) {
    const h = new Harness();
    const { c } = pair(h, { clientTcp: { retries2 } });
    let err: { code: string; t: number } | null = null;
    c.onError = (code) => (err = { code, t: h.now });
    const rto = c.snapshot().rto;
    assert.ok(rto >= 200_000, `rto ${rto}`);
    h.w.net.detach('B');
    const t0 = h.now;
    c.write('data!');
    h.run(sec(10000));
    const sent = h.segs.filter((s) => s.from === 'A' && s.t >= t0);
    assert.ok(sent.every((s) => s.f === 'P.' && s.rseq === 1 && s.len === 5), h.dump());
    // The tail loss probe first (RFC 8985 §7.2: due at 2·SRTT + the delayed-ACK allowance, later
    // than the RTO here, so clamped to it: LINUX tcp_schedule_loss_probe), then the RTO restarted.
    assert.equal(sent.length, 2 + retries2);
    // Interval k is rto * 2^k, capped at 120 s (RFC 6298 §5.5, §2.5).
    let t = t0 + rto;
    const expect: number[] = [0];
    for (let k = 0; k <= retries2; k++) {
      expect.push(t - t0);
      t += Math.min(sec(120), rto * 2 ** k);
    }
    assert.deepEqual(sent.map((s) => s.t - t0), expect);
    assert.deepEqual(err, { code: 'ETIMEDOUT', t });
    assert.equal(c.state, 'CLOSED');
    assert.equal(h.a.counters.RetransSegs, retries2 + 1);
    assert.equal(h.a.counters.TCPLossProbes, 1);
  }
});

test('a lost data segment is retransmitted after one RTO and delivered once', () => {
  const h = new Harness();
  const { c, s } = pair(h);
  let got = '';
  s.onData = () => (got += text(s.read()));
  const rto = c.snapshot().rto;
  h.w.net.dropNext((_f, from) => from === 'A');
  const t0 = h.now;
  c.write('hello');
  h.runFor(sec(5));
  assert.equal(got, 'hello');
  const sent = h.segs.filter((x) => x.from === 'A' && x.t >= t0);
  assert.deepEqual(sent.map((x) => [fmtShort(x), x.t - t0]), [['P. 1:6 ack 1 DROPPED', 0], ['P. 1:6 ack 1', rto]]);
  assert.equal(c.snapshot().backoff, 0, 'the ACK resets the backoff');
});

// ------------------------------------------------------------------ FIN_WAIT_2

test('orphaned FIN_WAIT_2 closes after tcp_fin_timeout (default 60 s, configurable); a half-closed one stays', () => {
  for (const finTimeout of [sec(60), sec(5)]) {
    const h = new Harness();
    const { c } = pair(h, { clientTcp: { finTimeout } });
    c.close();
    h.runFor(sec(1));
    assert.equal(c.state, 'FIN_WAIT_2');
    h.run(sec(10000));
    assert.equal(c.state, 'CLOSED');
    assert.equal(h.timeOf('A', 'FIN_WAIT_2>CLOSED') - h.timeOf('A', 'FIN_WAIT_1>FIN_WAIT_2'), finTimeout);
  }
  // shutdown() is not close(): the application can still read, so FIN_WAIT_2 waits for the peer.
  const h = new Harness();
  const { c } = pair(h);
  c.shutdown();
  h.run(sec(10000));
  assert.equal(c.state, 'FIN_WAIT_2');
});

// ------------------------------------------------------------------ MSS

test('MSS: MTU 1500 announces 1460; the smaller peer MSS is honoured', () => {
  const h = new Harness({ b: { mtu: 1000 } });
  const { c, s } = pair(h);
  const syn = h.segs[0]!;
  const synAck = h.segs[1]!;
  assert.equal(syn.f, 'S');
  assert.equal(syn.mss, 1460);
  assert.equal(synAck.mss, 960);
  assert.equal(c.snapshot().peerMss, 960);
  let got = 0;
  s.onData = () => (got += s.read()!.length);
  const mark = h.segs.length;
  c.write(new Uint8Array(30000));
  h.runFor(sec(5));
  assert.equal(got, 30000);
  const lens = h.segs.slice(mark).filter((x) => x.from === 'A' && x.len > 0).map((x) => x.len);
  // Timestamps take 12 bytes of each segment (LINUX mss_cache): at most 960 - 12.
  assert.ok(lens.every((n) => n <= 948), String(lens));
  assert.equal(Math.max(...lens), 948);
  assert.ok(h.segs.every((x) => !x.dropped), 'nothing too big for the path');
  // The other direction is capped by B's own MSS (min of both).
  const mark2 = h.segs.length;
  let back = 0;
  c.onData = () => (back += c.read()!.length);
  s.write(new Uint8Array(30000));
  h.runFor(sec(5));
  assert.equal(back, 30000);
  const lens2 = h.segs.slice(mark2).filter((x) => x.from === 'B' && x.len > 0).map((x) => x.len);
  assert.equal(Math.max(...lens2), 948);
});

test('MSS: 536 when the peer\'s SYN has no MSS option', () => {
  const h = new Harness({ onlyA: true });
  const l = h.a.listen({ port: 80 });
  let sock: TcpSocket | null = null;
  l.onConnection = () => (sock = l.accept());
  const pc = h.peer().conn(A_ADDR, 1234, 80, 1000);
  pc.send(SYN); // no options at all
  h.runFor(sec(0.1));
  assert.equal(pc.rx[0]!.mss, 1460, 'our SYN-ACK still announces our own MSS');
  assert.equal(pc.rx[0]!.hasTs, false, 'no timestamps when the peer offered none');
  pc.send(ACK);
  h.runFor(sec(0.1));
  assert.ok(sock);
  const s = sock as TcpSocket;
  assert.equal(s.snapshot().peerMss, 536);
  s.write(new Uint8Array(3000));
  h.runFor(sec(0.1));
  // Five full segments and the 320-byte tail at once (Nagle as Linux applies it, Minshall's
  // variant: no earlier small segment is unacknowledged).
  assert.deepEqual(pc.rx.filter((x) => x.len > 0).map((x) => x.len), [536, 536, 536, 536, 536, 320]);
});

function fmtShort(s: { f: string; rseq: number; len: number; flags: number; rack: number; dropped: boolean }): string {
  let out = `${s.f} ${s.rseq}`;
  if (s.len > 0) out += `:${s.rseq + s.len}`;
  if (s.flags & ACK) out += ` ack ${s.rack}`;
  if (s.dropped) out += ' DROPPED';
  return out;
}

test('MSS: a full data segment that also carries SACK blocks still fits the MTU (regression)', () => {
  const h = new Harness();
  const { c, s } = pair(h);
  const tooBig: string[] = [];
  h.w.onFrame((ev) => {
    if (ev.reason === 'too-big') tooBig.push(`${ev.from} ${ev.frame.length}`);
  });
  let toB = 0;
  let toA = 0;
  s.onData = () => (toB += s.read()!.length);
  c.onData = () => (toA += c.read()!.length);
  // Lose B's second data segment: A holds out-of-order data (SACK blocks) while sending full segments.
  let n = 0;
  h.w.net.dropNext((f, from) => from === 'B' && f.length > 1000 && ++n === 2);
  s.write(new Uint8Array(20000));
  c.write(new Uint8Array(20000));
  h.runFor(sec(10));
  assert.deepEqual(tooBig, []);
  assert.equal(toB, 20000);
  assert.equal(toA, 20000);
});

test('after a retransmission timeout, a bare ACK carries the highest sequence number sent (regression)', () => {
  const h = new Harness({ onlyA: true });
  const { pc, c } = scriptedPeerConnection(h);
  c.write(new Uint8Array(2920)); // two full segments (MSS 1460); the peer takes them but never ACKs
  h.runFor(sec(1.5)); // the RTO fires: A rewinds SND.NXT and resends the first segment
  const snap = c.snapshot();
  assert.equal((snap.sndMax - snap.sndUna) | 0, 2920);
  assert.ok(((snap.sndNxt - snap.sndMax) | 0) < 0, 'SND.NXT was rewound');
  const mark = pc.rx.length;
  pc.send(ACK | 0x08, { ack: (pc.irs! + 1) >>> 0, payload: 'hi' }); // acknowledges none of A's data
  h.runFor(sec(0.1));
  const acks = pc.rx.slice(mark).filter((x) => x.len === 0);
  assert.ok(acks.length >= 1, pc.lines().join('\n'));
  // SEG.SEQ = 2921 (relative): acceptable to a peer whose RCV.NXT is past all we sent.
  assert.equal(acks[0]!.rseq, 2921);
});

test('tcp_syn_linear_timeouts (Linux 6.5+): the first N SYN retransmissions keep the 1 s RTO, then doubling', () => {
  const w = new SimWorld({ seed: 4, path: { delay: 10_000 } });
  const a = w.addHost('a', ['10.0.0.1'], { tcp: { synLinearTimeouts: 4, synRetries: 6 } });
  w.addHost('b', ['10.0.0.2']);
  w.net.setPath('a', 'b', { loss: 1 });
  const syns: number[] = [];
  w.onFrame((ev) => {
    if (ev.from === 'a') syns.push(ev.t / 1e6);
  });
  let err = '';
  let at = 0;
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  c.onError = (code) => {
    err = code;
    at = w.now / 1e6;
  };
  w.run();
  // Linux's documented RTOs for 4 linear timeouts: 1, 1, 1, 1, 1, 2, 4 — the first exponential
  // step is 2^0 · RTO. SYNs at 0, 1, 2, 3, 4, 5, 7 and the give-up 4 s after the last.
  assert.deepEqual(syns, [0, 1, 2, 3, 4, 5, 7]);
  assert.equal(err, 'ETIMEDOUT');
  assert.equal(at, 11);
});
