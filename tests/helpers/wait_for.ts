/**
 * Waiting for something to happen, bounded by a count of checks (not a timing threshold): a
 * condition that never holds fails the test with a message instead of hanging it.
 *
 * @module
 */

/** Checks `condition` every 20 ms, up to `attempts` times (default 1500, about 30 s). */
export async function waitFor(
  condition: () => boolean,
  what = "the condition",
  attempts = 1500,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what} after ${attempts} checks`);
}
