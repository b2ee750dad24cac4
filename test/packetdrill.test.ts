/**
 * Runs packetdrill scripts against synack: our own scripts in test/packetdrill/ always, and the
 * conformance corpus in /work/shared/conformance when it is present.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectScripts, expectationFor, readExpectations } from '../src/cli/pkt.js';
import { runScriptFile, runScriptText } from '../src/packetdrill/run.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const OWN = join(ROOT, 'test', 'packetdrill');
const CORPUS = process.env['SYNACK_CONFORMANCE'] ?? '/work/shared/conformance';
const G = join(CORPUS, 'google-packetdrill/gtests/net');

describe('our packetdrill scripts', () => {
  for (const f of collectScripts([OWN])) {
    it(f.slice(OWN.length + 1), () => {
      const r = runScriptFile(f);
      assert.equal(r.status, 'pass', r.message);
    });
  }
});

describe('packetdrill conformance corpus', { skip: existsSync(CORPUS) ? false : `no corpus at ${CORPUS}` }, () => {
  it('runner self-tests fail for the reason they were written', () => {
    const cases: [string, RegExp][] = [
      ['packetdrill/tests/linux/packetdrill/socket_err.pkt', /socket_err\.pkt:6: runtime error in socket call: Expected non-negative result but got -1 with errno 93 \(Protocol not supported\)/],
      ['packetdrill/tests/linux/packetdrill/socket_wrong_err.pkt', /socket_wrong_err\.pkt:4: runtime error in socket call: Expected result -99 but got -1 with errno 93 \(Protocol not supported\)/],
      ['packetdrill/tests/packet-timeout.pkt', /packet-timeout\.pkt:13: error handling packet: Timed out waiting for packet/],
    ];
    for (const [f, re] of cases) {
      const r = runScriptFile(join(G, f));
      assert.equal(r.status, 'fail', f);
      assert.match(r.message!, re);
    }
  });

  it('tcp_ebook-runnable tutorial scripts pass (all but syn_sent.pkt)', () => {
    const files = collectScripts([join(CORPUS, 'tcp_ebook-runnable')]).filter((f) => !f.endsWith('syn_sent.pkt'));
    assert.ok(files.length >= 9);
    for (const f of files) {
      const r = runScriptFile(f);
      assert.equal(r.status, 'pass', `${f}: ${r.message}`);
      assert.ok(r.output.length > 0, `${f}: ss printed nothing`);
    }
  });

  it('mutated scripts fail: wrong flag, ack, length, errno, time', () => {
    const base = readFileSync(join(CORPUS, 'tcp_ebook-runnable/tcp_connection_management/state-closing.pkt'), 'utf8');
    const file = join(CORPUS, 'tcp_ebook-runnable/tcp_connection_management/state-closing.pkt');
    const mutations: [string, string, RegExp][] = [
      ['+0 > P. 1:1001(1000) ack 1', '+0 > F. 1:1001(1000) ack 1', /tcp_fin: expected: 1/],
      ['+0 > F. 1001:1001(0) ack 1', '+0 > F. 1001:1001(0) ack 9', /tcp_ack_seq: expected: 9/],
      ['+0 > P. 1:1001(1000) ack 1', '+0 > P. 1:101(100) ack 1', /live packet payload: expected 100 bytes vs actual 1000 bytes/],
      ['+.1 close(4) = 0', '+.1 close(4) = -1 EBADF (Bad file descriptor)', /Expected result -1 but got 0/],
      ['+0 > F. 1001:1001(0) ack 1', '+.5 > F. 1001:1001(0) ack 1', /timing error/],
    ];
    assert.equal(runScriptText(base, file).status, 'pass');
    for (const [from, to, re] of mutations) {
      assert.ok(base.includes(from), from);
      const r = runScriptText(base.replace(from, to), file);
      assert.equal(r.status, 'fail', to);
      assert.match(r.message!, re);
    }
  });

  it('every corpus script runs to a verdict; failures are listed in expectations.txt', () => {
    const exp = readExpectations(join(OWN, 'expectations.txt'));
    const unexpected: string[] = [];
    let passed = 0;
    for (const f of collectScripts([CORPUS])) {
      const r = runScriptFile(f);
      const known = expectationFor(exp, f);
      if (r.status === 'pass') passed++;
      else if (known === undefined) unexpected.push(`${f}: ${r.message}`);
      assert.ok(!r.message?.startsWith('internal error'), `${f}: ${r.message}`);
    }
    assert.deepEqual(unexpected, []);
    assert.ok(passed >= 56, `only ${passed} corpus scripts pass`);
  });
});
