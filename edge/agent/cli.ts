/**
 * `kuroko node …`: the commands that run on a robot's computer.
 *   kuroko node agent    the node agent (advertises itself, is adopted, runs and updates the node)
 *   kuroko node install  verify a release bundle and make it the node's first release
 *   kuroko node pairing-code  print (or renew) the code an unadopted node asks for
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../../bin/log.ts';
import { UsageError } from '../../bin/errors.ts';
import { AGENT_DEFAULT_MAX_BUNDLE_BYTES, AGENT_DEFAULT_PORT, AGENT_ROUTES } from '../../protocol/agent-api.ts';
import { NodeAgent } from './agent.ts';
import { createAgentServer } from './http-api.ts';
import { Advertiser } from './advertise.ts';
import { releaseFormat } from './bundle-format.ts';
import { installFirstRelease } from './install.ts';
import { Pairing } from './pairing.ts';
import { AgentStateStore } from './agent-state.ts';

export const NODE_HELP = `kuroko node — the commands that run on a robot's computer

Usage:
  kuroko node agent   [--dir DIR] [--name NAME] [--port N] [--bind ADDR] [--no-mdns]
                      [--health-timeout S] [--edge-arg ARG]... [--max-bundle-mb N] [--reset]
  kuroko node install --bundle FILE --trust KEY.pem [--dir DIR]
  kuroko node pairing-code [--dir DIR] [--new]

agent options:
  --dir DIR            install root: releases/, current, agent/ (default /opt/kuroko)
  --name NAME          this computer's name in the fleet (default: the hostname)
  --port N             HTTP API port (default ${AGENT_DEFAULT_PORT})
  --bind ADDR          address of the HTTP API (default 0.0.0.0: the fleet reaches it over the network)
  --no-mdns            do not advertise _kuroko._tcp (the fleet then needs --static ADDRESS)
  --health-timeout S   an update commits only when the node is ready and heartbeats within S s (default 60)
  --edge-arg ARG       pass ARG to every kuroko edge the agent starts (repeatable), e.g. --edge-arg=--no-model
  --max-bundle-mb N    largest release bundle accepted (default ${AGENT_DEFAULT_MAX_BUNDLE_BYTES / 1024 / 1024})
  --reset              forget the adoption (node id, profile, credentials) and exit; releases stay
install options:
  --bundle FILE        a release bundle made by kuroko release
  --trust KEY.pem      the public key release bundles must be signed with (kept by the agent)
pairing-code options:
  --new                a fresh code, and clear a lock-out after wrong codes (run it on the node)

An unadopted agent prints a one-time pairing code when it starts and keeps it in DIR/agent/pairing-code
(readable only by the agent's user); kuroko fleet adopt must give it (--code). Wrong codes lock adoption
for a while. The code is never advertised nor sent by the agent.
Adopted with a kuroko access store, the agent gets a certificate from the show CA and takes the fleet's
token only over HTTPS (same port; GET /v1/info stays plain for discovery).

The agent answers ${Object.values(AGENT_ROUTES).map((r) => `${r.method} ${r.path}`).join(', ')}.`;

export async function runNodeCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '-h' || sub === '--help') { console.log(NODE_HELP); return sub ? 0 : 2; }
  if (sub === 'agent') return runAgent(rest);
  if (sub === 'install') return runInstall(rest);
  if (sub === 'pairing-code') return runPairingCode(rest);
  throw new UsageError(`unknown subcommand "${sub}": use agent, install or pairing-code (see kuroko node --help)`);
}

function positiveNumber(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, not "${v}"`);
  return n;
}

async function runAgent(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      dir: { type: 'string', default: '/opt/kuroko' }, name: { type: 'string' }, port: { type: 'string' }, bind: { type: 'string', default: '0.0.0.0' },
      'no-mdns': { type: 'boolean', default: false }, 'health-timeout': { type: 'string' }, 'edge-arg': { type: 'string', multiple: true },
      'max-bundle-mb': { type: 'string' }, reset: { type: 'boolean', default: false }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(NODE_HELP); return 0; }
  const dir = resolve(values.dir!);
  if (values.reset) { NodeAgent.reset(dir); console.log(`agent in ${dir} reset: it is an unadopted node again (releases kept)`); return 0; }
  const name = (values.name ?? hostname().split('.')[0]!).toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new UsageError(`--name "${name}" is not usable as an mDNS host name: use a-z, 0-9 and '-'`);
  const port = positiveNumber('--port', values.port, AGENT_DEFAULT_PORT);
  const log = createLogger(`agent:${name}`, values['log-level']);
  const agent = new NodeAgent({
    dir, name, format: releaseFormat(), log,
    healthTimeoutMs: positiveNumber('--health-timeout', values['health-timeout'], 60) * 1000,
    edgeArgs: values['edge-arg'] ?? [],
  });
  await agent.start();
  const server = createAgentServer({ agent, log, maxBundleBytes: positiveNumber('--max-bundle-mb', values['max-bundle-mb'], AGENT_DEFAULT_MAX_BUNDLE_BYTES / 1024 / 1024) * 1024 * 1024 });
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(port, values.bind, () => res()); });
  const addr = server.address();
  const realPort = typeof addr === 'object' && addr ? addr.port : port;
  const advertiser = values['no-mdns'] ? null : new Advertiser({ name, port: realPort, log });
  const advertise = () => {
    const i = agent.info();
    advertiser?.publish({ v: '1', name, node: i.nodeId ?? '', version: i.version ?? '', state: i.state });
  };
  agent.onChange = advertise;
  advertise();
  const info = agent.info();
  log.info({ port: realPort, bind: values.bind, mdns: !values['no-mdns'] }, `agent ${name} listening on ${values.bind}:${realPort} (${info.nodeId ? `node ${info.nodeId}, ${info.version}` : 'not adopted yet'})`);
  console.log(`kuroko agent ${name} on ${values.bind}:${realPort} — ${info.nodeId ? `node ${info.nodeId} on ${info.version}` : `waiting to be adopted (release ${info.version ?? 'none'})`}`);
  // On the console only (the journal on a robot), never in the mDNS record or an API answer.
  const code = agent.pairingCode();
  if (code) console.log(`kuroko agent ${name}: pairing code ${code} — give it to kuroko fleet adopt (--code ${code}); also in ${agent.pairing.codeFile}`);
  await new Promise<void>((res) => {
    process.once('SIGINT', () => res());
    process.once('SIGTERM', () => res());
  });
  const forced = setTimeout(() => process.exit(0), 8000);
  forced.unref();
  await advertiser?.close();
  server.close();
  server.closeAllConnections?.();
  await agent.stop();
  return 0;
}

function runPairingCode(argv: string[]): number {
  const { values } = parseArgs({ args: argv, strict: true, options: { dir: { type: 'string', default: '/opt/kuroko' }, new: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { console.log(NODE_HELP); return 0; }
  const agentDir = join(resolve(values.dir!), 'agent');
  if (!existsSync(agentDir)) throw new UsageError(`no agent in ${resolve(values.dir!)}: install a release first (kuroko node install), or give --dir`);
  if (new AgentStateStore(agentDir).get().adoption) throw new UsageError(`this node is adopted: it needs no pairing code (to give it to another fleet: kuroko node agent --dir ${values.dir} --reset)`);
  const pairing = new Pairing(agentDir);
  const code = values.new ? pairing.renew() : pairing.ensureCode();
  // Run with plain sudo, the files would be root's and the agent (its own user) could not read them.
  if (process.getuid?.() === 0) {
    const { uid, gid } = statSync(agentDir);
    for (const f of [pairing.codeFile, join(agentDir, 'pairing-lock.json')]) if (existsSync(f)) chownSync(f, uid, gid);
  }
  console.log(code);
  if (values.new) console.error('a new pairing code; the old one no longer works, and adoption is no longer locked');
  return 0;
}

async function runInstall(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { bundle: { type: 'string' }, trust: { type: 'string' }, dir: { type: 'string', default: '/opt/kuroko' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { console.log(NODE_HELP); return 0; }
  if (!values.bundle) throw new UsageError('--bundle FILE is required (a bundle made by kuroko release)');
  if (!values.trust) throw new UsageError('--trust KEY.pem is required: the public key your bundles are signed with (kuroko release prints where it is)');
  const pem = readFileSync(values.trust, 'utf8');
  const v = await installFirstRelease(resolve(values.dir!), resolve(values.bundle), pem, releaseFormat(), (l) => console.log(l));
  console.log(`installed release ${v} in ${resolve(values.dir!)}; start the agent: systemctl enable --now kuroko-agent`);
  return 0;
}
