import type { CongestionAlgorithm, CongestionControl } from './control.js';
import { cubic } from './cubic.js';
import { reno } from './reno.js';

export type { CongestionAlgorithm, CongestionControl } from './control.js';

/** The algorithms built in: adding one is one file in this directory and one entry here. */
const BUILTIN: readonly CongestionAlgorithm[] = [reno, cubic];

/**
 * Names kept for compatibility: `newreno` was this project's name for Reno before the registry
 * (LINUX calls it `reno`; its Reno does NewReno recovery).
 */
const ALIASES: Readonly<Record<string, string>> = { newreno: 'reno' };

const algorithms = new Map<string, CongestionAlgorithm>();

/**
 * Make an algorithm available to the `tcp_congestion_control` sysctl (TcpConfig
 * congestionControl), the TCP_CONGESTION socket option and the net API's `congestionControl`
 * (LINUX tcp_register_congestion_control). Throws for a bad or taken name.
 */
export function registerCongestionControl(algo: CongestionAlgorithm): void {
  if (typeof algo !== 'object' || algo === null || typeof algo.create !== 'function') {
    throw new TypeError('algo must be a CongestionAlgorithm with a create() function');
  }
  // LINUX TCP_CA_NAME_MAX 16 (with the NUL): names are short identifiers.
  if (typeof algo.name !== 'string' || !/^[a-z][a-z0-9_-]{0,14}$/.test(algo.name)) {
    throw new RangeError(`algo.name must be 1-15 characters [a-z0-9_-], got ${String(algo.name)}`);
  }
  if (algorithms.has(algo.name) || algo.name in ALIASES) throw new RangeError(`algo.name '${algo.name}' is already registered`);
  algorithms.set(algo.name, algo);
}

for (const a of BUILTIN) registerCongestionControl(a);

/** The registered name `name` stands for (aliases resolved), or null when there is none. */
export function congestionControlName(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const n = ALIASES[name] ?? name;
  return algorithms.has(n) ? n : null;
}

/** Every registered name, in registration order (LINUX tcp_available_congestion_control). */
export function congestionControlNames(): string[] {
  return [...algorithms.keys()];
}

/** A new instance of the named algorithm for one connection. */
export function createCongestionControl(name: string): CongestionControl {
  // Every connection asks by the same name: the last lookup is kept (a name, once registered, is
  // never taken back, so it stays right).
  if (name === lastCreated.name && lastCreated.alg !== null) return lastCreated.alg.create();
  const n = congestionControlName(name);
  if (n === null) throw new RangeError(`congestion control '${name}' is not registered (have: ${congestionControlNames().join(', ')})`);
  const alg = algorithms.get(n)!;
  lastCreated.name = name;
  lastCreated.alg = alg;
  return alg.create();
}

const lastCreated: { name: string; alg: CongestionAlgorithm | null } = { name: '', alg: null };
