#!/usr/bin/env node
// synack's side of scripts/linux-lossy-transfer.sh: the same transfer (2.7 MB one way, 3.5 MB the
// other at once, Reno, timestamps and SACK, LOSS % of the frames lost each way, a 10 µs path) on
// the simulator, for five seeds (or SEEDS). Prints what each side received within SECONDS of virtual time.
//   npm run build && node scripts/linux-lossy-transfer.mjs [LOSS_PERCENT=27.4] [SECONDS=300] [SEEDS=5]
import { SimWorld } from '../dist/src/driver/world.js';

const loss = Number(process.argv[2] ?? 27.4) / 100;
const secs = Number(process.argv[3] ?? 300);
const seeds = Number(process.argv[4] ?? 5);
for (let seed = 1; seed <= seeds; seed++) {
  const w = new SimWorld({ seed, path: { delay: 10, loss } });
  const tcp = { congestionControl: 'newreno', timestamps: true };
  const a = w.addHost('a', ['10.0.0.1'], { tcp });
  const b = w.addHost('b', ['10.0.0.2'], { tcp });
  const got = { a: 0, b: 0 };
  const doneAt = { a: null, b: null };
  const want = { a: 3_500_000, b: 2_700_000 };
  const send = (s, n) => {
    let left = n;
    const go = () => {
      while (left > 0) {
        const k = s.write(new Uint8Array(Math.min(left, 65536)));
        if (k === 0) return;
        left -= k;
      }
    };
    s.onWritable = go;
    go();
  };
  const count = (s, side) => () => {
    for (let d = s.read(); d !== null; d = s.read()) got[side] += d.length;
    if (got[side] >= want[side] && doneAt[side] === null) doneAt[side] = Math.round(w.now / 1e5) / 10;
  };
  const l = b.listen({ port: 5001 });
  l.onConnection = () => {
    const s = l.accept();
    send(s, 3_500_000);
    s.onData = count(s, 'b');
  };
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 5001 });
  c.onConnect = () => send(c, 2_700_000);
  c.onData = count(c, 'a');
  w.run(secs * 1e6);
  console.log(`synack seed ${seed}: server received ${got.b} of 2700000 B, client ${got.a} of 3500000 B in ${secs} s of virtual time (all by ${doneAt.b} s / ${doneAt.a} s); RTOs ${a.counters.TCPTimeouts}/${b.counters.TCPTimeouts}`);
}
