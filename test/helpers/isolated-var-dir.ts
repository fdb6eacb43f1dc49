/**
 * Each test file (and each benchmark run) gets its own node var dir (where edge nodes keep their e-stop latch), inherited
 * by the node processes it starts: an e-stop latched by one file's nodes must not leave another
 * file's nodes, with the same show and node ids, e-stopped.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.KUROKO_VAR_DIR = mkdtempSync(join(tmpdir(), 'kuroko-var-'));
