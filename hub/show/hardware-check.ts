/**
 * A show checked against its nodes' hardware profiles, before anything runs: every cue's servos,
 * motors, LEDs and gestures must exist on the node that performs it, angles must be within the
 * servo's range, motor duties within maxDuty, and a timed move no faster than the servo's maxSpeed.
 * At run time the node would reject or clamp such a cue; here it is an error with the line and the fix.
 * Problems start with the field path in brackets, for protocol/yaml-document.ts locateProblems.
 */
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import { minMoveMs } from '../../firmware-config/motion-limits.ts';
import type { ShowT, ShowCueT } from './schema.ts';

export interface NodeProfile { profile: ProfileT; file: string }

const list = (xs: string[]) => xs.join(', ') || 'none';
const round = (n: number) => Math.round(n * 100) / 100;

/** Problems, and the nodes that could not be checked (no profile). */
export function hardwareProblems(show: ShowT, profiles: Map<string, NodeProfile>): { problems: string[]; unchecked: string[] } {
  const out: string[] = [];
  const byCharacter = new Map(show.cast.map((c) => [c.id, c]));
  const unchecked = show.cast.filter((c) => !profiles.has(c.node)).map((c) => c.node);

  // The semantic gestures a character maps (used by improvised scenes) must exist on its node.
  show.cast.forEach((c, i) => {
    const p = profiles.get(c.node);
    if (!p) return;
    for (const [semantic, name] of Object.entries(c.gestures ?? {})) {
      if (!p.profile.gestures?.[name]) out.push(`[cast.${i}.gestures.${semantic}] node "${c.node}" (${p.file}) has no gesture "${name}" (it has: ${list(Object.keys(p.profile.gestures ?? {}))}): map "${semantic}" to one of those`);
    }
  });

  show.scenes.forEach((scene, si) => {
    // Where each servo is, as far as the cue list says: every node starts a scene at rest.
    const position = new Map<string, number>();
    scene.cues.forEach((cue, ci) => {
      const where = `scenes.${si}.cues.${ci}`;
      const character = cue.character ? byCharacter.get(cue.character) : undefined;
      if (!character) return;
      const p = profiles.get(character.node);
      if (!p) return;
      out.push(...cueProblems(cue, where, character.node, character.gestures ?? {}, p, position));
    });
  });
  return { problems: out, unchecked };
}

function cueProblems(cue: ShowCueT, where: string, node: string, gestureMap: Record<string, string>, p: NodeProfile, position: Map<string, number>): string[] {
  const out: string[] = [];
  const prof = p.profile;
  const of = `node "${node}" (${p.file})`;
  const servoAt = (id: string) => position.get(`${node}/${id}`) ?? prof.servos?.find((s) => s.id === id)?.rest ?? 0;
  switch (cue.kind) {
    case 'motion': {
      for (const [id, angle] of Object.entries(cue.servos ?? {})) {
        const s = prof.servos?.find((x) => x.id === id);
        if (!s) {
          out.push(`[${where}.servos.${id}] ${of} has no servo "${id}" (it has: ${list((prof.servos ?? []).map((x) => x.id))}): use one of those names`);
          continue;
        }
        if (angle < s.min || angle > s.max) {
          const applied = Math.min(s.max, Math.max(s.min, angle));
          out.push(`[${where}.servos.${id}] servo "${id}" of ${of} turns ${s.min}..${s.max}°, not ${angle}°: the node would clamp it to ${applied}°; use an angle within ${s.min}..${s.max}`);
          position.set(`${node}/${id}`, applied);
          continue;
        }
        const from = servoAt(id);
        if (cue.duration !== undefined && cue.duration > 0) {
          const needMs = minMoveMs(from, angle, s.maxSpeed, cue.easing ?? 'ease-in-out');
          if (cue.duration * 1000 + 1e-6 < needMs) {
            out.push(`[${where}.duration] servo "${id}" of ${of} would move ${from}→${angle}° in ${cue.duration} s, faster than its maxSpeed ${s.maxSpeed}°/s${(cue.easing ?? 'ease-in-out') === 'ease-in-out' ? ' (at the peak of the ease-in-out)' : ''}: make duration at least ${round(Math.ceil(needMs / 10) / 100)} or move less`);
          }
        }
        position.set(`${node}/${id}`, angle);
      }
      for (const [id, duty] of Object.entries(cue.motors ?? {})) {
        const m = prof.motors?.find((x) => x.id === id);
        if (!m) out.push(`[${where}.motors.${id}] ${of} has no motor "${id}" (it has: ${list((prof.motors ?? []).map((x) => x.id))}): use one of those names`);
        else if (Math.abs(duty) > m.maxDuty) out.push(`[${where}.motors.${id}] motor "${id}" of ${of} runs at most ±${m.maxDuty}, not ${duty}: the node would clamp it to ${Math.sign(duty) * m.maxDuty}; use a duty within ±${m.maxDuty}`);
      }
      break;
    }
    case 'light': {
      const led = prof.leds?.find((l) => l.id === cue.led);
      if (!led) out.push(`[${where}.led] ${of} has no LED "${cue.led}" (it has: ${list((prof.leds ?? []).map((l) => l.id))}): use one of those names`);
      else if (cue.color && led.type !== 'rgb') out.push(`[${where}.color] LED "${led.id}" of ${of} is ${led.type}, not rgb: it cannot show a colour; drop "color" (brightness still works)`);
      break;
    }
    case 'gesture': {
      const name = gestureMap[cue.gesture!] ?? cue.gesture!;
      const frames = prof.gestures?.[name];
      if (!frames) {
        out.push(`[${where}.gesture] ${of} has no gesture "${name}"${name !== cue.gesture ? ` (the cast maps "${cue.gesture}" to it)` : ''} (it has: ${list(Object.keys(prof.gestures ?? {}))}): use one of those, or add it under gestures: in the profile`);
        break;
      }
      for (const f of frames) for (const [id, a] of Object.entries(f.servos ?? {})) position.set(`${node}/${id}`, a);
      break;
    }
  }
  return out;
}
