import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { silentLogger } from "../src/log.ts";
import { registerEstimateCost } from "../src/tools/estimate_cost.ts";
import { registerGetPricing } from "../src/tools/get_pricing.ts";
import { registerGetUsage } from "../src/tools/get_usage.ts";
import { findModel } from "./fake_fal/catalogue.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";
import { TEST_FAL_KEY } from "./helpers/scenario.ts";

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

interface Price {
  endpoint_id: string;
  unit_price: number;
  unit: string;
  currency: string;
}

interface UsageRow {
  endpoint_id: string;
  quantity: number;
  unit: string;
  unit_price: number;
  cost: number;
  currency: string;
}

type Call = (name: string, args: Record<string, unknown>) => Promise<ToolResult>;

/** Serves the three cost tools over an in-memory MCP pair, with a real FalClient on the fake. */
async function withCostTools(
  fn: (call: Call, fake: FakeFal, fal: FalClient) => Promise<void>,
  key: string | null = TEST_FAL_KEY,
): Promise<void> {
  const fake = await startFakeFal({ jobDurationMs: 0 });
  const fal = new FalClient({
    hosts: resolveFalHosts(fake.url),
    key: key ?? undefined,
    retryBaseMs: 1,
  });
  const server = new McpServer({ name: "cost-tools-test", version: "1.0.0" }, {
    capabilities: { tools: {} },
  });
  const deps = { fal, logger: silentLogger };
  registerGetPricing(server, deps);
  registerEstimateCost(server, deps);
  registerGetUsage(server, deps);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "cost-tools-test", version: "1.0.0" });
  try {
    await server.connect(serverSide);
    await client.connect(clientSide);
    await fn(
      async (name, args) => await client.callTool({ name, arguments: args }) as ToolResult,
      fake,
      fal,
    );
  } finally {
    await client.close();
    await server.close();
    await fake.close();
  }
}

const textOf = (result: ToolResult) => result.content.map((c) => c.text ?? "").join("\n");

Deno.test("the cost tools are read-only, idempotent, open-world and not destructive", async () => {
  const server = new McpServer({ name: "t", version: "1" }, { capabilities: { tools: {} } });
  const fal = new FalClient({ hosts: resolveFalHosts("http://fal.test") });
  for (const register of [registerGetPricing, registerEstimateCost, registerGetUsage]) {
    register(server, { fal, logger: silentLogger });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "t", version: "1" });
  await server.connect(serverSide);
  await client.connect(clientSide);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      "estimate_cost",
      "get_pricing",
      "get_usage",
    ]);
    for (const tool of tools) {
      // Read-only (so neither destructive nor meaningfully idempotent: the protocol ignores
      // those hints then) and open-world by the protocol's default.
      assert.deepEqual(tool.annotations, { readOnlyHint: true }, tool.name);
      assert.match(tool.description ?? "", /Free/, tool.name);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("get_pricing prices full endpoint ids with unit, unit price and currency", async () => {
  await withCostTools(async (call) => {
    const result = await call("get_pricing", {
      endpoint_ids: ["fal-ai/flux/dev", "fal-ai/kling-video/v2/master/text-to-video"],
    });
    assert.notEqual(result.isError, true, textOf(result));
    const text = textOf(result);
    assert.match(text, /- fal-ai\/flux\/dev: 0\.025 USD per image/);
    assert.match(text, /- fal-ai\/kling-video\/v2\/master\/text-to-video: 0\.28 USD per second/);
    const prices = result.structuredContent!.prices as Price[];
    assert.deepEqual(prices.find((p) => p.endpoint_id === "fal-ai/flux/dev"), {
      endpoint_id: "fal-ai/flux/dev",
      unit_price: 0.025,
      unit: "image",
      currency: "USD",
    });
    assert.deepEqual(result.structuredContent!.unknown, []);
  });
});

Deno.test("get_pricing resolves an app-level id (which fal's pricing API answers 404 for) to its endpoints", async () => {
  await withCostTools(async (call) => {
    const result = await call("get_pricing", { endpoint_ids: ["fal-ai/flux"] });
    assert.notEqual(result.isError, true, textOf(result));
    const text = textOf(result);
    assert.match(text, /fal-ai\/flux \(app-level id; 2 endpoints\):/);
    assert.match(text, / {2}- fal-ai\/flux\/dev: 0\.025 USD per image/);
    assert.match(text, / {2}- fal-ai\/flux\/schnell: 0\.003 USD per image/);
    assert.ok(!text.includes("flux-pro"), "fal-ai/flux-pro is another app");
    assert.deepEqual(result.structuredContent!.resolved, {
      "fal-ai/flux": ["fal-ai/flux/dev", "fal-ai/flux/schnell"],
    });

    const kling = await call("get_pricing", { endpoint_ids: ["fal-ai/kling-video"] });
    assert.deepEqual(
      (kling.structuredContent!.prices as Price[]).map((p) => p.endpoint_id),
      ["fal-ai/kling-video/v2/master/text-to-video"],
    );
  });
});

Deno.test("get_pricing names unknown ids: an error pointing to search_models when none is known", async () => {
  await withCostTools(async (call) => {
    const unknown = await call("get_pricing", { endpoint_ids: ["nobody/nothing"] });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /Unknown endpoint id "nobody\/nothing".*search_models/s);

    const mixed = await call("get_pricing", {
      endpoint_ids: ["fal-ai/flux/schnell", "nobody/nothing", "fal-ai/flux/no-such-path"],
    });
    assert.notEqual(mixed.isError, true, textOf(mixed));
    assert.match(textOf(mixed), /- fal-ai\/flux\/schnell: 0\.003 USD per image/);
    assert.match(
      textOf(mixed),
      /Unknown endpoint ids "nobody\/nothing", "fal-ai\/flux\/no-such-path"/,
    );
    assert.deepEqual(mixed.structuredContent!.unknown, [
      "nobody/nothing",
      "fal-ai/flux/no-such-path",
    ]);

    const malformed = await call("get_pricing", { endpoint_ids: ["not an id"] });
    assert.equal(malformed.isError, true);
    assert.match(textOf(malformed), /Invalid endpoint id "not an id"/);
  });
});

Deno.test("estimate_cost by calls uses fal's historical price per call and shows the unit price", async () => {
  await withCostTools(async (call) => {
    const result = await call("estimate_cost", { endpoint_id: "fal-ai/flux/dev", quantity: 100 });
    assert.notEqual(result.isError, true, textOf(result));
    // 100 calls × 1.5 images per call (the fake's history) × 0.025 USD.
    assert.match(textOf(result), /Estimated cost of 100 calls to fal-ai\/flux\/dev: 3\.75 USD/);
    assert.match(textOf(result), /Unit price: 0\.025 USD per image/);
    assert.deepEqual(result.structuredContent, {
      endpoint_id: "fal-ai/flux/dev",
      basis: "calls",
      quantity: 100,
      estimate_type: "historical_api_price",
      total_cost: 3.75,
      currency: "USD",
      unit_price: 0.025,
      unit: "image",
      unit_currency: "USD",
    });
  });
});

Deno.test("estimate_cost by units multiplies the unit price; an app-level id gets a helpful error", async () => {
  await withCostTools(async (call) => {
    const result = await call("estimate_cost", {
      endpoint_id: "fal-ai/kling-video/v2/master/text-to-video",
      quantity: 10,
      basis: "units",
    });
    assert.notEqual(result.isError, true, textOf(result));
    assert.match(textOf(result), /10 billing units \(second\).*: 2\.8 USD/);
    assert.equal(result.structuredContent!.estimate_type, "unit_price");
    assert.equal(result.structuredContent!.total_cost, 2.8);

    const app = await call("estimate_cost", { endpoint_id: "fal-ai/flux", quantity: 1 });
    assert.equal(app.isError, true);
    assert.match(textOf(app), /Cannot estimate the cost of fal-ai\/flux: fal answered 404/);
    assert.match(textOf(app), /get_pricing .*search_models/);

    const zero = await call("estimate_cost", { endpoint_id: "fal-ai/flux/dev", quantity: 0 });
    assert.equal(zero.isError, true);
    assert.match(textOf(zero), /quantity/);
  });
});

Deno.test("get_usage totals each model: cost = quantity × unit_price, plus a total per currency", async () => {
  await withCostTools(async (call, fake, fal) => {
    const started = new Date(Date.now() - 60_000).toISOString();
    await fal.run("fal-ai/flux/dev", { prompt: "a", num_images: 2, image_size: "square" });
    await fal.run("fal-ai/flux/dev", { prompt: "b", num_images: 1, image_size: "square" });
    await fal.run("fal-ai/flux/schnell", { prompt: "c", num_images: 3, image_size: "square" });
    // A failed run is not billed.
    await assert.rejects(fal.run("fal-ai/flux/dev", { prompt: "d", fake_fail: "model_error" }));

    // What the fake billed, straight from its own records.
    const expected = new Map<string, { quantity: number; unitPrice: number }>();
    for (const job of fake.state.jobs.values()) {
      if (job.units === 0) continue;
      const price = findModel(job.endpointId)!.pricing.unit_price;
      const line = expected.get(job.endpointId) ?? { quantity: 0, unitPrice: price };
      line.quantity += job.units;
      expected.set(job.endpointId, line);
    }
    assert.equal(expected.get("fal-ai/flux/dev")?.quantity, 3);
    assert.equal(expected.get("fal-ai/flux/schnell")?.quantity, 3);

    const result = await call("get_usage", { start: started });
    assert.notEqual(result.isError, true, textOf(result));
    const rows = result.structuredContent!.usage as UsageRow[];
    assert.deepEqual(rows.map((r) => r.endpoint_id).sort(), [...expected.keys()].sort());
    let total = 0;
    for (const row of rows) {
      const want = expected.get(row.endpoint_id)!;
      assert.equal(row.quantity, want.quantity, row.endpoint_id);
      assert.equal(row.unit_price, want.unitPrice, row.endpoint_id);
      assert.equal(row.cost, Math.round(want.quantity * want.unitPrice * 1e8) / 1e8);
      assert.equal(row.currency, "USD");
      total += row.cost;
    }
    assert.deepEqual(result.structuredContent!.totals, { USD: Math.round(total * 1e8) / 1e8 });
    const text = textOf(result);
    assert.match(text, /\| endpoint \| quantity \| unit \| unit price \| cost \|/);
    assert.match(text, /\| fal-ai\/flux\/dev \| 3 \| image \| 0\.025 USD \| 0\.075 USD \|/);
    assert.match(text, /\| fal-ai\/flux\/schnell \| 3 \| image \| 0\.003 USD \| 0\.009 USD \|/);
    assert.match(text, /Total: 0\.084 USD/);

    const one = await call("get_usage", { start: started, endpoint_id: "fal-ai/flux/schnell" });
    assert.deepEqual(
      (one.structuredContent!.usage as UsageRow[]).map((r) => r.endpoint_id),
      ["fal-ai/flux/schnell"],
    );

    const before = await call("get_usage", { start: "2020-01-01", end: "2020-01-02" });
    assert.notEqual(before.isError, true);
    assert.match(textOf(before), /^No fal usage from 2020-01-01T00:00:00\.000Z to 2020-01-02/);
    assert.deepEqual(before.structuredContent!.totals, {});
  });
});

Deno.test("get_usage refuses malformed dates and a start that is not before the end, saying which", async () => {
  await withCostTools(async (call, fake) => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ start: "yesterday" }, /Invalid start "yesterday": expected an ISO 8601 date/],
      [{ start: "2025-02-30" }, /Invalid start "2025-02-30"/],
      [{ start: "2025-01-01", end: "2025-01-01T25:00:00Z" }, /Invalid end "2025-01-01T25:00:00Z"/],
      [
        { start: "2025-01-02", end: "2025-01-01" },
        /start \(2025-01-02T00:00:00\.000Z\) must be before end \(2025-01-01T00:00:00\.000Z\)/,
      ],
      [{ start: "2999-01-01" }, /must be before end \(.*, now\)/],
    ];
    for (const [args, message] of cases) {
      const result = await call("get_usage", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), message);
    }
    assert.equal(
      fake.state.requests.filter((r) => r.path.endsWith("/usage")).length,
      0,
      "invalid dates must not reach fal",
    );
  });
});

Deno.test("without FAL_KEY the cost tools fail naming FAL_KEY, and nothing is sent", async () => {
  await withCostTools(async (call, fake) => {
    const calls: [string, Record<string, unknown>][] = [
      ["get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] }],
      ["estimate_cost", { endpoint_id: "fal-ai/flux/dev", quantity: 1 }],
      ["get_usage", { start: "2025-01-01" }],
    ];
    for (const [name, args] of calls) {
      const result = await call(name, args);
      assert.equal(result.isError, true, name);
      assert.match(textOf(result), /FAL_KEY is not set/, name);
    }
    assert.deepEqual(fake.state.requests, []);
  }, null);
});
