import { parseAddrMemo } from '../wire/addr.js';
import type { Instant } from '../time.js';

/**
 * HalfSipHash-2-4 (Aumasson & Bernstein), 32-bit output: a keyed hash for RFC 6528 ISNs, SYN
 * cookies and timestamp offsets that needs no 64-bit arithmetic and no crypto module (so the
 * core runs in a browser too). No allocation: the state lives in one module-level array.
 */
export function halfSipHash(key: Uint32Array, data: Uint8Array): number {
  const v = V;
  v[0] = key[0]! ^ 0;
  v[1] = key[1]! ^ 0;
  v[2] = 0x6c796765 ^ key[0]!;
  v[3] = 0x74656462 ^ key[1]!;
  const len = data.length;
  const end = len - (len % 4);
  for (let i = 0; i < end; i += 4) {
    const m = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    v[3] ^= m;
    sipRound(v);
    sipRound(v);
    v[0] ^= m;
  }
  let b = len << 24;
  for (let i = len % 4; i > 0; i--) b |= data[end + i - 1]! << (8 * (i - 1));
  v[3] ^= b;
  sipRound(v);
  sipRound(v);
  v[0] ^= b;
  v[2] ^= 0xff;
  sipRound(v);
  sipRound(v);
  sipRound(v);
  sipRound(v);
  return (v[1]! ^ v[3]!) >>> 0;
}

const V = new Int32Array(4);

function sipRound(v: Int32Array): void {
  let v0 = v[0]!;
  let v1 = v[1]!;
  let v2 = v[2]!;
  let v3 = v[3]!;
  v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
  v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
  v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  v[0] = v0;
  v[1] = v1;
  v[2] = v2;
  v[3] = v3;
}

/**
 * Bytes of a connection's 4-tuple, the input of every keyed hash below: local address, remote
 * address, ports, `extra` (big-endian). Written into a module-level buffer of the exact length
 * (valid until the next call), so hashing a tuple allocates nothing.
 */
export function tupleBytes(localAddr: string, localPort: number, remoteAddr: string, remotePort: number, extra = 0): Uint8Array {
  const la = addrAt(localAddr, 0);
  const ra = addrAt(remoteAddr, 1);
  const out = TUPLE[(la === 16 ? 2 : 0) + (ra === 16 ? 1 : 0)]!;
  for (let i = 0; i < la; i++) out[i] = ADDR[i]!;
  for (let i = 0; i < ra; i++) out[la + i] = ADDR[16 + i]!;
  const p = la + ra;
  out[p] = localPort >> 8; out[p + 1] = localPort & 0xff;
  out[p + 2] = remotePort >> 8; out[p + 3] = remotePort & 0xff;
  out[p + 4] = extra >>> 24; out[p + 5] = (extra >>> 16) & 0xff; out[p + 6] = (extra >>> 8) & 0xff; out[p + 7] = extra & 0xff;
  return out;
}

/** The bytes of address `text` in ADDR at slot*16; their length (an invalid address counts as 0.0.0.0). */
function addrAt(text: string, slot: 0 | 1): 4 | 16 {
  const n = parseAddrMemo(text, ADDR, slot * 16);
  if (n !== 0) return n;
  ADDR.fill(0, slot * 16, slot * 16 + 4);
  return 4;
}

const ADDR = new Uint8Array(32);
const PORT_DATA4 = new Uint8Array(10);
const PORT_DATA6 = new Uint8Array(34);
/** Tuple buffers by family: v4/v4, v4/v6, v6/v4, v6/v6. */
const TUPLE = [new Uint8Array(16), new Uint8Array(28), new Uint8Array(28), new Uint8Array(40)];

/**
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a timer that
 * ticks every 4 microseconds, F a keyed hash. The secret comes from the stack's seeded PRNG, so
 * simulated runs are reproducible while ISNs stay unpredictable to anyone without the seed.
 */
export class IsnGenerator {
  constructor(private readonly key: Uint32Array) {}

  isn(now: Instant, localAddr: string, localPort: number, remoteAddr: string, remotePort: number): number {
    const f = halfSipHash(this.key, tupleBytes(localAddr, localPort, remoteAddr, remotePort));
    return (f + Math.floor(now / 4)) >>> 0;
  }

  /** LINUX: per-connection timestamp offset (secure_tcp_ts_off), a keyed hash of the addresses. */
  tsOffset(localAddr: string, remoteAddr: string): number {
    // A host opens connection after connection between the same two addresses: the last pair's
    // hash is kept (one keyed hash less per connection).
    if (localAddr !== this.tsLocal || remoteAddr !== this.tsRemote) {
      this.tsLast = halfSipHash(this.key, tupleBytes(localAddr, 0, remoteAddr, 0, 0x7473)) >>> 0;
      this.tsLocal = localAddr;
      this.tsRemote = remoteAddr;
    }
    return this.tsLast;
  }
  private tsLocal = '';
  private tsRemote = '';
  private tsLast = 0;

  /**
   * LINUX secure_ipv4_port_ephemeral: keyed hash of (local address, remote address, remote
   * port), the start of the ephemeral port search for that destination. No allocation.
   */
  portOffset(localAddr: string, remoteAddr: string, remotePort: number): number {
    if (localAddr === this.portLocal && remoteAddr === this.portRemote && remotePort === this.portRemotePort) return this.portLast;
    this.portLocal = localAddr;
    this.portRemote = remoteAddr;
    this.portRemotePort = remotePort;
    return (this.portLast = this.portHash(localAddr, remoteAddr, remotePort));
  }
  private portLocal = '';
  private portRemote = '';
  private portRemotePort = -1;
  private portLast = 0;

  private portHash(localAddr: string, remoteAddr: string, remotePort: number): number {
    const la = addrAt(localAddr, 0);
    const ra = addrAt(remoteAddr, 1);
    const v6 = la === 16 || ra === 16;
    const data = v6 ? PORT_DATA6 : PORT_DATA4;
    const w = v6 ? 16 : 4;
    data.fill(0);
    for (let i = 0; i < la; i++) data[i] = ADDR[i]!;
    for (let i = 0; i < ra; i++) data[w + i] = ADDR[16 + i]!;
    data[2 * w] = remotePort >> 8;
    data[2 * w + 1] = remotePort & 0xff;
    return halfSipHash(this.key, data);
  }

  /** Keyed hash for SYN cookies. */
  cookieHash(localAddr: string, localPort: number, remoteAddr: string, remotePort: number, slot: number): number {
    return halfSipHash(this.key, tupleBytes(localAddr, localPort, remoteAddr, remotePort, slot));
  }
}
