/**
 * Header prediction for a pure receiver (LINUX tcp_rcv_established, "Bulk data transfer:
 * receiver"): the next in-order segment of a stream whose ACK field repeats SND.UNA is queued
 * without the rest of §3.10.7.4. Linux's fast path takes such a segment when its header is the
 * predicted one (pred_flags: only ACK, PSH ignored; the usual options; RCV.NXT in sequence) and
 * the ACK acknowledges nothing new, and then skips tcp_ack altogether (tcp_update_wl only).
 *
 * Here the prediction is narrower, so that taking it changes nothing the full path
 * (input.ts synchronizedInput) would do: ESTABLISHED, nothing of ours in flight, recovery Open
 * with no duplicate ACKs or SACK state, no SACK blocks, a timestamp that passes PAWS, text that
 * fits the window offered, a socket not closed. In that case the ACK step's work (processAck)
 * has nothing to act on, the acceptability test passes, and no state transition is possible:
 * what remains is the timestamp, the window update and the text. A bulk receiver takes this
 * path for almost every segment (its ACK field never moves); everything else goes the full way.
 */
import { seqDiff, seqLe } from '../seq.js';
import type { Instant } from '../time.js';
import { ACK, PSH, payloadBytes, payloadOffset, type TcpRepr } from '../wire/tcp-repr.js';
import { tsBefore } from './clock.js';
import type { Connection } from './connection.js';
import { ecnOnData } from './ecn.js';
import { measureRcvRtt, receiveText } from './receiver.js';
import { onAckSacks } from './recovery.js';
import { updateSendWindow } from './sender.js';
import { Timer } from './timers.js';
import { Work } from './work.js';

let enabled = true;

/**
 * Turn header prediction off (every segment then takes the full path) or on again; returns the
 * setting now in use. For the test that checks both paths put the same bytes on the wire, and
 * for benchmarks that measure what the prediction saves.
 */
export function setHeaderPrediction(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new TypeError(`on must be a boolean, got ${String(on)}`);
  enabled = on;
  return enabled;
}

/** Whether `seg` is the predicted one: true when it was taken here, false for the full path. */
export function receivePredicted(c: Connection, now: Instant, seg: TcpRepr): boolean {
  const len = seg.payload.length;
  if ((seg.flags & ~PSH) !== ACK || len === 0 || c.state !== 'ESTABLISHED' || !enabled) return false;
  const rcv = c.rcv;
  const snd = c.snd;
  const ack = seg.ack;
  if (seg.seq !== rcv.rcvNxt || ack !== snd.sndUna || ack !== snd.sndMax || seg.sackCount !== 0) return false;
  // The offered window holds the text (so the §3.10.7.4 table and tcp_sequence's right edge
  // accept it), and nothing is held out of order (LINUX tcp_fast_path_check: no ofo queue).
  if (len > seqDiff(rcv.rcvAdv, rcv.rcvNxt) || !rcv.reasm.isEmpty || c.userClosed) return false;
  const ts = c.tsEnabled;
  if (ts !== seg.hasTimestamp || (ts && tsBefore(seg.tsVal, rcv.tsRecent))) return false; // PAWS: full path
  const rec = snd.rec;
  if (rec.state !== 'Open' || rec.dupAcks !== 0 || !rec.sb.isEmpty) return false;

  c.mib.TCPHPHits!++;
  c.lastRecv = now;
  c.keepaliveProbes = 0;
  snd.persistProbes = 0;
  // What processAck does with an ACK that acknowledges nothing, with nothing in flight: a
  // MSG_MORE hold ends (tcp_data_snd_check), RACK clears its per-ACK state.
  if (c.corkState !== null) c.corkState.more = false;
  if (c.sackEnabled) {
    if (rec.rackIfAny !== null) onAckSacks(c, now, ack, seg.sackBlocks, 0, ts ? seg.tsEcr : null);
    c.timers.stop(Timer.REORDER); // (rackDetectAndRecover with no record in flight)
  }
  // RFC 7323 §4.3 (LINUX: rcv_nxt == rcv_wup in the fast path): SEG.SEQ <= Last.ACK.sent.
  if (ts && seqLe(seg.seq, rcv.lastAckSent)) rcv.tsRecent = seg.tsVal;
  updateSendWindow(c, seg);
  // The seventh step (input.ts segmentText) for ESTABLISHED.
  if (ts && seg.tsEcr !== 0) measureRcvRtt(c, now, seg.tsEcr);
  const ackNow = ecnOnData(c, seg);
  receiveText(c, now, seg.seq, payloadBytes(seg), payloadOffset(seg), len);
  if (ackNow) c.pending |= Work.ACK;
  return true;
}
