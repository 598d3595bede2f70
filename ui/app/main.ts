/// <reference lib="dom" />
/**
 * The MCP App view (`ui://fal-mcp/media.html`): shows the media of a fal-mcp tool result, with
 * each item's prompt, model, seed, size, duration and cost, and actions (upscale, remove the
 * background, animate, variations, save) that call the server's app-only tools. A job still
 * running shows its queue position and progress and fills in when done.
 */

import { App } from "@modelcontextprotocol/ext-apps";
import { h } from "../shared/dom.ts";
import {
  factsLine,
  inputField,
  isRunning,
  type JobView,
  mediaElement,
  statusBlock,
} from "../shared/job.ts";

const POLL_MS = 1000;
const app = new App({ name: "fal-mcp media", version: "1.0.0" }, {}, { autoResize: true });
const root = h("div", { id: "items", class: "items" });
const note = h("div", { id: "note", class: "note" });
document.body.append(root, note);

interface Action {
  action: string;
  label: string;
  kinds: string[];
}
const ACTIONS: Action[] = [
  { action: "upscale", label: "Upscale", kinds: ["image"] },
  { action: "remove_background", label: "Remove background", kinds: ["image"] },
  { action: "animate", label: "Animate", kinds: ["image"] },
  { action: "variations", label: "Variations", kinds: ["image", "video", "audio"] },
  { action: "save", label: "Save", kinds: ["image", "video", "audio"] },
];

const tracked = new Map<string, HTMLElement>();

function structured<T>(
  result: { structuredContent?: unknown; isError?: boolean; content?: unknown },
): T {
  if (result.isError) {
    const text = (result.content as { type: string; text?: string }[] | undefined)
      ?.find((c) => c.type === "text")?.text;
    throw new Error(text ?? "the tool failed");
  }
  return result.structuredContent as T;
}

async function act(action: string, job: JobView, url: string): Promise<void> {
  note.textContent = `${action}…`;
  try {
    const result = structured<{ job?: JobView; saved?: string[] }>(
      await app.callServerTool({
        name: "media_action",
        arguments: { action, job_id: job.id, url },
      }),
    );
    if (result.saved) note.textContent = `Saved to ${result.saved.join(", ")}`;
    if (result.job) {
      note.textContent = `${action}: job ${result.job.id} submitted`;
      show(result.job);
    }
  } catch (error) {
    note.textContent = `${action} failed: ${(error as Error).message}`;
  }
}

function render(job: JobView): HTMLElement {
  const prompt = inputField(job, "prompt") ?? inputField(job, "text") ?? "";
  return h(
    "article",
    { class: "item", "data-job": job.id, "data-status": job.status },
    ...job.media.map((m) =>
      h(
        "figure",
        {},
        mediaElement(m, prompt),
        h(
          "div",
          { class: "actions" },
          ...ACTIONS.filter((a) => a.kinds.includes(m.kind)).map((a) =>
            h("button", {
              "data-action": a.action,
              onclick: () => void act(a.action, job, m.url),
            }, a.label)
          ),
        ),
      )
    ),
    prompt ? h("div", { class: "prompt" }, prompt) : null,
    statusBlock(job),
    factsLine(job),
  );
}

function show(job: JobView): void {
  const card = render(job);
  const old = tracked.get(job.id);
  if (old) old.replaceWith(card);
  else root.prepend(card);
  tracked.set(job.id, card);
  if (isRunning(job)) setTimeout(() => void follow(job.id), POLL_MS);
}

async function follow(jobId: string): Promise<void> {
  try {
    const result = await app.callServerTool({ name: "media_job", arguments: { job_id: jobId } });
    show(structured<{ job: JobView }>(result).job);
  } catch (error) {
    note.textContent = `Could not load job ${jobId}: ${(error as Error).message}`;
  }
}

app.ontoolresult = (params) => {
  const content = params.structuredContent as { job_id?: unknown } | undefined;
  if (typeof content?.job_id === "string") void follow(content.job_id);
  else note.textContent = "This result has no job to show.";
};

void app.connect();
