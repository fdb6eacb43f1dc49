/**
 * A hub for the fleet benchmark, as its own process (so its CPU and memory are its own): the
 * real Hub on an external broker, with a generated cast of N nodes (a show file allows 12; a
 * venue with 200 robots runs several shows on one broker, and the hub's per-node work is the same).
 *   node bin/run-ts.js test/bench/fleet-hub.ts N BROKER_URL
 */
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import type { ShowT } from '../../hub/show/schema.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const n = Number(process.argv[2]);
const broker = process.argv[3]!;
const cast = Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, name: `N${i + 1}`, node: `n${i + 1}` }));
const show: ShowT = { kuroko: 1, show: 'fleet', title: 'fleet bench', cast, scenes: [{ id: 's', cues: [{ id: 'c', kind: 'wait', duration: 0 }] }] };
const hub = new Hub({ show, brokerUrl: broker, logger: pino({ level: 'silent' }), journalDir: mkdtempSync(join(tmpdir(), 'kuroko-fleet-bench-')) });
await hub.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => { void hub.stop().then(() => process.exit(0)); });
