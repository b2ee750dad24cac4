/*
 * synack's only native code: a Linux TUN device for Node.js, through Node-API (C, ABI-stable).
 *
 *   open(name, netnsPath, onPackets, tap, vnet) -> handle   create/attach a TUN device (IFF_TUN |
 *                                    IFF_NO_PI: raw IP packets) or, with tap true, a TAP device
 *                                    (IFF_TAP | IFF_NO_PI: Ethernet frames without FCS); handle.kind
 *                                    says which. With vnet true: IFF_VNET_HDR and TUNSETOFFLOAD (below)
 *   write(handle, uint8array)        -> 1 | 0 | -errno   1 written, 0 queued (EAGAIN), <0 dropped
 *   close(handle)                    stop polling, close the fd (the device goes away with it)
 *   busyPoll(handle, us)             keep the event loop polling (never sleeping) for `us` µs after
 *                                    each packet read or written; 0 (the default) turns it off
 *   stats(handle) / ref / unref / name
 *
 * Receive path: the fd is non-blocking and registered with libuv's poll (epoll) for readability.
 * On readiness we read() until EAGAIN straight into one ArrayBuffer shared with JavaScript (the
 * "arena"), recording each packet's length in a second shared buffer, and hand a whole batch to
 * JS with one call: onPackets(count). JS walks the arena with subarray() views (no copy); the views
 * are valid only during the call (the Link contract). One JS crossing per batch, not per packet,
 * is what makes this fast: blocking reads through the libuv thread pool cost a thread hop per
 * packet.
 *
 * Transmit path: write() goes straight to the fd (a TUN write injects one packet into the
 * kernel's receive path and practically never blocks). If it does return EAGAIN, the packet is
 * copied to a FIFO and the poll also waits for writability; later packets queue behind it so
 * order is kept. The queue is bounded (a full queue drops, like a NIC's tx ring).
 *
 * Offloads (vnet true): every packet read or written is preceded by a 10-byte struct
 * virtio_net_hdr (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, little-endian:
 * TUNSETVNETLE), and TUNSETOFFLOAD tells the kernel what we accept: TUN_F_CSUM (packets with a
 * partial checksum, VIRTIO_NET_HDR_F_NEEDS_CSUM), TUN_F_TSO4/6 and TUN_F_TSO_ECN (TCP GSO packets
 * of up to 64 KiB), TUN_F_USO4/6 where the kernel has them (UDP GSO). The reads then return GSO
 * packets with their header in front; JS parses it (src/link/virtio-net.ts). A write takes the
 * header from handle.txHdr, a 10-byte buffer JS fills before each write (writev: no copy).
 * handle.offloads is the TUN_F_* mask the kernel took, handle.vnetHdrLen 10 (0 without vnet).
 * This is what gVisor's fdbased link and QEMU's tap backend negotiate.
 *
 * Busy polling (busyPoll > 0): a process asleep in epoll_wait pays a wake-up for every packet that
 * arrives while it is idle: on a VM whose idle vCPUs halt (guest_halt_poll_ns 0) that is 20-40 µs,
 * up to half of a kernel -> synack connect. For `us` µs after each packet read or written, an idle
 * handle (uv_idle_t) is active, so libuv polls with a zero timeout and the loop never blocks:
 * the next packet is found by the loop's own epoll_wait(0) instead of a wake-up. Every other
 * event source keeps being served (this is the whole event loop spinning, not a read loop in
 * here). The cost is CPU: while packets keep coming within the window the loop runs flat out.
 * LINUX: the same trade as net.core.busy_poll / SO_BUSY_POLL (sk_busy_loop), off by default
 * there too. The idle handle is unref'd: it never keeps the process alive.
 *
 * netnsPath: when given (e.g. /run/netns/NAME), the calling thread enters that network namespace
 * with setns() just long enough to open /dev/net/tun and TUNSETIFF (a TUN device is created in
 * the namespace of the thread that opens it), then returns to its own namespace. The fd keeps
 * working from any namespace. Needs CAP_SYS_ADMIN (root).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20             /* Linux 6.2: I can handle USO for IPv4 packets */
#define TUN_F_USO6 0x40
#endif
#define VNET_HDR_LEN 10             /* struct virtio_net_hdr (no num_buffers) */

/* largest packet one read() may return: a 64 KiB GSO packet, its Ethernet header (TAP) and the
   virtio_net_hdr in front, rounded up */
#define MAX_PKT (65536 + 128)
#define ARENA_SIZE (4 * 1024 * 1024) /* packets per batch live here */
#define MAX_BATCH 1024              /* packets per JS call */
#define MAX_BATCHES_PER_WAKEUP 16   /* then yield to the event loop (poll is level-triggered) */
#define WQ_MAX_BYTES (8 * 1024 * 1024)

typedef struct wq_item {
  struct wq_item *next;
  size_t len;
  uint8_t data[];
} wq_item;

typedef struct {
  int fd;
  uv_poll_t poll;
  uv_idle_t idle;  /* active while busy polling */
  int poll_events;
  int closing;     /* close() called */
  int uv_open;     /* uv handles not yet closed (poll, idle) */
  int js_dead;     /* the JS handle object was collected */
  napi_env env;
  napi_ref cb_ref;
  napi_ref arena_ref;
  napi_ref lens_ref;
  napi_async_context actx;
  uint8_t *arena;
  uint32_t *lens;
  wq_item *wq_head, *wq_tail;
  size_t wq_bytes;
  double rx_packets, rx_bytes, rx_batches, rx_wakeups, rx_errors;
  double tx_packets, tx_bytes, tx_queued, tx_dropped, tx_errors;
  double rx_busy_polled; /* wakeups that found packets while busy polling */
  uint64_t busy_poll_ns;  /* 0: off */
  uint64_t busy_until;    /* uv_hrtime() deadline of the busy-poll window (idle active: in it) */
  int vnet_len;    /* VNET_HDR_LEN with IFF_VNET_HDR, else 0 */
  uint8_t *tx_hdr; /* the virtio_net_hdr JS fills before each write (vnet only) */
  napi_ref tx_hdr_ref;
  char name[IFNAMSIZ];
} tun_t;

#define CHECK(env, call)                                                   \
  do {                                                                     \
    napi_status st_ = (call);                                              \
    if (st_ != napi_ok) {                                                  \
      const napi_extended_error_info *info_ = NULL;                        \
      napi_get_last_error_info((env), &info_);                             \
      bool pending_ = false;                                               \
      napi_is_exception_pending((env), &pending_);                         \
      if (!pending_)                                                       \
        napi_throw_error((env), NULL,                                      \
                         info_ && info_->error_message ? info_->error_message \
                                                       : "Node-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, e, code;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  const char *name = err == EPERM ? "EPERM" : err == EACCES ? "EACCES" : err == ENOENT ? "ENOENT"
                   : err == EBUSY ? "EBUSY" : err == EINVAL ? "EINVAL" : err == ENODEV ? "ENODEV" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, e, "code", code);
  napi_value errnoV;
  napi_create_int32(env, err, &errnoV);
  napi_set_named_property(env, e, "errno", errnoV);
  napi_throw(env, e);
  return NULL;
}

static void maybe_free(tun_t *t) {
  if (t->uv_open == 0 && t->js_dead) free(t);
}

static void on_uv_close(uv_handle_t *h) {
  tun_t *t = (tun_t *)h->data;
  t->uv_open--;
  maybe_free(t);
}

/* The busy-poll window ends when no packet has been read or written for busy_poll_ns. */
static void on_idle(uv_idle_t *h) {
  tun_t *t = (tun_t *)h->data;
  if (uv_hrtime() >= t->busy_until) uv_idle_stop(&t->idle);
}

/* A packet was read or written: (re)open the busy-poll window. */
static void busy_poll_touch(tun_t *t) {
  if (t->busy_poll_ns == 0 || t->closing) return;
  t->busy_until = uv_hrtime() + t->busy_poll_ns;
  uv_idle_start(&t->idle, on_idle); /* a no-op when already active */
}

static void wq_clear(tun_t *t) {
  wq_item *it = t->wq_head;
  while (it) {
    wq_item *n = it->next;
    free(it);
    it = n;
  }
  t->wq_head = t->wq_tail = NULL;
  t->wq_bytes = 0;
}

static void do_close(tun_t *t) {
  if (t->closing) return;
  t->closing = 1;
  uv_close((uv_handle_t *)&t->poll, on_uv_close); /* stops the poll first */
  uv_close((uv_handle_t *)&t->idle, on_uv_close);
  close(t->fd);
  t->fd = -1;
  wq_clear(t);
  napi_env env = t->env;
  if (t->cb_ref) napi_delete_reference(env, t->cb_ref);
  if (t->arena_ref) napi_delete_reference(env, t->arena_ref);
  if (t->lens_ref) napi_delete_reference(env, t->lens_ref);
  if (t->tx_hdr_ref) napi_delete_reference(env, t->tx_hdr_ref);
  t->cb_ref = t->arena_ref = t->lens_ref = t->tx_hdr_ref = NULL;
  t->tx_hdr = NULL;
  if (t->actx) napi_async_destroy(env, t->actx);
  t->actx = NULL;
  t->arena = NULL;
  t->lens = NULL;
}

static void update_poll(tun_t *t);

/* Write queued packets in order until the queue is empty or the fd would block. */
static void flush_queue(tun_t *t) {
  while (t->wq_head) {
    wq_item *it = t->wq_head;
    ssize_t n = write(t->fd, it->data, it->len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      t->tx_errors++;
    } else {
      t->tx_packets++;
      t->tx_bytes += (double)(it->len - (size_t)t->vnet_len); /* packet bytes, as the direct path counts */
    }
    t->wq_head = it->next;
    if (!t->wq_head) t->wq_tail = NULL;
    t->wq_bytes -= it->len;
    free(it);
  }
}

/* Hand `count` packets (already in the arena) to JS with one call. */
static void deliver(tun_t *t, uint32_t count) {
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[1], result;
  if (napi_get_reference_value(env, t->cb_ref, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
    napi_create_uint32(env, count, &argv[0]);
    t->rx_batches++;
    napi_status st = napi_make_callback(env, t->actx, recv, cb, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err); /* -> process 'uncaughtException' */
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  tun_t *t = (tun_t *)h->data;
  if (t->closing) return;
  if (status < 0) {
    t->rx_errors++;
    return;
  }
  if (events & UV_WRITABLE) {
    flush_queue(t);
    update_poll(t);
  }
  if (!(events & UV_READABLE)) return;
  t->rx_wakeups++;
  if (uv_is_active((uv_handle_t *)&t->idle)) t->rx_busy_polled++;
  for (int b = 0; b < MAX_BATCHES_PER_WAKEUP && !t->closing; b++) {
    uint32_t count = 0;
    size_t off = 0;
    int empty = 0;
    while (count < MAX_BATCH && off + MAX_PKT <= ARENA_SIZE) {
      ssize_t n = read(t->fd, t->arena + off, MAX_PKT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) t->rx_errors++;
        empty = 1;
        break;
      }
      if (n == 0) {
        empty = 1;
        break;
      }
      t->lens[count++] = (uint32_t)n;
      off += (size_t)n;
      t->rx_packets++;
      t->rx_bytes += (double)n;
    }
    if (count > 0) {
      busy_poll_touch(t);
      deliver(t, count);
    }
    if (empty) break;
  }
}

static void update_poll(tun_t *t) {
  if (t->closing) return;
  int want = UV_READABLE | (t->wq_head ? UV_WRITABLE : 0);
  if (want != t->poll_events) {
    t->poll_events = want;
    uv_poll_start(&t->poll, want, on_poll);
  }
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  tun_t *t = (tun_t *)data;
  t->js_dead = 1;
  if (!t->closing) do_close(t);
  else maybe_free(t);
}

static tun_t *get_tun(napi_env env, napi_value v);

/* The calls that take a handle first: read up to *argc arguments into argv, return the handle
   (NULL with a JS exception pending when the call or the handle is bad). */
static tun_t *handle_args(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "Node-API call failed: napi_get_cb_info");
    return NULL;
  }
  if (*argc < 1) {
    napi_throw_type_error(env, NULL, "not a TUN handle");
    return NULL;
  }
  return get_tun(env, argv[0]);
}

static tun_t *get_tun(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a TUN handle");
    return NULL;
  }
  return (tun_t *)p;
}

/* Ask for the offloads, the largest set first: TUNSETOFFLOAD refuses a flag the kernel does not
   know (TUN_F_USO4/6 before 6.2) with EINVAL. Returns the mask the kernel took (0: none). */
static unsigned negotiate_offloads(int fd) {
  static const unsigned tries[] = {
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6,
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
    TUN_F_CSUM,
  };
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0) return tries[i];
  return 0;
}

/* IFF_VNET_HDR is set: fix the header's size and byte order, then negotiate offloads. */
static int setup_vnet(int fd, unsigned *offloads, const char **failed) {
  int sz = VNET_HDR_LEN;
  if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
    *failed = "ioctl TUNSETVNETHDRSZ";
    return -1;
  }
  int le = 1;
  /* Little-endian is the legacy default on little-endian hosts; a kernel without
     TUNSETVNETLE (< 4.8) is only a problem on big-endian ones. */
  if (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL && errno != ENOTTY) {
    *failed = "ioctl TUNSETVNETLE";
    return -1;
  }
  *offloads = negotiate_offloads(fd);
  return 0;
}

/* open(name: string, netnsPath: string | null, onPackets: (count) => void, tap?: boolean, vnet?: boolean)
   -> { arena: ArrayBuffer, lens: ArrayBuffer, name: string, kind: 'tun' | 'tap', vnetHdrLen: number,
        offloads: number, txHdr?: ArrayBuffer } (the handle object) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "open(name, netnsPath, onPackets) needs three arguments");
    return NULL;
  }
  char name[IFNAMSIZ] = {0};
  napi_valuetype vt;
  CHECK(env, napi_typeof(env, argv[0], &vt));
  if (vt == napi_string) {
    size_t len = 0;
    CHECK(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &len));
    if (len >= IFNAMSIZ) {
      napi_throw_range_error(env, NULL, "TUN device name must be at most 15 bytes");
      return NULL;
    }
    CHECK(env, napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  }
  char nspath[4096] = {0};
  CHECK(env, napi_typeof(env, argv[1], &vt));
  int use_ns = 0;
  if (vt == napi_string) {
    size_t len = 0;
    CHECK(env, napi_get_value_string_utf8(env, argv[1], nspath, sizeof nspath, &len));
    use_ns = len > 0;
  }
  CHECK(env, napi_typeof(env, argv[2], &vt));
  if (vt != napi_function) {
    napi_throw_type_error(env, NULL, "onPackets must be a function");
    return NULL;
  }
  bool tap = false;
  if (argc > 3) {
    CHECK(env, napi_typeof(env, argv[3], &vt));
    if (vt == napi_boolean) CHECK(env, napi_get_value_bool(env, argv[3], &tap));
  }
  bool vnet = false;
  if (argc > 4) {
    CHECK(env, napi_typeof(env, argv[4], &vt));
    if (vt == napi_boolean) CHECK(env, napi_get_value_bool(env, argv[4], &vnet));
  }
  unsigned offloads = 0;

  int self_ns = -1, target_ns = -1;
  if (use_ns) {
    target_ns = open(nspath, O_RDONLY | O_CLOEXEC);
    if (target_ns < 0) return throw_errno(env, "open network namespace", errno);
    self_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ns < 0) {
      int e = errno;
      close(target_ns);
      return throw_errno(env, "open /proc/thread-self/ns/net", e);
    }
    if (setns(target_ns, CLONE_NEWNET) < 0) {
      int e = errno;
      close(target_ns);
      close(self_ns);
      return throw_errno(env, "setns into the network namespace", e);
    }
    close(target_ns);
  }
  int err = 0;
  const char *failed = NULL;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    failed = "open /dev/net/tun";
  } else {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    /* IFF_NO_PI: no 4-byte packet-information prefix; a TAP read/write is one Ethernet frame. */
    ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      err = errno;
      failed = "ioctl TUNSETIFF";
      close(fd);
      fd = -1;
    } else if (vnet && setup_vnet(fd, &offloads, &failed) < 0) {
      err = errno;
      close(fd);
      fd = -1;
    } else {
      memcpy(name, ifr.ifr_name, IFNAMSIZ);
      name[IFNAMSIZ - 1] = 0;
    }
  }
  if (use_ns) {
    if (setns(self_ns, CLONE_NEWNET) < 0) {
      /* The main thread would stay in the wrong namespace: nothing sane can continue. */
      napi_fatal_error("synack tun.c", NAPI_AUTO_LENGTH, "setns back to the original network namespace failed", NAPI_AUTO_LENGTH);
    }
    close(self_ns);
  }
  if (fd < 0) return throw_errno(env, failed, err);

  tun_t *t = (tun_t *)calloc(1, sizeof *t);
  if (!t) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  t->fd = fd;
  t->env = env;
  t->vnet_len = vnet ? VNET_HDR_LEN : 0;
  memcpy(t->name, name, IFNAMSIZ);

  napi_value handle, arena, lens, nameV, kindV, resname;
  void *arena_data = NULL, *lens_data = NULL;
  CHECK(env, napi_create_object(env, &handle));
  CHECK(env, napi_create_arraybuffer(env, ARENA_SIZE, &arena_data, &arena));
  CHECK(env, napi_create_arraybuffer(env, MAX_BATCH * sizeof(uint32_t), &lens_data, &lens));
  t->arena = (uint8_t *)arena_data;
  t->lens = (uint32_t *)lens_data;
  CHECK(env, napi_create_reference(env, arena, 1, &t->arena_ref));
  CHECK(env, napi_create_reference(env, lens, 1, &t->lens_ref));
  CHECK(env, napi_create_reference(env, argv[2], 1, &t->cb_ref));
  CHECK(env, napi_create_string_utf8(env, "synack:tun", NAPI_AUTO_LENGTH, &resname));
  CHECK(env, napi_async_init(env, handle, resname, &t->actx));
  CHECK(env, napi_create_string_utf8(env, t->name, NAPI_AUTO_LENGTH, &nameV));
  CHECK(env, napi_set_named_property(env, handle, "arena", arena));
  CHECK(env, napi_set_named_property(env, handle, "lens", lens));
  CHECK(env, napi_set_named_property(env, handle, "name", nameV));
  CHECK(env, napi_create_string_utf8(env, tap ? "tap" : "tun", NAPI_AUTO_LENGTH, &kindV));
  CHECK(env, napi_set_named_property(env, handle, "kind", kindV));
  napi_value num;
  CHECK(env, napi_create_uint32(env, (uint32_t)t->vnet_len, &num));
  CHECK(env, napi_set_named_property(env, handle, "vnetHdrLen", num));
  CHECK(env, napi_create_uint32(env, offloads, &num));
  CHECK(env, napi_set_named_property(env, handle, "offloads", num));
  if (vnet) {
    napi_value txh;
    void *txh_data = NULL;
    CHECK(env, napi_create_arraybuffer(env, VNET_HDR_LEN, &txh_data, &txh));
    t->tx_hdr = (uint8_t *)txh_data;
    CHECK(env, napi_create_reference(env, txh, 1, &t->tx_hdr_ref));
    CHECK(env, napi_set_named_property(env, handle, "txHdr", txh));
  }

  uv_loop_t *loop = NULL;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  int r = uv_poll_init(loop, &t->poll, fd);
  if (r < 0) {
    close(fd);
    free(t);
    return throw_errno(env, "uv_poll_init", -r);
  }
  t->poll.data = t;
  t->uv_open = 1;
  uv_idle_init(loop, &t->idle); /* cannot fail */
  t->idle.data = t;
  t->uv_open = 2;
  uv_unref((uv_handle_t *)&t->idle);
  t->poll_events = UV_READABLE;
  uv_poll_start(&t->poll, UV_READABLE, on_poll);
  CHECK(env, napi_wrap(env, handle, t, finalize_handle, NULL, NULL));
  return handle;
}

/* write(handle, data: Uint8Array) -> 1 written, 0 queued, -errno dropped */
static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  tun_t *t = handle_args(env, info, &argc, argv);
  if (!t) return NULL;
  napi_typedarray_type tt;
  size_t len = 0, boff = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[1], &tt, &len, &data, &ab, &boff) != napi_ok || tt != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "data must be a Uint8Array");
    return NULL;
  }
  int res;
  if (t->closing) {
    res = -EBADF;
  } else if (t->wq_head == NULL) {
    /* With vnet the header goes first from its own buffer: one writev, no copy. */
    struct iovec iov[2] = {{t->tx_hdr, (size_t)t->vnet_len}, {data, len}};
    int first = t->vnet_len > 0 ? 0 : 1;
    for (;;) {
      ssize_t n = writev(t->fd, iov + first, 2 - first);
      if (n >= 0) {
        t->tx_packets++;
        t->tx_bytes += (double)len;
        busy_poll_touch(t);
        res = 1;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        res = 0;
        break;
      }
      t->tx_errors++;
      res = -errno;
      break;
    }
  } else {
    res = 0;
  }
  if (res == 0) {
    size_t hl = (size_t)t->vnet_len;
    if (t->wq_bytes + hl + len > WQ_MAX_BYTES) {
      t->tx_dropped++;
      res = -ENOBUFS;
    } else {
      wq_item *it = (wq_item *)malloc(sizeof(wq_item) + hl + len);
      if (!it) {
        t->tx_dropped++;
        res = -ENOMEM;
      } else {
        it->next = NULL;
        it->len = hl + len;
        if (hl > 0) memcpy(it->data, t->tx_hdr, hl);
        memcpy(it->data + hl, data, len);
        if (t->wq_tail) t->wq_tail->next = it;
        else t->wq_head = it;
        t->wq_tail = it;
        t->wq_bytes += hl + len;
        t->tx_queued++;
        update_poll(t);
      }
    }
  }
  CHECK(env, napi_create_int32(env, res, &out));
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tun_t *t = handle_args(env, info, &argc, argv);
  if (!t) return NULL;
  do_close(t);
  return NULL;
}

static napi_value js_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  tun_t *t = handle_args(env, info, &argc, argv);
  if (!t) return NULL;
  bool on = true;
  if (argc > 1) napi_get_value_bool(env, argv[1], &on);
  if (!t->closing) {
    if (on) uv_ref((uv_handle_t *)&t->poll);
    else uv_unref((uv_handle_t *)&t->poll);
  }
  return NULL;
}

/* busyPoll(handle, us): the busy-poll window in µs, 0 to turn it off (JS checks the range). */
static napi_value js_busy_poll(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  tun_t *t = handle_args(env, info, &argc, argv);
  if (!t) return NULL;
  double us = 0;
  if (argc < 2 || napi_get_value_double(env, argv[1], &us) != napi_ok || !(us >= 0 && us <= 1e6)) {
    napi_throw_range_error(env, NULL, "busyPoll must be 0..1000000 µs");
    return NULL;
  }
  t->busy_poll_ns = (uint64_t)(us * 1000);
  if (t->busy_poll_ns == 0 && !t->closing) uv_idle_stop(&t->idle);
  return NULL;
}

static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, o, k, n);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], o;
  tun_t *t = handle_args(env, info, &argc, argv);
  if (!t) return NULL;
  CHECK(env, napi_create_object(env, &o));
  set_num(env, o, "rxPackets", t->rx_packets);
  set_num(env, o, "rxBytes", t->rx_bytes);
  set_num(env, o, "rxBatches", t->rx_batches);
  set_num(env, o, "rxWakeups", t->rx_wakeups);
  set_num(env, o, "rxErrors", t->rx_errors);
  set_num(env, o, "txPackets", t->tx_packets);
  set_num(env, o, "txBytes", t->tx_bytes);
  set_num(env, o, "txQueued", t->tx_queued);
  set_num(env, o, "txDropped", t->tx_dropped);
  set_num(env, o, "txErrors", t->tx_errors);
  set_num(env, o, "txQueueBytes", (double)t->wq_bytes);
  set_num(env, o, "rxBusyPolled", t->rx_busy_polled);
  return o;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
    {"write", NULL, js_write, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
    {"ref", NULL, js_ref, NULL, NULL, NULL, napi_default, NULL},
    {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
    {"busyPoll", NULL, js_busy_poll, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  napi_value v;
  CHECK(env, napi_create_uint32(env, MAX_BATCH, &v));
  CHECK(env, napi_set_named_property(env, exports, "MAX_BATCH", v));
  CHECK(env, napi_create_uint32(env, MAX_PKT, &v));
  CHECK(env, napi_set_named_property(env, exports, "MAX_PKT", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
