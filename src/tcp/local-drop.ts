import { NEVER, type Instant } from '../time.js';
import type { Connection } from './connection.js';
import { Timer } from './timers.js';
import { queueCwr } from './ecn.js';
import { armPersist } from './rto.js';

/**
 * Local congestion: the host's egress queue drops what TCP hands it (a qdisc with no room: LINUX
 * dev_queue_xmit returns NET_XMIT_DROP, which __tcp_transmit_skb passes up). The stack tells the
 * connection with `Connection.xmitDrop` before it asks for segments; new data is then not sent
 * at all (it stays queued, SND.NXT unmoved, as when tcp_write_xmit stops at the failed
 * tcp_transmit_skb). (Retransmissions and ACKs are produced and the stack drops them: synack
 * does not model TCP's reaction to those drops, LINUX tcp_retransmit_timer's resource retry.)
 */

/** LINUX TCP_RESOURCE_PROBE_INTERVAL: a probe that did not leave the host is retried after 500 ms. */
export const RESOURCE_PROBE_INTERVAL = 500_000;
/** LINUX TCP_TIMEOUT_MIN: 2 jiffies, the shortest timer a user timeout clamps a probe to. */
const TIMEOUT_MIN = 2_000;

/**
 * New data the egress queue dropped (LINUX tcp_write_xmit → __tcp_transmit_skb returning
 * NET_XMIT_DROP): the window is reduced once (tcp_enter_cwr), and with nothing in flight the
 * zero-window probe timer is what tries again (__tcp_push_pending_frames → tcp_check_probe_timer,
 * after max(RTO, TCP_RTO_MIN)). Returns false: nothing was sent.
 */
export function newDataDropped(c: Connection, now: Instant): false {
  const snd = c.snd;
  const prior = snd.cc.cwnd;
  if (snd.rec.enterCwr(snd.inFlight, snd.sndMax)) {
    c.cwr.priorCwnd = prior;
    c.cwr.delivered = 0;
    c.cwr.out = 0;
    queueCwr(c);
  }
  if (snd.inFlight === 0 && !c.timers.isSet(Timer.PERSIST)) {
    armPersist(c, now);
  }
  return false;
}

/**
 * The probe timer while the egress queue drops (LINUX tcp_probe_timer → tcp_send_probe0, whose
 * tcp_write_wakeup fails with NET_XMIT_DROP): the first expiry starts the probe clock
 * (icsk_probes_tstamp); a user timeout counts from it and, once run out, ends the connection
 * with ETIMEDOUT (tcp_write_err), as do tcp_retries2 probes. Otherwise the probe counts
 * (icsk_probes_out, tcpi_probes) without backing off, and the next try is 500 ms later, no later
 * than the user timeout (tcp_clamp_probe0_to_user_timeout).
 */
export function resourceProbe(c: Connection, now: Instant): void {
  const snd = c.snd;
  const userTimeout = c.config.userTimeout;
  if (snd.probesTstamp === NEVER) snd.probesTstamp = now;
  else if (userTimeout > 0 && now - snd.probesTstamp >= userTimeout) {
    c.fail('ETIMEDOUT', 'user timeout: probes did not leave the host');
    return;
  }
  if (snd.persistProbes >= c.config.retries2) {
    c.fail('ETIMEDOUT', 'probes did not leave the host');
    return;
  }
  snd.persistProbes++;
  let timeout = RESOURCE_PROBE_INTERVAL;
  if (userTimeout > 0) timeout = Math.min(timeout, Math.max(userTimeout - (now - snd.probesTstamp), TIMEOUT_MIN));
  c.timers.set(Timer.PERSIST, now + timeout);
}
