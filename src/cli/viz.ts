import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { startVizServer } from '../viz/server.js';

const HELP = `usage: synack viz [options]

Serves the synack visualizer on 127.0.0.1: the state diagram, the ladder diagram, time controls,
timers, netstat and counters, every demo scenario, a playground to drive two hosts by hand, pcap
files and packetdrill scripts. The simulator runs in the browser; the server only serves files.

options:
  --port N      port to listen on (default 8080; 0 picks a free one)
  --open        open the page in the default browser (xdg-open / open / start)`;

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { port: { type: 'string' }, open: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`synack viz: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`synack viz: --port must be an integer 0..65535, got '${String(values.port)}'`);
    return 2;
  }
  let srv;
  try {
    srv = await startVizServer({ port });
  } catch (e) {
    const code = (e as { code?: string }).code;
    console.error(`synack viz: ${code === 'EADDRINUSE' ? `port ${port} is in use (try --port 0)` : (e as Error).message}`);
    return 1;
  }
  console.log(`synack viz: ${srv.url}  (Ctrl-C to stop)`);
  if (values.open) {
    const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
    const args = process.platform === 'win32' ? ['/c', 'start', '', srv.url] : [srv.url];
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => console.error(`synack viz: could not run ${cmd}; open ${srv.url} yourself`));
    child.unref();
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await srv.close();
  return 0;
}
