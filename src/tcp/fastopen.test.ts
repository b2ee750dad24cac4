import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieCache, FastOpenContext, ListenerFastOpen, TFO, keyText, makeCookie, parseKeyText, tryFastOpen } from './fastopen.js';
import { newTcpRepr, SYN } from '../wire/tcp-repr.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KEY = parseKeyText('a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4')!;

test('cookies are Linux\'s: SipHash of client ‖ server address under tcp_fastopen_key (upstream run_all.py TFO_COOKIE)', () => {
  assert.equal(hex(makeCookie(KEY[0]!, '192.0.2.1', '192.168.0.1')), '3021b9d889017eeb');
  assert.equal(hex(makeCookie(KEY[0]!, 'fd3d:fa7b:d17d::1', 'fd3d:a0b:17d6::1')), 'c1d1e9742a47a9bc');
  assert.equal(keyText(KEY[0]!), 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4');
  assert.equal(parseKeyText('a1a1a1a1-b2b2b2b2-c3c3c3c3'), null);
  assert.equal(parseKeyText('k1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4'), null);
  assert.equal(parseKeyText('1-2-3-4,5-6-7-8')!.length, 2);
});

function syn(cookieLen: number, cookie: Uint8Array | null, data: number) {
  const s = newTcpRepr();
  s.flags = SYN;
  s.fastOpen = cookieLen;
  if (cookie !== null) s.fastOpenCookie.set(cookie);
  s.payload = new Uint8Array(data);
  return s;
}

test('tryFastOpen decides as tcp_try_fastopen: request, valid, invalid, no cookie, queue full', () => {
  const ctx = new FastOpenContext(new Uint8Array(16));
  ctx.keys = KEY;
  ctx.sysctl = TFO.SERVER_ENABLE;
  const lfo = new ListenerFastOpen();
  lfo.maxQlen = 1;
  const good = makeCookie(KEY[0]!, '192.0.2.1', '192.168.0.1');
  const req = tryFastOpen(ctx, lfo, syn(0, null, 0), '192.0.2.1', '192.168.0.1');
  assert.deepEqual([req.child, hex(req.synAckCookie.bytes), req.counters], [false, hex(good), ['TCPFastOpenCookieReqd']]);
  const ok = tryFastOpen(ctx, lfo, syn(8, good, 10), '192.0.2.1', '192.168.0.1');
  assert.deepEqual([ok.child, ok.synAckCookie.len, ok.counters], [true, -1, ['TCPFastOpenPassive']]);
  const bad = tryFastOpen(ctx, lfo, syn(8, new Uint8Array(8), 10), '192.0.2.1', '192.168.0.1');
  assert.deepEqual([bad.child, hex(bad.synAckCookie.bytes), bad.counters], [false, hex(good), ['TCPFastOpenPassiveFail']]);
  const none = tryFastOpen(ctx, lfo, syn(-1, null, 10), '192.0.2.1', '192.168.0.1');
  assert.deepEqual([none.child, none.synAckCookie.len], [false, -1]);
  lfo.pending.add({ state: 'SYN_RECEIVED' });
  const full = tryFastOpen(ctx, lfo, syn(8, good, 10), '192.0.2.1', '192.168.0.1');
  assert.deepEqual([full.child, full.counters], [false, ['TCPFastOpenListenOverflow']]);
  ctx.sysctl = TFO.CLIENT_ENABLE;
  assert.equal(tryFastOpen(ctx, new ListenerFastOpen(), syn(8, good, 10), '192.0.2.1', '192.168.0.1').child, false);
});

test('the client cookie cache is bounded: the oldest destination goes first', () => {
  const c = new CookieCache(2);
  c.entry('a').mss = 1;
  c.entry('b').mss = 2;
  c.entry('c').mss = 3;
  assert.equal(c.size, 2);
  assert.equal(c.get('a'), undefined);
  assert.equal(c.get('c')!.mss, 3);
  assert.throws(() => new CookieCache(0), /max must be a positive integer/);
});
