import { parseArgs } from 'node:util';
import { SCENARIOS, runScenario } from '../demo/scenarios.js';
import { parseSize, runTransfer, type TransferOptions, type TransferResult } from '../demo/transfer.js';
import { renderLadder } from '../viz/ladder.js';

const HELP = `usage: synack demo [SCENARIO] [options]

Runs a TCP scenario on the simulated network (virtual time, no root) and prints its ladder diagram.
With no scenario, lists them.

options:
  --seed N      PRNG seed (default 1); the same seed gives the same run, byte for byte
  --json        print the run as one JSON object instead of the ladder
  --loss P      loss probability on the client-server link, 0..1 (default 0)
  --delay MS    one-way delay in milliseconds (default 10)
  --absolute    ladder with absolute sequence numbers
  --ascii       ladder with ASCII arrows only

bulk transfer (synack demo transfer --bytes N ...): streams N deterministic bytes client → server
and prints a summary (SHA-256 of both ends, virtual duration, goodput, retransmissions) instead
of the ladder. Impairments apply to both directions.
  --bytes N       bytes to send: 64k, 10M, 1G, 1.5MiB ... (k/M/G = 1000^n, Ki/Mi/Gi = 1024^n)
  --jitter MS     extra uniform delay 0..MS per frame (default 0)
  --reorder P     probability a frame is held back so later ones overtake it (default 0)
  --dup P         probability a frame is delivered twice (default 0)
  --corrupt P     probability one bit of a frame is flipped (default 0)
  --bandwidth MBIT  bottleneck rate each way in Mbit/s (default 0 = unlimited)
  --mtu N         link and path MTU (default 1500)
  --cc NAME       congestion control: cubic (default) or newreno`;

const TRANSFER_ONLY = ['bytes', 'jitter', 'reorder', 'dup', 'corrupt', 'bandwidth', 'mtu', 'cc'] as const;

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: 'string' },
        json: { type: 'boolean' },
        loss: { type: 'string' },
        delay: { type: 'string' },
        absolute: { type: 'boolean' },
        ascii: { type: 'boolean' },
        bytes: { type: 'string' },
        jitter: { type: 'string' },
        reorder: { type: 'string' },
        dup: { type: 'string' },
        corrupt: { type: 'string' },
        bandwidth: { type: 'string' },
        mtu: { type: 'string' },
        cc: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const name = positionals[0];
  if (name === undefined) {
    console.log('scenarios (run: synack demo NAME):');
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(19)} ${s.line}`);
    return 0;
  }
  const num = (k: string, def: number): number => {
    const v = values[k];
    if (v === undefined) return def;
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new RangeError(`--${k} must be a number, got '${String(v)}'`);
    return n;
  };
  const prob = (k: string): number => {
    const p = num(k, 0);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`--${k} must be a probability between 0 and 1, got '${String(values[k])}'`);
    return p;
  };
  const bulk = name === 'transfer' && TRANSFER_ONLY.some((k) => values[k] !== undefined);
  if (name !== 'transfer') {
    const bad = TRANSFER_ONLY.find((k) => values[k] !== undefined);
    if (bad !== undefined) {
      console.error(`synack demo: --${bad} applies only to 'synack demo transfer'`);
      return 2;
    }
  }
  let res;
  let opts: TransferOptions;
  try {
    const seed = num('seed', 1);
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got '${String(values.seed)}'`);
    if (!bulk) {
      res = runScenario(name, { seed, loss: num('loss', 0), delayMs: num('delay', 10) });
    } else {
      const cc = values.cc ?? 'cubic';
      if (cc !== 'cubic' && cc !== 'newreno') throw new RangeError(`--cc must be cubic or newreno, got '${String(cc)}'`);
      const mtu = num('mtu', 1500);
      if (!Number.isInteger(mtu) || mtu < 128 || mtu > 65535) throw new RangeError(`--mtu must be an integer 128..65535, got '${String(values.mtu)}'`);
      const nonneg = (k: string, def: number): number => {
        const v = num(k, def);
        if (!(v >= 0)) throw new RangeError(`--${k} must be >= 0, got '${String(values[k])}'`);
        return v;
      };
      opts = {
        bytes: values.bytes === undefined ? 20_000 : parseSize(String(values.bytes)),
        seed, loss: prob('loss'), delayMs: nonneg('delay', 10), jitterMs: nonneg('jitter', 0), reorder: prob('reorder'),
        duplicate: prob('dup'), corrupt: prob('corrupt'), bandwidthMbit: nonneg('bandwidth', 0), mtu, cc,
      };
    }
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  if (bulk) {
    const tty = process.stderr.isTTY === true;
    const r = runTransfer({
      ...opts!,
      ...(tty ? {
        onProgress: (p) => {
          const pct = p.bytes > 0 ? ((100 * p.received) / p.bytes).toFixed(1) : '100.0';
          process.stderr.write(`\r${pct.padStart(5)} %  ${fmtBytes(p.received)} of ${fmtBytes(p.bytes)}  virtual ${p.virtualSeconds.toFixed(1)} s  wall ${p.wallSeconds.toFixed(1)} s   `);
        },
      } : {}),
    });
    if (tty) process.stderr.write('\r\x1b[K');
    if (values.json) console.log(JSON.stringify(r));
    else console.log(renderSummary(r));
    return r.intact ? 0 : 1;
  }
  if (values.json) console.log(JSON.stringify(res));
  else console.log(renderLadder(res!, { absolute: values.absolute === true, ascii: values.ascii === true }));
  return 0;
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function renderSummary(r: TransferResult): string {
  const o = r.options;
  const path = [`delay ${String(o.delayMs)} ms`, `loss ${String(o.loss)}`, `jitter ${String(o.jitterMs)} ms`, `reorder ${String(o.reorder)}`, `dup ${String(o.duplicate)}`, `corrupt ${String(o.corrupt)}`, `bandwidth ${o.bandwidthMbit ? `${String(o.bandwidthMbit)} Mbit/s` : 'unlimited'}`, `mtu ${String(o.mtu)}`].join(', ');
  const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(2)} %` : '-');
  const lines = [
    `transfer: ${fmtBytes(r.bytes)} client → server, ${String(o.cc)}, seed ${r.seed}`,
    `path:     ${path}`,
    '',
    `received        ${r.received} of ${r.bytes} bytes — ${r.intact ? 'intact (SHA-256 equal at both ends)' : 'NOT INTACT'}`,
    `sha256          ${r.sha256}${r.receivedSha256 === r.sha256 ? '' : `\n  received      ${r.receivedSha256}`}`,
    `virtual time    ${r.virtualSeconds.toFixed(3)} s (connect to end-of-file at the receiver)`,
    `goodput         ${r.goodputMbps.toFixed(3)} Mbit/s (virtual time)`,
    `retransmits     ${r.retransmits} segments (RetransSegs); data: ${r.retransmittedSegments} segments, ${r.retransmittedBytes} bytes; ${r.fastRetransmits} fast retransmits, ${r.rtoTimeouts} RTO timeouts`,
    `spurious        ${r.spuriousRetransmits} segments (${pct(r.spuriousRetransmits, r.retransmittedSegments)} of data retransmits), ${r.spuriousBytes} bytes the receiver already had`,
    `                measured by the simulator's oracle: a retransmission is spurious when every byte of it had already reached the receiver when it was sent`,
    `frames          ${r.framesSent} sent, ${r.framesLost} lost, ${r.framesCorrupted} corrupted, ${r.framesDuplicated} duplicated (both directions)`,
    `sender at end   cwnd ${Math.round(r.finalCwnd)} bytes, srtt ${r.srttMs.toFixed(1)} ms`,
    `wall time       ${r.wallSeconds.toFixed(3)} s (${r.wallSeconds > 0 ? ((r.bytes * 8) / r.wallSeconds / 1e6).toFixed(0) : '-'} Mbit/s simulated per wall second)`,
  ];
  if (r.error !== null) lines.push(`error           ${r.error}`);
  return lines.join('\n');
}
