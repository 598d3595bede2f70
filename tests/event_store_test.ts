import assert from "node:assert/strict";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { BoundedEventStore, EventStoreBudget } from "../src/transports/event_store.ts";

function note(size: number): JSONRPCMessage {
  return { jsonrpc: "2.0", method: "notifications/message", params: { data: "x".repeat(size) } };
}

Deno.test("the event store keeps at most its byte cap per session, dropping the oldest events", async () => {
  const store = new BoundedEventStore({ maxEvents: 10_000, maxBytes: 10_000 });
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) ids.push(await store.storeEvent("s1", note(1000)));
  assert.ok(store.bytes <= 10_000, `kept ${store.bytes} bytes`);
  assert.ok(store.size >= 8 && store.size < 10, `kept ${store.size} events`);
  // The newest survive and replay; the oldest are gone.
  assert.equal(await store.getStreamIdForEventId(ids[0]!), undefined);
  const replayed: string[] = [];
  await store.replayEventsAfter(ids.at(-3)!, {
    send: (id) => Promise.resolve(void replayed.push(id)),
  });
  assert.deepEqual(replayed, ids.slice(-2));
  // One event larger than the whole cap is not kept (it was delivered live).
  const big = await store.storeEvent("s1", note(20_000));
  assert.equal(await store.getStreamIdForEventId(big), undefined);
  assert.ok(store.bytes <= 10_000);
});

Deno.test("every session's event store shares one byte budget: the biggest gives way first", async () => {
  const budget = new EventStoreBudget(50_000);
  const stores = Array.from(
    { length: 5 },
    () => new BoundedEventStore({ maxEvents: 10_000, maxBytes: 40_000, budget }),
  );
  for (let round = 0; round < 60; round++) {
    for (const store of stores) await store.storeEvent("s", note(1000));
  }
  const total = stores.reduce((sum, s) => sum + s.bytes, 0);
  assert.equal(total, budget.used);
  assert.ok(total <= 50_000, `kept ${total} bytes in all`);
  for (const store of stores) assert.ok(store.size > 0, "a session lost all its events");
  // Ending a session gives its bytes back.
  stores[0]!.clear();
  assert.equal(budget.used, stores.slice(1).reduce((sum, s) => sum + s.bytes, 0));
});
