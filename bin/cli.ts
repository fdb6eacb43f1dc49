/**
 * The `kuroko` command: one entry point, one subcommand per job. The hub and the edge live in
 * their own folders and never import each other; this file only dispatches.
 */
import { UsageError, flagErrorMessage } from './errors.ts';

const HELP = `kuroko — robots performing live theatre

Usage: kuroko <command> [options]    (kuroko <command> --help for details)

Commands:
  demo       perform a show with simulated robots on the embedded broker (npm start)
  hub        run the hub of a show
  edge       run one edge node (the computer inside a robot)
  validate   check show files and hardware profiles
  access     identities, passwords and certificates of a show (init, add, rotate, revoke, list)
  srt        export a performance journal as .srt subtitles
  journal    prune old journal records, erase a person's records (prune, erase)
  flash      build and flash the Kuroko firmware to a node's board
  ensemble   replay an improvised scene as a cue list; import a scene from .srt
  card       import a Character Card V2 (.json or .png) into a show's cast; export one
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
  access: async () => (await import('../hub/access/cli.ts')).runAccessCli,
  srt: async () => (await import('../hub/srt-cli.ts')).runSrtCli,
  journal: async () => (await import('../hub/journal-cli.ts')).runJournalCli,
  ensemble: async () => (await import('../hub/ensemble/cli.ts')).runEnsembleCli,
  card: async () => (await import('../hub/ensemble/card-cli.ts')).runCardCli,
  node: async () => (await import('../edge/agent/cli.ts')).runNodeCli,
  fleet: async () => (await import('../hub/fleet/cli.ts')).runFleetCli,
  flash: async () => (await import('../firmware-config/flash.ts')).runFlashCli,
  release: async () => (await import('../deploy/release/cli.ts')).runReleaseCli,
  version: async () => async (argv) => {
    if (argv.length) throw new UsageError(`kuroko version takes no arguments (got ${argv.join(' ')})`);
    console.log((await import('../protocol/version.ts')).SOFTWARE_VERSION);
    return 0;
  },
};

export async function main(argv: string[]): Promise<void> {
  process.exit(await runCommand(argv));
}

/** Runs one command and returns its exit code, printing errors as the CLI does (tests call this in-process). */
export async function runCommand(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    console.log(HELP);
    return cmd ? 0 : 2;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    console.error(`kuroko: unknown command "${cmd}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(flagErrorMessage(cmd, err));
      return 2;
    }
    if (err instanceof UsageError || err.name === 'DocumentError') {
      console.error(`kuroko ${cmd}: ${err.message}`);
      return 2;
    }
    console.error(`kuroko ${cmd}: ${err.message}`);
    if (process.env.KUROKO_DEBUG) console.error(err.stack);
    return 1;
  }
}
