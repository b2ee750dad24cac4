import { seqAdd, seqDiff, seqGe, seqGt, seqLt, seqMax, type SeqNum } from '../seq.js';
import { NEVER, type Instant } from '../time.js';
import type { Connection } from './connection.js';
import type { CongestionControl } from './congestion/control.js';
import { bump } from '../mib.js';
import { Rack } from './rack.js';
import { DUP_THRESH, Scoreboard } from './sack.js';
import { Timer } from './timers.js';
import { Work } from './work.js';
import { tsBefore, tsClock } from './clock.js';
import { isCwndLimited } from './cwnd-validate.js';
import { queueCwr } from './ecn.js';
import { mtupProbeLost } from './mtu-probe.js';
import { REC_BASE } from './slots.js';

/** The connection's slot (slots.ts) for lossRxtFirst: a µs instant, a boxed number as a field. */
const LOSS_RXT_FIRST = REC_BASE + 0;

/**
 * The loss-recovery state (LINUX enum tcp_ca_state, the states tcp_fastretrans_alert moves
 * between): Open — nothing odd; Disorder — duplicate ACKs or SACKs seen, nothing marked lost;
 * CWR — the window reduced for a congestion signal without loss (ECN, RFC 3168; not entered
 * until ECN is negotiated); Recovery — fast recovery (RFC 5681 §3.2, RFC 6582, RFC 6675) until
 * highSeq is acknowledged; Loss — after a retransmission timeout, go-back from SND.UNA until
 * highSeq is acknowledged (LINUX tcp_enter_loss; RFC 6582 §4 guards the same way).
 */
export type CaState = 'Open' | 'Disorder' | 'CWR' | 'Recovery' | 'Loss';

/**
 * One connection's loss recovery: the state above, the SACK scoreboard (RFC 6675), RACK
 * (RFC 8985), duplicate-ACK counting (RFC 5681) and undo (RFC 3708 D-SACK, RFC 3522 Eifel).
 * The congestion-control algorithm (congestion/) is told of losses and timeouts from here; the
 * recovery window itself (RFC 6675's cwnd = ssthresh, NewReno's inflation) is set here, as LINUX
 * tcp_enter_recovery does for every algorithm.
 */
export class Recovery extends Scoreboard {
  state: CaState = 'Open';
  /**
   * What the peer SACKed (RFC 6675 scoreboard): this object itself. The scoreboard's fields live
   * in the recovery state (Recovery extends Scoreboard), one object fewer per connection for the
   * young-generation collector to copy (bench/scale.ts); `rec.sb` reads as the scoreboard.
   */
  get sb(): Scoreboard {
    return this;
  }
  /** LINUX high_seq: SND.MAX when Recovery or Loss began; acknowledging it ends the episode. */
  get highSeq(): SeqNum { return this.#highSeq >>> 0; }
  set highSeq(v: SeqNum) { this.#highSeq = v | 0; }
  // Sequence numbers kept as int32 (small integers in the object, no boxed number: sender.ts).
  #highSeq = 0;
  /** RFC 5681 §2 duplicate ACKs since SND.UNA last moved. */
  dupAcks = 0;
  /** RFC 8985 §7 TLP: SND.MAX when a loss probe was sent (one probe per episode), else null. */
  tlpHighSeq: SeqNum | null = null;
  /** Retransmissions of the current recovery episode not yet shown spurious by a D-SACK (RFC 3708). */
  undoRetrans = 0;
  /** LINUX prior_cwnd / prior_ssthresh: the window before the reduction undo() reverts (0: none). */
  private priorCwnd = 0;
  private priorSsthresh = 0x7fffffff;
  /** LINUX tp->frto: F-RTO (RFC 5682 §3) watches this Loss episode for a spurious timeout. */
  frto = false;
  /**
   * F-RTO sent new data instead of retransmitting (RFC 5682 §3.1 step 2b): SND.NXT jumped to
   * frtoJump (SND.MAX then), and what is in flight is the retransmissions below rxtEnd plus the
   * new data above frtoJump. Once F-RTO gives up (step 3a) SND.NXT goes back, frtoNewData is
   * false, and the new data above frtoJump still counts as in flight (flightInLoss).
   */
  frtoNewData = false;
  frtoJump: SeqNum | null = null;
  /** End of what this Loss episode retransmitted (its go-back's high-water mark). */
  get rxtEnd(): SeqNum { return this.#rxtEnd >>> 0; }
  set rxtEnd(v: SeqNum) { this.#rxtEnd = v | 0; }
  #rxtEnd = 0;
  /** When this Loss episode first retransmitted (LINUX tp->retrans_stamp; NEVER: not yet). */
  get lossRxtFirst(): Instant { return this.q[LOSS_RXT_FIRST]!; }
  set lossRxtFirst(v: Instant) { this.q[LOSS_RXT_FIRST] = v; }
  /** Recovery without SACK inflates the window per duplicate ACK (RFC 6582, RFC 5681 §3.2 step 4). */
  private newRenoInflation = false;
  /**
   * RFC 6937 PRR state of this recovery (LINUX prior_cwnd, prr_delivered, prr_out; bytes):
   * the window when it began, what the peer has received since, what we have sent since.
   */
  prrRecoverFs = 0;
  prrDelivered = 0;
  prrOut = 0;
  private rackState: Rack | null = null;

  constructor(
    readonly cc: CongestionControl,
    iss: SeqNum,
    /** The connection's slots (slots.ts), shared with the send half. */
    private readonly q: number[],
  ) {
    super();
    q[LOSS_RXT_FIRST] = NEVER;
    // RFC 6675 HighRxt starts at the ISN (outside recovery it tracks SND.UNA): 0 would compare as
    // "ahead" of every sequence number in the upper half of the space.
    this.sb.highRxt = iss;
  }

  /**
   * RACK's per-segment transmit times and loss marks (RFC 8985 §6), with SACK only; made at the
   * first use, so a connection that never sends data does not carry it.
   */
  get rack(): Rack {
    return (this.rackState ??= new Rack());
  }

  /** RACK's state if this connection has sent data (no allocation). */
  get rackIfAny(): Rack | null {
    return this.rackState;
  }

  get inRecovery(): boolean {
    return this.state === 'Recovery';
  }

  /** In Recovery or Loss: an episode is under way (no new one starts, no loss probe). */
  get recovering(): boolean {
    return this.state === 'Recovery' || this.state === 'Loss';
  }

  /** A reduction that undo() could still revert (no timeout or undo since the last recovery). */
  get undoPossible(): boolean {
    return this.priorCwnd !== 0 && this.state !== 'Loss';
  }

  /** A Loss episode's reduction can still be undone (LINUX tp->undo_marker; tcp_may_undo). */
  get undoPending(): boolean {
    return this.priorCwnd !== 0 && this.state === 'Loss';
  }

  /** LINUX tcp_try_to_open: between episodes, Disorder while anything looks out of order. */
  tryToOpen(): void {
    if (this.state === 'Open' || this.state === 'Disorder') this.state = this.dupAcks > 0 || !this.sb.isEmpty ? 'Disorder' : 'Open';
  }

  /**
   * Enter Recovery (RFC 5681 §3.2 steps 2–3, RFC 6582 §3.2 step 1, RFC 6675 §5 step 4): the
   * algorithm sets ssthresh; NewReno inflates by the three segments that left, SACK recovery
   * counts the pipe instead.
   */
  enterRecovery(flightSize: number, sndMax: SeqNum, sack: boolean): void {
    const cc = this.cc;
    this.priorCwnd = cc.cwnd;
    this.priorSsthresh = cc.ssthresh;
    cc.onLoss(flightSize);
    this.newRenoInflation = !sack;
    // LINUX tcp_init_cwnd_reduction: with SACK, PRR (prrReduce) sets the window on each ACK.
    this.prrRecoverFs = cc.cwnd;
    this.prrDelivered = 0;
    this.prrOut = 0;
    if (!sack) cc.cwnd = cc.ssthresh + 3 * cc.mss;
    this.highSeq = sndMax;
    this.state = 'Recovery';
  }

  /** Each further duplicate ACK inflates a NewReno window (RFC 5681 §3.2 step 4). */
  onDupAck(): void {
    this.dupAcks++;
    if (this.state === 'Recovery' && this.newRenoInflation) this.cc.cwnd += this.cc.mss;
  }

  /**
   * An ACK of new data in Recovery. Full ACK (covers highSeq): deflate to ssthresh and leave
   * (RFC 6582 §3.2 step 3). Partial ACK: NewReno deflates by the amount acked plus one MSS and
   * returns true — the next unacknowledged segment must be retransmitted (step 4).
   */
  onRecoveryAck(ack: SeqNum, acked: number): boolean {
    const cc = this.cc;
    if (seqGe(ack, this.highSeq)) {
      cc.cwnd = cc.ssthresh;
      this.state = 'Open';
      return false;
    }
    if (!this.newRenoInflation) return false;
    cc.cwnd = Math.max(cc.mss, cc.cwnd - acked + cc.mss);
    return true;
  }

  /**
   * ECN-Echo outside a recovery (RFC 3168 §6.1.2; LINUX tcp_enter_cwr): ssthresh from the
   * algorithm, at most once per window of data (until highSeq is acknowledged); never undone.
   * The window comes down by PRR in ecn.ts. Returns whether the state was entered.
   */
  enterCwr(flightSize: number, sndMax: SeqNum): boolean {
    if (this.state !== 'Open' && this.state !== 'Disorder') return false;
    this.priorCwnd = 0;
    this.cc.onLoss(flightSize);
    this.highSeq = sndMax;
    this.state = 'CWR';
    return true;
  }

  /**
   * Retransmission timeout (RFC 5681 §3.1 equations 4 and 5): enter Loss with a one-segment
   * window. `retransmits`: timeouts in a row before this one (LINUX icsk_retransmits); `frto`: the
   * tcp_frto sysctl.
   */
  enterLoss(flightSize: number, sndUna: SeqNum, sndMax: SeqNum, retransmits: number, frto: number, now: Instant): void {
    const cc = this.cc;
    const st = this.state;
    const newRecovery = st === 'Open' || st === 'Disorder' || st === 'CWR';
    // LINUX tcp_enter_loss: reduce ssthresh (and remember the window for undo) unless this window
    // of data was already reduced for: a timeout in CWR or Recovery, or a repeated one in Loss.
    if (st === 'Open' || st === 'Disorder' || !seqGt(this.highSeq, sndUna) || (st === 'Loss' && retransmits === 0)) {
      // LINUX tcp_current_ssthresh: outside a reduction, at least 3/4 of the window.
      this.priorSsthresh = st === 'Recovery' || st === 'CWR' ? cc.ssthresh : Math.max(cc.ssthresh, 0.75 * cc.cwnd);
      this.priorCwnd = cc.cwnd;
      cc.onLoss(flightSize);
    }
    cc.cwnd = cc.mss;
    cc.onRto(now, sndMax);
    this.highSeq = sndMax;
    this.state = 'Loss';
    // LINUX tcp_enter_loss: F-RTO (RFC 5682 §3.1 step 1) unless another recovery is under way,
    // except a timeout repeated on the same SND.UNA (§3.2).
    this.frto = frto !== 0 && (newRecovery || retransmits > 0);
    this.frtoNewData = false;
    this.frtoJump = null;
    this.rxtEnd = sndUna;
    // LINUX tcp_enter_loss keeps retrans_stamp across repeated timeouts of the same data.
    if (newRecovery || !seqGt(this.highSeq, sndUna)) this.lossRxtFirst = NEVER;
  }

  /** A Loss episode ended without undo (LINUX tcp_try_undo_recovery found nothing to undo). */
  endLoss(): void {
    this.state = 'Open';
    this.frto = false;
    this.frtoNewData = false;
    this.frtoJump = null;
    this.priorCwnd = 0; // kept from here on only for a fast recovery's D-SACK/Eifel undo
  }

  /**
   * Every retransmission of this episode proved unnecessary (D-SACK, RFC 3708 §3.2; timestamps,
   * RFC 3522): restore the window as it was before the reduction (LINUX tcp_undo_cwnd_reduction).
   */
  undo(): void {
    if (this.priorCwnd === 0) return;
    const cc = this.cc;
    cc.cwnd = Math.max(cc.cwnd, this.priorCwnd);
    cc.ssthresh = Math.max(cc.ssthresh, this.priorSsthresh);
    if (this.state === 'Recovery' || this.state === 'Loss') this.state = 'Open';
    this.priorCwnd = 0;
  }
}

/**
 * Start fast recovery (RFC 5681 §3.2 steps 2-3, RFC 6582 §3.2, RFC 6675 §5 step 4). Without
 * SACK the segment at SND.UNA goes at once; with SACK the output engine retransmits what RACK
 * marked lost, the first at once (RFC 6675 §5 step 4.2).
 */
export function enterFastRecovery(c: Connection): void {
  if (mtupProbeLost(c)) return; // a PLPMTUD probe too big for the path: no congestion response
  const rec = c.snd.rec;
  rec.enterRecovery(c.snd.inFlight, c.snd.sndMax, c.sackEnabled);
  queueCwr(c); // RFC 3168 §6.1.2: tell an ECN peer the window was reduced
  rec.undoRetrans = 0;
  if (c.sackEnabled) {
    const rack = rec.rack;
    rack.rxtFirst = NEVER;
    rack.rxtCount = 0;
    rack.rxtSpurious = 0;
  }
  rec.sb.highRxt = c.snd.sndUna;
  c.pending |= Work.RETRANSMIT_HEAD; // RFC 6675 §5 step 4.2 / RFC 5681 §3.2 step 3
  bump(c.mib, c.sackEnabled ? 'TCPSackRecovery' : 'TCPRenoRecovery');
}

/**
 * RFC 6937 Proportional Rate Reduction, as LINUX tcp_cwnd_reduction computes it on every ACK of
 * a recovery (and once when the RACK timer starts one): `delivered` bytes newly acknowledged or
 * SACKed. While the pipe is above ssthresh, send in proportion — ssthresh/RecoverFS of what was
 * delivered (ceiling), less what was sent; below it, slow start back up to ssthresh
 * (PRR-SSRB: what was delivered and not yet matched, at least this ACK's delivery, plus one when
 * SND.UNA advanced with nothing newly lost). The first call lets the fast retransmit out. The
 * window becomes pipe + that quota. Counted in segments, as Linux does.
 */
export function prrReduce(c: Connection, delivered: number, newlyLost: boolean, unaAdvanced: boolean): void {
  const rec = c.snd.rec;
  const cc = rec.cc;
  if (delivered <= 0 || rec.prrRecoverFs <= 0) return;
  const mss = cc.mss;
  rec.prrDelivered += delivered;
  const seg = (b: number): number => Math.ceil(b / mss - 1e-9);
  const ssthresh = Math.floor(cc.ssthresh / mss);
  const inFlight = seg(pipe(c));
  const out = seg(rec.prrOut);
  const prrDelivered = seg(rec.prrDelivered);
  const delta = ssthresh - inFlight;
  let sndcnt: number;
  if (delta < 0) {
    sndcnt = Math.ceil((ssthresh * prrDelivered) / Math.max(1, Math.floor(rec.prrRecoverFs / mss))) - out;
  } else {
    sndcnt = Math.max(prrDelivered - out, seg(delivered));
    if (unaAdvanced && !newlyLost) sndcnt++;
    sndcnt = Math.min(delta, sndcnt);
  }
  sndcnt = Math.max(sndcnt, out > 0 ? 0 : 1); // LINUX: force the fast retransmit
  cc.cwnd = (inFlight + sndcnt) * mss;
}

/** What this connection sent during a recovery (new data or retransmission): PRR's prr_out. */
export function prrSent(c: Connection, bytes: number): void {
  const rec = c.snd.rec;
  if (rec.state === 'Recovery') rec.prrOut += bytes;
}

/** A retransmission timeout of data (not the handshake): LINUX tcp_enter_loss. */
export function enterLoss(c: Connection, now: Instant): void {
  const rec = c.snd.rec;
  rec.enterLoss(seqDiff(c.snd.sndMax, c.snd.sndUna), c.snd.sndUna, c.snd.sndMax, c.snd.retransmits, c.config.frto, now);
  queueCwr(c);
  // LINUX tcp_enter_loss: a timeout suggests the reordering degree was over-estimated.
  rec.sb.dupThresh = 3;
  rec.rack.onRto();
  c.timers.stop(Timer.REORDER);
}

/**
 * The SACK blocks and RACK part of an acceptable ACK (RFC 2018 §4 / RFC 6675: learn what the peer
 * holds above the cumulative ACK; RFC 8985 §6.2 steps 1–4), with D-SACK and Eifel undo.
 */
export function onAckSacks(c: Connection, now: Instant, ack: SeqNum, blocks: Uint32Array, count: number, tsEcr: number | null): void {
  const rec = c.snd.rec;
  const cumAck = seqGt(ack, c.snd.sndUna) ? ack : c.snd.sndUna;
  const dsack = c.sackEnabled && count > 0 && rec.sb.update(blocks, count, cumAck, c.snd.sndMax, ack);
  if (dsack) {
    bump(c.mib, 'TCPDSACKRecv'); // RFC 2883: the peer got something twice
    onDsack(c, blocks[0]!, blocks[1]!);
  }
  // (No RACK state yet means no data was ever sent: nothing for this ACK to deliver.)
  const rack = c.sackEnabled ? rec.rackIfAny : null;
  if (rack === null) return;
  rack.onAck(c, now, cumAck, count > 0, tsEcr, dsack);
  // RFC 3522 Eifel detection (LINUX tcp_try_undo_recovery with tcp_packet_delayed): every
  // retransmission of the recovery was answered by an ACK echoing a timestamp older than it,
  // so the originals arrived: the reduction was for nothing. (Counted per segment, because a
  // D-SACK can be lost or dropped by PAWS when the ACK path reorders.)
  if (rack.rxtSpurious > 0 && rack.rxtSpurious >= rack.rxtCount && (rec.inRecovery || rec.undoPossible)) {
    rec.undo();
    rack.rxtSpurious = 0;
    rack.rxtCount = 0;
    bump(c.mib, 'TCPFullUndo');
  }
}

/**
 * A D-SACK for [start, end) (RFC 2883): if it covers data we retransmitted, that retransmission
 * was spurious — the original was only reordered or delayed. Raise the reordering degree to what
 * was observed (RFC 4653's idea; LINUX tcp_check_sack_reordering, capped by tcp_max_reordering
 * 300) and, once every retransmission of this recovery is accounted for, undo the window
 * reduction (RFC 3708 §3.2; LINUX tcp_try_undo_dsack).
 */
function onDsack(c: Connection, start: SeqNum, end: SeqNum): void {
  const rec = c.snd.rec;
  const sb = rec.sb;
  if (!seqLt(start, sb.highRxt) && !seqLt(start, c.snd.sndUna)) return; // not a retransmission of ours
  bump(c.mib, 'TCPSpuriousRetrans');
  const degree = Math.ceil(Math.max(0, seqDiff(sb.highSacked(c.snd.sndMax), start)) / c.effMss);
  if (degree > sb.dupThresh) sb.dupThresh = Math.min(300, degree);
  if (degree > 0 && rec.rackIfAny !== null) rec.rackIfAny.reordSeen++; // LINUX tcp_check_sack_reordering: tp->reord_seen
  // One D-SACK block can report several adjacent retransmitted segments.
  const pending = rec.undoRetrans;
  rec.undoRetrans = Math.max(0, pending - Math.max(1, Math.ceil(seqDiff(end, start) / c.effMss)));
  // LINUX tcp_fastretrans_alert calls tcp_try_undo_dsack in Open/Disorder too: the D-SACK for the
  // last retransmission usually arrives just after the ACK that ended recovery.
  if (rec.undoRetrans === 0 && (rec.inRecovery || (pending > 0 && rec.undoPossible))) {
    rec.undo();
    bump(c.mib, 'TCPDSACKUndo');
  }
}

/**
 * SND.UNA advanced to `ack` (from `prevUna`; `dataAcked` bytes of data): end a Loss episode
 * once highSeq is acknowledged, deflate or end Recovery, or let the algorithm grow the window.
 */
export function onAckAdvance(c: Connection, now: Instant, ack: SeqNum, prevUna: SeqNum, dataAcked: number, tsEcr: number | null = null): void {
  const rec = c.snd.rec;
  const wasRecovering = rec.recovering;
  rec.dupAcks = 0;
  rec.sb.pruneBelow(ack);
  if (rec.state === 'Loss') processLoss(c, ack, prevUna, true, false, tsEcr);
  if (seqLt(rec.sb.highRxt, ack)) rec.sb.highRxt = ack;
  if (rec.state === 'Recovery') {
    // RFC 6582 §3.2: a partial ACK retransmits the next hole; a full ACK ends recovery.
    if (rec.onRecoveryAck(ack, seqDiff(ack, prevUna))) c.pending |= Work.RETRANSMIT_HEAD;
  } else if (rec.state !== 'CWR' && seqDiff(ack, prevUna) > 0 && dataAcked > 0 && isCwndLimited(c)) {
    // LINUX tcp_cong_avoid → cubictcp_cong_avoid / tcp_reno_cong_avoid: only a window that
    // limited the sender grows (tcp_is_cwnd_limited, RFC 7661).
    rec.cc.onAck(dataAcked, now, c.snd.rtt.srtt);
  }
  if (wasRecovering && !rec.recovering) rec.rack.onRecoveryExit();
  if (rec.tlpHighSeq !== null && !seqLt(ack, rec.tlpHighSeq)) rec.tlpHighSeq = null; // the probe episode ended
}

/**
 * LINUX tcp_may_raise_cwnd: once reordering was measured above the default degree (tp->reordering
 * > tcp_reordering), every ACK that delivers data grows the window, an ACK that only SACKs
 * included ("regardless of its ordering"); below it only ACKs that move SND.UNA do (RFC 5681).
 */
export function sackGrowth(c: Connection, now: Instant, delivered: number): void {
  const rec = c.snd.rec;
  if (rec.sb.dupThresh <= DUP_THRESH || rec.state === 'CWR' || rec.state === 'Recovery' || !isCwndLimited(c)) return;
  rec.cc.onAck(delivered, now, c.snd.rtt.srtt);
}

/**
 * An ACK in the Loss state (LINUX tcp_process_loss): F-RTO (RFC 5682 §3, the SACK-enhanced
 * version Linux runs for tcp_frto 1 and 2), then the end of the episode once highSeq is
 * acknowledged. `advanced`: SND.UNA moved from `prevUna` to `ack`; `dupAck`: a duplicate ACK.
 */
export function processLoss(c: Connection, ack: SeqNum, prevUna: SeqNum, advanced: boolean, dupAck: boolean, tsEcr: number | null = null): void {
  const rec = c.snd.rec;
  const snd = c.snd;
  const recovered = !seqLt(ack, rec.highSeq);
  // LINUX tcp_try_undo_loss(sk, false) when tcp_may_undo → tcp_packet_delayed: an ACK that moves
  // SND.UNA echoes a timestamp older than the episode's first retransmission, so what it
  // acknowledges is the originals (RFC 3522 Eifel detection): the timeout was spurious.
  if (advanced && tsEcr !== null && tsEcr !== 0 && rec.lossRxtFirst !== NEVER && rec.undoPending && tsBefore(tsEcr, tsClock(c, rec.lossRxtFirst))) {
    undoLoss(c, false);
    return;
  }
  if (rec.frto) {
    // Step 3b: data never retransmitted was (S)ACKed (LINUX FLAG_ORIG_SACK_ACKED): the originals
    // were delayed, not lost; the timeout was spurious (LINUX tcp_try_undo_loss(sk, true)).
    const rack = c.sackEnabled ? rec.rackIfAny : null;
    const origAcked = rack !== null ? rack.origDelivered : advanced && seqGt(ack, rec.rxtEnd) && seqLt(seqMax(prevUna, rec.rxtEnd), rec.highSeq);
    if (origAcked) {
      undoLoss(c, true);
      return;
    }
    if (seqGt(snd.sndMax, rec.highSeq)) {
      // Step 3a: new data sent, and a SACK or duplicate ACK instead of an ACK of the originals:
      // the loss was real; go on with conventional recovery.
      if ((rack?.newlySacked ?? false) || dupAck) frtoGiveUp(c);
    } else if (advanced && !recovered) {
      // Step 2b: send new data rather than retransmit (LINUX REXMIT_NEW), if there is any and
      // the peer's window takes it; otherwise conventional recovery.
      rec.highSeq = snd.sndMax;
      const unsent = snd.sendBuf.length - seqDiff(snd.sndMax, snd.sndBufSeq);
      if (unsent > 0 && seqGt(seqAdd(snd.sndUna, snd.sndWnd), snd.sndMax)) {
        rec.frtoNewData = true;
        rec.frtoJump = snd.sndMax;
        snd.sndNxt = snd.sndMax;
        return;
      }
      rec.frto = false;
    }
  }
  if (recovered) rec.endLoss(); // RFC 5682 §3.1 step 2a (and the end of conventional recovery)
}

/**
 * F-RTO found the loss real after sending new data (RFC 5682 §3.1 step 3a): go back to the first
 * segment not yet retransmitted; what the peer SACKed is skipped there (sendData).
 */
function frtoGiveUp(c: Connection): void {
  const rec = c.snd.rec;
  rec.frto = false;
  if (!rec.frtoNewData) return;
  rec.frtoNewData = false;
  c.snd.sndNxt = seqMax(c.snd.sndUna, rec.rxtEnd);
}

/**
 * Undo a timeout (LINUX tcp_try_undo_loss → tcp_undo_cwnd_reduction with unmark_loss): the
 * window and ssthresh as they were before it, nothing marked lost, every segment not
 * retransmitted in flight again (no go-back), the Open state.
 */
function undoLoss(c: Connection, frto: boolean): void {
  const rec = c.snd.rec;
  rec.undo();
  rec.endLoss();
  rec.rackIfAny?.unmarkLost();
  if (seqLt(c.snd.sndNxt, c.snd.sndMax)) c.snd.sndNxt = c.snd.sndMax;
  c.snd.retransmits = 0; // LINUX: icsk_retransmits = 0
  bump(c.mib, 'TCPLossUndo');
  if (frto) bump(c.mib, 'TCPSpuriousRTOs');
}

/**
 * What is in flight in the Loss state, for the congestion window: after a timeout everything not
 * SACKed counts as lost, so only what has been sent again since going back (LINUX tcp_enter_loss
 * marks it all lost) — and the new data F-RTO sent (RFC 5682 §3.1 step 2b), less what the peer
 * SACKed of it (LINUX tcp_packets_in_flight: not marked lost, so in flight).
 */
export function flightInLoss(c: Connection): number {
  const snd = c.snd;
  const rec = snd.rec;
  const jump = rec.frtoJump;
  if (jump === null) return snd.inFlight;
  const resent = rec.frtoNewData ? Math.max(0, seqDiff(rec.rxtEnd, snd.sndUna)) : snd.inFlight;
  const fresh = Math.max(0, seqDiff(snd.sndMax, rec.frtoNewData ? jump : seqMax(jump, snd.sndNxt)));
  // Without SACK each duplicate ACK since stands for a new segment delivered (LINUX
  // tcp_process_loss → tcp_add_reno_sacks).
  const delivered = c.sackEnabled ? rec.sb.sackedBytes : rec.dupAcks * c.effMss;
  return resent + Math.max(0, fresh - delivered);
}

/**
 * Loss detection after an ACK. With SACK: RACK (RFC 8985 §6.2 step 5, §6.3), which with no
 * reordering seen and DupThresh segments SACKed marks at once what RFC 6675 IsLost would (LINUX:
 * RACK replaces the DupThresh heuristics when SACK is on). Without SACK: DupThresh duplicate
 * ACKs (RFC 5681 §3.2, RFC 6582) with early retransmit (RFC 5827).
 */
export function detectLoss(c: Connection, now: Instant): void {
  const rec = c.snd.rec;
  if (c.sackEnabled) rackDetectAndRecover(c, now);
  else {
    rec.sb.flightSegs = Math.ceil(c.snd.inFlight / c.effMss);
    rec.sb.noNewData = c.snd.sendBuf.length - seqDiff(c.snd.sndMax, c.snd.sndBufSeq) <= 0;
    if (!rec.recovering && c.snd.inFlight > 0 && rec.dupAcks >= rec.sb.threshold) enterFastRecovery(c);
  }
  rec.tryToOpen();
}

/**
 * RFC 8985 §6.3 RACK_detect_loss_and_arm_timer, then the start of fast recovery when something
 * was marked lost (RFC 8985 §6.2: "the sender ... enters fast recovery"; LINUX tcp_time_to_recover
 * checks lost_out alone when RACK is on).
 */
export function rackDetectAndRecover(c: Connection, now: Instant, fromTimer = false): void {
  const rec = c.snd.rec;
  const rack = rec.rackIfAny; // none before the first data segment: nothing can be lost
  const timeout = rack === null ? 0 : rack.detect(c, now);
  if (timeout > 0) {
    c.timers.set(Timer.REORDER, now + timeout);
    // LINUX tcp_rack_mark_lost: the reordering timeout takes the one timer slot (icsk_pending) a
    // pending loss probe held.
    c.timers.stop(Timer.LOSS_PROBE);
  } else c.timers.stop(Timer.REORDER);
  if (rack !== null && !rec.recovering && c.snd.inFlight > 0 && rack.lostBytes > 0) {
    enterFastRecovery(c);
    // LINUX tcp_rack_reo_timeout: a recovery the timer starts reduces as if one segment was
    // delivered (tcp_cwnd_reduction(sk, 1, 0, 0)); on an ACK, processAck does it with the ACK's.
    if (fromTimer) prrReduce(c, c.snd.cc.mss, false, false);
  }
}

/**
 * The pipe (RFC 6675 §4 SetPipe) with RACK's loss marks: bytes outstanding, less those SACKed,
 * less those marked lost and not retransmitted since (LINUX tcp_packets_in_flight).
 */
export function pipe(c: Connection): number {
  const rack = c.snd.rec.rackIfAny; // no Rack before the first data segment (a handshake makes none)
  return Math.max(0, seqDiff(c.snd.sndMax, c.snd.sndUna) - c.snd.rec.sb.sackedBytes - (rack === null ? 0 : rack.lostBytes));
}
