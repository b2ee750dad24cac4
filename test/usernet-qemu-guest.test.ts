/**
 * A real Linux guest on `synack qemu`: Debian's kernel (/boot/vmlinuz-*, package
 * linux-image-cloud-amd64 or linux-image-amd64) and a busybox initramfs built here
 * (test/initramfs.ts: the host's busybox, virtio_net and virtio_pci with their module
 * dependencies) boot under qemu-system-x86_64 with `-netdev stream` to the CLI's Unix socket. The
 * guest's /init takes its address by DHCP (busybox udhcpc), fetches a file from an HTTP server on
 * the host's 127.0.0.1 through the gateway 10.0.2.2 (busybox wget) and prints its SHA-256 on the
 * serial console, which must equal the file's. Software emulation (TCG; KVM with SYNACK_TEST_KVM=1).
 *
 * Needs qemu-system-x86_64, a kernel image with its modules and busybox; skips with the reason
 * otherwise. Root not needed. Takes a few seconds with TCG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs, findKernel, moduleClosure } from './initramfs.js';
import { readControl } from '../src/usernet/control.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function has(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** What the test needs, or why it must skip. */
function prerequisites(): { vmlinuz: string; release: string; busybox: string } | string {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs Linux on x86-64 (this is ${process.platform}/${process.arch})`;
  if (has('qemu-system-x86_64') === null) return 'qemu-system-x86_64 is not installed (apt-get install -y qemu-system-x86)';
  const busybox = has('busybox');
  if (busybox === null) return 'busybox is not installed (apt-get install -y busybox)';
  const k = findKernel();
  if (typeof k === 'string') return k;
  return { ...k, busybox };
}

/**
 * KVM only when asked (SYNACK_TEST_KVM=1) and /dev/kvm opens: a /dev/kvm that opens is not one
 * that works (nested virtualisation here boots SeaBIOS and then hangs the kernel), and TCG boots
 * this guest in seconds anyway.
 */
function kvmUsable(): boolean {
  if (process.env.SYNACK_TEST_KVM !== '1') return false;
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/** A classic pcap file's link type and frame count (each record: 16-byte header, incl_len at 8). */
function pcapFrames(b: Buffer): { linktype: number; frames: number; bytes: number } {
  let frames = 0;
  let bytes = 0;
  for (let off = 24; off + 16 <= b.length; off += 16 + b.readUInt32LE(off + 8)) {
    frames++;
    bytes += b.readUInt32LE(off + 12); // orig_len
  }
  return { linktype: b.readUInt32LE(20), frames, bytes };
}

/** The guest's /init: modules, DHCP, the fetch, its digest on the console, power off. */
function guestInit(modules: string[], url: string): string {
  return `/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sys /sys
for m in ${modules.map((m) => `/modules/${m.split('/').pop()}`).join(' ')}; do insmod $m || echo "GUEST insmod $m failed"; done
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /udhcpc.sh -q -n -t 10 -T 2 || echo "GUEST no DHCP lease"
echo "GUEST ADDR $(ip -4 -o addr show eth0)"
echo "GUEST ROUTE $(ip -4 route show default)"
if wget -q -O /tmp/file '${url}'; then echo "GUEST SHA256 $(sha256sum /tmp/file)"; else echo "GUEST wget failed"; fi
poweroff -f
`;
}

/** udhcpc's script (its environment: ip, mask, router, mtu): configure eth0 on a lease. */
const UDHCPC_SCRIPT = `case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    echo "GUEST LEASE $ip/$mask router $router dns $dns mtu $mtu"
    ;;
esac
`;

test('a Debian kernel with busybox boots on synack qemu, takes its address by DHCP and fetches a file from the host over HTTP with the right SHA-256', { timeout: 180_000 }, async (t) => {
  const pre = prerequisites();
  if (typeof pre === 'string') {
    t.skip(pre);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'synack-qemu-guest-'));
  const body = randomBytes(2 * 1024 * 1024 + 123);
  const sha = createHash('sha256').update(body).digest('hex');
  const web = http.createServer((req, res) => {
    if (req.url !== '/file.bin') return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const port = (web.address() as AddressInfo).port;
  const modules = moduleClosure(pre.release, ['virtio_pci', 'virtio_net']);
  const initrd = join(dir, 'initrd.gz');
  writeFileSync(initrd, buildInitramfs({ busybox: pre.busybox, modules, init: guestInit(modules, `http://10.0.2.2:${port}/file.bin`), scripts: { '/udhcpc.sh': UDHCPC_SCRIPT } }));

  const sock = join(dir, 'net.sock');
  const pcap = join(dir, 'guest.pcap');
  const synack = spawn(process.execPath, [CLI, 'qemu', '--socket', sock, '--pcap', pcap, '--ready', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let synackErr = '';
  synack.stderr!.on('data', (d: Buffer) => (synackErr += d.toString()));
  let qemu: ReturnType<typeof spawn> | null = null;
  try {
    const ready = await new Promise<{ control: string }>((resolve, reject) => {
      let out = '';
      synack.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as { control: string });
      });
      synack.once('exit', (c) => reject(new Error(`synack qemu exited with ${c}: ${synackErr}`)));
    });
    const kvm = kvmUsable();
    qemu = spawn(
      'qemu-system-x86_64',
      ['-nodefaults', '-nographic', '-no-reboot', '-m', '128', '-serial', 'stdio', ...(kvm ? ['-accel', 'kvm'] : []),
        '-kernel', pre.vmlinuz, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 quiet',
        '-netdev', `stream,id=n0,server=off,addr.type=unix,addr.path=${sock}`, '-device', 'virtio-net-pci,netdev=n0,romfile='],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let serial = '';
    qemu.stdout!.on('data', (d: Buffer) => (serial += d.toString('latin1')));
    qemu.stderr!.on('data', (d: Buffer) => (serial += d.toString('latin1')));
    const t0 = Date.now();
    const exit = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 150_000);
      qemu!.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    const tail = `serial console (${kvm ? 'KVM' : 'TCG'}, ${((Date.now() - t0) / 1000).toFixed(1)} s):\n${serial.slice(-3000)}\nsynack: ${synackErr}`;
    assert.notEqual(exit, null, `the guest did not power off in 150 s\n${tail}`);
    assert.match(serial, /GUEST LEASE 10\.0\.2\.15\/24 router 10\.0\.2\.2 dns 10\.0\.2\.3 mtu 65520/, tail);
    assert.match(serial, /GUEST ROUTE default via 10\.0\.2\.2/, tail);
    const got = /GUEST SHA256 ([0-9a-f]{64})/.exec(serial);
    assert.ok(got !== null, `no digest from the guest\n${tail}`);
    assert.equal(got[1], sha, tail);
    t.diagnostic(`guest booted and fetched ${body.length} bytes in ${((Date.now() - t0) / 1000).toFixed(1)} s (${kvm ? 'KVM' : 'TCG'})`);

    // Visible from outside: the lease in the control socket's counters, the guest side in the capture.
    const doc = await readControl(ready.control);
    assert.ok((doc.stats.dhcp.sent.ACK ?? 0) >= 1, JSON.stringify(doc.stats.dhcp));
    assert.ok(doc.stats.tcp.forwarder !== null && doc.stats.tcp.forwarder.accepted >= 1, JSON.stringify(doc.stats.tcp));
    synack.kill('SIGTERM');
    await new Promise((r) => synack.once('exit', r));
    const cap = pcapFrames(readFileSync(pcap));
    assert.equal(cap.linktype, 1, 'LINKTYPE_ETHERNET');
    // DHCP, ARP, the handshake and the file in 65520-byte frames (the MTU DHCP gave the guest).
    assert.ok(cap.frames > 20 && cap.bytes > body.length, `${cap.frames} frames, ${cap.bytes} bytes captured`);
  } finally {
    qemu?.kill('SIGKILL');
    synack.kill('SIGKILL');
    web.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
