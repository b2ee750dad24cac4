/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
 * the data taken as big-endian 16-bit words.
 *
 * The accumulator is left unfolded: a JS number holds integers exactly up to 2^53, so 2^37 words
 * can be summed before folding. Chain calls with `acc` (every chunk but the last of even length)
 * and fold once with `finishChecksum`.
 */
import { simdAvailable, simdSum16 } from './checksum-simd.js';

/**
 * Add buf[off..off+len] to `acc` as big-endian 16-bit words. An odd final byte is padded with a
 * zero byte on the right (RFC 1071 §4.1). No allocation on the data path.
 *
 * The result is congruent (mod 0xffff, i.e. equal after `finishChecksum`) to the plain sum of the
 * words; it is the exact sum only for short or oddly aligned inputs. Long inputs whose start is
 * 2-byte aligned in memory are summed as 32-bit words through a Uint32Array over the whole
 * ArrayBuffer (cached for the last few buffers seen, so frames carved from a slab or arena share
 * it): 4 bytes per load instead of 1, about 2.5x faster than byte loads.
 */
export function sum16(buf: Uint8Array, off: number, len: number, acc = 0): number {
  // Headers and small segments first (most calls): one call to the byte loop.
  if (len < WIDE_MIN) return sumBytes(buf, off, len, acc);
  if (len >= SIMD_MIN && useSimd) return acc + simdSum16(buf, off, len);
  if (len >= WIDE_MIN && ((buf.byteOffset + off) & 1) === 0) return sumWide(buf, off, len, acc);
  return sumBytes(buf, off, len, acc);
}

/**
 * From this many bytes on, the WebAssembly SIMD loop (checksum-simd.ts) wins even with its copy
 * into the module's memory; below it the call and the copy cost more than they save.
 */
const SIMD_MIN = 128;
let useSimd = simdAvailable;

/**
 * Which loop sums long inputs: 'simd' (WebAssembly SIMD, the default where the host has it) or
 * 'js'. For benchmarks and tests that compare the two; returns the engine now in use.
 */
export function setChecksumEngine(engine: 'simd' | 'js'): 'simd' | 'js' {
  if (engine !== 'simd' && engine !== 'js') throw new TypeError(`engine must be 'simd' or 'js', got ${String(engine)}`);
  useSimd = engine === 'simd' && simdAvailable;
  return useSimd ? 'simd' : 'js';
}

/** Below this many bytes the byte loop wins (no view lookup, no fold). */
const WIDE_MIN = 64;
/** Words per chunk of the wide loop: the double accumulator stays below 2^52 (exact). */
const WIDE_CHUNK = 1 << 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Word views of the last few ArrayBuffers summed (frames of a link's pool share a few slabs). */
const VIEWS = 4;
const wideBuffers: (ArrayBufferLike | null)[] = [null, null, null, null];
const wideViews: Uint32Array<ArrayBufferLike>[] = [new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0)];
let wideNext = 0;

function wordsOf(ab: ArrayBufferLike, end: number): Uint32Array<ArrayBufferLike> {
  for (let i = 0; i < VIEWS; i++) {
    if (wideBuffers[i] === ab) {
      const w = wideViews[i]!;
      if (end <= w.length) return w;
      break;
    }
  }
  const w = new Uint32Array(ab, 0, ab.byteLength >>> 2);
  wideBuffers[wideNext] = ab;
  wideViews[wideNext] = w;
  wideNext = (wideNext + 1) % VIEWS;
  return w;
}

function sumWide(buf: Uint8Array, off: number, len: number, acc: number): number {
  let abs = buf.byteOffset + off;
  // Align to 4 bytes with one leading 16-bit word (the start is even, so at most one).
  if ((abs & 2) !== 0) {
    acc += (buf[off]! << 8) | buf[off + 1]!;
    off += 2;
    len -= 2;
    abs += 2;
  }
  let k = abs >>> 2;
  const end = k + (len >>> 2);
  const w = wordsOf(buf.buffer, end);
  while (k < end) {
    const chunkEnd = Math.min(end, k + WIDE_CHUNK);
    const unrollEnd = chunkEnd - ((chunkEnd - k) & 3);
    let s = 0;
    for (; k < unrollEnd; k += 4) s += w[k]! + w[k + 1]! + w[k + 2]! + w[k + 3]!;
    for (; k < chunkEnd; k++) s += w[k]!;
    // 2^16 ≡ 1 (mod 0xffff): fold the 32-bit-word sum to 16 bits (arithmetic, s may exceed 2^32).
    s = (s % 0x10000) + Math.floor(s / 0x10000);
    s = (s % 0x10000) + Math.floor(s / 0x10000);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    // Words were loaded in host order: on a little-endian host each 16-bit half is byte-swapped,
    // and so is their one's complement sum (RFC 1071 §2(B) byte-order independence).
    acc += LITTLE_ENDIAN ? ((s & 0xff) << 8) | (s >>> 8) : s;
  }
  const rest = len & 3;
  return rest === 0 ? acc : sumBytes(buf, off + len - rest, rest, acc);
}

function sumBytes(buf: Uint8Array, off: number, len: number, acc: number): number {
  const end = off + len;
  const evenEnd = end - (len & 1);
  let s = 0;
  let i = off;
  // Unrolled by 4 words (each step adds < 2^18); `s` is flushed into `acc` every 16 KiB so it
  // stays below 2^30, a small integer for V8, however long the buffer.
  while (i < evenEnd) {
    const chunkEnd = Math.min(evenEnd, i + 16384);
    const unrollEnd = chunkEnd - ((chunkEnd - i) & 7);
    for (; i < unrollEnd; i += 8) {
      s +=
        ((buf[i]! << 8) | buf[i + 1]!) +
        ((buf[i + 2]! << 8) | buf[i + 3]!) +
        ((buf[i + 4]! << 8) | buf[i + 5]!) +
        ((buf[i + 6]! << 8) | buf[i + 7]!);
    }
    for (; i < chunkEnd; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
    acc += s;
    s = 0;
  }
  if (len & 1) acc += buf[end - 1]! << 8;
  return acc;
}

/** Fold the carries of an accumulator into 16 bits and complement it (RFC 1071 §4.1). */
export function finishChecksum(acc: number): number {
  // The accumulator may exceed 2^32, so fold with arithmetic, not >>>.
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/**
 * Sum of the pseudo-header for addresses stored in `buf` at srcOff/dstOff (addrLen 4 or 16).
 * Lets the parser verify a checksum straight from the frame without slicing out the addresses.
 */
export function pseudoHeaderSumAt(
  buf: Uint8Array,
  srcOff: number,
  dstOff: number,
  addrLen: number,
  protocol: number,
  length: number,
): number {
  if (addrLen === 4) {
    // RFC 9293 §3.1: src, dst, zero, PTCL, TCP Length (16 bits: header plus data). Four words
    // summed in place: this runs for every segment received.
    return (
      ((buf[srcOff]! << 8) | buf[srcOff + 1]!) + ((buf[srcOff + 2]! << 8) | buf[srcOff + 3]!) +
      ((buf[dstOff]! << 8) | buf[dstOff + 1]!) + ((buf[dstOff + 2]! << 8) | buf[dstOff + 3]!) +
      (protocol & 0xff) + (length & 0xffff)
    );
  }
  let acc = sum16(buf, srcOff, addrLen, 0);
  acc = sum16(buf, dstOff, addrLen, acc);
  // RFC 8200 §8.1: src, dst, Upper-Layer Packet Length (32 bits), 3 zero bytes, Next Header.
  return acc + Math.floor(length / 0x10000) + (length & 0xffff) + (protocol & 0xff);
}

/**
 * Pseudo-header sum for TCP/UDP checksums: IPv4 (RFC 9293 §3.1) when the addresses are 4 bytes,
 * IPv6 (RFC 8200 §8.1) when they are 16. `length` is the upper-layer length (header + data).
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  if (src.length === 4) {
    return (
      ((src[0]! << 8) | src[1]!) + ((src[2]! << 8) | src[3]!) + ((dst[0]! << 8) | dst[1]!) + ((dst[2]! << 8) | dst[3]!) +
      (protocol & 0xff) + (length & 0xffff)
    );
  }
  let acc = sum16(src, 0, src.length, 0);
  acc = sum16(dst, 0, dst.length, acc);
  return acc + Math.floor(length / 0x10000) + (length & 0xffff) + (protocol & 0xff);
}
