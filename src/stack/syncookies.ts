import type { Instant } from '../time.js';
import type { IsnGenerator } from './isn.js';

/**
 * SYN cookies (RFC 4987 §3.6, after Linux's cookie_v4_init_sequence): when the SYN queue is
 * full the SYN-ACK's ISN encodes what the listener would have remembered, so no state is kept.
 * Layout: 5 bits of a 64-second time slot, 2 bits of MSS-table index, 25 bits of keyed hash over
 * the 4-tuple, the slot and the client's ISN. Options other than MSS are lost, as in Linux
 * without timestamps.
 */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;
const SLOT_US = 64_000_000;

function slotOf(now: Instant): number {
  return Math.floor(now / SLOT_US);
}

export function makeCookie(
  gen: IsnGenerator, now: Instant, la: string, lp: number, ra: string, rp: number, clientIsn: number, mss: number,
): { iss: number; mss: number } {
  let idx = 0;
  for (let i = COOKIE_MSS.length - 1; i >= 0; i--) {
    if (COOKIE_MSS[i]! <= mss) {
      idx = i;
      break;
    }
  }
  const slot = slotOf(now);
  const h = (gen.cookieHash(la, lp, ra, rp, (slot ^ clientIsn) >>> 0) & 0x1ffffff) >>> 0;
  return { iss: (((slot & 0x1f) << 27) | (idx << 25) | h) >>> 0, mss: COOKIE_MSS[idx]! };
}

/** The MSS a valid cookie encodes, or null (too old: more than one slot back, or forged). */
export function checkCookie(
  gen: IsnGenerator, now: Instant, la: string, lp: number, ra: string, rp: number, clientIsn: number, cookie: number,
): number | null {
  const cur = slotOf(now);
  for (const slot of [cur, cur - 1]) {
    if (slot < 0 || ((cookie >>> 27) & 0x1f) !== (slot & 0x1f)) continue;
    const h = (gen.cookieHash(la, lp, ra, rp, (slot ^ clientIsn) >>> 0) & 0x1ffffff) >>> 0;
    if ((cookie & 0x1ffffff) >>> 0 === h) return COOKIE_MSS[(cookie >>> 25) & 3]!;
  }
  return null;
}
