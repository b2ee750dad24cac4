/**
 * `synack read FILE`: reconstruct every TCP connection in a pcap/pcapng capture and both ends'
 * state timelines, drawn as the same ladder as `synack demo` (or printed as the same JSON).
 * Argument parsing and printing only; the work is in src/diag/pcap-read.ts and src/diag/reconstruct.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCapture, type Capture } from '../diag/pcap-read.js';
import { reconstruct, stateSequence, type TcpConnection } from '../diag/reconstruct.js';
import { otherPacketEvents } from '../viz/capture.js';
import { renderLadder } from '../viz/ladder.js';

const USAGE = `usage: synack read FILE [--connection N] [--json] [--list] [--absolute] [--ascii]

Reads a pcap or pcapng capture (tcpdump -w, Wireshark, synack demo --pcap) and, for every TCP
connection in it, reconstructs BOTH endpoints' state timelines from the segments each sent and
received: a ladder diagram with the state changes, retransmissions, SYN backoff, RSTs, zero windows,
gaps (lost or out-of-order segments) and which end finished in TIME_WAIT. The capture's other
packets (ARP, ICMP, UDP, ...) follow, one tcpdump line each.

  --connection N   only connection N (numbered in order of their first packet; see --list)
  --list           one line per connection: endpoints, packets, final states
  --json           the run as JSON: with --connection, exactly the format of 'synack demo --json';
                   otherwise {"file", "linkType", "packets", "skipped", "connections": [...]}
  --absolute       ladder with absolute sequence numbers
  --ascii          ladder with ASCII arrows only

A passive tracker sees the segments at one point of the path: it assumes what it saw arrived, in
order, when it was captured, and corrects itself when a retransmission shows an ACK was lost.`;

function line(c: TcpConnection): string {
  const segs = c.result.events.filter((e) => e.type === 'segment').length;
  const ends = Object.entries(c.finalStates).map(([h, s]) => `${h} ${s ?? '?'}`).join(', ');
  return `${String(c.index).padStart(3)}  ${c.client} -> ${c.server}  ${segs} segments  final: ${ends}`;
}

export async function main(argv: string[]): Promise<number> {
  let values: { connection?: string; json?: boolean; list?: boolean; absolute?: boolean; ascii?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        connection: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        list: { type: 'boolean' },
        absolute: { type: 'boolean' },
        ascii: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`synack read: ${(e as Error).message}\nrun 'synack read --help' for the options`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`synack read: expected one capture file, got ${positionals.length}\nrun 'synack read --help' for the options`);
    return 2;
  }
  const file = positionals[0]!;
  let pick: number | undefined;
  if (values.connection !== undefined) {
    pick = Number(values.connection);
    if (!Number.isInteger(pick) || pick < 1) {
      console.error(`synack read: --connection: expected a connection number 1, 2, ..., got '${values.connection}'`);
      return 2;
    }
  }
  let conns: TcpConnection[];
  let capture;
  try {
    capture = readCapture(new Uint8Array(readFileSync(file)));
    conns = reconstruct(capture.packets, { name: file });
  } catch (e) {
    console.error(`synack read: ${file}: ${(e as Error).message}`);
    return 1;
  }
  if (pick !== undefined) {
    const one = conns.find((c) => c.index === pick);
    if (!one) {
      console.error(`synack read: ${file} has ${conns.length} TCP connection${conns.length === 1 ? '' : 's'}; there is no connection ${pick}`);
      return 2;
    }
    conns = [one];
  }
  if (values.json) {
    if (pick !== undefined) console.log(JSON.stringify(conns[0]!.result));
    else console.log(JSON.stringify({ file, linkType: capture.linkType, packets: capture.packets.length, skipped: capture.skipped, connections: conns.map((c) => ({ index: c.index, client: c.client, server: c.server, finalStates: c.finalStates, timeWait: c.timeWait, ...c.result })) }));
    return 0;
  }
  if (values.list) {
    console.log(`${file}: ${capture.packets.length} IP packets (${capture.linkType}), ${conns.length} TCP connection${conns.length === 1 ? '' : 's'}`);
    for (const c of conns) console.log(line(c));
    return 0;
  }
  const others = pick === undefined ? otherPacketLines(capture) : [];
  if (conns.length === 0) {
    console.log([`${file}: ${capture.packets.length} IP packets (${capture.linkType}), no TCP connections`, ...others].join('\n'));
    return 0;
  }
  const out: string[] = [];
  for (const c of conns) {
    if (out.length > 0) out.push('');
    out.push(`== connection ${c.index}: ${c.client} -> ${c.server}`);
    for (const h of Object.keys(c.result.hosts)) out.push(`   ${h}: ${stateSequence(c.result, h).join(' -> ') || '(no state shown)'}`);
    out.push('');
    out.push(renderLadder(c.result, { right: Object.keys(c.result.hosts)[1]!, absolute: values.absolute === true, ascii: values.ascii === true }));
  }
  console.log([...out, ...others].join('\n'));
  return 0;
}

/** The capture's ARP, ICMP and UDP (not TCP) packets, one tcpdump line each, after a heading. */
function otherPacketLines(capture: Capture): string[] {
  const ev = otherPacketEvents(capture);
  if (ev.length === 0) return [];
  return ['', `== ${ev.length} other packet${ev.length === 1 ? '' : 's'} (not TCP)`, ...ev.map((e) => `${e.t.toFixed(6).padStart(10)}  ${e.src} > ${e.dst}: ${e.text}`)];
}
