/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
 * Linux keys its TCP Fast Open cookies with (LINUX: __tcp_fastopen_cookie_gen_cipher calls
 * siphash() over the SYN's addresses). 64-bit words are BigInts: a cookie is computed once per
 * SYN that asks for or presents one, never per data segment.
 */

const MASK = (1n << 64n) - 1n;

const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** A 128-bit SipHash key as two 64-bit words (Linux's siphash_key_t: key[0], key[1]). */
export interface SipKey {
  k0: bigint;
  k1: bigint;
}

/** The key from 16 bytes, read as two little-endian 64-bit words (the paper's k0, k1). */
export function sipKeyFromBytes(b: Uint8Array): SipKey {
  if (!(b instanceof Uint8Array) || b.length !== 16) throw new TypeError('sipKeyFromBytes: key must be 16 bytes');
  return { k0: readLe64(b, 0), k1: readLe64(b, 8) };
}

function readLe64(b: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
}

/** SipHash-2-4 of `msg` under `key`: the 64-bit result (the paper's §2 with c = 2, d = 4). */
export function sipHash24(key: SipKey, msg: Uint8Array): bigint {
  let v0 = key.k0 ^ 0x736f6d6570736575n;
  let v1 = key.k1 ^ 0x646f72616e646f6dn;
  let v2 = key.k0 ^ 0x6c7967656e657261n;
  let v3 = key.k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & MASK; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & MASK; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const len = msg.length;
  const end = len - (len % 8);
  for (let i = 0; i < end; i += 8) {
    const m = readLe64(msg, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  // The last word: the remaining bytes, little-endian, with the length mod 256 in the top byte.
  let last = BigInt(len & 0xff) << 56n;
  for (let i = 0; i < len - end; i++) last |= BigInt(msg[end + i]!) << BigInt(8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

/** The 64-bit result as 8 bytes, little-endian (LINUX: cpu_to_le64(siphash(...))). */
export function le64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
