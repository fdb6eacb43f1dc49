/**
 * The hub's stage for the ensemble: performs turns as wire cues to the characters' nodes and
 * follows their acks (the line is over when the node says done). Cues are made, sent and their
 * acks tracked by the hub's Playback (one cue factory, one ack tracker). Gestures go only to a node whose
 * capability manifest (its birth) lists them: anything else is refused here, counted and
 * reported, and never sent.
 */
import { EventEmitter } from 'node:events';
import type { CueT, CueAckT } from '../../protocol/index.ts';
import type { Hub } from '../hub.ts';
import { nodeGesture, type Character } from './character.ts';
import type { LinePart, Performer } from './performer.ts';
import type { Turn } from './turn.ts';
import { realClock } from './clock.ts';
import { fillerLines } from './sim-performer.ts';
import { speechDurationMs } from '../../protocol/speech-rate.ts';
import { withReading } from '../readings.ts';

export interface StageReport { kind: 'gesture-refused' | 'line-skipped' | 'line-failed'; message: string; character: string; node: string; scene: string }

type Ack = { status: CueAckT['status']; durationMs?: number; reason?: string; at: number };

export class HubStage extends EventEmitter implements Performer {
  private readonly waiters = new Map<string, (a: Ack) => void>();
  /** Ids of the wire cues the ensemble sent (their transcript lines are already in memory). */
  readonly sent = new Set<string>();
  readonly refusedGestures = { count: 0 };
  private fillerN = 0;
  /** The part last sent of each streamed line: the node speaks the next one when it is over. */
  private readonly partTails = new Map<string, Promise<unknown>>();
  private readonly onAck = (ack: CueAckT) => this.waiters.get(ack.cue)?.({ status: ack.status, durationMs: ack.durationMs, reason: ack.reason, at: realClock.now() });

  constructor(private readonly hub: Hub) {
    super();
  }

  close(): void {
    for (const id of this.waiters.keys()) this.hub.playback.untrack(id);
    this.waiters.clear();
  }

  private get lead(): number { return this.hub.playback.timing.leadMs; }

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

  /** Sends through Playback; `follow` says whether to track its acks (a line waits for done). */
  private send(node: string, scene: string, body: Pick<CueT, 'kind' | 'params'>, follow = false): CueT {
    const cue = this.hub.playback.sendTracked(node, scene, body, follow ? this.onAck : undefined);
    this.sent.add(cue.id);
    if (this.sent.size > 5000) this.sent.delete(this.sent.values().next().value!);
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
      params: withReading({ character: c.id, text: turn.line, emotion: turn.emotion, intensity: turn.intensity, ...(c.persona.language ? { language: c.persona.language } : {}), ...(p.part ? { part: p.part } : {}) }),
    }, true);
    if (!p.part) return await this.follow(cue, c, p.scene, signal);
    // A part goes out now; the node holds it until the part before it is over (edge/part-order.ts),
    // so its start is awaited only from then.
    const before = this.partTails.get(p.part.line);
    const done = this.follow(cue, c, p.scene, signal, before);
    if (p.part.last) this.partTails.delete(p.part.line);
    else this.partTails.set(p.part.line, done);
    if (this.partTails.size > 64) this.partTails.delete(this.partTails.keys().next().value!);
    return await done;
  }

  /** Waits for a line cue's started and done acks (the started ack only once `after` is over). */
  private follow(cue: CueT, c: Character, scene: string, signal?: AbortSignal, after?: Promise<unknown>): Promise<{ startedAt: number; endedAt: number }> {
    return new Promise((resolve) => {
      let startedAt: number | null = null;
      let timer: NodeJS.Timeout;
      const finish = (failed?: string) => {
        clearTimeout(timer);
        this.waiters.delete(cue.id);
        this.hub.playback.untrack(cue.id);
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
      if (after) void after.then(() => { if (startedAt === null && this.waiters.has(cue.id)) arm(this.lead + 1500, 'no started ack'); });
      else arm(this.lead + 1500, 'no started ack');
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
    const lines = fillerLines(c);
    const text = lines[this.fillerN++ % lines.length]!;
    const language = c.persona.language;
    const params = withReading({ character: c.id, text, emotion: 'curious', intensity: 0.3, ...(language ? { language } : {}) });
    this.send(c.node, p.scene, { kind: 'line', params });
    return { startedAt: now + this.lead, endsAt: now + this.lead + speechDurationMs(text, { language, reading: params.reading, minMs: 500 }), kind: 'line' };
  }
}
