/**
 * The API reference (typedoc.json → docs/api, `npm run docs`) is complete: typedoc runs with
 * `treatWarningsAsErrors` and its validation on (an export without a TSDoc comment, a type the
 * public API uses but no entry exports, a `{@link}` to nothing all fail it), and every relative
 * link in the generated pages leads to a generated page. A small fixture shows the same settings
 * do fail on an undocumented export and on a broken link. Skips when typedoc is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TYPEDOC = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
const skip = existsSync(TYPEDOC) ? false : 'typedoc is not installed (npm install)';
if (skip) console.log(`# api docs tests skipped: ${skip}`);

function typedoc(args: string[], cwd = ROOT): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [TYPEDOC, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function pages(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...pages(p));
    else if (e.name.endsWith('.html')) out.push(p);
  }
  return out;
}

test('the API reference builds with no undocumented export, no unexported type and no broken link', { skip, timeout: 240_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'synack-api-'));
  try {
    const r = typedoc(['--out', out]);
    assert.equal(r.status, 0, `typedoc failed:\n${r.output}`);
    assert.doesNotMatch(r.output, /\[warning\]/);
    const html = pages(out);
    const names = ['SimWorld', 'TcpSocketStream', 'connectStream', 'NodeDriver', 'createNet', 'openTun', 'configureTun'];
    for (const n of names) assert.ok(html.some((p) => p.includes(`.${n}.html`)), `the reference has a page for ${n}`);
    let links = 0;
    for (const page of html) {
      for (const m of readFileSync(page, 'utf8').matchAll(/href="([^"#:?]+)(?:#[^"]*)?"/g)) {
        const target = join(dirname(page), decodeURIComponent(m[1]!));
        links++;
        assert.ok(existsSync(target), `${relative(out, page)} links to a missing ${m[1]}`);
      }
    }
    console.log(`# api reference: ${html.length} pages, ${links} relative links, all resolved`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the same typedoc settings fail on an undocumented export and on a broken {@link}', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-api-fixture-'));
  try {
    const settings = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as Record<string, unknown>;
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022', noEmit: true }, include: ['src'] }));
    const cases: [string, string, RegExp][] = [
      ['undocumented', '/** Documented. */\nexport const a = 1;\nexport function undocumentedOne(): number { return 2; }\n', /undocumentedOne.*does not have any documentation/],
      ['broken link', '/** See {@link nothingHere}. */\nexport const b = 1;\n', /nothingHere/],
    ];
    for (const [what, source, expected] of cases) {
      writeFileSync(join(dir, 'src', 'index.ts'), source);
      writeFileSync(join(dir, 'typedoc.json'), JSON.stringify({ ...settings, entryPoints: ['src/index.ts'], tsconfig: 'tsconfig.json', intentionallyNotExported: [], out: join(dir, 'out') }));
      const r = typedoc([], dir);
      assert.notEqual(r.status, 0, `${what}: typedoc must fail`);
      assert.match(r.output, expected, `${what}: typedoc says why`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
