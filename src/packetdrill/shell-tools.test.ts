import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScriptText } from './run.js';
import { parseProcNetTcp } from '../diag/proc.js';
import { formatProcNetTcp } from '../diag/proc-format.js';
import type { ConnRow } from '../diag/types.js';

const LISTEN = `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
`;
// Three out-of-order segments: TCPOFOQueue counts each.
const OFO = `${LISTEN}
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 < . 1001:1101(100) ack 1 win 65535
+0 > . 1:1(0) ack 1
+0 < . 2001:2101(100) ack 1 win 65535
+0 > . 1:1(0) ack 1
+0 < . 3001:3101(100) ack 1 win 65535
+0 > . 1:1(0) ack 1
`;
const run = (text: string) => runScriptText(text, 'mem.pkt', {});

describe('packetdrill shell tools', () => {
  it('nstat prints the increments since its last run, in nstat\'s format', () => {
    const r = run(`0 \`nstat -n\`\n${OFO}+0 \`nstat TcpExtTCPOFOQueue\``);
    assert.equal(r.status, 'pass', r.message);
    assert.deepEqual(r.output, ['#kernel', 'TcpExtTCPOFOQueue               3                  0.0']);
    // The history was updated: a second run shows no increment, so a grep for it fails the script.
    const again = run(`0 \`nstat -n\`\n${OFO}+0 \`nstat > /dev/null\`\n+0 \`nstat | grep TcpExtTCPOFOQueue\``);
    assert.equal(again.status, 'fail');
    assert.equal(again.unsupported, undefined);
    assert.match(again.message!, /shell command failed with exit status 1: nstat \| grep TcpExtTCPOFOQueue/);
  });

  it('a pipeline\'s exit status is its last grep\'s', () => {
    assert.equal(run(`0 \`nstat -n\`\n${OFO}+0 \`nstat | grep TcpExtTCPOFOQueue | grep -q " 3 "\``).status, 'pass');
    const wrong = run(`0 \`nstat -n\`\n${OFO}+0 \`nstat | grep TcpExtTCPOFOQueue | grep -q " 2 "\``);
    assert.match(wrong.message!, /exit status 1/);
    assert.equal(run(`0 \`false || true\``).status, 'pass');
    assert.match(run(`0 \`true && false\``).message!, /exit status 1/);
    assert.equal(run(`0 \`false ; true\``).status, 'pass');
  });

  it('greps /proc/net/tcp for the listener as on Linux (state 0A, port 1F90)', () => {
    const r = run(`${LISTEN}+0 \`grep " 0A " /proc/net/tcp /proc/net/tcp6 | grep ":1F90"\``);
    assert.equal(r.status, 'pass', r.message);
    assert.equal(r.output.length, 1);
    assert.match(r.output[0]!, /^\/proc\/net\/tcp: {3}0: [0-9A-F]{8}:1F90 00000000:0000 0A /);
    // Before listen() there is no row: grep's status 1 fails the command.
    assert.match(run(`+0 \`grep " 0A " /proc/net/tcp\``).message!, /exit status 1/);
    assert.equal(run('+0 `grep x /etc/passwd`').unsupported, true);
  });

  it('/proc/net/tcp text parses back to the same rows', () => {
    const rows: ConnRow[] = [
      { proto: 'tcp', localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', recvQ: 2, sendQ: 0 },
      { proto: 'tcp', localAddress: '192.168.0.1', localPort: 8080, remoteAddress: '192.0.2.1', remotePort: 40000, state: 'ESTABLISHED', recvQ: 10, sendQ: 300 },
      { proto: 'tcp6', localAddress: '2001:db8::1', localPort: 443, remoteAddress: '2001:db8::2', remotePort: 5555, state: 'FIN_WAIT_2', recvQ: 0, sendQ: 0 },
    ];
    for (const be of [false, true]) {
      const v4 = parseProcNetTcp(formatProcNetTcp(rows, false, { bigEndian: be }), 'tcp', { bigEndian: be });
      const v6 = parseProcNetTcp(formatProcNetTcp(rows, true, { bigEndian: be }), 'tcp6', { bigEndian: be });
      assert.deepEqual([...v4, ...v6].map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.recvQ, r.proto]),
        rows.map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.recvQ, r.proto]));
    }
    assert.match(formatProcNetTcp(rows, false, { bigEndian: false }), /0100007F:1F90 00000000:0000 0A/);
  });
});
