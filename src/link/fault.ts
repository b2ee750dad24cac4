/**
 * Fault-injection wrapper for real links (smoltcp `phy::FaultInjector`): loss, duplication,
 * corruption, delay and reordering applied on our side, in both directions. Time comes from the
 * driver's `schedule` (its one timer), randomness from the given Rng, so a run is reproducible
 * from its seed as far as our side goes.
 *
 * With every impairment zero (the default) the wrapper is a synchronous pass-through.
 */
import type { Rng } from '../rng.js';
import type { Duration } from '../time.js';
import type { Link } from './link.js';

/** The impairments `faultLink` applies: loss, delay, reordering, duplication, corruption. */
export interface FaultConfig {
  /** Probability a frame is dropped. */
  loss?: number;
  /** Probability a frame is passed on twice. */
  duplicate?: number;
  /** Probability one random bit is flipped (in a copy); the receiver's checksum must catch it. */
  corrupt?: number;
  /** Probability a frame is held back by an extra uniform(1 µs, 2*delay + 1 ms). */
  reorder?: number;
  /** Fixed delay added to every frame, µs. */
  delay?: Duration;
}

/** Wrap a link with seeded loss, delay, reordering, duplication and corruption. */
export function faultLink(
  link: Link,
  rng: Rng,
  cfg: FaultConfig,
  schedule: (delay: Duration, fn: () => void) => void,
): Link {
  const loss = prob('loss', cfg.loss);
  const duplicate = prob('duplicate', cfg.duplicate);
  const corrupt = prob('corrupt', cfg.corrupt);
  const reorder = prob('reorder', cfg.reorder);
  const delay = cfg.delay ?? 0;
  if (!(delay >= 0 && Number.isFinite(delay))) throw new RangeError(`delay must be a finite number >= 0, got ${delay}`);

  /**
   * Apply the impairments to one frame and pass it (and maybe a copy) to `out`. `owned` says
   * whether we may keep the frame past this call: sent frames are ours (Link ownership), received
   * frames are only readable during the callback, so they are copied before being delayed.
   */
  const impair = (frame: Uint8Array, owned: boolean, out: (f: Uint8Array) => void): void => {
    if (rng.chance(loss)) return;
    let f = frame;
    if (frame.length > 0 && rng.chance(corrupt)) {
      f = frame.slice();
      const bit = rng.int(0, f.length * 8 - 1);
      f[bit >> 3]! ^= 1 << (bit & 7);
    }
    let d = delay;
    if (rng.chance(reorder)) d += rng.int(1, 2 * delay + 1000);
    const dup = rng.chance(duplicate) ? frame.slice() : undefined;
    if (d > 0) {
      const g = owned || f !== frame ? f : frame.slice();
      schedule(d, () => out(g));
    } else {
      out(f);
    }
    if (dup) schedule(d + 1, () => out(dup)); // a copy slightly later
  };

  const receivers: ((frame: Uint8Array) => void)[] = [];
  const deliver = (f: Uint8Array): void => {
    for (const r of receivers) r(f);
  };
  link.onReceive((frame) => impair(frame, false, deliver));
  return {
    mtu: link.mtu,
    checksumOffload: link.checksumOffload,
    gsoMaxSize: link.gsoMaxSize,
    send(frame: Uint8Array, nextHop?: string): void {
      impair(frame, true, (f) => link.send(f, nextHop));
    },
    onReceive(r: (frame: Uint8Array) => void): void {
      receivers.push(r);
    },
  };
}

function prob(name: string, p: number | undefined): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${p}`);
  return v;
}
