import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../src/driver/world.js';
import { formatPacket } from '../src/wire/format.js';

test('smoke: handshake, data, close', () => {
  const w = new SimWorld({ seed: 1, path: { delay: 10_000 } });
  const a = w.addHost('client', ['10.0.0.1']);
  const b = w.addHost('server', ['10.0.0.2']);
  const lines: string[] = [];
  w.onFrame((ev) => lines.push(`${(ev.t / 1e6).toFixed(6)} ${ev.from} ${formatPacket(ev.frame)}${ev.dropped ? ' DROPPED' : ''}`));
  w.observe((h, ev) => { if (ev.type === 'state') lines.push(`   ${h} ${ev.local} ${ev.from} -> ${ev.to} (${ev.cause})`); });
  const l = b.listen({ port: 80 });
  let got = '';
  l.onConnection = (s) => {
    l.accept();
    s.onData = () => { got += new TextDecoder().decode(s.read()!); };
    s.onEnd = () => s.close();
  };
  const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
  c.onConnect = () => { c.write('hello'); c.close(); };
  w.run();
  console.log(lines.join('\n'));
  assert.equal(got, 'hello');
});
