/**
 * Wires the OSC endpoint to a hub: commands go to the hub's console command handler (the one
 * MQTT console/* uses), state comes from the hub's show-state and node-state events. This file is
 * the only place OSC knows the Hub class.
 */
import type { Hub } from '../hub.ts';
import type { NodeInfo } from '../registry.ts';
import type { CommandRunner, StageState, StageChange } from './server.ts';

/**
 * Runs OSC commands on the hub and journals each (refused ones too) with who sent it: OSC names no
 * identity, so it is "osc:ADDRESS" with the operator role the allow-list grants that address.
 */
export function commandsOf(hub: Hub): CommandRunner {
  const by = (from: string | undefined) => ({ id: `osc:${from ?? 'unknown'}`, role: 'operator' });
  return {
    async run(command, args, from) {
      let r;
      try {
        r = await hub.console.run(command, args);
      } catch (e) {
        hub.audit({ action: command, by: by(from), ok: false, detail: `osc: ${(e as Error).message}`, ...(args ? { args: { ...args } } : {}) });
        throw e;
      }
      hub.audit({ action: command, by: by(from), ok: r.ok, detail: `osc: ${r.message}`, ...(args ? { args: { ...args } } : {}) });
      return r;
    },
    refused(command, message, from) {
      hub.audit({ action: command, by: by(from), ok: false, detail: `osc: ${message}` });
    },
  };
}

export function stageStateOf(hub: Hub): StageState {
  return {
    showState: () => hub.showState(),
    nodeStates: () => hub.registry.all().map((n) => ({ id: n.id, state: n.state })),
    onChange(fn: (c: StageChange) => void) {
      const onShow = () => fn({ kind: 'show' });
      // A node's state also moves the show's "armed" flag.
      const onNode = (n: NodeInfo) => { fn({ kind: 'node', id: n.id, state: n.state }); fn({ kind: 'show' }); };
      hub.on('show-state', onShow);
      hub.on('node-state', onNode);
      return () => { hub.off('show-state', onShow); hub.off('node-state', onNode); };
    },
  };
}
