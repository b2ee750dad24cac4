/**
 * Frame → timeline: one TCP frame becomes one 'segment' DemoEvent (tcpdump's flag letters and
 * option words, retransmissions flagged by each direction's highest sequence number). The one
 * place that does this, for the simulator's recorder (src/demo/recorder.ts) and a capture's raw
 * view (src/viz/capture.ts); frames are decoded by src/wire's parsers.
 */
import type { DemoEvent } from './events.js';
import { seqAdd, seqGt } from '../seq.js';
import { formatOptions } from '../wire/format.js';
import { newIpRepr, parseIpHeader, type IpRepr } from '../wire/ip.js';
import { parseTcp } from '../wire/tcp.js';
import { ACK, SYN, flagsToString, newTcpRepr, segLen } from '../wire/tcp-repr.js';

export type SegmentEvent = Extract<DemoEvent, { type: 'segment' }>;

/** "addr:port", "[v6]:port" (the events' endpoint text). */
export const endpoint = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

export class SegmentTimeline {
  /** Highest sequence number seen per direction, to flag retransmissions. */
  private readonly highest = new Map<string, number>();
  /** The IP header of the frame `segment` last turned into an event. */
  readonly ip: IpRepr = newIpRepr();
  private readonly tcp = newTcpRepr();

  /**
   * The event for a TCP frame sent by `host` at `t` seconds, or null when the frame is not a TCP
   * segment. `dropped`: the network lost it (`reason` why; 'corrupt-delivered' marks it corrupted).
   */
  segment(t: number, host: string, frame: Uint8Array, dropped = false, reason?: string): SegmentEvent | null {
    if (parseIpHeader(frame, this.ip, false) !== null) return null;
    if (parseTcp(frame, this.ip, this.tcp, false) !== null) return null;
    const r = this.tcp;
    const src = endpoint(this.ip.src, r.srcPort);
    const dst = endpoint(this.ip.dst, r.dstPort);
    // A SYN-ACK after our own SYN (simultaneous open) is a new segment, so the key includes
    // the ACK flag for SYNs.
    const key = `${src}>${dst}${r.flags & SYN ? (r.flags & ACK ? ' SA' : ' S') : ''}`;
    const end = seqAdd(r.seq, segLen(r));
    const prev = this.highest.get(key);
    const retransmit = segLen(r) > 0 && prev !== undefined && !seqGt(end, prev);
    if (segLen(r) > 0 && (prev === undefined || seqGt(end, prev))) this.highest.set(key, end);
    const e: SegmentEvent = {
      t, type: 'segment', host, src, dst, flags: flagsToString(r.flags), seq: r.seq, ack: r.ack,
      len: r.payload.length, win: r.window, options: formatOptions(r), dropped,
    };
    if (dropped && reason) e.reason = reason;
    if (reason === 'corrupt-delivered') e.corrupted = true;
    if (retransmit) e.retransmit = true;
    return e;
  }
}
