import { SimWorld } from '../driver/world.js';
import type { Stack } from '../stack/stack.js';
import type { TcpSocket } from '../stack/socket.js';
import { StackError } from '../stack/errors.js';
import { ms, sec } from '../time.js';
import { buildTcpPacket } from '../wire/tcp.js';
import { ACK, FIN, RST, SYN, newTcpRepr, type TcpRepr } from '../wire/tcp-repr.js';
import { newIpRepr, parseIpHeader } from '../wire/ip.js';
import { parseTcp } from '../wire/tcp.js';
import { seqAdd } from '../seq.js';
import { Recorder } from './recorder.js';
import type { DemoResult } from './events.js';

/** How a scenario runs: seed and link impairments. */
export interface ScenarioOptions {
  seed: number;
  /** Loss probability on the client–server link (both directions). */
  loss: number;
  /** One-way delay in milliseconds. */
  delayMs: number;
}

export interface Ctx {
  w: SimWorld;
  rec: Recorder;
  client: Stack;
  server: Stack;
  opts: ScenarioOptions;
}

/** One demo scenario: a name, what it shows, and the script that drives two simulated hosts. */
export interface Scenario {
  name: string;
  /** One line for `synack demo` with no scenario. */
  line: string;
  /** Two sentences for the viz menu and the README. */
  explain: string;
  /** Set the scenario up on the world in `ctx` (listeners, connections, scheduled actions). */
  run(ctx: Ctx): void;
}

export const CLIENT = '10.0.0.1';
export const SERVER = '10.0.0.2';
const dec = new TextDecoder();

/** A server that accepts every connection and hands it to `handle`. */
function serve(ctx: Ctx, port: number, handle: (s: TcpSocket) => void, backlog?: number, tcp?: Parameters<Stack['listen']>[0]['tcp']): void {
  ctx.rec.app('server', 'listen', { port, ...(backlog !== undefined ? { backlog } : {}) });
  const l = ctx.server.listen({ port, ...(backlog !== undefined ? { backlog } : {}), ...(tcp ? { tcp } : {}) });
  l.onConnection = () => {
    const s = l.accept();
    if (!s) return;
    ctx.rec.app('server', 'accept', { remote: `${s.remoteAddress}:${s.remotePort}` });
    handle(s);
  };
}

/** Report every error the application sees on a socket. */
function watch(ctx: Ctx, host: string, s: TcpSocket): void {
  s.onError = (code, message) => ctx.rec.app(host, 'error', { code, message });
}

function readAll(ctx: Ctx, host: string, s: TcpSocket, onEof?: () => void): void {
  s.onData = () => {
    const d = s.read();
    if (d) ctx.rec.app(host, 'read', { bytes: d.length, data: d.length <= 64 ? dec.decode(d) : undefined });
  };
  s.onEnd = () => {
    ctx.rec.app(host, 'read', { bytes: 0, eof: true });
    onEof?.();
  };
}

function connect(ctx: Ctx, port: number, tcp?: Parameters<Stack['connect']>[0]['tcp'], localPort?: number): TcpSocket {
  ctx.rec.app('client', 'connect', { remote: `${SERVER}:${port}` });
  const s = ctx.client.connect({ remoteAddress: SERVER, remotePort: port, ...(tcp ? { tcp } : {}), ...(localPort ? { localPort } : {}) });
  watch(ctx, 'client', s);
  return s;
}

function write(ctx: Ctx, host: string, s: TcpSocket, data: string | Uint8Array): void {
  const n = s.write(data);
  ctx.rec.app(host, 'write', { bytes: n });
}

function close(ctx: Ctx, host: string, s: TcpSocket, how: 'close' | 'shutdown' | 'abort' = 'close'): void {
  ctx.rec.app(host, how);
  if (how === 'close') s.close();
  else if (how === 'shutdown') s.shutdown();
  else s.abort();
}

const F_IP = newIpRepr();
const F_TCP = newTcpRepr();
/** The TCP segment in a frame (src/wire's parsers), or null: for the scenarios' drop filters. */
function segOf(f: Uint8Array): TcpRepr | null {
  return parseIpHeader(f, F_IP, false) === null && parseTcp(f, F_IP, F_TCP, false) === null ? F_TCP : null;
}
const isSyn = (f: Uint8Array): boolean => ((segOf(f)?.flags ?? 0) & (SYN | ACK)) === SYN;
const isPureAckFrom = (port: number) => (f: Uint8Array): boolean => {
  const t = segOf(f);
  return t !== null && (t.flags & (SYN | ACK | FIN | RST)) === ACK && t.srcPort === port;
};

/** Every demo scenario, in the order `synack demo` lists them. */
export const SCENARIOS: Scenario[] = [
  {
    name: 'handshake',
    line: 'three-way handshake: SYN, SYN-ACK, ACK; both ends reach ESTABLISHED',
    explain: 'The client sends SYN and waits in SYN_SENT; the server answers SYN-ACK from SYN_RECEIVED. The final ACK puts both ends in ESTABLISHED, with MSS, window scale, SACK and timestamps agreed in the SYNs.',
    run(ctx) {
      serve(ctx, 80, (s) => watch(ctx, 'server', s));
      connect(ctx, 80);
    },
  },
  {
    name: 'transfer',
    line: 'a 20 KB request/response with cumulative ACKs, then an orderly close',
    explain: 'The client sends 20 KB; the server reads it, acknowledging with delayed and quick ACKs, and echoes a reply. Both sides close and the client, having closed first, waits in TIME_WAIT.',
    run(ctx) {
      const payload = new Uint8Array(20_000).map((_, i) => 97 + (i % 26));
      let got = 0;
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        s.onData = () => {
          const d = s.read();
          if (d) got += d.length;
        };
        s.onEnd = () => {
          ctx.rec.app('server', 'read', { bytes: got, eof: true });
          write(ctx, 'server', s, `received ${got} bytes`);
          close(ctx, 'server', s);
        };
      });
      const c = connect(ctx, 80);
      c.onConnect = () => {
        write(ctx, 'client', c, payload);
        close(ctx, 'client', c, 'shutdown');
      };
      readAll(ctx, 'client', c, () => close(ctx, 'client', c));
    },
  },
  {
    name: 'active-close',
    line: 'four-way close: the client closes first, FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT; server CLOSE_WAIT → LAST_ACK',
    explain: 'The side that closes first sends FIN and moves through FIN_WAIT_1 and FIN_WAIT_2, then waits 2MSL in TIME_WAIT after the peer\'s FIN. The other side sits in CLOSE_WAIT until its application closes, then LAST_ACK until its FIN is acknowledged.',
    run(ctx) {
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        readAll(ctx, 'server', s, () => ctx.w.sim.after(ms(200), () => close(ctx, 'server', s)));
      });
      const c = connect(ctx, 80);
      c.onConnect = () => ctx.w.sim.after(ms(100), () => close(ctx, 'client', c));
      readAll(ctx, 'client', c);
    },
  },
  {
    name: 'fin-ack-combined',
    line: 'the peer closes at once: its ACK and FIN share one segment, FIN_WAIT_1 → TIME_WAIT directly',
    explain: 'When the server application closes as soon as it reads end-of-file, its ACK of the client\'s FIN and its own FIN travel in one segment. The client goes from FIN_WAIT_1 straight to TIME_WAIT, never visiting FIN_WAIT_2: a three-segment close.',
    run(ctx) {
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        readAll(ctx, 'server', s, () => close(ctx, 'server', s));
      });
      const c = connect(ctx, 80);
      c.onConnect = () => ctx.w.sim.after(ms(100), () => close(ctx, 'client', c));
    },
  },
  {
    name: 'half-close',
    line: 'shutdown(SHUT_WR): the client stops sending but keeps reading while the server, in CLOSE_WAIT, sends',
    explain: 'A FIN only ends one direction. The client sends its request and shuts down its sending side; the server, in CLOSE_WAIT, still sends its answer, which the client reads in FIN_WAIT_2 before the server closes too.',
    run(ctx) {
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        readAll(ctx, 'server', s, () => {
          let n = 0;
          const tick = (): void => {
            if (n++ < 3) {
              write(ctx, 'server', s, `answer part ${n}\n`);
              ctx.w.sim.after(ms(50), tick);
            } else close(ctx, 'server', s);
          };
          tick();
        });
      });
      const c = connect(ctx, 80);
      c.onConnect = () => {
        write(ctx, 'client', c, 'GET /report\n');
        close(ctx, 'client', c, 'shutdown');
      };
      readAll(ctx, 'client', c, () => close(ctx, 'client', c));
    },
  },
  {
    name: 'simultaneous-open',
    line: 'both ends connect to each other at once (7777 ↔ 8888): four segments, both pass SYN_RECEIVED',
    explain: 'Each host actively opens to the other\'s port at the same instant, so each receives a SYN while in SYN_SENT. Both move to SYN_RECEIVED, answer with SYN-ACK, and one connection results — four segments instead of three.',
    run(ctx) {
      ctx.rec.app('client', 'connect', { local: `${CLIENT}:7777`, remote: `${SERVER}:8888` });
      const a = ctx.client.connect({ remoteAddress: SERVER, remotePort: 8888, localPort: 7777 });
      ctx.rec.app('server', 'connect', { local: `${SERVER}:8888`, remote: `${CLIENT}:7777` });
      const b = ctx.server.connect({ remoteAddress: CLIENT, remotePort: 7777, localPort: 8888 });
      watch(ctx, 'client', a);
      watch(ctx, 'server', b);
    },
  },
  {
    name: 'simultaneous-close',
    line: 'both ends close at once: FIN_WAIT_1 → CLOSING → TIME_WAIT on both sides',
    explain: 'Each side sends FIN before receiving the other\'s, so each receives a FIN in FIN_WAIT_1 and enters CLOSING. When the ACKs of the FINs arrive both go to TIME_WAIT.',
    run(ctx) {
      let srv: TcpSocket | null = null;
      serve(ctx, 80, (s) => {
        srv = s;
        watch(ctx, 'server', s);
      });
      const c = connect(ctx, 80);
      ctx.w.at(sec(1), () => {
        close(ctx, 'client', c);
        if (srv) close(ctx, 'server', srv);
      });
    },
  },
  {
    name: 'syn-lost',
    line: 'the first SYN is lost; the client retransmits it after the 1 s initial RTO and connects',
    explain: 'Until a SYN is answered the client cannot measure the round trip, so it waits the initial RTO of one second (RFC 6298) before sending the SYN again. The retransmitted SYN gets through and the handshake completes.',
    run(ctx) {
      ctx.w.net.dropNext((f) => isSyn(f), 1);
      serve(ctx, 80, (s) => watch(ctx, 'server', s));
      connect(ctx, 80);
    },
  },
  {
    name: 'syn-timeout',
    line: 'nobody answers: SYNs at 0, 1, 3, 7, 15, 31, 63 s, then ETIMEDOUT at 127 s',
    explain: 'A firewall silently drops every SYN, so the client retransmits with the timeout doubling each time (tcp_syn_retries = 6). After the sixth retransmission and a last 64 s wait, connect fails with ETIMEDOUT: the pile of SYN_SENT a netstat shows while this happens.',
    run(ctx) {
      ctx.w.net.setPath('client', 'server', { loss: 1 });
      ctx.rec.note('a firewall on the path drops every packet from the client to the server');
      serve(ctx, 80, () => undefined);
      connect(ctx, 80);
    },
  },
  {
    name: 'refused',
    line: 'connect to a port with no listener: the server answers RST,ACK and connect fails with ECONNREFUSED',
    explain: 'A SYN for a port nobody listens on is answered with a reset that acknowledges it (RFC 9293 §3.10.7.1). The client\'s connect fails at once with ECONNREFUSED — unlike a firewall, which makes it time out.',
    run(ctx) {
      connect(ctx, 81);
    },
  },
  {
    name: 'linger-abort',
    line: 'SO_LINGER on with 0 s: close sends RST, the peer sees ECONNRESET, nobody enters TIME_WAIT',
    explain: 'With linger enabled and a zero timeout, close() aborts: unsent data is discarded and a RST replaces the FIN exchange. The peer\'s next read fails with ECONNRESET and neither side keeps a TIME_WAIT entry.',
    run(ctx) {
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        readAll(ctx, 'server', s);
      });
      const c = connect(ctx, 80, { linger: 0 });
      c.onConnect = () => {
        write(ctx, 'client', c, 'some data');
        ctx.w.sim.after(ms(100), () => {
          ctx.rec.app('client', 'setsockopt', { option: 'SO_LINGER', onoff: 1, linger: 0 });
          close(ctx, 'client', c);
        });
      };
    },
  },
  {
    name: 'linger-timeout',
    line: 'SO_LINGER with a timeout: close waits for the ACK of data and FIN, or times out (EWOULDBLOCK, RST)',
    explain: 'With linger set to a few seconds, close() waits until the data and FIN are acknowledged. The first connection\'s peer reads, so close reports success; the second peer never reads and its window closes, so after 5 s close reports EWOULDBLOCK and the unsent data is discarded with a RST.',
    run(ctx) {
      let reader = true;
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        if (reader) readAll(ctx, 'server', s, () => close(ctx, 'server', s));
        reader = false;
      }, undefined, { recvBuffer: 8192 });
      const first = connect(ctx, 80, { linger: sec(5) });
      first.onConnect = () => {
        write(ctx, 'client', first, 'hello');
        close(ctx, 'client', first);
      };
      first.onLinger = (acked) => ctx.rec.app('client', 'close-returned', { connection: 1, acked, result: acked ? 0 : 'EWOULDBLOCK' });
      ctx.w.at(sec(2), () => {
        ctx.rec.note('second connection: the server application never reads and has a 8 KB receive buffer');
        const second = ctx.client.connect({ remoteAddress: SERVER, remotePort: 80, tcp: { linger: sec(5) } });
        ctx.rec.app('client', 'connect', { remote: `${SERVER}:80`, connection: 2 });
        watch(ctx, 'client', second);
        second.onLinger = (acked) => ctx.rec.app('client', 'close-returned', { connection: 2, acked, result: acked ? 0 : 'EWOULDBLOCK' });
        second.onConnect = () => {
          write(ctx, 'client', second, new Uint8Array(40_000));
          ctx.w.sim.after(ms(500), () => close(ctx, 'client', second));
        };
      });
    },
  },
  {
    name: 'time-wait',
    line: 'TIME_WAIT: the last ACK is lost, the peer retransmits its FIN, it is ACKed again; the 4-tuple stays taken for 2MSL',
    explain: 'The active closer keeps the connection in TIME_WAIT for 2MSL (60 s) so that a lost final ACK can be repeated: here it is lost, the server retransmits its FIN after its RTO, and the client ACKs it again and restarts the 2MSL timer. Meanwhile connecting again from the same port fails with EADDRINUSE.',
    run(ctx) {
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        readAll(ctx, 'server', s, () => close(ctx, 'server', s));
      });
      const c = connect(ctx, 80, undefined, 40000);
      c.onConnect = () => ctx.w.sim.after(ms(100), () => {
        // lose the client's final ACK (the ACK of the server's FIN)
        ctx.w.net.dropNext((f) => isPureAckFrom(40000)(f) && ctx.client.connections().some((x) => x.state === 'TIME_WAIT'), 1);
        close(ctx, 'client', c);
      });
      ctx.w.at(sec(5), () => {
        ctx.rec.app('client', 'connect', { local: `${CLIENT}:40000`, remote: `${SERVER}:80` });
        try {
          ctx.client.connect({ remoteAddress: SERVER, remotePort: 80, localPort: 40000 });
        } catch (e) {
          if (e instanceof StackError) ctx.rec.error('client', e.code, e.message);
          else throw e;
        }
      });
    },
  },
  {
    name: 'close-wait-leak',
    line: 'the server application never closes: CLOSE_WAIT piles up on the server, clients time out of FIN_WAIT_2',
    explain: 'Five clients send a request and close, but the server application forgets to close its sockets, so each stays in CLOSE_WAIT forever — the classic leak netstat reveals. The clients, orphaned in FIN_WAIT_2, give up after tcp_fin_timeout (60 s).',
    run(ctx) {
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        readAll(ctx, 'server', s); // ... and never closes
      });
      for (let i = 0; i < 5; i++) {
        ctx.w.at(ms(200 * i), () => {
          const c = connect(ctx, 80);
          c.onConnect = () => {
            write(ctx, 'client', c, `request ${i + 1}`);
            close(ctx, 'client', c);
          };
        });
      }
    },
  },
  {
    name: 'syn-flood',
    line: 'spoofed SYNs fill a backlog of 8: SYN_RECEIVED piles up, SYN cookies let a real client in',
    explain: 'An attacker sends SYNs from addresses that never answer, so half-open connections pile up in SYN_RECEIVED until the SYN queue (backlog 8) is full. The server then answers with SYN cookies, keeping no state, and a legitimate client still connects.',
    run(ctx) {
      const attacker = ctx.w.net.attach('attacker', ['10.0.0.66']);
      serve(ctx, 80, (s) => watch(ctx, 'server', s), 8);
      const r = newTcpRepr();
      for (let i = 0; i < 20; i++) {
        ctx.w.at(ms(10 * i), () => {
          r.srcPort = 10000 + i;
          r.dstPort = 80;
          r.seq = ctx.w.sim.rng.u32();
          r.flags = SYN;
          r.window = 64240;
          r.mss = 1460;
          attacker.send(buildTcpPacket(`198.51.100.${i + 1}`, SERVER, r));
        });
      }
      ctx.w.at(ms(300), () => {
        ctx.rec.note('a legitimate client connects while the SYN queue is full');
        const c = connect(ctx, 80);
        c.onConnect = () => ctx.rec.app('client', 'connected');
      });
      ctx.w.at(sec(2), () => ctx.rec.app('server', 'netstat', { synReceived: ctx.server.connections().filter((c) => c.state === 'SYN_RECEIVED').length, counters: pick(ctx.server.counters, ['ListenOverflows', 'ListenDrops', 'SyncookiesSent', 'SyncookiesRecv', 'TCPReqQFullDoCookies']) }));
    },
  },
  {
    name: 'keepalive',
    line: 'the server host disappears: keepalive probes from 7200 s every 75 s, 9 unanswered, then RST and ETIMEDOUT',
    explain: 'An idle connection gives no sign when the peer vanishes. With SO_KEEPALIVE the client probes after 7200 s idle, then every 75 s; after 9 unanswered probes it resets the connection and the application gets ETIMEDOUT.',
    run(ctx) {
      serve(ctx, 80, (s) => watch(ctx, 'server', s));
      const c = connect(ctx, 80, { keepAlive: true });
      ctx.rec.app('client', 'setsockopt', { option: 'SO_KEEPALIVE', value: 1 });
      c.onConnect = () => undefined;
      ctx.w.at(sec(1), () => {
        ctx.rec.note('the server host loses power: it no longer answers anything');
        ctx.w.net.detach('server');
      });
    },
  },
  {
    name: 'mss',
    line: 'MSS negotiation: 1460 vs 1360 (smaller MTU) → 1360 used; a peer sending no MSS option gets 536',
    explain: 'Each SYN announces the largest segment its sender can receive (MTU minus 40). The client on a 1400-byte MTU announces 1360 and the server sends it no bigger segments; an old host whose SYN has no MSS option is sent 536-byte segments, RFC 9293\'s default.',
    run(ctx) {
      const big = new Uint8Array(3000).fill(120);
      serve(ctx, 80, (s) => {
        watch(ctx, 'server', s);
        write(ctx, 'server', s, big);
        close(ctx, 'server', s);
      });
      const c = connect(ctx, 80);
      readAll(ctx, 'client', c, () => close(ctx, 'client', c));
      ctx.w.at(sec(1), () => {
        ctx.rec.note('an old host (10.0.0.9) connects with a SYN that carries no MSS option');
        oldHost(ctx, '10.0.0.9', 80);
      });
    },
  },
];

function pick(o: Record<string, number>, keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = o[k] ?? 0;
  return out;
}

/** A minimal raw TCP peer whose SYN has no options: it ACKs what it gets and closes when the server does. */
function oldHost(ctx: Ctx, addr: string, port: number): void {
  const link = ctx.w.net.attach('old-host', [addr]);
  const r = newTcpRepr();
  const ip = newIpRepr();
  const seg = newTcpRepr();
  const iss = 1000;
  let rcvNxt = 0;
  const send = (flags: number, seq: number, ack: number): void => {
    r.srcPort = 33000;
    r.dstPort = port;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = 8192;
    link.send(buildTcpPacket(addr, SERVER, r));
  };
  link.onReceive((f) => {
    if (parseIpHeader(f, ip, true) !== null || parseTcp(f, ip, seg, true) !== null) return;
    if (seg.flags & SYN) {
      rcvNxt = seqAdd(seg.seq, 1);
      send(ACK, iss + 1, rcvNxt);
      return;
    }
    const end = seqAdd(seg.seq, seg.payload.length + (seg.flags & 1 ? 1 : 0));
    if (end !== rcvNxt) {
      rcvNxt = end;
      send(ACK | (seg.flags & 1), iss + 1 + 0, rcvNxt);
    }
  });
  ctx.rec.app('old-host', 'connect', { remote: `${SERVER}:${port}`, note: 'SYN without MSS option' });
  send(SYN, iss, 0);
}

/** The scenario called `name`, or undefined. */
export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** Run a scenario on a fresh simulated world; same options, same result, byte for byte. */
export function runScenario(name: string, opts: Partial<ScenarioOptions> & { onWorld?: (w: SimWorld) => void } = {}): DemoResult {
  const sc = findScenario(name);
  if (!sc) throw new RangeError(`unknown scenario '${name}' (try: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const o: ScenarioOptions = { seed: opts.seed ?? 1, loss: opts.loss ?? 0, delayMs: opts.delayMs ?? 10 };
  if (!(o.loss >= 0 && o.loss <= 1)) throw new RangeError(`loss must be between 0 and 1, got ${o.loss}`);
  if (!(o.delayMs >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${o.delayMs}`);
  const w = new SimWorld({ seed: o.seed, path: { delay: ms(o.delayMs), loss: o.loss } });
  const client = w.addHost('client', [CLIENT], sc.name === 'mss' ? { mtu: 1400 } : {});
  const server = w.addHost('server', [SERVER]);
  const rec = new Recorder(w);
  const ctx: Ctx = { w, rec, client, server, opts: o };
  // Observers (pcap capture, scheduled netstat snapshots) attach here, before anything runs.
  opts.onWorld?.(w);
  sc.run(ctx);
  // Every scenario ends by itself (no timer left); the step bound only guards against a runaway.
  w.sim.run({ maxSteps: 5_000_000 });
  const hosts: Record<string, string> = { client: CLIENT, server: SERVER };
  if (name === 'syn-flood') hosts.attacker = '10.0.0.66';
  if (name === 'mss') hosts['old-host'] = '10.0.0.9';
  return { scenario: name, seed: o.seed, hosts, events: rec.events, summary: summarize(ctx) };
}

function summarize(ctx: Ctx): Record<string, unknown> {
  const out: Record<string, unknown> = { virtualSeconds: ctx.w.now / 1e6 };
  for (const [name, st] of [['client', ctx.client], ['server', ctx.server]] as const) {
    out[name] = {
      connections: st.netstat().map((r) => `${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort} ${r.state}`),
      counters: Object.fromEntries(Object.entries(st.counters).filter(([, v]) => v !== 0)),
    };
  }
  return out;
}
