/**
 * The signed counter floor on disk: kept across a restart, written only when it moved, a damaged
 * or unreadable file reported (and the node starts from 0, never crashes).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CounterFloor } from '../../edge/counter-floor.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'kuroko-floor-'));

describe('the signed counter floor', () => {
  it('survives a restart; only a higher counter moves it', () => {
    const path = join(tmp(), 'edge', 'quick', 'ann', 'signed-counter.json');
    const errors: string[] = [];
    const first = new CounterFloor(path, (m) => errors.push(m), 60_000);
    expect(first.floor).toBe(0);
    first.flush();
    expect(existsSync(path)).toBe(false); // nothing accepted yet: nothing written
    first.accepted(1_000_000_005);
    first.accepted(1_000_000_003);
    first.close();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ v: 1, highest: 1_000_000_005 });
    const again = new CounterFloor(path, (m) => errors.push(m), 60_000);
    expect(again.floor).toBe(1_000_000_005);
    again.close();
    expect(errors).toEqual([]);
  });

  it('a damaged file or an unwritable place is reported, and the node goes on', () => {
    const dir = tmp();
    const path = join(dir, 'signed-counter.json');
    writeFileSync(path, '{"v":1,"highest":"lots"');
    const errors: string[] = [];
    const f = new CounterFloor(path, (m) => errors.push(m), 60_000);
    expect(f.floor).toBe(0);
    expect(errors[0]).toMatch(/damaged; starting from 0/);
    f.close();
    writeFileSync(join(dir, 'file'), 'x');
    const blocked = new CounterFloor(join(dir, 'file', 'signed-counter.json'), (m) => errors.push(m), 60_000);
    blocked.accepted(7);
    blocked.close();
    expect(errors.at(-1)).toMatch(/cannot keep the signed counter floor/);
  });
});
