import { fileURLToPath } from 'node:url';
import { loadShow } from '../../hub/show/load.ts';
import { characterFromCast, type Character } from '../../hub/ensemble/character.ts';
import type { ImprovSpec } from '../../hub/ensemble/director.ts';
import type { CompletionRequest, TextBackend } from '../../hub/ensemble/backend.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BLADE = `${ROOT}hub/shows/blade.yaml`;

export function bladeCast(): Character[] {
  return loadShow(BLADE).show ? loadShow(BLADE).cast.map(characterFromCast) : [];
}

export function crossingSpec(over: Partial<ImprovSpec> = {}): ImprovSpec {
  return {
    id: 'crossing',
    premise: 'The bridge is down. The four must choose between the flooded river road and the old ferry before moonrise.',
    onStage: ['kenzaki', 'tachibana', 'aikawa', 'mutsuki'],
    beats: [
      { id: 'danger', goal: 'Someone names the danger of the river road.', keywords: ['river', 'flood'], by: ['tachibana'] },
      { id: 'ferry', goal: 'Someone proposes the old ferry.', keywords: ['ferry'], by: ['aikawa'], line: { character: 'aikawa', text: 'The old ferry still runs at night.' } },
    ],
    mustSay: [{ character: 'mutsuki', text: 'Then we cross together.', afterBeat: 'ferry' }],
    maxTurns: 10,
    maxMinutes: 2,
    minTurns: 8,
    ...over,
  };
}

/** A backend that answers from a list, in order (the last answer repeats), recording each request. */
export class ListBackend implements TextBackend {
  readonly name = 'list';
  readonly requests: CompletionRequest[] = [];
  private i = 0;
  constructor(private readonly answers: (string | ((req: CompletionRequest) => string))[]) {}
  async *complete(req: CompletionRequest): AsyncGenerator<string, void> {
    this.requests.push(req);
    const a = this.answers[Math.min(this.i++, this.answers.length - 1)]!;
    yield typeof a === 'function' ? a(req) : a;
  }
}
