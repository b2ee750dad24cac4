import type { SimWorld } from '../driver/world.js';
import { formatOptions } from '../wire/format.js';
import { newIpRepr, parseIpHeader } from '../wire/ip.js';
import { parseTcp } from '../wire/tcp.js';
import { ACK, SYN, flagsToString, newTcpRepr, segLen } from '../wire/tcp-repr.js';
import { seqAdd, seqGt } from '../seq.js';
import type { DemoEvent } from './events.js';

const ep = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** Records a SimWorld's frames and stack events as DemoEvents. */
export class Recorder {
  readonly events: DemoEvent[] = [];
  /** Highest sequence number seen per direction, to flag retransmissions. */
  private readonly highest = new Map<string, number>();
  private readonly ip = newIpRepr();
  private readonly tcp = newTcpRepr();

  constructor(private readonly world: SimWorld) {
    world.onFrame((ev) => {
      if (ev.duplicate) return;
      const e = this.segment(ev.t, ev.from, ev.frame, ev.dropped, ev.reason);
      if (e) this.events.push(e);
    });
    world.observe((host, ev) => {
      const t = world.now / 1e6;
      if (ev.type === 'state') this.events.push({ t, type: 'state', host, local: ev.local, remote: ev.remote, from: ev.from, to: ev.to, cause: ev.cause });
      else if (ev.type === 'error') this.events.push({ t, type: 'error', host, code: ev.code, message: ev.message, local: ev.local, remote: ev.remote });
    });
  }

  /** An application action or observation. */
  app(host: string, what: string, details: Record<string, unknown> = {}): void {
    this.events.push({ t: this.world.now / 1e6, type: 'app', host, what, ...details });
  }

  /** An error an application saw from a call (e.g. EADDRINUSE from connect). */
  error(host: string, code: string, message: string): void {
    this.events.push({ t: this.world.now / 1e6, type: 'error', host, code, message });
  }

  note(text: string): void {
    this.events.push({ t: this.world.now / 1e6, type: 'note', text });
  }

  private segment(t: number, host: string, frame: Uint8Array, dropped: boolean, reason?: string): DemoEvent | null {
    if (parseIpHeader(frame, this.ip, false) !== null) return null;
    if (parseTcp(frame, this.ip, this.tcp, false) !== null) return null;
    const r = this.tcp;
    const src = ep(this.ip.src, r.srcPort);
    const dst = ep(this.ip.dst, r.dstPort);
    // A SYN-ACK after our own SYN (simultaneous open) is a new segment, so the key includes
    // the ACK flag for SYNs.
    const key = `${src}>${dst}${r.flags & SYN ? (r.flags & ACK ? ' SA' : ' S') : ''}`;
    const end = seqAdd(r.seq, segLen(r));
    const prev = this.highest.get(key);
    const retransmit = segLen(r) > 0 && prev !== undefined && !seqGt(end, prev);
    if (segLen(r) > 0 && (prev === undefined || seqGt(end, prev))) this.highest.set(key, end);
    const e: DemoEvent = {
      t: t / 1e6, type: 'segment', host, src, dst, flags: flagsToString(r.flags), seq: r.seq, ack: r.ack,
      len: r.payload.length, win: r.window, options: formatOptions(r), dropped,
    };
    if (dropped && reason) e.reason = reason;
    if (reason === 'corrupt-delivered') e.corrupted = true;
    if (retransmit) e.retransmit = true;
    return e;
  }
}
