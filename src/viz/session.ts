/**
 * The viz's model, with no DOM: a timeline of DemoEvents with a cursor that moves forward and
 * back, and, for simulated runs, the SimWorld behind it, stepped one simulator step at a time so
 * each event comes with the hosts' netstat rows, counters and connection snapshots (timers) as
 * they were right after it. Three sources: a `synack demo` scenario, the playground (two hosts
 * driven by hand, every action logged by simulator step so a URL can replay it exactly), and a
 * finished DemoResult (a capture, a packetdrill run) with no snapshots.
 */
import { SimWorld } from '../driver/world.js';
import { CLIENT, SERVER, findScenario, type Ctx } from '../demo/scenarios.js';
import { Recorder } from '../demo/recorder.js';
import type { DemoEvent, DemoResult } from '../demo/events.js';
import type { ConnRow } from '../diag/types.js';
import type { Stack } from '../stack/stack.js';
import type { TcpSocket } from '../stack/socket.js';
import type { Listener } from '../stack/listener.js';
import type { TcpStateName } from '../tcp/state.js';
import { ms } from '../time.js';

export interface ConnView {
  local: string;
  remote: string;
  state: TcpStateName;
  rto: number;
  backoff: number;
  cwnd: number;
  sndUna: number;
  sndNxt: number;
  rcvNxt: number;
  retrans: number;
  keepaliveProbes: number;
  /** Active timers, remaining µs. */
  timers: { name: string; remaining: number }[];
}

export interface HostSnap {
  rows: ConnRow[];
  counters: Record<string, number>;
  conns: ConnView[];
}

/** Hosts' views right after an event (shared by all events of one simulator step). */
export interface Snap {
  /** Virtual µs. */
  now: number;
  hosts: Record<string, HostSnap>;
}

export interface Settings {
  seed: number;
  /** Loss probability 0..1. */
  loss: number;
  /** One-way delay, ms. */
  delayMs: number;
  /** Reorder probability 0..1. */
  reorder: number;
}

export const DEFAULT_SETTINGS: Settings = { seed: 1, loss: 0, delayMs: 10, reorder: 0 };

/** One playground action; `step` is the simulator step count it happened at (exact replay). */
export interface Action {
  step: number;
  host: string;
  op: PlaygroundOp;
  /** Socket index in the host's socket list, or the byte count for send, or path settings. */
  arg?: number;
  sock?: number;
}

export type PlaygroundOp = 'listen' | 'unlisten' | 'connect' | 'send' | 'shutdown' | 'close' | 'linger0' | 'abort' | 'loss' | 'delay' | 'reorder';
export const PLAYGROUND_OPS: readonly PlaygroundOp[] = ['listen', 'unlisten', 'connect', 'send', 'shutdown', 'close', 'linger0', 'abort', 'loss', 'delay', 'reorder'];

export const PLAYGROUND = 'playground';
const PORT = 80;
/** Events a scenario may produce before the viz stops running it (syn-flood is the largest). */
const MAX_EVENTS = 200_000;
const MAX_CONNS_PER_SNAP = 64;

export class Session {
  readonly events: DemoEvent[] = [];
  /** snapIndex[i]: index into snaps for events[i]. */
  private readonly snapIndex: number[] = [];
  private readonly snaps: Snap[] = [];
  /** Events shown: events[0 .. cursor-1]. */
  cursor = 0;
  readonly world: SimWorld | null;
  private readonly rec: Recorder | null;
  readonly hosts: Record<string, string>;
  readonly actions: Action[] = [];
  /** Playground sockets per host, in creation order. */
  readonly sockets = new Map<string, TcpSocket[]>();
  private readonly listeners = new Map<string, Listener>();
  private readonly pendingWrite = new Map<TcpSocket, number>();
  /** The path settings now (the playground's sliders change them; `settings` keeps the initial ones for the URL). */
  readonly current: Settings;
  /** The simulator has nothing left to run. */
  finished = false;
  truncated = false;

  private constructor(
    readonly kind: 'scenario' | 'playground' | 'result',
    readonly name: string,
    readonly settings: Settings,
    world: SimWorld | null,
    rec: Recorder | null,
    hosts: Record<string, string>,
    readonly explain = '',
  ) {
    this.world = world;
    this.rec = rec;
    this.hosts = hosts;
    this.current = { ...settings };
  }

  /** A `synack demo` scenario, stepped lazily (call `runAll` to run it to the end now). */
  static scenario(name: string, settings: Partial<Settings> = {}): Session {
    const sc = findScenario(name);
    if (!sc) throw new RangeError(`unknown scenario '${name}'`);
    const s = { ...DEFAULT_SETTINGS, ...settings };
    const w = new SimWorld({ seed: s.seed, path: { delay: ms(s.delayMs), loss: s.loss, reorder: s.reorder } });
    const client = w.addHost('client', [CLIENT], sc.name === 'mss' ? { mtu: 1400 } : {});
    const server = w.addHost('server', [SERVER]);
    const rec = new Recorder(w);
    const hosts: Record<string, string> = { client: CLIENT, server: SERVER };
    if (name === 'syn-flood') hosts.attacker = '10.0.0.66';
    if (name === 'mss') hosts['old-host'] = '10.0.0.9';
    const sess = new Session('scenario', name, s, w, rec, hosts, sc.explain);
    const ctx: Ctx = { w, rec, client, server, opts: { seed: s.seed, loss: s.loss, delayMs: s.delayMs } };
    sc.run(ctx);
    sess.collect();
    return sess;
  }

  /** Two idle hosts to drive by hand; `actions` (from a URL) are replayed exactly. */
  static playground(settings: Partial<Settings> = {}, actions: Action[] = []): Session {
    const s = { ...DEFAULT_SETTINGS, ...settings };
    const w = new SimWorld({ seed: s.seed, path: { delay: ms(s.delayMs), loss: s.loss, reorder: s.reorder } });
    w.addHost('client', [CLIENT]);
    w.addHost('server', [SERVER]);
    const rec = new Recorder(w);
    const sess = new Session('playground', PLAYGROUND, s, w, rec, { client: CLIENT, server: SERVER },
      'Two hosts, nothing running: listen on one, connect from the other, then send, shut down, close or abort each end and watch the states. Slow the path down (delay) to make FINs cross for CLOSING, or lose segments to see retransmissions and backoff.');
    for (const h of ['client', 'server']) sess.sockets.set(h, []);
    sess.collect();
    for (const a of actions) {
      while (w.sim.steps < a.step && sess.stepSim()) {
        /* run up to the action */
      }
      sess.act(a.host, a.op, a.arg, a.sock);
    }
    return sess;
  }

  /** A finished run (a capture, a packetdrill script): events only. */
  static result(res: DemoResult, explain = ''): Session {
    const sess = new Session('result', res.scenario, { ...DEFAULT_SETTINGS, seed: res.seed ?? DEFAULT_SETTINGS.seed }, null, null, res.hosts, explain);
    for (const e of res.events) {
      sess.events.push(e);
      sess.snapIndex.push(-1);
    }
    sess.finished = true;
    sess.cursor = 0;
    return sess;
  }

  get length(): number {
    return this.events.length;
  }

  /** Virtual seconds at the cursor. */
  get time(): number {
    if (this.cursor > 0) return this.events[this.cursor - 1]!.t;
    return this.world ? 0 : this.events[0]?.t ?? 0;
  }

  /** Hosts' view at the cursor (null for results). */
  snap(): Snap | null {
    if (this.snaps.length === 0) return null;
    if (this.cursor === 0) return this.snaps[0]!;
    const i = this.snapIndex[this.cursor - 1]!;
    return i >= 0 ? this.snaps[i]! : null;
  }

  /** Move forward one event, running the simulator when the cursor is at the end. */
  forward(): boolean {
    if (this.cursor < this.events.length) {
      this.cursor++;
      return true;
    }
    if (!this.extend()) return false;
    this.cursor++;
    return true;
  }

  back(): boolean {
    if (this.cursor === 0) return false;
    this.cursor--;
    return true;
  }

  seek(n: number): void {
    while (this.events.length < n && this.extend()) {
      /* run */
    }
    this.cursor = Math.max(0, Math.min(n, this.events.length));
  }

  /** Run the simulator to the end (or the event cap); the cursor stays. */
  runAll(): void {
    while (this.extend()) {
      /* run */
    }
  }

  /** Run simulator steps until at least one new event exists. False when nothing is left. */
  extend(): boolean {
    const n = this.events.length;
    for (let guard = 0; guard < 100_000 && this.events.length === n; guard++) {
      if (!this.stepSim()) return false;
    }
    return this.events.length > n;
  }

  /** One simulator step; false when the simulator has nothing left. */
  private stepSim(): boolean {
    const w = this.world;
    if (!w || this.finished) return false;
    if (this.events.length >= MAX_EVENTS) {
      this.finished = true;
      this.truncated = true;
      return false;
    }
    if (!w.sim.step()) {
      this.finished = true;
      return false;
    }
    this.collect();
    return true;
  }

  /** Take the recorder's new events with one snapshot of the hosts after them. */
  private collect(): void {
    const rec = this.rec!;
    const w = this.world!;
    const fresh = rec.events.length > this.events.length;
    if (!fresh && this.snaps.length > 0) return;
    const snap: Snap = { now: w.now, hosts: {} };
    for (const [name, st] of w.hosts) snap.hosts[name] = hostSnap(st, w.now);
    this.snaps.push(snap);
    for (let i = this.events.length; i < rec.events.length; i++) {
      this.events.push(rec.events[i]!);
      this.snapIndex.push(this.snaps.length - 1);
    }
  }

  // ------------------------------------------------------------------ playground

  /** Does the host have a socket that `op` applies to? (For enabling buttons.) */
  socketsOf(host: string): TcpSocket[] {
    return this.sockets.get(host) ?? [];
  }

  listening(host: string): boolean {
    return this.listeners.has(host);
  }

  /**
   * Apply a user action now (at the end of the timeline) and log it. Returns an error message
   * the application would see, or null.
   */
  act(host: string, op: PlaygroundOp, arg?: number, sockIndex?: number): string | null {
    const w = this.world;
    if (!w || this.kind !== 'playground') return 'only the playground takes actions';
    const st = w.host(host);
    const rec = this.rec!;
    const a: Action = { step: w.sim.steps, host, op };
    if (arg !== undefined) a.arg = arg;
    if (sockIndex !== undefined) a.sock = sockIndex;
    const socks = this.sockets.get(host)!;
    const sock = socks[sockIndex ?? socks.length - 1];
    const peer = host === 'client' ? SERVER : CLIENT;
    let err: string | null = null;
    try {
      switch (op) {
        case 'listen': {
          if (this.listeners.has(host)) return 'already listening';
          rec.app(host, 'listen', { port: PORT });
          const l = st.listen({ port: PORT });
          this.listeners.set(host, l);
          l.onConnection = () => {
            for (let s = l.accept(); s; s = l.accept()) {
              rec.app(host, 'accept', { remote: `${s.remoteAddress}:${s.remotePort}` });
              this.adopt(host, s);
            }
          };
          break;
        }
        case 'unlisten': {
          const l = this.listeners.get(host);
          if (!l) return 'not listening';
          rec.app(host, 'close listener', { port: PORT });
          l.close();
          this.listeners.delete(host);
          break;
        }
        case 'connect': {
          rec.app(host, 'connect', { remote: `${peer}:${PORT}` });
          this.adopt(host, st.connect({ remoteAddress: peer, remotePort: PORT }));
          break;
        }
        case 'loss':
        case 'delay':
        case 'reorder': {
          const v = arg ?? 0;
          const c = this.current;
          if (op === 'loss') c.loss = v;
          else if (op === 'delay') c.delayMs = v;
          else c.reorder = v;
          w.net.setLink('client', 'server', { loss: c.loss, delay: ms(c.delayMs), reorder: c.reorder });
          rec.note(`path: loss ${Math.round(c.loss * 100)}%, delay ${c.delayMs} ms, reorder ${Math.round(c.reorder * 100)}%`);
          break;
        }
        default: {
          if (!sock) return `${host} has no socket`;
          switch (op) {
            case 'send': {
              const n = Math.max(1, Math.floor(arg ?? 1000));
              rec.app(host, 'write', { bytes: n });
              this.pendingWrite.set(sock, (this.pendingWrite.get(sock) ?? 0) + n);
              this.pump(sock);
              break;
            }
            case 'shutdown':
              rec.app(host, 'shutdown');
              sock.shutdown();
              break;
            case 'close':
              rec.app(host, 'close');
              sock.close();
              break;
            case 'linger0':
              rec.app(host, 'close', { linger: 0 });
              sock.setOption('linger', 0);
              sock.close();
              break;
            case 'abort':
              rec.app(host, 'abort');
              sock.abort();
              break;
          }
        }
      }
    } catch (e) {
      err = e instanceof Error ? e.message : String(e);
      rec.error(host, (e as { code?: string }).code ?? 'error', err);
    }
    this.actions.push(a);
    this.collect();
    this.finished = false;
    this.cursor = this.events.length;
    return err;
  }

  private adopt(host: string, s: TcpSocket): void {
    const rec = this.rec!;
    this.sockets.get(host)!.push(s);
    s.onError = (code, message) => rec.app(host, 'error', { code, message });
    s.onData = () => {
      const d = s.read();
      if (d) rec.app(host, 'read', { bytes: d.length });
    };
    s.onEnd = () => rec.app(host, 'read', { bytes: 0, eof: true });
    s.onWritable = () => this.pump(s);
    s.onConnect = () => this.pump(s);
  }

  /** Write what the send buffer takes of the bytes the user asked to send. */
  private pump(s: TcpSocket): void {
    const want = this.pendingWrite.get(s) ?? 0;
    if (want <= 0) return;
    let n = 0;
    try {
      n = s.write(new Uint8Array(Math.min(want, 1 << 20)).fill(0x61));
    } catch {
      this.pendingWrite.delete(s);
      return;
    }
    if (want - n > 0) this.pendingWrite.set(s, want - n);
    else this.pendingWrite.delete(s);
  }
}

function hostSnap(st: Stack, now: number): HostSnap {
  const conns: ConnView[] = [];
  for (const c of st.connections()) {
    if (conns.length >= MAX_CONNS_PER_SNAP) break;
    const s = c.snapshot(now);
    conns.push({
      local: ep(s.localAddr, s.localPort), remote: ep(s.remoteAddr, s.remotePort), state: s.state, rto: s.rto, backoff: s.backoff,
      cwnd: s.cwnd, sndUna: s.sndUna, sndNxt: s.sndNxt, rcvNxt: s.rcvNxt, retrans: s.totalRetrans, keepaliveProbes: s.keepaliveProbes,
      timers: s.timers.map((t) => ({ name: t.name, remaining: t.remaining })),
    });
  }
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(st.counters)) if (v !== 0) counters[k] = v;
  return { rows: st.netstat(), counters, conns };
}

const ep = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

// ------------------------------------------------------------------ URL state

export interface UrlState {
  scenario: string;
  settings: Settings;
  actions: Action[];
  at?: number;
}

/** "#scenario=handshake&seed=1&loss=0&delay=10&reorder=0&at=5" (playground adds &acts=...). */
export function encodeUrlState(u: UrlState): string {
  const p = new URLSearchParams();
  p.set('scenario', u.scenario);
  p.set('seed', String(u.settings.seed));
  p.set('loss', String(u.settings.loss));
  p.set('delay', String(u.settings.delayMs));
  p.set('reorder', String(u.settings.reorder));
  if (u.actions.length) p.set('acts', u.actions.map((a) => [a.step, a.host, a.op, a.arg ?? '', a.sock ?? ''].join('.')).join('~'));
  if (u.at !== undefined) p.set('at', String(u.at));
  return `#${p.toString()}`;
}

export function decodeUrlState(hash: string): UrlState | null {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const scenario = p.get('scenario');
  if (!scenario) return null;
  const num = (k: string, d: number, lo: number, hi: number): number => {
    const v = Number(p.get(k));
    return p.get(k) !== null && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d;
  };
  const settings: Settings = {
    seed: Math.floor(num('seed', 1, 0, 2 ** 32 - 1)),
    loss: num('loss', 0, 0, 1),
    delayMs: num('delay', 10, 0, 10_000),
    reorder: num('reorder', 0, 0, 1),
  };
  const actions: Action[] = [];
  for (const part of (p.get('acts') ?? '').split('~')) {
    if (!part) continue;
    const f = part.split('.');
    // A fractional arg (loss 0.25) splits into two fields: "0" "25".
    const [step, host, op] = f;
    if (!host || !op || !(PLAYGROUND_OPS as readonly string[]).includes(op)) continue;
    const rest = f.slice(3);
    const sockStr = rest.pop() ?? '';
    const argStr = rest.join('.');
    const a: Action = { step: Number(step), host, op: op as PlaygroundOp };
    if (argStr !== '') a.arg = Number(argStr);
    if (sockStr !== '') a.sock = Number(sockStr);
    if (Number.isFinite(a.step)) actions.push(a);
  }
  const at = p.get('at');
  return { scenario, settings, actions, ...(at !== null && Number.isFinite(Number(at)) ? { at: Number(at) } : {}) };
}
