/**
 * The large soak: `node dist/scripts/soak.js [--count 100000] [--from 1] [--max-bytes 10000000]`.
 * Runs seeded bulk transfers (src/demo/transfer.ts soakCase: most small, a few up to 10 MB, loss
 * up to 30 %, reordering, duplication, corruption, jitter) and checks every one arrives intact.
 * Prints progress on a TTY, a reproduction line for every failure, and exits 1 if any failed.
 */
import { parseArgs } from 'node:util';
import { reproduce, runTransfer, soakCase } from '../src/demo/transfer.js';

const { values } = parseArgs({ options: { count: { type: 'string' }, from: { type: 'string' }, 'max-bytes': { type: 'string' }, json: { type: 'boolean' } } });
const count = Number(values.count ?? 100_000);
const from = Number(values.from ?? 1);
const maxBytes = Number(values['max-bytes'] ?? 10_000_000);
for (const [k, v] of [['count', count], ['from', from], ['max-bytes', maxBytes]] as const) {
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`soak: --${k} must be a non-negative integer`);
    process.exit(2);
  }
}
const tty = process.stderr.isTTY === true;
const t0 = performance.now();
let bytes = 0;
let retrans = 0;
let spurious = 0;
let lastShown = 0;
const failures: { seed: number; why: string; repro: string }[] = [];
for (let seed = from; seed < from + count; seed++) {
  const o = soakCase(seed, maxBytes);
  let why: string | null = null;
  try {
    const r = runTransfer(o);
    bytes += r.bytes;
    retrans += r.retransmittedSegments;
    spurious += r.spuriousRetransmits;
    if (!r.intact) why = r.error ?? `received ${r.received} of ${r.bytes}, sha256 ${r.receivedSha256 === r.sha256 ? 'equal' : 'different'}`;
  } catch (e) {
    why = `threw: ${(e as Error).stack ?? String(e)}`;
  }
  if (why !== null) {
    failures.push({ seed, why, repro: reproduce(o) });
    if (tty) process.stderr.write('\r\x1b[K');
    console.log(`FAIL seed ${seed}: ${why}\n  ${reproduce(o)}`);
  }
  const now = performance.now();
  if (tty && now - lastShown > 250) {
    lastShown = now;
    const done = seed - from + 1;
    process.stderr.write(`\r${done}/${count} transfers, ${(bytes / 1e6).toFixed(0)} MB, ${failures.length} failed, ${((now - t0) / 1000).toFixed(0)} s`);
  }
}
if (tty) process.stderr.write('\r\x1b[K');
const wall = (performance.now() - t0) / 1000;
const summary = { count, from, bytes, retransmits: retrans, spuriousRetransmits: spurious, failed: failures.length, failedSeeds: failures.map((f) => f.seed), wallSeconds: wall };
console.log(values.json ? JSON.stringify(summary) : `soak: ${count} transfers (seeds ${from}..${from + count - 1}), ${(bytes / 1e6).toFixed(1)} MB, ${retrans} data retransmissions (${spurious} spurious), ${failures.length} failed, ${wall.toFixed(1)} s`);
process.exitCode = failures.length > 0 ? 1 : 0;
