/**
 * The floor of kernel → user-space connect latency over TUN (bench/tun.ts, --kind all): a C
 * program that answers each SYN on a TUN device with a SYN-ACK and each FIN with a FIN-ACK,
 * statelessly, with blocking reads and one write each. Whatever a user-space stack does, a
 * connect into it pays what this pays: the SYN queued on the device, the process woken,
 * read() and write() (inside which the kernel's TCP takes the SYN-ACK and wakes the client).
 * Over veth none of that happens (the kernel answers the SYN inside the client's connect()), so
 * this figure over veth's is the part of synack's ratio no stack in a process can remove; the
 * rest is synack's own work. Compiled on the fly with cc; skipped with the reason without one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from '../src/tun/netns.js';

const SYN_RESPONDER_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s) {
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)((p[i] << 8) | p[i + 1]);
  if (n & 1) s += (uint32_t)(p[n - 1] << 8);
  return s;
}
static uint16_t fold(uint32_t s) { while (s >> 16) s = (s & 0xffff) + (s >> 16); return (uint16_t)~s; }
static uint32_t rd32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fd = open("/dev/net/tun", O_RDWR);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("tun"); return 1; }
  printf("ready\n");
  fflush(stdout);
  uint8_t in[2048], out[64];
  for (;;) {
    ssize_t n = read(fd, in, sizeof in);
    if (n < 40 || (in[0] >> 4) != 4 || in[9] != 6) continue;
    int ihl = (in[0] & 15) * 4;
    const uint8_t *t = in + ihl;
    int syn = (t[13] & 0x12) == 0x02, fin = t[13] & 0x01;
    if (!syn && !fin) continue;
    int tcplen = syn ? 24 : 20; /* the SYN-ACK carries an MSS option */
    memset(out, 0, sizeof out);
    out[0] = 0x45; out[3] = (uint8_t)(20 + tcplen); out[8] = 64; out[9] = 6;
    memcpy(out + 12, in + 16, 4);
    memcpy(out + 16, in + 12, 4);
    uint16_t ic = fold(sum16(out, 20, 0));
    out[10] = ic >> 8; out[11] = ic & 255;
    uint8_t *o = out + 20;
    o[0] = t[2]; o[1] = t[3]; o[2] = t[0]; o[3] = t[1];
    uint32_t seq = rd32(t + 4), ack = rd32(t + 8);
    int plen = (int)n - ihl - (t[12] >> 4) * 4;
    if (syn) { wr32(o + 4, 12345); wr32(o + 8, seq + 1); o[13] = 0x12; o[20] = 2; o[21] = 4; o[22] = 1460 >> 8; o[23] = 1460 & 255; }
    else { wr32(o + 4, ack); wr32(o + 8, seq + (uint32_t)plen + 1); o[13] = 0x11; }
    o[12] = (uint8_t)((tcplen / 4) << 4); o[14] = 0xff; o[15] = 0xff;
    uint16_t tc = fold(sum16(o, (size_t)tcplen, sum16(out + 12, 8, 0) + 6 + (uint32_t)tcplen));
    o[16] = tc >> 8; o[17] = tc & 255;
    if (write(fd, out, (size_t)(20 + tcplen)) < 0) perror("write");
  }
}
`;

/** A running responder: the address to connect to (any port), and how to stop it. */
export interface SynResponder {
  readonly address: string;
  close(): void;
}

/** Why the floor cannot be measured here (null: it can). */
export function synResponderUnavailableReason(): string | null {
  return spawnSync('cc', ['--version']).status === 0 ? null : 'no C compiler (cc) to build the SYN responder';
}

/** Build the responder and run it on a new TUN device `dev` in `ns`, the kernel side 10.79.0.1/24. */
export async function startSynResponder(ns: Netns, dev: string): Promise<SynResponder> {
  const dir = mkdtempSync(join(tmpdir(), 'synack-floor-'));
  try {
    writeFileSync(join(dir, 'synresp.c'), SYN_RESPONDER_C);
    const cc = spawnSync('cc', ['-O2', '-o', join(dir, 'synresp'), join(dir, 'synresp.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`bench: building the SYN responder failed: ${cc.stderr.trim()}`);
    const child = ns.spawn(join(dir, 'synresp'), [dev], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`bench: the SYN responder exited (${code})`)));
    });
    ns.ip('addr', 'add', '10.79.0.1/24', 'dev', dev);
    ns.ip('link', 'set', 'dev', dev, 'up');
    return {
      address: '10.79.0.2',
      close() {
        child.kill();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
