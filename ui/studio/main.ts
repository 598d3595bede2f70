/// <reference lib="dom" />
/**
 * The studio: a gallery of the caller's jobs with live status, a run form generated from any
 * model's schema with a live price estimate, compare, spend and connect. It talks only to the
 * server's `/studio/api/`, sending the bearer token kept in sessionStorage.
 */

import { h, money, seconds } from "../shared/dom.ts";
import {
  factsLine,
  inputField,
  isRunning,
  type JobView,
  mediaElement,
  statusBlock,
} from "../shared/job.ts";

const TOKEN_KEY = "fal-mcp-token";
const POLL_MS = 1000;
const DEFAULT_MODELS = ["fal-ai/flux/dev", "fal-ai/flux/schnell", "fal-ai/stable-diffusion-v15"];

type Tab = "gallery" | "run" | "compare" | "spend" | "connect";

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (init.body) headers.set("content-type", "application/json");
  const response = await fetch(`/studio/api${path}`, { ...init, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body?.error?.message ?? `HTTP ${response.status}`;
    if (response.status === 401) showLogin(message);
    throw new HttpError(response.status, message);
  }
  return body as T;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const main = () => $<HTMLElement>("main");

function showError(where: HTMLElement, error: unknown): void {
  where.replaceChildren(h("div", { class: "error" }, String((error as Error).message ?? error)));
}

// ---------------------------------------------------------------- login

function showLogin(message: string): void {
  const form = h(
    "form",
    {
      class: "login",
      id: "login",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = (form.querySelector("input") as HTMLInputElement).value.trim();
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        void show(current);
      },
    },
    h("h2", {}, "Sign in"),
    h(
      "p",
      {},
      `This server checks who calls it (${message}). Paste your bearer token; it stays ` +
        "in this tab only (sessionStorage).",
    ),
    h("input", { type: "password", name: "token", placeholder: "token", autocomplete: "off" }),
    h("button", { type: "submit" }, "Sign in"),
  );
  main().replaceChildren(form);
}

// ---------------------------------------------------------------- gallery

const filters = { model: "", kind: "", since: "", until: "" };
let selected: string | undefined;
let pollTimer: ReturnType<typeof setTimeout> | undefined;

function card(job: JobView): HTMLElement {
  const prompt = inputField(job, "prompt") ?? inputField(job, "text") ?? "";
  const media = job.media.length
    ? h("div", { class: "thumbs" }, ...job.media.slice(0, 4).map((m) => mediaElement(m, prompt)))
    : h("div", { class: "placeholder" }, job.kind);
  return h(
    "article",
    {
      class: `card${selected === job.id ? " selected" : ""}`,
      "data-job": job.id,
      onclick: () => {
        selected = job.id;
        void renderDetail(job.id);
      },
    },
    media,
    h("div", { class: "prompt" }, prompt),
    statusBlock(job),
    factsLine(job),
  );
}

async function renderGallery(): Promise<void> {
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  const { jobs, models } = await api<{ jobs: JobView[]; models: string[] }>(`/jobs?${query}`);
  if (current !== "gallery") return;
  let grid = document.getElementById("grid");
  if (!grid) {
    const select = (name: keyof typeof filters, options: string[], label: string) =>
      h(
        "select",
        {
          name,
          onchange: (e: Event) => {
            filters[name] = (e.target as HTMLSelectElement).value;
            void renderGallery();
          },
        },
        h("option", { value: "" }, label),
        ...options.map((o) => h("option", { value: o }, o)),
      );
    const date = (name: "since" | "until") =>
      h("input", {
        type: "date",
        name,
        value: filters[name],
        title: name,
        onchange: (e: Event) => {
          filters[name] = (e.target as HTMLInputElement).value;
          void renderGallery();
        },
      });
    main().replaceChildren(
      h(
        "div",
        { class: "filters" },
        select("model", models, "All models"),
        select("kind", ["image", "video", "audio", "text"], "All kinds"),
        h("label", {}, "from ", date("since")),
        h("label", {}, "to ", date("until")),
      ),
      h(
        "div",
        { class: "split" },
        h("div", { id: "grid", class: "grid" }),
        h("aside", { id: "detail" }),
      ),
    );
    grid = $("grid");
    for (const [name, value] of Object.entries(filters)) {
      const el = main().querySelector(`[name=${name}]`) as HTMLSelectElement | null;
      if (el) el.value = value;
    }
  }
  grid.replaceChildren(
    ...(jobs.length ? jobs.map(card) : [h("p", { class: "empty" }, "No jobs yet: run a model.")]),
  );
  if (selected) {
    const job = jobs.find((j) => j.id === selected);
    if (job) renderDetailOf(job);
  }
  schedule(jobs.some(isRunning) ? POLL_MS : POLL_MS * 5, renderGallery);
}

function schedule(ms: number, fn: () => Promise<void>): void {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(() => void fn().catch(() => undefined), ms);
}

async function renderDetail(id: string): Promise<void> {
  renderDetailOf(await api<JobView>(`/jobs/${encodeURIComponent(id)}`));
  for (const el of document.querySelectorAll(".card")) {
    el.classList.toggle("selected", (el as HTMLElement).dataset.job === id);
  }
}

function renderDetailOf(job: JobView): void {
  const detail = document.getElementById("detail");
  if (!detail) return;
  const created = new Date(job.created_at);
  detail.replaceChildren(
    h("h3", {}, job.endpoint_id),
    ...job.media.map((m) => mediaElement(m, inputField(job, "prompt") ?? "")),
    statusBlock(job),
    h(
      "dl",
      {},
      h("dt", {}, "Job"),
      h("dd", {}, job.id),
      h("dt", {}, "Cost"),
      h("dd", { class: "cost" }, money(job.cost, job.currency)),
      h("dt", {}, "Submitted"),
      h("dd", {}, created.toLocaleString()),
      h("dt", {}, "Took"),
      h("dd", {}, seconds(job.duration_ms)),
      h("dt", {}, "Inference"),
      h(
        "dd",
        {},
        job.inference_seconds !== undefined ? `${job.inference_seconds.toFixed(2)} s` : "–",
      ),
      h("dt", {}, "Tool"),
      h("dd", {}, job.tool ?? "–"),
    ),
    h("h4", {}, "Input"),
    h("pre", {}, JSON.stringify(job.input, null, 2)),
    h("h4", {}, "Result"),
    h("pre", {}, job.result === undefined ? "(not yet)" : JSON.stringify(job.result, null, 2)),
    h("h4", {}, "Logs"),
    h("pre", {}, job.logs.length ? job.logs.join("\n") : "(none)"),
    h("button", {
      onclick: () => {
        runPreset = { endpoint: job.endpoint_id, input: job.input as Record<string, unknown> };
        void show("run");
      },
    }, "Run again with these inputs"),
  );
}

// ---------------------------------------------------------------- run

interface Schema {
  type?: string;
  properties?: Record<string, FieldSchema>;
  required?: string[];
}
interface FieldSchema {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: FieldSchema[];
}

let runPreset: { endpoint: string; input: Record<string, unknown> } | undefined;

function fieldType(field: FieldSchema): string {
  return field.type ?? field.anyOf?.find((f) => f.type && f.type !== "null")?.type ?? "json";
}

function fieldInput(name: string, field: FieldSchema, value: unknown): HTMLElement {
  const type = fieldType(field);
  const common = { name, "data-type": type, title: field.description ?? name };
  if (field.enum) {
    return h(
      "select",
      { ...common, value: value === undefined ? "" : String(value) },
      h("option", { value: "" }, "(default)"),
      ...field.enum.map((v) => h("option", { value: String(v) }, String(v))),
    );
  }
  if (type === "boolean") {
    return h("input", { ...common, type: "checkbox", checked: value === true });
  }
  if (type === "integer" || type === "number") {
    return h("input", {
      ...common,
      type: "number",
      step: type === "integer" ? 1 : "any",
      min: field.minimum,
      max: field.maximum,
      value: value === undefined ? "" : String(value),
    });
  }
  if (type === "string") {
    return /prompt|text/.test(name)
      ? h("textarea", { ...common, rows: 3, value: value === undefined ? "" : String(value) })
      : h("input", { ...common, type: "text", value: value === undefined ? "" : String(value) });
  }
  return h("textarea", {
    ...common,
    rows: 2,
    placeholder: "JSON",
    value: value === undefined ? "" : JSON.stringify(value),
  });
}

function readForm(form: HTMLFormElement): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const el of form.querySelectorAll<HTMLInputElement>("[data-type]")) {
    const type = el.dataset.type;
    if (type === "boolean") {
      if (el.checked) input[el.name] = true;
      continue;
    }
    const raw = el.value.trim();
    if (raw === "") continue;
    if (type === "integer" || type === "number") input[el.name] = Number(raw);
    else if (type === "string") input[el.name] = raw;
    else {
      try {
        input[el.name] = JSON.parse(raw);
      } catch {
        input[el.name] = raw;
      }
    }
  }
  return input;
}

async function renderRun(): Promise<void> {
  const preset = runPreset;
  runPreset = undefined;
  const endpoint = h("input", {
    id: "endpoint",
    list: "models",
    value: preset?.endpoint ?? DEFAULT_MODELS[0],
    size: 40,
  });
  const fields = h("div", { id: "fields", class: "fields" });
  const estimate = h("div", { id: "estimate", class: "estimate" }, "–");
  const message = h("div", { id: "run-message" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reestimate = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const input = readForm(form);
      const quantity = Number(input.num_images ?? 1) || 1;
      try {
        const e = await api<
          { total_cost: number; currency: string; unit_price?: number; unit?: string }
        >(
          `/estimate?endpoint_id=${encodeURIComponent(endpoint.value)}&quantity=${quantity}`,
        );
        estimate.textContent = `Estimated ${money(e.total_cost, e.currency)}` +
          (e.unit_price !== undefined ? ` (${money(e.unit_price, e.currency)} per ${e.unit})` : "");
      } catch (error) {
        estimate.textContent = `No estimate: ${(error as Error).message}`;
      }
    }, 250);
  };
  const load = async () => {
    try {
      const schema = await api<{ input?: Schema; metadata?: { description?: string } }>(
        `/schema?endpoint_id=${encodeURIComponent(endpoint.value)}`,
      );
      const props = schema.input?.properties ?? {};
      const required = new Set(schema.input?.required ?? []);
      const names = Object.keys(props).sort((a, b) =>
        Number(required.has(b)) - Number(required.has(a))
      );
      fields.replaceChildren(
        ...names.map((name) =>
          h(
            "label",
            { class: required.has(name) ? "required" : "" },
            h("span", {}, props[name]!.title ?? name),
            fieldInput(name, props[name]!, preset?.input[name] ?? undefined),
          )
        ),
      );
      reestimate();
    } catch (error) {
      showError(fields, error);
    }
  };
  const form: HTMLFormElement = h(
    "form",
    {
      id: "run-form",
      class: "run",
      oninput: reestimate,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.textContent = "Submitting…";
        try {
          const job = await api<JobView>("/run", {
            method: "POST",
            body: JSON.stringify({ endpoint_id: endpoint.value, input: readForm(form) }),
          });
          selected = job.id;
          await show("gallery");
        } catch (error) {
          showError(message, error);
        }
      },
    },
    h(
      "div",
      { class: "row" },
      h("label", {}, "Model ", endpoint),
      h("button", { type: "button", onclick: load }, "Load"),
    ),
    h("datalist", { id: "models" }, ...DEFAULT_MODELS.map((m) => h("option", { value: m }))),
    fields,
    h("div", { class: "row" }, estimate, h("button", { type: "submit", id: "run" }, "Run")),
    message,
  );
  endpoint.addEventListener("change", load);
  main().replaceChildren(form);
  await load();
}

// ---------------------------------------------------------------- compare

function renderCompare(): void {
  const prompt = h("textarea", { id: "compare-prompt", rows: 2, value: "a red fox in the snow" });
  const models = h("input", { id: "compare-models", size: 80, value: DEFAULT_MODELS.join(", ") });
  const columns = h("div", { id: "columns", class: "columns" });
  const ids: string[] = [];
  const refresh = async () => {
    const jobs = await Promise.all(
      ids.map((id) => api<JobView>(`/jobs/${encodeURIComponent(id)}`)),
    );
    if (current !== "compare") return;
    columns.replaceChildren(
      ...jobs.map((job) =>
        h(
          "div",
          { class: "column", "data-job": job.id },
          h("h3", {}, job.endpoint_id),
          ...job.media.map((m) => mediaElement(m, prompt.value)),
          statusBlock(job),
          h(
            "div",
            { class: "facts" },
            `cost ${money(job.cost, job.currency)} · time ${seconds(job.duration_ms)}`,
          ),
        )
      ),
    );
    if (jobs.some(isRunning)) schedule(POLL_MS, refresh);
  };
  main().replaceChildren(
    h(
      "form",
      {
        class: "run",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          ids.length = 0;
          const list = models.value.split(",").map((m) => m.trim()).filter(Boolean);
          const results = await Promise.allSettled(list.map((endpoint_id) =>
            api<JobView>("/run", {
              method: "POST",
              body: JSON.stringify({ endpoint_id, input: { prompt: prompt.value } }),
            })
          ));
          for (const r of results) if (r.status === "fulfilled") ids.push(r.value.id);
          const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
          await refresh();
          for (const f of failed) {
            columns.append(h("div", { class: "error" }, String(f.reason.message)));
          }
        },
      },
      h("label", {}, "Prompt ", prompt),
      h("label", {}, "Models (comma-separated) ", models),
      h("button", { type: "submit", id: "compare" }, "Compare"),
    ),
    columns,
  );
}

// ---------------------------------------------------------------- spend

interface SpendLine {
  key: string;
  jobs: number;
  cost: number;
}

async function renderSpend(): Promise<void> {
  const spend = await api<
    { currency: string; total: number; days: SpendLine[]; models: SpendLine[]; unpriced: number }
  >(
    "/spend",
  );
  const table = (title: string, lines: SpendLine[]) => {
    const most = Math.max(...lines.map((l) => l.cost), 0.000001);
    return h(
      "section",
      {},
      h("h3", {}, title),
      h(
        "table",
        {},
        ...lines.map((l) =>
          h(
            "tr",
            {},
            h("td", {}, l.key),
            h("td", { class: "num" }, `${l.jobs} job${l.jobs === 1 ? "" : "s"}`),
            h("td", { class: "num" }, money(l.cost, spend.currency)),
            h(
              "td",
              { class: "barcell" },
              h("div", { class: "hbar", style: `width:${(l.cost / most) * 100}%` }),
            ),
          )
        ),
      ),
    );
  };
  main().replaceChildren(
    h(
      "p",
      { id: "spend-total", class: "total" },
      `Total (estimated): ${money(spend.total, spend.currency)}`,
    ),
    h("p", {}, spend.unpriced ? `${spend.unpriced} job(s) without a known price.` : ""),
    h("div", { class: "columns" }, table("Per day", spend.days), table("Per model", spend.models)),
  );
}

// ---------------------------------------------------------------- connect

function renderConnect(): void {
  const url = `${location.origin}/mcp`;
  const auth = sessionStorage.getItem(TOKEN_KEY) !== null;
  const header = auth ? { Authorization: "Bearer YOUR_TOKEN" } : undefined;
  const block = (title: string, where: string, text: string) => {
    const pre = h("pre", {}, text);
    return h(
      "section",
      { class: "connect" },
      h("h3", {}, title),
      h("p", {}, where),
      pre,
      h("button", {
        onclick: (e: Event) => {
          void navigator.clipboard?.writeText(text);
          (e.target as HTMLButtonElement).textContent = "Copied";
        },
      }, "Copy"),
    );
  };
  const remote = [
    "-y",
    "mcp-remote",
    url,
    ...(auth ? ["--header", "Authorization: Bearer YOUR_TOKEN"] : []),
  ];
  main().replaceChildren(
    h("p", {}, `This server speaks MCP at ${url}.`),
    block(
      "Claude Desktop",
      "claude_desktop_config.json (Settings → Developer → Edit Config)",
      JSON.stringify({ mcpServers: { fal: { command: "npx", args: remote } } }, null, 2),
    ),
    block(
      "Claude Code",
      "in a terminal",
      `claude mcp add --transport http fal ${url}${
        auth ? ' --header "Authorization: Bearer YOUR_TOKEN"' : ""
      }`,
    ),
    block(
      "Cursor",
      "~/.cursor/mcp.json",
      JSON.stringify(
        { mcpServers: { fal: { url, ...(header ? { headers: header } : {}) } } },
        null,
        2,
      ),
    ),
    block(
      "VS Code",
      ".vscode/mcp.json",
      JSON.stringify(
        { servers: { fal: { type: "http", url, ...(header ? { headers: header } : {}) } } },
        null,
        2,
      ),
    ),
  );
}

// ---------------------------------------------------------------- shell

let current: Tab = "gallery";

async function show(tab: Tab): Promise<void> {
  current = tab;
  clearTimeout(pollTimer);
  for (const el of document.querySelectorAll<HTMLElement>("nav button")) {
    el.classList.toggle("active", el.dataset.tab === tab);
  }
  main().replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    if (tab === "gallery") await renderGallery();
    else if (tab === "run") await renderRun();
    else if (tab === "compare") renderCompare();
    else if (tab === "spend") await renderSpend();
    else renderConnect();
  } catch (error) {
    if (!(error instanceof HttpError && error.status === 401)) showError(main(), error);
  }
}

document.body.append(
  h(
    "header",
    {},
    h("h1", {}, "fal studio"),
    h(
      "nav",
      {},
      ...(["gallery", "run", "compare", "spend", "connect"] as Tab[]).map((tab) =>
        h(
          "button",
          { "data-tab": tab, onclick: () => void show(tab) },
          tab[0]!.toUpperCase() + tab.slice(1),
        )
      ),
    ),
    h("button", {
      class: "signout",
      onclick: () => {
        sessionStorage.removeItem(TOKEN_KEY);
        void show(current);
      },
    }, "Sign out"),
  ),
  h("main", { id: "main" }),
);
void show("gallery");
