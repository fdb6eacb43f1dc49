import { describe, expect, it } from 'vitest';
import { adlibPrompt, extractLine, formatLine } from '../../models/runtime/index.ts';

describe('ad-lib prompts', () => {
  it('builds a speaker-prefixed English script ending with the speaker', () => {
    const p = adlibPrompt({ name: 'JULIET' }, [formatLine('ROMEO', 'She speaks:\nO, speak again, bright angel!'), 'NURSE: Madam!']);
    expect(p).toBe('ROMEO: She speaks: O, speak again, bright angel!\nNURSE: Madam!\nJULIET:');
  });

  it('uses the full-width space for Japanese names and writes a persona as a stage direction', () => {
    const p = adlibPrompt({ name: 'ノラ', persona: '陽気な若妻' }, [formatLine('ランク', 'ふむ')]);
    expect(p).toBe('ランク\u3000ふむ\n\u3000\u3000\u3000\u3000ノラ、陽気な若妻\nノラ\u3000');
  });

  it('extracts one line for the speaker', () => {
    expect(extractLine(' I will not go.\nROMEO: Then stay.', 'JULIET')).toBe('I will not go.');
    expect(extractLine('JULIET: Ay me! And then the', 'JULIET')).toBe('Ay me!');
    expect(extractLine('どうして、そんなにじつと眺めていらつしやるの？　私に似\nランク　さあ', 'ノラ')).toBe('どうして、そんなにじつと眺めていらつしやるの？');
    expect(extractLine('\n', 'ノラ')).toBe('');
    expect(extractLine('no sentence end at all', 'X')).toBe('no sentence end at all');
  });
});
