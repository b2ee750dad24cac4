/**
 * epoll for packetdrill scripts (epoll_create, epoll_create1, epoll_ctl, epoll_wait), emulated
 * over the socket layer the way Linux's fs/eventpoll.c behaves for TCP sockets:
 * - ADD/MOD poll the socket once; if it is ready the item goes on the ready list (ep_insert/ep_modify).
 * - A socket wakeup (new data, write space after the writer ran out, a state change, an error)
 *   puts the item on the ready list when the wakeup's key matches its events (ep_poll_callback).
 * - epoll_wait polls each item on the ready list again (ep_send_events): it is reported if any of
 *   its events are ready now. Level-triggered items stay on the list; EPOLLET items leave it until
 *   the next wakeup; EPOLLONESHOT items are disarmed until the next MOD.
 */
import type { PdSocket } from './sockets.js';

/** Linux <sys/epoll.h> values. */
export const EPOLL = {
  EPOLLIN: 0x1, EPOLLPRI: 0x2, EPOLLOUT: 0x4, EPOLLERR: 0x8, EPOLLHUP: 0x10, EPOLLNVAL: 0x20,
  EPOLLRDNORM: 0x40, EPOLLRDBAND: 0x80, EPOLLWRNORM: 0x100, EPOLLWRBAND: 0x200, EPOLLMSG: 0x400,
  EPOLLRDHUP: 0x2000, EPOLLEXCLUSIVE: 0x10000000, EPOLLWAKEUP: 0x20000000, EPOLLONESHOT: 0x40000000,
  EPOLLET: 0x80000000,
  EPOLL_CTL_ADD: 1, EPOLL_CTL_DEL: 2, EPOLL_CTL_MOD: 3, EPOLL_CLOEXEC: 0x80000,
} as const;

/** The flags that change how an item is reported, not what is reported. */
const BEHAVIOUR = EPOLL.EPOLLET | EPOLL.EPOLLONESHOT | EPOLL.EPOLLEXCLUSIVE | EPOLL.EPOLLWAKEUP;
/** LINUX ep_insert: EPOLLERR and EPOLLHUP are always reported. */
const ALWAYS = EPOLL.EPOLLERR | EPOLL.EPOLLHUP;

/** One registered fd (struct epitem). */
export interface EpollItem {
  /** The epoll fd this item belongs to. */
  epfd: number;
  fd: number;
  sock: PdSocket;
  /** Requested events with the behaviour flags. */
  events: number;
  /** The user data handed back (epoll_data: fd, ptr, u32 or u64). */
  data: number;
  ready: boolean;
  /** EPOLLONESHOT item already reported (until the next MOD). */
  disarmed: boolean;
}

/** One epoll instance (struct eventpoll), at most `MAX_ITEMS` registered fds. */
export class Epoll {
  static readonly MAX_ITEMS = 1024;
  readonly items = new Map<number, EpollItem>();

  constructor(
    readonly fd: number,
    private readonly revents: (s: PdSocket, events: number) => number,
  ) {}

  /** epoll_ctl: 0 or an errno name. */
  ctl(op: number, fd: number, sock: PdSocket, events: number, data: number): string | null {
    const have = this.items.get(fd);
    switch (op) {
      case EPOLL.EPOLL_CTL_ADD: {
        if (have !== undefined) return 'EEXIST';
        if (this.items.size >= Epoll.MAX_ITEMS) return 'ENOSPC';
        const item: EpollItem = { epfd: this.fd, fd, sock, events, data, ready: false, disarmed: false };
        this.items.set(fd, item);
        sock.watchers.add(item);
        item.ready = this.pollItem(item) !== 0;
        return null;
      }
      case EPOLL.EPOLL_CTL_MOD: {
        if (have === undefined) return 'ENOENT';
        // LINUX ep_modify: EPOLLEXCLUSIVE cannot be changed by MOD.
        if ((events & EPOLL.EPOLLEXCLUSIVE) !== 0 || (have.events & EPOLL.EPOLLEXCLUSIVE) !== 0) return 'EINVAL';
        have.events = events;
        have.data = data;
        have.disarmed = false;
        have.ready = this.pollItem(have) !== 0;
        return null;
      }
      case EPOLL.EPOLL_CTL_DEL:
        if (have === undefined) return 'ENOENT';
        this.remove(have);
        return null;
      default:
        return 'EINVAL';
    }
  }

  remove(item: EpollItem): void {
    this.items.delete(item.fd);
    item.sock.watchers.delete(item);
  }

  /** The socket's readiness for this item's events. */
  private pollItem(item: EpollItem): number {
    if (item.disarmed) return 0;
    return this.revents(item.sock, (item.events & ~BEHAVIOUR) | ALWAYS) & ((item.events & ~BEHAVIOUR) | ALWAYS);
  }

  /** epoll_wait's harvest: up to `max` (events, data) pairs; updates the ready list. */
  harvest(max: number): { events: number; data: number }[] {
    const out: { events: number; data: number }[] = [];
    for (const item of this.items.values()) {
      if (out.length >= max) break;
      if (!item.ready) continue;
      const ev = this.pollItem(item);
      if (ev === 0) {
        item.ready = false;
        continue;
      }
      out.push({ events: ev, data: item.data });
      if ((item.events & EPOLL.EPOLLONESHOT) !== 0) item.disarmed = true;
      // LINUX ep_send_events: level-triggered items go back on the ready list; EPOLLET ones wait for a wakeup.
      if ((item.events & (EPOLL.EPOLLET | EPOLL.EPOLLONESHOT)) !== 0) item.ready = false;
    }
    return out;
  }
}

/**
 * A socket wakeup with its poll key (LINUX ep_poll_callback): 0 wakes every item (a state change,
 * sock_def_wakeup), otherwise only items waiting for one of the key's events.
 */
export function wake(watchers: Set<EpollItem>, key: number): void {
  for (const item of watchers) {
    if (key !== 0 && (key & ((item.events & ~BEHAVIOUR) | ALWAYS)) === 0) continue;
    if (!item.disarmed) item.ready = true;
  }
}
