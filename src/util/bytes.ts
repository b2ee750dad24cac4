/**
 * dst[dstOff, +n) = src[srcOff, +n). Short copies byte by byte (a subarray view for `set` would
 * cost more than the copy), long ones with `set` (memcpy), whole arrays without a view.
 */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, n: number): void {
  if (n <= 32) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]!;
  } else if (srcOff === 0 && n === src.length) dst.set(src, dstOff);
  else dst.set(src.subarray(srcOff, srcOff + n), dstOff);
}
