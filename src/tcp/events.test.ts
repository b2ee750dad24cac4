import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from './connection.js';
import { EV, stateEvent, type ConnEvent } from './events.js';

function conn(): Connection {
  return new Connection({ localAddr: '10.0.0.1', localPort: 1000, remoteAddr: '10.0.0.2', remotePort: 80, iss: 1, linkMss: 1460, ipv6: false, tsOffset: 0 });
}

test('the event queue keeps order past its four in-TCB slots, and drains to empty', () => {
  const c = conn();
  const sent: ConnEvent[] = [];
  // 11 events in one burst: four fill the ring, seven wait in the overflow array.
  for (let i = 0; i < 11; i++) {
    const ev: ConnEvent = i % 3 === 0 ? EV.readable : { type: 'linger', acked: i % 2 === 0 };
    sent.push(ev);
    c.emit(ev);
  }
  const got: ConnEvent[] = [];
  // Interleave: take three, add two more, take the rest.
  for (let i = 0; i < 3; i++) got.push(c.pollEvent()!);
  for (const ev of [EV.writable, EV.end]) {
    sent.push(ev);
    c.emit(ev);
  }
  for (let ev = c.pollEvent(); ev !== undefined; ev = c.pollEvent()) got.push(ev);
  assert.equal(got.length, sent.length);
  for (let i = 0; i < sent.length; i++) assert.equal(got[i], sent[i], `event ${i}`);
  assert.equal(c.hasEvents, false);
  assert.equal(c.pollEvent(), undefined);
  // And it works again after draining (head wrapped around).
  c.emit(EV.closed);
  assert.equal(c.hasEvents, true);
  assert.equal(c.pollEvent(), EV.closed);
});

test('state-change events are shared per (from, to, cause) and frozen', () => {
  const a = stateEvent('SYN_SENT', 'ESTABLISHED', 'rcv SYN,ACK: snd ACK');
  assert.equal(stateEvent('SYN_SENT', 'ESTABLISHED', 'rcv SYN,ACK: snd ACK'), a);
  assert.notEqual(stateEvent('SYN_SENT', 'CLOSED', 'rcv SYN,ACK: snd ACK'), a);
  assert.deepEqual({ ...a }, { type: 'state', from: 'SYN_SENT', to: 'ESTABLISHED', cause: 'rcv SYN,ACK: snd ACK' });
  assert.ok(Object.isFrozen(a));
  // Ever-new causes still get correct (unshared) events once a pair's cache is full.
  for (let i = 0; i < 100; i++) {
    const ev = stateEvent('LAST_ACK', 'CLOSED', `cause ${i}`);
    assert.equal(ev.type === 'state' && ev.cause, `cause ${i}`);
  }
});
