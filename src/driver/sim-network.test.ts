import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from './sim.js';
import { SimNetwork, parseAddress, type FrameEvent } from './sim-network.js';
import type { Link } from '../link/link.js';
import { ms } from '../time.js';

/** A minimal IPv4 packet: version/IHL, total length, destination at bytes 16..19 (RFC 791). */
function v4(dst: string, len = 40, tag = 0): Uint8Array {
  const f = new Uint8Array(len);
  f[0] = 0x45;
  f[2] = len >> 8;
  f[3] = len & 0xff;
  f.set(parseAddress(dst), 16);
  if (len > 20) f[20] = tag & 0xff;
  if (len > 21) f[21] = tag >> 8;
  return f;
}

/** A minimal IPv6 packet: version 6, destination at bytes 24..39 (RFC 8200). */
function v6(dst: string, len = 60): Uint8Array {
  const f = new Uint8Array(len);
  f[0] = 0x60;
  f.set(parseAddress(dst), 24);
  return f;
}

function collect(link: Link, sim: Simulator): { t: number; f: Uint8Array }[] {
  const got: { t: number; f: Uint8Array }[] = [];
  link.onReceive((f) => got.push({ t: sim.now, f: f.slice() }));
  return got;
}

const tagOf = (f: Uint8Array): number => f[20]! | (f[21]! << 8);

function setup(defaults = {}) {
  const sim = new Simulator({ seed: 7 });
  const net = new SimNetwork(sim, defaults);
  const a = net.attach('a', ['10.0.0.1', 'fd00::1']);
  const b = net.attach('b', ['10.0.0.2', 'fd00::2']);
  const c = net.attach('c', ['10.0.0.3', '2001:db8::10.0.0.3']);
  const events: FrameEvent[] = [];
  net.onFrame((ev) => events.push(ev));
  return { sim, net, a, b, c, events, ga: collect(a, sim), gb: collect(b, sim), gc: collect(c, sim) };
}

test('parseAddress handles dotted quads, :: compression and a v4 tail', () => {
  assert.deepEqual([...parseAddress('192.168.1.254')], [192, 168, 1, 254]);
  assert.equal(Buffer.from(parseAddress('fd00::1')).toString('hex'), 'fd000000000000000000000000000001');
  assert.equal(Buffer.from(parseAddress('::')).toString('hex'), '0'.repeat(32));
  assert.equal(Buffer.from(parseAddress('::ffff:1.2.3.4')).toString('hex'), '00000000000000000000ffff01020304');
  for (const bad of ['1.2.3', '1.2.3.256', 'fd00::1::2', '1:2:3:4:5:6:7:8:9', 'g::1'])
    assert.throws(() => parseAddress(bad), TypeError, bad);
});

test('routes by IPv4 and IPv6 destination with the default 0.5 ms delay', () => {
  const { sim, a, b, gb, gc, ga, events } = setup();
  a.send(v4('10.0.0.2'));
  a.send(v6('fd00::2'));
  a.send(v6('2001:db8::a00:3'));
  b.send(v4('10.0.0.1'));
  sim.run();
  assert.equal(gb.length, 2);
  assert.equal(gb[0]!.f[0]! >> 4, 4);
  assert.equal(gb[1]!.f[0]! >> 4, 6);
  assert.equal(gc.length, 1);
  assert.equal(ga.length, 1);
  for (const g of [...ga, ...gb, ...gc]) assert.equal(g.t, 500);
  assert.deepEqual(events.map((e) => e.to), ['b', 'b', 'c', 'a']);
  assert.ok(events.every((e) => !e.dropped && e.deliverAt === 500));
});

test('a frame for an unknown address is dropped no-route; a non-IP frame malformed', () => {
  const { sim, a, events, gb } = setup();
  a.send(v4('10.9.9.9'));
  a.send(v6('fd00::99'));
  a.send(new Uint8Array([0x45, 0, 0]));
  sim.run();
  assert.equal(gb.length, 0);
  assert.deepEqual(events.map((e) => [e.to, e.dropped, e.reason]), [
    [null, true, 'no-route'],
    [null, true, 'no-route'],
    [null, true, 'malformed'],
  ]);
});

test('loss rate is p within 4 binomial standard deviations over 10,000 frames', () => {
  const p = 0.1;
  const n = 10_000;
  const { sim, a, gb, events } = setup({ loss: p });
  for (let i = 0; i < n; i++) a.send(v4('10.0.0.2'));
  sim.run();
  const lost = events.filter((e) => e.reason === 'loss').length;
  const sd = Math.sqrt(n * p * (1 - p)); // 30
  assert.ok(Math.abs(lost - n * p) < 4 * sd, `lost ${lost}`);
  assert.equal(gb.length, n - lost);
});

test('delay and jitter bounds: delay <= latency <= delay + jitter, and jitter varies', () => {
  const { sim, net, a, gb } = setup();
  net.setPath('a', 'b', { delay: ms(10), jitter: ms(2) });
  for (let i = 0; i < 1000; i++) a.send(v4('10.0.0.2'));
  sim.run();
  const lat = gb.map((g) => g.t);
  assert.ok(Math.min(...lat) >= ms(10));
  assert.ok(Math.max(...lat) <= ms(12));
  assert.ok(Math.max(...lat) - Math.min(...lat) > ms(1.5), 'jitter spreads arrivals');
  assert.equal(net.path('b', 'a').delay, 500, 'setPath sets one direction only');
});

test('reorder makes later frames overtake earlier ones', () => {
  const { sim, net, a, gb, events } = setup();
  net.setPath('a', 'b', { delay: ms(5), reorder: 0.2 });
  for (let i = 0; i < 200; i++) sim.schedule(i * 100, () => a.send(v4('10.0.0.2', 40, i)));
  sim.run();
  assert.equal(gb.length, 200);
  const order = gb.map((g) => tagOf(g.f));
  let inversions = 0;
  for (let i = 1; i < order.length; i++) if (order[i]! < order[i - 1]!) inversions++;
  assert.ok(inversions > 10, `inversions ${inversions}`);
  assert.ok(events.some((e) => e.deliverAt! > e.t + ms(5)));
});

test('duplicate delivers the frame twice, the copy slightly later', () => {
  const { sim, net, a, gb, events } = setup();
  net.setLink('a', 'b', { duplicate: 1 });
  a.send(v4('10.0.0.2', 40, 77));
  sim.run();
  assert.equal(gb.length, 2);
  assert.deepEqual(gb[0]!.f, gb[1]!.f);
  assert.ok(gb[1]!.t > gb[0]!.t && gb[1]!.t <= gb[0]!.t + 100);
  assert.deepEqual(events.map((e) => !!e.duplicate), [false, true]);
});

test('corrupt changes exactly one bit of the delivered copy, not the sent frame', () => {
  const { sim, net, a, gb, events } = setup();
  net.setPath('a', 'b', { corrupt: 1 });
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    const f = v4('10.0.0.2', 60, i);
    sent.push(f.slice());
    a.send(f);
  }
  // Corrupting the address bytes may misroute in reality; here the route is decided first.
  sim.run();
  assert.equal(gb.length, 50);
  for (let i = 0; i < 50; i++) {
    let bits = 0;
    for (let j = 0; j < 60; j++) {
      let x = sent[i]![j]! ^ gb[i]!.f[j]!;
      while (x) {
        bits += x & 1;
        x >>= 1;
      }
    }
    assert.equal(bits, 1, `frame ${i}`);
  }
  assert.ok(events.every((e) => e.reason === 'corrupt-delivered' && !e.dropped));
});

test('bandwidth spreads a burst: 10 x 1500 B at 12 Mbit/s, last arrives >= 10 ms later', () => {
  const { sim, net, a, gb } = setup();
  net.setPath('a', 'b', { bandwidthBps: 12_000_000, delay: 0 });
  for (let i = 0; i < 10; i++) a.send(v4('10.0.0.2', 1500, i));
  sim.run();
  assert.equal(gb.length, 10);
  assert.deepEqual(gb.map((g) => g.t), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(ms));
  assert.deepEqual(gb.map((g) => tagOf(g.f)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('frames larger than the path MTU are dropped too-big', () => {
  const { sim, net, a, gb, events } = setup();
  net.setPath('a', 'b', { mtu: 1280 });
  a.send(v4('10.0.0.2', 1280));
  a.send(v4('10.0.0.2', 1281));
  a.send(v4('10.0.0.3', 1281)); // another path: default mtu 1500
  a.send(v4('10.0.0.3', 1501));
  sim.run();
  assert.equal(gb.length, 1);
  assert.deepEqual(events.map((e) => e.reason), [undefined, 'too-big', undefined, 'too-big']);
});

test('dropNext drops exactly the next matching frames', () => {
  const { sim, net, a, gb, events } = setup();
  net.dropNext((f, from, to) => from === 'a' && to === 'b' && tagOf(f) % 2 === 1, 2);
  for (let i = 0; i < 6; i++) a.send(v4('10.0.0.2', 40, i));
  sim.run();
  assert.deepEqual(gb.map((g) => tagOf(g.f)), [0, 2, 4, 5]);
  assert.equal(events.filter((e) => e.reason === 'scripted').length, 2);
});

test('detach: frames to the host are dropped no-route, in-flight frames vanish', () => {
  const { sim, net, a, b, gb, ga, events } = setup();
  a.send(v4('10.0.0.2', 40, 1)); // in flight when b detaches
  sim.runFor(100);
  net.detach('b');
  a.send(v4('10.0.0.2', 40, 2));
  b.send(v4('10.0.0.1'));
  sim.run();
  assert.equal(gb.length, 0);
  assert.equal(ga.length, 0);
  assert.deepEqual(events.slice(1).map((e) => [e.from, e.to, e.reason]), [
    ['a', 'b', 'no-route'],
    ['b', 'a', 'no-route'],
  ]);
  // The host may come back with a fresh link.
  const b2 = net.attach('b', ['10.0.0.2']);
  const g2 = collect(b2, sim);
  a.send(v4('10.0.0.2'));
  sim.run();
  assert.equal(g2.length, 1);
});

test('attach rejects duplicate hosts and addresses; setPath validates', () => {
  const { net } = setup();
  assert.throws(() => net.attach('a', ['10.0.0.50']), /already attached/);
  assert.throws(() => net.attach('d', ['10.0.0.1']), /already belongs to a/);
  assert.throws(() => net.setPath('a', 'b', { loss: 1.5 }), /loss/);
  assert.throws(() => net.setPath('a', 'b', { delay: -1 }), /delay/);
});
