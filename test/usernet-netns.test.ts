/**
 * `synack netns` end to end, in a namespace it makes: inside, busybox `udhcpc` configures tap0;
 * curl reaches an HTTP server on the host's 127.0.0.1 through the gateway 10.0.2.2, and after
 * SLAAC from synack's router advertisements one on ::1 through fd00::2; a name
 * resolves through 10.0.2.3 (UDP with nslookup, TCP with a hand-built query) from an upstream DNS
 * server this test runs on loopback; a UDP echo server on the host's loopback answers through the
 * NAT, and a closed host port gives ECONNREFUSED (ICMP port unreachable); `ping 10.0.2.2` is answered; a host client reaches a server inside through `--forward` (TCP and UDP);
 * 200 parallel connections complete intact; 200 MB go each way with matching SHA-256; and a host
 * server killed in the middle of an upload gives the guest a RST (ECONNRESET), not a hang.
 * `synack netstat --usernet` shows the relayed flows while they run.
 *
 * The guest side is one Node script run as the netns COMMAND; it reports JSON lines on stdout.
 * Needs root, iproute2, busybox udhcpc/nslookup, curl, ping and /dev/net/tun; skips otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tunUnavailableReason } from '../src/link/tun.js';
import { DNS_CLASS_IN, DnsFlag, DnsType, emitDns, parseDns } from '../src/wire/dns.js';
import { DnsStreamFramer, frameDns } from '../src/usernet/dns-forwarder.js';
import { readControl } from '../src/usernet/control.js';
import { READ_CHUNK } from '../src/usernet/splice.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DNS_MODULE = fileURLToPath(new URL('../src/wire/dns.js', import.meta.url));
const BIG = 200_000_000;

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (a namespace and a TAP device in it)';
  for (const tool of ['ip', 'udhcpc', 'busybox', 'curl', 'ping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `'${tool}' is not installed (apt-get install -y iproute2 udhcpc busybox curl iputils-ping)`;
    }
  }
  return tunUnavailableReason();
}

/** A deterministic 64 KiB block per index (the guest script has the same function). */
function block(i: number): Buffer {
  const b = Buffer.alloc(65536);
  let x = (i * 2654435761) >>> 0 || 1;
  for (let k = 0; k < b.length; k += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, k);
  }
  return b;
}

const GUEST = `
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
const cfg = JSON.parse(process.argv[2]);
const { DNS_CLASS_IN, DnsType, emitDns, parseDns } = await import(cfg.dnsModule);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const sh = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20000 }); } catch (e) { return 'FAILED: ' + (e.stdout ?? '') + (e.stderr ?? '') + e.message; } };
${block.toString()}
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(what + ': timeout')), ms))]);

sh('udhcpc', ['-i', 'tap0', '-q', '-n', '-t', '5', '-T', '1', '-s', cfg.script]);
out({ step: 'dhcp', addr: sh('ip', ['-4', 'addr', 'show', 'dev', 'tap0']), route: sh('ip', ['route']) });
out({ step: 'curl', body: sh('curl', ['-sS', '-m', '10', 'http://10.0.2.2:' + cfg.http + '/']) });
{
  // IPv6: SLAAC from synack's router advertisements, then the gateway fd00::2 is the host's ::1.
  let addr6 = '';
  // Until DAD is over: with only a tentative address the kernel sends the SYN from ::1 (a martian).
  for (let i = 0; i < 50 && !/inet6 fd00:[^\\n]*global (?!tentative)/.test(addr6); i++) { addr6 = sh('ip', ['-6', 'addr', 'show', 'dev', 'tap0']); await new Promise((r) => setTimeout(r, 200)); }
  out({ step: 'ipv6', addr6, route6: sh('ip', ['-6', 'route']), body: sh('curl', ['-sS', '-m', '10', '-g', 'http://[fd00::2]:' + cfg.http6 + '/']) });
}
out({ step: 'nslookup', text: sh('busybox', ['nslookup', 'host.usernet.test', '10.0.2.3']) });
{
  const q = emitDns({ id: 4242, flags: 0x0100, questions: [{ name: 'host.usernet.test', type: DnsType.A, class: DNS_CLASS_IN }], answers: [], authority: [], additional: [] });
  const r = await withTimeout(new Promise((resolve, reject) => {
    const c = net.connect(53, '10.0.2.3', () => c.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
    let buf = Buffer.alloc(0);
    c.on('data', (d) => { buf = Buffer.concat([buf, d]); if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { c.end(); resolve(parseDns(new Uint8Array(buf.subarray(2)))); } });
    c.on('error', reject);
  }), 10000, 'dns over tcp').catch((e) => ({ error: e.message }));
  out({ step: 'dns-tcp', id: r.id, answers: (r.answers ?? []).map((a) => [...a.data].join('.')), error: r.error });
}
{
  const s = dgram.createSocket('udp4');
  const reply = await withTimeout(new Promise((resolve) => { s.on('message', (m) => resolve(m.toString())); s.send('ping through the nat', cfg.udp, '10.0.2.2'); }), 5000, 'udp').catch((e) => 'ERR ' + e.message);
  s.close();
  out({ step: 'udp', reply });
}
{
  // A connected UDP socket to a closed host port: the host's ECONNREFUSED comes back as ICMP port unreachable.
  const s = dgram.createSocket('udp4');
  const code = await withTimeout(new Promise((resolve) => {
    s.on('error', (e) => resolve(e.code));
    s.connect(cfg.closedUdp, '10.0.2.2', () => { s.send('anyone?'); setTimeout(() => { try { s.send('anyone?'); } catch {} }, 500); });
  }), 5000, 'udp refused').catch((e) => e.message);
  s.close();
  out({ step: 'udp-refused', code });
}
out({ step: 'ping', text: sh('ping', ['-c', '2', '-W', '2', '10.0.2.2']) });
{
  const served = new Promise((resolve) => {
    const srv = net.createServer((c) => { c.once('data', (d) => { c.end('inside got ' + d.toString()); srv.close(); resolve(true); }); });
    const u = dgram.createSocket('udp4');
    u.on('message', (m, r) => u.send('inside echoes ' + m.toString(), r.port, r.address));
    u.unref();
    u.bind(8082, () => srv.listen(8081, () => out({ step: 'listening' })));
  });
  out({ step: 'forward', served: await withTimeout(served, 15000, 'forward').catch((e) => e.message) });
}
{
  const one = (i) => new Promise((resolve) => {
    const data = block(i).subarray(0, 20000);
    const c = net.connect(cfg.echo, '10.0.2.2', () => c.end(data));
    const got = [];
    c.on('data', (d) => got.push(d));
    c.on('end', () => resolve(Buffer.concat(got).equals(data)));
    c.on('error', () => resolve(false));
  });
  const results = await withTimeout(Promise.all(Array.from({ length: 200 }, (_, i) => one(i))), 30000, 'parallel').catch(() => []);
  out({ step: 'parallel', ok: results.filter((r) => r === true).length });
}
{
  const t0 = Date.now();
  const sha = await new Promise((resolve) => {
    http.get('http://10.0.2.2:' + cfg.http + '/bytes', (res) => {
      const h = createHash('sha256'); let n = 0;
      res.on('data', (d) => { h.update(d); n += d.length; });
      res.on('end', () => resolve({ sha: h.digest('hex'), n }));
      res.on('error', (e) => resolve({ error: e.message }));
    }).on('error', (e) => resolve({ error: e.message }));
  });
  out({ step: 'download', ...sha, ms: Date.now() - t0 });
}
{
  const t0 = Date.now();
  const h = createHash('sha256');
  const res = await new Promise((resolve) => {
    const req = http.request({ host: '10.0.2.2', port: cfg.http, method: 'POST', path: '/upload', headers: { 'content-length': cfg.big } }, (r) => {
      let body = ''; r.on('data', (d) => (body += d)); r.on('end', () => resolve(body));
    });
    req.on('error', (e) => resolve('ERR ' + e.message));
    let i = 0, sent = 0;
    const pump = () => {
      while (sent < cfg.big) {
        const b = block(i++).subarray(0, Math.min(65536, cfg.big - sent));
        sent += b.length; h.update(b);
        if (!req.write(b)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  out({ step: 'upload', sent: h.digest('hex'), server: res, ms: Date.now() - t0 });
}
{
  const code = await new Promise((resolve) => {
    const c = net.connect(cfg.kill, '10.0.2.2');
    let written = 0, told = false;
    const chunk = Buffer.alloc(65536, 7);
    const pump = () => {
      while (c.write(chunk)) { written += chunk.length; if (written > 64 << 20) break; }
      if (!told && written > 0) { told = true; out({ step: 'rst-writing', written }); }
    };
    c.on('connect', pump);
    c.on('drain', pump);
    c.on('error', (e) => resolve(e.code));
    c.on('close', () => resolve('closed without error'));
    setTimeout(() => resolve('hang'), 20000);
  });
  out({ step: 'rst', code });
}
out({ step: 'done' });
`;

const DHCP_SCRIPT = `#!/bin/sh
case "$1" in
  bound|renew) ip addr replace "$ip/$mask" dev "$interface"; ip route replace default via "$router" dev "$interface" ;;
  deconfig) ip -4 addr flush dev "$interface" ;;
esac
`;

interface Line {
  step?: string;
  ready?: boolean;
  [k: string]: unknown;
}

test('synack netns gives a namespace a network: DHCP, HTTP to the host, DNS, UDP NAT, ping, --forward, 200 connections, 200 MB each way, RST', { timeout: 180_000 }, async (t) => {
  const why = missing();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'synack-netns-'));
  const closers: (() => void)[] = [];
  let nsName = 'none';
  const children: ChildProcess[] = [];
  try {
    // Host side, all on 127.0.0.1: HTTP (/, /bytes, /upload), DNS upstream, UDP echo, TCP echo.
    const port = (s: net.Server | dgram.Socket): number => (s.address() as net.AddressInfo).port;
    let servedSha = '';
    const httpSrv = http.createServer((req, res) => {
      if (req.url === '/') return void res.end('hello from the host loopback\n');
      if (req.url === '/bytes') {
        res.writeHead(200, { 'content-length': BIG });
        const h = createHash('sha256');
        let i = 0;
        let sent = 0;
        const pump = (): void => {
          while (sent < BIG) {
            const b = block(i++).subarray(0, Math.min(65536, BIG - sent));
            sent += b.length;
            h.update(b);
            if (!res.write(b)) return void res.once('drain', pump);
          }
          servedSha = h.digest('hex');
          res.end();
        };
        return pump();
      }
      if (req.url === '/upload') {
        const h = createHash('sha256');
        req.on('data', (d: Buffer) => h.update(d));
        req.on('end', () => res.end(h.digest('hex')));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => httpSrv.listen(0, '127.0.0.1', r));
    closers.push(() => httpSrv.close());
    const http6 = http.createServer((_req, res) => res.end('hello from the host ::1\n'));
    await new Promise<void>((r) => http6.listen(0, '::1', r));
    closers.push(() => http6.close());
    const dnsSrv = dgram.createSocket('udp4');
    const answer = (query: Uint8Array): Uint8Array | null => {
      const m = parseDns(query);
      if (typeof m === 'string') return null;
      const q = m.questions[0]!;
      const hit = q.name.toLowerCase() === 'host.usernet.test' && q.type === DnsType.A;
      const answers = hit ? [{ name: q.name, type: DnsType.A, class: DNS_CLASS_IN, ttl: 60, data: Uint8Array.from([192, 0, 2, 77]) }] : [];
      return emitDns({ id: m.id, flags: DnsFlag.QR | DnsFlag.AA | (m.flags & DnsFlag.RD) | (hit ? 0 : 3), questions: m.questions, answers, authority: [], additional: [] });
    };
    dnsSrv.on('message', (msg, rinfo) => {
      const r = answer(new Uint8Array(msg));
      if (r !== null) dnsSrv.send(r, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => dnsSrv.bind(0, '127.0.0.1', r));
    closers.push(() => dnsSrv.close());
    // The forwarder asks over TCP what the guest asked over TCP (RFC 7766): the same port, TCP.
    const dnsTcpSrv = net.createServer((c) => {
      const framer = new DnsStreamFramer();
      c.on('data', (d) => {
        for (const q of framer.push(d) ?? []) {
          const r = answer(q);
          if (r !== null) c.write(frameDns(r));
        }
      });
      c.on('error', () => {});
    });
    await new Promise<void>((r) => dnsTcpSrv.listen(port(dnsSrv), '127.0.0.1', r));
    closers.push(() => dnsTcpSrv.close());
    const udpEcho = dgram.createSocket('udp4');
    udpEcho.on('message', (m, r) => udpEcho.send(m, r.port, r.address));
    await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', r));
    closers.push(() => udpEcho.close());
    const echo = net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    closers.push(() => echo.close());
    // The server to kill: it never reads, so the kernel resets its connections when it dies.
    const killable = spawn(process.execPath, ['-e', "const s=require('net').createServer({pauseOnConnect:true},()=>{}).listen(0,'127.0.0.1',()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(killable);
    const killPort = await new Promise<number>((r) => killable.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));

    writeFileSync(join(dir, 'guest.mjs'), GUEST);
    writeFileSync(join(dir, 'dhcp.sh'), DHCP_SCRIPT);
    chmodSync(join(dir, 'dhcp.sh'), 0o755);
    const gone = dgram.createSocket('udp4');
    await new Promise<void>((r) => gone.bind(0, '127.0.0.1', r));
    const closedUdp = port(gone);
    gone.close();
    const cfg = { http6: port(http6), closedUdp, dnsModule: DNS_MODULE, script: join(dir, 'dhcp.sh'), http: port(httpSrv), udp: port(udpEcho), echo: port(echo), kill: killPort, big: BIG };
    const fwdPort = 20000 + (process.pid % 20000);
    const control = join(dir, 'control.sock');
    const un = spawn(process.execPath, [CLI, 'netns', '--ready', '--quiet', '--dns', `127.0.0.1:${port(dnsSrv)}`, '--forward', `tcp:${fwdPort}:8081`, '--forward', `udp:${fwdPort + 1}:8082`, '--control', control, '--',
      process.execPath, join(dir, 'guest.mjs'), JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(un);
    const lines: Line[] = [];
    const waiters: (() => void)[] = [];
    let buf = '';
    un.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          lines.push(JSON.parse(text) as Line);
        } catch {
          lines.push({ step: 'noise', text });
        }
        for (const w of waiters.splice(0)) w();
      }
    });
    const exited = new Promise<number | null>((r) => un.on('exit', (code) => r(code)));
    const step = async (name: string, ms = 60_000): Promise<Line> => {
      const t0 = Date.now();
      for (;;) {
        const l = lines.find((x) => x.step === name);
        if (l !== undefined) return l;
        if (Date.now() - t0 > ms) throw new Error(`no '${name}' from the guest in ${ms} ms; got ${JSON.stringify(lines)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 250);
        });
      }
    };

    const ready = lines.find((l) => l.ready) ?? (await (async () => {
      await step('dhcp', 30_000);
      return lines.find((l) => l.ready)!;
    })());
    assert.ok(ready?.ready, 'the --ready line comes first');
    nsName = String(ready.netns);
    const dhcp = await step('dhcp');
    assert.match(String(dhcp.addr), /inet 10\.0\.2\.15\/24/, 'udhcpc configured tap0');
    assert.match(String(dhcp.route), /default via 10\.0\.2\.2/);
    assert.equal((await step('curl')).body, 'hello from the host loopback\n');
    const v6 = await step('ipv6');
    assert.match(String(v6.addr6), /inet6 fd00::[0-9a-f:]+\/64 scope global/, 'SLAAC from the router advertisement');
    assert.match(String(v6.route6), /default via fe80::2 dev tap0 proto ra/);
    assert.equal(v6.body, 'hello from the host ::1\n');
    assert.match(String((await step('nslookup')).text), /192\.0\.2\.77/);
    const dnsTcp = await step('dns-tcp');
    assert.deepEqual([dnsTcp.id, dnsTcp.answers], [4242, ['192.0.2.77']], `DNS over TCP: ${JSON.stringify(dnsTcp)}`);
    assert.equal((await step('udp')).reply, 'ping through the nat');
    assert.equal((await step('udp-refused')).code, 'ECONNREFUSED', 'ICMP port unreachable from the NAT');
    assert.match(String((await step('ping')).text), /2 received/);

    await step('listening');
    const fromInside = await new Promise<string>((resolve, reject) => {
      const c = net.connect(fwdPort, '127.0.0.1', () => c.write('hello from the host'));
      let s = '';
      c.on('data', (d) => (s += d.toString()));
      c.on('end', () => resolve(s));
      c.on('error', reject);
    });
    assert.equal(fromInside, 'inside got hello from the host');
    const udpInside = await new Promise<string>((resolve, reject) => {
      const u = dgram.createSocket('udp4');
      const timer = setTimeout(() => reject(new Error('no UDP answer through --forward udp')), 5000);
      u.on('message', (m) => {
        clearTimeout(timer);
        u.close();
        resolve(m.toString());
      });
      u.send('over udp', fwdPort + 1, '127.0.0.1');
    });
    assert.equal(udpInside, 'inside echoes over udp');
    assert.equal((await step('forward')).served, true);

    assert.equal((await step('parallel')).ok, 200, '200 parallel connections echoed intact');

    // While the download runs, netstat shows the relayed flow.
    await new Promise((r) => setTimeout(r, 300));
    const ns = execFileSync(process.execPath, [CLI, 'netstat', '--usernet', control, '-a', '-n'], { encoding: 'utf8' });
    assert.match(ns, /Relayed flows/);
    const down = await step('download', 120_000);
    assert.equal(down.n, BIG);
    assert.equal(down.sha, servedSha, 'download intact');
    const up = await step('upload', 120_000);
    assert.equal(up.server, up.sent, 'upload intact');
    t.diagnostic(`200 MB through synack netns: download ${down.ms} ms (${((BIG * 8) / Number(down.ms) / 1e3).toFixed(0)} Mbit/s), upload ${up.ms} ms (${((BIG * 8) / Number(up.ms) / 1e3).toFixed(0)} Mbit/s)`);

    // The fast path: TSO packets to the guest (the download at MTU 1500 left as 64 KiB packets the
    // kernel never cut), the guest's GSO packets taken whole, and guest bytes written to host
    // sockets from a reused buffer (a new one only when a host write was left in progress).
    const doc = await readControl(control);
    const link = doc.stats.link!;
    const writes = Math.ceil(BIG / READ_CHUNK); // the upload's, at the most per write
    t.diagnostic(`tap0: ${link.txGsoPackets} TSO packets written, ${link.rxGsoPackets} GSO packets read; ${doc.stats.tcp.readBuffers} read buffers for >= ${writes} host writes`);
    assert.ok(link.txGsoPackets > BIG / 65536 / 2, `TSO toward the guest: ${link.txGsoPackets} packets`);
    assert.ok(link.rxGsoPackets > BIG / 65536 / 2, `GSO from the guest: ${link.rxGsoPackets} packets`);
    assert.ok(doc.stats.tcp.readBuffers < writes / 2, `${doc.stats.tcp.readBuffers} read buffers`);

    await step('rst-writing');
    killable.kill('SIGKILL');
    const rst = await step('rst', 30_000);
    assert.equal(rst.code, 'ECONNRESET', `the guest got a RST: ${JSON.stringify(rst)}`);
    await step('done');
    assert.equal(await exited, 0, 'synack netns exits with the command status');
    assert.ok(!existsSync(control), 'the control socket is removed');
  } finally {
    // SIGTERM first: synack netns passes it to its command and removes the namespace.
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    // A synack netns killed before its cleanup leaves its namespace: remove it here.
    if (existsSync(`/run/netns/${nsName}`)) execFileSync('ip', ['netns', 'del', nsName]);
    for (const c of closers) c();
    rmSync(dir, { recursive: true, force: true });
  }
});
