/**
 * The user's CLOSE and ABORT calls on a connection (RFC 9293 §3.10.4, §3.10.5), with shutdown's
 * half-close and Linux's close() rules (SO_LINGER, unread data). Connection's shutdown(), close()
 * and abort() call these.
 */
import type { Instant } from '../time.js';
import { TcpUsageError } from '../errors.js';
import { bump } from '../mib.js';
import type { Connection } from './connection.js';
import { Timer } from './timers.js';
import { Work } from './work.js';

/** shutdown(SHUT_WR): half-close (§3.10.4 CLOSE of the send direction). */
export function shutdownSend(c: Connection, now: Instant): void {
  if (c.snd.finQueued) return;
  switch (c.state) {
    case 'CLOSED':
    case 'LISTEN':
      throw new TcpUsageError('ENOTCONN', `shutdown in state ${c.state}`);
    case 'SYN_SENT':
      // RFC 9293 §3.10.4: queue the FIN until ESTABLISHED (a deferred Fast Open SYN goes now).
      c.snd.finQueued = true;
      if (c.fastOpen !== null) c.fastOpen.deferConnect = false;
      return;
    case 'SYN_RECEIVED':
    case 'ESTABLISHED':
      c.snd.finQueued = true;
      c.setState('FIN_WAIT_1', 'close/shutdown: snd FIN');
      break;
    case 'CLOSE_WAIT':
      c.snd.finQueued = true;
      c.setState('LAST_ACK', 'close/shutdown: snd FIN');
      break;
    default:
      return; // already closing
  }
  c.lastSend = now;
}

/**
 * close() with SO_LINGER semantics (the seed article's three cases):
 * - unread data, or linger = 0: abortive close, RST, no TIME_WAIT (LINUX tcp_close);
 * - linger off: FIN, close returns at once, the orphan finishes in the background;
 * - linger > 0: FIN, and a 'linger' event reports whether data+FIN were acked in time.
 */
export function closeCall(c: Connection, now: Instant): void {
  if (c.userClosed) return;
  c.userClosed = true;
  switch (c.state) {
    case 'CLOSED':
      return;
    case 'LISTEN':
      c.setState('CLOSED', 'close');
      return;
    case 'SYN_SENT':
      // RFC 9293 §3.10.4: delete the TCB; nothing is sent.
      c.setState('CLOSED', 'close in SYN_SENT');
      return;
    default:
      break;
  }
  const unread = c.rcv.recvBuf.length > 0;
  if (unread || c.config.linger === 0) {
    // LINUX tcp_close: data_was_unread → RST (RFC 2525 §2.17); SO_LINGER 0 → RST.
    bump(c.mib, unread ? 'TCPAbortOnClose' : 'TCPAbortOnData');
    abortCall(c, now, unread ? 'close with unread data: snd RST' : 'close with SO_LINGER 0: snd RST');
    return;
  }
  shutdownSend(c, now);
  c.rcv.recvBuf.clear();
  if (c.config.linger !== null && c.config.linger > 0 && !c.snd.finAcked()) {
    c.lingerPending = true;
    c.timers.set(Timer.LINGER, now + c.config.linger);
  }
  if (c.state === 'FIN_WAIT_2') c.armFinWait2(now);
}

/** ABORT (§3.10.5): RST to the peer if synchronized, then CLOSED. No error is reported to us. */
export function abortCall(c: Connection, now: Instant, cause = 'abort: snd RST', forceRst = false): void {
  const s = c.state;
  if (s === 'CLOSED') return;
  // LINUX tcp_need_reset: RST from SYN_RECEIVED and every synchronized state but the closing ones.
  const sendRst = s === 'ESTABLISHED' || s === 'CLOSE_WAIT' || s === 'FIN_WAIT_1' || s === 'FIN_WAIT_2' || s === 'SYN_RECEIVED' ||
    (forceRst && s !== 'SYN_SENT' && s !== 'TIME_WAIT' && s !== 'LISTEN');
  if (sendRst) {
    c.pending |= Work.RST;
    bump(c.mib, 'OutRsts');
  }
  c.lastSend = now;
  c.setState('CLOSED', cause);
}
