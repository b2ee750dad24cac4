/**
 * The graphical ladder diagram's model: one row per event, each segment an arrow between the two
 * host lines labelled like tcpdump (sequence numbers relative to each direction's SYN, as the
 * text ladder and tcpdump show them), lost segments ending in a cross half way, retransmissions
 * marked; state changes written beside their host's line. Rows are fixed-height SVG fragments so
 * the page can keep only the visible ones in the DOM; `ladderSvg` joins all of them for export.
 */
import type { DemoEvent, DemoResult } from '../demo/events.js';

export const ROW_H = 24;
/** Default width (the SVG export). */
export const LADDER_W = 900;
/** x of the time column's right edge. */
export const X_TIME = 72;
/** Room outside each host line for state names. */
const SIDE_L = 200;
const SIDE_R = 130;
/** Monospace character width at 11.5px, for clipping labels to the lane. */
const CH = 6.9;

export interface LadderLayout {
  width: number;
  /** x of the left and right host lines. */
  xl: number;
  xr: number;
  right: string;
  left: string[];
  /** Per direction "src>dst": the ISN (relative numbering). */
  base: Map<string, number>;
  colors: Record<string, string>;
}

export function ladderLayout(hosts: Record<string, string>, events: readonly DemoEvent[], colors: Record<string, string>, width = LADDER_W): LadderLayout {
  const w = Math.max(640, width);
  const names = Object.keys(hosts);
  const right = names.includes('server') ? 'server' : names[1] ?? names[0] ?? 'server';
  const base = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'segment' && e.flags.includes('S')) {
      const k = `${e.src}>${e.dst}`;
      if (!base.has(k)) base.set(k, e.seq);
    }
  }
  return { width: w, xl: SIDE_L, xr: w - SIDE_R, right, left: names.filter((h) => h !== right), base, colors };
}

/** tcpdump-style label: "S. seq 0 ack 1 win 65160 <mss 1460,sackOK,TS,wscale 7>". */
export function segmentLabel(e: Extract<DemoEvent, { type: 'segment' }>, base: Map<string, number>): string {
  const rel = (dir: string, n: number): number => {
    const b = base.get(dir);
    return b === undefined ? n : (n - b) >>> 0;
  };
  const fwd = `${e.src}>${e.dst}`;
  const back = `${e.dst}>${e.src}`;
  let label = `${e.flags} `;
  const hasSeq = e.len > 0 || /[SFR]/.test(e.flags);
  if (hasSeq) label += e.len > 0 ? `${rel(fwd, e.seq)}:${rel(fwd, (e.seq + e.len) >>> 0)}` : `seq ${rel(fwd, e.seq)}`;
  if (e.flags.includes('.')) label += `${hasSeq ? ' ' : ''}ack ${rel(back, e.ack)}`;
  label += ` win ${e.win}`;
  if (e.len > 0) label += ` len ${e.len}`;
  if (e.options) label += ` <${e.options.split(',').filter((x) => x !== 'nop').map((x) => (x.startsWith('TS ') ? 'TS' : x)).join(',')}>`;
  return label;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A short text for the row of an event (for tests, titles and the status line). */
export function eventText(e: DemoEvent, L: LadderLayout): string {
  switch (e.type) {
    case 'segment':
      return `${e.host} ${segmentLabel(e, L.base)}${e.retransmit ? ' (retransmission)' : ''}${e.dropped ? ' LOST' : ''}`;
    case 'state':
      return `${e.host} ${e.from} → ${e.to} (${e.cause})`;
    case 'error':
      return `${e.host} !! ${e.code}${e.message ? ` ${e.message}` : ''}`;
    case 'app': {
      const { t: _t, type: _ty, host, what, ...rest } = e;
      const d = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      return `${host} [app] ${what}${d ? ` ${d}` : ''}`;
    }
    case 'note':
      return `# ${e.text}`;
    case 'packet':
      return `${e.host} ${e.text}${e.dropped ? ' LOST' : ''}`;
  }
}

/** One row as SVG elements, drawn at y offset `y` (top of the row). */
export function rowSvg(e: DemoEvent, L: LadderLayout, y: number): string {
  const mid = y + ROW_H / 2;
  const X_LEFT = L.xl;
  const X_RIGHT = L.xr;
  const laneChars = Math.floor((X_RIGHT - X_LEFT - 16) / CH);
  const out: string[] = [];
  out.push(`<line class="life" x1="${X_LEFT}" y1="${y}" x2="${X_LEFT}" y2="${y + ROW_H}"/><line class="life" x1="${X_RIGHT}" y1="${y}" x2="${X_RIGHT}" y2="${y + ROW_H}"/>`);
  out.push(`<text class="t" x="${X_TIME - 6}" y="${mid + 4}" text-anchor="end">${e.t.toFixed(6)}</text>`);
  const isRight = (h: string): boolean => h === L.right;
  const multi = L.left.length > 1;
  const color = (h: string): string => L.colors[h] ?? '#555';
  switch (e.type) {
    case 'segment': {
      const fromRight = isRight(e.host);
      const x1 = fromRight ? X_RIGHT : X_LEFT;
      const x2 = fromRight ? X_LEFT : X_RIGHT;
      const lost = e.dropped;
      const xe = lost ? x1 + (x2 - x1) * 0.62 : x2 + (fromRight ? 2 : -2);
      const cls = `seg${e.retransmit ? ' rtx' : ''}${lost ? ' lost' : ''}${/R/.test(e.flags) ? ' rst' : ''}`;
      const y1 = mid + 3;
      const y2 = mid + 9;
      const yEnd = lost ? y1 + (y2 - y1) * 0.62 : y2;
      out.push(`<line class="${cls}" x1="${x1}" y1="${y1}" x2="${xe.toFixed(1)}" y2="${yEnd.toFixed(1)}" style="stroke:${color(e.host)}"${lost ? '' : ` marker-end="url(#ld-arrow-${esc(e.host)})"`}/>`);
      if (lost) {
        const cx = xe;
        const cy = yEnd;
        out.push(`<path class="cross" d="M${(cx - 5).toFixed(1)},${(cy - 5).toFixed(1)} l10,10 m0,-10 l-10,10"/>`);
      }
      let label = segmentLabel(e, L.base);
      if (multi && !fromRight) label = `${e.host}: ${label}`;
      const tags = `${e.retransmit ? ' ⟳ retransmission' : ''}${lost ? ` ✕ lost${e.reason && e.reason !== 'loss' ? ` (${e.reason})` : ''}` : ''}${e.corrupted ? ' (corrupted)' : ''}`;
      out.push(`<text class="${cls}-label" x="${(X_LEFT + X_RIGHT) / 2}" y="${mid - 1}" text-anchor="middle">${esc(clip(label, Math.max(12, laneChars - tagLen(e))))}<tspan class="tag">${esc(tags)}</tspan></text>`);
      break;
    }
    case 'state': {
      const right = isRight(e.host);
      const txt = `${multi && !right ? `${e.host}: ` : ''}${e.to}`;
      const why = `${e.from} → ${e.to} (${e.cause})`;
      if (right) {
        out.push(`<circle cx="${X_RIGHT}" cy="${mid}" r="4" style="fill:${color(e.host)}"/>`);
        out.push(`<text class="state" x="${X_RIGHT + 10}" y="${mid + 4}" style="fill:${color(e.host)}">${esc(txt)}</text>`);
        out.push(`<text class="cause" x="${X_RIGHT - 10}" y="${mid + 4}" text-anchor="end">${esc(clip(`${e.from} → (${e.cause})`, laneChars))}</text>`);
      } else {
        out.push(`<circle cx="${X_LEFT}" cy="${mid}" r="4" style="fill:${color(e.host)}"/>`);
        out.push(`<text class="state" x="${X_LEFT - 10}" y="${mid + 4}" text-anchor="end" style="fill:${color(e.host)}">${esc(clip(txt, Math.floor((X_LEFT - X_TIME - 16) / 7.5)))}</text>`);
        out.push(`<text class="cause" x="${X_LEFT + 10}" y="${mid + 4}">${esc(clip(`${e.from} → (${e.cause})`, laneChars))}</text>`);
      }
      out.push(`<title>${esc(`${e.host}: ${why}`)}</title>`);
      break;
    }
    case 'error':
    case 'app': {
      const right = isRight(e.host);
      const txt = eventText(e, L).slice(e.host.length + 1);
      const cls = e.type === 'error' ? 'err' : 'app';
      // Application calls and errors sit inside the lane, against their host's line.
      if (right) out.push(`<text class="${cls}" x="${X_RIGHT - 10}" y="${mid + 4}" text-anchor="end">${esc(clip(txt, laneChars))}<title>${esc(txt)}</title></text>`);
      else out.push(`<text class="${cls}" x="${X_LEFT + 10}" y="${mid + 4}">${esc(clip(`${multi ? `${e.host}: ` : ''}${txt}`, laneChars))}<title>${esc(txt)}</title></text>`);
      break;
    }
    case 'packet': {
      // ARP, ICMP, UDP: an arrow like a segment's, labelled in tcpdump's words.
      const fromRight = isRight(e.host);
      const x1 = fromRight ? X_RIGHT : X_LEFT;
      const x2 = fromRight ? X_LEFT : X_RIGHT;
      const xe = e.dropped ? x1 + (x2 - x1) * 0.62 : x2 + (fromRight ? 2 : -2);
      const cls = `seg pkt${e.dropped ? ' lost' : ''}`;
      out.push(`<line class="${cls}" x1="${x1}" y1="${mid + 3}" x2="${xe.toFixed(1)}" y2="${mid + 9}" style="stroke:${color(e.host)}"${e.dropped ? '' : ` marker-end="url(#ld-arrow-${esc(e.host)})"`}/>`);
      const label = multi && !fromRight ? `${e.host}: ${e.text}` : e.text;
      out.push(`<text class="${cls}-label" x="${(X_LEFT + X_RIGHT) / 2}" y="${mid - 1}" text-anchor="middle">${esc(clip(label, laneChars))}<title>${esc(label)}</title></text>`);
      break;
    }
    case 'note':
      out.push(`<text class="note" x="${(X_LEFT + X_RIGHT) / 2}" y="${mid + 4}" text-anchor="middle">${esc(clip(`# ${e.text}`, 80))}</text>`);
      break;
  }
  return out.join('');
}

function tagLen(e: Extract<DemoEvent, { type: 'segment' }>): number {
  return (e.retransmit ? 16 : 0) + (e.dropped ? 8 + (e.reason && e.reason !== 'loss' ? e.reason.length + 3 : 0) : 0) + (e.corrupted ? 12 : 0);
}

export function ladderDefs(L: LadderLayout): string {
  return Object.entries(L.colors)
    .map(([h, c]) => `<marker id="ld-arrow-${esc(h)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${esc(c)}"/></marker>`)
    .join('');
}

export function ladderHeader(hosts: Record<string, string>, L: LadderLayout): string {
  const left = L.left.map((h) => `${h} ${hosts[h] ?? ''}`).join(', ');
  return `<text class="host" x="${L.xl}" y="16" text-anchor="middle" style="fill:${L.colors[L.left[0] ?? ''] ?? '#333'}">${esc(left)}</text>` +
    `<text class="host" x="${L.xr}" y="16" text-anchor="middle" style="fill:${L.colors[L.right] ?? '#333'}">${esc(`${L.right} ${hosts[L.right] ?? ''}`)}</text>` +
    `<text class="t" x="${X_TIME - 6}" y="16" text-anchor="end">time (s)</text>`;
}

export const LADDER_CSS = `
text{font:12px ui-monospace,Menlo,Consolas,monospace;fill:#222}
.life{stroke:#b8c0cc;stroke-width:2}
.t{fill:#7a8494;font-size:11px}
.seg{stroke-width:1.6}
.seg.rtx{stroke-dasharray:6 3}
.seg.lost{stroke-dasharray:3 3}
.cross{stroke:#d21;stroke-width:2.4}
.seg-label,.seg.rtx-label,.seg.lost-label,.seg.rtx.lost-label{font-size:11.5px}
.tag{fill:#c0392b;font-weight:bold}
.state{font-weight:bold}
.cause{fill:#6b7480;font-size:11px}
.app{fill:#6b7480;font-size:11px;font-style:italic}
.err{fill:#c0392b;font-weight:bold;font-size:11px}
.note{fill:#555;font-style:italic;font-size:11px}
.host{font-weight:bold;font-size:13px}
`;

/** The ladder of events[0 .. n-1] as one standalone SVG document (the page's export). */
export function ladderSvg(res: Pick<DemoResult, 'hosts' | 'events'>, n: number, colors: Record<string, string>): string {
  const L = ladderLayout(res.hosts, res.events, colors, LADDER_W);
  const count = Math.min(n, res.events.length);
  const top = 26;
  const h = top + count * ROW_H + 8;
  const rows: string[] = [];
  for (let i = 0; i < count; i++) rows.push(rowSvg(res.events[i]!, L, top + i * ROW_H));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${h}" viewBox="0 0 ${L.width} ${h}"><style>${LADDER_CSS}</style><defs>${ladderDefs(L)}</defs><rect width="100%" height="100%" fill="#fff"/>${ladderHeader(res.hosts, L)}${rows.join('')}</svg>`;
}
