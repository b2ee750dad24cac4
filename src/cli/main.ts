#!/usr/bin/env node
/**
 * `synack <command> [args]`: dispatches to src/cli/<command>.ts, each of which exports
 * `main(argv): Promise<number>` (the exit status). Argument parsing and printing only.
 */
const COMMANDS: Record<string, string> = {
  demo: 'run a TCP scenario on the simulated network and print its ladder diagram',
  netstat: 'connection table and state statistics (Linux host or a synack stack)',
  diagnose: 'explain what a connection table says (piles of SYN_SENT, CLOSE_WAIT, TIME_WAIT ...)',
  read: 'reconstruct TCP connections and their state timelines from a pcap/pcapng capture',
  pkt: 'run packetdrill scripts against synack on virtual time',
  viz: 'serve the visualizer on 127.0.0.1: state diagram, ladder, timers, scenarios, pcaps (--port N, --open)',
  ping: 'ping(8) between two simulated hosts on virtual time (-6, -c, -s, --delay, --loss, --mtu)',
  tun: 'run a synack stack on a Linux TUN device (echo, discard, HTTP services) for real programs',
  tap: 'the same on a TAP device: Ethernet frames, with ARP and IPv6 neighbour discovery',
  netns: 'give a network namespace a network through synack (like pasta): DHCP, DNS, relayed TCP/UDP',
  qemu: 'give a QEMU VM a network (-netdev stream on a Unix socket): DHCP, DNS, relayed host sockets',
  relay: 'open allow-listed host sockets for synack stacks in browser pages, over WebSocket',
  'build-native': 'build the TUN addon `synack tun` needs (done by the first `synack tun` too)',
};

function usage(): string {
  const lines = ['usage: synack <command> [options]', '', 'commands:'];
  for (const [name, what] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${what}`);
  lines.push('', "run 'synack <command> --help' for a command's options");
  return lines.join('\n');
}

async function run(argv: string[]): Promise<number> {
  let [cmd, ...rest] = argv;
  // `synack help demo` is `synack demo --help`.
  if (cmd === 'help' && rest.length > 0) [cmd, rest] = [rest[0], ['--help']];
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(COMMANDS, cmd)) {
    console.error(`synack: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(`./${cmd}.js`)) as { main(argv: string[]): Promise<number> };
  return mod.main(rest);
}

/**
 * The reader went away (`synack netstat --watch 1 | head -3`): stop at once and silently, as
 * coreutils do when SIGPIPE kills them (Node ignores SIGPIPE, so the write fails with EPIPE
 * instead). Status 141 = 128 + SIGPIPE, what a shell reports for a coreutils command there.
 */
function exitQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}
exitQuietlyOnEpipe(process.stdout);
exitQuietlyOnEpipe(process.stderr);

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`synack: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
