/**
 * A socket's inactivity timeout (Node's `socket.setTimeout`) on the driver's clock: 'timeout'
 * once `ms` pass without a read or write. Activity only moves the deadline; the one timer armed
 * re-arms itself at the later deadline when it fires early, so a busy socket arms no timer per
 * read or write.
 */
import type { Driver, DriverTimer } from '../driver/node.js';

export class IdleTimeout {
  /** The timeout in ms; 0 is off. */
  ms = 0;
  private timer: DriverTimer | null = null;
  private lastActive = 0;

  /** `expired` emits 'timeout' (Node: re-armed only by new activity); `dead` says the socket is destroyed. */
  constructor(private readonly driver: Driver, private readonly expired: () => void, private readonly dead: () => boolean) {}

  /** Set (or with 0 turn off) the timeout, counting from now. */
  set(ms: number): void {
    this.ms = ms;
    this.clear();
    if (ms === 0) return;
    this.lastActive = this.driver.now();
    this.arm();
  }

  /** A read or a write: the deadline moves. */
  touch(): void {
    if (this.ms <= 0) return;
    this.lastActive = this.driver.now();
    if (this.timer === null || !this.timer.pending) this.arm();
  }

  clear(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(): void {
    if (this.dead()) return;
    this.timer = this.driver.setTimer(this.lastActive + this.ms * 1000, () => {
      this.timer = null;
      if (this.dead() || this.ms <= 0) return;
      if (this.driver.now() < this.lastActive + this.ms * 1000) {
        this.arm();
        return;
      }
      this.expired();
    });
  }
}
