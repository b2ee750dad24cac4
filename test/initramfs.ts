/**
 * A busybox initramfs built at test time, for booting a real Linux kernel under QEMU
 * (test/usernet-qemu-guest.test.ts): the cpio "newc" archive the kernel unpacks into its rootfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst), gzip-compressed, holding the host's
 * busybox (and, when it is dynamically linked, the shared libraries `ldd` names), the kernel
 * modules a driver needs with their dependencies from modules.dep, /dev/console, and /init.
 * Written in TS so no `cpio` tool is needed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  name: string;
  /** File type and permission bits (0o100755 a file, 0o040755 a directory, 0o020600 a char device, 0o120777 a symlink). */
  mode: number;
  /** File contents, or a symlink's target. */
  data?: Uint8Array;
  /** For device nodes. */
  rdev?: [major: number, minor: number];
}

const NEWC_HEADER = 110;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** A cpio newc archive of `entries` (parents before children), ending with TRAILER!!!. */
export function cpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  const all = [...entries, { name: 'TRAILER!!!', mode: 0 }];
  all.forEach((e, i) => {
    const data = e.data ?? new Uint8Array(0);
    const name = enc.encode(`${e.name}\0`);
    // buffer-format.rst: magic 070701, then 13 eight-digit hex fields; name and data each padded to 4.
    const fields = [i + 1, e.mode, 0, 0, 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
    const header = enc.encode(`070701${fields.map(hex8).join('')}`);
    parts.push(header, name, new Uint8Array(pad4(NEWC_HEADER + name.length)), data, new Uint8Array(pad4(data.length)));
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The newest Debian kernel in /boot with its modules, or why there is none. */
export function findKernel(): { vmlinuz: string; release: string } | string {
  if (!existsSync('/boot')) return '/boot is absent';
  const images = readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).sort();
  for (const image of images.reverse()) {
    const release = image.slice('vmlinuz-'.length);
    if (existsSync(`/lib/modules/${release}/modules.dep`)) return { vmlinuz: `/boot/${image}`, release };
  }
  return 'no /boot/vmlinuz-* with its modules (apt-get install -y linux-image-cloud-amd64)';
}

/**
 * The module files (paths under /lib/modules/RELEASE, in load order: dependencies first) that
 * `names` need, or [] for one built into the kernel. Throws naming a module that is neither.
 */
export function moduleClosure(release: string, names: readonly string[]): string[] {
  const root = `/lib/modules/${release}`;
  const builtin = new Set(
    readFileSync(`${root}/modules.builtin`, 'utf8')
      .split('\n')
      .map((l) => l.split('/').pop()!.replace(/\.ko$/, '')),
  );
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of readFileSync(`${root}/modules.dep`, 'utf8').split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m === null) continue;
    const name = m[1]!.split('/').pop()!.replace(/\.ko(\.xz|\.zst|\.gz)?$/, '').replace(/-/g, '_');
    deps.set(name, { path: m[1]!, deps: m[2]!.split(/\s+/).filter(Boolean) });
  }
  const byPath = new Map([...deps.values()].map((d) => [d.path, d]));
  const order: string[] = [];
  const visit = (path: string): void => {
    if (order.includes(path)) return;
    for (const d of byPath.get(path)?.deps ?? []) visit(d);
    order.push(path);
  };
  for (const n of names) {
    const key = n.replace(/-/g, '_');
    if (builtin.has(key) || builtin.has(n)) continue;
    const d = deps.get(key);
    if (d === undefined) throw new Error(`module ${n} is neither built into ${release} nor in its modules.dep`);
    visit(d.path);
  }
  return order.map((p) => `${root}/${p}`);
}

/** The files a program needs: itself and, when dynamically linked, what ldd lists. */
function programFiles(path: string): string[] {
  let out = '';
  try {
    out = execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [path]; // "not a dynamic executable": a static busybox
  }
  const libs = [...out.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
  return [path, ...libs];
}

export interface InitramfsOptions {
  busybox: string;
  /** Module files to copy to /modules (load order), from moduleClosure. */
  modules: readonly string[];
  /** The /init script (run by busybox sh), after `#!/bin/sh`. */
  init: string;
  /** More executable scripts by path (e.g. a udhcpc script), each after `#!/bin/sh`. */
  scripts?: Record<string, string>;
}

/** A gzip-compressed newc initramfs: busybox at /bin/busybox with /bin/sh, libraries, /modules, /dev/console, /init. */
export function buildInitramfs(o: InitramfsOptions): Uint8Array {
  const enc = new TextEncoder();
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  const dir = (d: string): void => {
    const parts = d.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!dirs.has(p)) {
        dirs.add(p);
        entries.push({ name: p, mode: 0o040755 });
      }
    }
  };
  for (const d of ['bin', 'sbin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'modules']) dir(d);
  const [bb, ...libs] = programFiles(o.busybox);
  entries.push({ name: 'bin/busybox', mode: 0o100755, data: readFileSync(bb!) });
  entries.push({ name: 'bin/sh', mode: 0o120777, data: enc.encode('busybox') });
  for (const lib of libs) {
    const name = lib.replace(/^\//, '');
    dir(name.slice(0, name.lastIndexOf('/')));
    entries.push({ name, mode: 0o100755, data: readFileSync(lib) });
  }
  for (const m of o.modules) entries.push({ name: `modules/${m.split('/').pop()}`, mode: 0o100644, data: readFileSync(m) });
  // Without /dev/console the kernel runs /init with no stdout ("unable to open an initial console").
  entries.push({ name: 'dev/console', mode: 0o020600, rdev: [5, 1] });
  entries.push({ name: 'init', mode: 0o100755, data: enc.encode(`#!/bin/sh\n${o.init}`) });
  for (const [path, text] of Object.entries(o.scripts ?? {})) {
    const name = path.replace(/^\//, '');
    if (name.includes('/')) dir(name.slice(0, name.lastIndexOf('/')));
    entries.push({ name, mode: 0o100755, data: enc.encode(`#!/bin/sh\n${text}`) });
  }
  return gzipSync(cpioNewc(entries), { level: 1 });
}
