/**
 * Tool calls that outlive their instance. In a cluster, a 2025-era session's call that waits on a
 * fal job is recorded (session, request id → job) as soon as the job is submitted; when the
 * instance serving it dies and the client resumes its stream elsewhere, that instance replays the
 * call's request with the job adopted: the tool waits on the same job (no second submit, no
 * second charge) and answers the original request id.
 *
 * Keyed by (session, request id), never by request id alone: clients reuse ids across sessions.
 *
 * @module
 */

/** A job a replayed call adopts instead of submitting a new one. */
export interface AdoptedJob {
  /** The job the original call submitted. */
  jobId: string;
  /** The last progress value the client saw (progress goes on from there). */
  lastProgress: number;
}

/** Who a call is: its session and its request id. */
export interface CallIdentity {
  /** The session (undefined outside sessions: nothing to hand off). */
  sessionId?: string | undefined;
  /** The request. */
  mcpReq: { id: string | number };
}

/** Records calls' jobs and hands adopted jobs to replayed calls. */
export class CallHandoff {
  readonly #adopted = new Map<string, AdoptedJob>();
  #noter: ((sessionId: string, requestId: string | number, jobId: string) => void) | undefined;

  /** Sets where submitted jobs of session calls are recorded (the session transport). */
  onJob(noter: (sessionId: string, requestId: string | number, jobId: string) => void): void {
    this.#noter = noter;
  }

  /** A session call submitted `jobId`. */
  noteJob(call: CallIdentity, jobId: string): void {
    if (call.sessionId !== undefined) this.#noter?.(call.sessionId, call.mcpReq.id, jobId);
  }

  /** The next replay of this call adopts `job`. */
  adopt(sessionId: string, requestId: string | number, job: AdoptedJob): void {
    this.#adopted.set(key(sessionId, requestId), job);
  }

  /** The job a replayed call adopts (once), if it is one. */
  take(call: CallIdentity): AdoptedJob | undefined {
    if (call.sessionId === undefined) return undefined;
    const k = key(call.sessionId, call.mcpReq.id);
    const job = this.#adopted.get(k);
    this.#adopted.delete(k);
    return job;
  }
}

function key(sessionId: string, requestId: string | number): string {
  return `${sessionId}\0${typeof requestId}:${requestId}`;
}
