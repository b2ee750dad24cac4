/**
 * End-to-end tests of `synack viz`: the bundled page (dist/viz, built by `npm test` before this
 * runs) served by the viz server on 127.0.0.1 and driven in Debian's chromium by playwright-core.
 * Each test asserts what the page SHOWS (diagram marks, ladder rows, the current-event line,
 * timers, tables) while stepping, and writes a screenshot to docs/viz-*.png. Skips, saying why,
 * when chromium, playwright-core or the bundle is missing. No network beyond 127.0.0.1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVizServer, type VizServer } from '../src/viz/server.js';
import { SimWorld } from '../src/driver/world.js';
import { PcapWriter } from '../src/link/pcap.js';
import { ms } from '../src/time.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = join(ROOT, 'dist', 'viz');
// Screenshots go to docs/ (the README shows them) when SYNACK_SCREENSHOTS=docs; otherwise to a
// temporary folder, so an ordinary test run leaves the work tree untouched.
const DOCS = process.env.SYNACK_SCREENSHOTS === 'docs' ? join(ROOT, 'docs') : join(tmpdir(), 'synack-viz-screenshots');
const CHROMIUM = '/usr/bin/chromium';

type PW = typeof import('playwright-core');
type Context = Awaited<ReturnType<PW['chromium']['launchPersistentContext']>>;
type Page = Awaited<ReturnType<Context['newPage']>>;

let skip: string | false = false;
let pw: PW | null = null;
try {
  pw = await import('playwright-core');
} catch {
  skip = 'playwright-core is not installed (npm install)';
}
if (!skip && !existsSync(CHROMIUM)) skip = `${CHROMIUM} is absent (apt-get install -y chromium)`;
if (!skip && !existsSync(join(BUNDLE, 'app.js'))) skip = 'dist/viz/app.js is missing (node scripts/build-viz.mjs)';
if (skip) console.log(`# viz end-to-end tests skipped: ${skip}`);

describe('synack viz in chromium', { skip }, () => {
  let srv: VizServer;
  let ctx: Context;
  let profile: string;
  const external: string[] = [];

  before(async () => {
    srv = await startVizServer({ root: BUNDLE });
    profile = mkdtempSync(join(tmpdir(), 'synack-viz-chromium-'));
    ctx = await pw!.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Offline: every request the page makes goes to our server.
    ctx.on('request', (r) => {
      if (!r.url().startsWith(srv.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url());
    });
    mkdirSync(DOCS, { recursive: true });
  });

  after(async () => {
    await ctx?.close();
    await srv?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    assert.deepEqual(external, [], 'the page must not load anything from outside 127.0.0.1');
  });

  async function open(hash: string): Promise<{ page: Page; ms: number }> {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = performance.now();
    await page.goto(`${srv.url}${hash}`);
    await page.waitForSelector('body[data-ready="1"]');
    const loadMs = performance.now() - t0;
    assert.deepEqual(errors, []);
    return { page, ms: loadMs };
  }

  const current = (page: Page): Promise<string> => page.textContent('#current-event').then((s) => s ?? '');
  /** Hosts the diagram marks in a state node ("CLOSED_END" is the bottom CLOSED). */
  const hostsIn = (page: Page, node: string): Promise<string[]> =>
    page.getAttribute(`#diagram g.node[data-state="${node}"]`, 'data-hosts').then((s) => (s ? s.split(' ') : []));
  const rows = (page: Page): Promise<string[]> => page.$$eval('#ladder g.row', (gs) => gs.map((g) => g.textContent ?? ''));
  async function step(page: Page): Promise<string> {
    await page.click('#step-fwd');
    return current(page);
  }
  /** Step until the current-event line matches; returns the lines seen. */
  async function stepUntil(page: Page, re: RegExp, max = 200): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < max; i++) {
      if (await page.isDisabled('#step-fwd')) break;
      const line = await step(page);
      seen.push(line);
      if (re.test(line)) return seen;
    }
    assert.fail(`never saw ${re} (last: ${seen.slice(-3).join(' | ')})`);
  }
  async function shot(page: Page, name: string): Promise<void> {
    await page.waitForTimeout(650); // let the transition animation settle
    await page.screenshot({ path: join(DOCS, `viz-${name}.png`) });
  }

  it('loads in under a second, offline, and reports its bundle size', async () => {
    const size = statSync(join(BUNDLE, 'app.js')).size;
    const { page, ms: coldMs } = await open('#scenario=handshake&seed=1');
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { domComplete: n.domComplete, loadEnd: n.loadEventEnd };
    });
    await page.close();
    const { page: p2, ms: warmMs } = await open('#scenario=transfer&seed=1');
    await p2.close();
    console.log(`# viz bundle: app.js ${(size / 1024).toFixed(1)} KiB; load to interactive: first ${coldMs.toFixed(0)} ms (navigation domComplete ${nav.domComplete.toFixed(0)} ms), second ${warmMs.toFixed(0)} ms`);
    assert.ok(size < 600 * 1024, `bundle is ${size} bytes`);
    assert.ok(nav.domComplete < 1000, `domComplete ${nav.domComplete} ms`);
    assert.ok(warmMs < 1000, `page took ${warmMs} ms to become interactive`);
  });

  it('handshake: stepping shows SYN_SENT, SYN_RECEIVED, ESTABLISHED and the three segments; stepping back undoes', async () => {
    const { page } = await open('#scenario=handshake&seed=1');
    assert.match((await page.textContent('#explain')) ?? '', /SYN_SENT/);
    assert.equal((await page.textContent('#event-count'))?.startsWith('event 0 /'), true);
    assert.deepEqual(await hostsIn(page, 'CLOSED'), ['client', 'server']);

    await stepUntil(page, /^server CLOSED → LISTEN/);
    assert.deepEqual(await hostsIn(page, 'LISTEN'), ['server']);
    await stepUntil(page, /^client CLOSED → SYN_SENT \(connect/);
    assert.deepEqual(await hostsIn(page, 'SYN_SENT'), ['client']);
    assert.equal(await page.getAttribute('#diagram path.edge.taken', 'data-edge'), 'CLOSED>SYN_SENT');
    assert.equal(await page.getAttribute('#diagram g.cause', 'data-cause'), 'connect: snd SYN');

    assert.match(await step(page), /^client S seq 0 win \d+ <mss 1460,sackOK,TS,wscale 7>$/);
    await stepUntil(page, /^server LISTEN → SYN_RECEIVED/);
    assert.deepEqual(await hostsIn(page, 'SYN_RECEIVED'), ['server']);
    assert.match(await page.textContent('#timers') ?? '', /retransmit/, 'the SYN-ACK retransmission timer runs');
    assert.match(await step(page), /^server S\. seq 0 ack 1 win \d+ </);
    await stepUntil(page, /^client SYN_SENT → ESTABLISHED/);
    assert.deepEqual(await hostsIn(page, 'ESTABLISHED'), ['client']);
    assert.match(await step(page), /^client \. ack 1 win \d+/);
    await stepUntil(page, /^server SYN_RECEIVED → ESTABLISHED/);
    assert.deepEqual(await hostsIn(page, 'ESTABLISHED'), ['client', 'server']);
    assert.deepEqual(await hostsIn(page, 'LISTEN'), ['server'], 'the listener stays in LISTEN');
    await shot(page, 'handshake');

    const ladder = (await rows(page)).join('\n');
    assert.match(ladder, /S seq 0 win/);
    assert.match(ladder, /S\. seq 0 ack 1 win/);
    assert.match(ladder, /\. ack 1 win/);
    assert.match((await page.textContent('#netstat-server')) ?? '', /ESTABLISHED/);
    assert.match((await page.textContent('#counters-client')) ?? '', /ActiveOpens\s*1/);

    // Back one event: the server is SYN_RECEIVED again.
    await page.click('#step-back');
    assert.deepEqual(await hostsIn(page, 'SYN_RECEIVED'), ['server']);
    assert.deepEqual(await hostsIn(page, 'ESTABLISHED'), ['client']);
    await page.close();
  });

  it('simultaneous-close: both ends go FIN_WAIT_1 → CLOSING → TIME_WAIT, with the TIME_WAIT timer counting', async () => {
    const { page } = await open('#scenario=simultaneous-close&seed=1');
    const seen = await stepUntil(page, /^client CLOSING → TIME_WAIT/);
    const states = seen.filter((l) => l.includes(' → '));
    const seq = (h: string): string[] => states.filter((l) => l.startsWith(`${h} `)).map((l) => / → (\S+)/.exec(l)![1]!);
    assert.deepEqual(seq('client'), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
    assert.deepEqual(seq('server'), ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSING']);
    assert.equal(seen.filter((l) => /^(client|server) F\. /.test(l)).length, 2, 'two FINs crossed');
    assert.deepEqual(await hostsIn(page, 'TIME_WAIT'), ['client']);
    assert.deepEqual(await hostsIn(page, 'CLOSING'), ['server']);
    assert.equal(await page.getAttribute('#diagram path.edge.taken', 'data-edge'), 'CLOSING>TIME_WAIT');
    const tw = (await page.textContent('#timers [data-host="client"] [data-timer="time-wait"]')) ?? '';
    assert.match(tw, /time-wait.*(59\.99|60\.0)\d* s/);
    await shot(page, 'simultaneous-close');
    await stepUntil(page, /^server CLOSING → TIME_WAIT/);
    assert.deepEqual(await hostsIn(page, 'TIME_WAIT'), ['client', 'server']);
    await stepUntil(page, /^server TIME_WAIT → CLOSED \(2MSL/);
    assert.deepEqual(await hostsIn(page, 'CLOSED_END'), ['client', 'server']);
    assert.match((await page.textContent('#clock')) ?? '', /t = 61\.0/);
    await page.close();
  });

  it('syn-timeout: seven SYNs, six marked as retransmissions, backoff in the timers panel, ETIMEDOUT at 127 s', async () => {
    const { page } = await open('#scenario=syn-timeout&seed=1');
    await stepUntil(page, /^client S seq 0/);
    await stepUntil(page, /^client S seq 0 .*\(retransmission\)/);
    await stepUntil(page, /^client S seq 0 .*\(retransmission\)/);
    const timer = (await page.textContent('#timers [data-host="client"] [data-timer="retransmit"]')) ?? '';
    assert.match(timer, /backoff 2/);
    assert.deepEqual(await hostsIn(page, 'SYN_SENT'), ['client']);
    await shot(page, 'syn-timeout-backoff');
    await page.click('#to-end');
    const ladder = await page.evaluate(() => {
      const s = (window as unknown as { synackViz: { session: { events: { type: string; flags?: string; retransmit?: boolean; dropped?: boolean }[] } } }).synackViz.session;
      return s.events.filter((e) => e.type === 'segment').map((e) => `${e.flags}${e.retransmit ? ' R' : ''}${e.dropped ? ' X' : ''}`);
    });
    assert.equal(ladder.filter((l) => l.startsWith('S')).length, 7);
    assert.equal(ladder.filter((l) => l.endsWith('R') || l.includes(' R')).length, 6);
    const rowsText = (await rows(page)).join('\n');
    assert.match(rowsText, /ETIMEDOUT/);
    assert.match(rowsText, /lost/);
    assert.match((await page.textContent('#clock')) ?? '', /t = 127\.0/);
    assert.deepEqual(await hostsIn(page, 'CLOSED'), ['client']);
    await shot(page, 'syn-timeout');
    await page.close();
  });

  it('playground: walk a connection into CLOSING by hand with the buttons, and the URL replays it', async () => {
    const { page } = await open('#scenario=playground&seed=3&delay=50');
    await page.click('button[data-host="server"][data-op="listen"]');
    await page.click('button[data-host="client"][data-op="connect"]');
    assert.deepEqual(await hostsIn(page, 'SYN_SENT'), ['client']);
    await stepUntil(page, /^server SYN_RECEIVED → ESTABLISHED/);
    await page.fill('input.nbytes[data-host="client"]', '1000');
    await page.click('button[data-host="client"][data-op="send"]');
    await stepUntil(page, /^server \[app\] read bytes=/);
    // Both applications close at the same virtual time: the FINs cross in flight.
    await page.click('button[data-host="client"][data-op="close"]');
    await page.click('button[data-host="server"][data-op="close"]');
    assert.deepEqual(await hostsIn(page, 'FIN_WAIT_1'), ['client', 'server']);
    await stepUntil(page, /^(client|server) FIN_WAIT_1 → CLOSING/);
    await stepUntil(page, /^(client|server) FIN_WAIT_1 → CLOSING/);
    assert.deepEqual((await hostsIn(page, 'CLOSING')).sort(), ['client', 'server']);
    assert.match((await page.textContent('#netstat-client')) ?? '', /CLOSING/);
    await shot(page, 'closing-by-hand');
    await stepUntil(page, /→ TIME_WAIT/);
    const n = (await page.textContent('#event-count')) ?? '';
    const at = /event (\d+)/.exec(n)![1];
    await page.waitForFunction((a) => location.hash.includes(`at=${a}`), at);
    const url = page.url();
    assert.match(url, /acts=/);
    await page.close();

    // The shared URL rebuilds the same run, to the same event.
    const { page: again } = await open(url.slice(url.indexOf('#')));
    assert.equal(await again.textContent('#event-count'), n);
    assert.ok((await hostsIn(again, 'TIME_WAIT')).length === 1);
    await again.close();
  });

  it('playground: SYN_RECEIVED and a lost segment on purpose with the loss slider', async () => {
    const { page } = await open('#scenario=playground&seed=1&loss=1');
    await page.click('button[data-host="server"][data-op="listen"]');
    await page.click('button[data-host="client"][data-op="connect"]');
    await stepUntil(page, /^client S seq 0 .*LOST/);
    assert.match((await rows(page)).join('\n'), /✕ lost/);
    await page.close();
  });

  it('drops a pcap made from a simulated run and shows its connection with both ends\' states', async () => {
    const chunks: Uint8Array[] = [];
    const writer = new PcapWriter((c) => chunks.push(c));
    const w = new SimWorld({ seed: 7, path: { delay: ms(5) } });
    const client = w.addHost('client', ['10.0.0.1']);
    const server = w.addHost('server', ['10.0.0.2']);
    w.onFrame((ev) => {
      if (!ev.dropped) writer.write(1_700_000_000_000_000 + ev.t, ev.frame);
    });
    const l = server.listen({ port: 80 });
    l.onConnection = () => {
      const s = l.accept()!;
      s.onData = () => s.read();
      s.onEnd = () => s.close();
    };
    const c = client.connect({ remoteAddress: '10.0.0.2', remotePort: 80 });
    c.onConnect = () => {
      c.write('hello');
      c.close();
    };
    w.run(ms(5_000));
    const bytes = Buffer.concat(chunks);

    const { page } = await open('#scenario=handshake');
    await page.evaluate((b64) => {
      const bin = atob(b64);
      const u8 = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([u8], 'sim.pcap', { type: 'application/vnd.tcpdump.pcap' }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes.toString('base64'));
    await page.waitForFunction(() => /sim\.pcap/.test(document.getElementById('explain')?.textContent ?? ''));
    assert.match((await page.textContent('#explain')) ?? '', /1 TCP connection/);
    const ladder = (await rows(page)).join('\n');
    assert.match(ladder, /S seq 0 win/);
    assert.match(ladder, /P\. 1:6 ack 1/);
    assert.match(ladder, /F\. /);
    assert.match(ladder, /TIME_WAIT/);
    // The active closer (10.0.0.1) ends in TIME_WAIT, the server CLOSED.
    assert.deepEqual(await hostsIn(page, 'TIME_WAIT'), ['10.0.0.1']);
    await page.click('#to-start');
    await stepUntil(page, /SYN_SENT/);
    assert.deepEqual(await hostsIn(page, 'SYN_SENT'), ['10.0.0.1']);
    await page.click('#to-end');
    await shot(page, 'pcap');
    await page.close();
  });

  it('runs a pasted packetdrill script in the page and shows the stack\'s states', async () => {
    const { page } = await open('#scenario=handshake');
    await page.click('#pd summary');
    await page.click('#pd-run');
    await page.waitForFunction(() => (document.getElementById('pd-result')?.textContent ?? '') !== '');
    assert.match((await page.textContent('#pd-result')) ?? '', /^pass/);
    const ladder = (await rows(page)).join('\n');
    for (const st of ['SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK']) assert.match(ladder, new RegExp(st));
    assert.match(ladder, /S\. seq 0 ack 1/);
    assert.deepEqual(await hostsIn(page, 'CLOSED_END'), ['synack']);
    await shot(page, 'packetdrill');
    await page.close();
  });

  it('keeps 10,000+ segments smooth: only the visible rows are in the DOM', async () => {
    const { page } = await open('#scenario=playground&seed=1&delay=10');
    await page.click('button[data-host="server"][data-op="listen"]');
    await page.click('button[data-host="client"][data-op="connect"]');
    await stepUntil(page, /^server SYN_RECEIVED → ESTABLISHED/);
    await page.fill('input.nbytes[data-host="client"]', '10000000');
    await page.click('button[data-host="client"][data-op="send"]');
    const t0 = performance.now();
    await page.click('#to-end');
    const runMs = performance.now() - t0;
    const segs = await page.evaluate(() => (window as unknown as { synackViz: { session: { events: { type: string }[] } } }).synackViz.session.events.filter((e) => e.type === 'segment').length);
    assert.ok(segs >= 10_000, `${segs} segments`);
    const inDom = await page.$$eval('#ladder g.row', (g) => g.length);
    assert.ok(inDom < 120, `${inDom} rows in the DOM`);
    // Scroll to a few places; each redraw must fit in a frame or two.
    const times = await page.evaluate(async () => {
      const box = document.getElementById('ladder')!;
      const out: number[] = [];
      for (const f of [0.1, 0.5, 0.9, 0.3, 0.7]) {
        const t = performance.now();
        box.scrollTop = box.scrollHeight * f;
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        out.push(performance.now() - t);
      }
      return out;
    });
    const rowsNow = await page.$$eval('#ladder g.row', (g) => g.map((x) => Number((x as SVGGElement).dataset.i)));
    assert.ok(rowsNow.length < 120 && Math.min(...rowsNow) > 1000, 'the rows in the DOM follow the scroll');
    console.log(`# viz 10k: ${segs} segments, ran in ${runMs.toFixed(0)} ms, ${inDom} rows in the DOM, scroll redraws ${times.map((t) => t.toFixed(0)).join('/')} ms`);
    assert.ok(Math.max(...times) < 100, `scroll redraws took ${times.join(', ')} ms`);
    await shot(page, 'ladder-10k');
    await page.close();
  });

  it('exports the ladder as SVG', async () => {
    const { page } = await open('#scenario=handshake&seed=1');
    await page.click('#to-end');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
    const path = await dl.path();
    const { readFileSync } = await import('node:fs');
    const svg = readFileSync(path!, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /S\. seq 0 ack 1/);
    assert.match(svg, /ESTABLISHED/);
    await page.close();
  });
});
