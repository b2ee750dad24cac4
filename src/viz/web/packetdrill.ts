/**
 * The page's "paste a packetdrill script" box: runs the script with the packetdrill interpreter
 * (src/packetdrill/run.ts) in the browser and turns what happened into a DemoResult: every packet
 * the script injected ("remote") and the stack sent ("synack"), and the stack's state changes.
 * The interpreter's node:fs/node:path imports (script files, shell includes) are stubbed in the
 * bundle (scripts/build-viz.mjs), so scripts that read files fail with a clear message.
 */
import type { DemoEvent, DemoResult } from '../../demo/events.js';
import { Interpreter } from '../../packetdrill/run.js';
import { parseScript, PacketdrillSyntaxError } from '../../packetdrill/parser.js';
import type { Link } from '../../link/link.js';
import { seqAdd, seqGt } from '../../seq.js';
import { formatOptions } from '../../wire/format.js';
import { newIpRepr, parseIpHeader } from '../../wire/ip.js';
import { parseTcp } from '../../wire/tcp.js';
import { ACK, SYN, flagsToString, newTcpRepr, segLen } from '../../wire/tcp-repr.js';

export const PACKETDRILL_AVAILABLE = true;

export const PACKETDRILL_EXAMPLE = `// A passive open, then the peer closes first: LISTEN, SYN_RECEIVED,
// ESTABLISHED, CLOSE_WAIT, LAST_ACK.
--tolerance_usecs=1000000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0

+0  < S 0:0(0) win 65535  <mss 1000>
+0  > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4

+.1 < F. 1:1(0) ack 1 win 65535
+0  > . 1:1(0) ack 2 <...>
+.1 close(4) = 0
+0  > F. 1:1(0) ack 2 <...>
+.1 < . 2:2(0) ack 2 win 65535
`;

const ep = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

export function runPacketdrill(text: string): { message: string; result: DemoResult | null } {
  let interp: Interpreter;
  try {
    interp = new Interpreter(parseScript(text, 'script.pkt'));
  } catch (e) {
    if (e instanceof PacketdrillSyntaxError) return { message: e.message, result: null };
    return { message: `error: ${(e as Error).message}`, result: null };
  }
  const events: DemoEvent[] = [];
  const ip = newIpRepr();
  const tcp = newTcpRepr();
  const highest = new Map<string, number>();
  let local = '';
  let remote = '';
  const record = (frame: Uint8Array, host: string): void => {
    if (parseIpHeader(frame, ip, false) !== null || parseTcp(frame, ip, tcp, false) !== null) return;
    if (host === 'synack') (local = ip.src), (remote = ip.dst);
    else (local = ip.dst), (remote = ip.src);
    const src = ep(ip.src, tcp.srcPort);
    const dst = ep(ip.dst, tcp.dstPort);
    const key = `${src}>${dst}${tcp.flags & SYN ? (tcp.flags & ACK ? ' SA' : ' S') : ''}`;
    const end = seqAdd(tcp.seq, segLen(tcp));
    const prev = highest.get(key);
    const retransmit = segLen(tcp) > 0 && prev !== undefined && !seqGt(end, prev);
    if (segLen(tcp) > 0 && (prev === undefined || seqGt(end, prev))) highest.set(key, end);
    const e: DemoEvent = {
      t: interp.now / 1e6, type: 'segment', host, src, dst, flags: flagsToString(tcp.flags), seq: tcp.seq, ack: tcp.ack,
      len: tcp.payload.length, win: tcp.window, options: formatOptions(tcp), dropped: false,
    };
    if (retransmit) e.retransmit = true;
    events.push(e);
  };
  const stack = interp.stack;
  // The interpreter injects with stack.input and owns the stack's link; wrap both to watch.
  const input = stack.input.bind(stack);
  stack.input = (frame: Uint8Array): void => {
    record(frame, 'remote');
    input(frame);
  };
  const link = stack.primary.link;
  if (link) {
    const send = link.send.bind(link);
    link.send = (frame: Uint8Array, nextHop?: string): void => {
      record(frame, 'synack');
      send(frame, nextHop);
    };
  }
  stack.observe((ev) => {
    if (ev.type === 'state') events.push({ t: interp.now / 1e6, type: 'state', host: 'synack', local: ev.local, remote: ev.remote, from: ev.from, to: ev.to, cause: ev.cause });
    else if (ev.type === 'error') events.push({ t: interp.now / 1e6, type: 'error', host: 'synack', code: ev.code, message: ev.message, local: ev.local, remote: ev.remote });
  });
  let message: string;
  try {
    const r = interp.run();
    message = r.status === 'pass' ? `pass (${(r.virtualUsecs / 1e6).toFixed(3)} s of virtual time)` : `${r.status}: ${r.message ?? ''}`;
    if (r.output.length) message += `\n${r.output.join('\n')}`;
  } catch (e) {
    message = `error: ${(e as Error).message}`;
  }
  const hosts: Record<string, string> = { remote: remote || 'remote', synack: local || 'synack' };
  return { message, result: { scenario: 'packetdrill script', hosts, events, summary: {} } };
}
