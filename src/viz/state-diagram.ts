/**
 * RFC 9293's state diagram (Figure 5) as SVG: the eleven states laid out as in the RFC, CLOSED
 * drawn twice as the figure does (top: before the handshake and after a failed one; bottom: after
 * a synchronized connection ends), every transition in LEGAL_TRANSITIONS as an arrow. Abort,
 * reset and timeout paths to CLOSED are dashed. `renderStateDiagram` takes which hosts are in
 * which state and the transition just taken, and marks them (the page animates the marks in CSS).
 */
import type { DemoEvent } from '../demo/events.js';
import { LEGAL_TRANSITIONS } from '../tcp/transitions.js';
import { STATE_NAMES, isSynchronized, type TcpStateName } from '../tcp/state.js';

export type NodeId = Exclude<TcpStateName, 'CLOSED'> | 'CLOSED' | 'CLOSED_END';

const W = 128;
const H = 30;
export const DIAGRAM_SIZE = { width: 600, height: 640 };

const POS: Record<NodeId, [number, number]> = {
  CLOSED: [300, 36],
  LISTEN: [300, 116],
  SYN_RECEIVED: [110, 196],
  SYN_SENT: [490, 196],
  ESTABLISHED: [300, 276],
  FIN_WAIT_1: [110, 366],
  CLOSE_WAIT: [490, 366],
  FIN_WAIT_2: [110, 466],
  CLOSING: [300, 466],
  LAST_ACK: [490, 466],
  TIME_WAIT: [300, 546],
  CLOSED_END: [490, 606],
};

/** RFC 9293 Figure 5 labels (event / action). */
const LABELS: Record<string, string> = {
  'CLOSED>LISTEN': 'passive OPEN / create TCB',
  'CLOSED>SYN_SENT': 'active OPEN / snd SYN',
  'LISTEN>SYN_RECEIVED': 'rcv SYN / snd SYN,ACK',
  'LISTEN>SYN_SENT': 'SEND / snd SYN',
  'LISTEN>CLOSED': 'CLOSE / delete TCB',
  'SYN_SENT>SYN_RECEIVED': 'rcv SYN / snd SYN,ACK (simultaneous open)',
  'SYN_SENT>ESTABLISHED': 'rcv SYN,ACK / snd ACK',
  'SYN_SENT>CLOSED': 'CLOSE, timeout or rcv RST / delete TCB',
  'SYN_RECEIVED>ESTABLISHED': 'rcv ACK of SYN',
  'SYN_RECEIVED>FIN_WAIT_1': 'CLOSE / snd FIN',
  'SYN_RECEIVED>CLOSED': 'rcv RST, timeout or abort',
  'ESTABLISHED>FIN_WAIT_1': 'CLOSE / snd FIN',
  'ESTABLISHED>CLOSE_WAIT': 'rcv FIN / snd ACK',
  'ESTABLISHED>CLOSED': 'abort, rcv RST or timeout',
  'FIN_WAIT_1>FIN_WAIT_2': 'rcv ACK of FIN',
  'FIN_WAIT_1>CLOSING': 'rcv FIN / snd ACK (simultaneous close)',
  'FIN_WAIT_1>TIME_WAIT': 'rcv FIN,ACK of FIN / snd ACK',
  'FIN_WAIT_1>CLOSED': 'abort, rcv RST or timeout',
  'FIN_WAIT_2>TIME_WAIT': 'rcv FIN / snd ACK',
  'FIN_WAIT_2>CLOSED': 'abort, rcv RST or fin timeout (orphan)',
  'CLOSE_WAIT>LAST_ACK': 'CLOSE / snd FIN',
  'CLOSE_WAIT>CLOSED': 'abort, rcv RST or timeout',
  'CLOSING>TIME_WAIT': 'rcv ACK of FIN',
  'CLOSING>CLOSED': 'abort, rcv RST or timeout',
  'LAST_ACK>CLOSED': 'rcv ACK of FIN / delete TCB',
  'TIME_WAIT>CLOSED': 'timeout = 2MSL / delete TCB',
};

/** The diagram node a transition to CLOSED lands on. */
export function closedNode(from: TcpStateName): NodeId {
  return isSynchronized(from) ? 'CLOSED_END' : 'CLOSED';
}

const nodeOf = (s: TcpStateName, from?: TcpStateName): NodeId => (s === 'CLOSED' && from !== undefined ? closedNode(from) : s);

export interface Edge {
  id: string;
  from: NodeId;
  to: NodeId;
  label: string;
  abort: boolean;
  path: string;
  mid: [number, number];
}

/** Where the segment from the centre of a node towards (x, y) leaves its box. */
function boxExit(c: [number, number], x: number, y: number, pad = 3): [number, number] {
  const dx = x - c[0];
  const dy = y - c[1];
  if (dx === 0 && dy === 0) return c;
  const sx = dx === 0 ? Infinity : (W / 2 + pad) / Math.abs(dx);
  const sy = dy === 0 ? Infinity : (H / 2 + pad) / Math.abs(dy);
  const s = Math.min(sx, sy);
  return [c[0] + dx * s, c[1] + dy * s];
}

const f1 = (n: number): string => n.toFixed(1);

function buildEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const from of STATE_NAMES) {
    for (const to of LEGAL_TRANSITIONS[from]) {
      const a: NodeId = from;
      const b: NodeId = nodeOf(to, from);
      const key = `${from}>${to}`;
      const abort = to === 'CLOSED' && !['LAST_ACK', 'TIME_WAIT', 'LISTEN'].includes(from);
      const pa = POS[a];
      const pb = POS[b];
      let path: string;
      let mid: [number, number];
      if (abort && b === 'CLOSED_END') {
        // Around the right margin, down to the bottom CLOSED.
        const s: [number, number] = [pa[0] + W / 2 + 2, pa[1] + 6];
        const e: [number, number] = [pb[0] + W / 2 + 2, pb[1] - 4];
        const cx = 588;
        path = `M${f1(s[0])},${f1(s[1])} C${cx},${f1(s[1])} ${cx},${f1(e[1])} ${f1(e[0])},${f1(e[1])}`;
        mid = [cx - 40, (s[1] + e[1]) / 2];
      } else if (abort && b === 'CLOSED') {
        // SYN states back up to the top CLOSED, around the outside.
        const left = pa[0] < 300;
        const s: [number, number] = [pa[0] + (left ? -W / 2 - 2 : W / 2 + 2), pa[1] - 6];
        const e: [number, number] = [pb[0] + (left ? -W / 2 - 2 : W / 2 + 2), pb[1]];
        const cx = left ? 12 : 588;
        path = `M${f1(s[0])},${f1(s[1])} C${cx},${f1(s[1])} ${cx},${f1(e[1])} ${f1(e[0])},${f1(e[1])}`;
        mid = [left ? 60 : 540, (s[1] + e[1]) / 2];
      } else {
        // A straight arrow, bent a little when the reverse arrow also exists.
        const reverse = LEGAL_TRANSITIONS[to].includes(from) && b !== 'CLOSED_END';
        const bend = reverse ? 22 : 0;
        const mx0 = (pa[0] + pb[0]) / 2;
        const my0 = (pa[1] + pb[1]) / 2;
        const len = Math.hypot(pb[0] - pa[0], pb[1] - pa[1]) || 1;
        const nx = -(pb[1] - pa[1]) / len;
        const ny = (pb[0] - pa[0]) / len;
        const cx = mx0 + nx * bend;
        const cy = my0 + ny * bend;
        const s = boxExit(pa, bend ? cx : pb[0], bend ? cy : pb[1]);
        const e = boxExit(pb, bend ? cx : pa[0], bend ? cy : pa[1], 5);
        path = bend ? `M${f1(s[0])},${f1(s[1])} Q${f1(cx)},${f1(cy)} ${f1(e[0])},${f1(e[1])}` : `M${f1(s[0])},${f1(s[1])} L${f1(e[0])},${f1(e[1])}`;
        // Past the middle, so the label clears the pills under the source box.
        mid = [s[0] + (e[0] - s[0]) * 0.62 + nx * bend * 0.5, s[1] + (e[1] - s[1]) * 0.62 + ny * bend * 0.5];
      }
      edges.push({ id: `${a}>${b}`, from: a, to: b, label: LABELS[key] ?? key, abort, path, mid });
    }
  }
  return edges;
}

export const EDGES: readonly Edge[] = buildEdges();

/** Where each host's connections are, derived from the state events up to the cursor. */
export interface DiagramState {
  /** node → host → number of that host's connections there. */
  at: Map<NodeId, Map<string, number>>;
  /** The last transition at or before the cursor. */
  last: { host: string; from: NodeId; to: NodeId; cause: string; fresh: boolean; fromName: TcpStateName; toName: TcpStateName } | null;
}

/** Fold state events up to `cursor` (exclusive end) into where each host is. */
export function diagramState(events: readonly DemoEvent[], cursor: number, hosts: readonly string[]): DiagramState {
  const conns = new Map<string, { host: string; node: NodeId }>();
  const lastClosed = new Map<string, NodeId>();
  let last: DiagramState['last'] = null;
  for (let i = 0; i < cursor && i < events.length; i++) {
    const e = events[i]!;
    if (e.type !== 'state') continue;
    const key = `${e.host}|${e.local}|${e.remote}`;
    // A connection that reached CLOSED stays there (its endpoint is CLOSED), except a listener
    // that closed, which is simply gone.
    const to = nodeOf(e.to, e.from);
    if (e.to === 'CLOSED' && e.from === 'LISTEN') {
      conns.delete(key);
      lastClosed.set(e.host, to);
    } else conns.set(key, { host: e.host, node: to });
    last = { host: e.host, from: e.from, to, cause: e.cause, fresh: i === cursor - 1, fromName: e.from, toName: e.to };
  }
  const at = new Map<NodeId, Map<string, number>>();
  const add = (n: NodeId, h: string): void => {
    let m = at.get(n);
    if (!m) at.set(n, (m = new Map()));
    m.set(h, (m.get(h) ?? 0) + 1);
  };
  const present = new Set<string>();
  for (const { host, node } of conns.values()) {
    add(node, host);
    present.add(host);
  }
  for (const h of hosts) if (!present.has(h)) add(lastClosed.get(h) ?? 'CLOSED', h);
  return { at, last };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The whole diagram as an SVG string; `colors` maps host → CSS colour. */
export function renderStateDiagram(ds: DiagramState, colors: Record<string, string>): string {
  const { width, height } = DIAGRAM_SIZE;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" class="state-diagram" role="img" aria-label="TCP state diagram">`);
  out.push('<defs>');
  out.push('<marker id="sd-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker>');
  for (const [h, c] of Object.entries(colors)) {
    out.push(`<marker id="sd-arrow-${esc(h)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${esc(c)}"/></marker>`);
  }
  out.push('</defs>');
  const lastId = ds.last ? `${ds.last.from}>${ds.last.to}` : '';
  for (const e of EDGES) {
    const taken = e.id === lastId;
    const color = taken ? colors[ds.last!.host] ?? '#222' : '';
    const cls = `edge${e.abort ? ' abort' : ''}${taken ? ' taken' : ''}${taken && ds.last!.fresh ? ' fresh' : ''}`;
    out.push(`<path class="${cls}" data-edge="${esc(e.id)}" d="${e.path}"${taken ? ` style="stroke:${esc(color)}" marker-end="url(#sd-arrow-${esc(ds.last!.host)})"` : ' marker-end="url(#sd-arrow)"'}><title>${esc(e.label)}</title></path>`);
  }
  for (const id of Object.keys(POS) as NodeId[]) {
    const [x, y] = POS[id];
    const hosts = ds.at.get(id);
    const names = hosts ? [...hosts.keys()] : [];
    const first = names[0];
    const stroke = first ? colors[first] ?? '#222' : '#8a94a6';
    const label = id === 'CLOSED_END' ? 'CLOSED' : id;
    out.push(`<g class="node${names.length ? ' active' : ''}" data-state="${id}" data-hosts="${esc(names.join(' '))}">`);
    out.push(`<rect x="${x - W / 2}" y="${y - H / 2}" width="${W}" height="${H}" rx="7" style="stroke:${esc(stroke)}${first ? `;fill:${esc(tint(colors[first] ?? '#888'))}` : ''}"/>`);
    out.push(`<text x="${x}" y="${y + 4.5}" text-anchor="middle">${label}</text>`);
    // One pill per host in this state, under the box.
    let px = x - W / 2;
    for (const h of names) {
      const n = hosts!.get(h)!;
      const txt = n > 1 ? `${h} ×${n}` : h;
      const pw = 8 + txt.length * 6.2;
      out.push(`<g class="pill" data-host="${esc(h)}"><rect x="${f1(px)}" y="${y + H / 2 + 2}" width="${f1(pw)}" height="14" rx="7" style="fill:${esc(colors[h] ?? '#444')}"/><text x="${f1(px + pw / 2)}" y="${y + H / 2 + 12.5}" text-anchor="middle">${esc(txt)}</text></g>`);
      px += pw + 3;
    }
    out.push('</g>');
  }
  if (ds.last) {
    const e = EDGES.find((x) => x.id === lastId);
    if (e) {
      const txt = `${ds.last.host}: ${ds.last.cause}`;
      const tw = 12 + txt.length * 6.9;
      const mx = Math.min(width - tw / 2 - 2, Math.max(tw / 2 + 2, e.mid[0]));
      out.push(`<g class="cause${ds.last.fresh ? ' fresh' : ''}" data-cause="${esc(ds.last.cause)}"><rect x="${f1(mx - tw / 2)}" y="${f1(e.mid[1] - 10)}" width="${f1(tw)}" height="18" rx="4" style="stroke:${esc(colors[ds.last.host] ?? '#222')}"/><text x="${f1(mx)}" y="${f1(e.mid[1] + 3)}" text-anchor="middle">${esc(txt)}</text></g>`);
    }
  }
  out.push('</svg>');
  return out.join('');
}

/** A light fill from a "#rrggbb" colour. */
function tint(c: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (!m) return '#eef';
  const mix = (h: string): number => Math.round(parseInt(h, 16) * 0.18 + 255 * 0.82);
  return `rgb(${mix(m[1]!)},${mix(m[2]!)},${mix(m[3]!)})`;
}
