/**
 * What every tool needs: the fal client and the logger. Built once per process and shared by
 * every transport.
 *
 * @module
 */

import type { FalClient } from "./fal/client.ts";
import type { Logger } from "./log.ts";

/** Dependencies handed to {@linkcode createServer} and every tool. */
export interface ServerDeps {
  /** The fal.ai client. */
  fal: FalClient;
  /** The process logger. */
  logger: Logger;
}
