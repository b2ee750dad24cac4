/**
 * The DNS codec: a response as a real server sends it (compressed names) parses; emit compresses
 * and round-trips; names inside CNAME/MX/SRV/SOA data survive re-encoding; malformed messages
 * (pointer loops, forward pointers, overlong names, short data) are rejected with a reason and
 * never throw (fast-check prints the seed on failure; replay with { seed, path }).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DNS_CLASS_IN, DnsFlag, DnsType, dnsRcode, dnsRecordAddr, dnsUdpPayloadLimit, emitDns, nameRecord, parseDns, type DnsMessage } from './dns.js';

/**
 * `dig @1.1.1.1 www.example.com A` as Cloudflare answered it (bytes as tcpdump -X shows them):
 * one question, a CNAME and an A, names compressed against the question at offset 12.
 */
const RESPONSE = Uint8Array.from([
  0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
  3, 0x77, 0x77, 0x77, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 0, 1, 0, 1,
  // www.example.com CNAME edge.example.com (data: "edge" + pointer to example.com at 16)
  0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 7, 4, 0x65, 0x64, 0x67, 0x65, 0xc0, 16,
  // edge.example.com A 93.184.216.34 (owner: pointer to the CNAME's data at 45)
  0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34,
]);

test('a compressed response parses: question, CNAME chain and address', () => {
  const m = parseDns(RESPONSE) as DnsMessage;
  assert.equal(typeof m, 'object');
  assert.equal(m.id, 0x1234);
  assert.equal(m.flags & DnsFlag.QR, DnsFlag.QR);
  assert.equal(dnsRcode(m), 0);
  assert.deepEqual(m.questions, [{ name: 'www.example.com', type: DnsType.A, class: DNS_CLASS_IN }]);
  assert.equal(m.answers[0]!.type, DnsType.CNAME);
  assert.deepEqual(m.answers[0]!.names, ['edge.example.com']);
  assert.equal(m.answers[0]!.ttl, 3600);
  assert.equal(m.answers[1]!.name, 'edge.example.com');
  assert.equal(dnsRecordAddr(m.answers[1]!), '93.184.216.34');
});

test('emit compresses names and round-trips, rewriting names inside record data', () => {
  const m = parseDns(RESPONSE) as DnsMessage;
  const bytes = emitDns(m);
  // Same layout as the server's: the owner names and the CNAME target point back into the message.
  assert.deepEqual(bytes, RESPONSE);
  const mx = nameRecord('example.com', DnsType.MX, 300, ['mail.example.com'], Uint8Array.from([0, 10]));
  const srv = nameRecord('_sip._tcp.example.com', DnsType.SRV, 300, ['sip.example.com'], Uint8Array.from([0, 1, 0, 2, 0x13, 0xc4]));
  const soa = nameRecord('example.com', DnsType.SOA, 300, ['ns.example.com', 'admin.example.com'], new Uint8Array(20).fill(7));
  const txt = { name: 'example.com', type: DnsType.TXT, class: DNS_CLASS_IN, ttl: 5, data: Uint8Array.from([2, 0x68, 0x69]) };
  const big: DnsMessage = { ...m, answers: [...m.answers, mx, srv, txt], authority: [soa], additional: [] };
  const again = parseDns(emitDns(big)) as DnsMessage;
  assert.deepEqual(again.answers.map((r) => r.names ?? [...r.data]), [['edge.example.com'], [93, 184, 216, 34], ['mail.example.com'], ['sip.example.com'], [2, 0x68, 0x69]]);
  assert.deepEqual(again.authority[0]!.names, ['ns.example.com', 'admin.example.com']);
  assert.deepEqual([...again.answers[2]!.data.subarray(0, 2)], [0, 10]);
  assert.deepEqual([...again.authority[0]!.data.subarray(again.authority[0]!.data.length - 20)], new Array(20).fill(7));
  // Compression shrinks it: "example.com" is written once.
  const text = Buffer.from(emitDns(big)).toString('latin1');
  assert.equal(text.split('example').length - 1, 1);
});

test('escaped label bytes survive parse and emit', () => {
  const m: DnsMessage = { id: 1, flags: 0, questions: [{ name: 'a\\.b.c\\032d.test', type: DnsType.A, class: 1 }], answers: [], authority: [], additional: [] };
  const b = emitDns(m);
  assert.deepEqual([...b.subarray(12, 16)], [3, 0x61, 0x2e, 0x62]);
  assert.equal((parseDns(b) as DnsMessage).questions[0]!.name, 'a\\.b.c\\032d.test');
});

test('EDNS: the requestor payload size comes from the OPT record (RFC 6891 §6.2.3)', () => {
  const m: DnsMessage = { id: 1, flags: 0, questions: [{ name: 'x.test', type: 1, class: 1 }], answers: [], authority: [], additional: [] };
  assert.equal(dnsUdpPayloadLimit(m), 512);
  m.additional.push({ name: '', type: DnsType.OPT, class: 1232, ttl: 0, data: new Uint8Array(0) });
  const p = parseDns(emitDns(m)) as DnsMessage;
  assert.equal(dnsUdpPayloadLimit(p), 1232);
});

test('malformed messages are rejected with a reason', () => {
  const edit = (fn: (b: Uint8Array) => void, base = RESPONSE): Uint8Array => {
    const b = base.slice();
    fn(b);
    return b;
  };
  assert.equal(parseDns(RESPONSE.subarray(0, 11)), 'dns-truncated');
  assert.equal(parseDns(RESPONSE.subarray(0, 40)), 'dns-truncated');
  // The CNAME's owner pointer aimed at itself: a loop.
  assert.equal(parseDns(edit((b) => (b[34] = 33))), 'dns-bad-pointer');
  // A forward pointer.
  assert.equal(parseDns(edit((b) => (b[34] = 60))), 'dns-bad-pointer');
  // Label type 0x40 (RFC 6891 §5: extended label types are not in use).
  assert.equal(parseDns(edit((b) => (b[12] = 0x43))), 'dns-bad-name');
  // A records with 5 data octets.
  const a5 = Uint8Array.from([...RESPONSE.subarray(0, 62), 0, 5, 1, 2, 3, 4, 5]);
  assert.equal(parseDns(a5), 'dns-bad-rdata');
  assert.equal(parseDns(Uint8Array.from([...RESPONSE, 0])), 'dns-trailing-bytes');
  // ANCOUNT larger than the records present.
  assert.equal(parseDns(edit((b) => (b[7] = 200))), 'dns-truncated');
  // A name of 300 octets made of 5 labels of 59.
  const long = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 5; i++) long.push(59, ...new Array(59).fill(0x61));
  long.push(0, 0, 1, 0, 1);
  assert.equal(parseDns(Uint8Array.from(long)), 'dns-name-too-long');
});

test('emitDns names the bad field', () => {
  const q = (name: string): DnsMessage => ({ id: 1, flags: 0, questions: [{ name, type: 1, class: 1 }], answers: [], authority: [], additional: [] });
  assert.throws(() => emitDns(q('a..b')), /empty label/);
  assert.throws(() => emitDns(q('x'.repeat(64))), /longer than 63/);
  assert.throws(() => emitDns(q(Array(50).fill('abcde').join('.'))), /longer than 255/);
  assert.throws(() => nameRecord('x', DnsType.A, 1, ['y']), /holds no names/);
});

test('property: no input throws; whatever parses emits and parses to the same message', () => {
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: RESPONSE.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })
    .map((edits) => {
      const b = RESPONSE.slice();
      for (const [i, v] of edits) b[i] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 120 })), (b) => {
      const m = parseDns(b);
      if (typeof m === 'string') return;
      let bytes: Uint8Array;
      try {
        bytes = emitDns(m);
      } catch (e) {
        // Labels parsed from the wire are never empty; only an escape-free name can fail to emit.
        assert.match(String(e), /DNS name/);
        return;
      }
      const again = parseDns(bytes) as DnsMessage;
      assert.equal(typeof again, 'object');
      assert.deepEqual(
        again.answers.map((r) => [r.name.toLowerCase(), r.type, r.names?.map((n) => n.toLowerCase())]),
        m.answers.map((r) => [r.name.toLowerCase(), r.type, r.names?.map((n) => n.toLowerCase())]),
      );
    }),
    { numRuns: 3000 },
  );
});
