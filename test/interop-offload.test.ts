/**
 * The kernel's offloads on TUN and TAP (IFF_VNET_HDR + TUNSETOFFLOAD, src/link/tun-offload.ts)
 * against the real Linux stack: 20 MB each way, intact, with offloads on (the kernel hands synack
 * GSO packets with partial checksums and takes TSO packets from it) and off (MTU-sized packets
 * with complete checksums). Needs root, /dev/net/tun, `ip netns`, the addon, curl and python3;
 * otherwise each test is skipped with the reason. Each test makes and deletes its own namespace.
 */
import assert from 'node:assert/strict';
import { Netns } from '../src/tun/netns.js';
import { curlBody, interopSkipReason, itest, within } from './interop-helpers.js';
import { startTapStack, startTunStack, type TunStack } from '../src/tun/run.js';
import { httpService, patternSha256 } from '../src/tun/services.js';
import { TUN_F_CSUM, TUN_F_TSO4 } from '../src/link/virtio-net.js';

const US = '10.79.0.2';
const KERNEL = '10.79.0.1';
const MB20 = 20 * 1024 * 1024;

if (interopSkipReason !== null) console.log(`# offload interop tests skipped: ${interopSkipReason}`);

/** python3 in the namespace POSTs 20 MB of random bytes and prints its SHA-256 and synack's answer. */
const UPLOAD = `
import hashlib, http.client, json, os, sys
data = os.urandom(${MB20})
c = http.client.HTTPConnection(sys.argv[1], 80, timeout=60)
c.request('POST', '/upload', body=data)
r = c.getresponse()
print(json.dumps({'sent': hashlib.sha256(data).hexdigest(), 'got': json.loads(r.read())}))
`;

async function transfer20MB(kind: 'tun' | 'tap', offload: boolean): Promise<TunStack['tun']> {
  const ns = Netns.create();
  let ts: TunStack | null = null;
  try {
    ts = (kind === 'tap' ? startTapStack : startTunStack)({ netns: ns.name, dev: 'sko0', addr: `${US}/24`, peer: KERNEL, seed: 11, offload });
    const stack = ts.stack;
    httpService(stack, 80);
    await within(50_000, 'the transfers', (async () => {
      // synack → kernel: curl downloads 20 MB of the deterministic stream.
      const down = await curlBody(ns, `http://${US}/bytes/${MB20}`);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(down.size, MB20);
      assert.equal(down.sha, patternSha256(MB20));
      // kernel → synack: python3 uploads 20 MB of random bytes; synack hashes what it got.
      const up = await ns.run('python3', ['-c', UPLOAD, US], { timeout: 60_000 });
      assert.equal(up.code, 0, up.stderr);
      const r = JSON.parse(up.stdout.toString()) as { sent: string; got: { bytes: number; sha256: string } };
      assert.deepEqual(r.got, { bytes: MB20, sha256: r.sent });
    })());
    assert.equal(stack.counters.InCsumErrors ?? 0, 0);
    return ts.tun;
  } finally {
    ts?.close();
    ns.delete();
  }
}

for (const kind of ['tun', 'tap'] as const) {
  itest(`${kind.toUpperCase()} with offloads: 20 MB intact both ways; the kernel sent GSO packets and took TSO packets`, async () => {
    const dev = await transfer20MB(kind, true);
    assert.ok((dev.offloads & (TUN_F_CSUM | TUN_F_TSO4)) === (TUN_F_CSUM | TUN_F_TSO4), `offloads ${dev.offloads}`);
    assert.equal(dev.checksumOffload, true);
    assert.equal(dev.gsoMaxSize, 65535);
    const s = dev.stats();
    assert.ok(s.rxGsoPackets > 0, `no GSO packet from the kernel: ${JSON.stringify(s)}`);
    assert.ok(s.txGsoPackets > 0, `no TSO packet to the kernel: ${JSON.stringify(s)}`);
    assert.equal(s.rxCsumErrors, 0);
    // Several GSO packets per read batch: the ACKs made redundant within a batch were not written.
    assert.ok(s.txAcksCoalesced > 0, `no ACK coalesced: ${JSON.stringify(s)}`);
    // Far fewer packets than 40 MB of MTU-sized segments would take.
    assert.ok(s.rxPackets + s.txPackets < (2 * MB20) / 1448 / 2, `packets ${s.rxPackets} + ${s.txPackets}`);
  }, 90_000);

  itest(`${kind.toUpperCase()} without offloads: 20 MB intact both ways in MTU-sized packets`, async () => {
    const dev = await transfer20MB(kind, false);
    assert.equal(dev.offloads, 0);
    assert.equal(dev.checksumOffload, false);
    assert.equal(dev.gsoMaxSize, undefined);
    const s = dev.stats();
    assert.equal(s.rxGsoPackets, 0);
    assert.equal(s.txGsoPackets, 0);
    assert.ok(s.rxBytes / s.rxPackets <= 1500 + 14, `average received packet ${s.rxBytes / s.rxPackets} B`);
  }, 90_000);
}

// Busy polling (openTun's busyPoll, native/tun.c): for the window after each packet the event loop
// polls instead of sleeping, so the packets of an HTTP exchange that follow each other within it
// are found by the polling loop (rxBusyPolled), and none are once it is turned off.
itest('TUN busy polling: packets found while polling; none once it is off; bad windows are refused', async () => {
  const ns = Netns.create();
  let ts: TunStack | null = null;
  try {
    assert.throws(() => startTunStack({ netns: ns.name, dev: 'skb0', addr: `${US}/24`, peer: KERNEL, busyPoll: 1.5 }), /busyPoll must be an integer 0\.\.1000000/);
    ts = startTunStack({ netns: ns.name, dev: 'skb0', addr: `${US}/24`, peer: KERNEL, seed: 12, busyPoll: 1000 });
    httpService(ts.stack, 80);
    const tun = ts.tun;
    for (let i = 0; i < 5; i++) {
      const r = await curlBody(ns, `http://${US}/bytes/200000`);
      assert.equal(r.size, 200000, r.stderr);
    }
    const on = tun.stats().rxBusyPolled;
    assert.ok(on > 0, `no packet found while busy polling: ${JSON.stringify(tun.stats())}`);
    tun.setBusyPoll(0); // ends the current window at once (the idle handle stops)
    const base = tun.stats().rxBusyPolled;
    for (let i = 0; i < 5; i++) assert.equal((await curlBody(ns, `http://${US}/bytes/200000`)).size, 200000);
    assert.equal(tun.stats().rxBusyPolled, base, 'packets counted as busy-polled with busy polling off');
    assert.throws(() => tun.setBusyPoll(-1), /busyPoll must be an integer 0\.\.1000000 \(µs\), got -1/);
    assert.throws(() => tun.setBusyPoll(1_000_001), RangeError);
  } finally {
    ts?.close();
    ns.delete();
  }
}, 60_000);
