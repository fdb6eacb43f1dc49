/**
 * `kuroko fleet`: the robots on the theatre's network, from the operator's machine.
 */
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../bin/errors.ts';
import { checkId } from '../../protocol/ids.ts';
import { FleetStore } from './store.ts';
import { parseAddress } from './discovery.ts';
import { checkCode, loadPlan, readProfile, PlanError, type PlannedNode } from './plan.ts';
import { CredentialFolder, NoCredentials } from './credentials.ts';
import { adoptDuringWindow, formatList, listFleet, rollbackFleet, updateFleet, type NodeOutcome } from './commands.ts';

export const FLEET_HELP = `kuroko fleet — find, adopt, update and roll back the robots' computers

Usage:
  kuroko fleet list     [--static ADDR,...] [--mdns-ms N] [--json]
  kuroko fleet adopt    --plan FILE [--time S]                       adopt the plan's nodes during a permit-join window
                                                                     (each with its pairing code: code: in the plan)
  kuroko fleet adopt    --name NAME --node ID --profile FILE --code CODE [--character ID] --show ID --broker URL [--time S]
  kuroko fleet update   --release FILE [--nodes ID,...] [--force] [--all-at-once] [--health-timeout S]
  kuroko fleet rollback [--nodes ID,...] [--force]

Common options:
  --fleet-dir DIR        where adopted nodes and their tokens are kept (default var/fleet)
  --static ADDR,...      agents to ask directly (HOST or HOST:PORT) when multicast is blocked or across VLANs

adopt options:
  --time S               how long the permit-join window stays open (default 120)
  --code CODE            the pairing code the computer's agent printed (or code: in the plan); a new
                         node is adopted only with it, and wrong codes lock its adoption for a while
  --code-file FILE       read the code from a file (an agent on this machine: DIR/agent/pairing-code)
  --no-mdns              do not browse mDNS: adopt only the --static addresses
  --show ID / --broker URL  the show and the MQTT broker the nodes join (or show:/broker: in the plan)
  --release-key KEY.pem  the public key release bundles must be signed with (sent to each node)
  --credentials-dir DIR  the credentials store's output: DIR/<node id>/* is installed on each node
update options:
  --release FILE         a release bundle (kuroko release); each node verifies it itself
  --force                pass the show lock of a running scene, for nodes that are not armed
  --all-at-once          skip the staged rollout (by default one node first, then the rest)
  --health-timeout S     commit only if ready with heartbeats within S s (default: each agent's, 60)

Updates are refused while the show is armed or a scene runs. A node that is not ready with
heartbeats within its health timeout (60 s) after an update rolls back by itself.`;

function fleetStore(dir: string | undefined): FleetStore { return new FleetStore(resolve(dir ?? 'var/fleet')); }
const staticList = (s: string | undefined) => (s ? s.split(',').filter(Boolean).map(parseAddress) : []);
const say = (l: string) => console.log(l);

function summary(outcomes: NodeOutcome[]): number {
  console.log('');
  for (const o of outcomes) console.log(`  ${o.node.padEnd(16)} ${o.outcome.padEnd(12)} ${(o.version ?? '-').padEnd(12)} ${(o.ms / 1000).toFixed(1).padStart(6)} s  ${o.message}`);
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

export async function runFleetCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '-h' || sub === '--help') { console.log(FLEET_HELP); return sub ? 0 : 2; }
  const common = { 'fleet-dir': { type: 'string' as const }, static: { type: 'string' as const }, help: { type: 'boolean' as const, short: 'h' } };
  switch (sub) {
    case 'list': {
      const { values } = parseArgs({ args: rest, strict: true, options: { ...common, 'mdns-ms': { type: 'string' }, json: { type: 'boolean' } } });
      if (values.help) { console.log(FLEET_HELP); return 0; }
      const store = fleetStore(values['fleet-dir']);
      const found = await listFleet(store, { mdnsMs: values['mdns-ms'] ? Number(values['mdns-ms']) : 2500, static: staticList(values.static) });
      if (values.json) console.log(JSON.stringify(found, null, 2));
      else console.log(found.length ? formatList(found, store) : 'no nodes found: is the agent running on them (kuroko node agent)? If multicast is blocked, give --static ADDRESS');
      return 0;
    }
    case 'adopt': {
      const { values } = parseArgs({ args: rest, strict: true, options: {
        ...common, plan: { type: 'string' }, time: { type: 'string' }, name: { type: 'string' }, node: { type: 'string' }, profile: { type: 'string' },
        character: { type: 'string' }, show: { type: 'string' }, broker: { type: 'string' }, 'release-key': { type: 'string' }, code: { type: 'string' }, 'code-file': { type: 'string' }, 'credentials-dir': { type: 'string' }, 'no-mdns': { type: 'boolean', default: false },
      } });
      if (values.help) { console.log(FLEET_HELP); return 0; }
      let plan: PlannedNode[];
      let show = values.show;
      let broker = values.broker;
      try {
        if (values.plan) {
          if (values.node || values.name || values.profile || values.code || values['code-file']) throw new UsageError('give either --plan FILE (with code: per node) or --name/--node/--profile/--code, not both');
          const p = loadPlan(values.plan);
          plan = p.nodes; show ??= p.show; broker ??= p.broker;
        } else {
          if (!values.node || !values.profile) throw new UsageError('say what to adopt: --plan FILE, or --node ID --profile FILE [--name NAME]');
          if (values.code && values['code-file']) throw new UsageError('give --code or --code-file, not both');
          plan = [{
            name: values.name ? checkId('--name', values.name) : undefined, node: checkId('--node', values.node), character: values.character ? checkId('--character', values.character) : undefined, profileFile: values.profile, profileText: readProfile(values.profile, '--profile'),
            ...(values.code ? { code: checkCode('--code', values.code) } : {}), ...(values['code-file'] ? { codeFile: resolve(values['code-file']) } : {}),
          }];
        }
      } catch (e) { if (e instanceof PlanError) throw new UsageError(e.message); throw e; }
      if (!show) throw new UsageError('--show ID is required (or show: in the plan)');
      if (!broker || !/^mqtts?:\/\//.test(broker)) throw new UsageError('--broker mqtt://HOST:PORT is required (the broker the nodes join, as the nodes reach it; or broker: in the plan)');
      const time = values.time ? Number(values.time) : 120;
      if (!(time > 0 && time <= 3600)) throw new UsageError('--time must be 1..3600 seconds');
      const store = fleetStore(values['fleet-dir']);
      const figures = await adoptDuringWindow({
        store, plan, show: checkId('--show', show), broker, windowMs: time * 1000, static: staticList(values.static), mdns: !values['no-mdns'], say,
        releaseKey: values['release-key'] ? readFileSync(values['release-key'], 'utf8') : undefined,
        credentials: values['credentials-dir'] ? new CredentialFolder(values['credentials-dir']) : new NoCredentials(),
      });
      console.log('');
      for (const f of figures) console.log(`  ${f.node.padEnd(16)} ${f.ok ? 'adopted' : 'NOT ADOPTED'}  ${(f.ms / 1000).toFixed(1)} s  ${f.message}`);
      return figures.every((f) => f.ok) ? 0 : 1;
    }
    case 'update': {
      const { values } = parseArgs({ args: rest, strict: true, options: { ...common, release: { type: 'string' }, nodes: { type: 'string' }, force: { type: 'boolean', default: false }, 'all-at-once': { type: 'boolean', default: false }, 'health-timeout': { type: 'string' } } });
      if (values.help) { console.log(FLEET_HELP); return 0; }
      if (!values.release) throw new UsageError('--release FILE is required (a bundle made by kuroko release)');
      if (!existsSync(values.release)) throw new UsageError(`no bundle ${values.release}: make one with kuroko release`);
      const healthS = values['health-timeout'] === undefined ? undefined : Number(values['health-timeout']);
      if (healthS !== undefined && !(healthS >= 1 && healthS <= 3600)) throw new UsageError('--health-timeout must be 1..3600 seconds');
      const outcomes = await updateFleet(fleetStore(values['fleet-dir']), { release: values.release, nodes: values.nodes?.split(',').filter(Boolean), force: values.force!, say, staged: !values['all-at-once'], healthS });
      return summary(outcomes);
    }
    case 'rollback': {
      const { values } = parseArgs({ args: rest, strict: true, options: { ...common, nodes: { type: 'string' }, force: { type: 'boolean', default: false } } });
      if (values.help) { console.log(FLEET_HELP); return 0; }
      return summary(await rollbackFleet(fleetStore(values['fleet-dir']), { nodes: values.nodes?.split(',').filter(Boolean), force: values.force!, say }));
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}": use list, adopt, update or rollback (see kuroko fleet --help)`);
  }
}
