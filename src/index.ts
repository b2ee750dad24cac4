/**
 * synack's package root (`import … from 'synack'`): everything that runs in a browser as well as
 * in Node. Nothing under this entry imports a `node:` module (test/browser-bundle.test.ts bundles
 * it with esbuild for the browser); the Node-only parts have their own entries:
 *
 *  - `synack/node` (src/node.ts): the Node `net` API on Node streams, the real-time NodeDriver,
 *    pcap files, the diagnostics_channel names;
 *  - `synack/tun` (src/tun/index.ts): Linux TUN devices (the native addon) and `configureTun`.
 *
 * ```ts
 * import { SimWorld, SimDriver, connectStream, listenStream } from 'synack';
 * const world = new SimWorld({ seed: 1 });
 * const client = world.addHost('client', ['10.0.0.1']);
 * const server = world.addHost('server', ['10.0.0.2']);
 * const echo = listenStream(server, { port: 7 });
 * void (async () => { for await (const c of echo.readable) void c.readable.pipeTo(c.writable); })();
 * const conn = connectStream(client, { remoteAddress: '10.0.0.2', remotePort: 7 });
 * const w = conn.writable.getWriter();
 * void w.write(new TextEncoder().encode('hi')).then(() => w.close());
 * await new SimDriver(world).run();
 * ```
 * @packageDocumentation
 */

// The stack and its sockets.
export { Stack, type StackOptions, type StackEvent } from './stack/stack.js';
export type { PingOptions } from './ip/ping-args.js';
export { MIB_COUNTERS, EXT_COUNTERS, type Mib, type MibName, type CounterName, type DropCounterName } from './mib.js';
export { TcpSocket } from './stack/socket.js';
export { Listener } from './stack/listener.js';
// Forwarding (user-mode networking): SYNs nobody listens for, handed to a handler to decide.
export { TcpForwarder, TcpForwardRequest, type TcpForwardHandler, type TcpForwardCounters, type UnreachableKind } from './stack/forwarder.js';
export type { ForwardedDatagram } from './udp/layer.js';
// Every error synack throws (one base class, stable codes) and the one errno table.
export {
  SynackError,
  StackError,
  NetError,
  UsageError,
  CaptureFormatError,
  PacketdrillSyntaxError,
  ScriptError,
  ERRNO,
  errnoOf,
  errnoName,
  NODE_ERROR_CODES,
  type ErrnoCode,
  type NodeErrorCode,
  type Syscall,
} from './errors.js';

// The TCP core's public types and options.
export { DEFAULT_CONFIG, makeConfig, type TcpConfig } from './tcp/config.js';
export { FastOpenContext, ListenerFastOpen, CookieCache, TFO, makeCookie, parseKeyText, keyText, type CachedCookie, type Cookie } from './tcp/fastopen.js';
export { sipHash24, sipKeyFromBytes, type SipKey } from './tcp/siphash.js';
export {
  registerCongestionControl, congestionControlNames, type CongestionAlgorithm, type CongestionControl,
} from './tcp/congestion/registry.js';
export { slowStart, type IdleEvent, type AckedSample } from './tcp/congestion/control.js';
export { TcpState, STATE_NAMES, NETSTAT_NAMES, SS_NAMES, stateName, isSynchronized, type TcpStateName, type TcpStateNum } from './tcp/state.js';
export { TcpUsageError, type ConnSnapshot } from './tcp/connection.js';
export { ERROR_MESSAGES, type TcpErrorCode, type ConnEvent } from './tcp/events.js';

// Drivers: real time and virtual time.
export { SimDriver, type Driver, type DriverTimer, type SimRunOptions } from './driver/node.js';
export { VirtualClock, VirtualTimer, DEFAULT_EPOCH_MS, type VirtualClockOptions } from './driver/virtual-clock.js';
export { SimWorld } from './driver/world.js';
export { Simulator, type TimerClient, type SimulatorOptions, SimEvent } from './driver/sim.js';
export { SimNetwork, type PathConfig, type FrameEvent, type FrameFate } from './driver/sim-network.js';

// Sockets as web streams (browser and Node).
export {
  TcpSocketStream,
  TcpServerStream,
  connectStream,
  listenStream,
  type WebStreamOptions,
  type TcpSocketOpenInfo,
  type StreamConnectOptions,
  type StreamListenOptions,
} from './streams/web.js';

// UDP sockets (the callback core; the node:dgram API is in synack/node).
export { UdpSocket, type Datagram } from './udp/socket.js';

// Links and link wrappers.
export type { Link } from './link/link.js';
export { memoryPair, type MemoryPair } from './link/memory.js';
export { faultLink, type FaultConfig } from './link/fault.js';
export { PcapWriter, pcapLink, LINKTYPE_RAW, LINKTYPE_ETHERNET } from './link/pcap.js';
export { traceLink } from './link/trace.js';
export { EthernetInterface, ETH_DROP_REASONS, type EthernetOptions, type EthernetCounters, type EthDropReason } from './link/ethernet.js';
export { NeighborTable, formatNeighbors, DEFAULT_NEIGH_CONFIG, type NeighConfig, type NeighborView, type NeighStats, type NudState, type Timers, type NeighHooks, type NeighUpdate } from './link/neighbor.js';
export { SimSwitch, addEthernetHost, simTimers, type EthernetHost, type SwitchPortConfig, type SwitchFrameEvent } from './driver/sim-ethernet.js';

// Wire helpers (packet views, checksums, addresses, tcpdump-style formatting).
export * as wire from './wire/index.js';
export { formatPacket, formatFrame } from './wire/format.js';

// Sequence arithmetic and time.
export { seqLt, seqLe, seqGt, seqGe, seqAdd, seqDiff, inWindow, type SeqNum } from './seq.js';
export { NEVER, usec, ms, sec, toSeconds, formatSeconds, type Instant, type Duration } from './time.js';

// Scenarios (the demo) and diagnostics.
export { runScenario, findScenario, SCENARIOS, type Scenario, type ScenarioOptions } from './demo/scenarios.js';
export type { DemoEvent, DemoResult } from './demo/events.js';
export type { ConnRow, Counters, Snapshot } from './diag/types.js';
export { formatNetstat, stateStats, formatStats, formatCounters, type NetstatOptions, type StateStats } from './diag/netstat.js';
