/**
 * The fleet's inputs, checked before anything reaches a robot: adoption plans (file and field in
 * every refusal), addresses for --static, the credentials folder (kuroko access's one file per
 * node, or a folder of files), the credentials installer on the node, and the list table.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlan, planCode, PlanError } from '../../hub/fleet/plan.ts';
import { parseAddress } from '../../hub/fleet/discovery.ts';
import { CredentialFolder, ACCESS_FILE } from '../../hub/fleet/credentials.ts';
import { FileCredentialInstaller } from '../../edge/agent/credentials.ts';
import { NodeProcess } from '../../edge/agent/node-process.ts';
import { formatList } from '../../hub/fleet/commands.ts';
import { FleetStore } from '../../hub/fleet/store.ts';
import { ROOT } from '../helpers/stage.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'kuroko-plan-'));
const SIM = join(ROOT, 'firmware-config/profiles/sim-robot.yaml');

function plan(text: string): string {
  const d = dir();
  writeFileSync(join(d, 'robots.yaml'), text);
  return join(d, 'robots.yaml');
}

describe('adoption plans', () => {
  it('reads a plan, resolving profiles beside it', () => {
    const p = loadPlan(plan(`show: blade\nbroker: mqtt://hub.local:1883\nnodes:\n  - { name: robot-a, node: kenzaki, character: kenzaki, profile: ${SIM} }\n  - { node: aikawa, profile: ${SIM} }\n`));
    expect(p).toMatchObject({ show: 'blade', broker: 'mqtt://hub.local:1883' });
    expect(p.nodes.map((n) => [n.name, n.node])).toEqual([['robot-a', 'kenzaki'], [undefined, 'aikawa']]);
    expect(p.nodes[0]!.profileText).toContain('platform: sim');
  });

  it('reads pairing codes, and code files beside the plan when the adoption starts', () => {
    const d = dir();
    writeFileSync(join(d, 'robots.yaml'), `nodes:\n  - { name: robot-a, node: a, profile: ${SIM}, code: k7qm-4xpd }\n  - { node: b, profile: ${SIM}, codeFile: b-code }\n`);
    const p = loadPlan(join(d, 'robots.yaml'));
    expect(planCode(p.nodes[0]!)).toBe('k7qm-4xpd');
    expect(() => planCode(p.nodes[1]!)).toThrow(/b: cannot read the pairing code from .*b-code .*is the agent started/);
    writeFileSync(join(d, 'b-code'), '9RHT-WC3E\n');
    expect(planCode(p.nodes[1]!)).toBe('9RHT-WC3E');
    writeFileSync(join(d, 'b-code'), '{"not": "a code"}');
    expect(() => planCode(p.nodes[1]!)).toThrow(/does not hold a pairing code/);
  });

  it.each([
    [`nodes:\n  - { node: a, profile: ${SIM}, code: "K7QM/4XPD" }\n`, /nodes\[0\]\.code: "K7QM\/4XPD" is not a pairing code/],
    [`nodes:\n  - { node: a, profile: ${SIM}, code: K7QM-4XPD, codeFile: x }\n`, /nodes\[0\]: give code or codeFile, not both/],
    ['nodes: []\n', /needs a "nodes:" list/],
    [`nodes:\n  - { node: Kenzaki, profile: ${SIM} }\n`, /nodes\[0\]\.node: "Kenzaki" is not an id/],
    [`nodes:\n  - { node: a, profile: ${SIM}, colour: red }\n`, /nodes\[0\]: unknown field "colour"/],
    [`nodes:\n  - { node: a, profile: ${SIM} }\n  - { node: a, profile: ${SIM} }\n`, /nodes\[1\]\.node: "a" is planned twice/],
    ['nodes:\n  - { node: a, profile: nowhere.yaml }\n', /nodes\[0\]\.profile: cannot read .*nowhere\.yaml/],
    [`broker: http://x\nnodes:\n  - { node: a, profile: ${SIM} }\n`, /broker must be an mqtt:\/\/ or mqtts:\/\/ URL/],
  ])('refuses a bad plan, naming the place: %s', (text, why) => {
    expect(() => loadPlan(plan(text))).toThrow(PlanError);
    expect(() => loadPlan(plan(text))).toThrow(why);
  });

  it('refuses a profile that fails its own checks before anything is sent', () => {
    const d = dir();
    writeFileSync(join(d, 'bad.yaml'), 'kuroko: 1\nplatform: sim\nservos:\n  - { id: a, min: 10, max: 200, rest: 90 }\n');
    writeFileSync(join(d, 'robots.yaml'), 'nodes:\n  - { node: a, profile: bad.yaml }\n');
    expect(() => loadPlan(join(d, 'robots.yaml'))).toThrow(/nodes\[0\]\.profile: .*bad\.yaml/);
  });
});

describe('addresses, credentials and the list', () => {
  it('parses static addresses with the agent port by default', () => {
    expect(parseAddress('10.0.5.41')).toEqual({ host: '10.0.5.41', port: 7701 });
    expect(parseAddress('robot-a.local:8000')).toEqual({ host: 'robot-a.local', port: 8000 });
    expect(parseAddress('[fe80::1]:7701')).toEqual({ host: 'fe80::1', port: 7701 });
    expect(() => parseAddress('host:99999')).toThrow(/port must be 1\.\.65535/);
  });

  it('sends a kuroko access file, or a folder of files, and names the fix when there are none', async () => {
    const d = dir();
    writeFileSync(join(d, 'kenzaki.json'), '{"user":"kenzaki"}');
    mkdirSync(join(d, 'aikawa'));
    writeFileSync(join(d, 'aikawa', 'username'), 'aikawa');
    writeFileSync(join(d, 'aikawa', 'password'), 's3cret/with:chars');
    const folder = new CredentialFolder(d);
    expect(await folder.issue('kenzaki')).toEqual({ [ACCESS_FILE]: '{"user":"kenzaki"}' });
    expect(await folder.issue('aikawa')).toEqual({ username: 'aikawa', password: 's3cret/with:chars' });
    await expect(folder.issue('mutsuki')).rejects.toThrow(/kuroko access add --show SHOW --id mutsuki --role node/);

    // On the node: files 0600 in a 0700 folder, the password into the broker URL, the access file to kuroko edge.
    const nodeDir = join(dir(), 'credentials');
    const inst = new FileCredentialInstaller(nodeDir);
    const a = await inst.install('aikawa', 'mqtt://hub.local:1883', { username: 'aikawa', password: 's3cret/with:chars' });
    expect(a.broker).toBe('mqtt://aikawa:s3cret%2Fwith%3Achars@hub.local:1883');
    expect(statSync(join(nodeDir, 'password')).mode & 0o777).toBe(0o600);
    expect(statSync(nodeDir).mode & 0o777).toBe(0o700);
    const k = await inst.install('kenzaki', 'mqtts://hub.local:8883', { [ACCESS_FILE]: '{}' });
    expect(k.edgeArgs).toEqual(['--credentials', join(nodeDir, ACCESS_FILE)]);
    expect((await inst.install('x', 'mqtt://h', undefined)).message).toMatch(/no credentials given/);
    await expect(inst.install('x', 'mqtt://h', { '../evil': 'x' })).rejects.toThrow(/not allowed/);
    expect(readFileSync(join(nodeDir, 'username'), 'utf8')).toBe('aikawa');
  });

  it('picks the line that says why a node process died', () => {
    const tail = ["node:internal/modules/esm/resolve:283", "    throw new ERR_MODULE_NOT_FOUND(", "          ^", "",
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/opt/kuroko/releases/3.0.0/x.js' imported from /opt/kuroko/releases/3.0.0/bin/kuroko.js",
      "    at finalizeResolution (node:internal/modules/esm/resolve:283:11)", "  code: 'ERR_MODULE_NOT_FOUND',", "}", "", "Node.js v20.20.2"].join('\n');
    expect(NodeProcess.why(tail)).toMatch(/^Error \[ERR_MODULE_NOT_FOUND\]: Cannot find module/);
    expect(NodeProcess.why('{"level":50,"msg":"kuroko edge: profile.yaml:3:1 servos[0].max: must be <= 180"}\n')).toBe('kuroko edge: profile.yaml:3:1 servos[0].max: must be <= 180');
  });

  it('lists nodes in one table, unreachable ones with the reason', () => {
    const store = new FleetStore(dir());
    const info = { v: 1 as const, name: 'robot-a', nodeId: 'kenzaki', show: 'blade', character: 'kenzaki', state: 'running' as const, version: '0.2.0', previous: '0.1.0', firmware: 'Kuroko 1.0', nodeState: 'armed' as const, lock: { locked: true, reason: 'armed' }, lastResult: null, uptimeS: 1, ts: 0 };
    const text = formatList([
      { address: { host: '10.0.0.2', port: 7701 }, via: 'mdns', info },
      { address: { host: '10.0.0.9', port: 7701 }, via: 'static', info: null, error: 'connect ECONNREFUSED' },
    ], store);
    expect(text.split('\n')[0]).toMatch(/^NAME\s+NODE\s+ADDRESS\s+VERSION\s+FIRMWARE\s+STATE\s+VIA$/);
    expect(text).toMatch(/robot-a\s+kenzaki \(other fleet\)\s+10\.0\.0\.2:7701\s+0\.2\.0\s+Kuroko 1\.0\s+armed \(show lock\)\s+mdns/);
    expect(text).toMatch(/\?\s+\?\s+10\.0\.0\.9:7701.*unreachable: connect ECONNREFUSED/);
  });
});
