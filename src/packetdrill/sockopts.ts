/**
 * getsockopt and setsockopt of the packetdrill socket layer (sockets.ts), with Linux's levels,
 * names, value conventions and errnos (LINUX sock_setsockopt, do_ip_setsockopt, do_tcp_setsockopt
 * and their getsockopt twins): each option maps onto a TcpConfig field of the socket.
 */
import type { TcpConfig } from '../tcp/config.js';
import { congestionControlName } from '../tcp/congestion/registry.js';
import { TFO } from '../tcp/fastopen.js';
import { sipKeyFromBytes } from '../tcp/siphash.js';
import { errnoNumber, SYMBOLS as S } from './errno.js';
import { fail, ok, type PdSocket, type SysResult } from './pd-socket.js';
import type { SocketLayer } from './sockets.js';

/** A setsockopt value as the script writes it: an int, a name, a struct linger, or raw bytes. */
export type SockoptValue = number | string | { onoff: number; linger: number } | { bytes: Uint8Array; optlen: number };

/** getsockopt: the value, or an errno name. */
export function getSockopt(layer: SocketLayer, s: PdSocket, level: number, name: number): SysResult {
  const cfg = layer.effectiveConfig(s);
  if (level === S.SOL_SOCKET) {
    switch (name) {
      case S.SO_ERROR: {
        const e = s.takeError();
        return ok(0, e === null ? 0 : Math.max(0, errnoNumber(e))); // SO_ERROR: the errno's number (every code, not a few)
      }
      case S.SO_REUSEADDR: return ok(0, s.reuseAddr ? 1 : 0);
      case S.SO_ZEROCOPY: return ok(0, s.zeroCopy ? 1 : 0);
      case S.SO_KEEPALIVE: return ok(0, cfg.keepAlive ? 1 : 0);
      case S.SO_TYPE: return ok(0, S.SOCK_STREAM);
      case S.SO_ACCEPTCONN: return ok(0, s.listener !== null ? 1 : 0);
      // LINUX: SO_SNDBUF/SO_RCVBUF report double the value set (sock_setsockopt doubles it).
      case S.SO_SNDBUF: return ok(0, s.sndBufSet > 0 ? s.sndBufSet * 2 : cfg.sendBuffer);
      case S.SO_RCVBUF: return ok(0, s.rcvBufSet > 0 ? s.rcvBufSet * 2 : cfg.recvBuffer);
      case S.SO_LINGER: return ok(0, { onoff: cfg.linger === null ? 0 : 1, linger: cfg.linger === null ? 0 : Math.round(cfg.linger / 1e6) });
      default: return fail('ENOPROTOOPT');
    }
  }
  if (level === S.SOL_IP) {
    switch (name) {
      case S.IP_TOS: return ok(0, cfg.tos);
      case S.IP_MTU_DISCOVER: return ok(0, cfg.pmtuDisc);
      default: return fail('ENOPROTOOPT');
    }
  }
  if (level === S.SOL_TCP || level === S.IPPROTO_TCP) {
    switch (name) {
      case S.TCP_NODELAY: return ok(0, cfg.noDelay ? 1 : 0);
      case S.TCP_CORK: return ok(0, cfg.cork ? 1 : 0);
      case S.TCP_MAXSEG: {
        // LINUX do_tcp_getsockopt: mss_cache once connected, else user_mss or TCP_MSS_DEFAULT 536.
        const c = s.sock?.conn;
        if (c !== undefined && c.state !== 'SYN_SENT' && c.state !== 'CLOSED') return ok(0, c.snapshot(layer.opts.stack.now()).mss);
        return ok(0, cfg.maxSeg > 0 ? cfg.maxSeg : 536);
      }
      case S.TCP_KEEPIDLE: return ok(0, Math.round(cfg.keepIdle / 1e6));
      case S.TCP_KEEPINTVL: return ok(0, Math.round(cfg.keepInterval / 1e6));
      case S.TCP_KEEPCNT: return ok(0, cfg.keepCount);
      case S.TCP_USER_TIMEOUT: return ok(0, Math.round(cfg.userTimeout / 1000));
      case S.TCP_RTO_MAX_MS: return ok(0, Math.round(cfg.maxRto / 1000));
      case S.TCP_CONGESTION: return ok(0, s.congestion);
      case S.TCP_SYNCNT: return ok(0, cfg.synRetries);
      case S.TCP_FASTOPEN: return ok(0, s.listener?.fastOpen.maxQlen ?? Math.max(0, s.fastOpenQlen));
      case S.TCP_FASTOPEN_CONNECT: return ok(0, s.fastOpenConnect ? 1 : 0);
      case S.TCP_FASTOPEN_NO_COOKIE: return ok(0, s.fastOpenNoCookie ? 1 : 0);
      case S.TCP_INQ: return ok(0, s.inq ? 1 : 0);
      case S.TCP_NOTSENT_LOWAT: return ok(0, s.notsentLowatSet);
      default: return fail('ENOPROTOOPT');
    }
  }
  return fail('ENOPROTOOPT');
}

export function setSockopt(layer: SocketLayer, s: PdSocket, level: number, name: number, value: SockoptValue): SysResult {
  const num = typeof value === 'number' ? value : 0;
  const set = <K extends keyof TcpConfig>(k: K, v: TcpConfig[K]): SysResult => {
    s.config[k] = v;
    if (s.sock !== null) s.sock.setOption(k, v);
    return ok();
  };
  if (level === S.SOL_SOCKET) {
    switch (name) {
      case S.SO_REUSEADDR: s.reuseAddr = num !== 0; return ok();
      // LINUX sock_setsockopt SO_ZEROCOPY: TCP takes 0 or 1, anything else is EINVAL.
      case S.SO_ZEROCOPY:
        if (num < 0 || num > 1) return fail('EINVAL');
        s.zeroCopy = num === 1;
        return ok();
      case S.SO_REUSEPORT: return ok();
      case S.SO_KEEPALIVE: return set('keepAlive', num !== 0);
      case S.SO_LINGER: {
        if (typeof value !== 'object' || !('onoff' in value)) return fail('EINVAL');
        return set('linger', value.onoff === 0 ? null : value.linger * 1e6);
      }
      case S.SO_SNDBUF: s.sndBufSet = num; return set('sendBuffer', Math.max(4608, num * 2));
      case S.SO_RCVBUF: {
        s.rcvBufSet = num;
        const space = Math.max(2304, num * 2);
        // LINUX tcp_select_initial_window: with SO_RCVBUF locked, the window scale is the
        // smallest shift that can announce the whole buffer.
        if (s.sock === null) {
          let ws = 0;
          while (ws < 14 && 65535 * 2 ** ws < space) ws++;
          s.config.wscale = ws;
        }
        return set('recvBuffer', space);
      }
      case S.SO_DEBUG: case S.SO_PRIORITY: case S.SO_MARK: case S.SO_OOBINLINE: case S.SO_RCVLOWAT: return ok();
      default: return fail('ENOPROTOOPT');
    }
  }
  if (level === S.SOL_IP) {
    switch (name) {
      // LINUX __ip_sock_set_tos: a stream socket keeps TCP's ECN bits.
      case S.IP_TOS: return set('tos', num & 0xff & ~3);
      case S.IP_MTU_DISCOVER:
        if (num < S.IP_PMTUDISC_DONT! || num > S.IP_PMTUDISC_OMIT!) return fail('EINVAL');
        return set('pmtuDisc', num);
      default: return fail('ENOPROTOOPT');
    }
  }
  if (level === S.SOL_TCP || level === S.IPPROTO_TCP) {
    switch (name) {
      case S.TCP_NODELAY: return set('noDelay', num !== 0);
      case S.TCP_MAXSEG:
        // LINUX: TCP_MIN_MSS 88 .. MAX_TCP_WINDOW
        if (num !== 0 && (num < 88 || num > 32767)) return fail('EINVAL');
        return set('maxSeg', num);
      case S.TCP_KEEPIDLE: if (num < 1 || num > 32767) return fail('EINVAL'); return set('keepIdle', num * 1e6);
      case S.TCP_KEEPINTVL: if (num < 1 || num > 32767) return fail('EINVAL'); return set('keepInterval', num * 1e6);
      case S.TCP_KEEPCNT: if (num < 1 || num > 127) return fail('EINVAL'); return set('keepCount', num);
      case S.TCP_USER_TIMEOUT: if (num < 0) return fail('EINVAL'); return set('userTimeout', num * 1000);
      // LINUX do_tcp_setsockopt TCP_RTO_MAX_MS (6.15): the socket's RTO ceiling, 1 s to TCP_RTO_MAX.
      case S.TCP_RTO_MAX_MS: if (num < 1000 || num > 120_000) return fail('EINVAL'); return set('maxRto', num * 1000);
      case S.TCP_SYNCNT: if (num < 1 || num > 127) return fail('EINVAL'); return set('synRetries', num);
      case S.TCP_CONGESTION: {
        const v = String(value);
        // LINUX tcp_set_congestion_control: an unknown name is ENOENT.
        if (congestionControlName(v) === null) return fail('ENOENT');
        s.congestion = v;
        return set('congestionControl', v);
      }
      case S.TCP_NOTSENT_LOWAT:
        // LINUX do_tcp_setsockopt: any value; 0 falls back to the sysctl (tcp_notsent_lowat()).
        s.notsentLowatSet = num >>> 0;
        return set('notsentLowat', num === 0 ? layer.opts.stack.config.notsentLowat : num >>> 0);
      case S.TCP_INQ:
        // LINUX do_tcp_setsockopt: TCP_INQ takes 0 or 1.
        if (num < 0 || num > 1) return fail('EINVAL');
        s.inq = num === 1;
        return ok();
      case S.TCP_CORK: return set('cork', num !== 0);
      case S.TCP_QUICKACK: case S.TCP_LINGER2: case S.TCP_WINDOW_CLAMP: return ok();
      case S.TCP_FASTOPEN:
      case S.TCP_FASTOPEN_CONNECT:
      case S.TCP_FASTOPEN_NO_COOKIE:
      case S.TCP_FASTOPEN_KEY:
        return setFastOpen(layer, s, name, value);
      default: return fail('ENOPROTOOPT');
    }
  }
  return fail('ENOPROTOOPT');
}

/** LINUX do_tcp_setsockopt's Fast Open options, with its errnos. */
function setFastOpen(layer: SocketLayer, s: PdSocket, name: number, value: unknown): SysResult {
  const num = typeof value === 'number' ? value : 0;
  const closedOrListen = s.sock === null || s.sock.state === 'CLOSED';
  if (name === S.TCP_FASTOPEN) {
    // LINUX: TCPF_CLOSE | TCPF_LISTEN only; the qlen is capped by somaxconn.
    if (num < 0 || !closedOrListen) return fail('EINVAL');
    s.fastOpenQlen = num;
  } else if (name === S.TCP_FASTOPEN_CONNECT) {
    if (num < 0 || num > 1) return fail('EINVAL');
    if (!layer.opts.stack.fastOpen.has(TFO.CLIENT_ENABLE)) return fail('EOPNOTSUPP');
    if (s.sock !== null || s.listener !== null) return fail('EINVAL');
    s.fastOpenConnect = num === 1;
  } else if (name === S.TCP_FASTOPEN_NO_COOKIE) {
    if (num < 0 || num > 1 || !closedOrListen) return fail('EINVAL');
    s.fastOpenNoCookie = num === 1;
  } else {
    // LINUX TCP_FASTOPEN_KEY: a 16-byte key, or 32 (primary and backup).
    const v = value as { bytes?: Uint8Array; optlen?: number };
    const len = v.optlen ?? 0;
    if (v.bytes === undefined || (len !== 16 && len !== 32) || v.bytes.length < len) return fail('EINVAL');
    s.fastOpenKeys = len === 16 ? [sipKeyFromBytes(v.bytes.subarray(0, 16))] : [sipKeyFromBytes(v.bytes.subarray(0, 16)), sipKeyFromBytes(v.bytes.subarray(16, 32))];
  }
  layer.applyFastOpen(s);
  return ok();
}
