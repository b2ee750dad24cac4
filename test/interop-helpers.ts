/**
 * Shared by the real-kernel interop tests (interop.test.ts over TUN, interop-tap.test.ts over
 * TAP): why they must skip, a test wrapper that skips with that reason, bounded waits, and curl
 * run inside a namespace. Each test makes and deletes its own namespaces (src/tun/netns.ts).
 */
import { test, type TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { tunUnavailableReason } from '../src/link/tun.js';
import { netnsUnavailableReason, type Netns } from '../src/tun/netns.js';

/** Why real-kernel tests cannot run here (root, /dev/net/tun, ip netns, the addon, curl, python3, ss), or null. */
export const interopSkipReason: string | null = (() => {
  const r = netnsUnavailableReason() ?? tunUnavailableReason();
  if (r !== null) return r;
  for (const cmd of ['curl', 'python3', 'ss']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `${cmd} is not installed`;
  }
  return null;
})();

/** A test that skips (printing why) when real-kernel tests cannot run. */
export function itest(name: string, fn: (t: TestContext) => Promise<void>, timeout = 60_000): void {
  test(name, { timeout }, async (t) => {
    if (interopSkipReason !== null) {
      t.skip(interopSkipReason);
      return;
    }
    await fn(t);
  });
}

/** Poll `probe` every `everyMs` until it gives a value, which is returned; throws naming `what` after `ms`. */
export async function until<T>(what: string, ms: number, probe: () => T | undefined, everyMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  await until(what, ms, () => (cond() ? true : undefined), 10);
}

/** Reject if `p` takes longer than `ms` (a hung peer must fail the test, not hang the run). */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** curl in the namespace: the body's size and SHA-256, the HTTP status, curl's exit code. */
export async function curlBody(ns: Netns, url: string, extra: string[] = []): Promise<{ size: number; sha: string; http: number; code: number | null; stderr: string }> {
  const script = `curl -sS --max-time 60 ${extra.join(' ')} -o - -w '%{stderr}SIZE %{size_download} HTTP %{http_code}\\n' '${url}' | sha256sum`;
  const r = await ns.run('sh', ['-c', script], { timeout: 90_000 });
  const size = Number(/SIZE (\d+)/.exec(r.stderr)?.[1] ?? -1);
  const http = Number(/HTTP (\d+)/.exec(r.stderr)?.[1] ?? -1);
  return { size, sha: r.stdout.toString().split(/\s/)[0]!, http, code: r.code, stderr: r.stderr };
}
