/**
 * A pcap/pcapng capture as a DemoResult the page can replay. `captureToResult` uses
 * `reconstruct` (src/diag/reconstruct.ts, the same as `synack read`) for both endpoints' state
 * timelines and merges its connections into one timeline; `rawCaptureResult` is the fallback for
 * captures it finds no connection in: every TCP segment, states left out.
 */
import type { DemoEvent, DemoResult } from '../demo/events.js';
import { readCapture, type Capture, type CapturedPacket } from '../diag/pcap-read.js';
import { reconstruct } from '../diag/reconstruct.js';
import { SegmentTimeline, type SegmentEvent } from '../diag/segment-events.js';
import { newArpRepr, parseArp } from '../wire/arp.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { formatFrame, formatPacket } from '../wire/format.js';
import { IPPROTO_TCP, isFragment, newIpRepr, parseIpHeader } from '../wire/ip.js';

export interface CaptureResult extends DemoResult {
  /** Connections reconstructed with states (0: the raw fallback, segments only). */
  connections: number;
}

export function captureToResult(bytes: Uint8Array, name = 'capture'): CaptureResult {
  const cap = readCapture(bytes);
  const t0 = captureStart(cap);
  const conns = reconstruct(cap.packets, { name, t0 });
  if (conns.length === 0) return { ...rawCaptureResult(bytes, name), connections: 0 };
  // (ARP/ICMP/UDP only: the raw result draws them too.)
  const hosts: Record<string, string> = {};
  const events: DemoEvent[] = [];
  for (const c of conns) {
    for (const [h, a] of Object.entries(c.result.hosts)) if (!(h in hosts)) hosts[h] = a;
    events.push(...c.result.events);
  }
  const others = otherPackets(cap.packets, cap.arp, hosts, t0);
  events.push(...others);
  // One timeline (a stable sort keeps each connection's own order at equal times).
  if (conns.length > 1 || others.length > 0) events.sort((a, b) => a.t - b.t);
  return {
    scenario: name, hosts, events, connections: conns.length,
    summary: { packets: cap.packets.length, linkType: cap.linkType, skipped: cap.skipped, connections: conns.map((c) => `${c.client} -> ${c.server}`) },
  };
}

/**
 * The capture's IP packets that are not TCP (ICMP, UDP, other protocols, fragments) as 'packet'
 * events in tcpdump's words (formatPacket), each sent by the host whose address is its source
 * (the address itself when no host has it); and the ARP frames of an Ethernet capture
 * (formatFrame). Times from `t0` (captureStart).
 */
function otherPackets(packets: readonly CapturedPacket[], arp: readonly CapturedPacket[], hosts: Record<string, string>, t0: number): DemoEvent[] {
  const nameOf = new Map(Object.entries(hosts).map(([h, a]) => [a, h]));
  const out: DemoEvent[] = [];
  // ARP (Ethernet captures): from the sender's protocol address to the target's.
  for (const p of arp) {
    if (parseArp(p.frame, ETH_HEADER_LEN, p.frame.length, OTHER_ARP) !== null) continue;
    const { spaText: src, tpaText: dst } = OTHER_ARP;
    out.push({ t: (p.t - t0) / 1e6, type: 'packet', host: nameOf.get(src) ?? src, src, dst, text: formatFrame(p.frame, LINKTYPE_ETHERNET), dropped: false });
  }
  for (const p of packets) {
    if (parseIpHeader(p.frame, OTHER_IP, false, true) !== null) continue;
    if (OTHER_IP.protocol === IPPROTO_TCP && !isFragment(OTHER_IP)) continue;
    const line = formatPacket(p.frame);
    const text = line.slice(line.indexOf(': ') + 2);
    out.push({ t: (p.t - t0) / 1e6, type: 'packet', host: nameOf.get(OTHER_IP.src) ?? OTHER_IP.src, src: OTHER_IP.src, dst: OTHER_IP.dst, text, dropped: false });
  }
  return out;
}

/** A capture's ARP, ICMP, UDP and other non-TCP packets as 'packet' events, hosts named by address (`synack read`). */
export function otherPacketEvents(cap: Capture): Extract<DemoEvent, { type: 'packet' }>[] {
  return otherPackets(cap.packets, cap.arp, {}, captureStart(cap)) as Extract<DemoEvent, { type: 'packet' }>[];
}

/** The time origin of the views: the earliest packet, IP or ARP (µs). */
function captureStart(cap: Capture): number {
  let t0 = Infinity;
  for (const p of cap.packets) t0 = Math.min(t0, p.t);
  for (const p of cap.arp) t0 = Math.min(t0, p.t);
  return t0 === Infinity ? 0 : t0;
}

const OTHER_IP = newIpRepr();
const OTHER_ARP = newArpRepr();
const LINKTYPE_ETHERNET = 1;

/** Every TCP segment of a capture, no states. */
export function rawCaptureResult(bytes: Uint8Array, name = 'capture'): DemoResult {
  const cap = readCapture(bytes);
  const timeline = new SegmentTimeline();
  const segs: { srcAddr: string; dstAddr: string; e: SegmentEvent }[] = [];
  const t0 = captureStart(cap);
  let firstSyn: string | null = null;
  for (const p of cap.packets) {
    const e = timeline.segment((p.t - t0) / 1e6, '', p.frame);
    if (e === null) continue;
    if (firstSyn === null && e.flags.includes('S') && !e.flags.includes('.')) firstSyn = timeline.ip.src;
    segs.push({ srcAddr: timeline.ip.src, dstAddr: timeline.ip.dst, e });
  }
  const addrs: string[] = [];
  for (const s of segs) for (const a of [s.srcAddr, s.dstAddr]) if (!addrs.includes(a)) addrs.push(a);
  const others = otherPackets(cap.packets, cap.arp, {}, t0);
  for (const o of others) if (o.type === 'packet') for (const a of [o.src, o.dst]) if (!addrs.includes(a)) addrs.push(a);
  if (firstSyn !== null && addrs.includes(firstSyn)) addrs.splice(addrs.indexOf(firstSyn), 1), addrs.unshift(firstSyn);
  const names = new Map<string, string>();
  if (addrs.length === 2) {
    names.set(addrs[0]!, 'client');
    names.set(addrs[1]!, 'server');
  } else for (const a of addrs) names.set(a, a);
  const hosts: Record<string, string> = {};
  for (const a of addrs) hosts[names.get(a)!] = a;
  const events: DemoEvent[] = segs.map((s) => ({ ...s.e, host: names.get(s.srcAddr)! }) as DemoEvent);
  if (others.length > 0) {
    for (const o of others) events.push({ ...o, host: names.get((o as { src: string }).src)! } as DemoEvent);
    events.sort((a, b) => a.t - b.t);
  }
  return {
    scenario: name, hosts, events,
    summary: { packets: cap.packets.length, linkType: cap.linkType, skipped: cap.skipped, tcpSegments: segs.length, otherPackets: others.length },
  };
}
