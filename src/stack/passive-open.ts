import { seqAdd } from '../seq.js';
import { bump } from '../tcp/connection.js';
import { fastOpenChild, negotiate } from '../tcp/handshake.js';
import { ConnFastOpen, tryFastOpen } from '../tcp/fastopen.js';
import type { Connection } from '../tcp/connection.js';
import type { TcpConfig } from '../tcp/config.js';
import type { Instant } from '../time.js';
import { ACK, RST, SYN, clearTcpRepr, type TcpRepr } from '../wire/tcp-repr.js';
import type { Listener } from './listener.js';
import type { Stack } from './stack.js';
import { checkCookie, makeCookie } from './syncookies.js';

/**
 * RFC 9293 §3.10.7.2: a segment for a listener — where a passive open begins. A SYN creates a
 * child in SYN_RECEIVED (Linux's request socket) in the listener's SYN queue; a full SYN queue
 * answers with SYN cookies (RFC 4987 §3.6); a full accept queue drops the SYN (LINUX).
 */
export function listenInput(st: Stack, l: Listener, remoteAddr: string, localAddr: string, seg: TcpRepr, now: Instant, issHint?: number): void {
  if (seg.flags & RST) return; // first: an incoming RST is ignored
  if (seg.flags & ACK) {
    if (!(seg.flags & SYN) && st.syncookies > 0 && cookieAck(st, l, remoteAddr, localAddr, seg, now)) return;
    // second: any acknowledgment is bad: <SEQ=SEG.ACK><CTL=RST>
    st.resetFor(localAddr, remoteAddr, seg);
    return;
  }
  if (!(seg.flags & SYN)) return; // fourth: anything else is dropped
  // LINUX tcp_conn_request: a full accept queue drops the SYN.
  if (l.acceptQueueFull) {
    bump(st.counters, 'ListenOverflows');
    bump(st.counters, 'ListenDrops');
    return;
  }
  if (st.syncookies === 2 || l.synQueueFull) {
    if (st.syncookies === 0) {
      bump(st.counters, 'TCPReqQFullDrop');
      bump(st.counters, 'ListenDrops');
      return;
    }
    // RFC 4987 §3.6: answer statelessly with a SYN cookie.
    bump(st.counters, 'TCPReqQFullDoCookies');
    bump(st.counters, 'SyncookiesSent');
    sendCookieSynAck(st, localAddr, l.port, remoteAddr, seg, now);
    return;
  }
  const c = passiveChild(st, localAddr, l.port, remoteAddr, seg, now, l.config, issHint);
  c.owner = l;
  // RFC 7413 §4.2.2, LINUX tcp_conn_request → tcp_try_fastopen: a cookie asked for or presented.
  const fo = tryFastOpen(st.fastOpen, l.fastOpen, seg, remoteAddr, localAddr);
  for (const k of fo.counters) bump(st.counters, k as 'TCPFastOpenPassive');
  if (fo.child || fo.synAckCookie.len >= 0) {
    c.fastOpen = new ConnFastOpen();
    c.fastOpen.cookie = fo.synAckCookie;
  }
  c.setState('SYN_RECEIVED', fo.child ? 'rcv SYN with a valid Fast Open cookie: snd SYN,ACK' : 'rcv SYN: snd SYN,ACK');
  st.register(c);
  if (fo.child) {
    // LINUX tcp_fastopen_create_child: the child takes the SYN's data and goes straight to the
    // accept queue; the handshake completes later.
    fastOpenChild(c, now, seg);
    l.fastOpen.pending.add(c);
    st.queueAccept(l, c);
  } else l.synQueue.add(c);
  st.service(c);
}

/**
 * RFC 9293 §3.10.7.2 (LISTEN, third: SYN): the child connection a SYN creates, still in LISTEN
 * with the SYN's sequence numbers and options taken; the caller sets its owner (a listener, or
 * the forwarder's socket), moves it to SYN_RECEIVED (the SYN-ACK is then due) and registers it.
 * Shared by listeners and the forwarder (forwarder.ts).
 */
export function passiveChild(st: Stack, localAddr: string, localPort: number, remoteAddr: string, seg: TcpRepr, now: Instant, config: Partial<TcpConfig> | undefined, issHint?: number): Connection {
  const c = st.newConnection(localAddr, localPort, remoteAddr, seg.srcPort, config, issHint);
  c.passive = true;
  c.state = 'LISTEN';
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  c.lastAckSent = c.rcvNxt;
  negotiate(c, seg, now);
  c.sndWnd = seg.window; // a SYN's window is never scaled (RFC 7323 §2.2)
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = seg.seq;
  c.lastRecv = now;
  return c;
}

function sendCookieSynAck(st: Stack, localAddr: string, localPort: number, remoteAddr: string, seg: TcpRepr, now: Instant): void {
  const { iss, mss } = makeCookie(st.isnGen, now, localAddr, localPort, remoteAddr, seg.srcPort, seg.seq, seg.mss > 0 ? seg.mss : 536);
  const tx = clearTcpRepr(st.tx); // MSS is the only option a cookie SYN-ACK keeps
  tx.srcPort = localPort;
  tx.dstPort = seg.srcPort;
  tx.seq = iss;
  tx.ack = seqAdd(seg.seq, 1);
  tx.flags = SYN | ACK;
  tx.window = Math.min(65535, st.config.recvBuffer);
  tx.mss = Math.min(mss, st.mtu - 40);
  st.transmit(localAddr, remoteAddr, tx);
}

/** The ACK completing a cookie handshake: build the connection straight into ESTABLISHED. */
function cookieAck(st: Stack, l: Listener, remoteAddr: string, localAddr: string, seg: TcpRepr, now: Instant): boolean {
  const mss = checkCookie(st.isnGen, now, localAddr, l.port, remoteAddr, seg.srcPort, seqAdd(seg.seq, -1), seqAdd(seg.ack, -1));
  if (mss === null) {
    bump(st.counters, 'SyncookiesFailed');
    return false;
  }
  bump(st.counters, 'SyncookiesRecv');
  const c = st.newConnection(localAddr, l.port, remoteAddr, seg.srcPort, l.config, seqAdd(seg.ack, -1));
  c.passive = true;
  c.owner = l;
  c.state = 'LISTEN';
  c.irs = seqAdd(seg.seq, -1);
  c.rcvNxt = seg.seq;
  c.lastAckSent = c.rcvNxt;
  c.peerMss = mss;
  c.cc.init(c.effMss, c.config.initialCwnd);
  c.sndNxt = seqAdd(c.iss, 1);
  c.sndMax = c.sndNxt;
  c.rcvAdv = seqAdd(c.rcvNxt, Math.min(65535, c.config.recvBuffer));
  c.setState('SYN_RECEIVED', 'rcv ACK with a valid SYN cookie');
  st.register(c);
  c.onSegment(now, seg); // the ACK now completes the handshake like any other
  st.service(c);
  return true;
}
