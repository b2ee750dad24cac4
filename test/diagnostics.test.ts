/**
 * node:diagnostics_channel: a NodeDriver's stacks publish state changes and segments
 * (`synack:state`, `synack:segment`), and nothing is built when nobody subscribes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { NodeDriver } from '../src/driver/node-driver.js';
import { CHANNELS } from '../src/driver/diagnostics.js';
import { memoryPair } from '../src/link/memory.js';
import { formatPacket } from '../src/wire/format.js';

test('state changes and segments of a real-time stack appear on diagnostics channels', async () => {
  const states: string[] = [];
  const segments: string[] = [];
  const onState = (m: unknown): void => {
    const e = m as { host: string; from: string; to: string };
    states.push(`${e.host} ${e.from}>${e.to}`);
  };
  const onSegment = (m: unknown): void => {
    const e = m as { host: string; direction: string; frame: Uint8Array };
    segments.push(`${e.host} ${e.direction} ${formatPacket(e.frame)}`);
  };
  dc.subscribe(CHANNELS.state, onState);
  dc.subscribe(CHANNELS.segment, onSegment);
  const driver = new NodeDriver({ ref: true });
  try {
    const pair = memoryPair();
    const a = driver.createStack({ name: 'a', addresses: ['10.0.0.1'], seed: 1 });
    const b = driver.createStack({ name: 'b', addresses: ['10.0.0.2'], seed: 2 });
    let scheduled = false;
    const wake = (l: typeof pair.a) => ({
      mtu: l.mtu,
      send: (f: Uint8Array) => {
        l.send(f);
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pair.pump();
          });
        }
      },
      onReceive: (cb: (f: Uint8Array) => void) => l.onReceive(cb),
    });
    driver.attach(a, wake(pair.a));
    driver.attach(b, wake(pair.b));
    b.listen({ port: 80 });
    const c = a.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
    driver.kick();
    await new Promise<void>((resolve) => {
      c.onConnect = () => resolve();
    });
  } finally {
    dc.unsubscribe(CHANNELS.state, onState);
    dc.unsubscribe(CHANNELS.segment, onSegment);
    driver.close();
  }
  assert.ok(states.includes('a CLOSED>SYN_SENT') && states.includes('a SYN_SENT>ESTABLISHED'), states.join('\n'));
  assert.ok(states.includes('b LISTEN>SYN_RECEIVED'), states.join('\n'));
  assert.ok(segments.some((s) => /^a out .*Flags \[S\]/.test(s)), segments.join('\n'));
  assert.ok(segments.some((s) => /^b in .*Flags \[S\]/.test(s)), segments.join('\n'));
  assert.ok(segments.some((s) => /^a in .*Flags \[S\.\]/.test(s)), segments.join('\n'));
});
