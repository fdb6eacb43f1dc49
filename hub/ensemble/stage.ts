/**
 * The hub's stage for the ensemble: performs turns as wire cues to the characters' nodes and
 * follows their acks (the line is over when the node says done). Gestures go only to a node whose
 * capability manifest (its birth) lists them: anything else is refused here, counted and
 * reported, and never sent.
 */
import { EventEmitter } from 'node:events';
import type { CueT, CueAckT } from '../../protocol/index.ts';
import type { Hub } from '../hub.ts';
import { newCueId } from '../playback.ts';
import { nodeGesture, type Character } from './character.ts';
import type { LinePart, Performer } from './improv.ts';
import type { Turn } from './turn.ts';
import { realClock } from './clock.ts';
import { FILLER_LINES } from './sim-performer.ts';

export interface StageReport { kind: 'gesture-refused' | 'line-skipped' | 'line-failed'; message: string; character: string; node: string; scene: string }

type Ack = { status: CueAckT['status']; durationMs?: number; reason?: string; at: number };

export class HubStage extends EventEmitter implements Performer {
  private seq = 0;
  private readonly waiters = new Map<string, (a: Ack) => void>();
  /** Ids of the wire cues the ensemble sent (their transcript lines are already in memory). */
  readonly sent = new Set<string>();
  readonly refusedGestures = { count: 0 };
  private fillerN = 0;
  private readonly onAck = (node: string, ack: CueAckT) => this.waiters.get(ack.cue)?.({ status: ack.status, durationMs: ack.durationMs, reason: ack.reason, at: realClock.now() });

  constructor(private readonly hub: Hub) {
    super();
    hub.on('cue-ack', this.onAck);
  }

  close(): void {
    this.hub.off('cue-ack', this.onAck);
  }

  private get lead(): number { return (this.hub.o.show.settings?.leadTime ?? 0.1) * 1000; }
  private get late(): number { return (this.hub.o.show.settings?.lateTolerance ?? 0.5) * 1000; }

  /** The gestures a node's birth certificate lists; null before its birth. */
  gesturesOfNode(node: string): readonly string[] | null {
    return this.hub.registry.get(node)?.birth?.capabilities.gestures ?? null;
  }

  gestures(c: Character): readonly string[] | null {
    return this.gesturesOfNode(c.node);
  }

  /** Whether a gesture may go to a node: only one its capability manifest lists. */
  checkGesture(node: string, name: string): { ok: true } | { ok: false; reason: string } {
    const have = this.gesturesOfNode(node);
    if (!have) return { ok: false, reason: `node ${node} has not announced its capabilities (no birth yet)` };
    if (!have.includes(name)) return { ok: false, reason: `node ${node} has no gesture "${name}" (has: ${have.join(', ') || 'none'})` };
    return { ok: true };
  }

  /** Sends a gesture cue if the node has the gesture; otherwise refuses it (counted, reported). */
  sendGesture(character: Character, name: string, scene: string): CueT | null {
    const ok = this.checkGesture(character.node, name);
    if (!ok.ok) {
      this.refusedGestures.count++;
      this.report({ kind: 'gesture-refused', message: `gesture "${name}" for ${character.name} refused: ${ok.reason}`, character: character.id, node: character.node, scene });
      return null;
    }
    return this.send(character.node, scene, { kind: 'gesture', params: { name } });
  }

  private report(r: StageReport): void {
    this.emit('report', r);
  }

  private send(node: string, scene: string, body: Pick<CueT, 'kind' | 'params'>): CueT {
    const at = this.hub.showNow() + this.lead;
    const cue = { v: 1 as const, id: newCueId(), scene, seq: this.seq++, at, deadline: at + this.late, ts: Date.now(), ...body } as CueT;
    this.sent.add(cue.id);
    if (this.sent.size > 5000) this.sent.delete(this.sent.values().next().value!);
    this.hub.publish('nodeCue', { node }, cue);
    return cue;
  }

  async perform(p: { character: Character; turn: Turn; gesture?: string; scene: string; part?: LinePart }, signal?: AbortSignal): Promise<{ startedAt: number; endedAt: number }> {
    const { character: c, turn } = p;
    const now = realClock.now();
    if (!this.hub.registry.isOnline(c.node)) {
      this.report({ kind: 'line-skipped', message: `${c.name}'s line skipped: node ${c.node} is not online`, character: c.id, node: c.node, scene: p.scene });
      return { startedAt: now, endedAt: now };
    }
    if (p.gesture) this.sendGesture(c, p.gesture, p.scene);
    const cue = this.send(c.node, p.scene, {
      kind: 'line',
      params: { character: c.id, text: turn.line, emotion: turn.emotion, intensity: turn.intensity, ...(c.persona.language ? { language: c.persona.language } : {}), ...(p.part ? { part: p.part } : {}) },
    });
    return await this.follow(cue, c, p.scene, signal);
  }

  /** Waits for a line cue's started and done acks. */
  private follow(cue: CueT, c: Character, scene: string, signal?: AbortSignal): Promise<{ startedAt: number; endedAt: number }> {
    return new Promise((resolve) => {
      let startedAt: number | null = null;
      let timer: NodeJS.Timeout;
      const finish = (failed?: string) => {
        clearTimeout(timer);
        this.waiters.delete(cue.id);
        signal?.removeEventListener('abort', onAbort);
        if (failed) this.report({ kind: 'line-failed', message: `${c.name}'s line on ${c.node}: ${failed}`, character: c.id, node: c.node, scene });
        const end = realClock.now();
        resolve({ startedAt: startedAt ?? end, endedAt: end });
      };
      const arm = (ms: number, why: string) => { clearTimeout(timer); timer = setTimeout(() => finish(why), ms); };
      const onAbort = () => {
        this.hub.publish('nodeCmd', { node: c.node }, { v: 1, cmd: 'stop', reason: String(signal?.reason ?? 'stopped'), ts: Date.now() });
        finish();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      arm(this.lead + 1500, 'no started ack');
      this.waiters.set(cue.id, (a) => {
        if (a.status === 'started') { startedAt = a.at; arm((a.durationMs ?? 0) + 3000, 'no done ack'); }
        else if (a.status === 'done') finish();
        else if (a.status === 'rejected' || a.status === 'failed') finish(`${a.status}: ${a.reason ?? 'no reason'}`);
      });
    });
  }

  async filler(p: { character: Character; scene: string }): Promise<{ startedAt: number; endsAt: number; kind: 'gesture' | 'line' } | null> {
    const c = p.character;
    if (!this.hub.registry.isOnline(c.node)) return null;
    const now = realClock.now();
    const think = nodeGesture(c, 'think');
    const node = this.hub.registry.get(c.node);
    if (node?.state === 'armed' && this.gesturesOfNode(c.node)?.includes(think)) {
      this.send(c.node, p.scene, { kind: 'gesture', params: { name: think } });
      return { startedAt: now + this.lead, endsAt: now + this.lead + 800, kind: 'gesture' };
    }
    const text = FILLER_LINES[this.fillerN++ % FILLER_LINES.length]!;
    this.send(c.node, p.scene, { kind: 'line', params: { character: c.id, text, emotion: 'curious', intensity: 0.3 } });
    return { startedAt: now + this.lead, endsAt: now + this.lead + Math.max(500, text.length * 45), kind: 'line' };
  }
}
