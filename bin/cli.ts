/**
 * The `kuroko` command: one entry point, one subcommand per job. The hub and the edge live in
 * their own folders and never import each other; this file only dispatches.
 */
import { UsageError } from './errors.ts';

const HELP = `kuroko — robots performing live theatre

Usage: kuroko <command> [options]    (kuroko <command> --help for details)

Commands:
  demo       perform a show with simulated robots on the embedded broker (npm start)
  hub        run the hub of a show
  edge       run one edge node (the computer inside a robot)
  validate   check show files and hardware profiles
  srt        export a performance journal as .srt subtitles
  flash      build and flash the Kuroko firmware to a node's board
  ensemble   replay an improvised scene as a cue list; import a scene from .srt
  node       on a robot's computer: the node agent (kuroko node agent), first install
  fleet      find, adopt, update and roll back the robots' computers
  release    make and verify signed release bundles (linux-x64, linux-arm64)
  version    print the version`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('../hub/demo.ts')).runDemoCli,
  hub: async () => (await import('../hub/cli.ts')).runHubCli,
  edge: async () => (await import('../edge/cli.ts')).runEdgeCli,
  validate: async () => (await import('./validate.ts')).runValidateCli,
  srt: async () => (await import('../hub/srt-cli.ts')).runSrtCli,
  ensemble: async () => (await import('../hub/ensemble/cli.ts')).runEnsembleCli,
  node: async () => (await import('../edge/agent/cli.ts')).runNodeCli,
  fleet: async () => (await import('../hub/fleet/cli.ts')).runFleetCli,
  flash: async () => (await import('../firmware-config/flash.ts')).runFlashCli,
  release: async () => (await import('../deploy/release/cli.ts')).runReleaseCli,
  version: async () => async () => { console.log((await import('../protocol/version.ts')).SOFTWARE_VERSION); return 0; },
};

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    console.log(HELP);
    process.exit(cmd ? 0 : 2);
  }
  const load = COMMANDS[cmd];
  if (!load) {
    console.error(`kuroko: unknown command "${cmd}"\n\n${HELP}`);
    process.exit(2);
  }
  try {
    const code = await (await load())(rest);
    process.exit(code);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS') || err.name === 'DocumentError') {
      console.error(`kuroko ${cmd}: ${err.message}${err.code?.startsWith('ERR_PARSE_ARGS') ? ` (see kuroko ${cmd} --help)` : ''}`);
      process.exit(2);
    }
    console.error(`kuroko ${cmd}: ${err.message}`);
    if (process.env.KUROKO_DEBUG) console.error(err.stack);
    process.exit(1);
  }
}
