import { parseArgs } from 'node:util';
import { SCENARIOS, runScenario } from '../demo/scenarios.js';
import { renderLadder } from '../viz/ladder.js';

const HELP = `usage: synack demo [SCENARIO] [options]

Runs a TCP scenario on the simulated network (virtual time, no root) and prints its ladder diagram.
With no scenario, lists them.

options:
  --seed N      PRNG seed (default 1); the same seed gives the same run, byte for byte
  --json        print the run as one JSON object instead of the ladder
  --loss P      loss probability on the client-server link, 0..1 (default 0)
  --delay MS    one-way delay in milliseconds (default 10)
  --absolute    ladder with absolute sequence numbers
  --ascii       ladder with ASCII arrows only`;

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: 'string' },
        json: { type: 'boolean' },
        loss: { type: 'string' },
        delay: { type: 'string' },
        absolute: { type: 'boolean' },
        ascii: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const name = positionals[0];
  if (name === undefined) {
    console.log('scenarios (run: synack demo NAME):');
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(19)} ${s.line}`);
    return 0;
  }
  const num = (k: string, def: number): number => {
    const v = values[k];
    if (v === undefined) return def;
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new RangeError(`--${k} must be a number, got '${String(v)}'`);
    return n;
  };
  let res;
  try {
    const seed = num('seed', 1);
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got '${String(values.seed)}'`);
    res = runScenario(name, { seed, loss: num('loss', 0), delayMs: num('delay', 10) });
  } catch (e) {
    console.error(`synack demo: ${(e as Error).message}`);
    return 2;
  }
  if (values.json) console.log(JSON.stringify(res));
  else console.log(renderLadder(res, { absolute: values.absolute === true, ascii: values.ascii === true }));
  return 0;
}
