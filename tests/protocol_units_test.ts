import assert from "node:assert/strict";
import { SpendLedger } from "../src/costs/budget.ts";
import { rankCompletions } from "../src/fal/catalogue.ts";
import type { JobRecord } from "../src/jobs/types.ts";
import { modernTask, pollIntervalMs, statusMessage } from "../src/tools/task_view.ts";
import { guessCategory } from "../src/tools/recommend_model.ts";

const IDS = [
  "fal-ai/flux/dev",
  "fal-ai/flux/schnell",
  "fal-ai/flux-pro/kontext",
  "fal-ai/kling-video/v2/master/text-to-video",
  "fal-ai/wan-i2v",
];

Deno.test("completions rank prefix matches first, then name-part, substring and fuzzy matches", () => {
  assert.deepEqual(rankCompletions(IDS, "fal-ai/flux/"), [
    "fal-ai/flux/dev",
    "fal-ai/flux/schnell",
  ]);
  assert.deepEqual(rankCompletions(IDS, "wan"), ["fal-ai/wan-i2v"]);
  assert.deepEqual(rankCompletions(IDS, "kontext"), ["fal-ai/flux-pro/kontext"]);
  assert.deepEqual(rankCompletions(IDS, "fluxschnell"), ["fal-ai/flux/schnell"]);
  assert.deepEqual(rankCompletions(IDS, "zzz"), []);
  assert.equal(rankCompletions(IDS, "").length, IDS.length);
});

Deno.test("the spend ledger sums per owner, refuses a charge past the limit, and starts again each UTC day", async () => {
  let now = new Date("2026-12-01T23:59:00Z");
  const ledger = new SpendLedger(() => now);
  await ledger.charge("a", 1.5, undefined);
  const second = await ledger.charge("a", 0.25, 2);
  await ledger.charge("b", 3, undefined);
  assert.equal(await ledger.spent("a"), 1.75);
  assert.equal(await ledger.spent("b"), 3);
  assert.deepEqual(await ledger.charge("a", 0.5, 2), { kind: "over_budget", spentUsd: 1.75 });
  assert.equal(second.kind, "charged");
  if (second.kind === "charged") await ledger.refund(second.charge);
  assert.equal(await ledger.spent("a"), 1.5);
  assert.equal(await ledger.claimOnce("n1", 600), true);
  assert.equal(await ledger.claimOnce("n1", 600), false);
  now = new Date("2026-12-02T00:01:00Z");
  assert.equal(await ledger.spent("a"), 0);
  await ledger.charge("a", 0.5, 2);
  assert.equal(await ledger.spent("a"), 0.5);
});

function job(changes: Partial<JobRecord>): JobRecord {
  return {
    id: "req-1",
    endpointId: "fal-ai/kling-video/v2/master/text-to-video",
    owner: "o",
    status: "IN_QUEUE",
    logs: [],
    input: {},
    createdAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-01T10:00:05.000Z",
    ...changes,
  };
}

Deno.test("a task's status line tells queue position, time running, progress and the last log", () => {
  assert.equal(statusMessage(job({ queuePosition: 3 })), "Waiting in fal's queue at position 3");
  const running = job({
    status: "IN_PROGRESS",
    logs: [{ message: "Sampling step 9/20" }],
  });
  assert.equal(
    statusMessage(running, Date.parse("2026-12-01T10:00:42Z")),
    "Running on fal for 42 s; 45% done; last log: Sampling step 9/20",
  );
  assert.equal(pollIntervalMs(job({ queuePosition: 3 })), 4000);
  assert.equal(pollIntervalMs(job({ queuePosition: 500 })), 30_000);
  assert.equal(pollIntervalMs(running), 2000);
  const failed = modernTask(job({ status: "FAILED", error: "boom" }));
  assert.equal(failed.status, "completed", "a fal failure is a tool error, not a protocol one");
  assert.equal(failed.pollIntervalMs, undefined);
  assert.equal(modernTask(job({ status: "CANCELLED" })).status, "cancelled");
});

Deno.test("recommend_model reads the category from the task's words", () => {
  assert.equal(guessCategory("a short video clip of waves"), "text-to-video");
  assert.equal(guessCategory("animate this photo into a video"), "image-to-video");
  assert.equal(guessCategory("narrate my blog post"), "text-to-speech");
  assert.equal(guessCategory("transcribe a meeting"), "speech-to-text");
  assert.equal(guessCategory("remove the background"), "image-to-image");
  assert.equal(guessCategory("a logo for a bakery"), "text-to-image");
  assert.equal(guessCategory("xyzzy"), undefined);
});
