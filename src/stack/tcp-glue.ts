/**
 * TCP behind the protocol-handler table (smoltcp iface/interface/tcp.rs): input demultiplexes a
 * segment to its connection or listener (DESIGN.md principle 11) and answers the rest with a
 * RST; output writes a connection's segments through the IP layer's one output function.
 */
import type { Interface } from '../ip/iface.js';
import type { IcmpErrorInfo, IpHandler, OutputOptions, PayloadWriter } from '../ip/layer.js';
import { seqAdd, seqGt } from '../seq.js';
import { bump } from '../tcp/connection.js';
import { IPPROTO_TCP, type IpRepr } from '../wire/ip.js';
import { emitTcp, parseTcp, tcpHeaderLength } from '../wire/tcp.js';
import { ACK, FIN, RST, SYN, clearTcpRepr, newTcpRepr, segLen, type TcpRepr } from '../wire/tcp-repr.js';
import { beginLend, endLend } from '../tcp/ring.js';
import { Listener } from './listener.js';
import { listenInput } from './passive-open.js';
import type { Stack } from './stack.js';
import { tcpIcmpError } from './tcp-icmp.js';

/** Output options of a segment that carries a neighbour confirmation (one shared object). */
const CONFIRM: OutputOptions = Object.freeze({ confirmNeighbor: true });

export class TcpGlue implements IpHandler {
  private readonly rx = newTcpRepr();
  /** The segment being written by `transmit` (read by `writer`). */
  private txSeg: TcpRepr = newTcpRepr();
  private readonly writer: PayloadWriter = (buf, off, s, d, checksum) => {
    emitTcp(buf, off, this.txSeg, s, d, checksum);
  };

  /** IP output options for a segment with an ECN codepoint (RFC 3168 §5), without and with neighbour confirmation. */
  private readonly ecnOpts: OutputOptions = { tos: 0, df: true };
  private readonly ecnConfirmOpts: OutputOptions = { tos: 0, confirmNeighbor: true, df: true };

  constructor(private readonly st: Stack) {}

  /** A datagram for TCP (RFC 9293 §3.10.7). Malformed segments are counted and dropped. */
  input(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const st = this.st;
    const seg = this.rx;
    // No view of the payload (an allocation per segment): the receive path copies from the frame.
    const reason = parseTcp(frame, ip, seg, iface.link?.checksumOffload !== true, false, false);
    if (reason !== null) {
      bump(st.counters, 'InErrs');
      if (reason === 'bad-tcp-checksum') bump(st.counters, 'InCsumErrors');
      st.publishDrop(reason);
      return;
    }
    st.counters.InSegs!++; // a named access (monomorphic), not bump's keyed one: once per segment
    seg.ipEcn = ip.tos & 3; // RFC 3168 §5: the ECN field, for the connection's ECN (tcp/ecn.ts)
    const now = st.now();
    const c = st.conns.get(ip.dst, ip.dstKey, seg.dstPort, ip.src, ip.srcKey, seg.srcPort);
    if (c !== undefined) {
      if (c.state === 'TIME_WAIT' && (seg.flags & (SYN | ACK | RST | FIN)) === SYN) {
        const l = st.findListener(ip.dst, seg.dstPort);
        // RFC 9293 §3.10.7.4 note / RFC 6191 / LINUX tcp_timewait_state_process: a new SYN above
        // the old RCV.NXT (or with a newer timestamp) may reopen the 4-tuple in TIME_WAIT.
        const newer = seqGt(seg.seq, c.rcvNxt) || (c.tsEnabled && seg.hasTimestamp && ((seg.tsVal - c.tsRecent) | 0) > 0);
        if (l !== undefined && newer) {
          const issHint = seqAdd(c.sndMax, 65535 + 2); // LINUX: tw_snd_nxt + 65535 + 2
          bump(st.counters, 'TWRecycled');
          c.setState('CLOSED', 'new SYN in TIME_WAIT reuses the 4-tuple');
          st.service(c);
          listenInput(st, l, ip.src, ip.dst, seg, now, issHint);
          return;
        }
      }
      if (c.state === 'SYN_RECEIVED' && c.owner instanceof Listener && seg.flags & ACK && !(seg.flags & (RST | SYN)) && c.owner.acceptQueueFull) {
        // LINUX tcp_check_req → listen overflow: the final ACK is dropped (tcp_abort_on_overflow
        // = 0); the SYN-ACK timer will try again.
        bump(st.counters, 'ListenOverflows');
        bump(st.counters, 'ListenDrops');
        return;
      }
      const una = c.snd.sndUna;
      // In-order data may be queued by reference to `frame` (ByteRing.pushRef), read by the
      // application from there, and is copied in when the scope ends: before the link reuses it.
      beginLend();
      try {
        c.onSegment(now, seg);
        // LINUX tcp_ack: forward progress (new data ACKed) or a pure duplicate ACK shows the peer
        // is there; sk_dst_confirm marks the next segment out to confirm its neighbour entry.
        if (seqGt(c.snd.sndUna, una) || (seg.ack === una && seg.payload.length === 0 && (seg.flags & (SYN | FIN | RST)) === 0 && (seg.flags & ACK) !== 0)) {
          c.dstPendingConfirm = true;
        }
        st.service(c);
      } finally {
        endLend();
      }
      return;
    }
    const l = st.findListener(ip.dst, seg.dstPort);
    if (l !== undefined) {
      listenInput(st, l, ip.src, ip.dst, seg, now);
      return;
    }
    // A SYN nobody listens for goes to the forwarder when there is one (gVisor tcp.NewForwarder:
    // the transport's default handler); it answers later, or refuses with this same RST.
    if (st.forwarder !== null && (seg.flags & (SYN | ACK | RST | FIN)) === SYN) {
      st.forwarder.onSyn(ip, frame, seg);
      return;
    }
    bump(st.counters, 'TCPNoSocket');
    this.resetFor(ip.dst, ip.src, seg);
  }

  /** An ICMP error quoting one of our segments (RFC 5927; LINUX tcp_v4_err / tcp_v6_err). */
  error(err: IcmpErrorInfo): void {
    tcpIcmpError(this.st, err);
  }

  /** RFC 9293 §3.10.7.1: the answer to a segment for no connection. Never answers a RST. */
  resetFor(localAddr: string, remoteAddr: string, seg: TcpRepr): void {
    if (seg.flags & RST) return;
    const len = segLen(seg);
    const hadAck = (seg.flags & ACK) !== 0;
    const ackIn = seg.ack;
    const seqIn = seg.seq;
    const tx = clearTcpRepr(this.st.tx); // no options, no payload, window 0
    tx.srcPort = seg.dstPort;
    tx.dstPort = seg.srcPort;
    if (hadAck) {
      tx.seq = ackIn; // <SEQ=SEG.ACK><CTL=RST>
      tx.ack = 0;
      tx.flags = RST;
    } else {
      tx.seq = 0; // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
      tx.ack = seqAdd(seqIn, len);
      tx.flags = RST | ACK;
    }
    bump(this.st.counters, 'OutRsts');
    this.transmit(localAddr, remoteAddr, tx);
  }

  /**
   * Send `seg` from src to dst through the IP layer (DF set: RFC 1191 PMTUD, as Linux does for
   * TCP, unless the socket chose IP_PMTUDISC_DONT). The IP layer writes the header into a frame from the link (DESIGN.md principle 5).
   */
  transmit(src: string, dst: string, seg: TcpRepr, confirmNeighbor = false): void {
    this.st.counters.OutSegs!++;
    this.txSeg = seg;
    let opts: OutputOptions | undefined = confirmNeighbor ? CONFIRM : undefined;
    const tos = seg.ipDscp | seg.ipEcn;
    if (tos !== 0 || !seg.ipDf) {
      // Reused objects: ECT(0) goes on every data segment of an ECN connection.
      opts = confirmNeighbor ? this.ecnConfirmOpts : this.ecnOpts;
      opts.tos = tos;
      opts.df = seg.ipDf;
    }
    this.st.ip.output(src, dst, IPPROTO_TCP, tcpHeaderLength(seg) + seg.payload.length, this.writer, opts);
  }
}
