/**
 * docs/deployment.md's nginx block is a working configuration: it uses the `listen … ssl http2`
 * form that nginx 1.22 (Debian 12) understands, and, where nginx is installed, `nginx -t` accepts
 * it with a throwaway self-signed certificate in place of the documented paths.
 *
 * @module
 */

import assert from "node:assert/strict";

async function nginxBlock(): Promise<string> {
  const doc = await Deno.readTextFile(new URL("../docs/deployment.md", import.meta.url));
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, "no nginx block in docs/deployment.md");
  return block;
}

function installed(command: string, ...args: string[]): boolean {
  try {
    return new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("the nginx block uses the http2 form nginx 1.22 understands", async () => {
  const block = await nginxBlock();
  assert.match(block, /^\s*listen 443 ssl http2;/m);
  assert.doesNotMatch(block, /^\s*http2 on;/m, "`http2 on;` needs nginx 1.25.1+");
  assert.match(block, /proxy_buffering off;/);
  assert.match(block, /proxy_pass http:\/\/127\.0\.0\.1:8000;/);
});

Deno.test({
  name: "nginx -t accepts the documented block (with a throwaway certificate)",
  ignore: !installed("nginx", "-v") || !installed("openssl", "version"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const cert = `${dir}/cert.pem`;
      const key = `${dir}/key.pem`;
      const made = await new Deno.Command("openssl", {
        args: [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=fal-mcp.example.com",
          "-keyout",
          key,
          "-out",
          cert,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(made.success, new TextDecoder().decode(made.stderr));
      const server = (await nginxBlock())
        .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${cert};`)
        .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${key};`);
      await Deno.writeTextFile(
        `${dir}/nginx.conf`,
        `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\n` +
          `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n` +
          `  proxy_temp_path ${dir}/proxy;\n${server}}\n`,
      );
      const test = await new Deno.Command("nginx", {
        args: ["-t", "-p", dir, "-c", `${dir}/nginx.conf`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(test.stderr);
      assert.ok(test.success, said);
      assert.match(said, /syntax is ok/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
