/** Progress lines of the agent's long operations, timed per step, as the API sends them. */
import type { AgentProgressT } from '../../protocol/agent-api.ts';

export type ProgressSink = (p: AgentProgressT) => void;

/** Runs one step: prints start, then ok (with its duration) or fail; rethrows the failure. */
export async function step<T>(sink: ProgressSink, name: string, startMsg: string, run: () => Promise<T> | T, okMsg?: (v: T) => string): Promise<T> {
  const t0 = Date.now();
  sink({ step: name, status: 'start', message: startMsg });
  try {
    const v = await run();
    sink({ step: name, status: 'ok', message: okMsg ? okMsg(v) : startMsg.replace(/…$/, ''), ms: Date.now() - t0 });
    return v;
  } catch (e) {
    sink({ step: name, status: 'fail', message: (e as Error).message, ms: Date.now() - t0 });
    throw e;
  }
}

/** An error that carries what the user should do next. */
export class StepError extends Error {
  constructor(message: string, readonly next: string, readonly outcome: 'refused' | 'failed' = 'failed') { super(message); }
}
