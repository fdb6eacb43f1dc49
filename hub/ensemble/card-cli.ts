/**
 * `kuroko card`: Character Card V2 files in and out of a show's cast.
 *   kuroko card import FILE.json|FILE.png --show SHOW.yaml [--id ID] [--node ID]
 *   kuroko card export ID --show SHOW.yaml [-o FILE.json]
 * Import copies the card (JSON, verbatim, so keys Kuroko does not know survive) next to the show
 * under cards/ and adds a cast entry that points at it; the show file is edited as text, so its
 * comments and layout stay. Export writes the character as a card, over its original card if any.
 */
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseDocument, isSeq, type YAMLSeq, type Node as YamlNode } from 'yaml';
import { UsageError } from '../../bin/errors.ts';
import { isId } from '../../protocol/ids.ts';
import { loadShow, parseShow } from '../show/load.ts';
import { readCardFile, cardPath, cardProblems } from './card-files.ts';
import { toCard, type CardV2 } from './card.ts';
import { loadCast } from './runtime.ts';

export const CARD_HELP = `kuroko card — Character Card V2 files in and out of a show's cast

Usage:
  kuroko card import FILE.json|FILE.png --show SHOW.yaml [--id ID] [--node ID] [--force]
      adds the card's character to the cast: the card is copied to cards/ID.json beside the
      show file (a PNG card's "chara" chunk is extracted) and a cast entry points at it
  kuroko card export ID --show SHOW.yaml [-o FILE.json]
      writes a cast member as a card (over the card it came from, so unknown keys survive)

Options:
  --show FILE   the show file whose cast is read or changed
  --id ID       the character's id in the show (default: the card's, or one made from its name)
  --node ID     the node that performs it (default: the id)
  --force       replace an existing cards/ID.json
  -o FILE       where the exported card goes (default: standard output)
  -h, --help    this help

Examples:
  kuroko card import ~/Downloads/Seraphina.png --show hub/shows/blade.yaml --id seraphina --node kenzaki-2
  kuroko card export kenzaki --show hub/shows/blade.yaml -o kenzaki.json`;

export async function runCardCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      show: { type: 'string' }, id: { type: 'string' }, node: { type: 'string' }, force: { type: 'boolean', default: false },
      out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [sub, arg] = positionals;
  if (values.help || !sub) { console.log(CARD_HELP); return values.help ? 0 : 2; }
  if (sub !== 'import' && sub !== 'export') throw new UsageError(`kuroko card: unknown subcommand "${sub}" (import, export; see kuroko card --help)`);
  if (!arg) throw new UsageError(`kuroko card ${sub}: name the ${sub === 'import' ? 'card file' : 'character id'} (see kuroko card --help)`);
  if (!values.show) throw new UsageError(`kuroko card ${sub}: --show SHOW.yaml is required (see kuroko card --help)`);
  if (sub === 'import') return importCard(arg, values.show, values);
  const json = `${JSON.stringify(exportCard(arg, values.show), null, 2)}\n`;
  if (values.out) {
    writeFileSync(values.out, json);
    console.error(`card of "${arg}" written to ${values.out}`);
  } else process.stdout.write(json);
  return 0;
}

/** The cast member as a card; keys of its original card that Kuroko does not know are kept. */
export function exportCard(id: string, showFile: string): CardV2 {
  const show = loadShow(showFile);
  const entry = show.cast.find((c) => c.id === id);
  if (!entry) throw new UsageError(`kuroko card export: "${id}" is not in the cast of ${showFile} (cast: ${show.cast.map((c) => c.id).join(', ')})`);
  const character = loadCast(show, showFile).find((c) => c.id === id)!;
  const base = entry.card ? readCardFile(cardPath(entry.card, showFile)).card : undefined;
  return toCard(character, base);
}

function importCard(file: string, showFile: string, o: { id?: string; node?: string; force?: boolean }): number {
  const { character, json } = readCardFile(file);
  const show = loadShow(showFile);
  const id = o.id ?? character.id;
  const node = o.node ?? (o.id ? o.id : character.node);
  for (const [flag, v] of [['--id', id], ['--node', node]] as const) {
    if (!isId(v)) throw new UsageError(`kuroko card import: ${flag} ${JSON.stringify(v)} is not a valid id (a-z, 0-9 and -, up to 63); pass ${flag} ID`);
  }
  const taken = show.cast.find((c) => c.id === id);
  if (taken) throw new UsageError(`kuroko card import: the cast of ${showFile} already has "${id}"; pass --id NEW-ID (and --node) to add this card as another character`);
  const nodeTaken = show.cast.find((c) => c.node === node);
  if (nodeTaken) throw new UsageError(`kuroko card import: node "${node}" already performs "${nodeTaken.id}" in ${showFile}; pass --node ID`);
  if (show.cast.length >= 12) throw new UsageError(`kuroko card import: the cast of ${showFile} is full (a show has at most 12 characters)`);

  const cardFile = join(dirname(showFile), 'cards', `${id}.json`);
  if (existsSync(cardFile) && !o.force && readFileSync(cardFile, 'utf8') !== json) {
    throw new UsageError(`kuroko card import: ${cardFile} exists with another card; pass --force to replace it, or --id NEW-ID`);
  }
  const rel = relative(dirname(showFile), cardFile).split('\\').join('/');
  const text = readFileSync(showFile, 'utf8');
  const next = withCastEntry(text, { id, name: character.name, node, card: rel });
  // Check the result as `kuroko validate` would before anything is written.
  parseShow(showFile, next);
  const problems = cardProblems(show, showFile);
  if (problems.length) throw new UsageError(`kuroko card import: fix the show's other cards first: ${problems.map((p) => p.replace(/^\[[^\]]*\]\s*/, '')).join('; ')}`);
  mkdirSync(dirname(cardFile), { recursive: true });
  writeFileSync(cardFile, json);
  const tmp = `${showFile}.tmp-${process.pid}`;
  writeFileSync(tmp, next);
  renameSync(tmp, showFile);
  console.log(`added "${id}" (${character.name}) to the cast of ${showFile}, performed by node "${node}"; card ${cardFile}`);
  return 0;
}

/** The show text with one more cast entry, appended after the last one in the same style. */
export function withCastEntry(text: string, e: { id: string; name: string; node: string; card: string }): string {
  const doc = parseDocument(text);
  const cast = doc.get('cast', true) as YAMLSeq | undefined;
  const line = `{ id: ${e.id}, name: ${JSON.stringify(e.name)}, node: ${e.node}, card: ${JSON.stringify(e.card)} }`;
  const last = isSeq(cast) && !cast.flow ? (cast.items.at(-1) as YamlNode | undefined) : undefined;
  if (!last?.range) {
    // A cast written as a flow list [...]: let the YAML library write the document.
    doc.addIn(['cast'], doc.createNode({ id: e.id, name: e.name, node: e.node, card: e.card }));
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  }
  const lineStart = text.lastIndexOf('\n', last.range[0] - 1) + 1;
  const prefix = text.slice(lineStart, last.range[0]);
  // "  - " before the item: the new entry gets the same dash and indentation.
  const dash = /^(\s*-\s+)/.exec(prefix)?.[1] ?? `${' '.repeat(Math.max(0, prefix.length - 2))}- `;
  const end = text.indexOf('\n', last.range[1] - 1);
  const at = end < 0 ? text.length : end + 1;
  return `${text.slice(0, at)}${end < 0 ? '\n' : ''}${dash}${line}\n${text.slice(at)}`;
}
