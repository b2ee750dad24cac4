import { parseArgs } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AllowList } from '../usernet/allow-list.js';
import { parseHostPort } from '../usernet/host-port.js';
import { RelaySession } from '../usernet/relay.js';
import { acceptWebSocket, type WsConnection } from '../usernet/ws-server.js';

const HELP = `usage: synack relay --allow RULE [--allow RULE …] [options]

Opens real TCP and UDP sockets for synack stacks running in browser pages (the guest network of
a VM in the page), over one WebSocket per page, and only to the destinations the --allow rules
name. Flow control is per flow (credit), so a slow reader on either side stops the other.

options:
  --listen HOST:PORT   address of the WebSocket server (default 127.0.0.1:8765; port 0 picks one)
  --allow RULE         [tcp:|udp:]ADDR[/LEN][:PORT[-PORT]], e.g. 10.0.0.0/8:443, udp:[fd00::/8]:53;
                       repeatable; with none, every destination is refused
  --max-flows N        flows per page (default 256)`;

export async function main(argv: string[]): Promise<number> {
  let values: { listen?: string; allow?: string[]; 'max-flows'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { listen: { type: 'string' }, allow: { type: 'string', multiple: true }, 'max-flows': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`synack relay: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let allow: AllowList;
  let host: string;
  let port: number;
  try {
    allow = new AllowList(values.allow ?? []);
    [host, port] = values.listen === undefined ? ['127.0.0.1', 8765] : parseHostPort(values.listen, 8765, '--listen', 0);
  } catch (e) {
    console.error(`synack relay: ${(e as Error).message}`);
    return 2;
  }
  const maxFlows = values['max-flows'] === undefined ? 256 : Number(values['max-flows']);
  if (!Number.isInteger(maxFlows) || maxFlows < 1) {
    console.error(`synack relay: --max-flows must be a positive integer, got '${values['max-flows']}'`);
    return 2;
  }
  if (allow.rules.length === 0) console.error('synack relay: no --allow rule: every destination will be refused');
  const server = http.createServer((_req, res) => res.writeHead(426, { 'Content-Type': 'text/plain' }).end('synack relay speaks WebSocket\n'));
  const open = new Set<WsConnection>();
  server.on('upgrade', (req, socket, head) => {
    const ws = acceptWebSocket(req, socket, head);
    if (ws === null) return;
    open.add(ws);
    new RelaySession(ws, { allow, maxFlows });
    ws.onClose(() => open.delete(ws));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    console.error(`synack relay: ${code === 'EADDRINUSE' ? `${host}:${port} is in use` : (e as Error).message}`);
    return 1;
  }
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  console.log(`synack relay: ws://${shown}:${a.port}/  allow: ${allow.rules.map((r) => r.text).join(' ') || '(nothing)'}  (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const sessions = open.size;
  // RFC 6455 §7.4.1: 1001, the endpoint is going away; each session resets its host sockets.
  for (const ws of open) ws.close(1001, 'relay stopping');
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  console.log(`synack relay: stopped (${sessions} sessions were open)`);
  return 0;
}
