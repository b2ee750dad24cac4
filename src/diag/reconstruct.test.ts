import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture } from './pcap-read.js';
import { reconstruct, stateSequence, type TcpConnection } from './reconstruct.js';
import { buildTcpPacket } from '../wire/tcp.js';
import { ACK, FIN, PSH, RST, SYN, newTcpRepr } from '../wire/tcp-repr.js';
import { renderLadder } from '../viz/ladder.js';

// dist/src/diag/reconstruct.test.js → <repo>/test/fixtures (made by test/fixtures/make-captures.sh)
const fixture = (name: string): TcpConnection[] =>
  reconstruct(readCapture(new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url))))).packets);

const C = '10.99.0.1';
const S = '10.99.0.2';
const notes = (c: TcpConnection): string[] => c.result.events.flatMap((e) => (e.type === 'note' ? [e.text] : []));

test('real Linux capture: handshake, data, the client closes first', () => {
  const [c, ...rest] = fixture('linux-client-close.pcap');
  assert.equal(rest.length, 0);
  assert.equal(c!.client, `${C}:40001`);
  assert.deepEqual(stateSequence(c!.result, C), ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
  assert.deepEqual(stateSequence(c!.result, S), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  assert.deepEqual(c!.timeWait, [C]);
  assert.ok(!c!.result.events.some((e) => e.type === 'segment' && e.retransmit));
  // snaplen 128 truncated the 1000-byte segments: lengths come from the IP header
  assert.ok(c!.result.events.some((e) => e.type === 'segment' && e.len === 1000));
  assert.match(renderLadder(c!.result), /FIN_WAIT_2 -> TIME_WAIT/);
});

test('real Linux capture: the server closes first and ends in TIME_WAIT', () => {
  const [c] = fixture('linux-server-close.pcap');
  assert.deepEqual(stateSequence(c!.result, C), ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  assert.deepEqual(stateSequence(c!.result, S), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
  assert.deepEqual(c!.timeWait, [S]);
});

test('real Linux capture: connection refused', () => {
  const [c] = fixture('linux-refused.pcap');
  assert.deepEqual(stateSequence(c!.result, C), ['CLOSED', 'SYN_SENT', 'CLOSED']);
  assert.deepEqual(stateSequence(c!.result, S), []);
  assert.ok(c!.result.events.some((e) => e.type === 'error' && e.code === 'ECONNREFUSED' && e.host === C));
  assert.ok(notes(c!).some((n) => /nothing listens on 10\.99\.0\.2:8003/.test(n)));
});

test('real Linux capture: unanswered SYNs, exponential backoff', () => {
  const [c] = fixture('linux-syn-timeout.pcap');
  assert.deepEqual(stateSequence(c!.result, C), ['CLOSED', 'SYN_SENT']);
  const segs = c!.result.events.filter((e) => e.type === 'segment');
  assert.equal(segs.length, 4);
  assert.deepEqual(segs.map((e) => e.type === 'segment' && e.retransmit === true), [false, true, true, true]);
  assert.ok(notes(c!).some((n) => n.startsWith('10.99.0.1 SYN retransmitted after 1.0 s, 2.0 s, 4.1 s')), notes(c!).join('\n'));
});

test('real Linux capture: simultaneous close, both ends FIN_WAIT_1 -> CLOSING -> TIME_WAIT', () => {
  const [c] = fixture('linux-simul-close.pcap');
  assert.deepEqual(stateSequence(c!.result, C), ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
  assert.deepEqual(stateSequence(c!.result, S), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
  assert.deepEqual([...c!.timeWait].sort(), [C, S]);
});

// --- synthetic captures ---

interface Seg { t: number; from: 'a' | 'b'; flags: number; seq: number; ack?: number; len?: number; win?: number }
const A = { addr: '192.0.2.1', port: 5000 };
const B = { addr: '192.0.2.2', port: 80 };
function capture(segs: Seg[]): TcpConnection[] {
  const r = newTcpRepr();
  return reconstruct(segs.map((s) => {
    const [x, y] = s.from === 'a' ? [A, B] : [B, A];
    r.srcPort = x.port;
    r.dstPort = y.port;
    r.seq = s.seq >>> 0;
    r.ack = (s.ack ?? 0) >>> 0;
    r.flags = s.flags;
    r.window = s.win ?? 1000;
    r.payload = new Uint8Array(s.len ?? 0);
    return { t: s.t * 1e6, frame: buildTcpPacket(x.addr, y.addr, r) };
  }));
}
const ISA = 1000;
const ISB = 0xfffffff0; // wraps: sequence arithmetic must be modular
const handshake: Seg[] = [
  { t: 0, from: 'a', flags: SYN, seq: ISA },
  { t: 0.01, from: 'b', flags: SYN | ACK, seq: ISB, ack: ISA + 1 },
  { t: 0.02, from: 'a', flags: ACK, seq: ISA + 1, ack: ISB + 1 },
];

test('simultaneous open: both ends pass SYN_RECEIVED; the crossing SYN-ACK is not a retransmission', () => {
  const [c] = capture([
    { t: 0, from: 'a', flags: SYN, seq: ISA },
    { t: 0.001, from: 'b', flags: SYN, seq: ISB },
    { t: 0.01, from: 'a', flags: SYN | ACK, seq: ISA, ack: ISB + 1 },
    { t: 0.011, from: 'b', flags: SYN | ACK, seq: ISB, ack: ISA + 1 },
  ]);
  assert.equal(c!.result.events.filter((e) => e.type === 'segment').length, 4);
  assert.deepEqual(stateSequence(c!.result, A.addr), ['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
  assert.deepEqual(stateSequence(c!.result, B.addr), ['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
  assert.ok(!c!.result.events.some((e) => e.type === 'segment' && e.retransmit));
});

test('FIN and ACK of the peer FIN in one segment: FIN_WAIT_1 -> TIME_WAIT directly', () => {
  const [c] = capture([
    ...handshake,
    { t: 1, from: 'a', flags: FIN | ACK, seq: ISA + 1, ack: ISB + 1 },
    { t: 1.01, from: 'b', flags: FIN | ACK, seq: ISB + 1, ack: ISA + 2 },
    { t: 1.02, from: 'a', flags: ACK, seq: ISA + 2, ack: ISB + 2 },
  ]);
  assert.deepEqual(stateSequence(c!.result, A.addr), ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'TIME_WAIT']);
  assert.deepEqual(stateSequence(c!.result, B.addr), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
});

test('SYN-ACK backoff, data gap filled late (lost) and early (out of order), zero window, RST', () => {
  const [c] = capture([
    { t: 0, from: 'a', flags: SYN, seq: ISA },
    { t: 0.01, from: 'b', flags: SYN | ACK, seq: ISB, ack: ISA + 1 },
    { t: 1.01, from: 'b', flags: SYN | ACK, seq: ISB, ack: ISA + 1 },
    { t: 3.01, from: 'b', flags: SYN | ACK, seq: ISB, ack: ISA + 1 },
    { t: 3.02, from: 'a', flags: ACK, seq: ISA + 1, ack: ISB + 1 },
    { t: 3.1, from: 'a', flags: PSH | ACK, seq: ISA + 101, ack: ISB + 1, len: 100 }, // 1..101 not captured
    { t: 3.3, from: 'a', flags: PSH | ACK, seq: ISA + 1, ack: ISB + 1, len: 100 }, // filled 0.2 s later: lost
    { t: 3.4, from: 'a', flags: PSH | ACK, seq: ISA + 301, ack: ISB + 1, len: 100 },
    { t: 3.401, from: 'a', flags: PSH | ACK, seq: ISA + 201, ack: ISB + 1, len: 100 }, // 1 ms later: reordered
    { t: 3.41, from: 'b', flags: ACK, seq: ISB + 1, ack: ISA + 401, win: 0 },
    { t: 3.5, from: 'b', flags: ACK, seq: ISB + 1, ack: ISA + 401, win: 500 },
    { t: 3.6, from: 'a', flags: PSH | ACK, seq: ISA + 1, ack: ISB + 1, len: 100 }, // plain retransmission
    { t: 4, from: 'b', flags: RST, seq: ISB + 1 },
  ]);
  const n = notes(c!);
  assert.ok(n.includes('192.0.2.2 SYN-ACK retransmitted after 1.0 s, 2.0 s (each wait measured from the previous transmission)'), n.join('\n'));
  assert.ok(n.some((x) => /were lost before the capture point/.test(x)));
  assert.ok(n.some((x) => /out-of-order segment/.test(x)));
  assert.ok(n.some((x) => /advertises a zero window/.test(x)));
  assert.ok(n.some((x) => /opens its window again/.test(x)));
  assert.ok(n.some((x) => /RST from 192\.0\.2\.2/.test(x)));
  const segs = c!.result.events.filter((e) => e.type === 'segment');
  assert.deepEqual(segs.map((e) => e.type === 'segment' && e.retransmit === true),
    [false, false, true, true, false, false, true, false, false, false, false, true, false]);
  assert.deepEqual(stateSequence(c!.result, A.addr), ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'CLOSED']);
  assert.deepEqual(stateSequence(c!.result, B.addr), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSED']);
  assert.ok(c!.result.events.some((e) => e.type === 'error' && e.code === 'ECONNRESET' && e.host === A.addr));
});

test('a lost last ACK is taken back when the peer retransmits its FIN', () => {
  const [c] = capture([
    ...handshake,
    { t: 1, from: 'a', flags: FIN | ACK, seq: ISA + 1, ack: ISB + 1 },
    { t: 1.01, from: 'b', flags: ACK, seq: ISB + 1, ack: ISA + 2 },
    { t: 1.02, from: 'b', flags: FIN | ACK, seq: ISB + 1, ack: ISA + 2 },
    { t: 1.03, from: 'a', flags: ACK, seq: ISA + 2, ack: ISB + 2 }, // lost
    { t: 1.25, from: 'b', flags: FIN | ACK, seq: ISB + 1, ack: ISA + 2 },
    { t: 1.26, from: 'a', flags: ACK, seq: ISA + 2, ack: ISB + 2 },
  ]);
  assert.deepEqual(stateSequence(c!.result, B.addr), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  const closed = c!.result.events.find((e) => e.type === 'state' && e.host === B.addr && e.to === 'CLOSED');
  assert.equal(closed?.t, 1.26);
  assert.ok(notes(c!).some((x) => /that ACK was lost, 192\.0\.2\.2 stays in LAST_ACK/.test(x)));
  assert.deepEqual(c!.timeWait, [A.addr]);
});

test('a capture that starts mid-connection, and a new SYN on the same ports is a new connection', () => {
  const conns = capture([
    { t: 0, from: 'a', flags: PSH | ACK, seq: 500, ack: 900, len: 10 },
    { t: 0.1, from: 'a', flags: FIN | ACK, seq: 510, ack: 900 },
    { t: 0.11, from: 'b', flags: FIN | ACK, seq: 900, ack: 511 },
    { t: 0.12, from: 'a', flags: ACK, seq: 511, ack: 901 },
    { t: 5, from: 'a', flags: SYN, seq: 77 },
    { t: 5.01, from: 'b', flags: RST | ACK, seq: 0, ack: 78 },
  ]);
  assert.equal(conns.length, 2);
  assert.deepEqual(stateSequence(conns[0]!.result, A.addr), ['ESTABLISHED', 'FIN_WAIT_1', 'TIME_WAIT']);
  assert.deepEqual(stateSequence(conns[0]!.result, B.addr), ['ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  assert.deepEqual(stateSequence(conns[1]!.result, A.addr), ['CLOSED', 'SYN_SENT', 'CLOSED']);
});

test('loopback: both ends share an address, so hosts are named addr:port', () => {
  const r = newTcpRepr();
  r.srcPort = 40000; r.dstPort = 80; r.seq = 1; r.flags = SYN; r.window = 100;
  const [c] = reconstruct([{ t: 0, frame: buildTcpPacket('127.0.0.1', '127.0.0.1', r) }]);
  assert.deepEqual(Object.keys(c!.result.hosts), ['127.0.0.1:40000', '127.0.0.1:80']);
  void RST;
});
