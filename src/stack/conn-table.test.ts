import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../tcp/connection.js';
import { memoryPair } from '../link/memory.js';
import { addrKeyOfText } from '../wire/addr.js';
import { ConnTable, tupleHash } from './conn-table.js';
import { Stack } from './stack.js';

const fake = (la: string, lp: number, ra: string, rp: number): Connection =>
  ({ localAddr: la, localPort: lp, remoteAddr: ra, remotePort: rp }) as unknown as Connection;

test('ConnTable: get/find/set/delete/values over many tuples, IPv4 and IPv6', () => {
  const t = new ConnTable();
  const all: Connection[] = [];
  for (let i = 0; i < 5000; i++) {
    const c = i % 2 === 0 ? fake('10.0.0.1', 1000 + (i % 7), `10.0.${i >> 8}.${i & 255}`, 40000 + i) : fake('fe80::1', 80, `fe80::${i.toString(16)}`, 50000 + (i % 3));
    t.set(c);
    all.push(c);
  }
  assert.equal(t.size, 5000);
  for (const c of all) {
    assert.equal(t.get(c.localAddr, addrKeyOfText(c.localAddr), c.localPort, c.remoteAddr, addrKeyOfText(c.remoteAddr), c.remotePort), c);
    assert.equal(t.find(c.localAddr, c.localPort, c.remoteAddr, c.remotePort), c);
  }
  assert.equal(t.find('10.0.0.1', 1000, '10.0.0.0', 1), undefined);
  // replacing a tuple keeps the size; deleting a stale entry does nothing
  const again = fake(all[0]!.localAddr, all[0]!.localPort, all[0]!.remoteAddr, all[0]!.remotePort);
  t.set(again);
  assert.equal(t.size, 5000);
  assert.equal(t.delete(all[0]!), false);
  assert.equal(t.delete(again), true);
  for (let i = 1; i < 2500; i++) assert.equal(t.delete(all[i]!), true);
  assert.equal(t.size, 2500);
  assert.deepEqual(new Set(t.values()), new Set(all.slice(2500)));
});

test('ConnTable: tuples sharing a hash live side by side', () => {
  const t = new ConnTable();
  // find two tuples with the same 30-bit hash by brute force (birthday bound: ~2^15 tries)
  const seen = new Map<number, number>();
  let pair: [Connection, Connection] | null = null;
  const lk = addrKeyOfText('10.0.0.1');
  const text = (p: number): string => `10.${(p >>> 16) & 255}.${(p >>> 8) & 255}.${p & 255}`;
  for (let p = 0; pair === null && p < 1 << 22; p++) {
    const h = tupleHash(lk, 80, 0x0a000000 + p, 40000);
    const o = seen.get(h);
    if (o !== undefined) pair = [fake('10.0.0.1', 80, text(o), 40000), fake('10.0.0.1', 80, text(p), 40000)];
    else seen.set(h, p);
  }
  assert.ok(pair !== null);
  const [x, y] = pair;
  t.set(x);
  t.set(y);
  assert.equal(t.size, 2);
  assert.equal(t.find(x.localAddr, x.localPort, x.remoteAddr, x.remotePort), x);
  assert.equal(t.find(y.localAddr, y.localPort, y.remoteAddr, y.remotePort), y);
  assert.deepEqual([...t.values()].length, 2);
  assert.equal(t.delete(x), true);
  assert.equal(t.find(x.localAddr, x.localPort, x.remoteAddr, x.remotePort), undefined);
  assert.equal(t.find(y.localAddr, y.localPort, y.remoteAddr, y.remotePort), y);
});


test('ephemeral ports: 20,000 connections to one destination are allocated fast, unique, even ports first', () => {
  const wire = memoryPair();
  const a = new Stack({ addresses: ['10.0.0.1'], clock: () => 0, seed: 3 });
  a.attach(wire.a); // nobody answers: every connection stays in SYN_SENT, holding its port
  const t0 = performance.now();
  const ports = new Set<number>();
  for (let i = 0; i < 20_000; i++) {
    const s = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
    assert.ok(s.localPort >= 32768 && s.localPort <= 60999);
    ports.add(s.localPort);
    if (i < 14_000) assert.equal(s.localPort % 2, 0, 'even ports first');
    if (i % 1000 === 0) wire.pump();
  }
  assert.equal(ports.size, 20_000);
  assert.ok(performance.now() - t0 < 10_000, `took ${performance.now() - t0} ms`);
});
