/**
 * `synack/node`: the Node-only parts of synack (Node streams, node:fs, node:diagnostics_channel).
 * Everything else, the simulator and `SimDriver` included, comes from the package root `synack`.
 *
 * ```ts
 * import { SimWorld, SimDriver } from 'synack';
 * import { createNet } from 'synack/node';
 * const world = new SimWorld({ seed: 1 });
 * const driver = new SimDriver(world);
 * const client = createNet(world.addHost('client', ['10.0.0.1']), driver);
 * const server = createNet(world.addHost('server', ['10.0.0.2']), driver);
 * server.createServer((s) => s.pipe(s)).listen(7);
 * client.connect(7, '10.0.0.2', function () { this.end('hi'); });
 * await driver.run();
 * ```
 * Real time: `const driver = new NodeDriver(); const stack = driver.createStack({...});
 * driver.attach(stack, link)`, then `createNet(stack, driver)` as above.
 * @packageDocumentation
 */

// The Node net-compatible API (sockets are stream.Duplex, servers EventEmitters).
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
  type IpcConnectOptions,
  type SocketEvents,
  type ServerEvents,
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

// Real time.
export { NodeDriver, type NodeDriverOptions } from './driver/node-driver.js';

// Capture files and diagnostics_channel names.
export { pcapFile } from './link/pcap-file.js';
export { CHANNELS } from './driver/diagnostics.js';
