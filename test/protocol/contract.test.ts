import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { asyncApiYaml } from '../../protocol/asyncapi.ts';
import { CHANNELS, topic, filter, parseTopic, decode, encode, TOPIC_ROOT, type ChannelName } from '../../protocol/index.ts';

/** The parser annotates schemas with x-parser-* ids; compare without them. */
function stripParserKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripParserKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('x-parser')).map(([k, x]) => [k, stripParserKeys(x)]));
  return v;
}

const docText = readFileSync(new URL('../../protocol/asyncapi.yaml', import.meta.url), 'utf8');

describe('AsyncAPI document', () => {
  it('is exactly what the code generates (run `npm run contract:doc` after changing the contract)', () => {
    expect(docText).toBe(asyncApiYaml());
  });

  it('parses with @asyncapi/parser without errors, and matches every channel the code uses', async () => {
    const { document, diagnostics } = await new Parser().parse(docText);
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((e) => `${e.message} at ${e.path.join('.')}`)).toEqual([]);
    expect(document).toBeDefined();
    const channels = document!.channels();
    const names = Object.keys(CHANNELS) as ChannelName[];
    expect(channels.all().length).toBe(names.length);
    for (const name of names) {
      const ch = channels.get(name);
      expect(ch, `channel ${name} documented`).toBeDefined();
      expect(ch!.address()).toBe(`${TOPIC_ROOT}/{show}/${CHANNELS[name].pattern}`);
      const msg = ch!.messages().all()[0]!;
      expect(stripParserKeys(msg.payload()!.json())).toEqual(JSON.parse(JSON.stringify(CHANNELS[name].schema)));
      const op = document!.operations().get(`${name}Publish`)!;
      const binding = op.bindings().get('mqtt')!.value() as { qos: number; retain: boolean };
      expect(binding.qos).toBe(CHANNELS[name].qos);
      expect(binding.retain).toBe(CHANNELS[name].retain);
    }
  });
});

describe('topics', () => {
  it('builds and parses every channel', () => {
    for (const name of Object.keys(CHANNELS) as ChannelName[]) {
      const t = topic('blade', name, { node: 'kenzaki', sensor: 'front-distance', kind: 'watchdog' });
      expect(t.startsWith('kuroko/v1/blade/')).toBe(true);
      expect(parseTopic('blade', t)?.name).toBe(name);
    }
  });

  it('refuses ids outside [a-z0-9-] and builds wildcard filters', () => {
    expect(() => topic('blade', 'nodeCue', { node: 'Kenzaki' })).toThrow(/not a valid id/);
    expect(() => topic('blade', 'nodeCue', { node: 'a/b' })).toThrow(/not a valid id/);
    expect(filter('blade', 'nodeCueAck')).toBe('kuroko/v1/blade/node/+/cue/ack');
    expect(parseTopic('blade', 'kuroko/v1/other/hub/state')).toBeNull();
    expect(parseTopic('blade', 'kuroko/v1/blade/node/x/unknown')).toBeNull();
  });
});

describe('payload codec', () => {
  const cue = { v: 1, id: '01jd0000000000000000000000', scene: 'a', seq: 0, at: 100, deadline: 600, ts: 1, kind: 'line', params: { character: 'kenzaki', text: 'Hello.' } };

  it('accepts a valid cue and refuses each kind of damage with a reason', () => {
    expect(decode('nodeCue', JSON.stringify(cue)).ok).toBe(true);
    const bad = (payload: string) => { const r = decode('nodeCue', payload); expect(r.ok).toBe(false); return r.ok ? '' : r.error; };
    expect(bad('not json')).toMatch(/not valid JSON/);
    expect(bad(JSON.stringify({ ...cue, id: 'UPPER' }))).toMatch(/id/);
    expect(bad(JSON.stringify({ ...cue, extra: 1 }))).toMatch(/unknown field "extra"|must NOT have additional/);
    expect(bad(JSON.stringify({ ...cue, kind: 'motion', params: { servos: { 'head-pan': 'fast' } } }))).toMatch(/number|servos/);
    expect(bad('x'.repeat(70000))).toMatch(/larger than/);
    expect(bad('null')).not.toBe('');
  });

  it('accepts console payloads in their bare forms', () => {
    expect(decode('consoleSceneStart', 'prologue')).toEqual({ ok: true, value: { scene: 'prologue' } });
    expect(decode('consoleSceneStart', '"prologue"')).toEqual({ ok: true, value: { scene: 'prologue' } });
    expect(decode('consoleSceneStart', '{"scene":"prologue"}')).toEqual({ ok: true, value: { scene: 'prologue' } });
    expect(decode('consoleSceneStart', 'Prologue!').ok).toBe(false);
    expect(decode('consoleGo', '')).toEqual({ ok: true, value: {} });
    expect(decode('consoleEstop', '{"reason":"smoke"}')).toEqual({ ok: true, value: { reason: 'smoke' } });
    expect(decode('consoleGo', '{"go":true}').ok).toBe(false);
  });

  it('takes a council question as text, and refuses empty, null and non-text questions with a reason', () => {
    expect(decode('consoleCouncilAsk', 'Should we cross tonight?')).toEqual({ ok: true, value: { question: 'Should we cross tonight?' } });
    expect(decode('consoleCouncilAsk', '"Why?"')).toEqual({ ok: true, value: { question: 'Why?' } });
    for (const bad of ['', '   ', 'null', '42', 'true', '[1,2]', '""', '"  "', '{"question":""}', '{"question":null}', '{"question":7}']) {
      const r = decode('consoleCouncilAsk', bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error, bad).toMatch(/question/);
    }
  });

  it('refuses to publish an invalid payload', () => {
    expect(() => encode('estop', { v: 1, active: 'yes' } as never)).toThrow(/refusing to publish/);
  });
});
