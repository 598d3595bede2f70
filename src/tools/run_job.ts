/**
 * Running a model for a tool call through the job machinery: submit (recorded at once), follow
 * with progress notifications, and either wait for the result or hand back the job after a
 * bound. A call the client cancels cancels the fal job; a call that merely outlasts the bound
 * leaves the job running and says how to fetch it.
 *
 * @module
 */

import type { CallToolResult, McpServer, ServerContext } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";
import { checkSaveTarget } from "../files/save_output.ts";
import { isFinal } from "../jobs/types.ts";
import { presentJob } from "./present_job.ts";
import { ProgressReporter } from "./progress.ts";
import { gateRun, submitPaid } from "./cost_gate.ts";
import { createTaskResult, declaresTasksExtension } from "./task_view.ts";

/** Options for {@linkcode runJob}. */
export interface RunJobOptions {
  /** The tool running it (recorded with the job). */
  tool: string;
  /** Hand back the job instead of waiting longer than this; undefined waits until done. */
  waitMs?: number | undefined;
  /** Save the result's files under this folder of the output directory. */
  saveTo?: string | undefined;
  /** Extra summary lines (e.g. inputs the model did not take). */
  notes?: string[] | undefined;
  /** Extra lines describing a finished result. */
  describe?: ((result: unknown) => string[]) | undefined;
  /**
   * Whether the tool may answer as a task: a 2026-07-28 client declaring the tasks extension
   * then gets `resultType: "task"` once the job outlives the server's wait.
   */
  taskCapable?: boolean | undefined;
  /** The call's arguments and server, for the cost gate (no gate when absent). */
  gate?: { server: McpServer; args: Record<string, unknown> } | undefined;
}

/** Submits `input` to `endpointId` and answers the tool result. */
export async function runJob(
  deps: ServerDeps,
  ctx: ServerContext,
  endpointId: string,
  input: Record<string, unknown>,
  options: RunJobOptions,
): Promise<CallToolResult> {
  const signal = ctx.mcpReq.signal;
  // A bad save_to is refused before the job is paid for, not after.
  await checkSaveTarget(deps.settings.saveBaseDir, options.saveTo);
  // A call replayed by another instance after its own died adopts the job it had submitted.
  const adopted = deps.calls?.take(ctx);
  const decision = options.gate && !adopted
    ? await gateRun(options.gate.server, deps, ctx, options.tool, endpointId, options.gate.args)
    : { kind: "go" as const, estimateUsd: undefined };
  // An answer instead of a run: a confirmation request (input_required), a token, a refusal.
  if (decision.kind === "answer") return decision.result as CallToolResult;
  const asTask = options.taskCapable === true && declaresTasksExtension(ctx);
  const progress = new ProgressReporter(ctx, adopted?.lastProgress);
  const submitted = adopted ? { id: adopted.jobId } : await submitPaid(
    deps,
    decision,
    () =>
      deps.jobs.submit(deps, endpointId, input, {
        tool: options.tool,
        signal,
      }),
  );
  if (!adopted) {
    deps.calls?.noteJob(ctx, submitted.id);
    progress.report(`Submitted as job ${submitted.id}`);
  }
  const record = await deps.jobs.wait(deps, submitted.id, {
    timeoutMs: asTask ? deps.settings.syncWaitMs : options.waitMs,
    signal: deps.stopping ? AbortSignal.any([signal, deps.stopping]) : signal,
    onStatus: (status) => progress.status(status),
  });
  await progress.flush();
  if (deps.stopping?.aborted && !signal.aborted && !isFinal(record.status)) {
    // The server is restarting: hand back the job (it keeps running at fal) rather than cut off.
    return await presentJob(record, deps, {
      notes: ["The server is restarting; the job goes on and get_job will have its result."],
    });
  }
  if (signal.aborted && !isFinal(record.status)) {
    // The client cancelled the call: nobody will read this result, so stop paying for it.
    await deps.jobs.cancel(deps, record.id).catch((error) =>
      deps.logger.warn("cancelling an abandoned job failed", { job_id: record.id, error })
    );
    throw signal.reason ?? new DOMException("cancelled", "AbortError");
  }
  if (asTask && !isFinal(record.status)) {
    // The job goes on at fal; the client polls tasks/get (or listens) for its result. The SDK
    // checks the tool's outputSchema on this answer too, so the job rides along as structured.
    return {
      ...createTaskResult(record),
      structuredContent: { job_id: record.id, status: record.status },
    } as CallToolResult;
  }
  return await presentJob(record, deps, {
    saveTo: options.saveTo,
    signal,
    notes: options.notes,
    describe: options.describe,
  });
}
