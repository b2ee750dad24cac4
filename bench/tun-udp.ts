/** A valid IPv4/UDP packet (both checksums computed) for the raw TUN packet-rate benchmark. */
function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) acc += b[end - 1]! << 8;
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

export function buildUdp(src: string, dst: string, srcPort: number, dstPort: number, payload: number): Uint8Array {
  const len = 20 + 8 + payload;
  const p = new Uint8Array(len);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, len);
  p[8] = 64;
  p[9] = 17;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  v.setUint16(10, fold(sum16(p, 0, 20)));
  v.setUint16(20, srcPort);
  v.setUint16(22, dstPort);
  v.setUint16(24, 8 + payload);
  // pseudo-header: src, dst, zero+proto, UDP length
  let acc = sum16(p, 12, 20) + 17 + 8 + payload;
  acc = sum16(p, 20, len, acc);
  v.setUint16(26, fold(acc) || 0xffff);
  return p;
}
