import { seqDiff, seqGt, seqLe, type SeqNum } from '../seq.js';
import type { Connection } from './connection.js';

/**
 * MSG_EOR record boundaries in the send queue (LINUX TCP_SKB_CB(skb)->eor, tcp_skb_can_collapse_to):
 * the end of a write sent with MSG_EOR is a boundary no segment crosses — later data is never
 * coalesced with it, on first transmission or on retransmission — and the segment that ends
 * there carries PSH (it ends a write: tcp_push marks it). At most one boundary per byte of the
 * send buffer, so the list is bounded by it; boundaries below SND.UNA are dropped as ACKs arrive.
 */
export class RecordMarks {
  /** Sequence numbers just past each record's last byte, ascending. */
  private readonly ends: SeqNum[] = [];

  get size(): number {
    return this.ends.length;
  }

  /** A record ends at `seq` (the end of the queued data). */
  add(seq: SeqNum): void {
    const last = this.ends.at(-1);
    if (last === undefined || seqGt(seq, last)) this.ends.push(seq);
  }

  /** Forget the boundaries at or below `una` (acknowledged). */
  prune(una: SeqNum): void {
    let k = 0;
    while (k < this.ends.length && seqLe(this.ends[k]!, una)) k++;
    if (k > 0) this.ends.splice(0, k);
  }

  /** The first boundary after `seq`, or null. */
  nextAfter(seq: SeqNum): SeqNum | null {
    for (const e of this.ends) if (seqGt(e, seq)) return e;
    return null;
  }

  clear(): void {
    this.ends.length = 0;
  }
}

/** A segment from `seq` of up to `len` bytes, cut at the next record boundary. */
export function clampToRecord(c: Connection, seq: SeqNum, len: number): number {
  if (c.recordsState === null || c.records.size === 0) return len;
  c.records.prune(c.snd.sndUna);
  const end = c.records.nextAfter(seq);
  return end === null ? len : Math.min(len, seqDiff(end, seq));
}

/** Whether a segment ending at `end` ends a record (LINUX: the eor skb carries tcp_push's PSH). */
export function endsRecord(c: Connection, end: SeqNum): boolean {
  return c.recordsState !== null && c.records.size > 0 && c.records.nextAfter(seqAddNeg(end)) === end;
}

function seqAddNeg(s: SeqNum): SeqNum {
  return (s - 1) >>> 0;
}
