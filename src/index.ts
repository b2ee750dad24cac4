/**
 * synack's public API (package.json "main"/"types": dist/src/index.js).
 *
 * ```ts
 * import { SimWorld, SimDriver, createNet } from 'synack';
 * const world = new SimWorld({ seed: 1 });
 * const driver = new SimDriver(world);
 * const client = createNet(world.addHost('client', ['10.0.0.1']), driver);
 * const server = createNet(world.addHost('server', ['10.0.0.2']), driver);
 * server.createServer((s) => s.pipe(s)).listen(7);
 * client.connect(7, '10.0.0.2', function () { this.end('hi'); });
 * await driver.run();
 * ```
 * Real time: `const driver = new NodeDriver(); const stack = driver.createStack({...});
 * driver.attach(stack, openTun(...))`, then `createNet(stack, driver)` as above.
 */

// The stack and its sockets.
export { Stack, type StackOptions, type StackEvent } from './stack/stack.js';
export { MIB_COUNTERS, EXT_COUNTERS, type Mib, type MibName, type CounterName } from './mib.js';
export { TcpSocket } from './stack/socket.js';
export { Listener } from './stack/listener.js';
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
export {
  registerCongestionControl, congestionControlNames, type CongestionAlgorithm, type CongestionControl,
} from './tcp/congestion/registry.js';
export { slowStart } from './tcp/congestion/control.js';
export { TcpState, STATE_NAMES, NETSTAT_NAMES, SS_NAMES, stateName, isSynchronized, type TcpStateName, type TcpStateNum } from './tcp/state.js';
export { TcpUsageError, type ConnSnapshot } from './tcp/connection.js';
export { ERROR_MESSAGES, type TcpErrorCode, type ConnEvent } from './tcp/events.js';

// Drivers: real time and virtual time.
export { NodeDriver, SimDriver, type Driver, type DriverTimer, type NodeDriverOptions, type SimRunOptions } from './driver/node.js';
export { VirtualClock, VirtualTimer, DEFAULT_EPOCH_MS, type VirtualClockOptions } from './driver/virtual-clock.js';
export { SimWorld } from './driver/world.js';
export { Simulator, type TimerClient, type SimulatorOptions, SimEvent } from './driver/sim.js';
export { SimNetwork, type PathConfig, type FrameEvent, type FrameFate } from './driver/sim-network.js';

// The Node net-compatible API.
export {
  createNet,
  simNet,
  SynackSocket,
  SynackServer,
  netError,
  type Net,
  type NetContext,
  type ConnectOptions,
  type SocketOptions,
  type SocketReadyState,
  type ServerOptions,
  type ListenOptions,
  type AddressInfo,
  type TcpTuningOptions,
} from './net/index.js';

// The Node dgram-compatible API (UDP).
export {
  createDgram,
  SynackDgramSocket,
  type Dgram,
  type DgramContext,
  type DgramSocketOptions,
  type RemoteInfo,
  type SocketType,
  type BindOptions,
} from './dgram/index.js';
export { UdpSocket, type Datagram } from './udp/socket.js';

// Links and link wrappers.
export type { Link } from './link/link.js';
export { memoryPair, type MemoryPair } from './link/memory.js';
export { faultLink, type FaultConfig } from './link/fault.js';
export { PcapWriter, pcapLink, pcapFile, LINKTYPE_RAW, LINKTYPE_ETHERNET } from './link/pcap.js';
export { traceLink } from './link/trace.js';
export { openTun, openTap, tunUnavailableReason, TunUnavailableError, type TunLink, type OpenTunOptions } from './link/tun.js';
export { EthernetInterface, ETH_DROP_REASONS, type EthernetOptions, type EthernetCounters, type EthDropReason } from './link/ethernet.js';
export { NeighborTable, formatNeighbors, DEFAULT_NEIGH_CONFIG, type NeighConfig, type NeighborView, type NeighStats, type NudState } from './link/neighbor.js';
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
export { formatNetstat, stateStats, formatStats, formatCounters } from './diag/netstat.js';
