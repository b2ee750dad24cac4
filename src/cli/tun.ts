/** `synack tun`: a synack stack on a TUN device (raw IP). Flags and services: src/cli/device.ts. */
import { runDevice } from './device.js';

export function main(argv: string[]): Promise<number> {
  return runDevice('tun', argv);
}
