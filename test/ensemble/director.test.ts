import { describe, it, expect } from 'vitest';
import { Director } from '../../hub/ensemble/director.ts';
import { bladeCast, crossingSpec } from './helpers.ts';

const cast = () => bladeCast();
const withTalk = (t: Record<string, number>) => cast().map((c) => ({ ...c, traits: { ...c.traits, talkativeness: t[c.id] ?? 0 } }));

describe('director: who speaks next', () => {
  it('the operator override comes first, if that character is on stage', () => {
    const d = new Director(crossingSpec({ mustSay: [] }), cast());
    expect(d.next({ speaker: 'kenzaki', text: 'Aikawa, what do you say?' }, 'mutsuki')).toMatchObject({ speaker: 'mutsuki', reason: 'override' });
    const d2 = new Director(crossingSpec({ onStage: ['kenzaki', 'aikawa'], beats: [], mustSay: [] }), cast());
    expect(d2.next({ speaker: 'kenzaki', text: 'Aikawa?' }, 'mutsuki').reason).not.toBe('override');
  });

  it('then whoever the last line addressed by name (the first named, never the speaker)', () => {
    const d = new Director(crossingSpec({ mustSay: [] }), cast());
    expect(d.next({ speaker: 'kenzaki', text: 'Tachibana, and you, Aikawa: speak.' })).toMatchObject({ speaker: 'tachibana', reason: 'addressed' });
    expect(d.next({ speaker: 'kenzaki', text: 'I, Kenzaki, decide.' }).reason).not.toBe('addressed');
  });

  it('a due must-say line comes before talkativeness', () => {
    const d = new Director(crossingSpec({ mustSay: [{ character: 'mutsuki', text: 'Sit down.' }] }), cast());
    expect(d.next({ speaker: 'kenzaki', text: 'We go.' })).toMatchObject({ speaker: 'mutsuki', reason: 'must-say' });
  });

  it('then talkativeness: only those who speak up are candidates', () => {
    const d = new Director(crossingSpec({ beats: [], mustSay: [] }), withTalk({ kenzaki: 1, aikawa: 1 }));
    const r = d.next({ speaker: 'kenzaki', text: 'We go.' });
    expect(r).toMatchObject({ speaker: 'aikawa', reason: 'talkative' });
  });

  it('among those who speak up, the character the next beat needs wins', () => {
    const d = new Director(crossingSpec({ mustSay: [] }), withTalk({ kenzaki: 1, aikawa: 1, tachibana: 1, mutsuki: 1 }));
    expect(d.next({ speaker: 'kenzaki', text: 'We go.' })).toMatchObject({ speaker: 'tachibana', reason: 'plot' });
  });

  it('when nobody speaks up, the plot decides, then whoever was quiet longest', () => {
    const d = new Director(crossingSpec({ mustSay: [] }), withTalk({}));
    expect(d.next({ speaker: 'kenzaki', text: 'We go.' })).toMatchObject({ speaker: 'tachibana', reason: 'plot' });
    const d2 = new Director(crossingSpec({ beats: [], mustSay: [] }), withTalk({}));
    d2.noteLine('tachibana', 'a'); d2.noteLine('aikawa', 'b'); d2.noteLine('kenzaki', 'c');
    expect(d2.next({ speaker: 'kenzaki', text: 'c' })).toMatchObject({ speaker: 'mutsuki', reason: 'quietest' });
  });

  it('beats are hit in order only, and release their must-say lines', () => {
    const d = new Director(crossingSpec(), cast());
    expect(d.noteLine('aikawa', 'The ferry!')).toBeNull(); // ferry before danger does not count
    expect(d.noteLine('tachibana', 'The river is in flood.')?.id).toBe('danger');
    expect(d.mustSayLeft).toBe(1);
    expect(d.next({ speaker: 'tachibana', text: 'x' }).reason).not.toBe('must-say');
    expect(d.noteLine('aikawa', 'Take the old ferry.')?.id).toBe('ferry');
    expect(d.next({ speaker: 'aikawa', text: 'x' })).toMatchObject({ speaker: 'mutsuki', reason: 'must-say' });
  });

  it('forces the next beat when the turns left are needed for it', () => {
    const d = new Director(crossingSpec({ maxTurns: 3, mustSay: [] }), cast());
    d.noteLine('kenzaki', 'We go now.');
    const r = d.next({ speaker: 'kenzaki', text: 'We go now.' });
    expect(r.reason).toBe('forced-beat');
    expect(r.forcedBeat?.id).toBe('danger');
  });

  it('when the turns left are all needed, the forced beat and the must-say come before whoever was addressed', () => {
    // The Japanese crossing as it went wrong: danger hit, a question to Tachibana with two turns
    // left; answering it would leave one turn for the ferry and none for the must-say line.
    const d = new Director(crossingSpec({ maxTurns: 6, minTurns: 4 }), withTalk({}));
    d.noteLine('tachibana', 'The river is in flood.');
    d.noteLine('aikawa', 'Hm.');
    d.noteLine('tachibana', 'Careful.');
    d.noteLine('kenzaki', 'Tachibana, are you with me?');
    const r = d.next({ speaker: 'kenzaki', text: 'Tachibana, are you with me?' });
    expect(r).toMatchObject({ speaker: 'aikawa', reason: 'forced-beat' });
    expect(d.noteLine('aikawa', r.forcedBeat!.line!.text)?.id).toBe('ferry');
    expect(d.next({ speaker: 'aikawa', text: 'Kenzaki, the ferry.' })).toMatchObject({ speaker: 'mutsuki', reason: 'must-say' });
    // With turns to spare, being addressed still comes first.
    const d2 = new Director(crossingSpec(), cast());
    d2.noteLine('tachibana', 'The river is in flood.');
    expect(d2.next({ speaker: 'kenzaki', text: 'Tachibana, are you with me?' })).toMatchObject({ speaker: 'tachibana', reason: 'addressed' });
  });
});
