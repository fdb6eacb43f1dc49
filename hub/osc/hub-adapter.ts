/**
 * Wires the OSC endpoint to a hub: commands go to the hub's console command handler (the one
 * MQTT console/* uses), state comes from the hub's show-state and node-state events. This file is
 * the only place OSC knows the Hub class.
 */
import type { Hub } from '../hub.ts';
import type { NodeInfo } from '../registry.ts';
import type { CommandRunner, StageState, StageChange } from './server.ts';

export function commandsOf(hub: Hub): CommandRunner {
  return { run: (command, args) => hub.console.run(command, args) };
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
