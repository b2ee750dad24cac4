/**
 * `synack pkt FILE|DIR ...`: run packetdrill scripts against synack in-process on virtual time.
 * One line per script, then `N passed, N failed[, N skipped]`; exit 1 when any failed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runScriptFile, type RunResult } from '../packetdrill/run.js';

const HELP = `usage: synack pkt [options] FILE|DIR ...

Run packetdrill scripts (directories recursively, *.pkt) against synack on virtual time.

options:
  --json                 one JSON object per script, then a summary object
  -v, --verbose          print every packet (tcpdump style) as injected/sent, and ss output
  --expect FILE          expectations file: scripts known to fail (with reasons) count as expected
  --allow-shell          skip shell commands synack cannot interpret instead of failing
  --tolerance_usecs N    override the timing tolerance of every script
  -h, --help             this text`;

/** Expectations: `path-suffix  reason` per line; `#` comments. */
export function readExpectations(file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const [path, ...why] = line.split(/\s+/);
    m.set(path!, why.join(' ') || 'known to fail');
  }
  return m;
}

export function expectationFor(exp: Map<string, string>, file: string): string | undefined {
  const f = file.replace(/\\/g, '/');
  for (const [k, v] of exp) if (f === k || f.endsWith('/' + k)) return v;
  return undefined;
}

export function collectScripts(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (p.endsWith('.pkt')) out.push(p);
  };
  for (const p of paths) {
    const st = statSync(p);
    if (st.isFile()) out.push(p);
    else walk(p);
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, expect: { type: 'string' },
        'allow-shell': { type: 'boolean' }, tolerance_usecs: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`synack pkt: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  if (args.positionals.length === 0) {
    console.error(HELP);
    return 2;
  }
  let files: string[];
  try {
    files = collectScripts(args.positionals);
  } catch (e) {
    console.error(`synack pkt: ${(e as Error).message}`);
    return 2;
  }
  const expect = v.expect !== undefined ? readExpectations(v.expect) : new Map<string, string>();
  let passed = 0;
  let failed = 0;
  let expectedFails = 0;
  let unexpectedPasses = 0;
  const t0 = Date.now();
  for (const file of files) {
    const name = relative(process.cwd(), resolve(file)) || file;
    let r: RunResult;
    try {
      r = runScriptFile(file, {
        ...(v.verbose && !v.json ? { verbose: (l: string) => console.log(`  ${l}`) } : {}),
        allowShell: v['allow-shell'] ?? false,
        ...(v.tolerance_usecs !== undefined ? { extraOptions: { tolerance_usecs: v.tolerance_usecs } } : {}),
      });
    } catch (e) {
      r = { file, status: 'error', message: `internal error: ${(e as Error).stack ?? String(e)}`, output: [], virtualUsecs: 0 };
    }
    const known = expectationFor(expect, file);
    let verdict: string;
    if (r.status === 'pass') {
      passed++;
      if (known !== undefined) unexpectedPasses++;
      verdict = known !== undefined ? 'pass (UNEXPECTED: listed as known to fail)' : 'pass';
    } else if (known !== undefined) {
      expectedFails++;
      verdict = `${r.status} (expected: ${known})`;
    } else {
      failed++;
      verdict = r.status;
    }
    if (v.json) {
      console.log(JSON.stringify({ file: name, status: r.status, expected: known ?? null, message: r.message ?? null, line: r.line ?? null, unsupported: r.unsupported ?? false, virtualSeconds: r.virtualUsecs / 1e6 }));
    } else {
      console.log(`${name}: ${verdict}${r.status !== 'pass' && r.message !== undefined ? `: ${r.message.split('\n')[0]!.replace(`${file}:`, 'line ')}` : ''}`);
      if (v.verbose && r.status !== 'pass' && r.message?.includes('\n')) console.log(r.message.split('\n').slice(1).map((l) => `  ${l}`).join('\n'));
    }
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(2);
  if (v.json) {
    console.log(JSON.stringify({ passed, failed, expectedFailures: expectedFails, unexpectedPasses, seconds: Number(secs) }));
  } else {
    if (expectedFails > 0) console.log(`${expectedFails} known failure(s) as expected (not counted as failed) in ${secs} s`);
    if (unexpectedPasses > 0) console.log(`${unexpectedPasses} script(s) listed as known to fail now pass: update the expectations file`);
    console.log(`${passed} passed, ${failed} failed`);
  }
  return failed > 0 ? 1 : 0;
}
