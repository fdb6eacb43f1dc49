/**
 * The hub's e-stop ledger: the epoch grows across hub starts (persisted atomically), every e-stop
 * and release is stamped, and a stale retained release cannot clear a standing e-stop.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EstopLedger } from '../../hub/estop-ledger.ts';
import { compareStamps, type EstopT } from '../../protocol/index.ts';

const msg = (active: boolean, stamp?: { epoch: number; seq: number }): EstopT => ({ v: 1, active, source: 'console', ...(stamp ? { stamp } : {}), ts: 0 });

describe('the e-stop ledger', () => {
  it('grows the epoch on every open, and never below a journaled stamp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-ledger-'));
    expect(new EstopLedger(dir, 'show').epoch).toBe(1);
    expect(new EstopLedger(dir, 'show').epoch).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'show.epoch'), 'utf8')).epoch).toBe(2);
    // The epoch file lost (say, restored from an old backup): the journal's stamp still wins.
    rmSync(join(dir, 'show.epoch'));
    const l = new EstopLedger(dir, 'show', { active: true, stamp: { epoch: 7, seq: 3 }, source: 'console' });
    expect(l.epoch).toBe(8);
    expect(l.active).toBe(true);
    expect(new EstopLedger(dir, 'other').epoch).toBe(1);
  });

  it('stamps in order; ignores its own echoes; refuses retained and older releases; obeys any e-stop', () => {
    const l = new EstopLedger(mkdtempSync(join(tmpdir(), 'kuroko-ledger-')), 'show');
    const release = l.issue(false, 'console');
    const estop = l.issue(true, 'console', 'smoke');
    expect(compareStamps(estop.stamp, release.stamp)).toBeGreaterThan(0);
    expect(l.judge(msg(true, estop.stamp), false)).toEqual({ kind: 'echo' });
    // The broker crashed before saving the e-stop and serves the older release, retained.
    expect(l.judge(msg(false, release.stamp), true)).toMatchObject({ kind: 'stale', why: expect.stringMatching(/retained release/) });
    expect(l.judge(msg(false, release.stamp), false)).toMatchObject({ kind: 'stale', why: expect.stringMatching(/not newer/) });
    expect(l.judge(msg(false), false)).toMatchObject({ kind: 'stale' });
    expect(l.active).toBe(true);
    // A live release newer than the e-stop (another console of the same show, say) is believed.
    expect(l.judge(msg(false, { epoch: l.epoch, seq: 99 }), false)).toMatchObject({ kind: 'release' });
    expect(l.active).toBe(false);
    // An e-stop from anywhere, stamped or not, is obeyed, and keeps the newest stamp.
    const v = l.judge(msg(true), false);
    expect(v).toMatchObject({ kind: 'engage', record: { active: true, stamp: { epoch: l.epoch, seq: 99 } } });
    expect(l.active).toBe(true);
  });
});

describe('the e-stop ledger, echoes and a hub not started', () => {
  it('takes its own e-stop, echoing back after its release, as an echo: the release stands', () => {
    const l = new EstopLedger(mkdtempSync(join(tmpdir(), 'kuroko-ledger-')), 'show');
    const estop = l.issue(true, 'console', 'smoke');
    l.issue(false, 'console');
    expect(l.judge(msg(true, estop.stamp), false)).toEqual({ kind: 'echo' });
    expect(l.active).toBe(false);
    // An e-stop newer than the release is obeyed at once.
    expect(l.judge(msg(true, { epoch: l.epoch, seq: 99 }), false)).toMatchObject({ kind: 'engage' });
    expect(l.active).toBe(true);
  });

  it('stamps e-stops in memory before the hub has a journal folder (stopping never waits for a start)', () => {
    const l = new EstopLedger(null, 'show');
    expect(l.issue(true, 'page').stamp).toEqual({ epoch: 1, seq: 1 });
    expect(l.active).toBe(true);
  });

  it('a new hub (fresh journal folder) moves its epoch above the stamps its nodes have seen, so its release is newer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-ledger-'));
    const l = new EstopLedger(dir, 'show');
    expect(l.epoch).toBe(1);
    // A node latched by another hub's e-stop and release (1.2): stamps (1, 1) and (1, 2) would be refused by it.
    expect(l.observe({ epoch: 1, seq: 2 })).toBe(true);
    expect(l.epoch).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'show.epoch'), 'utf8')).epoch).toBe(2);
    const estop = l.issue(true, 'console');
    const release = l.issue(false, 'console');
    expect(compareStamps(estop.stamp, { epoch: 1, seq: 2 })).toBeGreaterThan(0);
    expect(compareStamps(release.stamp, estop.stamp)).toBeGreaterThan(0);
    // Its own stamps, older ones, and nothing at all leave the epoch alone.
    expect(l.observe(release.stamp)).toBe(false);
    expect(l.observe({ epoch: 1, seq: 50 })).toBe(false);
    expect(l.observe(undefined)).toBe(false);
    expect(l.epoch).toBe(2);
    // Reopened, it keeps growing from the moved epoch.
    expect(new EstopLedger(dir, 'show').epoch).toBe(3);
  });
});
