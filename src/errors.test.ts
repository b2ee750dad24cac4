import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERRNO, errnoName, errnoOf, NetError, StackError, SynackError, TcpUsageError, UsageError } from './errors.js';
import { StackError as StackErrorOldPath } from './stack/errors.js';
import { TcpUsageError as TcpUsageErrorOldPath } from './tcp/connection.js';
import { CaptureFormatError, readCapture } from './diag/pcap-read.js';
import { PacketdrillSyntaxError } from './packetdrill/lexer.js';
import { describeErrno, errnoNumber } from './packetdrill/errno.js';
import { lookupError, netError } from './net/errors.js';

test('every error class shares the SynackError base and carries a code', () => {
  const errors: SynackError[] = [
    new StackError('EADDRINUSE', 'port 80 taken'),
    new TcpUsageError('EPIPE', 'send after shutdown'),
    new UsageError('--at: expected a time'),
    new PacketdrillSyntaxError('x.pkt', 3, 7, 'bad token'),
    netError('ECONNREFUSED', 'connect', '10.0.0.2', 80),
    lookupError('example.com'),
  ];
  assert.throws(() => readCapture(new Uint8Array(2)), (e: unknown) => e instanceof CaptureFormatError && (errors.push(e), true));
  for (const e of errors) {
    assert.ok(e instanceof SynackError && e instanceof Error, e.message);
    assert.match(e.code, /^(E[A-Z]+|ERR_[A-Z_]+)$/, e.message);
  }
  // The old import paths name the same classes.
  assert.equal(StackErrorOldPath, StackError);
  assert.equal(TcpUsageErrorOldPath, TcpUsageError);
  assert.equal(errors[0]!.name, 'StackError');
  assert.equal(errors[3]!.name, 'PacketdrillSyntaxError');
});

test('one errno table: net errors, packetdrill messages and errnoName agree', () => {
  const e = netError('EADDRINUSE', 'listen', '0.0.0.0', 80);
  assert.ok(e instanceof NetError);
  assert.equal(e.errno, -98);
  assert.equal(e.message, 'listen EADDRINUSE: address already in use 0.0.0.0:80');
  assert.equal(e.name, 'Error', "Node's system errors print as 'Error: …'");
  assert.equal(netError('EHOSTUNREACH', 'connect', '10.9.9.9', 80).errno, -113);
  assert.equal(netError('ENETUNREACH', 'connect', '10.9.9.9', 80).errno, -101);
  assert.equal(lookupError('h').errno, -3008);
  assert.equal(describeErrno('EPROTONOSUPPORT'), '93 (Protocol not supported)');
  for (const [name, v] of Object.entries(ERRNO)) {
    assert.equal(errnoNumber(name), v.errno);
    assert.equal(errnoOf(name), v.errno);
    assert.equal(ERRNO[errnoName(v.errno)!].errno, v.errno);
  }
  assert.equal(errnoName(11), 'EAGAIN');
  assert.equal(errnoOf('ENOSUCH'), -1);
});

test('no error class is defined outside src/errors.ts (one error module)', () => {
  const root = join(import.meta.dirname, '..', '..', 'src');
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.ts') && !f.endsWith('.test.ts') && p !== join(root, 'errors.ts')) {
        if (/class \w+ extends (Error|TypeError|RangeError)\b/.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, []);
});
