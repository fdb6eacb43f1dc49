/**
 * The node's own voice: a small quantized model, run locally, that speaks in the node's
 * character when the hub cannot — a line that missed its deadline, a hub that went silent — and
 * reacts at once to what the node's sensors notice. It only ever speaks; it never moves anything.
 */
import type { Logger } from 'pino';
import {
  loadCausalLM, adlibPrompt, extractLine, formatLine, ADLIB_STOP, DEFAULT_NODE_MODEL_DIR, type CausalLM,
} from '../models/runtime/index.ts';

export type AdlibReason = 'hub-lost' | 'late-line' | 'proximity';

export interface AdlibCharacter {
  id: string;
  name: string;
  persona?: string;
  /** The character's language ('ja', 'en'); default: Japanese when the name is written in Japanese. */
  language?: string;
}

/** What the model is nudged with for each reason: a stage direction before the character's turn. */
const DIRECTIONS: Record<AdlibReason, string> = {
  'hub-lost': 'The lights flicker and the stage falls silent.',
  'late-line': 'A pause; everyone looks at',
  proximity: 'Someone comes close to',
};

/** When the model gives nothing usable, a line that still keeps the scene alive. */
const FALLBACK: Record<AdlibReason, { en: string; ja: string }> = {
  'hub-lost': { en: 'Hold on. Something has changed; stay where you are.', ja: '待て。何かがおかしい。そこを動くな。' },
  'late-line': { en: 'Well. Where was I?', ja: 'さて、どこまで話したかな。' },
  proximity: { en: 'Oh! You are close.', ja: 'おや、近いな。' },
};

const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;

/**
 * What of a small model's line can be spoken: stage directions in brackets dropped (（驚いて）,
 * (aside), [exit]), an unclosed bracket cut; null when broken bytes (U+FFFD) or no words remain,
 * or when a Japanese character wrote no Japanese.
 */
export function speakableAdlib(text: string, japanese: boolean): string | null {
  if (text.includes('\ufffd')) return null;
  let t = text.replace(/[（(［[][^）)］\]]*[）)］\]]/g, ' ');
  t = t.replace(/[（(［[].*$/, '').replace(/[）)］\]]/g, '').replace(/\s+/g, ' ').trim();
  if (japanese) t = t.replace(/\s+/g, '');
  if (!/\p{L}/u.test(t)) return null;
  if (japanese && [...t].filter((c) => JAPANESE.test(c)).length < 4) return null;
  return t;
}

export class Adlibber {
  private readonly heard: string[] = [];
  private seed = 1;
  readonly speakerName: string;

  readonly japanese: boolean;

  constructor(private readonly lm: CausalLM, readonly character: AdlibCharacter, private readonly log?: Logger) {
    this.japanese = character.language ? character.language.toLowerCase().startsWith('ja') : JAPANESE.test(character.name);
    // The shipped model learned speaker prefixes as Shakespeare writes them (upper case), and
    // Japanese scripts as 名前 + full-width space: a Japanese character gets the Japanese form.
    this.speakerName = JAPANESE.test(character.name) || this.japanese ? character.name : character.name.toUpperCase();
  }

  /** Loads the model (the shipped int8 one by default), logging progress. */
  static async load(character: AdlibCharacter, o: { dir?: string; log?: Logger } = {}): Promise<Adlibber> {
    const dir = o.dir ?? DEFAULT_NODE_MODEL_DIR;
    let lastTenth = -1;
    const lm = await loadCausalLM(dir, {
      threads: 1,
      logger: o.log,
      onProgress: (p) => {
        const tenth = Math.floor(p.fraction * 10);
        if (tenth !== lastTenth) {
          lastTenth = tenth;
          o.log?.info({ model: dir, stage: p.stage, progress: Math.round(p.fraction * 100) }, `loading local model: ${p.stage} ${Math.round(p.fraction * 100)}%`);
        }
      },
    });
    return new Adlibber(lm, character, o.log);
  }

  /** Lines heard on stage (from the transcript) become the model's context. */
  hear(speaker: string, text: string): void {
    const name = JAPANESE.test(speaker) ? speaker : speaker.toUpperCase();
    this.heard.push(formatLine(name, text));
    if (this.heard.length > 8) this.heard.shift();
  }

  /** Writes one line in character, within a time budget; never empty. */
  async line(reason: AdlibReason, timeBudgetMs = 1000): Promise<{ text: string; fromModel: boolean; ms: number }> {
    const t0 = performance.now();
    const direction = reason === 'hub-lost' ? DIRECTIONS[reason] : `${DIRECTIONS[reason]} ${this.character.name}.`;
    const context = [...this.heard.slice(-6), `[${direction}]`];
    const prompt = adlibPrompt({ name: this.speakerName, persona: this.character.persona }, context);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await this.lm.complete(prompt, {
          maxNewTokens: 40, temperature: 0.8, topK: 40, repetitionPenalty: 1.2,
          seed: this.seed++, stop: [...ADLIB_STOP], timeBudgetMs: Math.max(50, timeBudgetMs - (performance.now() - t0)),
        });
        const text = speakableAdlib(extractLine(r.text, this.speakerName), this.japanese);
        // A line of a word or two, or a stage direction only, is noise from a small model; ask again.
        if (text && [...text].length >= 6) return { text, fromModel: true, ms: performance.now() - t0 };
      } catch (e) {
        this.log?.warn({ err: (e as Error).message }, 'local model failed; using a fallback line');
        break;
      }
    }
    const lang = this.japanese ? 'ja' : 'en';
    return { text: FALLBACK[reason][lang], fromModel: false, ms: performance.now() - t0 };
  }
}
