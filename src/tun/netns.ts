/**
 * Network-namespace helpers for interop tests and benchmarks: every test makes its own namespace
 * (`ip netns add`), runs the kernel-side programs in it (`ip netns exec`), creates synack's TUN
 * device inside it (openTun({ netns })) and deletes it afterwards, also on failure. Nothing here
 * touches the host's own interfaces.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why namespaces cannot be used here, or null. */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'ip netns needs root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return "the 'ip' command (iproute2) with netns support is not available";
  }
  return null;
}

let counter = 0;

/** A fresh, unique namespace name (short: interface names are ≤ 15 bytes). */
export function uniqueName(prefix = 'sk'): string {
  counter++;
  return `${prefix}${process.pid % 100000}x${counter}`;
}

export class Netns {
  private deleted = false;
  private readonly children = new Set<ChildProcess>();

  private constructor(readonly name: string) {}

  /** `ip netns add NAME` and bring its loopback up. */
  static create(name = uniqueName()): Netns {
    execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ns = new Netns(name);
    live.add(ns);
    try {
      ns.ip('link', 'set', 'lo', 'up');
    } catch (e) {
      ns.delete();
      throw e;
    }
    return ns;
  }

  get path(): string {
    return `/run/netns/${this.name}`;
  }

  /** `ip -n NAME args...`; throws with ip's message. */
  ip(...args: string[]): string {
    try {
      return execFileSync('ip', ['-n', this.name, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`ip -n ${this.name} ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
    }
  }

  /** Run a command inside the namespace and return its stdout (throws on a non-zero exit). */
  exec(cmd: string, args: string[], opts: { timeout?: number; input?: string } = {}): string {
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeout ?? 60_000,
      input: opts.input,
      maxBuffer: 256 * 1024 * 1024,
    });
  }

  /** Start a command inside the namespace; it is killed when the namespace is deleted. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Run a command in the namespace asynchronously; resolves with its exit status and output. */
  run(cmd: string, args: string[], opts: { timeout?: number; stdin?: Uint8Array | string; binary?: boolean } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(cmd, args, { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d: Buffer) => err.push(d));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
      });
      if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    });
  }

  /** Kill what we started in it and `ip netns del` it (idempotent, never throws). */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    live.delete(this);
    for (const c of this.children) {
      try {
        // `ip netns exec` execs the command, so the pid is the program's own.
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }

  exists(): boolean {
    return existsSync(this.path);
  }
}

/** Namespaces not yet deleted: removed on process exit even if a test forgot. */
const live = new Set<Netns>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const ns of [...live]) ns.delete();
  });
}
hookExit();

/** Make a namespace, run `fn` in it, always delete it. */
export async function withNetns<T>(fn: (ns: Netns) => Promise<T> | T, name?: string): Promise<T> {
  const ns = Netns.create(name);
  try {
    return await fn(ns);
  } finally {
    ns.delete();
  }
}
