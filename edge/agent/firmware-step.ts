/**
 * The firmware step of adoption: each Firmata board of the profile is asked what it runs; a
 * board whose firmware differs from the release's is flashed with the release's .hex through its
 * bootloader (the same path as `kuroko flash`), then asked again.
 */
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import { flashBoard, readBoardFirmware, type FlashIo } from '../../firmware-config/flash.ts';
import type { ReleaseFirmware } from './release-format.ts';
import type { ProgressSink } from './progress.ts';
import { StepError } from './progress.ts';

export async function ensureFirmware(profile: ProfileT, fw: ReleaseFirmware | null, sink: ProgressSink): Promise<string | null> {
  const boards = (profile.boards ?? []).filter((b) => b.type === 'firmata');
  if (!boards.length) {
    sink({ step: 'firmware', status: 'skip', message: 'the profile has no Firmata boards: nothing to flash' });
    return null;
  }
  if (!fw) throw new StepError('the installed release carries no firmware to flash', 'install a release bundle made by kuroko release (it includes the firmware .hex)');
  const want = `${fw.name} ${fw.major}.${fw.minor}`;
  for (const b of boards) {
    const t = { id: b.id, port: b.port, model: b.model ?? 'uno', baud: b.baud ?? 57600 };
    const t0 = Date.now();
    sink({ step: 'firmware', status: 'start', message: `asking board ${b.id} on ${b.port} what it runs…` });
    const has = await readBoardFirmware(t.port, t.baud);
    const hasText = has ? `${has.name} ${has.major}.${has.minor}` : 'no Firmata answer';
    if (has && has.name === fw.name && has.major === fw.major && has.minor === fw.minor) {
      sink({ step: 'firmware', status: 'skip', message: `board ${b.id} already runs ${want}`, ms: Date.now() - t0 });
      continue;
    }
    sink({ step: 'flash', status: 'start', message: `board ${b.id}: ${hasText}, flashing ${want}…` });
    const lines: string[] = [];
    const io: FlashIo = { out: (l) => { lines.push(l); sink({ step: 'flash', status: 'info', message: l.trim() }); }, err: (l) => lines.push(l) };
    try {
      await flashBoard(t, fw.hex, io, { expected: fw });
    } catch (e) {
      sink({ step: 'flash', status: 'fail', message: (e as Error).message, ms: Date.now() - t0 });
      throw new StepError(`flashing board ${b.id} on ${b.port} failed: ${(e as Error).message}`,
        'check the USB cable and the port in the profile, press the board\'s reset just before, then run kuroko fleet adopt again (adoption starts over safely)');
    }
    sink({ step: 'flash', status: 'ok', message: `board ${b.id} now runs ${want}`, ms: Date.now() - t0 });
  }
  return want;
}
