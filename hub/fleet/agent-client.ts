/**
 * The fleet's side of the agent API (protocol/agent-api.ts): read a node's info, and run adopt,
 * update and rollback while their NDJSON progress lines arrive.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createReadStream, statSync } from 'node:fs';
import { checkAgentPayload, type AdoptRequestT, type AgentInfoT, type AgentProgressT, type AgentResultT, type SealedAdoptT } from '../../protocol/agent-api.ts';

/** Where an agent answers; with `ca`, over HTTPS trusting only that CA and only `servername` (agentTlsName). */
export interface AgentAddress { host: string; port: number; ca?: string; servername?: string }

/** HTTP, or HTTPS pinned to the show CA when the fleet holds one for this agent. */
function request(a: AgentAddress, o: RequestOptions, cb: (res: IncomingMessage) => void): ClientRequest {
  if (!a.ca) return httpRequest(o, cb);
  return httpsRequest({ ...o, ca: a.ca, servername: a.servername, rejectUnauthorized: true }, cb);
}
export const addressText = (a: AgentAddress) => `${a.host}:${a.port}`;

export class AgentCallError extends Error {
  constructor(message: string, readonly status?: number, readonly next?: string) { super(message); }
}

export async function getInfo(a: AgentAddress, timeoutMs = 3000): Promise<AgentInfoT> {
  return new Promise((resolve, reject) => {
    const req = request(a, { host: a.host, port: a.port, path: '/v1/info', method: 'GET', timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; if (text.length > 64 * 1024) req.destroy(new Error('info answer too large')); });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new AgentCallError(`${addressText(a)} answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode));
        try {
          const c = checkAgentPayload('AgentInfo', JSON.parse(text));
          if (!c.ok) return reject(new AgentCallError(`${addressText(a)} is not a Kuroko agent of this version (${c.error})`));
          resolve(c.value);
        } catch (e) { reject(new AgentCallError(`${addressText(a)}: ${(e as Error).message}`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new AgentCallError(`${addressText(a)}: ${e.message}`)));
    req.end();
  });
}

type Body = { json: unknown } | { file: string } | null;

/** Runs one long operation; calls `progress` per line; resolves with the result line. */
function longCall(a: AgentAddress, path: string, token: string | null, body: Body, progress: (p: AgentProgressT) => void, timeoutMs: number): Promise<AgentResultT> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: Buffer | null = null;
    if (body && 'json' in body) { payload = Buffer.from(JSON.stringify(body.json)); headers['content-type'] = 'application/json'; headers['content-length'] = payload.length; }
    else if (body && 'file' in body) { headers['content-type'] = 'application/octet-stream'; headers['content-length'] = statSync(body.file).size; }
    else headers['content-length'] = 0;
    const req = request(a, { host: a.host, port: a.port, path, method: 'POST', headers }, (res) => {
      let buf = '';
      let result: AgentResultT | null = null;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (!line) continue;
          let v: unknown;
          try { v = JSON.parse(line); } catch { continue; }
          if (res.statusCode !== 200) continue;
          if ((v as { done?: boolean }).done) { const c = checkAgentPayload('AgentResult', v); if (c.ok) result = c.value; }
          else { const c = checkAgentPayload('AgentProgress', v); if (c.ok) progress(c.value); }
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          let err: { error?: string; next?: string } = {};
          try { err = JSON.parse(buf) as typeof err; } catch { err = { error: buf.slice(0, 200) }; }
          return reject(new AgentCallError(err.error ?? `answered ${res.statusCode}`, res.statusCode, err.next));
        }
        if (!result) return reject(new AgentCallError(`${addressText(a)} ended the answer without a result (did the agent restart?)`));
        resolve(result);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no result within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(new AgentCallError(`${addressText(a)}: ${e.message}`)); });
    if (payload) req.end(payload);
    else if (body && 'file' in body) createReadStream(body.file).on('error', (e) => req.destroy(e)).pipe(req);
    else req.end();
  });
}

export const adopt = (a: AgentAddress, req: AdoptRequestT | SealedAdoptT, token: string | null, progress: (p: AgentProgressT) => void, timeoutMs = 600_000) =>
  longCall(a, '/v1/adopt', token, { json: req }, progress, timeoutMs);
export const pushUpdate = (a: AgentAddress, file: string, token: string, force: boolean, progress: (p: AgentProgressT) => void, healthS?: number, timeoutMs = 900_000) => {
  const q = new URLSearchParams();
  if (force) q.set('force', '1');
  if (healthS !== undefined) q.set('health', String(healthS));
  return longCall(a, `/v1/update${q.size ? `?${q}` : ''}`, token, { file }, progress, timeoutMs);
};
export const rollback = (a: AgentAddress, token: string, force: boolean, progress: (p: AgentProgressT) => void, timeoutMs = 600_000) =>
  longCall(a, `/v1/rollback${force ? '?force=1' : ''}`, token, null, progress, timeoutMs);
