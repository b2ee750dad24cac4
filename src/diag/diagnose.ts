/**
 * diagnose(): read a Snapshot the way an experienced operator reads `netstat -nat` (the seed
 * articles' "故障排查" section) and say, in plain words and with the evidence, what the piles of
 * SYN_SENT, SYN_RECV, CLOSE_WAIT and TIME_WAIT mean. Pure: no I/O, works on host and stack snapshots.
 *
 * Counter names are Linux's (/proc/net/snmp after RFC 4022's TCP-MIB; /proc/net/netstat TcpExt).
 */
import type { ConnRow, Counters, Snapshot } from './types.js';

export type Rule =
  | 'syn-sent'
  | 'syn-recv'
  | 'close-wait'
  | 'time-wait'
  | 'no-listener'
  | 'loopback-only'
  | 'accept-queue'
  | 'retransmits';

export interface Finding {
  rule: Rule;
  severity: 'warning' | 'critical';
  summary: string;
  explanation: string;
  evidence: Record<string, unknown>;
}

/** Thresholds, each a named option (`--threshold-syn-sent 20` on the command line). */
export interface Thresholds {
  /** SYN_SENT connections (in scope) before we speak up. */
  synSent: number;
  /** SYN_RECEIVED connections on one listening port. */
  synRecv: number;
  /**
   * SYN_RECEIVED connections on one port as a share (0..1) of its listener's backlog, which is
   * what the SYN queue holds (a listen(8) server is in trouble long before 32 half-open entries).
   */
  synQueue: number;
  /** CLOSE_WAIT connections (in scope). */
  closeWait: number;
  /** TIME_WAIT connections in total; TIME_WAIT is normal, so this is high. */
  timeWait: number;
  /** Share (0..1) of the ephemeral port range held in TIME_WAIT toward one destination ip:port. */
  ephemeralShare: number;
  /** Accept queue length as a share (0..1) of the listener's backlog. */
  acceptQueue: number;
  /** Retransmitted / sent segments over the interval (needs `previous`). */
  retransRatio: number;
  /** A count at least this many times its threshold is critical rather than a warning. */
  criticalFactor: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  synSent: 10,
  synRecv: 32,
  synQueue: 0.8,
  closeWait: 16,
  timeWait: 10000,
  ephemeralShare: 0.5,
  acceptQueue: 0.8,
  retransRatio: 0.02,
  criticalFactor: 5,
};

/** Linux's default net.ipv4.ip_local_port_range is 32768..60999: 28232 ports. */
export const DEFAULT_EPHEMERAL_PORTS = 60999 - 32768 + 1;
/** TIME_WAIT length on Linux: TCP_TIMEWAIT_LEN, 60 s, a compile-time constant (not tcp_fin_timeout). */
const TIME_WAIT_SECONDS = 60;

export type DiagnoseOptions = Partial<Thresholds> & {
  /** "Is my service up?": check for a listener on this port and limit the state rules to it. */
  port?: number;
  /** An earlier snapshot of the same source, for counter rates. */
  previous?: Snapshot;
};

interface Ctx {
  snap: Snapshot;
  t: Thresholds;
  rows: ConnRow[];
  listenPorts: Set<number>;
  /** Counter deltas per second since `previous`, when given. */
  rates: Record<string, number> | undefined;
  interval: number | undefined;
}

const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Count items by key, most first (ties by key), top `limit`. */
function top<T>(items: T[], key: (x: T) => string, limit = 5): { key: string; count: number }[] {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m]
    .map(([k, count]) => ({ key: k, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    .slice(0, limit);
}

/** Per-second counter rates between two snapshots (only counters that changed). */
export function counterRates(now: Snapshot, previous: Snapshot): { interval: number; rates: Record<string, number> } {
  const interval = now.time - previous.time;
  const rates: Record<string, number> = {};
  if (interval <= 0) return { interval, rates };
  for (const [k, v] of Object.entries(now.counters)) {
    const before = previous.counters[k];
    if (before !== undefined && v !== before) rates[k] = Math.round(((v - before) / interval) * 100) / 100;
  }
  return { interval, rates };
}

/** Selected counters (and their rates, when known) for a finding's evidence. */
function counterEvidence(ctx: Ctx, names: string[]): Record<string, unknown> {
  const c: Counters = ctx.snap.counters;
  const out: Record<string, unknown> = {};
  for (const n of names) {
    if (c[n] === undefined) continue;
    out[n] = c[n];
    if (ctx.rates !== undefined) out[`${n}/s`] = ctx.rates[n] ?? 0;
  }
  return out;
}

function rateText(ctx: Ctx, names: string[]): string {
  if (ctx.rates === undefined) return '';
  const parts = names.filter((n) => (ctx.rates![n] ?? 0) > 0).map((n) => `${n} ${ctx.rates![n]}/s`);
  return parts.length === 0 ? '' : ` Over the last ${ctx.interval} s: ${parts.join(', ')}.`;
}

function severity(ctx: Ctx, count: number, threshold: number): 'warning' | 'critical' {
  return count >= threshold * ctx.t.criticalFactor ? 'critical' : 'warning';
}

/** Seconds until Linux gives up after `retries` retransmissions with RTO doubling from 1 s (capped at 120 s). */
function giveUpSeconds(retries: number): number {
  let s = 0;
  for (let i = 0; i <= retries; i++) s += Math.min(2 ** i, 120);
  return s;
}

function synSent(ctx: Ctx): Finding[] {
  const rows = ctx.rows.filter((r) => r.state === 'SYN_SENT');
  if (rows.length < ctx.t.synSent) return [];
  const dests = top(rows, (r) => ep(r.remoteAddress, r.remotePort));
  const retries = ctx.snap.settings.tcp_syn_retries ?? 6;
  return [{
    rule: 'syn-sent',
    severity: severity(ctx, rows.length, ctx.t.synSent),
    summary: `${plural(rows.length, 'connection')} stuck in SYN_SENT (most to ${dests[0]!.key})`,
    explanation:
      `This host sent a SYN and is still waiting for the SYN-ACK on ${plural(rows.length, 'connection')}. ` +
      'A healthy connect() leaves SYN_SENT within one round trip. When they pile up, the peer is not answering at all: ' +
      'it is down or unreachable, or a firewall silently drops the SYN (a reachable host with nothing on the port ' +
      'would answer RST, and connect() would fail at once with ECONNREFUSED). ' +
      `Linux retransmits the SYN tcp_syn_retries=${retries} times and gives up with ETIMEDOUT after about ` +
      `${giveUpSeconds(retries)} s. Check the destinations below: ping/traceroute them, check security groups and firewalls.` +
      rateText(ctx, ['AttemptFails', 'TCPTimeouts']),
    evidence: {
      count: rows.length,
      threshold: ctx.t.synSent,
      topDestinations: dests.map((d) => ({ destination: d.key, count: d.count })),
      tcp_syn_retries: retries,
      ...counterEvidence(ctx, ['ActiveOpens', 'AttemptFails', 'TCPTimeouts']),
    },
  }];
}

function synRecv(ctx: Ctx): Finding[] {
  const rows = ctx.rows.filter((r) => r.state === 'SYN_RECEIVED');
  const s = ctx.snap.settings;
  const out: Finding[] = [];
  const byPort = top(rows, (r) => String(r.localPort), Infinity);
  for (const { key, count } of byPort) {
    const port = Number(key);
    const listener = ctx.snap.rows.find((r) => r.state === 'LISTEN' && r.localPort === port);
    // LINUX: inet_csk_reqsk_queue_is_full (the SYN queue is full at sk_max_ack_backlog entries:
    // the listen() backlog capped by somaxconn, the LISTEN row's Send-Q; /proc hides it).
    const backlog = listener !== undefined && listener.sendQ > 0 ? listener.sendQ : undefined;
    const queueFull = backlog !== undefined && count >= backlog;
    if (count < ctx.t.synRecv && (backlog === undefined || count < ctx.t.synQueue * backlog)) continue;
    const mine = rows.filter((r) => r.localPort === port);
    const clients = top(mine, (r) => r.remoteAddress, Infinity);
    const spread = clients.length >= Math.max(8, count / 2);
    const cookiesRate = ctx.rates?.SyncookiesSent ?? 0;
    const maxSyn = s.tcp_max_syn_backlog;
    const nearFull = maxSyn !== undefined && count >= 0.75 * maxSyn;
    let sev = severity(ctx, count, ctx.t.synRecv);
    if (cookiesRate > 0 || queueFull || (nearFull && s.tcp_syncookies === 0)) sev = 'critical';
    const synackRetries = s.tcp_synack_retries ?? 5;
    let why = spread
      ? `They come from ${plural(clients.length, 'different address', 'different addresses')}, a few each: the pattern of a SYN flood ` +
        '(often with spoofed sources), or of very many clients whose final ACK is lost. '
      : `They come from only ${plural(clients.length, 'address', 'addresses')} (most from ${clients[0]!.key}): ` +
        'those clients, or something between us, lose our SYN-ACK or their final ACK (lossy path, a firewall dropping one direction, a client that gave up). ';
    if (s.tcp_syncookies !== undefined) {
      why += s.tcp_syncookies === 0
        ? 'SYN cookies are OFF (tcp_syncookies=0): when the SYN queue is full new SYNs are simply dropped; consider tcp_syncookies=1. '
        : `SYN cookies are ${s.tcp_syncookies === 2 ? 'always used' : 'on (used when the SYN queue overflows)'}. `;
    }
    out.push({
      rule: 'syn-recv',
      severity: sev,
      summary: `${plural(count, 'half-open connection')} in SYN_RECV on port ${port}` +
        (backlog === undefined ? '' : queueFull ? ` (the SYN queue is full: backlog ${backlog})` : ` (${Math.round((count / backlog) * 100)} % of backlog ${backlog})`),
      explanation:
        `Port ${port} received ${plural(count, 'SYN')} that this host answered with a SYN-ACK and whose final ACK has not arrived. ` +
        'Normally SYN_RECV lasts one round trip and netstat hardly ever shows it. ' + why +
        `Each entry is retried tcp_synack_retries=${synackRetries} times (about ${giveUpSeconds(synackRetries)} s) before it is dropped` +
        (maxSyn !== undefined ? `; the SYN queue holds up to about tcp_max_syn_backlog=${maxSyn} (also capped by the listen backlog).` : '.') +
        rateText(ctx, ['SyncookiesSent', 'ListenOverflows', 'ListenDrops']),
      evidence: {
        port,
        count,
        threshold: ctx.t.synRecv,
        distinctClients: clients.length,
        topClients: clients.slice(0, 5).map((c) => ({ address: c.key, count: c.count })),
        acceptQueue: listener?.recvQ,
        backlog,
        synQueueShare: ctx.t.synQueue,
        tcp_syncookies: s.tcp_syncookies,
        tcp_max_syn_backlog: maxSyn,
        tcp_synack_retries: synackRetries,
        ...counterEvidence(ctx, ['ListenOverflows', 'ListenDrops', 'SyncookiesSent', 'SyncookiesFailed']),
      },
    });
  }
  return out;
}

function closeWait(ctx: Ctx): Finding[] {
  const rows = ctx.rows.filter((r) => r.state === 'CLOSE_WAIT');
  if (rows.length < ctx.t.closeWait) return [];
  const owner = (r: ConnRow): string => (r.pid === undefined ? '' : ` (${r.pid}/${r.process ?? '?'})`);
  const byPort = top(rows, (r) => `${r.localPort}${owner(r)}`);
  const unread = rows.filter((r) => r.recvQ > 0).length;
  const first = byPort[0]!.key;
  return [{
    rule: 'close-wait',
    severity: severity(ctx, rows.length, ctx.t.closeWait),
    summary: `${plural(rows.length, 'connection')} in CLOSE_WAIT, most on local port ${first}`,
    explanation:
      `The peers of ${plural(rows.length, 'connection')} have closed their side (sent FIN) and this host acknowledged it, ` +
      'but the application here has not called close() yet. CLOSE_WAIT never times out by itself: this is an application ' +
      'bug or stall, not a network problem — a missing close() on an error path, a connection pool that does not notice ' +
      'closed connections, or threads blocked elsewhere. Every one holds a file descriptor and memory until the process ' +
      `closes it or exits. Look at the process on local port ${first}` +
      (first.includes('(') ? '' : ' (run as root to see which process owns it)') + '.' +
      (unread > 0 ? ` ${plural(unread, 'of them has', 'of them have')} unread data in the receive queue: the application stopped reading too.` : ''),
    evidence: {
      count: rows.length,
      threshold: ctx.t.closeWait,
      byLocalPort: byPort.map((p) => ({ local: p.key, count: p.count })),
      withUnreadData: unread,
    },
  }];
}

function timeWait(ctx: Ctx): Finding[] {
  const rows = ctx.rows.filter((r) => r.state === 'TIME_WAIT');
  if (rows.length === 0) return [];
  const s = ctx.snap.settings;
  const range =
    s.ip_local_port_range_min !== undefined && s.ip_local_port_range_max !== undefined
      ? s.ip_local_port_range_max - s.ip_local_port_range_min + 1
      : DEFAULT_EPHEMERAL_PORTS;
  // We closed first as the server when the local port is one we listen on; otherwise as a client,
  // and then each TIME_WAIT holds an ephemeral port for that (local ip, remote ip, remote port).
  const serverSide = rows.filter((r) => ctx.listenPorts.has(r.localPort));
  const clientSide = rows.filter((r) => !ctx.listenPorts.has(r.localPort));
  const dests = top(clientSide, (r) => `${r.localAddress} -> ${ep(r.remoteAddress, r.remotePort)}`);
  const worst = dests[0];
  const share = worst === undefined ? 0 : worst.count / range;
  if (rows.length < ctx.t.timeWait && share < ctx.t.ephemeralShare) return [];
  const sev = share >= Math.min(0.9, ctx.t.ephemeralShare * 1.8) || rows.length >= ctx.t.timeWait * ctx.t.criticalFactor ? 'critical' : 'warning';
  const reuse = s.tcp_tw_reuse;
  const who = serverSide.length >= clientSide.length
    ? `Most (${serverSide.length}) are on ports this host listens on: the server closes first (HTTP without keep-alive, ` +
      'server-side idle timeouts). That costs memory only, not ports; letting clients close first or using keep-alive avoids it. '
    : `Most (${clientSide.length}) are outgoing connections this host closed first, each holding an ephemeral port. ` +
      `Toward one destination a new connection needs a free port out of ${range}; with ${TIME_WAIT_SECONDS} s in TIME_WAIT ` +
      `that allows about ${Math.floor(range / TIME_WAIT_SECONDS)} new connections per second. ` +
      (worst !== undefined ? `The busiest destination, ${worst.key}, holds ${worst.count} (${(share * 100).toFixed(1)} % of the range). ` : '') +
      'Reuse connections (keep-alive, pooling) instead of opening one per request. ';
  return [{
    rule: 'time-wait',
    severity: sev,
    summary: `${plural(rows.length, 'connection')} in TIME_WAIT` +
      (worst !== undefined && share >= ctx.t.ephemeralShare ? ` (${(share * 100).toFixed(0)} % of ephemeral ports toward ${worst.key})` : ''),
    explanation:
      'TIME_WAIT is the normal end of a connection for the side that closed first: it waits 2MSL (60 s on Linux) so ' +
      'that a lost final ACK can be resent and old duplicates die out. It is only a problem in large numbers. ' + who +
      'tcp_fin_timeout does NOT shorten TIME_WAIT (it governs orphaned FIN_WAIT_2). ' +
      (reuse === undefined
        ? ''
        : reuse === 0
          ? 'tcp_tw_reuse=0: connect() never reuses a TIME_WAIT port; 1 allows it when TCP timestamps make it safe. '
          : reuse === 2
            ? 'tcp_tw_reuse=2: TIME_WAIT ports are reused for loopback connections only. '
            : 'tcp_tw_reuse=1: connect() may reuse TIME_WAIT ports when TCP timestamps make it safe. ') +
      (s.tcp_max_tw_buckets !== undefined && rows.length >= s.tcp_max_tw_buckets
        ? `The count reached tcp_max_tw_buckets=${s.tcp_max_tw_buckets}: the kernel now destroys TIME_WAIT sockets early (TCPTimeWaitOverflow). `
        : ''),
    evidence: {
      count: rows.length,
      threshold: ctx.t.timeWait,
      serverSide: serverSide.length,
      clientSide: clientSide.length,
      ephemeralPorts: range,
      topDestinations: dests.map((d) => ({ destination: d.key, count: d.count, share: Math.round((d.count / range) * 1000) / 1000 })),
      tcp_tw_reuse: reuse,
      tcp_max_tw_buckets: s.tcp_max_tw_buckets,
      ...counterEvidence(ctx, ['TW', 'TWRecycled', 'TCPTimeWaitOverflow']),
    },
  }];
}

function listener(ctx: Ctx, port: number): Finding[] {
  const listeners = ctx.snap.rows.filter((r) => r.state === 'LISTEN' && r.localPort === port);
  if (listeners.length > 0) {
    const loop = (a: string): boolean => a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
    if (!listeners.every((r) => loop(r.localAddress))) return [];
    return [{
      rule: 'loopback-only',
      severity: 'warning',
      summary: `port ${port} listens on loopback only (${listeners.map((r) => ep(r.localAddress, port)).join(', ')})`,
      explanation:
        `A service is listening on port ${port}, but only on the loopback address: it is reachable from this host, ` +
        'and other hosts get connection refused. Bind it to 0.0.0.0 / :: (or the right interface address) if it should be reachable from outside.',
      evidence: { port, listeners: listeners.map((r) => ({ local: ep(r.localAddress, port), process: r.process, pid: r.pid })) },
    }];
  }
  const synSentTo = ctx.snap.rows.filter((r) => r.state === 'SYN_SENT' && r.remotePort === port);
  const dests = top(synSentTo, (r) => ep(r.remoteAddress, r.remotePort));
  const others = [...ctx.listenPorts].sort((a, b) => a - b);
  let explanation =
    `Nothing on this host listens on TCP port ${port}. A SYN to it is answered with a RST and the client's connect() fails ` +
    'at once with ECONNREFUSED ("Connection refused"). Is the service running? Did it fail to start (check its logs; ' +
    'EADDRINUSE at bind), or is it configured for another port or only for the other address family?';
  if (synSentTo.length > 0) {
    explanation +=
      ` Also, this host has ${plural(synSentTo.length, 'connection')} in SYN_SENT toward port ${port} on other hosts ` +
      `(${dests.map((d) => d.key).join(', ')}): those peers do not answer at all — down, unreachable, or filtered by a firewall.`;
  }
  explanation += rateText(ctx, ['OutRsts', 'AttemptFails']);
  return [{
    rule: 'no-listener',
    severity: 'critical',
    summary: `nothing listens on TCP port ${port}`,
    explanation,
    evidence: {
      port,
      listeningPorts: others.slice(0, 20),
      synSentToPort: dests.map((d) => ({ destination: d.key, count: d.count })),
      ...counterEvidence(ctx, ['OutRsts', 'AttemptFails']),
    },
  }];
}

function acceptQueue(ctx: Ctx): Finding[] {
  const somaxconn = ctx.snap.settings.somaxconn;
  const overflowRate = ctx.rates?.ListenOverflows ?? 0;
  const out: Finding[] = [];
  for (const r of ctx.rows) {
    if (r.state !== 'LISTEN') continue;
    // A host LISTEN row has sendQ 0 (/proc does not show the backlog; see proc.ts): then the
    // effective backlog, min(listen() argument, somaxconn), is at most somaxconn.
    const known = r.sendQ > 0;
    const backlog = known ? r.sendQ : somaxconn;
    const near = backlog !== undefined && r.recvQ >= ctx.t.acceptQueue * backlog;
    const overflowing = !known && r.recvQ > 0 && overflowRate > 0;
    if (!near && !overflowing) continue;
    const full = backlog !== undefined && r.recvQ >= backlog;
    out.push({
      rule: 'accept-queue',
      severity: full || overflowRate > 0 ? 'critical' : 'warning',
      summary: `accept queue of ${ep(r.localAddress, r.localPort)} ${full ? 'is full' : 'is filling'}: ${r.recvQ}` +
        (backlog !== undefined ? ` of ${known ? '' : 'at most '}${backlog}` : ''),
      explanation:
        `${plural(r.recvQ, 'connection has', 'connections have')} completed the handshake on port ${r.localPort} and ` +
        `${r.recvQ === 1 ? 'is' : 'are'} waiting for the application to accept() ${r.recvQ === 1 ? 'it' : 'them'}. ` +
        'The application accepts too slowly (busy or blocked threads, an event loop stall) or its listen() backlog is too small. ' +
        'When the queue is full Linux drops the client\'s final ACK (ListenOverflows, ListenDrops): servers keep SYN_RECV ' +
        'entries, and clients see slow or failed connects. ' +
        (known ? '' : `The backlog is not visible in /proc (ss -lnt shows it as Send-Q); it is at most somaxconn=${somaxconn ?? '?'}. `) +
        rateText(ctx, ['ListenOverflows', 'ListenDrops']),
      evidence: {
        listener: ep(r.localAddress, r.localPort),
        process: r.process,
        pid: r.pid,
        acceptQueue: r.recvQ,
        backlog: known ? r.sendQ : undefined,
        somaxconn,
        threshold: ctx.t.acceptQueue,
        ...counterEvidence(ctx, ['ListenOverflows', 'ListenDrops']),
      },
    });
  }
  if (out.length === 0 && overflowRate > 0) {
    out.push({
      rule: 'accept-queue',
      severity: 'critical',
      summary: `accept queues overflowed ${overflowRate} times per second`,
      explanation:
        `Over the last ${ctx.interval} s, connections were dropped because a listener's accept queue was full ` +
        '(ListenOverflows). No queue is long right now, so the application accepts in bursts or the backlog is small; ' +
        'raise the listen() backlog (and somaxconn) and check how fast the server calls accept().',
      evidence: { somaxconn, ...counterEvidence(ctx, ['ListenOverflows', 'ListenDrops']) },
    });
  }
  return out;
}

function retransmits(ctx: Ctx): Finding[] {
  if (ctx.rates === undefined || ctx.interval === undefined) return [];
  const sent = (ctx.rates.OutSegs ?? 0) * ctx.interval;
  const retrans = (ctx.rates.RetransSegs ?? 0) * ctx.interval;
  if (sent < 100) return [];
  const ratio = retrans / sent;
  if (ratio < ctx.t.retransRatio) return [];
  const pct = (ratio * 100).toFixed(1);
  return [{
    rule: 'retransmits',
    severity: ratio >= ctx.t.retransRatio * ctx.t.criticalFactor ? 'critical' : 'warning',
    summary: `${pct} % of sent segments were retransmissions over the last ${ctx.interval} s`,
    explanation:
      `${Math.round(retrans)} of ${Math.round(sent)} segments sent were retransmitted: segments or their ACKs are being ` +
      'lost (congestion, a bad link, a middlebox, a peer that is too slow to drain its window). Throughput and latency suffer ' +
      'well before connections fail.' + rateText(ctx, ['TCPTimeouts', 'TCPLostRetransmit']),
    evidence: {
      ratio: Math.round(ratio * 1000) / 1000,
      threshold: ctx.t.retransRatio,
      ...counterEvidence(ctx, ['OutSegs', 'RetransSegs', 'TCPTimeouts']),
    },
  }];
}

/** Apply every rule; critical findings first. An empty array means healthy. */
export function diagnose(snap: Snapshot, opts: DiagnoseOptions = {}): Finding[] {
  const t: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const k of Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[]) {
    const v = opts[k];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`threshold ${k} must be a non-negative number, got ${v}`);
    t[k] = v;
  }
  const port = opts.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new RangeError(`port must be an integer 1..65535, got ${port}`);
  }
  const rows = port === undefined ? snap.rows : snap.rows.filter((r) => r.localPort === port || r.remotePort === port);
  const listenPorts = new Set(snap.rows.filter((r) => r.state === 'LISTEN').map((r) => r.localPort));
  const rated = opts.previous === undefined ? undefined : counterRates(snap, opts.previous);
  const ctx: Ctx = { snap, t, rows, listenPorts, rates: rated?.rates, interval: rated?.interval };
  const findings = [
    ...(port === undefined ? [] : listener(ctx, port)),
    ...synSent(ctx),
    ...synRecv(ctx),
    ...acceptQueue(ctx),
    ...closeWait(ctx),
    ...timeWait(ctx),
    ...retransmits(ctx),
  ];
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
}

function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** Findings as text: a headline per finding, the explanation wrapped, then the evidence. */
export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'No problems found.';
  const out: string[] = [];
  for (const f of findings) {
    if (out.length > 0) out.push('');
    out.push(`${f.severity.toUpperCase()} ${f.rule}: ${f.summary}`);
    out.push(...wrap(f.explanation, '  '));
    const ev = Object.entries(f.evidence).filter(([, v]) => v !== undefined);
    if (ev.length > 0) {
      out.push('  evidence:');
      for (const [k, v] of ev) out.push(`    ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
  }
  return out.join('\n');
}
