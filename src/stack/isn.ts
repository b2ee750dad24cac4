import { parseAddr, parseAddrInto } from '../wire/addr.js';
import type { Instant } from '../time.js';

/**
 * HalfSipHash-2-4 (Aumasson & Bernstein), 32-bit output: a keyed hash for RFC 6528 ISNs, SYN
 * cookies and timestamp offsets that needs no 64-bit arithmetic and no crypto module (so the
 * core runs in a browser too).
 */
export function halfSipHash(key: Uint32Array, data: Uint8Array): number {
  let v0 = key[0]! ^ 0;
  let v1 = key[1]! ^ 0;
  let v2 = 0x6c796765 ^ key[0]!;
  let v3 = 0x74656462 ^ key[1]!;
  const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b));
  const round = (): void => {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5); v1 ^= v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13); v1 ^= v2; v2 = rotl(v2, 16);
  };
  const len = data.length;
  const end = len - (len % 4);
  for (let i = 0; i < end; i += 4) {
    const m = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    v3 ^= m; round(); round(); v0 ^= m;
  }
  let b = len << 24;
  for (let i = len % 4; i > 0; i--) b |= data[end + i - 1]! << (8 * (i - 1));
  v3 ^= b; round(); round(); v0 ^= b;
  v2 ^= 0xff;
  round(); round(); round(); round();
  return (v1 ^ v3) >>> 0;
}

const PORT_DATA4 = new Uint8Array(10);
const PORT_DATA6 = new Uint8Array(34);

/** Bytes of a connection's 4-tuple, the input of every keyed hash below. */
export function tupleBytes(localAddr: string, localPort: number, remoteAddr: string, remotePort: number, extra = 0): Uint8Array {
  const la = parseAddr(localAddr) ?? new Uint8Array(4);
  const ra = parseAddr(remoteAddr) ?? new Uint8Array(4);
  const out = new Uint8Array(la.length + ra.length + 8);
  out.set(la, 0);
  out.set(ra, la.length);
  const p = la.length + ra.length;
  out[p] = localPort >> 8; out[p + 1] = localPort & 0xff;
  out[p + 2] = remotePort >> 8; out[p + 3] = remotePort & 0xff;
  out[p + 4] = extra >>> 24; out[p + 5] = (extra >>> 16) & 0xff; out[p + 6] = (extra >>> 8) & 0xff; out[p + 7] = extra & 0xff;
  return out;
}

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
    return halfSipHash(this.key, tupleBytes(localAddr, 0, remoteAddr, 0, 0x7473)) >>> 0;
  }

  /**
   * LINUX secure_ipv4_port_ephemeral: keyed hash of (local address, remote address, remote
   * port), the start of the ephemeral port search for that destination. No allocation.
   */
  portOffset(localAddr: string, remoteAddr: string, remotePort: number): number {
    const v6 = localAddr.includes(':') || remoteAddr.includes(':');
    const data = v6 ? PORT_DATA6 : PORT_DATA4;
    const w = v6 ? 16 : 4;
    data.fill(0);
    parseAddrInto(localAddr, data, 0);
    parseAddrInto(remoteAddr, data, w);
    data[2 * w] = remotePort >> 8;
    data[2 * w + 1] = remotePort & 0xff;
    return halfSipHash(this.key, data);
  }

  /** Keyed hash for SYN cookies. */
  cookieHash(localAddr: string, localPort: number, remoteAddr: string, remotePort: number, slot: number): number {
    return halfSipHash(this.key, tupleBytes(localAddr, localPort, remoteAddr, remotePort, slot));
  }
}
