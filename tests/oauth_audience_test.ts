import assert from "node:assert/strict";
import * as jose from "jose";
import { parseConfig } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { makeKey, startAuthServer } from "./helpers/fake_issuer.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { mainArgs, waitForLogLine } from "./helpers/process.ts";
import { modernRequest } from "./helpers/raw_mcp.ts";

/** The URL the operator configured; the server must never name another. */
const PUBLIC = "https://mcp.example.test";
/** What a forged request claims the server is. */
const FORGED = "evil.example";

/** One raw HTTP/1.1 exchange, so the Host header and request target are exactly as written. */
async function raw(
  origin: string,
  target: string,
  headers: Record<string, string>,
  body = "",
  method = body ? "POST" : "GET",
): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(origin);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const lines = [`${method} ${target} HTTP/1.1`, "connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body) lines.push(`content-length: ${new TextEncoder().encode(body).length}`);
  await conn.write(new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n${body}`));
  const text = await new Response(conn.readable).text();
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split);
  const rest = text.slice(split + 4);
  const chunked = /^transfer-encoding:\s*chunked/im.test(head);
  return { status: Number(head.split(" ")[1]), head, body: chunked ? dechunk(rest) : rest };
}

/** The payload of a chunked HTTP/1.1 body. */
function dechunk(text: string): string {
  let out = "";
  let at = 0;
  while (at < text.length) {
    const eol = text.indexOf("\r\n", at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!size) break;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}

/** The two ways to name the resource: the public URL, or only the audience. */
const NAMINGS = [["--public-url", PUBLIC], ["--oauth-audience", `${PUBLIC}/mcp`]];

async function withOAuth(
  fn: (ctx: { url: string; sign: (aud: string) => Promise<string> }) => Promise<void>,
  naming: string[] = NAMINGS[0]!,
): Promise<void> {
  const issuer = startAuthServer();
  const key = await makeKey("k1");
  issuer.keys.push(key.jwk);
  const server = await startTestHttpServer({
    // The forged name is even an allowed Host: it still must not become the audience.
    args: ["--oauth-issuer", issuer.url, ...naming, "--allowed-hosts", FORGED],
  });
  try {
    await fn({
      url: server.url,
      sign: (aud) =>
        new jose.SignJWT({ iss: issuer.url, aud, sub: "alice" })
          .setProtectedHeader({ alg: "RS256", kid: "k1" })
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(key.privateKey),
    });
  } finally {
    await server.close();
    await issuer.close();
  }
}

Deno.test("OAuth metadata names the configured resource whatever Host or request target a request forges", async () => {
  for (const naming of NAMINGS) {
    await withOAuth(async ({ url }) => {
      for (
        const path of [
          "/.well-known/oauth-protected-resource",
          "/.well-known/oauth-protected-resource/mcp",
        ]
      ) {
        for (
          const [target, host] of [
            [path, FORGED],
            [`http://${FORGED}${path}`, FORGED],
            [`http://${FORGED}:8443${path}`, new URL(url).host],
          ]
        ) {
          const answer = await raw(url, target!, { host: host! });
          assert.equal(answer.status, 200, `${target} ${answer.head}`);
          assert.equal(JSON.parse(answer.body).resource, `${PUBLIC}/mcp`);
          assert.ok(!answer.body.includes(FORGED) && !answer.head.includes(FORGED), answer.body);
        }
      }
    }, naming);
  }
});

Deno.test("OAuth accepts only tokens for the configured audience, and challenges point at the configured metadata, whatever Host says", async () => {
  for (const naming of NAMINGS) {
    await withOAuth(async ({ url, sign }) => {
      const { body, headers } = modernRequest("tools/list");
      const json = JSON.stringify(body);
      const as = (token?: string) => ({
        ...headers,
        host: FORGED,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      });

      const none = await raw(url, "/mcp", as(), json);
      assert.equal(none.status, 401, none.head);
      assert.match(
        none.head,
        new RegExp(`resource_metadata="${PUBLIC}/\\.well-known/oauth-protected-resource/mcp"`),
      );
      assert.ok(!none.head.includes(FORGED));

      for (const aud of [`http://${FORGED}/mcp`, `http://${FORGED}`, `${url}/mcp`]) {
        const forged = await raw(url, `http://${FORGED}/mcp`, as(await sign(aud)), json);
        assert.equal(forged.status, 401, `a token for ${aud} was accepted`);
        assert.match(forged.head, /error="invalid_token"/);
      }

      const good = await raw(url, "/mcp", as(await sign(`${PUBLIC}/mcp`)), json);
      assert.equal(good.status, 200, good.head);
    }, naming);
  }
});

Deno.test("OAuth without --public-url or --oauth-audience refuses to start with one clear line and exit code 2", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: mainArgs(
      "--transport",
      "http",
      "--port",
      "0",
      "--oauth-issuer",
      "https://issuer.example",
    ),
    env: { FAL_MCP_JOB_STORE: "memory" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // A server that started anyway would keep running; its "listening" line says so, and the
  // test stops it so the failure is reported instead of a hang.
  const seen: string[] = [];
  const started = await waitForLogLine(
    child.stderr,
    (record) => Object.values(record).includes("listening"),
    seen,
  ).then(() => true, () => false);
  if (started) child.kill();
  const stderr = seen.join("\n");
  const { code } = await child.status;
  assert.equal(code, 2, stderr);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /OAuth needs the server's public URL: set --public-url/);

  const parse = (args: string[]) =>
    parseConfig(["--oauth-issuer", "https://issuer.example", ...args], {});
  assert.throws(() => parse(["--oauth-audience", "api://fal-mcp"]), ConfigError);
  assert.doesNotThrow(() => parse(["--oauth-audience", "https://mcp.example.test/mcp"]));
  assert.doesNotThrow(() => parse(["--oauth-audience", "api://fal-mcp", "--public-url", PUBLIC]));
  assert.doesNotThrow(() =>
    parseConfig(["--oauth-issuer", "https://issuer.example"], { FAL_MCP_PUBLIC_URL: PUBLIC })
  );
});
