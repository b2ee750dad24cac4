/**
 * The `synack viz` page. Everything runs here in the browser: the simulator, the stacks and the
 * TCP core are bundled in (scripts/build-viz.mjs), so stepping never talks to a server. This file
 * is DOM glue only; the models are src/viz/session.ts, state-diagram.ts and ladder-view.ts.
 */
import { SCENARIOS } from '../../demo/scenarios.js';
import type { DemoResult } from '../../demo/events.js';
import { NETSTAT_NAMES } from '../../tcp/state.js';
import { captureToResult } from '../capture.js';
import { diagramState, renderStateDiagram } from '../state-diagram.js';
import { ROW_H, eventText, ladderDefs, ladderHeader, ladderLayout, ladderSvg, rowSvg, type LadderLayout } from '../ladder-view.js';
import { DEFAULT_SETTINGS, PLAYGROUND, Session, decodeUrlState, encodeUrlState, type PlaygroundOp, type Settings } from '../session.js';
import { runPacketdrill, PACKETDRILL_AVAILABLE, PACKETDRILL_EXAMPLE } from './packetdrill.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const PALETTE: Record<string, string> = { client: '#1f6feb', server: '#e8590c', attacker: '#c2255c', 'old-host': '#2f9e44' };
const EXTRA = ['#7048e8', '#0c8599', '#e67700', '#5c940d', '#d6336c'];
/** Real milliseconds per event at 1× speed. */
const EVENT_MS = 600;

let sess: Session;
let layout: LadderLayout;
let colors: Record<string, string> = {};
let playing = false;
let speed = 1;
let lastFrame = 0;
let acc = 0;
let renderQueued = false;
let followCursor = true;
/** Which session and width the ladder header was drawn for. */
let headerFor: string | null = null;

function colorsFor(hosts: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  for (const h of Object.keys(hosts)) out[h] = PALETTE[h] ?? EXTRA[i++ % EXTRA.length]!;
  return out;
}

function settingsFromControls(): Settings {
  const seed = Math.max(0, Math.floor(Number(($('seed') as HTMLInputElement).value) || 0));
  return {
    seed,
    loss: Number(($('loss') as HTMLInputElement).value) / 100,
    delayMs: Number(($('delay') as HTMLInputElement).value),
    reorder: Number(($('reorder') as HTMLInputElement).value) / 100,
  };
}

function showSettings(s: Settings): void {
  ($('seed') as HTMLInputElement).value = String(s.seed);
  ($('loss') as HTMLInputElement).value = String(Math.round(s.loss * 100));
  ($('delay') as HTMLInputElement).value = String(s.delayMs);
  ($('reorder') as HTMLInputElement).value = String(Math.round(s.reorder * 100));
  $('loss-v').textContent = `${Math.round(s.loss * 100)}%`;
  $('delay-v').textContent = `${s.delayMs} ms`;
  $('reorder-v').textContent = `${Math.round(s.reorder * 100)}%`;
}

/** Replace the session and redraw everything. */
function load(next: Session, at = 0): void {
  sess = next;
  if (at > 0) sess.seek(at);
  colors = colorsFor(sess.hosts);
  layout = ladderLayout(sess.hosts, sess.events, colors, ladderWidth());
  const sel = $('scenario') as HTMLSelectElement;
  if (sess.kind === 'result') {
    let opt = sel.querySelector('option[data-result]') as HTMLOptionElement | null;
    if (!opt) {
      opt = document.createElement('option');
      opt.dataset.result = '1';
      sel.appendChild(opt);
    }
    opt.value = `result:${sess.name}`;
    opt.textContent = sess.name;
    sel.value = opt.value;
  } else {
    sel.value = sess.name;
    sel.querySelector('option[data-result]')?.remove();
  }
  showSettings(sess.current);
  $('explain').innerHTML = '';
  const b = document.createElement('b');
  b.textContent = sess.name;
  $('explain').append(b, document.createTextNode(sess.explain));
  headerFor = null;
  buildDrive();
  ($('ladder') as HTMLElement).scrollTop = 0;
  followCursor = true;
  pause();
  render();
  updateUrl();
}

function loadScenario(name: string, settings: Settings, at = 0): void {
  const s = name === PLAYGROUND ? Session.playground(settings) : Session.scenario(name, settings);
  load(s, at);
}

// ------------------------------------------------------------------ rendering

function queueRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render(): void {
  // New events since the layout was made may carry the first SYN of a direction.
  const w = ladderWidth();
  if (sess.kind !== 'result' || w !== layout.width) layout = ladderLayout(sess.hosts, sess.events, colors, w);
  if (headerFor !== `${sess.name}|${layout.width}`) {
    headerFor = `${sess.name}|${layout.width}`;
    $('ladder-head').innerHTML = `<svg width="${layout.width}" height="26">${ladderHeader(sess.hosts, layout)}</svg>`;
  }
  const ds = diagramState(sess.events, sess.cursor, Object.keys(sess.hosts));
  $('diagram').innerHTML = renderStateDiagram(ds, colors);
  $('clock').textContent = `t = ${sess.time.toFixed(6)} s`;
  $('event-count').textContent = `event ${sess.cursor} / ${sess.length}${sess.finished ? '' : '+'}`;
  const cur = sess.cursor > 0 ? sess.events[sess.cursor - 1]! : null;
  $('current-event').textContent = cur ? eventText(cur, layout) : '';
  ($('step-back') as HTMLButtonElement).disabled = sess.cursor === 0;
  ($('to-start') as HTMLButtonElement).disabled = sess.cursor === 0;
  ($('step-fwd') as HTMLButtonElement).disabled = sess.finished && sess.cursor >= sess.length;
  renderLadder();
  renderTables();
  renderDriveState();
}

function renderLadder(): void {
  const box = $('ladder');
  const spacer = $('ladder-spacer');
  const n = sess.cursor;
  spacer.style.height = `${n * ROW_H + 8}px`;
  spacer.style.width = `${layout.width}px`;
  if (followCursor) {
    const top = (n - 1) * ROW_H;
    if (top < box.scrollTop || top + ROW_H > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, top - box.clientHeight + 3 * ROW_H);
  }
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_H) - 5);
  const last = Math.min(n, Math.ceil((box.scrollTop + box.clientHeight) / ROW_H) + 5);
  const parts: string[] = [];
  for (let i = first; i < last; i++) {
    const y = (i - first) * ROW_H;
    parts.push(`<g class="row${i === n - 1 ? ' current' : ''}" data-i="${i}"><rect class="bg" x="0" y="${y}" width="${layout.width}" height="${ROW_H}"/>${rowSvg(sess.events[i]!, layout, y)}</g>`);
  }
  let svg = spacer.querySelector('svg.rows') as SVGSVGElement | null;
  if (!svg) {
    spacer.innerHTML = `<svg class="rows" xmlns="http://www.w3.org/2000/svg"></svg>`;
    svg = spacer.querySelector('svg.rows') as SVGSVGElement;
  }
  svg.setAttribute('width', String(layout.width));
  svg.setAttribute('height', String(Math.max(1, (last - first) * ROW_H)));
  svg.style.top = `${first * ROW_H}px`;
  svg.innerHTML = `<defs>${ladderDefs(layout)}</defs>${parts.join('')}`;
}

/** The ladder fills its column (scrolls sideways below 640 px). */
function ladderWidth(): number {
  return Math.max(640, $('ladder').clientWidth - 2);
}

const fmtUs = (us: number): string => (us >= 1e6 ? `${(us / 1e6).toFixed(3)} s` : `${(us / 1e3).toFixed(1)} ms`);

function renderTables(): void {
  const snap = sess.snap();
  const net: string[] = [];
  const cnt: string[] = [];
  const tim: string[] = [];
  if (!snap) {
    const why = sess.kind === 'result' ? 'a recorded run: no live stack to ask' : 'no snapshot yet';
    $('netstat').innerHTML = `<p class="muted">${why}</p>`;
    $('counters').innerHTML = `<p class="muted">${why}</p>`;
    $('timers').innerHTML = `<p class="muted">${why}</p>`;
    return;
  }
  for (const [host, hs] of Object.entries(snap.hosts)) {
    const c = colors[host] ?? '#555';
    net.push(`<table id="netstat-${host}"><caption style="color:${c}">${host} ${sess.hosts[host] ?? ''}</caption><tr><th>Recv-Q</th><th>Send-Q</th><th>Local</th><th>Foreign</th><th>State</th></tr>`);
    for (const r of hs.rows) {
      net.push(`<tr data-state="${r.state}"><td>${r.recvQ}</td><td>${r.sendQ}</td><td>${r.localAddress}:${r.localPort}</td><td>${r.remotePort === 0 ? `${r.remoteAddress}:*` : `${r.remoteAddress}:${r.remotePort}`}</td><td>${NETSTAT_NAMES[r.state]}</td></tr>`);
    }
    if (hs.rows.length === 0) net.push('<tr><td colspan="5" class="muted">no sockets</td></tr>');
    net.push('</table>');
    const entries = Object.entries(hs.counters);
    cnt.push(`<div id="counters-${host}"><b style="color:${c}">${host}</b><div class="counters">${entries.length ? entries.map(([k, v]) => `<span>${k}</span><span class="v">${v}</span>`).join('') : '<span class="muted">all zero</span>'}</div></div>`);
    for (const cv of hs.conns) {
      tim.push(`<div class="conn" style="border-color:${c}" data-host="${host}" data-state="${cv.state}"><div class="head">${host} ${cv.local} → ${cv.remote} ${cv.state}</div>`);
      tim.push(`<div>rto ${fmtUs(cv.rto)} · backoff ${cv.backoff} · cwnd ${cv.cwnd} · retrans ${cv.retrans}</div>`);
      if (cv.timers.length === 0) tim.push('<div class="muted">no timers running</div>');
      for (const t of cv.timers) {
        const extra = t.name === 'retransmit' ? ` (backoff ${cv.backoff})` : t.name === 'keepalive' && cv.keepaliveProbes ? ` (${cv.keepaliveProbes} probes)` : '';
        const total = t.name === 'time-wait' ? 60e6 : t.name === 'retransmit' ? Math.max(cv.rto, t.remaining) : Math.max(t.remaining, 1);
        const pct = Math.max(0, Math.min(100, (t.remaining / total) * 100));
        tim.push(`<div class="timer" data-timer="${t.name}"><span>${t.name}</span><span class="bar"><i style="width:${pct.toFixed(0)}%"></i></span><span>${fmtUs(Math.max(0, t.remaining))}${extra}</span></div>`);
      }
      tim.push('</div>');
    }
  }
  $('netstat').innerHTML = net.join('');
  $('counters').innerHTML = cnt.join('');
  $('timers').innerHTML = tim.length ? tim.join('') : '<p class="muted">no connections</p>';
}

// ------------------------------------------------------------------ driving

const OPS: [PlaygroundOp, string, string][] = [
  ['listen', 'listen', 'passive open on port 80'],
  ['connect', 'connect', 'active open to the other host, port 80'],
  ['send', 'send', 'write N bytes'],
  ['shutdown', 'shutdown', 'shutdown(SHUT_WR): send FIN, keep reading'],
  ['close', 'close', 'close(): FIN after queued data'],
  ['linger0', 'close linger 0', 'SO_LINGER 0 then close(): RST, no TIME_WAIT'],
  ['abort', 'abort', 'abort: RST now'],
  ['unlisten', 'close listener', 'close the listening socket'],
];

function buildDrive(): void {
  const box = $('drive');
  box.innerHTML = '';
  const live = sess.kind === 'playground';
  $('drive-hint').innerHTML = live
    ? 'Click to act at the current virtual time, then step or play to let the segments fly.'
    : `Buttons work in the <a href="#" id="go-playground">playground</a> (scenarios run by themselves).`;
  $('go-playground')?.addEventListener('click', (ev) => {
    ev.preventDefault();
    loadScenario(PLAYGROUND, settingsFromControls());
  });
  for (const host of ['client', 'server']) {
    if (!(host in sess.hosts)) continue;
    const p = document.createElement('div');
    p.className = 'host-panel';
    p.style.borderColor = colors[host] ?? '#999';
    p.innerHTML = `<h3 style="color:${colors[host]}">${host} ${sess.hosts[host]}</h3><div class="btns"></div><div><label>bytes <input type="number" min="1" value="1000" data-host="${host}" class="nbytes"></label> <label>socket <select data-host="${host}" class="sock"></select></label></div>`;
    const btns = p.querySelector('.btns')!;
    for (const [op, label, title] of OPS) {
      const b = document.createElement('button');
      b.textContent = label;
      b.title = title;
      b.dataset.host = host;
      b.dataset.op = op;
      b.disabled = !live;
      b.addEventListener('click', () => doAction(host, op));
      btns.appendChild(b);
    }
    box.appendChild(p);
  }
}

function renderDriveState(): void {
  if (sess.kind !== 'playground') return;
  for (const host of ['client', 'server']) {
    const sel = document.querySelector(`select.sock[data-host="${host}"]`) as HTMLSelectElement | null;
    if (!sel) continue;
    const socks = sess.socketsOf(host);
    const prev = sel.value;
    const opts = socks.map((s, i) => `<option value="${i}">#${i} :${s.localPort}→:${s.remotePort} ${s.state}</option>`).join('');
    if (sel.innerHTML !== opts) {
      sel.innerHTML = opts;
      sel.value = prev !== '' && Number(prev) < socks.length ? prev : String(socks.length - 1);
    }
    const has = socks.length > 0;
    for (const b of document.querySelectorAll<HTMLButtonElement>(`button[data-host="${host}"]`)) {
      const op = b.dataset.op as PlaygroundOp;
      b.disabled = op === 'listen' ? sess.listening(host) : op === 'unlisten' ? !sess.listening(host) : op === 'connect' ? false : !has;
    }
  }
}

function doAction(host: string, op: PlaygroundOp): void {
  pause();
  const sel = document.querySelector(`select.sock[data-host="${host}"]`) as HTMLSelectElement | null;
  const sock = sel && sel.value !== '' ? Number(sel.value) : undefined;
  const nb = document.querySelector(`input.nbytes[data-host="${host}"]`) as HTMLInputElement | null;
  const arg = op === 'send' ? Math.max(1, Number(nb?.value) || 1000) : undefined;
  sess.act(host, op, arg, op === 'listen' || op === 'unlisten' || op === 'connect' ? undefined : sock);
  followCursor = true;
  render();
  updateUrl();
}

// ------------------------------------------------------------------ time

function stepForward(): boolean {
  const ok = sess.forward();
  followCursor = true;
  return ok;
}

function play(): void {
  if (playing) return;
  if (sess.finished && sess.cursor >= sess.length) return;
  playing = true;
  acc = EVENT_MS; // show the next event at once
  lastFrame = performance.now();
  $('play').textContent = '⏸ pause';
  requestAnimationFrame(tick);
}

function pause(): void {
  if (!playing) return;
  playing = false;
  $('play').textContent = '▶ play';
  updateUrl();
}

function tick(now: number): void {
  if (!playing) return;
  acc += (now - lastFrame) * speed;
  lastFrame = now;
  let moved = false;
  for (let n = 0; acc >= EVENT_MS && n < 5000; n++) {
    acc -= EVENT_MS;
    if (!stepForward()) {
      pause();
      break;
    }
    moved = true;
  }
  if (acc > EVENT_MS) acc = 0;
  if (moved) render();
  if (playing) requestAnimationFrame(tick);
}

// ------------------------------------------------------------------ URL, export, inputs

let urlTimer = 0;
function updateUrl(): void {
  if (sess.kind === 'result') return;
  clearTimeout(urlTimer);
  urlTimer = window.setTimeout(() => {
    const h = encodeUrlState({ scenario: sess.name, settings: sess.settings, actions: sess.actions, at: sess.cursor });
    if (location.hash !== h) history.replaceState(null, '', h);
  }, 150);
}

function exportSvg(): void {
  const res: Pick<DemoResult, 'hosts' | 'events'> = { hosts: sess.hosts, events: sess.events };
  const blob = new Blob([ladderSvg(res, sess.cursor, colors)], { type: 'image/svg+xml' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `synack-${sess.name}-seed${sess.settings.seed}.svg`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function openCapture(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const res = captureToResult(bytes, file.name);
    const n = res.events.length;
    const segs = res.events.filter((e) => e.type === 'segment').length;
    const what = res.connections > 0
      ? `${res.connections} TCP connection${res.connections === 1 ? '' : 's'}, ${segs} segments (${n} events); both ends' states reconstructed from the segments each sent, as synack read does.`
      : `${segs} TCP segments; no connection could be reconstructed, so no states.`;
    const s = Session.result(res, ` ${what} Hosts: ${Object.entries(res.hosts).map(([h, a]) => (h === a ? h : `${h} ${a}`)).join(', ')}.`);
    load(s);
    sess.seek(s.length);
    render();
  } catch (e) {
    alert(`could not read ${file.name}: ${(e as Error).message}`);
  }
}

function runScript(): void {
  const text = ($('pd-script') as HTMLTextAreaElement).value;
  const r = runPacketdrill(text);
  $('pd-result').textContent = r.message;
  if (r.result) {
    load(Session.result(r.result, r.message));
    sess.seek(sess.length);
    render();
  }
}

function init(): void {
  const sel = $('scenario') as HTMLSelectElement;
  const pg = document.createElement('option');
  pg.value = PLAYGROUND;
  pg.textContent = 'playground (drive it yourself)';
  sel.appendChild(pg);
  for (const s of SCENARIOS) {
    const o = document.createElement('option');
    o.value = s.name;
    o.textContent = s.name;
    o.title = s.line;
    sel.appendChild(o);
  }
  sel.addEventListener('change', () => {
    if (sel.value.startsWith('result:')) return;
    loadScenario(sel.value, settingsFromControls());
  });
  const resettle = (): void => {
    const s = settingsFromControls();
    showSettings(s);
    if (sess.kind === 'scenario') loadScenario(sess.name, s, 0);
  };
  $('seed').addEventListener('change', () => {
    if (sess.kind === 'playground') loadScenario(PLAYGROUND, settingsFromControls());
    else resettle();
  });
  for (const [id, op] of [['loss', 'loss'], ['delay', 'delay'], ['reorder', 'reorder']] as const) {
    $(id).addEventListener('input', () => showSettings(settingsFromControls()));
    $(id).addEventListener('change', () => {
      if (sess.kind === 'playground') {
        const s = settingsFromControls();
        sess.act('client', op, op === 'loss' ? s.loss : op === 'delay' ? s.delayMs : s.reorder);
        render();
        updateUrl();
      } else resettle();
    });
  }
  $('play').addEventListener('click', () => (playing ? pause() : play()));
  $('step-fwd').addEventListener('click', () => {
    pause();
    stepForward();
    render();
    updateUrl();
  });
  $('step-back').addEventListener('click', () => {
    pause();
    sess.back();
    followCursor = true;
    render();
    updateUrl();
  });
  $('to-start').addEventListener('click', () => {
    pause();
    sess.seek(0);
    render();
    updateUrl();
  });
  $('to-end').addEventListener('click', () => {
    pause();
    sess.runAll();
    sess.seek(sess.length);
    followCursor = true;
    render();
    updateUrl();
  });
  $('speed').addEventListener('change', () => {
    speed = Number(($('speed') as HTMLSelectElement).value) || 1;
  });
  $('ladder').addEventListener('scroll', () => {
    const box = $('ladder');
    followCursor = box.scrollTop + box.clientHeight >= sess.cursor * ROW_H - ROW_H;
    queueRender();
  });
  $('ladder').addEventListener('click', (ev) => {
    const g = (ev.target as Element).closest('g.row') as SVGGElement | null;
    if (!g) return;
    pause();
    sess.seek(Number(g.dataset.i) + 1);
    render();
    updateUrl();
  });
  $('share').addEventListener('click', () => {
    const h = encodeUrlState({ scenario: sess.name, settings: sess.settings, actions: sess.actions, at: sess.cursor });
    history.replaceState(null, '', h);
    void navigator.clipboard?.writeText(location.href).catch(() => {});
    $('share').textContent = 'link copied';
    setTimeout(() => ($('share').textContent = 'share link'), 1500);
  });
  $('export-svg').addEventListener('click', exportSvg);
  ($('pcap-file') as HTMLInputElement).addEventListener('change', () => {
    const f = ($('pcap-file') as HTMLInputElement).files?.[0];
    if (f) void openCapture(f);
  });
  document.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (ev) => {
    if (ev.relatedTarget === null) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    document.body.classList.remove('dragging');
    const f = ev.dataTransfer?.files[0];
    if (f) void openCapture(f);
  });
  if (PACKETDRILL_AVAILABLE) {
    ($('pd-script') as HTMLTextAreaElement).value = PACKETDRILL_EXAMPLE;
    $('pd-run').addEventListener('click', runScript);
  } else $('pd').remove();
  document.addEventListener('keydown', (ev) => {
    if ((ev.target as HTMLElement).closest('input, textarea, select')) return;
    if (ev.key === 'ArrowRight') $('step-fwd').click();
    else if (ev.key === 'ArrowLeft') $('step-back').click();
    else if (ev.key === ' ') {
      ev.preventDefault();
      $('play').click();
    } else if (ev.key === 'Home') $('to-start').click();
    else if (ev.key === 'End') $('to-end').click();
    else return;
  });
  window.addEventListener('resize', queueRender);
  window.addEventListener('hashchange', () => {
    const u = decodeUrlState(location.hash);
    if (u && (u.scenario !== sess.name || JSON.stringify(u.settings) !== JSON.stringify(sess.settings))) fromUrl();
  });
  fromUrl();
  (window as unknown as { synackViz: unknown }).synackViz = { get session() { return sess; }, ready: true };
  document.body.dataset.ready = '1';
}

function fromUrl(): void {
  const u = decodeUrlState(location.hash);
  if (!u) {
    loadScenario('handshake', DEFAULT_SETTINGS);
    return;
  }
  try {
    if (u.scenario === PLAYGROUND) load(Session.playground(u.settings, u.actions), u.at ?? 0);
    else loadScenario(u.scenario, u.settings, u.at ?? 0);
  } catch (e) {
    console.error(e);
    loadScenario('handshake', DEFAULT_SETTINGS);
  }
}

init();
