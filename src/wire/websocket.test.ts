/**
 * WebSocket framing (RFC 6455 §5): the RFC's own example frames, round trips through any split
 * of the stream with fragments and interleaved control frames (property; fast-check prints the
 * seed on failure, replay with { seed, path }), and each protocol error with its close code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeWsFrame, WsClose, WsFrameDecoder, WsOpcode, wsCloseBody } from './websocket.js';

const server = (): WsFrameDecoder => new WsFrameDecoder({ expectMasked: true, maxMessage: 1 << 20 });
const client = (): WsFrameDecoder => new WsFrameDecoder({ expectMasked: false, maxMessage: 1 << 20 });
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

test('RFC 6455 §5.7 examples decode', () => {
  // A single-frame unmasked text message "Hello".
  assert.deepEqual(client().push(bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f)).messages, [{ opcode: 1, data: text('Hello') }]);
  // A single-frame masked text message "Hello".
  const masked = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
  assert.deepEqual(server().push(masked).messages, [{ opcode: 1, data: text('Hello') }]);
  assert.deepEqual(encodeWsFrame(WsOpcode.TEXT, text('Hello'), bytes(0x37, 0xfa, 0x21, 0x3d)), masked);
  // A fragmented unmasked text message: "Hel" then "lo".
  assert.deepEqual(client().push(bytes(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f)).messages, [{ opcode: 1, data: text('Hello') }]);
  // Unmasked ping "Hello", and 256 / 65536 bytes of binary (16- and 64-bit lengths).
  assert.deepEqual(client().push(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f)).messages, [{ opcode: 9, data: text('Hello') }]);
  assert.deepEqual([...encodeWsFrame(WsOpcode.BINARY, new Uint8Array(256)).subarray(0, 4)], [0x82, 0x7e, 0x01, 0x00]);
  assert.deepEqual([...encodeWsFrame(WsOpcode.BINARY, new Uint8Array(65536)).subarray(0, 10)], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
});

/** A message split into `parts` fragments, with a ping inserted after the first, masked. */
function fragmented(opcode: number, data: Uint8Array, parts: number, key: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const step = Math.max(1, Math.ceil(data.length / parts));
  for (let at = 0, i = 0; at < data.length || i === 0; at += step, i++) {
    const piece = data.subarray(at, at + step);
    const f = encodeWsFrame(i === 0 ? opcode : WsOpcode.CONTINUATION, piece, key);
    if (at + step < data.length) f[0]! &= 0x7f; // FIN clear: more fragments follow
    out.push(f);
    if (i === 0) out.push(encodeWsFrame(WsOpcode.PING, bytes(1, 2, 3), key));
  }
  return out;
}

test('property: messages survive fragmentation, interleaved pings and any split of the stream', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 70000 }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 5 }),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 10 }),
      (msgs, key, cuts) => {
        const want: { opcode: number; data: number[] }[] = [];
        const frames: Uint8Array[] = [];
        for (const [isText, raw, parts] of msgs) {
          const data = isText ? text(Buffer.from(raw).toString('base64')) : raw;
          const fs = fragmented(isText ? WsOpcode.TEXT : WsOpcode.BINARY, data, parts, key);
          frames.push(...fs);
          const ping = { opcode: WsOpcode.PING, data: [1, 2, 3] };
          const msg = { opcode: isText ? 1 : 2, data: [...data] };
          // The ping follows the first fragment: it arrives first unless that fragment was the whole message.
          want.push(...(fs.length > 2 ? [ping, msg] : [msg, ping]));
        }
        const stream = Buffer.concat(frames);
        const d = server();
        const got: { opcode: number; data: number[] }[] = [];
        for (let off = 0, i = 0; off < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          const r = d.push(stream.subarray(off, off + n));
          assert.equal(r.error, null);
          for (const m of r.messages) got.push({ opcode: m.opcode, data: [...m.data] });
          off += n;
        }
        assert.deepEqual(got, want);
      },
    ),
    { numRuns: 60 },
  );
});

test('protocol errors carry the close code of RFC 6455 §7.4.1', () => {
  const key = bytes(1, 2, 3, 4);
  const cases: [string, Uint8Array, number, WsFrameDecoder?][] = [
    ['unmasked client frame', encodeWsFrame(WsOpcode.TEXT, text('x')), WsClose.PROTOCOL_ERROR],
    ['masked server frame', encodeWsFrame(WsOpcode.TEXT, text('x'), key), WsClose.PROTOCOL_ERROR, client()],
    ['RSV1 set', (() => { const f = encodeWsFrame(WsOpcode.TEXT, text('x'), key); f[0]! |= 0x40; return f; })(), WsClose.PROTOCOL_ERROR],
    ['reserved opcode 3', encodeWsFrame(3, text('x'), key), WsClose.PROTOCOL_ERROR],
    ['reserved control opcode 0xb', encodeWsFrame(0xb, text('x'), key), WsClose.PROTOCOL_ERROR],
    ['fragmented ping', (() => { const f = encodeWsFrame(WsOpcode.PING, text('x'), key); f[0]! &= 0x7f; return f; })(), WsClose.PROTOCOL_ERROR],
    ['continuation first', encodeWsFrame(WsOpcode.CONTINUATION, text('x'), key), WsClose.PROTOCOL_ERROR],
    ['text not UTF-8', encodeWsFrame(WsOpcode.TEXT, bytes(0xff, 0xfe), key), WsClose.INVALID_PAYLOAD],
    ['close with 1 octet', encodeWsFrame(WsOpcode.CLOSE, bytes(3), key), WsClose.PROTOCOL_ERROR],
    ['close code 1005', encodeWsFrame(WsOpcode.CLOSE, wsCloseBody(1005), key), WsClose.PROTOCOL_ERROR],
    ['message over the bound', encodeWsFrame(WsOpcode.BINARY, new Uint8Array(200), key), WsClose.TOO_BIG, new WsFrameDecoder({ expectMasked: true, maxMessage: 150 })],
  ];
  for (const [what, frame, code, dec] of cases) {
    const r = (dec ?? server()).push(frame);
    assert.equal(r.error?.code, code, what);
  }
  // A new data message inside a fragmented one.
  const d = server();
  const first = encodeWsFrame(WsOpcode.TEXT, text('a'), key);
  first[0]! &= 0x7f;
  assert.equal(d.push(Buffer.concat([first, encodeWsFrame(WsOpcode.TEXT, text('b'), key)])).error?.code, WsClose.PROTOCOL_ERROR);
  // After an error, nothing more is accepted.
  assert.equal(d.push(encodeWsFrame(WsOpcode.TEXT, text('c'), key)).error?.code, WsClose.PROTOCOL_ERROR);
  // A too-big length is refused from the header alone, before the payload arrives.
  const big = new WsFrameDecoder({ expectMasked: true, maxMessage: 1000 });
  assert.equal(big.push(bytes(0x82, 0xfe, 0xff, 0xff)).error?.code, WsClose.TOO_BIG);
  assert.throws(() => encodeWsFrame(WsOpcode.PING, new Uint8Array(126)), /at most 125/);
  assert.throws(() => new WsFrameDecoder({ expectMasked: true, maxMessage: 1 }), /maxMessage/);
});
