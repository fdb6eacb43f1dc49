/**
 * Runs the `kuroko` command as a user would: `kuroko()` as a real child process, `kurokoHere()` in
 * this process through the same dispatcher (bin/cli.ts runCommand), which is much faster on a
 * loaded machine and prints the same messages.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../bin/cli.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export interface CliResult { code: number; stdout: string; stderr: string }

export function kuroko(args: string[], cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [`${ROOT}bin/kuroko.js`, ...args], { cwd, encoding: 'utf8', timeout: 60000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function kurokoHere(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const log = console.log, error = console.error, warn = console.warn, write = process.stdout.write, writeErr = process.stderr.write;
  console.log = (...a: unknown[]) => { stdout += `${a.join(' ')}\n`; };
  console.error = console.warn = (...a: unknown[]) => { stderr += `${a.join(' ')}\n`; };
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += chunk.toString(); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += chunk.toString(); return true; }) as typeof process.stderr.write;
  try {
    const code = await runCommand(args);
    return { code, stdout, stderr };
  } finally {
    console.log = log; console.error = error; console.warn = warn; process.stdout.write = write; process.stderr.write = writeErr;
  }
}
