/**
 * Legacy SSE sessions in a cluster: each session's SSE stream is held by one instance, which
 * announces it in Redis (`<prefix>sse-session:<id>`: owner and instance) and listens on the
 * session's channel (`<prefix>sse:<id>`); a POST landing on another instance is relayed there
 * over pub/sub. The per-client cap counts the sessions of live instances
 * (`<prefix>principal-sse:<principal>`: `<instance>|<id>` members; those of instances whose
 * liveness key expired are dropped when counting).
 *
 * Only the message travels: the holder serves it for the principal that opened the session (a
 * relay is accepted only from the same caller), so no credential crosses Redis.
 *
 * @module
 */

import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Logger } from "../log.ts";
import { ownerKey } from "../principal.ts";
import type { SharedSseSessions } from "../transports/shared_sse.ts";
import type { RedisCluster } from "./redis_cluster.ts";

/**
 * KEYS: principal set, session key. ARGV: liveness prefix, max (0: none), member, record, ttl.
 * Drops members of dead instances, refuses over the cap, then records the session.
 */
const HOLD_SCRIPT = `
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local bar = string.find(member, '|', 1, true)
  if bar and redis.call('EXISTS', ARGV[1] .. string.sub(member, 1, bar - 1)) == 0 then
    redis.call('ZREM', KEYS[1], member)
  end
end
local max = tonumber(ARGV[2])
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], 0, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
return 1`;

/** How long a session's record may outlive a holder that died without forgetting it. */
const RECORD_TTL_MS = 24 * 60 * 60 * 1000;

interface SseRecord {
  owner: string;
  principal: string;
  instance: string;
}

/** Legacy SSE sessions relayed through the cluster's Redis. */
export function createSseRelay(
  cluster: Pick<RedisCluster, "client" | "subscriber" | "prefix" | "instanceId">,
  logger: Logger,
): SharedSseSessions {
  const { client, subscriber, prefix, instanceId } = cluster;
  const held = new Map<string, { principal: string; listener: (raw: string) => void }>();
  const recordKey = (id: string) => `${prefix}sse-session:${id}`;
  const channel = (id: string) => `${prefix}sse:${id}`;
  const principalKey = (principal: string) => `${prefix}principal-sse:${principal}`;
  return {
    async hold(id, principal, max, deliver) {
      const record: SseRecord = {
        owner: ownerKey(principal),
        principal: principal.id,
        instance: instanceId,
      };
      const taken = await client.eval(HOLD_SCRIPT, {
        keys: [principalKey(principal.id), recordKey(id)],
        arguments: [
          `${prefix}instance:`,
          String(Number.isFinite(max) ? max : 0),
          `${instanceId}|${id}`,
          JSON.stringify(record),
          String(RECORD_TTL_MS),
        ],
      });
      if (Number(taken) !== 1) return false;
      const listener = (raw: string) => {
        try {
          deliver(JSON.parse(raw) as JSONRPCMessage);
        } catch (error) {
          logger.warn("a relayed message could not be delivered", { session_id: id, error });
        }
      };
      held.set(id, { principal: principal.id, listener });
      await subscriber.subscribe(channel(id), listener);
      return true;
    },
    async release(id) {
      const entry = held.get(id);
      if (!entry) return;
      held.delete(id);
      await subscriber.unsubscribe(channel(id), entry.listener).catch(() => {});
      await client.del(recordKey(id)).catch(() => {});
      await client.zRem(principalKey(entry.principal), `${instanceId}|${id}`).catch(() => {});
    },
    async relay(id, owner, message) {
      const raw = await client.get(recordKey(id));
      if (!raw) return false;
      const record = JSON.parse(String(raw)) as SseRecord;
      if (record.owner !== owner) return false;
      const receivers = Number(await client.publish(channel(id), JSON.stringify(message)));
      if (receivers > 0) return true;
      // Nobody holds it any more (its instance died): forget it.
      await client.del(recordKey(id)).catch(() => {});
      return false;
    },
  };
}
