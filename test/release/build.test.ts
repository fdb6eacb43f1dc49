/**
 * `npm run build`: dist/ holds JS + source maps for every source and the run-time files beside
 * them, and the compiled CLI runs with tsx made unloadable. Builds into var/ (not dist/), so other
 * test processes running `kuroko` are never disturbed.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/stage.ts';

let out: string;
const BLOCK = join(ROOT, 'test/release/block-tsx.mjs');
const BLOCK_AJV = join(ROOT, 'test/release/block-ajv-compiler.mjs');
const compiled = (args: string[]) => spawnSync(process.execPath, ['--import', BLOCK, join(out, 'bin/kuroko.js'), ...args], { encoding: 'utf8', cwd: ROOT });

beforeAll(() => {
  mkdirSync(join(ROOT, 'var'), { recursive: true });
  out = join(mkdtempSync(join(ROOT, 'var', 'test-build-')), 'dist');
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/build.js'), '--out', out], { encoding: 'utf8' });
  expect(r.status, r.stderr + r.stdout).toBe(0);
});
afterAll(() => rmSync(join(out, '..'), { recursive: true, force: true }));

describe('compiled build', () => {
  it('emits JS with source maps and rewritten imports, and copies run-time files', () => {
    const cli = readFileSync(join(out, 'bin/cli.js'), 'utf8');
    expect(cli).toContain("import('../hub/demo.js')");
    expect(cli).not.toMatch(/from '[^']+\.ts'/);
    expect(existsSync(join(out, 'bin/cli.js.map'))).toBe(true);
    expect(existsSync(join(out, 'edge/node.js'))).toBe(true);
    for (const f of ['hub/web/public/index.html', 'hub/shows/blade.yaml', 'firmware-config/profiles/sim-robot.yaml',
      'firmware-config/firmware/VERSION', 'models/kuroko-tiny/onnx/model_int8.onnx', 'models/kuroko-tiny/tokenizer.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const info = JSON.parse(readFileSync(join(out, 'build-info.json'), 'utf8'));
    expect(info.sources).toContain('edge/node.ts');
  });

  it('the compiled CLI runs with tsx unloadable', () => {
    const v = compiled(['validate', 'hub/shows/blade.yaml', 'firmware-config/profiles/sim-robot.yaml']);
    expect(v.stderr).toBe('');
    expect(v.stdout).toMatch(/ok +hub\/shows\/blade.yaml: show blade/);
    expect(v.status).toBe(0);
    const e = compiled(['edge', '--show', 'blade']);
    expect(e.stderr).toMatch(/--node is required/);
    expect(e.status).toBe(2);
    // the guard itself works: the tsx path is refused under it
    const t = spawnSync(process.execPath, ['--import', BLOCK, join(ROOT, 'bin/kuroko.js'), 'version'], { encoding: 'utf8', env: { ...process.env, KUROKO_RUNTIME: 'tsx' } });
    expect(t.status).not.toBe(0);
    expect(t.stderr).toMatch(/tsx was loaded/);
  });

  it('compiled processes check profiles, shows and payloads with the precompiled validators, never loading Ajv\'s compiler', () => {
    for (const f of ['protocol/precompiled-payload-validators.cjs', 'protocol/precompiled-document-validators.cjs']) expect(existsSync(join(out, f)), f).toBe(true);
    const v = spawnSync(process.execPath, ['--import', BLOCK_AJV, join(out, 'bin/kuroko.js'), 'validate', 'hub/shows/blade.yaml', 'firmware-config/profiles/sim-robot.yaml'], { encoding: 'utf8', cwd: ROOT });
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    // A broken profile is still refused with its line and field.
    const bad = spawnSync(process.execPath, ['--import', BLOCK_AJV, join(out, 'bin/kuroko.js'), 'validate', 'test/release/fixtures/bad-profile.yaml'], { encoding: 'utf8', cwd: ROOT });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/bad-profile\.yaml:\d+:\d+ .*servos\[0\]/);
    expect(bad.stdout + bad.stderr).not.toMatch(/compiler was loaded/);
    // Every contract payload validator, as a node compiles them at start, then a cue refused with its reason.
    const script = `const c = await import(${JSON.stringify(join(out, 'protocol/codec.js'))}); c.precompileValidators();
      const r = c.decode('nodeCue', '{"v":1}'); console.log(JSON.stringify(r));`;
    const p = spawnSync(process.execPath, ['--import', BLOCK_AJV, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT });
    expect(p.stderr).toBe('');
    expect(JSON.parse(p.stdout)).toEqual({ ok: false, error: expect.stringMatching(/missing field/) });
    // The guard itself works: the run-time compiler is refused under it.
    const g = spawnSync(process.execPath, ['--import', BLOCK_AJV, '-e', "require('ajv')"], { encoding: 'utf8' });
    expect(g.stderr).toMatch(/compiler was loaded/);
  });
});
