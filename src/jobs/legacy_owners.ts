/**
 * Records written before jobs belonged to principals: their `owner` is the 32-hex-digit hash of
 * the fal key that submitted them (or `anonymous`). At start, each such owner is mapped once:
 *
 * - in bring-your-own-key mode, a hash that is not the server's own key belongs to the caller
 *   who presents that key again (`byok:<hash>`), and only that key follows it;
 * - every other one (the server's key, current or an earlier one) belongs to the one local
 *   owner (stdio, or HTTP without auth) and is followed with the server's current key.
 *
 * Token and OAuth callers cannot be told apart in old records (they all shared the server's
 * key), so none of them inherits those jobs; the operator reaches them as the local owner.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { LOCAL } from "../principal.ts";
import { type JobStore, type OwnerRewrite, SERVER_KEY } from "./types.ts";

const LEGACY_OWNER = /^(?:[0-9a-f]{32}|anonymous)$/;

/** Whether a stored owner is in the format of earlier versions (a fal-key hash). */
export function isLegacyOwner(owner: string): boolean {
  return LEGACY_OWNER.test(owner);
}

/** Settings the mapping depends on. */
export interface LegacyOwnerSettings {
  /** Whether HTTP callers bring their own fal keys. */
  byok: boolean;
  /** The id (hash) of the server's current fal key, when one is set. */
  serverKeyId: string | undefined;
}

/** The rewrite that moves legacy records to their principal (see the module docs). */
export function legacyOwnerRewrite(settings: LegacyOwnerSettings): OwnerRewrite {
  return (owner) => {
    if (!isLegacyOwner(owner)) return undefined;
    if (settings.byok && owner !== "anonymous" && owner !== settings.serverKeyId) {
      return { owner: `byok:${owner}`, keyId: owner };
    }
    return { owner: LOCAL.id, keyId: SERVER_KEY };
  };
}

/** Migrates the store's legacy records (see the module docs); answers how many changed. */
export async function adoptLegacyJobs(
  store: JobStore,
  settings: LegacyOwnerSettings,
  logger: Logger,
): Promise<number> {
  const changed = await store.rewriteOwners(legacyOwnerRewrite(settings));
  if (changed > 0) {
    logger.info("job records of an earlier version now belong to principals", {
      jobs: changed,
      byok: settings.byok,
    });
  }
  return changed;
}
