import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadShow, parseShow, DocumentError } from '../../hub/show/load.ts';
import { KUROKO, ROOT } from '../helpers/stage.ts';

const blade = readFileSync(join(ROOT, 'hub/shows/blade.yaml'), 'utf8');

function problems(text: string): string[] {
  try {
    parseShow('show.yaml', text);
  } catch (e) {
    expect(e).toBeInstanceOf(DocumentError);
    return (e as DocumentError).problems;
  }
  throw new Error('expected the show to be refused');
}

describe('show loader', () => {
  it('loads the sample show', () => {
    const s = loadShow(join(ROOT, 'hub/shows/blade.yaml'));
    expect(s.cast.map((c) => c.id)).toEqual(['kenzaki', 'tachibana', 'aikawa', 'mutsuki']);
    expect(s.scenes.length).toBeGreaterThanOrEqual(3);
  });

  it('reports a YAML syntax error with its line', () => {
    const p = problems('kuroko: 1\nshow: x\ntitle: [unclosed\n');
    expect(p[0]).toMatch(/^show\.yaml:\d+:\d+ YAML syntax/);
  });

  it('names the file, line and field of a wrong value', () => {
    const text = blade.replace('kind: gesture, character: aikawa', 'kind: dance, character: aikawa');
    const p = problems(text);
    const line = blade.split('\n').findIndex((l) => l.includes('kind: gesture, character: aikawa')) + 1;
    expect(p.some((x) => x.startsWith(`show.yaml:${line}:`) && x.includes('scenes[0].cues[5].kind'))).toBe(true);
  });

  it('refuses an unknown field, naming it', () => {
    const p = problems(blade.replace('title: The Council at Dusk', 'title: The Council at Dusk\ntitel: typo'));
    expect(p.join('\n')).toMatch(/unknown field "titel"/);
  });

  it('refuses a cast of fewer than 4 characters', () => {
    const doc = { kuroko: 1, show: 'tiny', title: 'Tiny', cast: [{ id: 'a', name: 'A', node: 'a' }], scenes: [{ id: 's', cues: [{ id: 'c', kind: 'wait', duration: 1 }] }] };
    expect(problems(JSON.stringify(doc)).join('\n')).toMatch(/cast: must NOT have fewer than 4 items/);
  });

  it('refuses a reference to someone not in the cast, and a line without text', () => {
    const p = problems(blade.replace('character: kenzaki, text: "Four hours', 'character: nobody, text: "Four hours')
      .replace('{ id: r3, kind: line, character: tachibana, text: "I can live with those odds.",', '{ id: r3, kind: line, character: tachibana,'));
    expect(p.join('\n')).toMatch(/"nobody" is not in the cast/);
    expect(p.join('\n')).toMatch(/a line cue needs "text"/);
  });

  it('refuses duplicate cue ids and two characters on one node', () => {
    const p = problems(blade.replace('{ id: p2,', '{ id: p1,').replace('node: tachibana', 'node: kenzaki'));
    expect(p.join('\n')).toMatch(/cue "p1" appears twice/);
    expect(p.join('\n')).toMatch(/node "kenzaki" is already bound/);
  });

  it('kuroko validate exits 0 on good files and 1 with the errors on a broken one', () => {
    const ok = spawnSync(process.execPath, [KUROKO, 'validate', join(ROOT, 'hub/shows/blade.yaml'), join(ROOT, 'firmware-config/profiles/sim-robot.yaml')], { encoding: 'utf8' });
    expect(ok.stdout).toMatch(/ok .*blade\.yaml: show blade, 4 characters/);
    expect(ok.status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-'));
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, blade.replace('kind: wait, duration: 0.5', 'kind: wait'));
    const bad = spawnSync(process.execPath, [KUROKO, 'validate', broken], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/broken\.yaml:\d+:\d+ scenes\[2\]\.cues\[3\]: a wait cue needs "duration"/);
  });

  it('the CLI refuses an unknown flag with a clear message', () => {
    const r = spawnSync(process.execPath, [KUROKO, 'hub', '--shwo', 'x.yaml'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option --shwo \(see kuroko hub --help\)/);
    expect(execFileSync(process.execPath, [KUROKO, 'demo', '--help'], { encoding: 'utf8' })).toMatch(/--once/);
  });
});
