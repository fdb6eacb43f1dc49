import { describe, it, expect } from 'vitest';
import { parseCard, toCard, CardError } from '../../hub/ensemble/card.ts';

const card = {
  spec: 'chara_card_v2',
  spec_version: '2.0',
  data: {
    name: 'Aikawa',
    description: 'A curious scout who gathers rumours and facts.',
    personality: 'quick, restless, friendly',
    scenario: 'A council at dusk.',
    first_mes: 'I just got back. You will not like this.',
    mes_example: '<START>\nAikawa: The bridge is down.',
    creator_notes: 'made for Kuroko tests',
    system_prompt: 'Stay in character.',
    post_history_instructions: 'Keep it short.',
    alternate_greetings: ['Psst. Over here.'],
    tags: ['scout', 'robot'],
    creator: 'someone',
    character_version: '3',
    character_book: { name: 'lore', scan_depth: 4, entries: [{ keys: ['ferry'], content: 'The ferry runs at night.', enabled: true, insertion_order: 1, some_tool_field: { x: 1 } }] },
    extensions: {
      depth_prompt: { prompt: 'x', depth: 4 },
      talkativeness: '0.5',
      kuroko: { node: 'scout-bot', voice: 'en-f-2', role: 'intelligence', gestures: { point: 'arm-point', think: 'head-scratch' }, traits: { riskTolerance: 0.6 }, future_field: [1, 2, 3] },
    },
    unknown_data_key: { nested: true },
  },
  unknown_top_key: 'kept',
};

describe('Character Card V2', () => {
  it('reads the persona and the kuroko extension', () => {
    const { character: c } = parseCard(JSON.stringify(card));
    expect(c).toMatchObject({
      id: 'aikawa', name: 'Aikawa', node: 'scout-bot', voice: 'en-f-2', role: 'intelligence',
      gestures: { point: 'arm-point', think: 'head-scratch' },
      traits: { riskTolerance: 0.6, talkativeness: 0.5, analysisDepth: 'medium' },
    });
    expect(c.persona).toMatchObject({ description: card.data.description, personality: card.data.personality, greeting: card.data.first_mes, systemPrompt: 'Stay in character.', postHistoryInstructions: 'Keep it short.' });
    expect(c.persona.lore).toEqual([{ keys: ['ferry'], content: 'The ferry runs at night.' }]);
  });

  it('round-trips: every key it does not know survives, unchanged', () => {
    const { character, card: base } = parseCard(structuredClone(card));
    expect(toCard(character, base)).toEqual(card);
  });

  it('writes changes back into the card and keeps the rest', () => {
    const { character, card: base } = parseCard(structuredClone(card));
    character.traits.riskTolerance = 0.9;
    character.gestures.nod = 'head-nod';
    const out = toCard(character, base);
    expect(out.data.extensions.kuroko).toMatchObject({ traits: { riskTolerance: 0.9 }, gestures: { nod: 'head-nod' }, future_field: [1, 2, 3] });
    expect(out.data.extensions.depth_prompt).toEqual({ prompt: 'x', depth: 4 });
    expect((out as Record<string, unknown>).unknown_top_key).toBe('kept');
    // And a character with no card becomes a new one that reads back the same.
    const fresh = toCard(character);
    expect(parseCard(fresh).character).toEqual(character);
  });

  it('refuses what is not a V2 card', () => {
    expect(() => parseCard({ name: 'x' })).toThrow(CardError);
    expect(() => parseCard({ spec: 'chara_card_v2', data: {} })).toThrow(/name/);
  });
});
