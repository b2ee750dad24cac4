/**
 * The viz's models without a browser: the session's stepping and snapshots, URL state and exact
 * playground replay, the state diagram's fold, the ladder rows and SVG export, pcap import.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session, decodeUrlState, encodeUrlState } from '../src/viz/session.js';
import { EDGES, diagramState, renderStateDiagram } from '../src/viz/state-diagram.js';
import { eventText, ladderLayout, ladderSvg } from '../src/viz/ladder-view.js';
import { captureToResult } from '../src/viz/capture.js';
import { runScenario } from '../src/demo/scenarios.js';
import { LEGAL_TRANSITIONS } from '../src/tcp/transitions.js';
import { SimWorld } from '../src/driver/world.js';
import { PcapWriter } from '../src/link/pcap.js';
import { ms } from '../src/time.js';

const colors = { client: '#1f6feb', server: '#e8590c' };

describe('viz session', () => {
  it('steps a scenario to the same events as synack demo, with snapshots, forward and back', () => {
    const s = Session.scenario('simultaneous-close', { seed: 1 });
    s.runAll();
    const demo = runScenario('simultaneous-close', { seed: 1 });
    assert.deepEqual(s.events, demo.events);
    s.seek(0);
    while (s.forward()) {
      const e = s.events[s.cursor - 1]!;
      if (e.type === 'state' && e.to === 'TIME_WAIT' && e.host === 'client') break;
    }
    const snap = s.snap()!;
    const conn = snap.hosts.client!.conns[0]!;
    assert.equal(conn.state, 'TIME_WAIT');
    assert.deepEqual(conn.timers.map((t) => t.name), ['time-wait']);
    const at = s.cursor;
    assert.ok(s.back());
    assert.equal(s.cursor, at - 1);
  });

  it('replays a playground from its URL exactly', () => {
    const a = Session.playground({ seed: 5, delayMs: 50 });
    a.act('server', 'listen');
    a.act('client', 'connect');
    for (let i = 0; i < 12; i++) a.forward();
    a.act('client', 'close');
    a.act('server', 'close');
    a.act('client', 'loss', 0.25);
    a.runAll();
    const u = decodeUrlState(encodeUrlState({ scenario: a.name, settings: a.settings, actions: a.actions }))!;
    assert.deepEqual(u.actions, a.actions);
    const b = Session.playground(u.settings, u.actions);
    b.runAll();
    assert.deepEqual(b.events, a.events);
    assert.ok(a.events.some((e) => e.type === 'state' && e.to === 'CLOSING'));
  });
});

describe('viz state diagram', () => {
  it('draws every legal transition once', () => {
    const n = Object.values(LEGAL_TRANSITIONS).reduce((k, v) => k + v.length, 0);
    assert.equal(EDGES.length, n);
    assert.equal(new Set(EDGES.map((e) => e.id)).size, n);
  });

  it('folds the events into where each host is, and marks the transition just taken', () => {
    const res = runScenario('handshake', { seed: 1 });
    const i = res.events.findIndex((e) => e.type === 'state' && e.host === 'client' && e.to === 'SYN_SENT');
    const ds = diagramState(res.events, i + 1, ['client', 'server']);
    assert.deepEqual([...ds.at.get('SYN_SENT')!.keys()], ['client']);
    assert.deepEqual([...ds.at.get('LISTEN')!.keys()], ['server']);
    assert.equal(ds.last?.fresh, true);
    const svg = renderStateDiagram(ds, colors);
    assert.match(svg, /class="edge taken fresh" data-edge="CLOSED&gt;SYN_SENT"/);
    assert.match(svg, /data-state="SYN_SENT" data-hosts="client"/);
  });
});

describe('viz ladder', () => {
  it('labels segments like tcpdump and exports SVG', () => {
    const res = runScenario('handshake', { seed: 1 });
    const L = ladderLayout(res.hosts, res.events, colors);
    const texts = res.events.filter((e) => e.type === 'segment').map((e) => eventText(e, L));
    assert.match(texts[0]!, /^client S seq 0 win \d+ <mss 1460,sackOK,TS,wscale 7>$/);
    assert.match(texts[1]!, /^server S\. seq 0 ack 1 win/);
    const svg = ladderSvg(res, res.events.length, colors);
    assert.match(svg, /^<svg xmlns/);
    assert.equal((svg.match(/<line class="seg/g) ?? []).length, 3);
  });

  it('reads a pcap into a timeline with both ends\' states', () => {
    const chunks: Uint8Array[] = [];
    const wr = new PcapWriter((c) => chunks.push(c));
    const w = new SimWorld({ seed: 2, path: { delay: ms(5) } });
    const c = w.addHost('client', ['10.0.0.1']);
    const s = w.addHost('server', ['10.0.0.2']);
    w.onFrame((ev) => !ev.dropped && wr.write(ev.t, ev.frame));
    s.listen({ port: 80 });
    c.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
    w.run(ms(1000));
    const res = captureToResult(new Uint8Array(Buffer.concat(chunks)), 't.pcap');
    assert.equal(res.connections, 1);
    assert.equal(res.events.filter((e) => e.type === 'segment').length, 3);
    assert.ok(res.events.some((e) => e.type === 'state' && e.to === 'ESTABLISHED'));
  });
});
