/** Stand-alone entry for `kuroko flash` (npm run flash -- --port P --board uno). */
import { runFlashCli } from './flash.ts';

process.exitCode = await runFlashCli(process.argv.slice(2));
