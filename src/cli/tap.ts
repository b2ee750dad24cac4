/** `synack tap`: a synack stack on a TAP device (Ethernet, ARP, NDP). Flags and services: src/cli/device.ts. */
import { runDevice } from './device.js';

export function main(argv: string[]): Promise<number> {
  return runDevice('tap', argv);
}
