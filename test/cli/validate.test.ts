/**
 * `kuroko validate` across files (cues against the nodes' hardware profiles), the id-pattern
 * messages, and `kuroko demo --once` failing with a summary when a node rejected a cue.
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kurokoHere, ROOT } from './run-cli.ts';
import { summarise, describeOnce } from '../../hub/perform-once.ts';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const SIM = `${ROOT}firmware-config/profiles/sim-robot.yaml`;

describe('kuroko validate against hardware profiles', () => {
  it('names every cue the node could not perform as written, at its line, with the fix', async () => {
    const file = fixture('hardware-show.yaml');
    const r = await kurokoHere(['validate', file]);
    expect(r.code).toBe(1);
    const err = r.stderr;
    expect(err).toMatch(new RegExp(`${file}:6:\\d+ cast\\[0\\]\\.gestures\\.think: node "alice" .* has no gesture "ponder" \\(it has: nod, shake, point, think\\)`));
    expect(err).toMatch(/:13:\d+ scenes\[0\]\.cues\[0\]\.servos\.head-pan: servo "head-pan" .* turns 30\.\.150°, not 400°: the node would clamp it to 150°; use an angle within 30\.\.150/);
    expect(err).toMatch(/:14:\d+ scenes\[0\]\.cues\[1\]\.servos\.tail: .* has no servo "tail" \(it has: head-pan, head-tilt, jaw, arm\)/);
    expect(err).toMatch(/:14:\d+ scenes\[0\]\.cues\[1\]\.motors\.left-wheel: .* runs at most ±0\.6, not 0\.9/);
    expect(err).toMatch(/:15:\d+ scenes\[0\]\.cues\[2\]\.duration: servo "arm" .* would move 10→170° in 0\.2 s, faster than its maxSpeed 150°\/s .*make duration at least 1\.6/);
    expect(err).toMatch(/:16:\d+ scenes\[0\]\.cues\[3\]\.gesture: .* has no gesture "wave"/);
    expect(err).toMatch(/:17:\d+ scenes\[0\]\.cues\[4\]\.led: .* has no LED "mouth" \(it has: eyes\)/);
  });

  it('passes the sample shows against the demo robot, and says which nodes it could not check', async () => {
    const ok = await kurokoHere(['validate', `${ROOT}hub/shows/blade.yaml`, `${ROOT}hub/shows/twelve.yaml`, '--profile', SIM]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('4 of 4 nodes checked against their hardware profiles');
    const none = await kurokoHere(['validate', `${ROOT}hub/shows/blade.yaml`]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('not checked against hardware (no profile): kenzaki, tachibana, aikawa, mutsuki');
  });

  it('finds profiles in a folder by node id and refuses one that belongs to another node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-profiles-'));
    copyFileSync(SIM, join(dir, 'kenzaki.yaml'));
    const r = await kurokoHere(['validate', `${ROOT}hub/shows/blade.yaml`, '--profiles', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 of 4 nodes checked');
    expect(r.stdout).toContain('not checked against hardware (no profile): tachibana, aikawa, mutsuki');
    // A profile pinned to another node is not taken for this one.
    writeFileSync(join(dir, 'kenzaki.yaml'), readFileSync(SIM, 'utf8').replace('kuroko: 1', 'kuroko: 1\nnode: someone-else'));
    const wrong = await kurokoHere(['validate', `${ROOT}hub/shows/blade.yaml`, '--profiles', dir]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('is the profile of node "someone-else", not of "kenzaki" (cast entry "kenzaki")');
    const missing = await kurokoHere(['validate', `${ROOT}hub/shows/blade.yaml`, '--profiles', '/nonexistent-dir']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--profiles /nonexistent-dir: cannot read the folder (it does not exist)');
  });

  it('shows the bad value in an id-pattern error', async () => {
    const r = await kurokoHere(['validate', fixture('bad-ids.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('show: "Bad_Show" does not match');
    expect(r.stderr).toContain('scenes[0].id: "Big Scene" does not match');
    expect(r.stderr).not.toContain('undefined');
  });
});

describe('--once', () => {
  it('fails when no line was performed, and says so', () => {
    const r = summarise(true, 0, []);
    expect(r.failures).toEqual(['no line was performed']);
    expect(describeOnce(r)[0]).toMatch(/^FAILED: no line was performed/);
    expect(summarise(true, 3, []).failures).toEqual([]);
  });

  it('kuroko demo --once exits 1 with a summary when a node rejected a cue', async () => {
    const show = fixture('rejected-cue.yaml');
    // A private network namespace: the demo's embedded broker listens on every interface there, only its own loopback.
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      // In a folder of its own: the demo journals under ./var/journal, and a hub restores the last journal it finds there.
      execFile('unshare', ['-rn', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" "${join(ROOT, 'bin/kuroko.js')}" demo --once --no-node-model --wait-nodes 140 --show "${show}" --port 0 --http-port 0`],
        { cwd: mkdtempSync(join(tmpdir(), 'kuroko-once-')), timeout: 200000 }, (err, stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, out: stdout + stderr }));
    });
    expect(r.out).toContain('Hello.');
    expect(r.out).toMatch(/FAILED: 1 cue was rejected, failed or skipped \(1 lines performed\)/);
    expect(r.out).toMatch(/cue-rejected +one\/m1 on bob: .*no servo "tail"/);
    expect(r.out).toContain(`kuroko validate ${show} --profiles DIR`);
    expect(r.code).toBe(1);
  }, 210000);
});
