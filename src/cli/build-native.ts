/**
 * `synack build-native`: build the TUN addon (native/tun.c, with node-gyp) into the package's
 * native/build/. The package has no install script (npm 11 asks users to allow those, and only
 * `synack tun` and `synack/tun` need the addon): it is built by this command, or by the first
 * `synack tun` that finds it missing (`ensureTunAddon`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addonPath, loadTunAddon, nativeDir, TunUnavailableError } from '../link/tun.js';

const USAGE = `usage: synack build-native

Build the TUN addon that \`synack tun\` and the synack/tun entry use (Linux; needs a C compiler,
python3, node-gyp (npm ships one) and the Node headers). Writes native/build/Release/synack_tun.node
in the synack package. \`synack tun\` runs this by itself the first time it needs the addon.`;

/** Run native/build.mjs (node-gyp configure + build); returns its exit status. */
export function buildNative(opts: { quiet?: boolean } = {}): number {
  const script = join(nativeDir(), 'build.mjs');
  if (!existsSync(script)) {
    console.error(`synack build-native: ${script} is missing (a synack package without native/?)`);
    return 1;
  }
  const r = spawnSync(process.execPath, [script, '--strict'], { stdio: opts.quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.error) {
    console.error(`synack build-native: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

/**
 * Make sure the addon is loadable, building it first if it is only missing (not on another OS,
 * not a load failure). Throws the TunUnavailableError that says why when it still cannot load.
 */
export function ensureTunAddon(): void {
  try {
    loadTunAddon();
    return;
  } catch (e) {
    if (!(e instanceof TunUnavailableError) || e.code !== 'ENOADDON' || existsSync(addonPath())) throw e;
  }
  console.error('synack: building the TUN addon (first use; `synack build-native` does this alone)...');
  buildNative({ quiet: true });
  loadTunAddon();
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    console.error(`synack build-native: unexpected argument '${argv[0]}'\n\n${USAGE}`);
    return 2;
  }
  return buildNative();
}
