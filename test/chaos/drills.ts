/**
 * The crash drills. Each one, on a running World: arms the show and starts the long scene, breaks
 * one part mid-scene, sends an e-stop while it is broken (or as soon as a broker is there to carry
 * it), brings the part back, and measures:
 *  - time to safe: from the failure until every armed node has left `armed` (its own log's clock);
 *    for a killed node, until its Will (state lost) is on the broker;
 *  - performed lines missing from the journal: what the nodes say they performed, against every
 *    journal the hub runs wrote;
 *  - e-stops lost: the hub and each node that is not e-stopped after recovery, plus 1 if an arm
 *    was accepted then;
 *  - cues fired without an operator after recovery (before the operator's GO);
 *  - GO → next line: operator release, arm, GO, until the next line is on `transcript`.
 * A drill that does not apply to a broker (the embedded one dies with the hub) is not run on it.
 *
 * The board drill runs a third node on an emulated Uno (test/helpers/board-node.ts) for its own
 * length only. Adding a drill: push a Plan onto PLANS; npm run chaos and
 * test/integration/chaos.test.ts pick up every plan in PLANS.
 */
import { sleep, waitFor } from '../helpers/wait.ts';
import { startBoardNode } from '../helpers/board-node.ts';
import { NODES, SHOW, type World, type BrokerKind } from './world.ts';

export interface DrillResult {
  drill: string;
  broker: BrokerKind;
  timeToSafeMs: number | null;
  /** For the drills where the nodes lose the hub (frozen, killed, broker gone): time to safe from the last hub heartbeat the stage saw. */
  fromLastBeatMs: number | null;
  linesMissing: number;
  /** The missing lines themselves ("node: text"), new in this drill. */
  missing: string[];
  estopsLost: number;
  unpromptedCues: number;
  goToLineMs: number | null;
  /** Nodes that logged a release they should not have believed (the edge's side of the e-stop). */
  staleReleasesObeyed: number;
  /** After recovery the broker served a retained release while the show was e-stopped (the stale-save case). */
  staleReleaseServed: boolean;
  notes: string[];
}

export interface Plan {
  name: string;
  appliesTo: BrokerKind[];
  /** Breaks the part. Returns when it is broken. */
  fail(w: World): Promise<void>;
  /** Whether the operator's console can reach the nodes while it is broken (a broker is up). */
  estopWhileBroken: boolean;
  recover(w: World): Promise<void>;
  /** For a killed node: time to safe is its Will on the broker; for an unplugged board, its node's fault. */
  safeBy?: 'will' | 'board';
  /** Send the e-stop before the failure (the broker crash that loses an unsaved e-stop). */
  estopFirst?: boolean;
}

const node0 = NODES[0]!;
/** The board drill's node: a third character's node on an emulated Uno (Kuroko firmware, real Firmata bytes). */
export const BOARD_NODE = 'cat';

export const PLANS: Plan[] = [
  {
    name: 'hub kill -STOP 3 s', appliesTo: ['mosquitto', 'aedes'], estopWhileBroken: true,
    fail: async (w) => { w.hub!.kill('SIGSTOP'); await sleep(3000); },
    recover: async (w) => { w.hub!.kill('SIGCONT'); await sleep(200); },
  },
  {
    name: 'hub kill -STOP 10 s', appliesTo: ['mosquitto', 'aedes'], estopWhileBroken: true,
    fail: async (w) => { w.hub!.kill('SIGSTOP'); await sleep(10000); },
    recover: async (w) => { w.hub!.kill('SIGCONT'); await sleep(200); },
  },
  {
    name: 'hub kill -9 mid-scene + restart', appliesTo: ['mosquitto', 'aedes'], estopWhileBroken: true,
    fail: async (w) => { await w.killHub('SIGKILL'); await sleep(1000); },
    recover: async (w) => { await w.restartHub(); },
  },
  {
    name: 'broker kill -9 (unsaved e-stop) + restart', appliesTo: ['mosquitto'], estopWhileBroken: false, estopFirst: true,
    fail: async (w) => { await w.mosq!.kill('SIGKILL'); await sleep(1000); },
    recover: async (w) => { await w.mosq!.restart(); },
  },
  {
    name: 'broker SIGTERM + restart', appliesTo: ['mosquitto'], estopWhileBroken: false,
    fail: async (w) => { await w.mosq!.kill('SIGTERM'); await sleep(1000); },
    recover: async (w) => { await w.mosq!.restart(); },
  },
  {
    // The board node joins, is armed with the others, and sweeps a servo and drives its wheel; the
    // cable is pulled mid-motion. Safe = its node reports the fault (every lease revoked); plugged
    // back in, the fresh board stays safe and the node stays disarmed until the operator arms it.
    name: 'board unplugged mid-motion + replug', appliesTo: ['mosquitto', 'aedes'], estopWhileBroken: true, safeBy: 'board',
    fail: async (w) => {
      w.unpluggedAt = 0;
      const b = w.board ?? (w.board = await startBoardNode({ brokerUrl: w.url, show: SHOW, node: BOARD_NODE, extraArgs: ['--insecure', '--log-level', 'error'] }));
      await waitFor('the board node ready', () => ['ready', 'armed'].includes(w.brokerStateOf(BOARD_NODE) ?? ''), 60000);
      if (w.brokerStateOf(BOARD_NODE) !== 'armed') await w.reply('arm', await w.command('consoleArm'));
      await waitFor('the board node armed', () => w.brokerStateOf(BOARD_NODE) === 'armed', 10000);
      await w.sendCue(BOARD_NODE, { kind: 'motion', params: { servos: { pan: 170 }, motors: { wheel: 0.4 }, durationMs: 3000 } } as never);
      await waitFor('the board moving', async () => !(await b.boardSafe()), 10000);
      await sleep(300);
      w.unpluggedAt = Date.now();
      await b.unplug();
      await sleep(500);
    },
    recover: async (w) => {
      const b = w.board!;
      await b.replug();
      await waitFor('the board node back from its fault', () => ['ready', 'estopped', 'init'].includes(w.brokerStateOf(BOARD_NODE) ?? ''), 30000);
      await sleep(1000);
      // Back, it moves nothing by itself: the fresh board's pins are safe and the node is not armed.
      if (!(await b.boardSafe())) throw new Error(`the replugged board drives something: ${JSON.stringify(await b.pins())}`);
      if (w.brokerStateOf(BOARD_NODE) === 'armed') throw new Error('the board node came back armed');
      // The rest of the drill (release, arm, GO) is the other nodes' part: the board node leaves.
      await b.stop();
      w.board = null;
    },
  },
  {
    name: 'node kill -9 + restart', appliesTo: ['mosquitto', 'aedes'], estopWhileBroken: true, safeBy: 'will',
    fail: async (w) => { await w.nodes.get(node0)!.kill('SIGKILL'); await sleep(500); },
    recover: async (w) => {
      w.nodes.get(node0)!.start();
      await waitFor('the node back', () => ['ready', 'estopped', 'armed'].includes(w.stateOf(node0) ?? '') && w.nodes.get(node0)!.log.length > 0, 180000);
    },
  },
];

/** Runs one drill; the world is left running, released and stopped, for the next. */
export async function runDrill(w: World, plan: Plan): Promise<DrillResult> {
  const notes: string[] = [];
  const missingBefore = new Set(w.missingLines());
  await w.runScene(2);
  if (plan.estopFirst) {
    // The broker saves now (the release of the last drill is on disk); the e-stop after it is not saved.
    process.kill(w.mosq!.pid()!, 'SIGUSR1');
    await sleep(300);
  }
  const armedNodes = NODES.filter((id) => w.stateOf(id) === 'armed');
  let estopAt = 0;
  if (plan.estopFirst) { estopAt = await w.command('consoleEstop', '{"reason":"drill"}'); await sleep(300); }
  const tFail = Date.now();
  const failing = plan.fail(w);
  // Time to safe, from the failure (or the e-stop before it).
  const from = plan.estopFirst ? estopAt : tFail;
  let timeToSafeMs: number | null = null;
  let fromLastBeatMs: number | null = null;
  try {
    if (plan.safeBy === 'board') {
      const t = await waitFor('the cable pulled', () => w.unpluggedAt || null, 120000);
      const faulted = await waitFor('the board node\'s fault', () => w.seen.find((s) => s.at >= t && (
        (s.topic.endsWith(`/node/${BOARD_NODE}/event/revoked`) && s.payload.includes('"fault"')) ||
        (s.topic.endsWith(`/node/${BOARD_NODE}/state`) && s.payload.includes('"fault"')))), 15000);
      timeToSafeMs = faulted.at - t;
    } else if (plan.safeBy === 'will') {
      const lost = await waitFor('the Will of the killed node', () => w.seen.find((s) => s.at >= tFail && s.topic.endsWith(`/node/${node0}/state`) && s.payload.includes('"lost"')), 15000);
      timeToSafeMs = lost.at - from;
    } else {
      const at = await waitFor('every armed node safe', () => {
        const t = armedNodes.map((id) => w.nodes.get(id)!.safeAt(from));
        return t.every((x) => x !== undefined) ? Math.max(...(t as number[])) : null;
      }, 15000);
      timeToSafeMs = at - from;
      // The nodes' watchdog counts from the last heartbeat they heard: so does this column.
      if (!plan.estopFirst) {
        const beats = w.seen.filter((x) => x.at <= tFail && x.topic.endsWith('/hub/heartbeat'));
        if (beats.length) fromLastBeatMs = at - beats.at(-1)!.at;
      }
    }
  } catch (e) { notes.push((e as Error).message); }
  // The operator presses e-stop during the failure; with the embedded broker frozen or gone it
  // waits in the operator's client until a broker takes it (not awaited: the drill goes on).
  if (plan.estopWhileBroken && !plan.estopFirst) void w.command('consoleEstop', '{"reason":"drill"}').catch((e: Error) => notes.push(`e-stop not sent: ${e.message}`));
  await failing;
  await plan.recover(w);
  const tRecovered = Date.now();
  if (!plan.estopWhileBroken && !plan.estopFirst) await w.command('consoleEstop', '{"reason":"drill"}');
  // Let everything reconnect and settle: every node has said its state on the broker since the
  // failure (after a broker or embedded-broker restart, only once it reconnected: a second or more
  // on a loaded machine), then a little longer.
  await waitFor('every node reconnected', () => NODES.every((id) => w.seen.some((x) => x.at >= tFail && x.topic.endsWith(`/node/${id}/state`))), 30000)
    .catch(() => undefined);
  await sleep(2000);
  let estopsLost = 0;
  const show = w.last('showState');
  if (show?.estop !== true) { estopsLost++; notes.push(`hub show/state estop=${show?.estop}`); }
  for (const id of NODES) {
    const st = w.stateOf(id);
    if (st !== 'estopped') {
      estopsLost++;
      const recent = w.nodes.get(id)!.log.filter((l) => l.time >= tFail).slice(-6).map((l) => `${l.time - tFail} ms: ${l.msg}`);
      notes.push(`node ${id} is ${st} (its log since the failure: ${recent.join(' | ')})`);
    }
  }
  const staleReleasesObeyed = NODES.filter((id) => w.nodes.get(id)!.log.some((l) => l.time >= tRecovered - 200 && l.state === 'ready' && /released/.test(l.reason ?? '') && l.time < Date.now())).length;
  const staleReleaseServed = w.seen.some((x) => x.at >= tRecovered - 1000 && x.retain && x.topic.endsWith('/estop') && JSON.parse(x.payload).active === false);
  const arm = await w.reply('arm', await w.command('consoleArm'));
  if (arm.ok) { estopsLost++; notes.push('arm accepted during the e-stop'); }
  // The operator: release, arm, GO.
  await w.reply('release', await w.command('consoleRelease'));
  await waitFor('nodes released', () => NODES.every((id) => w.stateOf(id) === 'ready'), 10000).catch((e) => notes.push((e as Error).message));
  const armed = await w.reply('arm', await w.command('consoleArm'));
  if (!armed.ok) notes.push(`arm after release: ${armed.message}`);
  await waitFor('nodes armed', () => NODES.every((id) => w.stateOf(id) === 'armed'), 10000).catch((e) => notes.push((e as Error).message));
  const tGo = await w.command('consoleGo');
  const unpromptedCues = w.cuesSentAfter(tRecovered, tGo).length;
  let goToLineMs: number | null = null;
  try {
    const line = await waitFor('the next line after GO', () => w.seen.find((s) => s.at >= tGo && s.topic.endsWith('/transcript')), 10000);
    goToLineMs = line.at - tGo;
  } catch (e) {
    const r = w.seen.find((s) => s.at >= tGo && s.topic.endsWith('/console/reply') && s.payload.includes('"go"'));
    notes.push(`${(e as Error).message}${r ? ` (GO reply: ${JSON.parse(r.payload).message})` : ''}`);
  }
  // Stop the scene and let late lines land before counting what the journal lacks.
  await w.command('consoleStop');
  await sleep(1500);
  const missing = w.missingLines().filter((m) => !missingBefore.has(m));
  return { drill: plan.name, broker: w.kind, timeToSafeMs, fromLastBeatMs, linesMissing: missing.length, missing, estopsLost, unpromptedCues, goToLineMs, staleReleasesObeyed, staleReleaseServed, notes };
}

/** The table `npm run chaos` prints. */
export function formatTable(rows: DrillResult[]): string {
  const head = ['drill', 'broker', 'time to safe', 'from last heartbeat', 'lines missing', 'e-stops lost', 'unprompted cues', 'GO → next line', 'retained release served after recovery / obeyed by nodes'];
  const cells = rows.map((r) => [r.drill, r.broker, r.timeToSafeMs === null ? 'n/a' : `${r.timeToSafeMs} ms`, r.fromLastBeatMs === null ? 'n/a' : `${r.fromLastBeatMs} ms`, String(r.linesMissing), String(r.estopsLost), String(r.unpromptedCues),
    r.goToLineMs === null ? 'n/a' : `${r.goToLineMs} ms`, `${r.staleReleaseServed ? 'yes' : 'no'} / ${r.staleReleasesObeyed}`]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(width[i]!)).join(' | ')} |`;
  const out = [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
  const notes = rows.flatMap((r) => r.notes.map((n) => `  ${r.drill} (${r.broker}): ${n}`));
  return out.join('\n') + (notes.length ? `\nnotes:\n${notes.join('\n')}` : '');
}
