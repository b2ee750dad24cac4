/**
 * `synack/tun`: a synack stack on a Linux TUN device (the native addon, root or CAP_NET_ADMIN).
 * The addon is built by `synack build-native` (or on the first `synack tun`); `openTun` throws a
 * `TunUnavailableError` saying why when it cannot work here.
 *
 * ```ts
 * import { startTunStack } from 'synack/tun';
 * import { createNet } from 'synack/node';
 * const t = startTunStack({ dev: 'synack0', addr: '10.77.0.2/24' });   // kernel side 10.77.0.1
 * createNet(t.stack, t.driver).createServer((s) => s.pipe(s)).listen(7);
 * ```
 * @packageDocumentation
 */
export {
  openTun,
  openTap,
  configureTun,
  tunUnavailableReason,
  TunUnavailableError,
  type TunLink,
  type TunStats,
  type OpenTunOptions,
  type ConfigureTunOptions,
} from '../link/tun.js';
export { startTunStack, startTapStack, type TunStack, type TunStackOptions } from './run.js';
