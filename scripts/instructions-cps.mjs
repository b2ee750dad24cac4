#!/usr/bin/env node
// The connections-per-second workload of `npm run bench` (bench/cps.ts: open, 1 byte each way,
// close, 500 at a time, TIME_WAIT expired by virtual time) for a fixed number of connections, for
// scripts/instructions.sh to count instructions under valgrind. Not a benchmark by itself.
//   node scripts/instructions-cps.mjs DIST_PARENT WARM MEASURED
// DIST_PARENT is a checkout whose dist/ is built (this one, or an earlier commit's worktree).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve(process.argv[2] ?? '.');
const warm = Number(process.argv[3] ?? 24000);
const measured = Number(process.argv[4] ?? 0);
const { Pair, B } = await import(pathToFileURL(`${dir}/dist/bench/pair.js`).href);
const p = new Pair({ mtu: 1500, checksumOffload: false });
const one = new Uint8Array([0x2a]);
const sink = new Uint8Array(16);
let done = 0;
const l = p.b.listen({ port: 80, backlog: 4096 });
l.onConnection = () => {
  const s = l.accept();
  s.onData = () => {
    if (s.readInto(sink) > 0) s.write(one);
  };
  s.onEnd = () => s.close();
};
const open = () => {
  const c = p.a.connect({ remoteAddress: B, remotePort: 80 });
  c.onConnect = () => c.write(one);
  c.onData = () => {
    if (c.readInto(sink) > 0) c.close();
  };
  c.onClose = () => done++;
};
const run = (n) => {
  for (let k = 0; k < n / 500; k++) {
    for (let i = 0; i < 500; i++) open();
    for (let g = 0; p.pump() > 0 || g === 0; g++);
    p.runFor(61_000_000);
  }
};
run(warm);
run(measured);
if (done !== warm + measured) throw new Error(`instructions-cps: ${done} of ${warm + measured} connections completed`);
