/**
 * `npm run chaos`: the crash drills with real processes, on Mosquitto (with persistence) and on the
 * hub's embedded aedes broker, printed as one table. `--broker mosquitto|aedes` runs one;
 * `--drill TEXT` runs the drills whose name contains TEXT.
 */
import { parseArgs } from 'node:util';
import { World, type BrokerKind } from './world.ts';
import { PLANS, runDrill, formatTable, type DrillResult } from './drills.ts';

const { values } = parseArgs({ options: { broker: { type: 'string' }, drill: { type: 'string' } } });
const brokers: BrokerKind[] = values.broker ? [values.broker as BrokerKind] : ['mosquitto', 'aedes'];
const rows: DrillResult[] = [];
for (const kind of brokers) {
  const w = new World(kind);
  console.error(`== ${kind}: starting broker, hub and ${kind === 'aedes' ? 'nodes (the broker lives in the hub)' : 'nodes'}`);
  try {
    await w.start();
    for (const plan of PLANS.filter((p) => p.appliesTo.includes(kind) && (!values.drill || p.name.includes(values.drill)))) {
      console.error(`-- ${plan.name}`);
      try {
        const r = await runDrill(w, plan);
        rows.push(r);
        console.error(formatTable([r]).split('\n').slice(2).join('\n'));
      } catch (e) {
        rows.push({ drill: plan.name, broker: kind, timeToSafeMs: null, fromLastBeatMs: null, linesMissing: -1, missing: [], estopsLost: -1, unpromptedCues: -1, goToLineMs: null, staleReleasesObeyed: -1, staleReleaseServed: false, notes: [`drill failed: ${(e as Error).message}`, ...w.hubLog.slice(-5)] });
      }
    }
  } finally {
    await w.stop();
  }
}
console.log('\nKuroko crash drills (goals: time to safe ≤ 500 ms from the last heartbeat, 0 lines missing, 0 e-stops lost, 0 unprompted cues)\n');
console.log(formatTable(rows));
process.exit(0);
