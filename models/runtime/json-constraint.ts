/**
 * Token-masked decoding for a JSON schema: the schema is compiled to a state machine over
 * UTF-8 bytes, and at each step every token whose bytes the machine cannot accept from the
 * current state gets a logit of -Infinity. So the answer is always one JSON object of the schema,
 * whatever the model's size. The vocabulary is walked as a byte trie from the current state (a
 * dead branch is cut at its first byte), which keeps a step to a few milliseconds for a 4k vocabulary.
 *
 * The schema subset is what structured turns use: an object whose properties are all written,
 * in order; enum/const of strings, numbers and booleans; strings with minLength/maxLength (written
 * as plain text: no quotes, backslashes, control characters, brackets or asterisks, no leading,
 * trailing or double spaces, starting with a letter; valid UTF-8); numbers; booleans. Anything
 * else is refused when compiling, naming the place.
 *
 * A token budget is honoured too: a token is allowed only if the shortest way to finish the
 * object from after it still fits in the tokens left (every byte is a token in byte-level BPE).
 */

/** What the runtime's generate loop asks of a constraint. */
export interface TokenConstraint {
  /** Sets the logits of tokens that cannot come next to -Infinity. */
  mask(logits: Float32Array, tokensLeft: number): void;
  accept(tokenId: number): void;
  /** The object is complete: generation must stop. */
  readonly complete: boolean;
  /** The fewest tokens an answer may be given (generate raises maxNewTokens to it). */
  minBudget(): number;
  /** Closes the answer the shortest way (generation stopped early); returns the text added. */
  finish(): string;
}

type State = { seg: number; inner: unknown };

interface Segment {
  start(): unknown;
  /** Next inner state, or null when the byte is not allowed; `DONE` when the segment ended with this byte. */
  step(s: unknown, b: number): unknown;
  /** Fewest bytes to finish from s. */
  left(s: unknown): number;
  minLen: number;
}

const DONE = Symbol('done');
const enc = new TextEncoder();

class LiteralSeg implements Segment {
  constructor(private readonly bytes: Uint8Array) {}
  get minLen() { return this.bytes.length; }
  start() { return 0; }
  step(k: unknown, b: number) {
    const i = k as number;
    if (this.bytes[i] !== b) return null;
    return i + 1 === this.bytes.length ? DONE : i + 1;
  }
  left(k: unknown) { return this.bytes.length - (k as number); }
}

class EnumSeg implements Segment {
  private readonly options: Uint8Array[];
  constructor(values: readonly unknown[]) {
    this.options = values.map((v) => enc.encode(JSON.stringify(v)));
  }
  get minLen() { return Math.min(...this.options.map((o) => o.length)); }
  start() { return { pos: 0, live: this.options }; }
  step(s: unknown, b: number) {
    const { pos, live } = s as { pos: number; live: Uint8Array[] };
    const next = live.filter((o) => o[pos] === b);
    if (!next.length) return null;
    // Options are JSON values of distinct text; a finished one ends the segment only if no longer one shares the prefix.
    if (next.length === 1 && next[0]!.length === pos + 1) return DONE;
    return { pos: pos + 1, live: next.filter((o) => o.length > pos + 1) };
  }
  left(s: unknown) {
    const { pos, live } = s as { pos: number; live: Uint8Array[] };
    return Math.min(...live.map((o) => o.length - pos));
  }
}

/** A JSON string of plain spoken text: see the module comment. Length counts characters. */
class TextSeg implements Segment {
  constructor(private readonly min: number, private readonly max: number) {}
  get minLen() { return 2 + Math.max(1, this.min); }
  // opened, chars so far, last was a space, UTF-8 continuation bytes still due
  start() { return { open: false, n: 0, sp: false, due: 0 }; }
  step(s: unknown, b: number) {
    const st = s as { open: boolean; n: number; sp: boolean; due: number };
    if (!st.open) return b === 0x22 ? { open: true, n: 0, sp: false, due: 0 } : null;
    if (st.due > 0) return b >= 0x80 && b <= 0xbf ? { ...st, due: st.due - 1 } : null;
    if (b === 0x22) return st.n >= Math.max(1, this.min) && !st.sp ? DONE : null;
    if (st.n >= this.max) return null;
    if (b === 0x20) return st.n > 0 && !st.sp ? { open: true, n: st.n + 1, sp: true, due: 0 } : null;
    if (b >= 0xc2 && b <= 0xf4) return { open: true, n: st.n + 1, sp: false, due: b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1 };
    if (b >= 0x80) return null;
    const isLetter = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    if (st.n === 0 && !isLetter) return null;
    if (b < 0x20 || b === 0x7f || b === 0x5c || b === 0x5b || b === 0x5d || b === 0x28 || b === 0x29 || b === 0x2a || b === 0x7b || b === 0x7d) return null;
    return { open: true, n: st.n + 1, sp: false, due: 0 };
  }
  left(s: unknown) {
    const st = s as { open: boolean; n: number; sp: boolean; due: number };
    if (!st.open) return this.minLen;
    return st.due + Math.max(0, Math.max(1, this.min) - st.n) + (st.sp && st.n >= Math.max(1, this.min) ? 1 : 0) + 1;
  }
}

/** -?(0|[1-9][0-9]{0,5})(\.[0-9]{1,3})? followed by whatever comes next. */
class NumberSeg implements Segment {
  get minLen() { return 1; }
  start() { return 'start'; }
  // States: start, minus, zero, int(n), dot, frac(n). The number ends at the first byte that is not
  // part of it, so this segment never consumes that byte: see Machine.step's lookahead.
  step(s: unknown, b: number) {
    const st = s as string;
    const digit = b >= 0x30 && b <= 0x39;
    if (st === 'start') return b === 0x2d ? 'minus' : b === 0x30 ? 'zero' : digit ? 'int1' : null;
    if (st === 'minus') return b === 0x30 ? 'zero' : digit ? 'int1' : null;
    if (st === 'zero') return b === 0x2e ? 'dot' : null;
    if (st.startsWith('int')) { const n = Number(st.slice(3)); return b === 0x2e ? 'dot' : digit && n < 6 ? `int${n + 1}` : null; }
    if (st === 'dot') return digit ? 'frac1' : null;
    if (st.startsWith('frac')) { const n = Number(st.slice(4)); return digit && n < 3 ? `frac${n + 1}` : null; }
    return null;
  }
  canEnd(s: unknown) { const st = s as string; return st === 'zero' || st.startsWith('int') || st.startsWith('frac'); }
  left(s: unknown) { return this.canEnd(s) ? 0 : s === 'dot' ? 1 : 1; }
}

export class JsonSchemaMachine {
  private readonly segs: Segment[] = [];
  constructor(schema: Record<string, unknown>) {
    this.compile(schema, '#');
  }

  private lit(s: string): void { this.segs.push(new LiteralSeg(enc.encode(s))); }

  private compile(schema: Record<string, unknown>, at: string): void {
    if (schema.const !== undefined) { this.segs.push(new EnumSeg([schema.const])); return; }
    if (Array.isArray(schema.enum)) {
      if (!schema.enum.length || schema.enum.some((v) => v !== null && typeof v === 'object')) throw new Error(`${at}: enum must list strings, numbers or booleans`);
      this.segs.push(new EnumSeg(schema.enum)); return;
    }
    switch (schema.type) {
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
        const keys = Object.keys(props);
        if (!keys.length) throw new Error(`${at}: an object needs properties`);
        keys.forEach((k, i) => {
          this.lit(`${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
          this.compile(props[k]!, `${at}/properties/${k}`);
        });
        this.lit('}');
        return;
      }
      case 'string':
        this.segs.push(new TextSeg(Number(schema.minLength ?? 1), Number(schema.maxLength ?? 200)));
        return;
      case 'number': case 'integer':
        this.segs.push(new NumberSeg());
        return;
      case 'boolean':
        this.segs.push(new EnumSeg([true, false]));
        return;
      default:
        throw new Error(`${at}: type ${JSON.stringify(schema.type)} is not supported by token-masked decoding (object, string, number, boolean, enum, const)`);
    }
  }

  start(): State { return { seg: 0, inner: this.segs[0]!.start() }; }

  isComplete(s: State): boolean { return s.seg >= this.segs.length; }

  step(s: State, b: number): State | null {
    if (s.seg >= this.segs.length) return null;
    const seg = this.segs[s.seg]!;
    const r = seg.step(s.inner, b);
    if (r === null) {
      // A number ends at the first byte that cannot continue it: that byte starts the next segment.
      if (seg instanceof NumberSeg && seg.canEnd(s.inner)) return this.step(this.enter(s.seg + 1), b);
      return null;
    }
    if (r === DONE) return this.enter(s.seg + 1);
    return { seg: s.seg, inner: r };
  }

  private enter(i: number): State { return { seg: i, inner: i < this.segs.length ? this.segs[i]!.start() : null }; }

  /** Fewest bytes to complete the object from s. */
  left(s: State): number {
    if (s.seg >= this.segs.length) return 0;
    let n = this.segs[s.seg]!.left(s.inner);
    for (let i = s.seg + 1; i < this.segs.length; i++) n += this.segs[i]!.minLen;
    return n;
  }
}

interface TrieNode { ids: number[]; next: Map<number, TrieNode> }

/** The vocabulary as a byte trie (token id -> its bytes); special tokens are left out (never allowed). */
export class VocabTrie {
  readonly root: TrieNode = { ids: [], next: new Map() };
  constructor(tokenBytes: readonly (Uint8Array | null)[]) {
    tokenBytes.forEach((bytes, id) => {
      if (!bytes || !bytes.length) return;
      let n = this.root;
      for (const b of bytes) {
        let c = n.next.get(b);
        if (!c) { c = { ids: [], next: new Map() }; n.next.set(b, c); }
        n = c;
      }
      n.ids.push(id);
    });
  }
}

export class JsonConstraint implements TokenConstraint {
  private state: State;
  constructor(private readonly machine: JsonSchemaMachine, private readonly trie: VocabTrie, private readonly tokenBytes: readonly (Uint8Array | null)[]) {
    this.state = machine.start();
  }

  get complete(): boolean { return this.machine.isComplete(this.state); }

  /**
   * The token budget an answer needs: the shortest complete object (each byte at most one token)
   * plus room for the model's own words. Backends raise a smaller maxTokens to this.
   */
  minBudget(room = 32): number {
    return this.machine.left(this.machine.start()) + room;
  }

  /**
   * The bytes the schema forces next, whatever the model would say (`","emotion":"`, the rest of
   * an enum value once its first letters tell it apart): empty where the model has a choice.
   */
  forcedBytes(max = 64): number[] {
    const out: number[] = [];
    let s = this.state;
    while (out.length < max && !this.machine.isComplete(s)) {
      let only = -1;
      for (let b = 0; b < 256; b++) {
        if (!this.machine.step(s, b)) continue;
        if (only >= 0) return out;
        only = b;
      }
      if (only < 0) break;
      out.push(only);
      s = this.machine.step(s, only)!;
    }
    return out;
  }

  /**
   * The forced bytes as tokens, longest first (at most `max` tokens; ids below `size`): what a
   * backend may evaluate in one batch instead of sampling one at a time (jump-forward decoding).
   */
  forcedTokens(max = 64, size = this.tokenBytes.length): number[] {
    const forced = this.forcedBytes();
    const out: number[] = [];
    for (let at = 0; at < forced.length && out.length < max;) {
      let node: TrieNode | undefined = this.trie.root;
      let best: number | undefined;
      let len = 0;
      for (let i = at; i < forced.length; i++) {
        node = node.next.get(forced[i]!);
        if (!node) break;
        const id = node.ids.find((x) => x < size);
        if (id !== undefined) { best = id; len = i - at + 1; }
      }
      if (best === undefined) break;
      out.push(best);
      at += len;
    }
    return out;
  }

  /**
   * allowed[id] = 1 for every token that can come next within the token budget. Where the schema
   * forces the next bytes, only the longest token spelling them is allowed: left free, a small
   * model spells `{"speaker":"` a byte or two at a time (measured: 25 tokens for 30 forced bytes
   * on kuroko-tiny), and every token is a decoding step a slow hub model pays for.
   */
  allowed(tokensLeft: number, size: number): Uint8Array {
    const allowed = new Uint8Array(size);
    const budget = tokensLeft - 1; // bytes may remain after this token, each at most one token
    const best = this.forcedTokens(1, size)[0];
    if (best !== undefined) { allowed[best] = 1; return allowed; }
    const walk = (node: TrieNode, s: State) => {
      for (const [b, child] of node.next) {
        const n = this.machine.step(s, b);
        if (!n) continue;
        if (child.ids.length && this.machine.left(n) <= budget) for (const id of child.ids) if (id < size) allowed[id] = 1;
        if (!this.machine.isComplete(n)) walk(child, n);
      }
    };
    walk(this.trie.root, this.state);
    return allowed;
  }

  mask(logits: Float32Array, tokensLeft: number): void {
    const allowed = this.allowed(tokensLeft, logits.length);
    let any = false;
    for (let i = 0; i < logits.length; i++) { if (!allowed[i]) logits[i] = -Infinity; else any = true; }
    if (!any) throw new Error('no token can continue the JSON answer within the token budget: raise maxTokens');
  }

  /**
   * Completes the object by the shortest way (a model that ended early: an end-of-text token the
   * backend cannot mask). Returns the text appended.
   */
  finish(): string {
    const out: number[] = [];
    let s = this.state;
    while (!this.machine.isComplete(s)) {
      const left = this.machine.left(s);
      let next: State | null = null;
      // Closing bytes first, then letters, then anything that brings the end nearer.
      for (const b of [0x22, 0x7d, 0x61, ...Array.from({ length: 256 }, (_, i) => i)]) {
        const n = this.machine.step(s, b);
        if (n && this.machine.left(n) < left) { next = n; out.push(b); break; }
      }
      if (!next) throw new Error('the JSON answer cannot be completed');
      s = next;
    }
    this.state = s;
    return new TextDecoder().decode(Uint8Array.from(out));
  }

  /** Like accept(), but says false (and changes nothing) for a token the mask would have refused. */
  tryAccept(id: number): boolean {
    const bytes = this.tokenBytes[id];
    let s: State | null = this.state;
    for (const b of bytes ?? []) s = s && this.machine.step(s, b);
    if (!s || !bytes) return false;
    this.state = s;
    return true;
  }

  accept(id: number): void {
    const bytes = this.tokenBytes[id];
    let s: State | null = this.state;
    for (const b of bytes ?? []) { s = s && this.machine.step(s, b); }
    if (!s || !bytes) throw new Error(`token ${id} does not continue the JSON answer`);
    this.state = s;
  }
}

/** GPT-2's byte-level alphabet: each byte is one printable character in tokenizer.json. */
export function byteLevelDecoder(): Map<string, number> {
  const bs: number[] = [];
  for (let i = 0x21; i <= 0x7e; i++) bs.push(i);
  for (let i = 0xa1; i <= 0xac; i++) bs.push(i);
  for (let i = 0xae; i <= 0xff; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  return new Map(bs.map((b, i) => [String.fromCodePoint(cs[i]!), b]));
}

/** Token id -> bytes, from a byte-level BPE tokenizer.json (special tokens -> null). */
export function tokenBytesFromTokenizerJson(tj: { model: { vocab: Record<string, number> }; added_tokens?: { id: number; special?: boolean }[] }, vocabSize: number): (Uint8Array | null)[] {
  const dec = byteLevelDecoder();
  const out: (Uint8Array | null)[] = new Array(vocabSize).fill(null);
  const special = new Set((tj.added_tokens ?? []).filter((a) => a.special !== false).map((a) => a.id));
  for (const [tok, id] of Object.entries(tj.model.vocab)) {
    if (id >= vocabSize || special.has(id)) continue;
    const bytes: number[] = [];
    for (const ch of tok) { const b = dec.get(ch); if (b === undefined) { bytes.length = 0; break; } bytes.push(b); }
    out[id] = bytes.length ? Uint8Array.from(bytes) : null;
  }
  return out;
}
