import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { postCuttable } from "./helpers/node_http.ts";
import { openSession, sessionHeaders } from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { type SseEvent, SseReader } from "./helpers/sse_reader.ts";

const VERSION = "2025-11-25";

Deno.test("a stream cut mid-call resumes with Last-Event-ID and delivers the rest exactly once", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const mcp = `${server.url}/mcp`;
    try {
      const session = await openSession(mcp, VERSION);
      const call = {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: {
          name: "run_model",
          arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a lighthouse" } },
          _meta: { progressToken: "resume-1" },
        },
      };
      const first = await postCuttable(mcp, JSON.stringify(call), sessionHeaders(session, VERSION));
      assert.equal(first.status, 200);
      assert.match(String(first.headers["content-type"]), /text\/event-stream/);

      // 2025-11-25: the stream opens with a priming event (an id, empty data, a retry hint).
      const before = new SseReader(first.body);
      const priming = await before.next();
      assert.ok(priming?.id, "priming event carries an id");
      assert.equal(priming.data, "");
      assert.equal(typeof priming.retry, "number");

      // Read the first progress notification, then drop the connection mid-call.
      const seen: SseEvent[] = [];
      let lastId = priming.id;
      while (true) {
        const event = await before.next();
        assert.ok(event, "the stream ended before any progress");
        seen.push(event);
        if (event.id) lastId = event.id;
        if (JSON.parse(event.data).method === "notifications/progress") break;
      }
      first.cut();

      // Resume from the last event id after the server's `retry` hint, as a client does; a 409
      // means the server has not yet noticed the old connection closing, so wait and try again.
      let resumed: Response | undefined;
      for (let attempt = 0; attempt < 5 && resumed?.status !== 200; attempt++) {
        await resumed?.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, priming.retry));
        resumed = await fetch(mcp, {
          headers: {
            ...sessionHeaders(session, VERSION),
            accept: "text/event-stream",
            "last-event-id": lastId,
          },
        });
      }
      assert.ok(resumed);
      assert.equal(resumed.status, 200);
      const after = new SseReader(resumed.body!);
      let result: Record<string, unknown> | undefined;
      while (!result) {
        const event = await after.next();
        assert.ok(event, "the resumed stream ended before the result");
        seen.push(event);
        const message = JSON.parse(event.data);
        if (message.id === 7) result = message;
      }
      await after.cancel();

      const ids = seen.map((e) => e.id).filter(Boolean);
      assert.equal(new Set(ids).size, ids.length, `an event arrived twice: ${ids.join(", ")}`);
      const progress = seen.map((e) => JSON.parse(e.data))
        .filter((m) => m.method === "notifications/progress")
        .map((m) => m.params.progress as number);
      assert.deepEqual(progress, [...new Set(progress)].sort((a, b) => a - b));
      assert.ok(progress.length >= 2, "progress continued after the resume");
      const content = (result.result as { content: { type: string }[] }).content;
      assert.ok(content.some((c) => c.type === "resource_link"));
      assert.equal(fake.state.jobs.size, 1, "the fal job ran once; resuming did not resubmit it");
    } finally {
      await server.close();
    }
  });
});
