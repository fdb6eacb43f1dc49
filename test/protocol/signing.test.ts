import { describe, it, expect } from 'vitest';
import { Signer, Verifier, splitAuth, controlHook } from '../../protocol/signing.ts';
import { decode, encode } from '../../protocol/codec.ts';

const KEY = Buffer.alloc(32, 1);
const T = 'kuroko/v1/quick/node/ann/cmd';
const body = () => encode('nodeCmd', { v: 1, cmd: 'arm', ts: 1 });

describe('signed control messages', () => {
  it('a signed message verifies once, and decodes against the contract with or without its auth field', () => {
    const signed = new Signer(KEY).sign(T, body());
    expect(decode('nodeCmd', signed).ok).toBe(true);
    const v = new Verifier(KEY);
    const r = v.verify(T, signed);
    expect(r).toEqual({ ok: true, body: body() });
    expect(v.verify(T, signed)).toMatchObject({ ok: false, error: expect.stringMatching(/replayed/) });
  });

  it('refuses unsigned, tampered, wrong-key and wrong-topic messages', () => {
    const v = new Verifier(KEY);
    const signed = new Signer(KEY).sign(T, body());
    expect(v.verify(T, body())).toMatchObject({ ok: false, error: expect.stringMatching(/unsigned/) });
    expect(v.verify(T, signed.replace('"arm"', '"disarm"'))).toMatchObject({ ok: false, error: expect.stringMatching(/wrongly signed/) });
    expect(v.verify(T, new Signer(Buffer.alloc(32, 2)).sign(T, body()))).toMatchObject({ ok: false, error: expect.stringMatching(/wrongly signed/) });
    expect(v.verify('kuroko/v1/quick/node/ben/cmd', signed)).toMatchObject({ ok: false, error: expect.stringMatching(/wrongly signed/) });
  });

  it('a floor from before a restart: whatever was signed at or below it is a replay, on every topic; the highest accepted is kept', () => {
    const signer = new Signer(KEY);
    const old = signer.sign(T, body());
    const oldOther = signer.sign('kuroko/v1/quick/node/ann/cue', body());
    const floor = splitAuth(oldOther)!.ctr;
    const v = new Verifier(KEY, floor); // the node restarted, having accepted up to `floor`
    expect(v.verify(T, old)).toMatchObject({ ok: false, error: expect.stringMatching(/replayed/) });
    expect(v.verify('kuroko/v1/quick/node/ann/cue', oldOther)).toMatchObject({ ok: false, error: expect.stringMatching(/replayed/) });
    const fresh = signer.sign(T, body());
    expect(v.verify(T, fresh).ok).toBe(true);
    expect(v.highest).toBe(splitAuth(fresh)!.ctr);
    // The hook reports the highest accepted counter, for the node to keep.
    const kept: number[] = [];
    const hook = controlHook(KEY, { floor, accepted: (h) => kept.push(h) });
    const m = signer.sign(T, body());
    expect(hook.incoming!({ channel: 'nodeCmd', topic: T, params: { node: 'ann' }, payload: old, retained: false }).ok).toBe(false);
    expect(hook.incoming!({ channel: 'nodeCmd', topic: T, params: { node: 'ann' }, payload: m, retained: false }).ok).toBe(true);
    expect(kept).toEqual([splitAuth(m)!.ctr]);
  });

  it('counters only grow, across a restarted signer too (they start from the clock)', () => {
    let now = 1_000_000;
    const first = new Signer(KEY, () => now);
    const a = splitAuth(first.sign(T, body()))!.ctr;
    now += 5;
    const b = splitAuth(new Signer(KEY, () => now).sign(T, body()))!.ctr;
    expect(b).toBeGreaterThan(a);
  });

  it('the node hook obeys any e-stop, but a release must be signed, fresh and live', () => {
    const hook = controlHook(KEY);
    const t = 'kuroko/v1/quick/estop';
    const engage = encode('estop', { v: 1, active: true, source: 'anyone', ts: 1 });
    const release = encode('estop', { v: 1, active: false, source: 'console', ts: 2 });
    const base = { channel: 'estop' as const, topic: t, params: {} };
    expect(hook.incoming!({ ...base, payload: engage, retained: false }).ok).toBe(true);
    expect(hook.incoming!({ ...base, payload: release, retained: false }).ok).toBe(false);
    const hubSigner = new Signer(KEY);
    expect(hook.incoming!({ ...base, payload: hubSigner.sign(t, release), retained: true })).toMatchObject({ ok: false, error: expect.stringMatching(/retained/) });
    const signed = hubSigner.sign(t, release);
    expect(hook.incoming!({ ...base, payload: signed, retained: false }).ok).toBe(true);
    expect(hook.incoming!({ ...base, payload: signed, retained: false }).ok).toBe(false);
  });

  it('without a key (an --insecure stage) the auth field is only stripped', () => {
    const hook = controlHook(undefined);
    const signed = new Signer(KEY).sign(T, body());
    expect(hook.incoming!({ channel: 'nodeCmd', topic: T, params: { node: 'ann' }, payload: signed, retained: false })).toEqual({ ok: true, payload: body() });
  });
});
