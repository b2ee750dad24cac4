/**
 * The DNS forwarder against a small authoritative server the test runs on 127.0.0.1 (UDP and
 * TCP on one port), with Node sockets on loopback standing in for the guest: forwarding with ID
 * remapping, retry after a lost query, SERVFAIL after the last timeout, spoofed-reply rejection,
 * truncation for UDP and the full answer over TCP (pipelined), the bound on outstanding
 * queries; and the host-resolver mode (node:dns Resolver pointed at the same server) mapping
 * answers, NXDOMAIN and SERVFAIL. All traffic stays on loopback.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import { DnsForwarder, DnsStreamFramer, frameDns } from '../src/usernet/dns-forwarder.js';
import { parseHostPort } from '../src/usernet/host-port.js';
import { DNS_CLASS_IN, DnsFlag, DnsRcode, DnsType, dnsRcode, dnsRecordAddr, emitDns, nameRecord, parseDns, type DnsMessage, type DnsRecord } from '../src/wire/dns.js';

// ---- the upstream: a tiny authoritative server for *.test ----

const seenIds: number[] = [];
const queriesFor = new Map<string, number>();

function zone(q: { name: string; type: number }): { rcode: number; answers: DnsRecord[] } | 'drop' | 'silent' {
  const a = (name: string, addr: number[], ttl = 300): DnsRecord => ({ name, type: DnsType.A, class: DNS_CLASS_IN, ttl, data: Uint8Array.from(addr) });
  const n = q.name.toLowerCase();
  const count = (queriesFor.get(n) ?? 0) + 1;
  queriesFor.set(n, count);
  if (n === 'host.test' && q.type === DnsType.A) return { rcode: 0, answers: [a('host.test', [10, 1, 2, 3], 123)] };
  if (n === 'host.test' && q.type === DnsType.AAAA) return { rcode: 0, answers: [{ name: 'host.test', type: DnsType.AAAA, class: 1, ttl: 77, data: Uint8Array.from([0xfd, 0, ...new Array(13).fill(0), 9]) }] };
  if (n === 'host.test') return { rcode: 0, answers: [] };
  if (n === 'alias.test' && q.type === DnsType.CNAME) return { rcode: 0, answers: [nameRecord('alias.test', DnsType.CNAME, 300, ['host.test'])] };
  if (n === 'mail.test' && q.type === DnsType.MX) return { rcode: 0, answers: [nameRecord('mail.test', DnsType.MX, 300, ['mx.mail.test'], Uint8Array.from([0, 10]))] };
  if (n === 'txt.test' && q.type === DnsType.TXT) return { rcode: 0, answers: [{ name: 'txt.test', type: DnsType.TXT, class: 1, ttl: 5, data: Uint8Array.from([5, 104, 101, 108, 108, 111]) }] };
  if (n === 'big.test') return { rcode: 0, answers: Array.from({ length: 60 }, (_, i) => a('big.test', [10, 9, 0, i])) };
  if (n === 'fail.test') return { rcode: DnsRcode.SERVFAIL, answers: [] };
  if (n === 'lossy.test' && count === 1) return 'drop';
  if (n === 'lossy.test') return { rcode: 0, answers: [a('lossy.test', [10, 7, 7, 7])] };
  if (n === 'slow.test') return 'silent';
  return { rcode: DnsRcode.NXDOMAIN, answers: [] };
}

function serve(query: Uint8Array): Uint8Array | null {
  const m = parseDns(query);
  if (typeof m === 'string') return null;
  seenIds.push(m.id);
  const z = zone(m.questions[0]!);
  if (z === 'drop' || z === 'silent') return null;
  return emitDns({ id: m.id, flags: DnsFlag.QR | DnsFlag.AA | (m.flags & DnsFlag.RD) | z.rcode, questions: m.questions, answers: z.answers, authority: [], additional: [] });
}

let upstreamUdp: dgram.Socket;
let upstreamTcp: net.Server;
let upstreamPort = 0;

before(async () => {
  upstreamUdp = dgram.createSocket('udp4');
  upstreamUdp.on('message', (msg, rinfo) => {
    const r = serve(new Uint8Array(msg));
    if (r !== null) upstreamUdp.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstreamUdp.bind(0, '127.0.0.1', r));
  upstreamPort = upstreamUdp.address().port;
  upstreamTcp = net.createServer((c) => {
    const framer = new DnsStreamFramer();
    c.on('data', (d) => {
      for (const q of framer.push(d) ?? []) {
        const r = serve(q);
        if (r !== null) c.write(frameDns(r));
      }
    });
    c.on('error', () => {});
  });
  await new Promise<void>((r) => upstreamTcp.listen(upstreamPort, '127.0.0.1', r));
});

after(() => {
  upstreamUdp.close();
  upstreamTcp.close();
});

// ---- the guest side ----

function query(name: string, type: number, id = 0x4242, extra: Partial<DnsMessage> = {}): Uint8Array {
  return emitDns({ id, flags: DnsFlag.RD, questions: [{ name, type, class: DNS_CLASS_IN }], answers: [], authority: [], additional: [], ...extra });
}

/** A guest-facing UDP socket served by `fwd`, and a client that asks it one query. */
async function udpGuest(fwd: DnsForwarder): Promise<{ ask: (q: Uint8Array) => Promise<DnsMessage & { size: number }>; close: () => void }> {
  const srv = dgram.createSocket('udp4');
  fwd.serveUdp(srv);
  await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
  const port = srv.address().port;
  const clients: dgram.Socket[] = [];
  return {
    ask: (q) =>
      new Promise((resolve, reject) => {
        const c = dgram.createSocket('udp4');
        clients.push(c);
        c.on('message', (msg) => {
          c.close();
          const m = parseDns(new Uint8Array(msg));
          if (typeof m === 'string') reject(new Error(m));
          else resolve({ ...m, size: msg.length });
        });
        c.send(q, port, '127.0.0.1');
      }),
    close: () => srv.close(),
  };
}

test('parseHostPort takes HOST, HOST:PORT and [V6]:PORT and names the argument', () => {
  assert.deepEqual(parseHostPort('127.0.0.1', 53, 'x'), ['127.0.0.1', 53]);
  assert.deepEqual(parseHostPort('127.0.0.1:5353', 53, 'x'), ['127.0.0.1', 5353]);
  assert.deepEqual(parseHostPort('[::1]:5353', 53, 'x'), ['::1', 5353]);
  assert.deepEqual(parseHostPort('::1', 53, 'x'), ['::1', 53]);
  assert.throws(() => parseHostPort('example.com', 53, '--dns'), /--dns: "example.com" is not an IP address/);
  assert.throws(() => parseHostPort('1.2.3.4:0', 53, '--dns'), /port/);
});

test('forwarding over UDP: answers come back with the guest ID; upstream sees fresh IDs', async () => {
  const fwd = new DnsForwarder({ upstream: `127.0.0.1:${upstreamPort}`, timeoutMs: 300 });
  const g = await udpGuest(fwd);
  try {
    seenIds.length = 0;
    const r1 = await g.ask(query('host.test', DnsType.A, 0x0101));
    const r2 = await g.ask(query('HOST.test', DnsType.A, 0x0101));
    assert.equal(r1.id, 0x0101);
    assert.equal(r2.id, 0x0101);
    assert.equal(dnsRecordAddr(r1.answers[0]!), '10.1.2.3');
    assert.equal(r1.answers[0]!.ttl, 123);
    // RFC 5452: the upstream never sees the guest's ID (random 16-bit IDs: 1 in 65536 chance each).
    assert.equal(seenIds.length, 2);
    assert.ok(seenIds.every((id) => id !== 0x0101), `upstream saw ${seenIds}`);
    const nx = await g.ask(query('nope.test', DnsType.A));
    assert.equal(dnsRcode(nx), DnsRcode.NXDOMAIN);
    assert.equal(fwd.counters.rcodes.NXDOMAIN, 1);
    assert.equal(fwd.outstanding, 0);
  } finally {
    g.close();
    fwd.close();
  }
});

test('a lost query is retried; a silent upstream gives SERVFAIL after the last attempt', async () => {
  const fwd = new DnsForwarder({ upstream: `127.0.0.1:${upstreamPort}`, timeoutMs: 150, attempts: 2 });
  const g = await udpGuest(fwd);
  try {
    const r = await g.ask(query('lossy.test', DnsType.A));
    assert.equal(dnsRecordAddr(r.answers[0]!), '10.7.7.7');
    assert.equal(fwd.counters.upstreamRetries, 1);
    const t0 = Date.now();
    const s = await g.ask(query('slow.test', DnsType.A, 0x7777));
    assert.equal(s.id, 0x7777);
    assert.equal(dnsRcode(s), DnsRcode.SERVFAIL);
    assert.ok(Date.now() - t0 >= 280, 'two attempts of 150 ms');
    assert.equal(fwd.counters.upstreamTimeouts, 1);
    assert.equal(queriesFor.get('slow.test'), 2);
  } finally {
    g.close();
    fwd.close();
  }
});

test('replies from the wrong port, with an unknown ID or another question are ignored (RFC 5452 §9.1)', async () => {
  // A fake upstream that answers each query three times: from another port, with the question
  // changed, then correctly. Only the last may be taken.
  const fake = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  await new Promise<void>((r) => fake.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
  fake.on('message', (msg, rinfo) => {
    const q = parseDns(new Uint8Array(msg)) as DnsMessage;
    const good = emitDns({ id: q.id, flags: DnsFlag.QR, questions: q.questions, answers: [{ name: q.questions[0]!.name, type: 1, class: 1, ttl: 1, data: Uint8Array.from([1, 1, 1, 1]) }], authority: [], additional: [] });
    const poisoned = emitDns({ id: q.id, flags: DnsFlag.QR, questions: q.questions, answers: [{ name: q.questions[0]!.name, type: 1, class: 1, ttl: 1, data: Uint8Array.from([6, 6, 6, 6]) }], authority: [], additional: [] });
    const otherQ = emitDns({ id: q.id, flags: DnsFlag.QR, questions: [{ name: 'evil.test', type: 1, class: 1 }], answers: [], authority: [], additional: [] });
    other.send(poisoned, rinfo.port, rinfo.address);
    fake.send(otherQ, rinfo.port, rinfo.address);
    setTimeout(() => fake.send(good, rinfo.port, rinfo.address), 30);
  });
  const fwd = new DnsForwarder({ upstream: `127.0.0.1:${fake.address().port}`, timeoutMs: 1000 });
  const g = await udpGuest(fwd);
  try {
    const r = await g.ask(query('host.test', DnsType.A));
    assert.equal(dnsRecordAddr(r.answers[0]!), '1.1.1.1');
    assert.equal(fwd.counters.upstreamMismatched, 2);
  } finally {
    g.close();
    fwd.close();
    fake.close();
    other.close();
  }
});

test('UDP answers beyond 512 octets are truncated with TC; over TCP they come whole, pipelined', async () => {
  const fwd = new DnsForwarder({ upstream: `127.0.0.1:${upstreamPort}`, timeoutMs: 500 });
  const g = await udpGuest(fwd);
  const srv = net.createServer((c) => fwd.serveTcp(c));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const udp = await g.ask(query('big.test', DnsType.A));
    assert.equal(udp.flags & DnsFlag.TC, DnsFlag.TC);
    assert.equal(udp.answers.length, 0);
    assert.ok(udp.size <= 512);
    assert.equal(fwd.counters.truncated, 1);
    // With EDNS (RFC 6891) and a 4096-octet buffer it fits.
    const edns = await g.ask(query('big.test', DnsType.A, 9, { additional: [{ name: '', type: DnsType.OPT, class: 4096, ttl: 0, data: new Uint8Array(0) }] }));
    assert.equal(edns.answers.length, 60);
    // Over TCP: two queries in one write, split across two segments by the framing.
    const c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    const framer = new DnsStreamFramer();
    const got: DnsMessage[] = [];
    const both = new Promise<void>((resolve) => {
      c.on('data', (d) => {
        for (const m of framer.push(d)!) got.push(parseDns(m) as DnsMessage);
        if (got.length === 2) resolve();
      });
    });
    const bytes = Buffer.concat([frameDns(query('big.test', DnsType.A, 1)), frameDns(query('host.test', DnsType.AAAA, 2))]);
    c.write(bytes.subarray(0, 7));
    setTimeout(() => c.write(bytes.subarray(7)), 20);
    await both;
    c.destroy();
    const byId = new Map(got.map((m) => [m.id, m]));
    assert.equal(byId.get(1)!.answers.length, 60);
    assert.equal(byId.get(1)!.flags & DnsFlag.TC, 0);
    assert.equal(dnsRecordAddr(byId.get(2)!.answers[0]!), 'fd00::9');
  } finally {
    g.close();
    srv.close();
    fwd.close();
  }
});

test('malformed queries get FORMERR, other opcodes NOTIMP, responses and scraps are dropped; the bound holds', async () => {
  const fwd = new DnsForwarder({ upstream: `127.0.0.1:${upstreamPort}`, timeoutMs: 300, maxOutstanding: 2 });
  try {
    const bad = query('host.test', DnsType.A, 5).slice(0, 20);
    const r = parseDns((await fwd.answer(bad, 'udp'))!) as DnsMessage;
    assert.equal(r.id, 5);
    assert.equal(dnsRcode(r), DnsRcode.FORMERR);
    const status = query('host.test', DnsType.A, 6);
    status[2] |= 2 << 3; // opcode 2 (STATUS)
    assert.equal(dnsRcode(parseDns((await fwd.answer(status, 'udp'))!) as DnsMessage), DnsRcode.NOTIMP);
    const resp = query('host.test', DnsType.A, 7);
    resp[2] |= 0x80;
    assert.equal(await fwd.answer(resp, 'udp'), null);
    assert.equal(await fwd.answer(new Uint8Array(3), 'udp'), null);
    assert.equal(fwd.counters.dropped, 2);
    // Two slow queries fill the table; the third is answered SERVFAIL at once.
    const slow = [fwd.answer(query('slow.test', 1, 10), 'udp'), fwd.answer(query('slow.test', 1, 11), 'udp')];
    assert.equal(fwd.outstanding, 2);
    assert.equal(dnsRcode(parseDns((await fwd.answer(query('host.test', 1, 12), 'udp'))!) as DnsMessage), DnsRcode.SERVFAIL);
    assert.equal(fwd.counters.overloaded, 1);
    await Promise.all(slow);
    assert.equal(fwd.outstanding, 0);
    assert.throws(() => new DnsForwarder({ upstream: 'dns.google' }), /upstream/);
    await assert.rejects(fwd.answer('x' as unknown as Uint8Array, 'udp'), /query/);
  } finally {
    fwd.close();
  }
});

test('host-resolver mode: node:dns answers mapped to records, NXDOMAIN and SERVFAIL mapped', async () => {
  const resolver = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${upstreamPort}`]);
  const fwd = new DnsForwarder({ resolver });
  const g = await udpGuest(fwd);
  try {
    const a = await g.ask(query('host.test', DnsType.A, 0x0a0a));
    assert.equal(a.id, 0x0a0a);
    assert.equal(a.flags & (DnsFlag.QR | DnsFlag.RD | DnsFlag.RA), DnsFlag.QR | DnsFlag.RD | DnsFlag.RA);
    assert.equal(dnsRecordAddr(a.answers[0]!), '10.1.2.3');
    assert.equal(a.answers[0]!.ttl, 123);
    const aaaa = await g.ask(query('host.test', DnsType.AAAA));
    assert.equal(dnsRecordAddr(aaaa.answers[0]!), 'fd00::9');
    assert.equal(aaaa.answers[0]!.ttl, 77);
    const cname = await g.ask(query('alias.test', DnsType.CNAME));
    assert.deepEqual(cname.answers[0]!.names, ['host.test']);
    const mx = await g.ask(query('mail.test', DnsType.MX));
    assert.deepEqual([mx.answers[0]!.names, [...mx.answers[0]!.data.subarray(0, 2)]], [['mx.mail.test'], [0, 10]]);
    const txt = await g.ask(query('txt.test', DnsType.TXT));
    assert.deepEqual([...txt.answers[0]!.data], [5, 104, 101, 108, 108, 111]);
    assert.equal(dnsRcode(await g.ask(query('nope.test', DnsType.A))), DnsRcode.NXDOMAIN);
    assert.equal(dnsRcode(await g.ask(query('fail.test', DnsType.A))), DnsRcode.SERVFAIL);
    // NODATA: the name exists, no record of the type: NOERROR with no answers.
    const nodata = await g.ask(query('host.test', DnsType.MX));
    assert.deepEqual([dnsRcode(nodata), nodata.answers.length], [DnsRcode.NOERROR, 0]);
    // A type the resolver API cannot ask.
    assert.equal(dnsRcode(await g.ask(query('host.test', 99))), DnsRcode.NOTIMP);
  } finally {
    g.close();
    fwd.close();
  }
});

test('an idle guest TCP connection is closed (RFC 7766 §6.2.3); a zero length prefix closes it at once', async () => {
  const fwd = new DnsForwarder({ upstream: `127.0.0.1:${upstreamPort}`, timeoutMs: 500, idleTimeoutMs: 200 });
  const srv = net.createServer((c) => fwd.serveTcp(c));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const closedAfter = (send: Uint8Array | null): Promise<number> =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const c = net.connect(port, '127.0.0.1', () => {
        if (send !== null) c.write(send);
      });
      c.on('data', () => {});
      c.on('error', () => {});
      c.on('close', () => resolve(Date.now() - t0));
    });
  try {
    const idle = await closedAfter(null);
    assert.ok(idle >= 150 && idle < 5000, `closed after ${idle} ms`);
    // An answered query, then silence: closed after the idle time too.
    assert.ok((await closedAfter(frameDns(query('host.test', DnsType.A)))) >= 150);
    assert.ok((await closedAfter(Uint8Array.from([0, 0]))) < 150, 'framing error closes at once');
  } finally {
    srv.close();
    fwd.close();
  }
});
