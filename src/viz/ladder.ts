import type { DemoEvent, DemoResult } from '../demo/events.js';
import { segmentLabel } from './ladder-view.js';

/**
 * The text ladder diagram: the right-hand host (the server, or the second host of a capture) on
 * the right, every other host on the left, one line per event in time order. Segments are arrows
 * labelled like tcpdump with sequence numbers relative to each direction's SYN (as tcpdump and
 * Wireshark show them); state changes are written on the side of the host they happened to.
 */
export interface LadderOptions {
  /** Host drawn on the right (default: "server" or the second host). */
  right?: string;
  /** Width of the arrow lane. */
  width?: number;
  /** Print absolute sequence numbers. */
  absolute?: boolean;
  /** Use plain ASCII only. */
  ascii?: boolean;
}

const SIDE = 30;
/** Left column text, padded, and never glued to what follows. */
const col = (s: string): string => (s.length >= SIDE ? `${s} ` : s.padEnd(SIDE));

export function renderLadder(res: DemoResult, opts: LadderOptions = {}): string {
  const hostNames = Object.keys(res.hosts);
  const right = opts.right ?? (hostNames.includes('server') ? 'server' : hostNames[1] ?? hostNames[0] ?? 'server');
  const lane = opts.width ?? 60;
  const base = new Map<string, number>(); // per direction "src>dst": ISN
  for (const e of res.events) {
    if (e.type === 'segment' && e.flags.includes('S')) {
      const k = `${e.src}>${e.dst}`;
      if (!base.has(k)) base.set(k, e.seq);
    }
  }
  const leftHosts = hostNames.filter((h) => h !== right);
  const lines: string[] = [];
  const head = `${'time (s)'.padStart(10)}  ${leftHosts.map((h) => `${h} ${res.hosts[h]}`).join(', ').padEnd(SIDE)}${''.padEnd(lane)}  ${right} ${res.hosts[right] ?? ''}`;
  lines.push(head);
  lines.push(`${''.padStart(10)}  ${'-'.repeat(SIDE + lane + 2 + right.length + 16)}`);
  const multiLeft = leftHosts.length > 1;
  for (const e of res.events) {
    const t = e.t.toFixed(6).padStart(10);
    switch (e.type) {
      case 'segment': {
        const fromRight = e.host === right;
        // One labelling for the text ladder and the browser's (viz/ladder-view.ts).
        let label = segmentLabel(e, opts.absolute ? new Map() : base);
        if (e.retransmit) label += ' (retransmission)';
        if (e.corrupted) label += ' (corrupted)';
        const who = multiLeft && !fromRight ? `${e.host}: ` : '';
        const side = !fromRight ? who : multiLeft ? `to ${peerName(res, e.dst) ?? ''}: ` : '';
        lines.push(`${t}  ${col(side)}${arrow(label, lane, fromRight, e.dropped, opts.ascii ?? false)}${e.dropped ? `  lost${e.reason && e.reason !== 'loss' ? ` (${e.reason})` : ''}` : ''}`);
        break;
      }
      case 'packet': {
        // ARP, ICMP, UDP: an arrow labelled in tcpdump's words, like a segment.
        const fromRight = e.host === right;
        const side = multiLeft ? (fromRight ? `to ${e.dst}: ` : `${e.host}: `) : '';
        lines.push(`${t}  ${col(side)}${arrow(e.text, lane, fromRight, e.dropped, opts.ascii ?? false)}${e.dropped ? '  lost' : ''}`);
        break;
      }
      case 'state': {
        const txt = `${e.from} -> ${e.to}`;
        const why = `(${e.cause})`;
        if (e.host === right) lines.push(`${t}  ${''.padEnd(SIDE)}${why.padStart(lane)}  ${txt}`);
        else lines.push(`${t}  ${col(multiLeft ? `${e.host}: ${txt}` : txt)}${why}`);
        break;
      }
      case 'error': {
        const txt = `!! ${e.code}${e.message ? ` ${e.message}` : ''}`;
        lines.push(e.host === right ? `${t}  ${''.padEnd(SIDE)}${''.padEnd(lane)}  ${txt}` : `${t}  ${multiLeft ? `${e.host}: ` : ''}${txt}`);
        break;
      }
      case 'app': {
        const { t: _t, type: _ty, host, what, ...rest } = e;
        const details = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`).join(' ');
        const txt = `[app] ${what}${details ? ` ${details}` : ''}`;
        lines.push(host === right ? `${t}  ${''.padEnd(SIDE)}${''.padEnd(lane)}  ${txt}` : `${t}  ${multiLeft ? `${host}: ` : ''}${txt}`);
        break;
      }
      case 'note':
        lines.push(`${t}  # ${e.text}`);
        break;
    }
  }
  lines.push('', ...renderSummary(res));
  return lines.join('\n');
}

function peerName(res: DemoResult, ep: string): string | undefined {
  const addr = ep.startsWith('[') ? ep.slice(1, ep.indexOf(']')) : ep.slice(0, ep.lastIndexOf(':'));
  return Object.entries(res.hosts).find(([, a]) => a === addr)?.[0] ?? addr;
}


function arrow(label: string, width: number, leftward: boolean, lost: boolean, ascii: boolean): string {
  const body = ` ${label} `;
  const dash = ascii ? '-' : '─';
  const room = Math.max(2, width - body.length - 2);
  const pre = Math.floor(room / 2);
  const post = room - pre;
  if (leftward) {
    const head = lost ? (ascii ? ' X' : ' ✕') : ascii ? '<' + dash : '◀' + dash;
    return head + dash.repeat(pre) + body + dash.repeat(post);
  }
  const tail = lost ? (ascii ? 'X ' : '✕ ') : ascii ? dash + '>' : dash + '▶';
  return dash.repeat(pre) + dash + body + dash.repeat(post - 1) + tail;
}

function renderSummary(res: DemoResult): string[] {
  const out: string[] = [`summary (${res.scenario}${res.seed !== undefined ? `, seed ${res.seed}` : ''})`];
  const s = res.summary as Record<string, unknown>;
  if (typeof s.virtualSeconds === 'number') out.push(`  virtual time: ${s.virtualSeconds.toFixed(6)} s`);
  const segs = res.events.filter((e) => e.type === 'segment') as Extract<DemoEvent, { type: 'segment' }>[];
  out.push(`  segments: ${segs.length} sent, ${segs.filter((e) => e.dropped).length} lost, ${segs.filter((e) => e.retransmit).length} retransmitted`);
  const errs = res.events.filter((e) => e.type === 'error') as Extract<DemoEvent, { type: 'error' }>[];
  if (errs.length) out.push(`  errors: ${errs.map((e) => `${e.host} ${e.code}`).join(', ')}`);
  for (const [name, v] of Object.entries(s)) {
    if (name === 'virtualSeconds' || typeof v !== 'object' || v === null) continue;
    const h = v as { connections?: string[]; counters?: Record<string, number> };
    out.push(`  ${name}: ${h.connections && h.connections.length ? h.connections.join('; ') : 'no connections left'}`);
    if (h.counters) out.push(`    counters: ${Object.entries(h.counters).map(([k, n]) => `${k}=${n}`).join(' ')}`);
  }
  return out;
}
