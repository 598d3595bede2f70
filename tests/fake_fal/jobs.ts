/**
 * The job engine of the fake queue: moves each job through IN_QUEUE (decreasing
 * `queue_position`), IN_PROGRESS (accumulating logs) and COMPLETED on timers, and tells
 * subscribers (status streams) about every change.
 *
 * @module
 */

import { cancelledOutcome, type Outcome, requestError, timeoutOutcome } from "./failures.ts";
import type { FakeFalState, FakeJob, FakeLog } from "./state.ts";

/** How a job should end, decided at submit time. */
export interface JobPlan {
  /** `"start"` ends the job right after inference starts (e.g. invalid input). */
  when: "start" | "end";
  /** The outcome; computed lazily at completion when omitted (the model's real output). */
  outcome?: Outcome;
}

/** Everything needed to submit a queued job. */
export interface JobSpec {
  /** Full endpoint id. */
  endpointId: string;
  /** App-level id (owner/app, with namespace prefix). */
  appId: string;
  /** Display name used in log lines. */
  displayName: string;
  /** Submitted input. */
  input: Record<string, unknown>;
  /** Owning API key. */
  key: string;
  /** `x-fal-*` headers of the submit. */
  headers: Record<string, string>;
  /** `fal_webhook` URL. */
  webhookUrl?: string;
  /** Total running time in ms (queue + inference). */
  durationMs: number;
  /** `x-fal-request-timeout` in ms, when given. */
  timeoutMs?: number;
  /** How the job ends. */
  plan: JobPlan;
}

/** Callbacks of the engine. */
export interface JobEngineHooks {
  /** Produces the model's output for a job that ends normally. */
  produce(job: FakeJob): Outcome;
  /** Called once per job, right after it completes. */
  completed(job: FakeJob): void;
}

interface Step {
  at: number;
  apply: () => Outcome | void;
}

interface Running {
  steps: Step[];
  next: number;
  timer?: ReturnType<typeof setTimeout>;
  started: number;
}

function log(message: string, level: FakeLog["level"] = "INFO"): FakeLog {
  return { message, level, source: "user", timestamp: new Date().toISOString() };
}

/** Runs queued jobs on timers. */
export class JobEngine {
  readonly #state: FakeFalState;
  readonly #queueSteps: number;
  readonly #hooks: JobEngineHooks;
  readonly #running = new Map<string, Running>();
  readonly #listeners = new Map<string, Set<() => void>>();

  /** An engine storing jobs in `state`; each job passes `queueSteps` queue positions. */
  constructor(state: FakeFalState, queueSteps: number, hooks: JobEngineHooks) {
    this.#state = state;
    this.#queueSteps = Math.max(0, Math.floor(queueSteps));
    this.#hooks = hooks;
  }

  /** Creates a queued job and starts its timeline. */
  submit(spec: JobSpec): FakeJob {
    const q = this.#queueSteps;
    const job: FakeJob = {
      requestId: crypto.randomUUID(),
      endpointId: spec.endpointId,
      appId: spec.appId,
      mode: "queue",
      input: spec.input,
      key: spec.key,
      headers: spec.headers,
      ...(spec.webhookUrl === undefined ? {} : { webhookUrl: spec.webhookUrl }),
      durationMs: spec.durationMs,
      submittedAt: new Date().toISOString(),
      status: "IN_QUEUE",
      queuePosition: Math.max(0, q - 1),
      logs: [],
      cancelled: false,
      units: 0,
    };
    this.#state.jobs.set(job.requestId, job);

    const total = Math.max(0, spec.durationMs);
    const queuePhase = q > 0 ? total * 0.3 : 0;
    const runPhase = total - queuePhase;
    const steps: Step[] = [];
    for (let i = 1; i < q; i++) {
      steps.push({ at: (queuePhase * i) / q, apply: () => void (job.queuePosition = q - 1 - i) });
    }
    steps.push({
      at: queuePhase,
      apply: () => {
        job.status = "IN_PROGRESS";
        job.startedAt = new Date().toISOString();
        job.logs.push(log(`Loading ${spec.displayName}`));
      },
    });
    const plan = spec.plan;
    if (plan.when === "start" && plan.outcome) {
      const outcome = plan.outcome;
      steps.push({
        at: queuePhase + runPhase * 0.1,
        apply: () => {
          job.logs.push(log(outcome.error?.message ?? "Request failed", "ERROR"));
          return outcome;
        },
      });
    } else {
      steps.push({ at: queuePhase, apply: () => void job.logs.push(log("Starting inference")) });
      for (const fraction of [0.25, 0.5, 0.75]) {
        steps.push({
          at: queuePhase + runPhase * fraction,
          apply: () => void job.logs.push(log(`Inference progress: ${fraction * 100}%`)),
        });
      }
      steps.push({
        at: total,
        apply: () => {
          const outcome = plan.outcome ?? this.#hooks.produce(job);
          if (outcome.error) {
            job.logs.push(log(outcome.error.message, "ERROR"));
          } else {
            job.logs.push(log("Inference finished"));
          }
          return outcome;
        },
      });
    }
    if (spec.timeoutMs !== undefined) {
      const limit = spec.timeoutMs;
      const end = steps[steps.length - 1]!.at;
      if (limit < end) {
        const kept = steps.filter((step) => step.at < limit);
        kept.push({
          at: limit,
          apply: () => {
            job.logs.push(log("Request timed out", "ERROR"));
            return timeoutOutcome();
          },
        });
        steps.splice(0, steps.length, ...kept);
      }
    }
    const running: Running = { steps, next: 0, started: performance.now() };
    this.#running.set(job.requestId, running);
    this.#schedule(job, running);
    return job;
  }

  #schedule(job: FakeJob, running: Running): void {
    const step = running.steps[running.next];
    if (!step) return;
    const delay = Math.max(0, step.at - (performance.now() - running.started));
    running.timer = setTimeout(() => this.#advance(job, running), delay);
  }

  #advance(job: FakeJob, running: Running): void {
    running.timer = undefined;
    const elapsed = performance.now() - running.started;
    let outcome: Outcome | void = undefined;
    do {
      const step = running.steps[running.next++]!;
      try {
        outcome = step.apply();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome = requestError(500, "internal_error", `Internal error: ${message}`);
      }
    } while (
      !outcome && running.next < running.steps.length && running.steps[running.next]!.at <= elapsed
    );
    if (outcome) {
      this.#finish(job, outcome);
      return;
    }
    this.#notify(job);
    this.#schedule(job, running);
  }

  #finish(job: FakeJob, outcome: Outcome): void {
    const running = this.#running.get(job.requestId);
    if (running?.timer !== undefined) clearTimeout(running.timer);
    this.#running.delete(job.requestId);
    const now = new Date();
    job.status = "COMPLETED";
    job.completedAt = now.toISOString();
    if (job.startedAt) {
      job.inferenceTime = (now.getTime() - Date.parse(job.startedAt)) / 1000;
    }
    job.result = { status: outcome.status, body: outcome.body, headers: outcome.headers };
    if (outcome.error) job.error = outcome.error;
    job.units = outcome.units;
    this.#notify(job);
    this.#listeners.delete(job.requestId);
    this.#hooks.completed(job);
  }

  #notify(job: FakeJob): void {
    for (const listener of [...(this.#listeners.get(job.requestId) ?? [])]) listener();
  }

  /** Inference seconds so far of a running job (what `timings.inference` reports). */
  inferenceSeconds(job: FakeJob): number {
    return job.startedAt ? (Date.now() - Date.parse(job.startedAt)) / 1000 : 0;
  }

  /** Calls `listener` after every change of the job; returns the unsubscribe function. */
  subscribe(job: FakeJob, listener: () => void): () => void {
    let set = this.#listeners.get(job.requestId);
    if (!set) {
      set = new Set();
      this.#listeners.set(job.requestId, set);
    }
    set.add(listener);
    return () => void this.#listeners.get(job.requestId)?.delete(listener);
  }

  /** Cancels a queued or running job; `false` when it had already completed. */
  cancel(job: FakeJob): boolean {
    if (job.status === "COMPLETED") return false;
    job.cancelled = true;
    job.logs.push(log("Request cancelled by the client", "WARNING"));
    this.#finish(job, cancelledOutcome());
    return true;
  }

  /** Stops every timer; jobs stay where they are. */
  close(): void {
    for (const running of this.#running.values()) {
      if (running.timer !== undefined) clearTimeout(running.timer);
    }
    this.#running.clear();
    this.#listeners.clear();
  }
}
