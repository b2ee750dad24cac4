import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCode } from './code.js';
import { runScriptText } from './run.js';

const HANDSHAKE = `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 write(4, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1
`;

const run = (text: string, opts = {}) => runScriptText(text, 'mem.pkt', opts);

describe('packetdrill interpreter', () => {
  it('passes a handshake and a write', () => {
    const r = run(HANDSHAKE);
    assert.equal(r.status, 'pass', r.message);
  });

  it('takes the epoll fd a script names as a name for the live one (CHECK_FD), as socket\'s', () => {
    // The live table reuses the closed fd 3; the script calls the epoll instance 7.
    const r = run(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 close(3) = 0
+0 epoll_create(1) = 7
+0 epoll_ctl(7, EPOLL_CTL_DEL, 7, {events=EPOLLIN, fd=7}) = -1 EINVAL (Invalid argument)
`);
    assert.equal(r.status, 'pass', r.message);
  });

  it('reports a wrong flag with packetdrill words and the line', () => {
    const r = run(HANDSHAKE.replace('> P. 1:1001', '> F. 1:1001'));
    assert.equal(r.status, 'fail');
    assert.equal(r.line, 11);
    assert.match(r.message!, /mem\.pkt:11: error handling packet: live packet field tcp_fin: expected: 1 \(0x1\) vs actual: 0 \(0x0\)/);
  });

  it('reports a wrong ack', () => {
    const r = run(HANDSHAKE.replace('> P. 1:1001(1000) ack 1', '> P. 1:1001(1000) ack 7'));
    assert.match(r.message!, /tcp_ack_seq: expected: 7 \(0x7\) vs actual: 1 \(0x1\)/);
  });

  it('reports a wrong length', () => {
    const r = run(HANDSHAKE.replace('> P. 1:1001(1000)', '> P. 1:501(500)'));
    assert.match(r.message!, /live packet payload: expected 500 bytes vs actual 1000 bytes/);
  });

  it('reports a wrong errno', () => {
    const r = run(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)`);
    assert.match(r.message!, /mem\.pkt:3: runtime error in connect call: Expected errno 11 \(Resource temporarily unavailable\) but got 115 \(Operation now in progress\)/);
  });

  it('reports a packet at the wrong time, within tolerance it passes', () => {
    const late = run(HANDSHAKE.replace('+0 > P. 1:1001', '+.05 > P. 1:1001'));
    assert.match(late.message!, /timing error: expected outbound packet at 0\.150000 sec but happened at 0\.100000 sec; tolerance 0\.004000 sec/);
    assert.equal(run(HANDSHAKE.replace('+0 > P. 1:1001', '+.003 > P. 1:1001')).status, 'pass');
    assert.equal(run(`--tolerance_usecs=60000\n${HANDSHAKE.replace('+0 > P. 1:1001', '+.05 > P. 1:1001')}`).status, 'pass');
  });

  it('joins consecutive segments unless --strict_segments', () => {
    const text = HANDSHAKE.replace('write(4, ..., 1000) = 1000\n+0 > P. 1:1001(1000) ack 1', 'write(4, ..., 2920) = 2920\n+0 > P. 1:2921(2920) ack 1');
    assert.equal(run(text).status, 'pass', run(text).message);
    assert.match(run(`--strict_segments\n${text}`).message!, /live packet payload: expected 2920 bytes vs actual 1460 bytes/);
  });

  it('blocks a read in virtual time until data arrives', () => {
    const r = run(`${HANDSHAKE}
+0...0.2 read(4, ..., 100) = 100
+.2 < P. 1:101(100) ack 1001 win 65535
+0 > . 1001:1001(0) ack 101`);
    assert.equal(r.status, 'pass', r.message);
    const early = run(`${HANDSHAKE}
+0...0.1 read(4, ..., 100) = 100
+.2 < P. 1:101(100) ack 1001 win 65535
+0 close(4) = 0`);
    assert.match(early.message!, /runtime error in read call: timing error: expected system call return at 0\.200000 sec but happened at 0\.300000 sec/);
  });

  it('applies sysctl commands and rejects other shell commands unless --allow-shell', () => {
    const text = `\`sysctl -q net.ipv4.tcp_timestamps=0\`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 7>`;
    assert.equal(run(text).status, 'pass', run(text).message);
    const shell = run('0 `tc qdisc show`\n');
    assert.equal(shell.status, 'fail');
    assert.equal(shell.unsupported, true);
    assert.match(shell.message!, /unsupported shell command: tc qdisc show/);
    assert.equal(run('0 `tc qdisc show`\n', { allowShell: true }).status, 'pass');
  });

  it('sets and removes the tun0 qdisc with tc, with tc\'s exit statuses', () => {
    assert.equal(run('0 `tc qdisc add dev tun0 root pfifo limit 0 && tc qdisc delete dev tun0 root`\n').status, 'pass');
    // Deleting the default qdisc fails (status 2); adding over one fails; an unknown device fails.
    assert.match(run('0 `tc qdisc delete dev tun0 root`\n').message!, /exit status 2/);
    assert.match(run('0 `tc qdisc add dev tun0 root pfifo limit 0; tc qdisc add dev tun0 root pfifo limit 0`\n').message!, /exit status 2/);
    assert.match(run('0 `tc qdisc add dev eth9 root pfifo limit 0`\n').message!, /exit status 1/);
    assert.equal(run('0 `tc qdisc delete dev tun0 root 2>/dev/null ; tc qdisc add dev tun0 root pfifo limit 0`\n').status, 'pass');
  });

  it('prints the connection table for ss', () => {
    const r = run(`${HANDSHAKE}\n+0 \`ss -tan | grep -v LISTEN\``);
    assert.equal(r.status, 'pass');
    assert.ok(r.output.some((l) => l.startsWith('ESTAB')), r.output.join('\n'));
    assert.ok(!r.output.some((l) => l.includes('LISTEN')));
  });

  it('evaluates tcp_info asserts', () => {
    assert.equal(run(`${HANDSHAKE}\n+0 %{ assert tcpi_state == TCP_ESTABLISHED and tcpi_snd_mss == 1460, tcpi_state }%`).status, 'pass');
    const r = run(`${HANDSHAKE}\n+0 %{ assert tcpi_unacked == 5 }%`);
    assert.match(r.message!, /mem\.pkt:13: error in code block: AssertionError: assert tcpi_unacked == 5/);
  });

  it('parse errors are errors, not failures', () => {
    assert.equal(run('0 socket(').status, 'error');
  });
});

describe('code evaluator', () => {
  it('handles python operators', () => {
    assert.equal(runCode('assert 1 < 2 <= 2 and not (3 // 2 != 1)', {}), null);
    assert.equal(runCode('x = tcpi_rto // 1000\nassert x == 200, x', { tcpi_rto: 200000 }), null);
    assert.match(runCode('assert tcpi_rto > 1', { tcpi_rto: 0 })!, /AssertionError/);
  });
  it("formats an assert message with Python's '%' on a string and a tuple", () => {
    const bad = runCode("assert tcpi_ca_state == 3, 'ca_state: %d min_rtt: %d rtt: %s %%' % (tcpi_ca_state, tcpi_min_rtt, 'x')", { tcpi_ca_state: 1, tcpi_min_rtt: 1320 });
    assert.match(bad!, /AssertionError.*ca_state: 1 min_rtt: 1320 rtt: x %/);
    assert.match(runCode("assert 0, 'n=%x' % 255", {})!, /n=ff/);
    assert.equal(runCode("assert 7 % 4 == 3", {}), null);
  });
});
