/**
 * What each supported board model offers: which pins exist, which have PWM, where the analog
 * pins start. Profile checks and the backend both read this table, so they agree.
 */
export type BoardModel = 'uno' | 'nano' | 'mega';

export interface BoardInfo {
  /** Digital pin numbers usable for I/O (0 and 1 are the serial link to the host). */
  digital: number[];
  pwm: number[];
  /** Pin number of A0; analog pins follow it. */
  analogBase: number;
  analogCount: number;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

export const BOARDS: Record<BoardModel, BoardInfo> = {
  // ATmega328P: PWM on timers 0 (5, 6), 1 (9, 10) and 2 (3, 11).
  uno: { digital: range(2, 19), pwm: [3, 5, 6, 9, 10, 11], analogBase: 14, analogCount: 6 },
  // The Nano's A6/A7 are analog-only inputs.
  nano: { digital: range(2, 19), pwm: [3, 5, 6, 9, 10, 11], analogBase: 14, analogCount: 8 },
  mega: { digital: range(2, 69), pwm: [...range(2, 13), 44, 45, 46], analogBase: 54, analogCount: 16 },
};

/** A profile pin ("A0" or a number) as a board pin number. */
export function pinNumber(model: BoardModel, pin: number | string): number {
  if (typeof pin === 'number') return pin;
  return BOARDS[model].analogBase + Number(pin.slice(1));
}

/** The analog channel of a pin, or null when it is not an analog input. */
export function analogChannel(model: BoardModel, pin: number | string): number | null {
  const info = BOARDS[model];
  const ch = pinNumber(model, pin) - info.analogBase;
  return ch >= 0 && ch < info.analogCount ? ch : null;
}

/** Why a pin cannot be used as asked, or null when it can. */
export function pinProblem(model: BoardModel, pin: number | string, need: 'digital' | 'pwm' | 'analog'): string | null {
  const info = BOARDS[model];
  const n = pinNumber(model, pin);
  if (need === 'analog') {
    return analogChannel(model, pin) === null ? `pin ${pin} is not an analog input on a ${model} (A0-A${info.analogCount - 1})` : null;
  }
  const analogOnly = model === 'nano' && (n === 20 || n === 21);
  if (!info.digital.includes(n) || analogOnly) {
    if (n === 0 || n === 1) return `pin ${pin} is the serial link to the host on a ${model}; use another pin`;
    return `pin ${pin} does not exist as a digital pin on a ${model}`;
  }
  if (need === 'pwm' && !info.pwm.includes(n)) return `pin ${pin} has no PWM on a ${model} (PWM pins: ${info.pwm.join(', ')})`;
  return null;
}
