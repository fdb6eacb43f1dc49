/**
 * `kuroko access init | add | rotate | revoke | list`: the show's identities and credentials.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { UsageError } from '../../bin/errors.ts';
import { ROLES, type Role } from '../../protocol/access.ts';
import { isId } from '../../protocol/ids.ts';
import { loadShow } from '../show/load.ts';
import { AccessStore } from './store.ts';
import { usageLines } from './describe.ts';

export const ACCESS_HELP = `kuroko access — identities, passwords and certificates of a show

Usage:
  kuroko access init   --show FILE [--dir DIR] [--host NAME]... [--force]
  kuroko access add    --show FILE|ID --id ID --role hub|node|operator|viewer [--node ID] [--dir DIR]
  kuroko access rotate --show FILE|ID --id ID [--dir DIR]
  kuroko access revoke --show FILE|ID --id ID [--dir DIR]
  kuroko access list   --show FILE|ID [--dir DIR]

init makes the show CA, the broker certificate (for localhost, this machine and each --host),
and one identity per role: hub, one node per cast member (CN and user name = node id), operator
and viewer. Each identity's credentials go to DIR/clients/ID.json: copy it to that machine
(kuroko edge --credentials FILE), then delete it here. DIR defaults to var/access/SHOW.
Mosquitto: DIR/mosquitto.conf, DIR/passwd and DIR/acl are written from the same rules as the
embedded broker's; after add/rotate/revoke reload Mosquitto (systemctl reload mosquitto).

Roles: hub (plays the show), node (one robot: only its own node/ID/ topics), operator
(console/*: arm, go, e-stop, release), viewer (reads everything, publishes nothing).`;

function resolveShow(s: string | undefined): { show: string; nodes: string[] } {
  if (!s) throw new UsageError('kuroko access: --show FILE (or the show id) is required (see kuroko access --help)');
  if (existsSync(s)) {
    const show = loadShow(s);
    return { show: show.show, nodes: [...new Set(show.cast.map((c) => c.node))] };
  }
  if (isId(s)) return { show: s, nodes: [] };
  throw new UsageError(`kuroko access: --show ${s}: no such file, and not a show id`);
}

export async function runAccessCli(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '-h' || verb === '--help') { console.log(ACCESS_HELP); return verb ? 0 : 2; }
  const { values } = parseArgs({
    args: rest,
    options: {
      show: { type: 'string' }, dir: { type: 'string' }, id: { type: 'string' }, role: { type: 'string' }, node: { type: 'string' },
      host: { type: 'string', multiple: true }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) { console.log(ACCESS_HELP); return 0; }
  const { show, nodes } = resolveShow(values.show);
  const dir = values.dir ?? AccessStore.defaultDir(show);
  const needId = () => {
    if (!values.id) throw new UsageError(`kuroko access ${verb}: --id ID is required (kuroko access list shows them)`);
    return values.id;
  };
  switch (verb) {
    case 'init': {
      if (nodes.length === 0) throw new UsageError('kuroko access init: --show must be the show file (its cast names the nodes)');
      const store = await AccessStore.init(dir, show, nodes, { hosts: values.host, force: values.force });
      console.log(`credentials store for show ${show} written to ${store.dir}`);
      for (const i of store.list()) console.log(`  ${i.role.padEnd(8)} ${i.id.padEnd(16)} ${store.bundleFile(i.id)}`);
      printUsage(store);
      return 0;
    }
    case 'add': {
      const role = values.role as Role;
      if (!ROLES.includes(role)) throw new UsageError(`kuroko access add: --role must be one of ${ROLES.join(', ')}`);
      const store = AccessStore.load(dir);
      const node = role === 'node' ? (values.node ?? values.id) : undefined;
      await store.add(needId(), role, node);
      console.log(`added ${role} ${values.id}: credentials in ${store.bundleFile(values.id!)}${reloadHint}`);
      return 0;
    }
    case 'rotate': {
      const store = AccessStore.load(dir);
      await store.rotate(needId());
      console.log(`new credentials for ${values.id} in ${store.bundleFile(values.id!)}; the old password stops working when the broker reloads${reloadHint}`);
      return 0;
    }
    case 'revoke': {
      const store = AccessStore.load(dir);
      store.revoke(needId());
      console.log(`revoked ${values.id}${reloadHint}`);
      return 0;
    }
    case 'list': {
      const store = AccessStore.load(dir);
      console.log(`show ${store.show} — ${store.dir}`);
      for (const i of store.list()) {
        const status = i.revoked ? `revoked ${i.revoked}` : `active since ${i.rotated ?? i.created}`;
        console.log(`  ${i.role.padEnd(8)} ${i.id.padEnd(16)} ${i.node ? `node ${i.node}  ` : ''}${status}`);
      }
      return 0;
    }
    default:
      throw new UsageError(`kuroko access: unknown verb "${verb}" (init, add, rotate, revoke, list)`);
  }
}

const reloadHint = '\n(a running hub with the embedded broker rereads the store on SIGHUP; Mosquitto: systemctl reload mosquitto)';

/** How to use the operator's credentials with mosquitto_pub (printed by init). */
export function printUsage(store: AccessStore): void {
  for (const l of usageLines(store)) console.log(l);
}
