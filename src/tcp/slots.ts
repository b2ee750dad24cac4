/**
 * One array of unboxed doubles per connection for the numbers that are not small integers: the
 * µs instants of the connection, its send and receive halves and loss recovery, and the timer
 * deadlines (sequence numbers are int32 fields instead, always small integers). As plain fields
 * each instant would be a boxed heap number of its own once it passes 2^30 µs (18 minutes after
 * the clock's origin: in any long-lived process; V8 then boxes that field in every object of the
 * class), and as one array per holder each holder would bring two more objects (the array and its
 * backing store), all copied and promoted when a connection lives through a young-generation
 * collection. The connection, its send half, receive half, recovery state and timer table each
 * read their own range of this one array.
 */
export const SND_BASE = 0;
export const SND_SLOTS = 5;
export const RCV_BASE = SND_BASE + SND_SLOTS;
export const RCV_SLOTS = 2;
/** Loss recovery (recovery.ts): when the Loss episode first retransmitted. */
export const REC_BASE = RCV_BASE + RCV_SLOTS;
export const REC_SLOTS = 1;
/** The connection (connection.ts): when a segment, a data segment, last arrived; when one was last sent. */
export const CONN_BASE = REC_BASE + REC_SLOTS;
export const CONN_SLOTS = 3;
export const TIMER_BASE = CONN_BASE + CONN_SLOTS;
export const TIMER_SLOTS = 9;
export const TCB_SLOTS = TIMER_BASE + TIMER_SLOTS;

/**
 * A new connection's slots: instants -0, every timer stopped (NEVER, +Infinity). A literal of
 * number constants: V8 makes it unboxed doubles from the start and copies it whole. (`1e999` is
 * +Infinity written as a literal; the name `Infinity` would be a global lookup.)
 */
export function newTcbSlots(): number[] {
  // prettier-ignore
  const q = [
    -0, -0, -0, -0, -0, // send half
    -0, -0, // receive half
    1e999, // recovery (NEVER)
    -0, -0, -0, // connection
    1e999, 1e999, 1e999, 1e999, 1e999, 1e999, 1e999, 1e999, 1e999, // timers (NEVER)
  ];
  return q;
}

if (newTcbSlots().length !== TCB_SLOTS) throw new Error('slots.ts: newTcbSlots must have TCB_SLOTS entries');
if (newTcbSlots()[TIMER_BASE] !== Number.POSITIVE_INFINITY) throw new Error('slots.ts: the timer slots must start stopped (NEVER)');
