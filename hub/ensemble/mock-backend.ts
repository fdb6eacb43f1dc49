/**
 * A deterministic, seeded "mock improviser": a TextBackend that reads the ensemble's prompts and
 * answers like a weak small model would — mostly usable lines in the asked format, sometimes with
 * the faults small models make (no emotion tag, a run-on into the next speaker, prose around the
 * JSON, the wrong speaker, junk tokens, a repeated line). Same seed, same prompt: same answer.
 * withLatency() wraps any backend with a set time per turn (the benchmark's "backend of set
 * latency"), on an injectable clock.
 */
import type { CompletionRequest, TextBackend } from './backend.ts';
import { abortError } from './backend.ts';
import type { EnsembleClock } from './clock.ts';
import { realClock } from './clock.ts';
import { EMOTIONS, inferEmotion, EMOTION_GESTURE } from './emotion.ts';
import { requestText } from './prompt.ts';
import { keywords } from './memory.ts';
import { seeded, hashString, pick, type Rng } from './rng.ts';
import { EN_PHRASES, JA_PHRASES } from './mock-phrases.ts';
import { goalIntent } from './beats.ts';
import { words } from './words.ts';

export interface MockOptions {
  seed?: number;
  /** Share of answers with a fault (default 0.25). */
  faultRate?: number;
  /** Share of emotion labels that are noise (default 0.15). */
  labelNoise?: number;
}

const ADJECTIVES = /^(old|new|great|flooded|spare|east|west|north|south|dark|long|broken|little|big|red|black|white)$/;
const JA_WORD = /^[\p{Script=Han}\p{Script=Katakana}ー]{2,8}$/u;
const JA_LABEL: Record<string, string> = {
  anger: '怒り', worry: '不安', joy: '喜び', fear: '恐れ', sadness: '悲しみ', surprise: '驚き', curious: '好奇心', calm: '落ち着き', trust: '信頼', determined: '決意', warmth: '温かさ', neutral: '中立',
};
const JA_COMMON = new Set(['一人', '二人', '三人', '四人', '全員', '自分', '私達', '今夜', '今日', '明日', '時間', '場合', '以上', '必要']);

export class MockImproviser implements TextBackend {
  readonly name = 'mock-improviser';
  readonly seed: number;
  readonly faultRate: number;
  readonly labelNoise: number;
  calls = 0;

  constructor(o: MockOptions = {}) {
    this.seed = o.seed ?? 7;
    this.faultRate = o.faultRate ?? 0.25;
    this.labelNoise = o.labelNoise ?? 0.15;
  }

  async *complete(req: CompletionRequest): AsyncGenerator<string, void> {
    this.calls++;
    if (req.signal?.aborted) throw abortError(req.signal);
    const text = this.answer(req);
    for (let i = 0; i < text.length; i += 4) {
      if (req.signal?.aborted) throw abortError(req.signal);
      yield text.slice(i, i + 4);
    }
  }

  /** The whole answer to a request. */
  answer(req: CompletionRequest): string {
    const text = requestText(req);
    const rng = seeded(hashString(text) ^ Math.imul(this.seed, 2654435761) ^ (req.seed ?? 0));
    const json = !req.prompt && !!req.messages;
    const task = /^Task: ([\w -]+?)(?: for (.+))?$/m.exec(text);
    const kind = task?.[1] ?? 'improv turn';
    if (kind === 'label emotion') return this.label(text, rng, json);
    const me = task?.[2]?.trim() ?? 'Someone';
    if (kind.startsWith('council')) return this.council(kind, me, text, rng, json);
    return this.turn(me, text, rng, json);
  }

  private label(text: string, rng: Rng, json: boolean): string {
    const line = /^Line: (.*)$/m.exec(text)?.[1] ?? '';
    const e = rng() < this.labelNoise ? pick(rng, EMOTIONS) : inferEmotion(line).emotion;
    return json ? JSON.stringify({ emotion: e, intensity: 0.6 }) : ` ${e}`;
  }

  private turn(me: string, text: string, rng: Rng, json: boolean): string {
    const onStage = (/^On stage: (.*)$/m.exec(text)?.[1] ?? '').split(',').map((s) => s.replace(/\(.*\)/, '').trim()).filter(Boolean);
    const role = new RegExp(`^${escapeRe(me)} \\((\\w+)\\):`, 'm').exec(text)?.[1] ?? 'other';
    // The character's language (prompt.ts writes "Language: ja." for anyone not speaking English).
    const ja = /^Language: ja\b/m.test(text);
    const bank = ja ? JA_PHRASES : EN_PHRASES;
    const steerAt = /Steer toward: (.*?) Mention: ([^\n]*)\.\s*$/m.exec(text);
    const steer = steerAt?.[2]?.split(/[,、]/).map((s) => s.trim()).filter(Boolean) ?? [];
    const premise = /^Premise: (.*)$/m.exec(text)?.[1] ?? '';
    const scriptLines = text.split('\n').filter((l) => /^(?:[A-Z][A-Z .'-]+|[\p{Script=Han}\p{Script=Katakana}\p{Script=Hiragana}ー]{1,12}): /u.test(l));
    const heard = scriptLines.at(-1)?.replace(/^[^:]+:\s*(\([^)]*\)\s*)?/, '') ?? '';
    const source = `${premise} ${heard} ${rng() < 0.5 ? heard : ''}`;
    const nouns = ja
      ? words(source, 'ja').filter((w) => JA_WORD.test(w) && !JA_COMMON.has(w) && !onStage.includes(w))
      : [...source.toLowerCase().matchAll(/\bthe ([a-z]{3,})(?: ([a-z]{3,}))?/g)]
        .map((m) => (ADJECTIVES.test(m[1]!) && m[2] ? `${m[1]} ${m[2]}` : m[1]!))
        .filter((w) => !/^(same|other|one|two|three|four|five|six|seven|eight|nine|ten|twelve|group|way|first|last|best|only)$/.test(w));
    const steered = steer.length > 0 && rng() < 0.7;
    const topics = steered ? steer : nouns.length ? nouns : [...keywords(premise)].filter((w) => w.length > (ja ? 1 : 4));
    const topic = topics.length ? pick(rng, topics) : bank.plan;
    const others = onStage.filter((n) => n.toLowerCase() !== me.toLowerCase());
    const name = others.length ? pick(rng, others) : ja ? '皆' : 'friend';
    // A steered line does what the goal asks (a proposal, a warning, ...) more often than not.
    const intent = steered && steerAt ? goalIntent(steerAt[1]!) : 'any';
    const template = intent !== 'any' && rng() < 0.6 ? pick(rng, bank.intents[intent]) : pick(rng, bank.roles[role] ?? bank.roles.other!);
    let line = template.replace('{topic}', topic);
    if (line.includes('{name}')) {
      line = rng() < 0.55 ? line.replace('{name}', name)
        : ja ? line.replace(/\{name\}、?/g, '')
          : line.replace(/,\s*\{name\}/g, '').replace(/\{name\},\s*(\S)/g, (_m, c: string) => c.toUpperCase());
    }
    line = `${pick(rng, bank.openers)}${line}${pick(rng, bank.closers)}`;
    const { emotion, intensity } = inferEmotion(line);
    const gestures = (/Gestures: ([^.]*)\./.exec(text)?.[1] ?? '').split(',').map((s) => s.trim()).filter((g) => g && g !== 'none');
    const semantic = EMOTION_GESTURE[emotion];
    const gesture = semantic && gestures.includes(semantic) && rng() < 0.5 ? semantic : undefined;
    let speaker = me;
    let fault = rng() < this.faultRate ? pick(rng, ['no-emotion', 'run-on', 'prose', 'wrong-speaker', 'junk', 'quotes', 'repeat'] as const) : null;
    if (fault === 'wrong-speaker' && others.length) speaker = pick(rng, others);
    if (fault === 'repeat' && heard) line = heard;
    const em = fault === 'no-emotion' ? undefined : emotion;
    if (fault === 'junk') return pick(rng, ['<|endoftext|>', ' ...', '', '<|im_end|>\n\n']);
    let out: string;
    if (json) {
      const obj: Record<string, unknown> = { speaker, line, ...(em ? { emotion: em } : {}), intensity, ...(gesture ? { gesture } : {}) };
      out = JSON.stringify(obj);
      if (fault === 'quotes') out = out.replace(/"(\w+)":/g, '$1:');
      if (fault === 'prose') out = `${pick(rng, bank.fillers)}${out}\nHope this helps!`;
    } else {
      // A Japanese character's mock sometimes labels in Japanese, as a Japanese model would (emotion.ts reads both).
      const label = em && ja && rng() < 0.3 ? JA_LABEL[em] : em;
      const body = `${label ? `(${label} ${intensity.toFixed(1)}) ` : ''}${line}${gesture ? ` *${gesture}*` : ''}`;
      out = speaker === me && fault !== 'wrong-speaker' ? ` ${body}` : `${speaker.toUpperCase()}: ${body}`;
      if (fault === 'prose') out = ` (slowly) "${line}" ${pick(rng, ['[pause]', ''])}`;
      if (fault === 'quotes') out = ` "${body}"`;
    }
    if (fault === 'run-on' && others.length) out += `\n${pick(rng, others).toUpperCase()}: ${bank.runOn}`;
    return out;
  }

  private council(kind: string, me: string, text: string, rng: Rng, json: boolean): string {
    const q = /^Council question: (.*)$/m.exec(text)?.[1] ?? '';
    const role = /^Role: (\w+)/m.exec(text)?.[1] ?? 'member';
    const risk = /Risk tolerance: (\w+)/.exec(text)?.[1] ?? 'medium';
    const deep = /Analysis depth: high/.test(text);
    const known = [...text.matchAll(/^Known: (.*)$/gm)].map((m) => m[1]!);
    const topic = /\bthe ([a-z]{3,})/.exec(q.toLowerCase())?.[1] ?? [...keywords(q)].filter((w) => w.length > 3 && !/^(should|would|could|shall|must|what|which|wait)$/.test(w))[0] ?? 'question';
    let line: string;
    if (/^Language: ja\b/m.test(text)) {
      line = this.councilJa(kind, role, risk, deep, known, text, q, rng);
    } else if (kind === 'council-synthesis') {
      const takes = [...text.matchAll(/^([A-Z][A-Z .'-]+): \((\w+)\) (.*)$/gm)];
      const decision = takes.find((t) => t[2] === 'decision')?.[3] ?? takes[0]?.[3] ?? 'we act';
      const caution = takes.find((t) => t[2] === 'analysis')?.[3];
      line = `Our answer: ${lowerFirst(decision.split(/[;.!]/)[0]!.trim())}${caution ? ', but carefully' : ''}.`;
    } else if (role === 'decision') {
      line = risk === 'high' ? `We commit to the ${topic} now; fortune favours the bold.` : risk === 'low' ? `We wait on the ${topic} until it is safe.` : `We try the ${topic}, with a way back.`;
    } else if (role === 'analysis') {
      line = deep ? `Three risks in the ${topic}: time, weather, and us. The second one is the worst.` : `The ${topic} is risky; I would halve the exposure.`;
    } else if (role === 'intelligence') {
      line = known.length ? `What I know: ${known[0]!.replace(/[.!]+$/, '')}.` : `I heard two rumours about the ${topic}; one is true.`;
    } else if (role === 'coordination') {
      line = `Let us each say what we need from the ${topic}, then decide together.`;
    } else {
      line = `My view on the ${topic}: ${pick(rng, ['yes, carefully', 'not yet', 'only together'])}.`;
    }
    const { emotion, intensity } = inferEmotion(line);
    if (json) return JSON.stringify({ speaker: me, line, emotion, intensity });
    return ` (${emotion} ${intensity.toFixed(1)}) ${line}`;
  }

  /** A council take or answer in Japanese (original text, same logic as the English one). */
  private councilJa(kind: string, role: string, risk: string, deep: boolean, known: string[], text: string, q: string, rng: Rng): string {
    const topic = words(q, 'ja').find((w) => JA_WORD.test(w) && !JA_COMMON.has(w)) ?? 'この件';
    if (kind === 'council-synthesis') {
      const takes = [...text.matchAll(/^(\S+): \((\w+)\) (.*)$/gm)];
      const decision = takes.find((t) => t[2] === 'decision')?.[3] ?? takes[0]?.[3] ?? '動く';
      const caution = takes.some((t) => t[2] === 'analysis');
      return `私たちの答え：${decision.split(/[。！；]/)[0]!.trim()}${caution ? '。ただし慎重に' : ''}。`;
    }
    if (role === 'decision') return risk === 'high' ? `今すぐ${topic}に賭ける。運は勇気ある者に味方する。` : risk === 'low' ? `安全になるまで${topic}は待つ。` : `${topic}をやってみる。ただし引き返す道は残す。`;
    if (role === 'analysis') return deep ? `${topic}には危険が三つある。時間、天気、そして私たち自身だ。二つ目が一番悪い。` : `${topic}は危ない。賭ける量を半分にしたい。`;
    if (role === 'intelligence') return known.length ? `知っていること：${known[0]!.replace(/[。.!！]+$/, '')}。` : `${topic}について噂を二つ聞いた。一つは本当だ。`;
    if (role === 'coordination') return `まず${topic}に何が必要か、一人ずつ言おう。それから一緒に決めよう。`;
    return `${topic}について私の考えは、${pick(rng, ['慎重にならいい', 'まだだ', 'みんな一緒ならいい'])}。`;
  }
}

/**
 * Wraps a backend so each completion takes `msPerTurn` (spread over the streamed chunks, first
 * chunk after `firstChunkShare` of it) on `clock`. Aborting the signal stops the wait.
 */
export function withLatency(inner: TextBackend, msPerTurn: number, clock: EnsembleClock = realClock, firstChunkShare = 1): TextBackend {
  return {
    name: `${inner.name}+${msPerTurn}ms`,
    async *complete(req: CompletionRequest): AsyncGenerator<string, void> {
      const chunks: string[] = [];
      for await (const c of inner.complete(req)) chunks.push(c);
      const first = msPerTurn * firstChunkShare;
      await clock.sleep(first, req.signal);
      const rest = chunks.length > 1 ? (msPerTurn - first) / (chunks.length - 1) : 0;
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0 && rest > 0) await clock.sleep(rest, req.signal);
        yield chunks[i]!;
      }
    },
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
