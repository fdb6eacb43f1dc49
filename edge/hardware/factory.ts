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

export async function createHardware(profile: ProfileT, log: Logger): Promise<HardwareBackend> {
  if (profile.platform === 'sim') return new SimHardware(profile);
  // Loaded only on a robot: johnny-five and serialport stay out of simulated nodes.
  const { createRealHardware } = await import('./real.ts');
  return createRealHardware(profile, { log });
}

export async function createVoice(profile: ProfileT, log: Logger): Promise<SpeechEngine> {
  const v = profile.voice ?? { engine: 'sim' as const };
  if (v.engine === 'sim') return new SimVoice({ ...(v.msPerChar !== undefined ? { msPerChar: v.msPerChar } : {}), ...(v.rates ? { rates: v.rates } : {}) });
  const { EspeakVoice } = await import('../voice/espeak.ts');
  return new EspeakVoice({ log, ...(v.device ? { device: v.device } : {}), ...(v.voices ? { voices: v.voices } : {}), ...(v.output ? { output: v.output } : {}) });
}
