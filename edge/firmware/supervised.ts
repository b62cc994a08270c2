// The agent's side of the supervisor link (edge/firmware/supervisor.ts): the supervisor starts the agent
// with an IPC channel and GRIDSENSE_SUPERVISED=1; the agent says when it is healthy and asks for a switch
// to a release it has unpacked. Outside a supervisor both are no-ops / absent.

/** Set by the supervisor in the agent's environment. */
export const SUPERVISED_ENV = 'GRIDSENSE_SUPERVISED';

export interface SwitchRequest {
  jobId: string;
  /** The release to run: <dataDir>/releases/<version>/. */
  version: string;
  /** The version running now (the one to roll back to). */
  from: string;
}

export type SupervisorMessage = { type: 'gridsense-healthy'; version: string } | ({ type: 'gridsense-switch' } & SwitchRequest);

function channel(): ((m: SupervisorMessage) => void) | undefined {
  if (process.env[SUPERVISED_ENV] !== '1' || typeof process.send !== 'function') return undefined;
  return (m) => void process.send!(m);
}

/** Tells the supervisor this agent started well (after its first good start); no-op when unsupervised. */
export function notifyHealthy(version: string): void {
  channel()?.({ type: 'gridsense-healthy', version });
}

/** The switch request function when running under the supervisor; undefined otherwise. */
export function supervisedSwitch(): ((r: SwitchRequest) => void) | undefined {
  const send = channel();
  return send ? (r) => send({ type: 'gridsense-switch', ...r }) : undefined;
}

export function isSupervisorMessage(m: unknown): m is SupervisorMessage {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as Record<string, unknown>;
  if (x.type === 'gridsense-healthy') return typeof x.version === 'string';
  return x.type === 'gridsense-switch' && typeof x.jobId === 'string' && typeof x.version === 'string' && typeof x.from === 'string';
}
