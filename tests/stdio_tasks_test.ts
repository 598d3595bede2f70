/**
 * `notifications/tasks` over stdio: a real fal-mcp process on the fake fal, driven with raw
 * 2026-07-28 JSON-RPC lines (the `_meta` envelope on every request), as a client that declares the
 * tasks extension would.
 */
import assert from "node:assert/strict";
import { mainArgs } from "./helpers/process.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { TASKS_CAPABILITIES } from "./helpers/modern_client.ts";

const MODERN = "2026-07-28";
const SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

type Message = {
  id?: string | number;
  method?: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};

/** A fal-mcp stdio process and a line reader of its stdout. */
class StdioPeer {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #seen: Message[] = [];
  #buffer = "";
  #id = 0;

  constructor(env: Record<string, string>, args: string[] = []) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: mainArgs(...args),
      env: { NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory", ...env },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
  }

  /** Every message read so far. */
  get seen(): readonly Message[] {
    return this.#seen;
  }

  /** Writes one message as a line. */
  async write(message: Record<string, unknown>): Promise<void> {
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify(message) + "\n"),
    );
  }

  /** Sends a 2026-07-28 request (with the `_meta` envelope) and answers its id. */
  async request(
    method: string,
    params: Record<string, unknown>,
    capabilities: Record<string, unknown> = TASKS_CAPABILITIES,
  ): Promise<number> {
    const id = ++this.#id;
    await this.write({
      jsonrpc: "2.0",
      id,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientInfo": {
            name: "stdio-tasks-test",
            version: "1.0.0",
          },
          "io.modelcontextprotocol/clientCapabilities": capabilities,
        },
      },
    });
    return id;
  }

  /** One read of stdout; a process that stays silent for a minute fails the test, not hangs it. */
  async #read(what: string): Promise<ReadableStreamReadResult<string>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`stdout silent while waiting for ${what}`)),
        60_000,
      );
    });
    try {
      return await Promise.race([this.#reader.read(), silent]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads messages until one matches (bounded by count of messages read). */
  async until(
    match: (message: Message) => boolean,
    what: string,
  ): Promise<Message> {
    const already = this.#seen.find(match);
    if (already) return already;
    for (let reads = 0; reads < 2000; reads++) {
      const newline = this.#buffer.indexOf("\n");
      if (newline < 0) {
        const { value, done } = await this.#read(what);
        if (done) throw new Error(`stdout ended before ${what}`);
        this.#buffer += value;
        continue;
      }
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      if (!line.trim()) continue;
      const message = JSON.parse(line) as Message;
      this.#seen.push(message);
      if (match(message)) return message;
    }
    throw new Error(`no ${what} among ${this.#seen.length} messages`);
  }

  /** The answer to request `id`. */
  answer(id: number): Promise<Message> {
    return this.until(
      (m) => m.id === id && (m.result !== undefined || m.error !== undefined),
      `the answer to ${id}`,
    );
  }

  /** Closes stdin and waits for the process to exit. */
  async close(): Promise<number> {
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    return (await this.#child.status).code;
  }
}

const startsTask = (peer: StdioPeer, prompt: string) =>
  peer.request("tools/call", {
    name: "run_model",
    arguments: {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt, fake_duration_ms: 1500 },
      validate: false,
    },
  });

Deno.test("stdio: a 2026 client that declares the tasks extension hears notifications/tasks on subscriptions/listen until its task completes", async () => {
  await withFakeFal(async (fake) => {
    const peer = new StdioPeer(falEnv(fake), ["--sync-wait", "0"]);
    try {
      const call = await peer.answer(await startsTask(peer, "a fox"));
      assert.equal(call.result?.resultType, "task", JSON.stringify(call));
      const taskId = String(call.result?.taskId);

      const listenId = await peer.request("subscriptions/listen", {
        notifications: {
          taskIds: [taskId, "not-a-task-of-mine"],
          resourcesListChanged: true,
        },
      });
      const ack = await peer.until(
        (m) => m.method === "notifications/subscriptions/acknowledged",
        "the acknowledgement",
      );
      assert.equal(ack.params?._meta?.[SUBSCRIPTION_ID], listenId);
      assert.deepEqual(ack.params?.notifications, {
        resourcesListChanged: true,
        taskIds: [taskId],
      });

      const done = await peer.until(
        (m) =>
          m.method === "notifications/tasks" &&
          m.params?.status === "completed",
        "the completed task notification",
      );
      assert.equal(done.params?.taskId, taskId);
      assert.equal(done.params?._meta?.[SUBSCRIPTION_ID], listenId);
      assert.ok(done.params?.result, "the completed task carries its result");
      const notes = peer.seen.filter((m) => m.method === "notifications/tasks");
      assert.ok(
        notes.every((m) =>
          m.params?.taskId === taskId &&
          m.params?._meta?.[SUBSCRIPTION_ID] === listenId
        ),
      );
      assert.ok(
        notes.length >= 2,
        "the task was notified as it moved, then completed",
      );
      // Deduplicated: no two consecutive notifications say the same thing.
      for (let i = 1; i < notes.length; i++) {
        const key = (m: Message) => `${m.params?.status}|${m.params?.statusMessage}`;
        assert.notEqual(key(notes[i]!), key(notes[i - 1]!));
      }
    } finally {
      assert.equal(await peer.close(), 0);
    }
  });
});

Deno.test("stdio: listening for tasks without declaring the tasks extension is refused with -32021; a cancelled subscription hears no more", async () => {
  await withFakeFal(async (fake) => {
    const peer = new StdioPeer(falEnv(fake), ["--sync-wait", "0"]);
    try {
      const call = await peer.answer(await startsTask(peer, "a cat"));
      const taskId = String(call.result?.taskId);

      const refused = await peer.answer(
        await peer.request("subscriptions/listen", {
          notifications: { taskIds: [taskId] },
        }, {}),
      );
      assert.equal(refused.error?.code, -32021, JSON.stringify(refused));
      assert.match(refused.error!.message, /io\.modelcontextprotocol\/tasks/);

      // Listen, then cancel at once: after the cancellation nothing more comes for it.
      const listenId = await peer.request("subscriptions/listen", {
        notifications: { taskIds: [taskId] },
      });
      await peer.until(
        (m) =>
          m.method === "notifications/subscriptions/acknowledged" &&
          m.params?._meta?.[SUBSCRIPTION_ID] === listenId,
        "the acknowledgement",
      );
      await peer.write({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: listenId },
      });
      // A second subscription sees the task complete; the cancelled one never does.
      const second = await peer.request("subscriptions/listen", {
        notifications: { taskIds: [taskId] },
      });
      await peer.until(
        (m) =>
          m.method === "notifications/tasks" &&
          m.params?.status === "completed" &&
          m.params?._meta?.[SUBSCRIPTION_ID] === second,
        "the completed task on the second subscription",
      );
      // One more round trip, so anything still on its way for the cancelled one has arrived.
      await peer.answer(await peer.request("tasks/get", { taskId }));
      const late = peer.seen.filter((m) =>
        m.method === "notifications/tasks" &&
        m.params?._meta?.[SUBSCRIPTION_ID] === listenId &&
        m.params?.status === "completed"
      );
      assert.deepEqual(late, []);
    } finally {
      assert.equal(await peer.close(), 0);
    }
  });
});
