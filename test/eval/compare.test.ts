/**
 * `npm run eval -- --backend a,b`: each backend's eval runs in its own process and writes its
 * figures with --json; the table is built from those files. Here the real eval (mock backend, one
 * scenario, twice) writes them and the table is read back: the shape the eval writes is the shape
 * the table reads (a change to one without the other crashed the comparison once).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatComparison, type EvalJson } from './compare.ts';
import { ROOT } from '../helpers/stage.ts';

describe('the eval side by side', () => {
  it('reads what the eval writes, with emotion F1 per language', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-eval-test-'));
    const results = [1, 2].map((seed) => {
      const file = join(dir, `mock-${seed}.json`);
      execFileSync(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'test/eval/run-eval.ts'), '--backend', 'mock', '--scenario', 'watashi-ja', '--seeds', String(seed), '--json', file], { stdio: 'ignore' });
      return JSON.parse(readFileSync(file, 'utf8')) as EvalJson;
    });
    const table = formatComparison(results).split('\n').filter((l) => l.trim());
    expect(table[1]).toMatch(/^backend +turns +struct@1 +content@1 .* emotion F1 en +emotion F1 ja$/);
    const rows = table.slice(3);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatch(/^mock +\d+ +0\.0% +\d+\.\d% +\d+ +\d+\/\d+ .* \d\.\d{3} +\d\.\d{3}$/);
  }, 60_000);
});
