/**
 * The symbolic constants packetdrill scripts use (x86-64 Linux values), and errno descriptions
 * from the one errno table (src/errors.ts), so failure messages read exactly like packetdrill's on Linux:
 * `Expected result -99 but got -1 with errno 93 (Protocol not supported)`.
 */

import { ERRNO, errnoOf, isErrnoCode } from '../errors.js';
import { EPOLL } from './epoll.js';

export { errnoName } from '../errors.js';

/** The errno number of `name` (the one errno table, src/errors.ts), -1 when unknown. */
export function errnoNumber(name: string): number {
  return errnoOf(name);
}

/** `93 (Protocol not supported)` */
export function describeErrno(name: string): string {
  if (!isErrnoCode(name)) return name;
  const e = ERRNO[name];
  return `${e.errno} (${e.message})`;
}

/** Symbolic constants (Linux x86-64 values) a script may use as integers. */
export const SYMBOLS: Readonly<Record<string, number>> = {
  AF_UNSPEC: 0, AF_INET: 2, AF_INET6: 10, PF_INET: 2, PF_INET6: 10,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_NONBLOCK: 0x800, SOCK_CLOEXEC: 0x80000,
  IPPROTO_IP: 0, IPPROTO_ICMP: 1, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPPROTO_ICMPV6: 58,
  SOL_SOCKET: 1, SOL_IP: 0, SOL_TCP: 6, SOL_IPV6: 41, SOL_UDP: 17,
  SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6,
  SO_SNDBUF: 7, SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10, SO_NO_CHECK: 11, SO_PRIORITY: 12,
  SO_LINGER: 13, SO_REUSEPORT: 15, SO_RCVLOWAT: 18, SO_SNDLOWAT: 19, SO_RCVTIMEO: 20, SO_SNDTIMEO: 21,
  SO_ACCEPTCONN: 30, SO_SNDBUFFORCE: 32, SO_RCVBUFFORCE: 33, SO_PROTOCOL: 38, SO_DOMAIN: 39, SO_MARK: 36,
  SO_MAX_PACING_RATE: 47, SO_ZEROCOPY: 60,
  TCP_NODELAY: 1, TCP_MAXSEG: 2, TCP_CORK: 3, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7, TCP_LINGER2: 8, TCP_DEFER_ACCEPT: 9, TCP_WINDOW_CLAMP: 10, TCP_INFO: 11,
  TCP_QUICKACK: 12, TCP_CONGESTION: 13, TCP_MD5SIG: 14, TCP_THIN_LINEAR_TIMEOUTS: 16,
  TCP_USER_TIMEOUT: 18, TCP_REPAIR: 19, TCP_FASTOPEN: 23, TCP_TIMESTAMP: 24, TCP_NOTSENT_LOWAT: 25,
  TCP_CC_INFO: 26, TCP_SAVE_SYN: 27, TCP_SAVED_SYN: 28, TCP_FASTOPEN_CONNECT: 30, TCP_ULP: 31,
  TCP_FASTOPEN_KEY: 33, TCP_FASTOPEN_NO_COOKIE: 34, TCP_ZEROCOPY_RECEIVE: 35, TCP_INQ: 36, TCP_CM_INQ: 36,
  F_DUPFD: 0, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_NONBLOCK: 0x800, O_NDELAY: 0x800,
  SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
  MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTROUTE: 4, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_EOR: 0x80,
  MSG_WAITALL: 0x100, MSG_ERRQUEUE: 0x2000, MSG_NOSIGNAL: 0x4000, MSG_MORE: 0x8000,
  MSG_FASTOPEN: 0x20000000, MSG_ZEROCOPY: 0x4000000,
  POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20,
  POLLRDNORM: 0x40, POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLMSG: 0x400,
  POLLRDHUP: 0x2000,
  SIOCINQ: 0x541b, FIONREAD: 0x541b, SIOCOUTQ: 0x5411, TIOCOUTQ: 0x5411, SIOCOUTQNSD: 0x894b,
  FIONBIO: 0x5421,
  TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT1: 4, TCP_FIN_WAIT2: 5,
  TCP_TIME_WAIT: 6, TCP_CLOSE: 7, TCP_CLOSE_WAIT: 8, TCP_LAST_ACK: 9, TCP_LISTEN: 10, TCP_CLOSING: 11,
  TCP_CA_Open: 0, TCP_CA_Disorder: 1, TCP_CA_CWR: 2, TCP_CA_Recovery: 3, TCP_CA_Loss: 4,
  TCPI_OPT_TIMESTAMPS: 1, TCPI_OPT_SACK: 2, TCPI_OPT_WSCALE: 4, TCPI_OPT_ECN: 8,
  TCPI_OPT_ECN_SEEN: 16, TCPI_OPT_SYN_DATA: 32,
  INADDR_ANY: 0,
  ...EPOLL,
};
