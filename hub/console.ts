/**
 * Console commands, as an operator types them with mosquitto_pub (or presses them on the page):
 * scene/start, go, stop, arm, disarm, estop, release. Each is answered on console/reply with ok
 * or an error a person can read.
 */
import { formatStamp, type ChannelName, type EstopStampT } from '../protocol/index.ts';
import type { Hub } from './hub.ts';
import type { Who } from './access/hub-security.ts';
import type { Ensemble } from './ensemble/runtime.ts';

export type CommandResult = { ok: boolean; message: string; stamp?: EstopStampT };

const NAMES: Partial<Record<ChannelName, string>> = {
  consoleSceneStart: 'scene/start', consoleGo: 'go', consoleStop: 'stop', consoleArm: 'arm',
  consoleDisarm: 'disarm', consoleEstop: 'estop', consoleRelease: 'release',
  consoleNextSpeaker: 'next-speaker', consoleCouncilAsk: 'council/ask', consoleCouncilAgent: 'council/agent',
};

/** Arguments of a command: the decoded payload of its channel. */
export type CommandArgs = { scene?: string; reason?: string; character?: string; question?: string; onStage?: string[]; id?: string; [k: string]: unknown };

export class ConsoleCommands {
  constructor(private readonly hub: Hub) {}

  /** The ensemble extension, if one is attached (council and next-speaker need it). */
  private ensemble(): Ensemble | undefined {
    return this.hub.extension<Ensemble>('ensemble');
  }

  /** A decoded console command from MQTT: run it, journal who did it, and answer on console/reply. */
  async handle(name: ChannelName, args: unknown, who: Who = { id: 'anonymous', role: 'unauthenticated' }): Promise<void> {
    const command = NAMES[name];
    if (!command) return;
    let result: CommandResult;
    try {
      result = await this.run(command, args as CommandArgs, who);
    } catch (e) {
      result = { ok: false, message: `${command} failed: ${(e as Error).message}` };
      this.hub.audit({ action: command, by: who, ok: false, detail: result.message, args: (args ?? {}) as Record<string, unknown> });
    }
    this.reply(command, result);
  }

  /** A console command whose payload the endpoint refused (the error channel says why). */
  refused(name: ChannelName): void {
    const command = NAMES[name];
    if (command) this.reply(command, { ok: false, message: `${command}: bad payload; see the error topic (send an empty payload or valid JSON)` });
  }

  reply(command: string, r: CommandResult): void {
    this.hub.publish('consoleReply', {}, { v: 1, command, ok: r.ok, message: r.message, ...(r.stamp ? { stamp: r.stamp } : {}), ts: Date.now() });
  }

  /**
   * Runs one command; the web page calls this too. With `who` (the identity and role that asked:
   * MQTT passes the publisher, the page its logged-in user) the command is journaled as an audit record.
   */
  async run(command: string, args: CommandArgs = {}, who?: Who): Promise<CommandResult> {
    const r = await this.execute(command, args);
    if (who) this.hub.audit({ action: command, by: who, ok: r.ok, detail: r.message, args });
    return r;
  }

  private async execute(command: string, args: CommandArgs): Promise<CommandResult> {
    const hub = this.hub;
    const pb = hub.playback;
    switch (command) {
      case 'scene/start': {
        if (hub.estopActive) return { ok: false, message: `scene ${args.scene} not started: e-stop is active (release, arm, then start)` };
        const r = pb.startScene(args.scene!);
        const armed = hub.registry.all().filter((n) => n.state === 'armed').length;
        if (r.ok && armed === 0) return { ok: true, message: `${r.message}; note: no node is armed, so nothing will move (lines only)` };
        return r;
      }
      case 'go':
        if (hub.estopActive) return { ok: false, message: 'GO refused: e-stop is active (release, then arm)' };
        return pb.go();
      case 'stop':
        return pb.stop(args.reason ?? 'stopped by the operator');
      case 'arm':
        return this.arm();
      case 'disarm': {
        for (const n of hub.registry.all()) hub.publish('nodeCmd', { node: n.id }, { v: 1, cmd: 'disarm', reason: args.reason ?? 'disarmed by the operator', ts: Date.now() });
        pb.stop('disarmed');
        return { ok: true, message: 'disarm sent to every node; nothing moves until arm' };
      }
      case 'estop': {
        const r = hub.engageEstop('console', args.reason);
        return { ok: true, message: `E-STOP (${formatStamp(r.stamp)}): every node stopped and holds. Clear it with release, then arm.`, stamp: r.stamp };
      }
      case 'release': {
        const r = hub.releaseEstop('console');
        return { ok: true, message: `e-stop released (${formatStamp(r.stamp)}); nodes stay disarmed until arm`, stamp: r.stamp };
      }
      case 'next-speaker': {
        const id = args.character?.trim() || null;
        const ensemble = this.ensemble();
        if (id && ensemble) return ensemble.setNextSpeaker(id);
        const cast = hub.o.show.cast;
        if (id && !cast.some((c) => c.id === id)) return { ok: false, message: `next speaker "${id}" is not in the cast (${cast.map((c) => c.id).join(', ')})` };
        // Kept for the ensemble engine, which takes it at the next turn.
        hub.nextSpeaker.set(id);
        return { ok: true, message: id ? `next speaker: ${id}` : 'next-speaker override cleared' };
      }
      case 'council/ask':
        if (!this.ensemble()) return { ok: false, message: 'council/ask: no ensemble is attached to this hub' };
        if (typeof args.question !== 'string' || !args.question.trim()) return { ok: false, message: 'council/ask refused: the question is empty; send it as text or {"question": "..."}' };
        return this.ensemble()!.councilAsk(args.question, args.onStage);
      case 'council/agent':
        if (!this.ensemble()) return { ok: false, message: 'council/agent: no ensemble is attached to this hub' };
        return this.ensemble()!.councilAgent(args as Parameters<Ensemble['councilAgent']>[0]);
      default:
        return { ok: false, message: `unknown command ${command}` };
    }
  }

  private async arm(): Promise<CommandResult> {
    const hub = this.hub;
    if (hub.estopActive) return { ok: false, message: 'arm refused: e-stop is active; release it first' };
    const targets = hub.registry.all().filter((n) => hub.registry.isOnline(n.id));
    const offline = hub.registry.all().filter((n) => !hub.registry.isOnline(n.id)).map((n) => n.id);
    if (targets.length === 0) return { ok: false, message: 'arm refused: no node is online' };
    for (const n of targets) hub.publish('nodeCmd', { node: n.id }, { v: 1, cmd: 'arm', ts: Date.now() });
    // Wait (briefly) for the nodes to say they are armed, so the reply tells the truth.
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline && targets.some((n) => hub.registry.get(n.id)?.state !== 'armed')) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const armed = targets.filter((n) => hub.registry.get(n.id)?.state === 'armed').map((n) => n.id);
    const notArmed = targets.filter((n) => hub.registry.get(n.id)?.state !== 'armed').map((n) => `${n.id} (${hub.registry.get(n.id)?.state}: ${hub.registry.get(n.id)?.reason ?? ''})`);
    const parts = [`armed: ${armed.join(', ') || 'none'}`];
    if (notArmed.length) parts.push(`not armed: ${notArmed.join(', ')}`);
    if (offline.length) parts.push(`offline: ${offline.join(', ')}`);
    return { ok: armed.length > 0 && notArmed.length === 0, message: parts.join('; ') };
  }
}
