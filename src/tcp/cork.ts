import type { SeqNum } from '../seq.js';

/**
 * TCP_CORK and MSG_MORE (LINUX tp->nonagle's TCP_NAGLE_CORK and TCP_NAGLE_PUSH, tcp_push,
 * tcp_mark_push), made on a connection's first MSG_MORE write or TCP_CORK:
 *   - a partial segment at the end of the queue waits while the socket is corked (TCP_CORK) or
 *     while the last push came from a MSG_MORE write (tcp_push: nonagle = TCP_NAGLE_CORK); full
 *     segments go. An arriving ACK pushes with the socket's own setting (tcp_data_snd_check), so
 *     it ends a MSG_MORE hold but not TCP_CORK's. With nothing in flight the zero-window probe
 *     timer sends the held data after an RTO (tcp_check_probe_timer, tcp_write_wakeup);
 *   - uncorking with TCP_NODELAY set, or setting TCP_NODELAY, pushes what is queued once,
 *     cork or not (TCP_NAGLE_PUSH); the next write that starts a new skb clears that
 *     (tcp_skb_entail);
 *   - PSH marks the end of a write without MSG_MORE (tcp_mark_push): a segment that ends the
 *     queue carries it only if it reaches that mark.
 */
export class CorkState {
  /** The end of the queued data after the last write without MSG_MORE (tcp_mark_push). */
  pushEnd: SeqNum;
  /** The last write had MSG_MORE and no ACK has pushed since (nonagle = TCP_NAGLE_CORK). */
  more = false;
  /** TCP_NAGLE_PUSH: send what is queued now, corked or not. */
  push = false;

  constructor(queueEnd: SeqNum) {
    this.pushEnd = queueEnd;
  }

  /**
   * A write queued data up to `queueEnd`, with MSG_MORE or not. `newSkb`: nothing was waiting
   * unsent before it, so Linux would have started a new skb (tcp_skb_entail clears
   * TCP_NAGLE_PUSH; appending to a waiting tail keeps it).
   */
  wrote(queueEnd: SeqNum, more: boolean, newSkb: boolean): void {
    this.more = more;
    if (!more) this.pushEnd = queueEnd;
    if (newSkb) this.push = false;
  }
}
