/**
 * Wrap-aware 32-bit sequence-number arithmetic (RFC 9293 §3.4, RFC 1982).
 * Every comparison of sequence numbers in synack goes through here: plain `<` on sequence
 * numbers is a bug, because they wrap at 2^32.
 */
export type SeqNum = number;

/** a < b modulo 2^32. */
export const seqLt = (a: SeqNum, b: SeqNum): boolean => ((a - b) | 0) < 0;
/** a ≤ b in 32-bit sequence space (RFC 9293 §3.4). */
export const seqLe = (a: SeqNum, b: SeqNum): boolean => ((a - b) | 0) <= 0;
/** a > b in 32-bit sequence space (RFC 9293 §3.4). */
export const seqGt = (a: SeqNum, b: SeqNum): boolean => ((a - b) | 0) > 0;
/** a ≥ b in 32-bit sequence space (RFC 9293 §3.4). */
export const seqGe = (a: SeqNum, b: SeqNum): boolean => ((a - b) | 0) >= 0;
/** (a + n) mod 2^32, as an unsigned number. */
export const seqAdd = (a: SeqNum, n: number): SeqNum => (a + n) >>> 0;
/** Signed distance a - b, in (-2^31, 2^31]. */
export const seqDiff = (a: SeqNum, b: SeqNum): number => (a - b) | 0;
export const seqMax = (a: SeqNum, b: SeqNum): SeqNum => (seqGt(a, b) ? a : b);
export const seqMin = (a: SeqNum, b: SeqNum): SeqNum => (seqLt(a, b) ? a : b);
/** start <= s < start + len (RFC 9293 §3.10.7.4's window test). len 0 contains nothing. */
export const inWindow = (s: SeqNum, start: SeqNum, len: number): boolean =>
  seqLe(start, s) && seqLt(s, seqAdd(start, len));
