/**
 * The data path on the wire, one mechanism per scenario: delayed ACK timing, Nagle, sender and
 * receiver silly-window avoidance, window scaling on both ends, PAWS, D-SACK, persist probes with
 * backoff, and TCP_USER_TIMEOUT. Every test drives the simulator on virtual time (µs) and asserts
 * exact segments: flags, relative seq/ack, length, window, options and times.
 *
 * Covered elsewhere, not repeated here: SACK recovery of several holes and NewReno partial ACKs
 * (recovery.test.ts), SYN and data RTO doubling and give-up after retries2 (timers.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ms, sec } from '../src/time.js';
import type { TcpSocket } from '../src/stack/socket.js';
import type { TcpConfig } from '../src/tcp/config.js';
import { newIpRepr, parseIpHeader } from '../src/wire/ip.js';
import { parseTcp } from '../src/wire/tcp.js';
import { ACK, FIN, PSH, SYN, newTcpRepr } from '../src/wire/tcp-repr.js';
import { A_ADDR, B_ADDR, Harness, fmt, scriptedPeerConnection, type Seg } from './helpers.js';

// ------------------------------------------------------------------ helpers

/** Option details the Harness's Seg does not keep. */
interface Opts {
  tsVal: number;
  tsEcr: number;
  /** SACK blocks relative to the ISN of the data sender (the receiver of this segment). */
  sack: [number, number][];
}

/**
 * Record timestamps and SACK blocks of every segment the Harness records, keyed by the Seg
 * object (installed after the Harness's own recorder, so `h.segs` already holds the segment).
 */
function recordOptions(h: Harness): Map<Seg, Opts> {
  const ip = newIpRepr();
  const r = newTcpRepr();
  const map = new Map<Seg, Opts>();
  h.w.onFrame((ev) => {
    if (ev.duplicate) return;
    if (parseIpHeader(ev.frame, ip, false) !== null || parseTcp(ev.frame, ip, r, false) !== null) return;
    const s = h.segs[h.segs.length - 1];
    if (s === undefined || s.seq !== r.seq || s.t !== ev.t) return;
    const base = (s.ack - s.rack) >>> 0;
    const sack: [number, number][] = [];
    for (let i = 0; i < r.sackCount; i++) sack.push([(r.sackBlocks[2 * i]! - base) >>> 0, (r.sackBlocks[2 * i + 1]! - base) >>> 0]);
    map.set(s, { tsVal: r.tsVal, tsEcr: r.tsEcr, sack });
  });
  return map;
}

/** Two connected stacks: A's client socket `c` and B's accepted socket `s` (port 80). */
function pair(h: Harness, opts: { clientTcp?: Partial<TcpConfig>; serverTcp?: Partial<TcpConfig> } = {}): { c: TcpSocket; s: TcpSocket } {
  const l = h.B.listen({ port: 80, ...(opts.serverTcp ? { tcp: opts.serverTcp } : {}) });
  const box: { s: TcpSocket | null } = { s: null };
  l.onConnection = () => {
    box.s = l.accept();
  };
  const c = h.a.connect({ remoteAddress: B_ADDR, remotePort: 80, localPort: 40000, ...(opts.clientTcp ? { tcp: opts.clientTcp } : {}) });
  h.runFor(sec(0.5));
  assert.equal(c.state, 'ESTABLISHED', h.dump());
  assert.ok(box.s !== null, h.dump());
  return { c, s: box.s };
}

/** Segments from `host` carrying data (or SYN/FIN) after index `from`. */
const dataFrom = (h: Harness, host: string, from = 0): Seg[] => h.segs.slice(from).filter((s) => s.from === host && s.len > 0);
/** Pure ACKs from `host` after index `from`. */
const acksFrom = (h: Harness, host: string, from = 0): Seg[] =>
  h.segs.slice(from).filter((s) => s.from === host && s.len === 0 && s.f === '.');

const MSS = 1460;
/** Payload of a full segment carrying the timestamp option. */
const TS_MSS = 1448;
const full = (n = MSS): Uint8Array => new Uint8Array(n).fill(0x61);

// ------------------------------------------------------------------ 1. delayed ACK

test('delayed ACK: quick-ACK for the first 16 segments, then every second full segment at once, a lone one after 40 ms', () => {
  const h = new Harness({ onlyA: true });
  const { pc } = scriptedPeerConnection(h);
  const delay = 10_000; // one-way
  const sendAt = (t: number, payload: Uint8Array): void => h.at(t, () => pc.send(ACK | PSH, { payload }));
  // Phase 1: 16 lone full-sized segments, 5 ms apart: each is ACKed when it arrives (quick-ACK).
  let t = h.now + ms(5);
  const t1 = t;
  for (let i = 0; i < 16; i++, t += ms(5)) sendAt(t, full());
  h.run(t + ms(100));
  let acks = acksFrom(h, 'A').filter((s) => s.t > t1);
  assert.deepEqual(
    acks.map((s) => [s.t - t1, s.rack]),
    Array.from({ length: 16 }, (_, i) => [i * ms(5) + delay, 1 + (i + 1) * MSS]),
    h.dump(),
  );
  // Phase 2: quick-ACK mode is over. A lone full segment: the ACK waits the 40 ms delayed-ACK timeout.
  let base = 1 + 16 * MSS;
  const t2 = h.now;
  sendAt(t2, full());
  h.run(t2 + ms(200));
  acks = acksFrom(h, 'A').filter((s) => s.t > t2);
  assert.deepEqual(acks.map((s) => [s.t - t2, s.rack]), [[delay + ms(40), base + MSS]], h.dump());
  base += MSS;
  // Two full segments back to back: the second one is ACKed on arrival (RFC 5681 §4.2 "at least
  // every second full-sized segment").
  const t3 = h.now;
  sendAt(t3, full());
  sendAt(t3 + 100, full());
  h.run(t3 + ms(200));
  acks = acksFrom(h, 'A').filter((s) => s.t > t3);
  assert.deepEqual(acks.map((s) => [s.t - t3, s.rack]), [[delay + 100, base + 2 * MSS]], h.dump());
  base += 2 * MSS;
  // Three: the pair is ACKed at once, the third waits 40 ms.
  const t4 = h.now;
  sendAt(t4, full());
  sendAt(t4 + 100, full());
  sendAt(t4 + 200, full());
  h.run(t4 + ms(200));
  acks = acksFrom(h, 'A').filter((s) => s.t > t4);
  assert.deepEqual(
    acks.map((s) => [s.t - t4, s.rack]),
    [
      [delay + 100, base + 2 * MSS],
      [delay + 200 + ms(40), base + 3 * MSS],
    ],
    h.dump(),
  );
  base += 3 * MSS;
  // A lone small segment waits 40 ms too.
  const t5 = h.now;
  sendAt(t5, full(100));
  h.run(t5 + ms(200));
  acks = acksFrom(h, 'A').filter((s) => s.t > t5);
  assert.deepEqual(acks.map((s) => [s.t - t5, s.rack]), [[delay + ms(40), base + 100]], h.dump());
  assert.ok(acks.every((s) => s.win > 0));
});

test('delayed ACK of a FIN: 40 ms once data has arrived (CLOSE_WAIT), immediate when no data ever arrived', () => {
  // With data: the FIN's ACK is delayed (LINUX tcp_fin: pingpong mode expecting our own FIN).
  {
    const h = new Harness({ onlyA: true });
    const { pc, c } = scriptedPeerConnection(h);
    pc.send(ACK | PSH, { payload: 'hello' });
    h.runFor(ms(100));
    const t0 = h.now;
    pc.send(ACK | FIN);
    h.runFor(ms(200));
    assert.equal(c.state, 'CLOSE_WAIT');
    assert.equal(h.timeOf('A', 'ESTABLISHED>CLOSE_WAIT'), t0 + ms(10));
    const acks = h.segs.filter((s) => s.from === 'A' && s.t > t0);
    assert.deepEqual(acks.map((s) => [fmt(s), s.t - t0]), [['A . 1 ack 7', ms(10) + ms(40)]], h.dump());
  }
  // Without data: ACKed on arrival.
  {
    const h = new Harness({ onlyA: true });
    const { pc, c } = scriptedPeerConnection(h);
    const t0 = h.now;
    pc.send(ACK | FIN);
    h.runFor(ms(200));
    assert.equal(c.state, 'CLOSE_WAIT');
    const acks = h.segs.filter((s) => s.from === 'A' && s.t > t0);
    assert.deepEqual(acks.map((s) => [fmt(s), s.t - t0]), [['A . 1 ack 2', ms(10)]], h.dump());
  }
});

// ------------------------------------------------------------------ 2. Nagle

/** A writes two small chunks back to back; returns A's data segments relative to the first write. */
function twoSmallWrites(clientTcp: Partial<TcpConfig>, serverTcp: Partial<TcpConfig> = {}, third = false): { h: Harness; t0: number; lines: [string, number][]; got: string } {
  const h = new Harness();
  const { c, s } = pair(h, { clientTcp, serverTcp });
  let got = '';
  s.onData = () => (got += new TextDecoder().decode(s.read()!));
  const from = h.segs.length;
  const t0 = h.now;
  c.write('a'.repeat(100));
  c.write('b'.repeat(100));
  if (third) h.at(t0 + ms(5), () => c.write('c'.repeat(100)));
  h.runFor(sec(1));
  return { h, t0, lines: dataFrom(h, 'A', from).map((x) => [fmt(x), x.t - t0]), got };
}

test('Nagle (default): the second small write waits for the ACK of the first; later writes join it', () => {
  const { h, lines, got } = twoSmallWrites({}, {}, true);
  // B is still in quick-ACK mode: its ACK leaves on arrival (10 ms) and reaches A at 20 ms.
  assert.deepEqual(lines, [
    ['A P. 1:101 ack 1', 0],
    ['A P. 101:301 ack 1', ms(20)],
  ], h.dump());
  assert.equal(got, 'a'.repeat(100) + 'b'.repeat(100) + 'c'.repeat(100));
});

test('Nagle with a delayed ACK: the second small segment waits for the peer\'s 40 ms delayed ACK', () => {
  const { h, lines } = twoSmallWrites({}, { quickAcks: 0 });
  assert.deepEqual(lines, [
    ['A P. 1:101 ack 1', 0],
    ['A P. 101:201 ack 1', ms(10) + ms(40) + ms(10)],
  ], h.dump());
});

test('TCP_NODELAY: both small writes go at once', () => {
  const { h, lines, got } = twoSmallWrites({ noDelay: true });
  assert.deepEqual(lines, [
    ['A P. 1:101 ack 1', 0],
    ['A P. 101:201 ack 1', 0],
  ], h.dump());
  assert.equal(got, 'a'.repeat(100) + 'b'.repeat(100));
});

// ------------------------------------------------------------------ 3. SWS avoidance

test('sender SWS avoidance: no small segment into a small window while data remains; the override timer sends it', () => {
  const h = new Harness({ onlyA: true });
  // The peer's first window takes exactly six full segments.
  const { pc, c } = scriptedPeerConnection(h, { win: 6 * MSS });
  let from = h.segs.length;
  c.write(full(10_000));
  h.runFor(ms(15));
  // Six full segments; the 1240-byte tail waits (the peer's window is full). As Linux sends them:
  // a TSO packet of 5 segments (PSH on its last), then one segment (no PSH).
  assert.deepEqual(h.wire(from), Array.from({ length: 6 }, (_, i) => `A ${i === 4 ? 'P.' : '.'} ${1 + i * MSS}:${1 + (i + 1) * MSS} ack 1`), h.dump());
  // The peer takes all of it but offers only 300 bytes: 300 < MSS, 300 < max window / 2, and 1240
  // bytes remain, so RFC 9293 §3.8.6.2.1 forbids sending them now.
  from = h.segs.length;
  pc.send(ACK, { win: 300 }); // ack 8761: all of it
  h.runFor(ms(10));
  const tAck = h.now; // the ACK has just arrived
  const rto = c.snapshot().rto;
  assert.equal(c.snapshot().sndWnd, 300);
  h.runFor(rto + ms(15)); // and the segment has reached the peer
  // Nothing until the override (persist) timer: then exactly the 300 bytes the window allows.
  const sent = h.segs.slice(from).filter((x) => x.from === 'A');
  assert.deepEqual(sent.map((x) => [fmt(x), x.t - tAck, x.len]), [[`A P. ${1 + 6 * MSS}:${1 + 6 * MSS + 300} ack 1`, rto, 300]], h.dump());
  // The window opens: the remaining 940 bytes go at once.
  from = h.segs.length;
  pc.send(ACK, { win: 65535 }); // ack 9061
  h.runFor(ms(15));
  assert.deepEqual(h.wire(from), ['P . 1 ack 9061', `A P. 9061:10001 ack 1`], h.dump());
});

/**
 * A (recvBuffer 4096, no window scaling: the scripted peer offers none) receives two full segments
 * and its window closes; the application then reads 10 bytes every millisecond, `reads` times.
 */
function fullSmallBuffer(reads: number): { h: Harness; pc: ReturnType<typeof scriptedPeerConnection>['pc']; c: TcpSocket; tReads: number[] } {
  const h = new Harness({ onlyA: true });
  const { pc, c } = scriptedPeerConnection(h, { tcp: { recvBuffer: 4096 } });
  assert.equal(h.segs[0]!.win, 2920, 'SYN window: the buffer rounded down to whole MSS');
  const from = h.segs.length;
  pc.send(ACK, { payload: full() });
  pc.send(ACK, { payload: full() });
  h.runFor(ms(50));
  // 1176 bytes are free after the second segment, but that is less than min(4096/2, MSS): the
  // right edge stays where it is, so the window is 0 (RFC 9293 §3.8.6.2.2).
  assert.deepEqual(h.segs.slice(from).filter((x) => x.from === 'A').map((x) => [fmt(x), x.win]), [
    ['A . 1 ack 1461', 1460],
    ['A . 1 ack 2921', 0],
  ], h.dump());
  assert.equal(c.snapshot().rcvWnd, 0);
  const t0 = h.now;
  const tReads: number[] = [];
  for (let i = 1; i <= reads; i++) {
    tReads.push(t0 + i * ms(1));
    h.at(t0 + i * ms(1), () => assert.equal(c.read(10)?.length, 10));
  }
  h.run(t0 + reads * ms(1));
  return { h, pc, c, tReads };
}

test('receiver SWS avoidance: a few bytes read at a time from a full small buffer cause no tiny window updates', () => {
  // 28 reads free 280 bytes: 1456 free in all, still less than one MSS.
  const { h, pc, c } = fullSmallBuffer(28);
  const probe = (): void => pc.send(ACK, { seq: (pc.sndNxt - 1) >>> 0 }); // a zero-window probe
  let from = h.segs.length;
  h.runFor(sec(1));
  assert.deepEqual(h.wire(from), [], 'no window update while the window could open by less than an MSS');
  // A zero-window probe is answered with window 0: 1456 bytes free do not open it.
  from = h.segs.length;
  probe();
  h.runFor(ms(50));
  assert.deepEqual(h.segs.slice(from).filter((x) => x.from === 'A').map((x) => [fmt(x), x.win]), [['A . 1 ack 2921', 0]], h.dump());
  // Ten more bytes: 1466 free ≥ MSS, the window may open. The next probe's answer shows it.
  assert.equal(c.read(10)?.length, 10);
  h.runFor(sec(1));
  from = h.segs.length;
  probe();
  h.runFor(ms(50));
  const ans = h.segs.slice(from).filter((x) => x.from === 'A');
  assert.equal(ans.length, 1, h.dump());
  assert.equal(fmt(ans[0]!), 'A . 1 ack 2921');
  assert.ok(ans[0]!.win >= MSS && ans[0]!.win <= 1466, `window ${ans[0]!.win}: at least an MSS, at most the free space`);
});

test('receiver SWS avoidance: once reads have freed an MSS, the window update is sent at once', () => {
  // 29 reads free 290 bytes: 1466 free. The 29th read opens the window by ≥ one MSS: RFC 1122
  // §4.2.3.3 / RFC 9293 §3.8.6.2.2 (and LINUX tcp_cleanup_rbuf: new window ≥ 2 × the advertised
  // window, here 0) send the window update then — otherwise the sender sits in persist backoff.
  const { h, tReads } = fullSmallBuffer(29);
  h.runFor(ms(1));
  const upd = h.segs.filter((x) => x.from === 'A' && x.t > tReads[0]! - 1);
  assert.equal(upd.length, 1, `one window update expected after the 29th read\n${h.dump()}`);
  assert.equal(fmt(upd[0]!), 'A . 1 ack 2921');
  assert.equal(upd[0]!.t, tReads[28]);
  assert.ok(upd[0]!.win >= MSS && upd[0]!.win <= 1466, `window ${upd[0]!.win}`);
});

// ------------------------------------------------------------------ 4. window scaling

test('window scaling on both ends: wscale 7 in both SYNs, scaled windows after the handshake', () => {
  const h = new Harness();
  const { c, s } = pair(h);
  c.write(full(3000));
  h.runFor(ms(100));
  // RFC 7323 §2.2: the option goes in the SYNs; a SYN's own window is never scaled.
  const syn = h.segs.slice(0, 2).map((x) => [fmt(x), x.wscale, x.win]);
  assert.deepEqual(syn, [['A S 0', 7, 64240], ['B S. 0 ack 1', 7, 64240]], h.dump());
  // After the handshake no segment carries the option and every window field is shifted by 7.
  const rest = h.segs.slice(2);
  assert.ok(rest.every((x) => x.wscale === -1), h.dump());
  assert.deepEqual(rest.filter((x) => x.from === 'B').map((x) => [fmt(x), x.win]), [
    ['B . 1 ack 1449', 513], // 65664 bytes
    ['B . 1 ack 2897', 524], // 67072 bytes: more than a 16-bit field can say unscaled
    ['B . 1 ack 3001', 524],
  ], h.dump());
  assert.equal(c.snapshot().sndWscale, 7);
  assert.equal(c.snapshot().rcvWscale, 7);
  assert.equal(s.snapshot().sndWscale, 7);
  // Each side reads the other's window field shifted left by 7 (RFC 7323 §2.3).
  assert.equal(c.snapshot().sndWnd, 524 << 7);
  const lastA = rest.filter((x) => x.from === 'A').at(-1)!;
  assert.equal(s.snapshot().sndWnd, lastA.win << 7);
  assert.ok(lastA.win < 1000, `A's window field ${lastA.win} is scaled`);
});

test('window scaling: the right edge does not move left when the window is scaled (the ACK after the SYN says win 502)', () => {
  const h = new Harness();
  pair(h);
  // A's SYN offered 64240 bytes unscaled. 64240 / 128 = 501.9: 501 would offer 64128 bytes,
  // moving the right edge 112 bytes left (RFC 9293 §3.8.6: shrinking the window is strongly
  // discouraged). LINUX tcp_select_window: new_win = ALIGN(cur_win, 1 << rcv_wscale) = 502.
  const ack = h.segs[2]!;
  assert.equal(fmt(ack), 'A . 1 ack 1');
  assert.equal(ack.win, 502, h.dump());
});

test('window scaling: a peer without the option gets unscaled windows, and its windows are taken unscaled', () => {
  // A stack with window scaling off: its SYN has no wscale, so B's SYN-ACK has none either
  // (RFC 7323 §2.2: only in a SYN-ACK answering a SYN that carried it).
  {
    const h = new Harness();
    const { c, s } = pair(h, { clientTcp: { windowScaling: false } });
    c.write(full(3000));
    h.runFor(ms(100));
    assert.deepEqual(h.segs.slice(0, 2).map((x) => [fmt(x), x.wscale, x.win]), [['A S 0', -1, 64240], ['B S. 0 ack 1', -1, 64240]], h.dump());
    assert.equal(s.snapshot().rcvWscale, 0);
    assert.equal(s.snapshot().sndWscale, 0);
    const bAcks = h.segs.slice(2).filter((x) => x.from === 'B').map((x) => [fmt(x), x.win]);
    // B would offer more than 65535 bytes now but cannot say so: the field saturates at 65535.
    assert.deepEqual(bAcks, [['B . 1 ack 1449', 65535], ['B . 1 ack 2897', 65535], ['B . 1 ack 3001', 65535]], h.dump());
    assert.equal(c.snapshot().sndWnd, 65535);
  }
  // A raw peer whose SYN has no wscale: the listener answers without it, and the peer's window
  // field of 1000 means 1000 bytes.
  {
    const h = new Harness({ onlyA: true });
    h.a.listen({ port: 80 });
    const p = h.peer();
    const pc = p.conn(A_ADDR, 5555, 80, 7000);
    pc.send(SYN, { mss: 1460, win: 8000 });
    h.runFor(ms(50));
    assert.deepEqual(pc.rx.map((x) => [fmt(x).replace('? ', ''), x.wscale, x.win]), [['S. 0 ack 1', -1, 64240]], h.dump());
    pc.send(ACK, { win: 1000 });
    h.runFor(ms(50));
    const conn = h.a.connections().find((x) => x.remotePort === 5555)!;
    const snap = conn.snapshot(h.now);
    assert.equal(snap.state, 'ESTABLISHED');
    assert.equal(snap.sndWscale, 0);
    assert.equal(snap.rcvWscale, 0);
    assert.equal(snap.sndWnd, 1000);
  }
});

/** A sends `bytes` to B over a 100 ms RTT; returns the largest flight and B's largest window seen. */
function bigTransfer(bytes: number, serverTcp: Partial<TcpConfig>): { maxFlight: number; maxWnd: number; got: number; intact: boolean } {
  const h = new Harness({ delay: ms(50) });
  const { c, s } = pair(h, { serverTcp });
  let got = 0;
  let intact = true;
  s.onData = () => {
    for (let b = s.read(); b !== null; b = s.read()) {
      for (let i = 0; i < b.length; i += 997) if (b[i] !== (got + i) % 251) intact = false;
      got += b.length;
    }
  };
  let maxFlight = 0;
  let maxWnd = 0;
  h.w.onFrame((ev) => {
    if (ev.from === 'A') maxFlight = Math.max(maxFlight, c.snapshot().unacked);
  });
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = i % 251;
  let off = 0;
  const pump = (): void => {
    while (off < bytes) {
      const n = c.write(data.subarray(off));
      if (n === 0) break;
      off += n;
    }
  };
  c.onWritable = pump;
  pump();
  h.w.onFrame((ev) => {
    if (ev.from === 'B') maxWnd = Math.max(maxWnd, c.snapshot().sndWnd);
  });
  h.runFor(sec(30));
  return { maxFlight, maxWnd, got, intact };
}

test('window scaling: more than 64 KiB in flight with a large receive buffer (the scaled window is honoured)', () => {
  const big = bigTransfer(2_000_000, { recvBuffer: 1 << 20 });
  assert.equal(big.got, 2_000_000);
  assert.ok(big.intact);
  assert.ok(big.maxWnd > 65535, `B's window reached ${big.maxWnd} bytes`);
  assert.ok(big.maxFlight > 65535, `in flight at most ${big.maxFlight} bytes`);
  assert.ok(big.maxFlight <= big.maxWnd, 'never more than the window in flight');
  // The same without scaling at B: the flight never exceeds 65535 bytes.
  const small = bigTransfer(2_000_000, { recvBuffer: 1 << 20, windowScaling: false });
  assert.equal(small.got, 2_000_000);
  assert.ok(small.intact);
  assert.ok(small.maxWnd <= 65535 && small.maxFlight <= 65535, `${small.maxWnd} ${small.maxFlight}`);
});

// ------------------------------------------------------------------ 5. PAWS

/** A connects to a scripted peer that offers MSS 1460, SACK and timestamps (TSval `tsval`). */
function tsPeerConnection(h: Harness, tsval: number, tcp: Partial<TcpConfig> = {}) {
  const opts = recordOptions(h);
  const p = h.peer();
  const pc = p.conn(A_ADDR, 80, 40000, 5000);
  const c = h.a.connect({ remoteAddress: p.addr, remotePort: 80, localPort: 40000, tcp });
  h.runFor(ms(50));
  /** A's latest TSval, to echo. */
  const ecr = (): number => {
    const last = h.segs.filter((x) => x.from === 'A').at(-1)!;
    return opts.get(last)!.tsVal;
  };
  pc.send(SYN | ACK, { mss: 1460, sackOk: true, ts: [tsval, ecr()] });
  h.runFor(ms(50));
  assert.equal(c.state, 'ESTABLISHED', h.dump());
  assert.ok(c.snapshot().timestamps && c.snapshot().sack);
  return { p, pc, c, opts, ecr };
}

test('PAWS: an old duplicate with an older TSval is dropped, not delivered, and answered with an ACK (PAWSEstab)', () => {
  const h = new Harness({ onlyA: true });
  const { pc, c, opts, ecr } = tsPeerConnection(h, 1000);
  let got = '';
  c.onData = () => (got += new TextDecoder().decode(c.read()!));
  pc.send(ACK | PSH, { payload: 'first.', ts: [1010, ecr()] });
  h.runFor(ms(50));
  pc.send(ACK | PSH, { payload: 'second', ts: [1020, ecr()] });
  h.runFor(ms(50));
  assert.equal(got, 'first.second');
  // An old duplicate from an earlier incarnation of the sequence space: its sequence numbers are
  // exactly the next expected ones (so the window test alone would take it) but its TSval 900 is
  // older than TS.Recent 1020 (RFC 7323 §5.3 R1).
  const from = h.segs.length;
  const t0 = h.now;
  pc.send(ACK | PSH, { payload: 'OLD!!!', ts: [900, ecr()], seq: pc.sndNxt });
  h.runFor(ms(50));
  assert.equal(got, 'first.second', 'the old duplicate is not delivered');
  assert.equal(h.a.counters.PAWSEstab, 1);
  const ans = h.segs.slice(from).filter((x) => x.from === 'A');
  assert.deepEqual(ans.map((x) => [fmt(x), x.t - t0, opts.get(x)!.tsEcr]), [['A . 1 ack 13', ms(10), 1020]], h.dump());
  assert.equal(c.snapshot().rcvNxt, (c.snapshot().irs + 13) >>> 0);
  // The real segment with those sequence numbers and a current TSval is taken.
  pc.send(ACK | PSH, { payload: 'third!', ts: [1030, ecr()] });
  h.runFor(ms(50));
  assert.equal(got, 'first.secondthird!');
  assert.equal(h.a.counters.PAWSEstab, 1);
  const last = h.segs.filter((x) => x.from === 'A').at(-1)!;
  assert.deepEqual([fmt(last), opts.get(last)!.tsEcr], ['A . 1 ack 19', 1030]);
});

// ------------------------------------------------------------------ 6. D-SACK

test('D-SACK: a duplicate segment is reported as the first SACK block, ahead of the ordinary SACK blocks', () => {
  const h = new Harness({ onlyA: true });
  const { pc, c, opts, ecr } = tsPeerConnection(h, 1000);
  c.onData = () => void c.read();
  let ts = 1000;
  // With timestamps a full segment carries 1460 - 12 bytes.
  const seg = (rel: number, len = TS_MSS): void => {
    ts += 10;
    pc.send(ACK, { seq: (pc.iss + rel) >>> 0, payload: full(len), ts: [ts, ecr()] });
    h.runFor(ms(30));
  };
  const from = h.segs.length;
  seg(1); // in order
  seg(1 + 2 * TS_MSS); // a hole of one segment before it
  seg(1); // a duplicate of delivered data (RFC 2883 §4.1.1)
  seg(1 + 2 * TS_MSS); // a duplicate of out-of-order data held (RFC 2883 §4.2)
  seg(1 + TS_MSS); // the hole fills
  seg(1 + TS_MSS); // and that segment again
  const acks = h.segs.slice(from).filter((x) => x.from === 'A').map((x) => [fmt(x), opts.get(x)!.sack]);
  assert.deepEqual(acks, [
    ['A . 1 ack 1449', []],
    ['A . 1 ack 1449', [[2897, 4345]]],
    ['A . 1 ack 1449', [[1, 1449], [2897, 4345]]],
    ['A . 1 ack 1449', [[2897, 4345], [2897, 4345]]],
    ['A . 1 ack 4345', []],
    ['A . 1 ack 4345', [[1449, 2897]]],
  ], h.dump());
});

test('D-SACK: a spurious retransmission is reported by the receiver and counted by the sender (TCPDSACKRecv)', () => {
  const h = new Harness();
  const opts = recordOptions(h);
  const { c, s } = pair(h);
  let got = '';
  s.onData = () => (got += new TextDecoder().decode(s.read()!));
  // B's ACK of the data is lost: A retransmits on timeout although B has the data.
  h.w.net.dropNext((_f, from) => from === 'B');
  const from = h.segs.length;
  const t0 = h.now;
  const rto = c.snapshot().rto;
  c.write('x'.repeat(100));
  h.runFor(sec(2));
  assert.equal(got, 'x'.repeat(100), 'delivered once');
  const lines = h.segs.slice(from).map((x) => [fmt(x), x.t - t0, opts.get(x)!.sack]);
  assert.deepEqual(lines, [
    ['A P. 1:101 ack 1', 0, []],
    ['B . 1 ack 101 DROPPED', ms(10), []],
    ['A P. 1:101 ack 1', rto, []],
    ['B . 1 ack 101', rto + ms(10), [[1, 101]]],
  ], h.dump());
  // (The retransmission is the tail loss probe: its 2·SRTT + 200 ms is clamped to the RTO.)
  assert.equal(h.a.counters.TCPLossProbes, 1);
  assert.equal(h.a.counters.TCPDSACKRecv, 1);
  assert.equal(h.a.counters.TCPSpuriousRetrans, 1);
});

// ------------------------------------------------------------------ 7. persist

test('persist: zero-window probes at doubling intervals carry SND.UNA - 1 and no data; the window reopens and the transfer completes', () => {
  const h = new Harness();
  const { c, s } = pair(h, { serverTcp: { recvBuffer: 8192 } });
  const total = 30_000;
  c.write(full(total));
  h.runFor(sec(2));
  // B's application does not read: its buffer fills and it advertises a zero window.
  const zero = h.segs.find((x) => x.from === 'B' && x.win === 0)!;
  assert.ok(zero !== undefined, h.dump());
  assert.equal(fmt(zero), 'B . 1 ack 7497', h.dump());
  const tz = zero.t + ms(10); // A learns of it
  const rto = c.snapshot().rto;
  assert.equal(c.snapshot().sndWnd, 0);
  // B's application starts reading 8 s later, everything as it arrives.
  let got = 0;
  const drain = (): void => {
    for (let b = s.read(); b !== null; b = s.read()) got += b.length;
  };
  h.at(tz + sec(8), () => {
    s.onData = drain;
    drain();
  });
  h.runFor(sec(20));
  assert.equal(got, total, h.dump());
  // RFC 9293 §3.8.6.1: probes after one RTO, then at doubling intervals (LINUX tcp_probe_timer:
  // icsk_backoff grows with each probe): rto, 2 rto, 4 rto, 8 rto, 16 rto.
  const probes = h.segs.filter((x) => x.from === 'A' && x.t > tz && x.t < tz + sec(8));
  assert.deepEqual(
    probes.map((x) => [fmt(x), x.len, x.t - tz]),
    [1, 3, 7, 15, 31].map((k) => ['A . 7496 ack 1', 0, k * rto]),
    h.dump(),
  );
  assert.equal(h.a.counters.TCPWinProbe, 5);
  // Each probe that reaches B more than 500 ms after its previous out-of-window ACK is answered
  // with window 0 (LINUX tcp_oow_rate_limited: the second probe, 2 rto = 440 ms after the first,
  // goes unanswered; TCPACKSkippedSeq).
  const answers = h.segs.filter((x) => x.from === 'B' && x.t > tz && x.t < tz + sec(8));
  assert.deepEqual(
    answers.map((x) => [fmt(x), x.win, x.t - tz]),
    [1, 7, 15, 31].map((k) => ['B . 1 ack 7497', 0, k * rto + ms(10)]),
    h.dump(),
  );
  assert.equal(h.B.counters.TCPACKSkippedSeq, 1);
  // The window update at the read restarts the transfer with new data right after SND.UNA.
  const upd = h.segs.find((x) => x.from === 'B' && x.t >= tz + sec(8))!;
  assert.deepEqual([fmt(upd), upd.t - tz], ['B . 1 ack 7497', sec(8)]);
  assert.ok(upd.win << 7 >= 7300, `window update ${upd.win << 7} bytes`);
  const next = h.segs.find((x) => x.from === 'A' && x.t > upd.t)!;
  assert.equal(next.rseq, 7497);
  assert.ok(next.len > 0);
  assert.equal(next.t, upd.t + ms(10));
  assert.equal(c.snapshot().sendQueue, 0);
});

// ------------------------------------------------------------------ 8. give-up: TCP_USER_TIMEOUT

/** A writes 5 bytes into a black hole with the given options; returns A's sends and the error. */
function blackHole(clientTcp: Partial<TcpConfig>): { h: Harness; c: TcpSocket; t0: number; rto: number; sends: number[]; err: { code: string; t: number } | null } {
  const h = new Harness();
  const { c } = pair(h, { clientTcp });
  const box: { err: { code: string; t: number } | null } = { err: null };
  c.onError = (code) => (box.err ??= { code, t: h.now });
  const rto = c.snapshot().rto;
  h.w.net.detach('B');
  const t0 = h.now;
  c.write('data!');
  h.run(t0 + sec(3000));
  const sent = h.segs.filter((x) => x.from === 'A' && x.t >= t0);
  assert.ok(sent.every((x) => x.f === 'P.' && x.rseq === 1 && x.len === 5), `only the data segment, no RST\n${h.dump()}`);
  return { h, c, t0, rto, sends: sent.map((x) => x.t - t0), err: box.err };
}

test('TCP_USER_TIMEOUT: ETIMEDOUT once data has stayed unacknowledged for userTimeout, however far the RTO backoff got', () => {
  // userTimeout 3.1 s, RTO 220 ms: the tail loss probe at 1 RTO (its 2·SRTT + 200 ms clamped to
  // the RTO, LINUX tcp_schedule_loss_probe), then retransmissions at 2, 4, 8 RTO (1.76 s); the
  // next would be at 16 RTO = 3.52 s, past the user timeout. RFC 5482 §3: the user timeout is how long transmitted
  // data may stay unacknowledged; LINUX tcp_clamp_rto_to_user_timeout shortens the last RTO so
  // the connection is aborted exactly userTimeout after the first transmission (retrans_stamp).
  // (synack today: a 5th transmission at 3.3 s and ETIMEDOUT at 31 RTO = 6.82 s, 2.2 × the timeout.)
  const r = blackHole({ userTimeout: ms(3100) });
  assert.equal(r.rto, ms(220));
  assert.deepEqual(r.sends, [0, r.rto, 2 * r.rto, 4 * r.rto, 8 * r.rto], r.h.dump());
  assert.equal(r.h.a.counters.TCPLossProbes, 1);
  assert.deepEqual(r.err, { code: 'ETIMEDOUT', t: r.t0 + ms(3100) });
  assert.equal(r.c.state, 'CLOSED');
});

test('TCP_USER_TIMEOUT overrides retries2: the connection gives up long before 15 retransmissions', () => {
  const r = blackHole({ userTimeout: sec(3) });
  assert.ok(r.err !== null, r.h.dump());
  assert.equal(r.err.code, 'ETIMEDOUT');
  assert.ok(r.sends.length <= 5, `${r.sends.length} transmissions`);
  // The loss probe at one RTO, then RTO doubling up to the end (RFC 6298 §5.5).
  assert.deepEqual(r.sends, r.sends.map((_, k) => (k === 0 ? 0 : 2 ** (k - 1)) * r.rto));
  assert.ok(r.err.t - r.t0 >= sec(3), 'not before the user timeout');
  assert.ok(r.err.t - r.t0 < sec(3) + (2 ** r.sends.length) * r.rto, 'at the first RTO expiry after the user timeout at the latest');
  assert.equal(r.c.state, 'CLOSED');
  assert.equal(r.h.a.counters.RetransSegs, r.sends.length - 1);
});
