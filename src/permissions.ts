/**
 * The Deno permissions the server needs, checked once at start so that a missing one is one
 * message naming all of them, not a stack trace per permission (or a prompt per permission).
 *
 * @module
 */

/** What the server reaches: where its files and the network it uses live. */
export interface PermissionNeeds {
  /** Folders it reads and writes (the state and output directories); all of the file system if unset. */
  folders?: readonly string[];
  /** Hosts it connects to (`queue.fal.run`, `127.0.0.1:9100`). */
  hosts?: readonly string[];
}

/** The command-line form of every permission the server needs. */
export const PERMISSION_FLAGS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The permission flags missing for `needs`. A permission granted only for some paths or hosts
 * (`--allow-read=/data`) counts when it covers what is needed.
 */
export function missingPermissions(needs: PermissionNeeds = {}): string[] {
  const missing: string[] = [];
  const hosts = needs.hosts ?? [];
  if (
    !granted({ name: "net" }) &&
    (!hosts.length || !hosts.every((host) => granted({ name: "net", host })))
  ) {
    missing.push("--allow-net");
  }
  if (!granted({ name: "env" })) missing.push("--allow-env");
  const folders = needs.folders;
  for (const name of ["read", "write"] as const) {
    if (folders && folders.every((path) => granted({ name, path }))) continue;
    if (!granted({ name })) missing.push(`--allow-${name}`);
  }
  return missing;
}

/** One sentence naming the missing permissions and the command-line flags that grant them all. */
export function permissionMessage(missing: readonly string[]): string {
  return `Missing Deno permission${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: run ` +
    `with ${PERMISSION_FLAGS.join(" ")} (or -A), as deno task start does`;
}
