/**
 * `synack ping`: ping(8) between two simulated hosts on virtual time (10.0.0.1 → 10.0.0.2, or
 * fd00::1 → fd00::2 with -6), over a path with the delay, loss and MTU given. Prints what
 * iputils ping prints. Argument parsing and printing only; the echo is the stack's ICMP.
 */
import { parseArgs } from 'node:util';
import { SimWorld } from '../driver/world.js';
import type { PingResult } from '../ip/icmp.js';
import { ms, sec } from '../time.js';

const USAGE = `usage: synack ping [-6] [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS] [-t TTL]
                   [--delay MS] [--loss P] [--mtu N] [--seed N]

Two simulated hosts, 10.0.0.1 and 10.0.0.2 (fd00::1 and fd00::2 with -6); the first pings the
second on virtual time and prints what ping(8) prints. Sizes over the MTU travel in fragments.

  -c COUNT     echo requests to send (default 4)
  -s SIZE      data bytes per request (default 56)
  -i SECONDS   interval between requests (default 1)
  -W SECONDS   time to wait for each reply (default 1)
  -t TTL       the requests' TTL / hop limit (default 64)
  --delay MS   one-way delay of the path (default 0.5)
  --loss P     probability a frame is lost, 0..1 (default 0)
  --mtu N      MTU of both hosts' links (default 1500)
  --seed N     simulator seed (default 1)`;

export interface PingOptions {
  v6: boolean;
  count: number;
  size: number;
  interval: number;
  timeout: number;
  ttl: number;
  delay: number;
  loss: number;
  mtu: number;
  seed: number;
}

/** Run the pings on a fresh simulated world; returns ping(8)'s lines and its exit status. */
export async function pingLines(o: PingOptions): Promise<{ lines: string[]; status: number }> {
  const w = new SimWorld({ seed: o.seed, path: { delay: o.delay, loss: o.loss, mtu: o.mtu } });
  const a = w.addHost('a', ['10.0.0.1', 'fd00::1'], { mtu: o.mtu });
  w.addHost('b', ['10.0.0.2', 'fd00::2'], { mtu: o.mtu });
  const dst = o.v6 ? 'fd00::2' : '10.0.0.2';
  const lines = [o.v6 ? `PING ${dst} (${dst}) ${o.size} data bytes` : `PING ${dst} (${dst}) ${o.size}(${o.size + 28}) bytes of data.`];
  const rtts: number[] = [];
  let last = 0;
  const start = w.now;
  const pending: Promise<void>[] = [];
  for (let seq = 1; seq <= o.count; seq++) {
    const sentAt = w.now;
    const p = a.ping(dst, { size: o.size, id: 1, seq, timeout: o.timeout, ttl: o.ttl }).then(
      (r: PingResult) => {
        rtts.push(r.rtt);
        last = Math.max(last, sentAt + r.rtt);
        lines.push(`${r.bytes} bytes from ${r.from}: icmp_seq=${r.seq} ttl=${r.ttl} time=${fmtMs(r.rtt)} ms`);
      },
      () => undefined, // a lost request: only the statistics show it, as ping(8) without -O
    );
    pending.push(p);
    w.run(w.now + (seq < o.count ? o.interval : o.timeout));
    await Promise.resolve(); // let the replies of this interval print in order
  }
  await Promise.all(pending);
  const sent = o.count;
  const got = rtts.length;
  const loss = Math.round(((sent - got) / sent) * 100);
  lines.push('', `--- ${dst} ping statistics ---`);
  lines.push(`${sent} packets transmitted, ${got} received, ${loss}% packet loss, time ${Math.round((Math.max(last, start + (sent - 1) * o.interval) - start) / 1000)}ms`);
  if (got > 0) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((x, y) => x + y, 0) / got;
    const mdev = Math.sqrt(rtts.reduce((x, y) => x + (y - avg) ** 2, 0) / got);
    lines.push(`rtt min/avg/max/mdev = ${[min, avg, max, mdev].map((x) => (x / 1000).toFixed(3)).join('/')} ms`);
  }
  // ping(8): exit 0 when at least one reply came, 1 when none did.
  return { lines, status: got > 0 ? 0 : 1 };
}

/** ping(8)'s time format: 3 significant digits below 100 ms. */
function fmtMs(us: number): string {
  const m = us / 1000;
  return m >= 100 ? m.toFixed(0) : m >= 10 ? m.toFixed(1) : m.toFixed(m >= 1 ? 2 : 3);
}

export async function main(argv: string[]): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      options: {
        '6': { type: 'boolean' }, c: { type: 'string' }, s: { type: 'string' }, i: { type: 'string' }, W: { type: 'string' }, t: { type: 'string' },
        delay: { type: 'string' }, loss: { type: 'string' }, mtu: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`synack ping: ${(e as Error).message}\nrun 'synack ping --help' for the options`);
    return 2;
  }
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const num = (name: string, def: number, ok: (x: number) => boolean, what: string): number => {
    const raw = v[name];
    const x = raw === undefined ? def : Number(raw);
    if (!Number.isFinite(x) || !ok(x)) throw new RangeError(`-${name.length > 1 ? '-' : ''}${name}: ${what}, got ${String(raw)}`);
    return x;
  };
  let o: PingOptions;
  try {
    o = {
      v6: v['6'] === true,
      count: num('c', 4, (x) => Number.isInteger(x) && x >= 1 && x <= 100000, 'an integer 1..100000'),
      size: num('s', 56, (x) => Number.isInteger(x) && x >= 0 && x <= 65507, 'an integer 0..65507'),
      interval: sec(num('i', 1, (x) => x > 0, 'seconds > 0')),
      timeout: sec(num('W', 1, (x) => x > 0, 'seconds > 0')),
      ttl: num('t', 64, (x) => Number.isInteger(x) && x >= 1 && x <= 255, 'an integer 1..255'),
      delay: ms(num('delay', 0.5, (x) => x >= 0, 'milliseconds >= 0')),
      loss: num('loss', 0, (x) => x >= 0 && x <= 1, 'a probability 0..1'),
      mtu: num('mtu', 1500, (x) => Number.isInteger(x) && x >= 1280 && x <= 65535, 'an integer 1280..65535'),
      seed: num('seed', 1, (x) => Number.isInteger(x), 'an integer'),
    };
  } catch (e) {
    console.error(`synack ping: ${(e as Error).message}`);
    return 2;
  }
  const r = await pingLines(o);
  for (const l of r.lines) console.log(l);
  return r.status;
}
