/**
 * Messages and help a newcomer meets: an unknown flag points to the command's --help, flash's help
 * is complete, the README's emulated-Uno recipe flashes for real, pattern errors show the bad
 * value, and srt-import --cast-from-speakers turns any "Speaker: text" SRT into a show.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kurokoHere } from './run-cli.ts';
import { decode } from '../../protocol/codec.ts';
import { loadShow } from '../../hub/show/load.ts';
import { buildSimulator } from '../../firmware-config/build-tools.ts';
import { waitFor } from '../helpers/wait.ts';

describe('unknown flags and help', () => {
  it.each(['demo', 'hub', 'edge', 'validate', 'srt', 'flash', 'ensemble', 'card'])('kuroko %s --bogus points to its --help', async (cmd) => {
    const r = await kurokoHere([cmd, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`kuroko ${cmd}: unknown option --bogus (see kuroko ${cmd} --help)`);
  });

  it('kuroko flash --help lists every option, with examples including the emulated board', async () => {
    const r = await kurokoHere(['flash', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--node', '--profile', '--board-id', '--port', '--board', '--hex', '--upload-baud', '--attempts', '--no-check', '--help']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('kuroko-avr-sim --bootloader firmware-config/simavr/build/optiboot_atmega328.hex --link /tmp/kuroko-uno');
    expect(r.stdout).toContain('kuroko flash --port /tmp/kuroko-uno --board uno');
  });

  it('a node without a profile is told how to make one', async () => {
    const r = await kurokoHere(['flash', '--node', 'kenzaki']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no profile for node "kenzaki".*give --profile FILE \(a copy of profiles\/sample-robot\.yaml with node: kenzaki/);
  });

  it('a pattern error on the wire shows the bad value', () => {
    const r = decode('consoleSceneStart', '{"scene":"Bad Scene"}');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('"Bad Scene" does not match');
  });
});

describe('the README recipe: start the emulated Uno, flash it', () => {
  it('flashes the emulated Uno through its --link path exactly as the README shows', async () => {
    const { sim, optiboot } = buildSimulator();
    const link = join(mkdtempSync(join(tmpdir(), 'kuroko-uno-')), 'kuroko-uno');
    // stdin stays open (as in a terminal): the emulator runs until it closes.
    const emu = spawn(sim, ['--bootloader', optiboot, '--link', link], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await waitFor('the emulator to link its pty', () => existsSync(link), 15000);
      const r = await kurokoHere(['flash', '--port', link, '--board', 'uno']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/bytes of flash verified/);
      expect(r.stdout).toMatch(/board answers: Kuroko \d+\.\d+/);
    } finally {
      emu.stdin.end();
      emu.kill('SIGTERM');
    }
  }, 120000);
});

describe('kuroko ensemble srt-import --cast-from-speakers', () => {
  const srt = (speakers: string[]) => speakers.map((s, i) => `${i + 1}\n00:00:${String(i * 2 + 1).padStart(2, '0')},000 --> 00:00:${String(i * 2 + 2).padStart(2, '0')},000\n${s}: Line ${i + 1}.\n`).join('\n');

  it('makes a show whose cast is the speakers, loadable as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-srt-'));
    writeFileSync(join(dir, 'The Play.srt'), srt(['Lady Macbeth', 'Macbeth', 'Lady Macbeth', '門番', 'Banquo']));
    const out = join(dir, 'play.yaml');
    const r = await kurokoHere(['ensemble', 'srt-import', join(dir, 'The Play.srt'), '--cast-from-speakers', '--scene', 'act-one', '--ids', 'Banquo=ghost', '-o', out]);
    expect(r.code).toBe(0);
    const show = loadShow(out);
    expect(show.show).toBe('the-play');
    expect(show.cast.map((c) => [c.id, c.name, c.node])).toEqual([
      ['lady-macbeth', 'Lady Macbeth', 'lady-macbeth'], ['macbeth', 'Macbeth', 'macbeth'], ['speaker-3', '門番', 'speaker-3'], ['ghost', 'Banquo', 'ghost'],
    ]);
    expect(show.scenes[0]!.cues.map((c) => c.character)).toEqual(['lady-macbeth', 'macbeth', 'lady-macbeth', 'speaker-3', 'ghost']);
    expect(readFileSync(out, 'utf8')).toMatch(/^# A show made from The Play\.srt/);
  });

  it('adds silent extras to a two-hander and refuses more than 12 speakers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-srt-'));
    writeFileSync(join(dir, 'duo.srt'), srt(['Ann', 'Bo']));
    const r = await kurokoHere(['ensemble', 'srt-import', join(dir, 'duo.srt'), '--cast-from-speakers', '--scene', 'one']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 silent extras added');
    expect(r.stdout).toContain('id: extra-2');
    writeFileSync(join(dir, 'crowd.srt'), srt(Array.from({ length: 13 }, (_, i) => `Person ${i + 1}`)));
    const crowd = await kurokoHere(['ensemble', 'srt-import', join(dir, 'crowd.srt'), '--cast-from-speakers', '--scene', 'one']);
    expect(crowd.code).toBe(1);
    expect(crowd.stderr).toContain('13 speakers');
    const both = await kurokoHere(['ensemble', 'srt-import', join(dir, 'duo.srt'), '--cast-from-speakers', '--show', 'x.yaml', '--scene', 'one']);
    expect(both.code).toBe(2);
    const badScene = await kurokoHere(['ensemble', 'srt-import', join(dir, 'duo.srt'), '--cast-from-speakers', '--scene', 'Act One']);
    expect(badScene.stderr).toContain('--scene "Act One" is not a valid id');
  });
});
