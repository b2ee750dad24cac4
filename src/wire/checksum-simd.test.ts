import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { finishChecksum, setChecksumEngine, sum16 } from './checksum.js';
import { SIMD_STAGE_BYTES, simdAvailable, simdModuleBytes, simdSlab, simdSum16 } from './checksum-simd.js';
import { memoryPair } from '../link/memory.js';

const seed = Number(process.env.FC_SEED ?? Date.now() % 1e9);

test('the embedded module is checksum-simd.wat assembled', async (t) => {
  let wabt: typeof import('wabt');
  try {
    wabt = (await import('wabt')).default as unknown as typeof import('wabt');
  } catch {
    t.skip('the wabt dev tool is not installed (npm install)');
    return;
  }
  const src = readFileSync(fileURLToPath(new URL('../../../src/wire/checksum-simd.wat', import.meta.url)), 'utf8');
  const mod = (await wabt()).parseWat('checksum-simd.wat', src, { simd: true });
  const { buffer } = mod.toBinary({});
  assert.deepEqual(Buffer.from(simdModuleBytes()), Buffer.from(buffer));
});

test('Node 20 on this machine runs the SIMD loop (the host has WebAssembly SIMD)', () => {
  assert.equal(simdAvailable, true);
  assert.equal(setChecksumEngine('simd'), 'simd');
  assert.throws(() => setChecksumEngine('fast' as 'js'), /engine must be 'simd' or 'js'/);
});

test('SIMD and JS loops agree for any buffer, offset and length (incl. past the stage size)', () => {
  console.log(`fast-check seed ${seed}`);
  const big = new Uint8Array(SIMD_STAGE_BYTES * 2 + 1001);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  try {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: big.length }), fc.integer({ min: 0, max: big.length }), fc.boolean(), (a, b, view) => {
        const off = Math.min(a, b);
        const len = Math.max(a, b) - off;
        // a frame-like view (the whole-view staging path) or the big buffer itself (the subarray path)
        const buf = view ? big.subarray(off, off + len + (a & 63)) : big;
        const o = view ? 0 : off;
        setChecksumEngine('js');
        const js = finishChecksum(sum16(buf, o, len, 7));
        setChecksumEngine('simd');
        assert.equal(finishChecksum(sum16(buf, o, len, 7)), js);
        assert.equal(finishChecksum(simdSum16(buf, o, len) + 7), js);
      }),
      { seed, numRuns: 400 },
    );
  } finally {
    setChecksumEngine('simd');
  }
});

test('all-ones and all-zero words fold as one\'s complement sums do', () => {
  const ones = new Uint8Array(70_000).fill(0xff);
  assert.equal(finishChecksum(simdSum16(ones, 0, ones.length)), 0);
  const zeros = new Uint8Array(3000);
  assert.equal(finishChecksum(simdSum16(zeros, 0, zeros.length)), 0xffff);
  const odd = new Uint8Array(301).fill(0);
  odd[300] = 0xab; // the odd last byte is the high byte of a padded word (RFC 1071 §4.1)
  assert.equal(finishChecksum(simdSum16(odd, 0, 301)), ~0xab00 & 0xffff);
});

test('frames carved from the arena are summed in place, and agree with the JS loop', () => {
  const slab = simdSlab(4096);
  assert.ok(slab !== null, 'the arena has room');
  for (let i = 0; i < slab.length; i++) slab[i] = (i * 2654435761) >>> 24;
  for (const [off, len] of [[0, 4096], [14, 1500], [1, 999], [100, 129], [2000, 2096]] as const) {
    const frame = slab.subarray(off, off + len);
    setChecksumEngine('js');
    const js = finishChecksum(sum16(frame, 0, len));
    setChecksumEngine('simd');
    assert.equal(finishChecksum(sum16(frame, 0, len)), js, `off ${off} len ${len}`);
  }
  // memoryPair's frame pool carves its slabs from the same arena (no staging copy per frame).
  const frame = memoryPair().a.allocFrame!(1514);
  assert.equal(frame.buffer, slab.buffer);
});
