import type { TcpStateName } from '../tcp/state.js';

/**
 * The event record of a run: what `synack demo --json` prints, what the ladder diagram draws,
 * what `synack read` reconstructs from a capture and what the viz replays. Times are virtual
 * seconds. Addresses are "addr:port" ("[v6]:port" for IPv6).
 */
export type DemoEvent =
  | {
      t: number;
      type: 'segment';
      /** The sender's host name. */
      host: string;
      src: string;
      dst: string;
      /** tcpdump letters: "S", "S.", ".", "P.", "F.", "R", "R." ... */
      flags: string;
      seq: number;
      ack: number;
      len: number;
      win: number;
      /** tcpdump-style option text, "" when none. */
      options: string;
      /** The network lost it (or it was malformed/undeliverable). */
      dropped: boolean;
      /** Why it was dropped ('loss', 'scripted', 'no-route' ...). */
      reason?: string;
      /** A retransmission (sequence space sent before). */
      retransmit?: boolean;
      /** Delivered with a flipped bit (the receiver's checksum drops it). */
      corrupted?: boolean;
    }
  | { t: number; type: 'state'; host: string; local: string; remote: string; from: TcpStateName; to: TcpStateName; cause: string }
  | { t: number; type: 'error'; host: string; code: string; message?: string; local?: string; remote?: string }
  | { t: number; type: 'app'; host: string; what: string; [detail: string]: unknown }
  | { t: number; type: 'note'; text: string }
  /**
   * A frame that is not a TCP segment (ARP, ICMP, UDP, ...) between the addresses `src` and
   * `dst`; `text` is tcpdump's line for it without the leading "src > dst: " (formatFrame's
   * words: "ARP, Request who-has 10.0.0.2 tell 10.0.0.1", "ICMP echo request, id 1, seq 1,
   * length 64", "UDP, length 32").
   */
  | { t: number; type: 'packet'; host: string; src: string; dst: string; text: string; dropped: boolean };

/** A run's events (segments, state changes, errors, application calls) and summary, as `synack demo --json` prints it. */
export interface DemoResult {
  scenario: string;
  /** The PRNG seed of a simulated run; absent for a run read back from a capture (it has none). */
  seed?: number;
  hosts: Record<string, string>;
  events: DemoEvent[];
  /** Closing summary: per host, final states, errors, counters worth showing. */
  summary: Record<string, unknown>;
}
