/**
 * Picks the hardware backend and the voice a profile asks for. Simulated and real hardware sit
 * behind the same interface, so the rest of the node never knows which one it drives.
 */
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import type { Logger } from 'pino';
import type { HardwareBackend } from './types.ts';
import type { SpeechEngine } from '../voice/types.ts';
import { SimHardware } from './sim.ts';
import { SimVoice } from '../voice/sim-voice.ts';

export async function createHardware(profile: ProfileT, _log: Logger): Promise<HardwareBackend> {
  if (profile.platform === 'sim') return new SimHardware(profile);
  throw new Error(`platform ${profile.platform}: the real hardware backend is not available in this build; use platform: sim`);
}

export async function createVoice(profile: ProfileT, _log: Logger): Promise<SpeechEngine> {
  const v = profile.voice ?? { engine: 'sim' as const };
  if (v.engine === 'sim') return new SimVoice(v.msPerChar ?? 45);
  throw new Error(`voice engine ${v.engine} is not available in this build; use engine: sim`);
}
