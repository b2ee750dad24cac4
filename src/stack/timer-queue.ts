/**
 * The stack's timer queue: one entry per connection, keyed by its earliest deadline (the
 * connection's TimerTable), in a binary heap (util/heap.ts).
 *
 * A connection's deadline moves later far more often than earlier (every ACK restarts the
 * retransmission timer, RFC 6298 §5.3), so after a connection is serviced its entry is moved
 * earlier at once but left where it is when the deadline moved later: `top()` checks the first
 * entry against its connection's true deadline and corrects it when it differs, before anyone
 * uses it. What the queue answers, and the order timers fire in, are those of exact keys; a
 * later deadline costs no sift unless it reaches the top (measured: ~3 % of the instructions of
 * a short connection, bench cps).
 */
import type { Instant } from '../time.js';
import type { Connection } from '../tcp/connection.js';
import { Heap } from '../util/heap.js';

export class TimerQueue {
  private readonly heap = new Heap<Connection>();

  /** After servicing `c`: queue it at its earliest deadline (none: out of the queue). */
  schedule(c: Connection): void {
    const d = c.nextDeadline();
    if (d === Number.POSITIVE_INFINITY) this.heap.remove(c);
    else this.heap.lower(c, d);
  }

  remove(c: Connection): void {
    this.heap.remove(c);
  }

  /** The earliest deadline of any connection (+Infinity when none). */
  top(): Instant {
    const q = this.heap;
    for (let c = q.peek(); c !== undefined; c = q.peek()) {
      const d = c.nextDeadline();
      if (d === q.peekKey()) return d;
      if (d === Number.POSITIVE_INFINITY) q.remove(c);
      else q.update(c, d);
    }
    return Number.POSITIVE_INFINITY;
  }

  /** The connection whose deadline is earliest if it is due at `now`, taken out of the queue. */
  popDue(now: Instant): Connection | undefined {
    return this.top() <= now ? this.heap.pop() : undefined;
  }
}
