import assert from "node:assert/strict";
import { type Config, isLoopbackHost, parseConfig } from "../src/config.ts";
import { SETTINGS } from "../src/settings.ts";
import { ConfigError } from "../src/errors.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { VERSION } from "../src/version.ts";
import denoJson from "../deno.json" with { type: "json" };
import { runMain } from "./helpers/process.ts";

function run(args: string[], env: Record<string, string> = {}): Config {
  const parsed = parseConfig(args, env);
  assert.equal(parsed.kind, "run");
  return (parsed as { config: Config }).config;
}

Deno.test("defaults: stdio on 127.0.0.1:8000 at info level, real fal hosts", () => {
  const config = run([]);
  assert.equal(config.transport, "stdio");
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.logLevel, "info");
  assert.equal(config.falKey, undefined);
  assert.equal(config.maxSessions, SETTINGS.maxSessions.default);
  assert.equal(config.sessionTtlMs, Number(SETTINGS.sessionTtlMs.default) * 1000);
  assert.deepEqual(resolveFalHosts(config.falBaseUrl).queue, "https://queue.fal.run");
});

Deno.test("precedence: flag > FAL_MCP_* > PORT > default", () => {
  assert.equal(run([], { PORT: "7000" }).port, 7000);
  assert.equal(run([], { PORT: "7000", FAL_MCP_PORT: "7100" }).port, 7100);
  assert.equal(run(["--port", "7200"], { PORT: "7000", FAL_MCP_PORT: "7100" }).port, 7200);
  assert.equal(run([], { FAL_MCP_TRANSPORT: "dual" }).transport, "dual");
  assert.equal(run(["--transport", "http"], { FAL_MCP_TRANSPORT: "dual" }).transport, "http");
  assert.equal(run([], { FAL_MCP_LOG_LEVEL: "debug" }).logLevel, "debug");
  assert.equal(run([], { FAL_MCP_HOST: "0.0.0.0" }).host, "0.0.0.0");
});

Deno.test("--fal-base-url maps every fal API onto one origin", () => {
  const config = run(["--fal-base-url", "http://127.0.0.1:9100/"]);
  assert.deepEqual(resolveFalHosts(config.falBaseUrl), {
    queue: "http://127.0.0.1:9100/queue",
    run: "http://127.0.0.1:9100/run",
    rest: "http://127.0.0.1:9100/rest",
    api: "http://127.0.0.1:9100/api",
  });
  assert.equal(run([], { FAL_BASE_URL: "http://x.test" }).falBaseUrl, "http://x.test");
});

Deno.test("FAL_KEY is read from the environment and lists are split", () => {
  const config = run(["--allowed-origins", "https://a.example, b.example"], { FAL_KEY: " k:s " });
  assert.equal(config.falKey, "k:s");
  assert.deepEqual(config.allowedOrigins, ["https://a.example", "b.example"]);
});

Deno.test("invalid values throw a ConfigError naming the setting and its source", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--transport", "carrier-pigeon"], {}, /--transport "carrier-pigeon".*stdio, http, dual/],
    [["--port", "70000"], {}, /--port "70000".*0 to 65535/],
    [[], { PORT: "abc" }, /PORT "abc"/],
    [[], { FAL_MCP_LOG_LEVEL: "loud" }, /FAL_MCP_LOG_LEVEL "loud"/],
    [["--fal-base-url", "ftp://x"], {}, /http or https/],
    [["--fal-base-url", "not a url"], {}, /not a URL/],
    [["--max-sessions", "0"], {}, /--max-sessions/],
    [["--bogus"], {}, /^Unknown option --bogus \(see --help\)$/],
    [["--port"], {}, /^Missing value for --port/],
    [["--allow-local-files", "/no/such/folder"], {}, /--allow-local-files.*existing folder/],
    [[], { FAL_MCP_ALLOW_LOCAL_FILES: "true" }, /FAL_MCP_ALLOW_LOCAL_FILES "true".*folder/],
    [["--max-download-bytes", "12"], {}, /--max-download-bytes "12"/],
    [["--max-result-bytes", "lots"], {}, /--max-result-bytes "lots"/],
  ];
  for (const [args, env, message] of cases) {
    assert.throws(() => parseConfig(args, env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("malformed numbers get the same message as out-of-range ones", () => {
  for (const value of ["-1", "99999", "1e3", "80.5", "0x50", "", " ", "8000abc", "-0"]) {
    for (
      const [args, env, source] of [
        [["--port", value], {}, "--port"],
        [[`--port=${value}`], {}, "--port"],
        [[], { FAL_MCP_PORT: value }, "FAL_MCP_PORT"],
      ] as [string[], Record<string, string>, string][]
    ) {
      if (source === "FAL_MCP_PORT" && value.trim() === "") continue; // an empty variable is unset
      assert.throws(() => parseConfig(args, env), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(
          error.message,
          `Invalid ${source} "${value}": expected a whole number from 0 to 65535`,
        );
        return true;
      }, `${args.join(" ")} ${JSON.stringify(env)}`);
    }
  }
  // Any whole-number setting, not only the port.
  assert.throws(
    () => parseConfig(["--sync-wait", "-5"], {}),
    /^ConfigError: Invalid --sync-wait "-5": expected a whole number from 0 to 3600$/,
  );
});

Deno.test("every setting in the table reads its default when nothing is given", () => {
  const config = run([], { HOME: "/home/u" }) as unknown as Record<string, unknown>;
  assert.equal(config.stateDir, "/home/u/.local/state/fal-mcp");
  for (const [name, setting] of Object.entries(SETTINGS)) {
    if (!(name in config) || !("default" in setting) || setting.default === undefined) continue;
    const scale = name.endsWith("Ms") ? 1000 : 1;
    const expected = typeof setting.default === "number"
      ? setting.default * scale
      : setting.default;
    assert.deepEqual(config[name], expected, name);
  }
});

Deno.test("the operator's machine: no shared folder and capped downloads and results by default", async () => {
  const config = run(["--transport", "http"]);
  assert.equal(config.allowLocalFiles, undefined);
  assert.equal(config.outputDir, undefined);
  assert.equal(config.maxDownloadBytes, 512 * 1024 * 1024);
  assert.equal(config.maxResultBytes, 16 * 1024 * 1024);
  const dir = await Deno.makeTempDir();
  try {
    const shared = run([], {
      FAL_MCP_ALLOW_LOCAL_FILES: dir,
      FAL_MCP_MAX_DOWNLOAD_BYTES: "1048576",
      FAL_MCP_MAX_RESULT_BYTES: "2048",
    });
    assert.equal(shared.allowLocalFiles, dir);
    assert.equal(shared.maxDownloadBytes, 1048576);
    assert.equal(shared.maxResultBytes, 2048);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("isLoopbackHost recognises loopback bind addresses", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com"]) {
    assert.ok(!isLoopbackHost(host), host);
  }
});

Deno.test("the CLI exits 2 with one clear line on an invalid value", async () => {
  const { code, stdout, stderr } = await runMain(["--port", "nope"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /^fal-mcp: Invalid --port "nope"/);
});

Deno.test("--version prints the deno.json version and --help lists every flag", async () => {
  assert.equal(VERSION, denoJson.version);
  const version = await runMain(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `fal-mcp ${denoJson.version}`);
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0);
  for (
    const flag of ["--transport", "--host", "--port", "--log-level", "--fal-base-url", "FAL_KEY"]
  ) {
    assert.ok(help.stdout.includes(flag), `${flag} missing from --help`);
  }
});

Deno.test("server.json (MCP registry) names the same version and image tag as deno.json", async () => {
  const server = JSON.parse(await Deno.readTextFile(new URL("../server.json", import.meta.url)));
  assert.equal(server.version, denoJson.version);
  for (const pkg of server.packages) {
    assert.ok(String(pkg.identifier).endsWith(`:${denoJson.version}`), pkg.identifier);
  }
  const secrets = server.packages.flatMap((
    p: { environmentVariables?: { name: string; isSecret?: boolean }[] },
  ) => (p.environmentVariables ?? []).filter((v) => v.name === "FAL_KEY"));
  assert.ok(
    secrets.length > 0 && secrets.every((v: { isSecret?: boolean }) => v.isSecret === true),
  );
});
