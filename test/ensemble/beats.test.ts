import { describe, it, expect } from 'vitest';
import { judgeBeat, goalIntent, judgeBeatWithModel, type BeatLike } from '../../hub/ensemble/beats.ts';
import { findPhrase } from '../../hub/ensemble/words.ts';
import { Director } from '../../hub/ensemble/director.ts';
import type { TextBackend } from '../../hub/ensemble/backend.ts';
import { bladeCast, crossingSpec } from './helpers.ts';

const names = ['睦月', '川', '月', '石', 'Mutsuki', 'Kenzaki'];

describe('beat judge: whole words, never substrings', () => {
  it('月 inside the name 睦月 is not 月', () => {
    const beat: BeatLike = { id: 'moon', goal: '誰かが月を見上げる。', keywords: ['月'] };
    expect(judgeBeat(beat, '睦月、まだ夜は長いよ。', { names }).hit).toBe(false);
    expect(judgeBeat(beat, '見て、月が出ている。', { names }).hit).toBe(true);
  });

  it('"light" inside "lighthouse" is not "light"', () => {
    const beat: BeatLike = { id: 'light', goal: 'Someone sees the light.', keywords: ['light'] };
    expect(judgeBeat(beat, 'I grew up near the lighthouse.').hit).toBe(false);
    expect(judgeBeat(beat, 'Look, a light on the far bank!').hit).toBe(true);
    expect(judgeBeat(beat, 'Lights on the water, there.').hit).toBe(true); // a plural is the same word
  });

  it('a keyword in an English template is not a Japanese beat met (the goal asks for a proposal)', () => {
    const beat: BeatLike = { id: 'wait', goal: '誰かが夜明けまで待つことを提案する。', keywords: ['まだ', '待つ'] };
    expect(judgeBeat(beat, 'I never liked the まだ.', { names }).hit).toBe(false);
    expect(judgeBeat(beat, '夜明けまで待とう。', { names }).hit).toBe(false); // 待つ is not said as written
    expect(judgeBeat(beat, '夜明けまで待つのはどうだ？', { names }).hit).toBe(true);
  });

  it('a negated hint does not count; a mention without the act does not count', () => {
    const beat: BeatLike = { id: 'ferry', goal: 'Someone proposes the old ferry.', keywords: ['ferry'] };
    expect(judgeBeat(beat, 'I never liked the ferry.').hit).toBe(false);
    expect(judgeBeat(beat, 'The ferry is painted red.').hit).toBe(false);
    expect(judgeBeat(beat, "Let's take the old ferry tonight.").hit).toBe(true);
    const ja: BeatLike = { id: 'ferry', goal: '誰かが古い渡し舟を提案する。', keywords: ['渡し舟'] };
    expect(judgeBeat(ja, '渡し舟は嫌いだ。').hit).toBe(false);
    expect(judgeBeat(ja, '渡し舟で行こう。').hit).toBe(true);
  });

  it('the scripted line always meets its beat; a claim alone never does', () => {
    const beat: BeatLike = { id: 'ferry', goal: 'Someone proposes the old ferry.', keywords: ['ferry'], line: { character: 'a', text: 'The old ferry still runs at night.' } };
    expect(judgeBeat(beat, 'The old ferry still runs at night.')).toMatchObject({ hit: true, how: 'scripted' });
    const d = new Director(crossingSpec({ beats: [{ id: 'danger', goal: 'Someone names the danger of the river road.', keywords: ['river'] }], mustSay: [] }), bladeCast());
    expect(d.noteLine('tachibana', 'Nice weather.', 'danger')).toBeNull();
    expect(d.lastVerdict?.hit).toBe(false);
  });

  it('reads the goal\'s intent in both languages', () => {
    expect(goalIntent('Someone names the danger of the river road.')).toBe('warn');
    expect(goalIntent('Someone proposes the old ferry.')).toBe('propose');
    expect(goalIntent('誰かが川の危険を口にする。')).toBe('warn');
    expect(goalIntent('月が出発を決める。')).toBe('decide');
    expect(goalIntent('Someone mentions the key.')).toBe('any');
  });

  it('whole-word phrases: multi-word English and Japanese at word boundaries only', () => {
    expect(findPhrase('We take the old ferry now', 'old ferry')).not.toBeNull();
    expect(findPhrase('We take the bold ferry now', 'old ferry')).toBeNull();
    expect(findPhrase('灯台の光が見える', '光')).not.toBeNull();
    expect(findPhrase('灯台守が来た', '灯台')).toBeNull();
  });

  it('a model can overrule a lexical hit, never create one', async () => {
    const say = (answer: string): TextBackend => ({ name: 'fixed', async *complete() { yield answer; } });
    const beat: BeatLike = { id: 'light', goal: 'Someone sees the light.', keywords: ['light'] };
    expect((await judgeBeatWithModel(say(' no'), beat, 'A light, there!')).hit).toBe(false);
    expect((await judgeBeatWithModel(say(' yes'), beat, 'A light, there!')).hit).toBe(true);
    expect((await judgeBeatWithModel(say(' yes'), beat, 'The lighthouse is dark.')).hit).toBe(false);
  });

  it('addresses a Japanese character by name, not by a character inside another name', () => {
    const cast = bladeCast().map((c, i) => ({ ...c, name: ['剣崎', '相川', '立花', '睦月'][i] ?? c.name }));
    const d = new Director(crossingSpec({ beats: [], mustSay: [] }), cast);
    const mutsuki = cast.find((c) => c.name === '睦月')!;
    const aikawa = cast.find((c) => c.name === '相川')!;
    expect(d.addressed('睦月、どう思う？', aikawa.id)).toBe(mutsuki.id);
    expect(d.addressed('相川は来ない。', mutsuki.id)).toBe(aikawa.id);
  });
});
