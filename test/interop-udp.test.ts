/**
 * UDP against the real Linux kernel over a TUN device and over a TAP device (Ethernet: the kernel
 * resolves synack with ARP and NDP first) (root, /dev/net/tun, ip netns, the native addon and
 * python3; otherwise skipped with the reason): `synack tun|tap --udp-echo 7` runs as a
 * child inside a namespace the test creates and deletes; a Python UDP client there gets its
 * datagrams echoed over IPv4 and IPv6 (also ones larger than the MTU, fragmented both ways), TCP
 * echo shares port 7, and a connected Python UDP socket to a closed port gets
 * ConnectionRefusedError (synack's ICMP port unreachable reaching the kernel's __udp4_lib_err).
 */
import assert from 'node:assert/strict';
import { Netns } from '../src/tun/netns.js';
import { interopSkipReason, itest, within } from './interop-helpers.js';

if (interopSkipReason !== null) console.log(`# UDP interop tests skipped: ${interopSkipReason}`);

const US4 = '10.81.0.2';
const US6 = 'fd00:81::2';

const CLIENT = `
import socket, sys
out = []
for fam, addr in ((socket.AF_INET, '${US4}'), (socket.AF_INET6, '${US6}')):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    ok = 0
    for i in range(30):
        msg = bytes((i * 7 + k) & 0xff for k in range(1 + i * 150))   # up to 4351 bytes: fragmented
        s.sendto(msg, (addr, 7))
        data, peer = s.recvfrom(65535)
        assert data == msg, (i, len(data), len(msg))
        assert peer[1] == 7
        ok += 1
    out.append('echo%d %d' % (4 if fam == socket.AF_INET else 6, ok))
    if fam == socket.AF_INET:   # the TCP echo service listens on 0.0.0.0
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.settimeout(3)
        t.connect((addr, 7))
        t.sendall(b'tcp too')
        out.append('tcp4 %s' % t.recv(100).decode())
        t.close()
    c = socket.socket(fam, socket.SOCK_DGRAM)
    c.settimeout(3)
    c.connect((addr, 9))
    c.send(b'anyone?')
    try:
        c.recv(100)
        out.append('refused%d no' % (4 if fam == socket.AF_INET else 6))
    except ConnectionRefusedError:
        out.append('refused%d yes' % (4 if fam == socket.AF_INET else 6))
print('\\n'.join(out), flush=True)
`;

for (const kind of ['tun', 'tap'] as const) {
  itest(`real kernel over ${kind.toUpperCase()}: a Python UDP client is echoed by synack ${kind} --udp-echo 7 (v4, v6, fragmented), and a connected socket to a closed port gets ConnectionRefusedError`, () => within(55_000, `the ${kind} UDP test`, echoAndRefused(kind)));
}

async function echoAndRefused(kind: 'tun' | 'tap'): Promise<void> {
  const ns = Netns.create();
  try {
    const main = new URL('../src/cli/main.js', import.meta.url).pathname;
    const child = ns.spawn(process.execPath, [main, kind, '--dev', kind === 'tap' ? 'skua0' : 'sku0', '--addr', `${US4}/24`, '--addr6', `${US6}/64`, '--udp-echo', '7', '--echo', '7', '--ready'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = await Promise.race([
      new Promise<{ services: Record<string, number> }>((resolve) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const i = out.indexOf('\n');
          if (i >= 0) resolve(JSON.parse(out.slice(0, i)) as { services: Record<string, number> });
        });
      }),
      exited.then((code) => {
        throw new Error(`synack ${kind} exited with ${code}: ${stderr}`);
      }),
    ]);
    assert.deepEqual(ready.services, { echo: 7, 'udp-echo': 7 });
    const r = await ns.run('python3', ['-c', CLIENT], { timeout: 40_000 });
    assert.equal(r.code, 0, `python: ${r.stdout.toString()} ${r.stderr.toString()}`);
    assert.deepEqual(r.stdout.toString().trim().split('\n'), ['echo4 30', 'tcp4 tcp too', 'refused4 yes', 'echo6 30', 'refused6 yes']);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /udp-echo :7 {2}60 datagrams/);
  } finally {
    ns.delete();
  }
}
