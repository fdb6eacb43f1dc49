/**
 * What the page may ask of the hub, and the show-mode lock. In show mode the controls a running
 * show needs stay (GO, stop, E-STOP, release, arm, disarm, next speaker, curator decisions, the next
 * scene), and the setup ones are refused: jumping to any other scene and turning curator mode on or
 * off. The hub itself (hub.console) still decides whether a command can run.
 */
import type { Hub } from '../hub.ts';
import type { CurateDecision } from './curator.ts';

export type ControlResult = { ok: boolean; message: string };

import { PAGE_COMMANDS, type ClientMessageT } from './page-protocol.ts';

export { PAGE_COMMANDS };
export type PageCommand = (typeof PAGE_COMMANDS)[number];

export interface StageSettings {
  showMode: boolean;
}

/** Page → hub control messages (page-protocol.ts). */
export type ControlMessage = ClientMessageT;

/** The scene after the current one (the first when none has started), or null at the end. */
export function nextScene(hub: Hub): string | null {
  const scenes = hub.o.show.scenes;
  const current = hub.playback.snapshot().scene;
  const i = current ? scenes.findIndex((s) => s.id === current) : -1;
  return scenes[i + 1]?.id ?? null;
}

export async function runControl(hub: Hub, settings: StageSettings, m: ControlMessage): Promise<ControlResult> {
  switch (m.type) {
    case 'command': {
      if (!(PAGE_COMMANDS as readonly string[]).includes(m.command)) return { ok: false, message: `unknown command ${m.command}` };
      const args = m.args ?? {};
      if (m.command === 'scene/start') {
        if (typeof args.scene !== 'string' || !args.scene) return { ok: false, message: 'scene/start: choose a scene first' };
        const next = nextScene(hub);
        if (settings.showMode && args.scene !== next) {
          return { ok: false, message: `show mode: only the next scene (${next ?? 'none left'}) can be started; leave show mode to jump to ${args.scene}` };
        }
      }
      return hub.console.run(m.command, args);
    }
    case 'curate': {
      if (!['approved', 'vetoed', 'regenerate'].includes(m.decision)) return { ok: false, message: `unknown decision ${m.decision}` };
      const done = hub.curator.decide(m.id, m.decision);
      return done ? { ok: true, message: `line ${m.decision}` } : { ok: false, message: 'that line is no longer waiting (it was already decided or auto-approved)' };
    }
    case 'settings': {
      const said: string[] = [];
      if (m.curator !== undefined) {
        if (settings.showMode) return { ok: false, message: 'show mode: curator mode cannot be changed; leave show mode first' };
        hub.curator.setEnabled(!!m.curator);
        said.push(`curator mode ${m.curator ? 'on' : 'off'}`);
      }
      if (m.showMode !== undefined) {
        settings.showMode = !!m.showMode;
        said.push(`show mode ${m.showMode ? 'on: setup controls locked' : 'off'}`);
      }
      return { ok: true, message: said.join('; ') || 'nothing changed' };
    }
  }
}
