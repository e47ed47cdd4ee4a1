// A Redis that asks for a password, for real: the password from LINECHAT_REDIS_PASSWORD (out of
// `ps`) or in the address, never in the log; a wrong one is one line and exit 1.

import assert from "node:assert/strict";
import { ServerProcess } from "./helpers.ts";
import { freePort, HAVE_REDIS } from "./redis_server.ts";
import { parseEngine } from "../lib/server/engine/engine.ts";

const SECRET = "s3cret-pass word/é";

Deno.test("parseEngine() takes the password from the environment only when the address has none", () => {
  const spec = parseEngine("redis://127.0.0.1:7/2", SECRET);
  assert.equal(spec.kind === "redis" && decodeURIComponent(new URL(spec.url).password), SECRET);
  assert.equal(spec.kind === "redis" && spec.shown, "redis://127.0.0.1:7/2");
  const own = parseEngine("redis://:mine@127.0.0.1:7/2", SECRET);
  assert.equal(own.kind === "redis" && own.url, "redis://:mine@127.0.0.1:7/2");
  assert.equal(parseEngine("redis://127.0.0.1:7", "").kind === "redis", true);
});

/** A throwaway redis-server asking for SECRET, on a free loopback port. */
async function lockedRedis(): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: [
      ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      ...["--requirepass", SECRET],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 10_000;
  while (!seen.includes("Ready to accept connections") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  assert.match(seen, /Ready to accept connections/);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    port,
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

/** A node on `url` with `env`. */
function runNode(env: Record<string, string>, url: string): ServerProcess {
  return new ServerProcess(
    ["--host", "127.0.0.1", "--port", "0", "--engine", url, "--node", "pw"],
    env,
  );
}

Deno.test({
  name: "a node reaches a Redis with a password from LINECHAT_REDIS_PASSWORD or the address; " +
    "the password is never logged; a wrong one is one line and exit 1",
  ignore: !HAVE_REDIS,
  async fn() {
    const redis = await lockedRedis();
    try {
      const url = `redis://127.0.0.1:${redis.port}`;
      for (
        const [env, address] of [
          [{ LINECHAT_REDIS_PASSWORD: SECRET }, url],
          [{}, `redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${redis.port}`],
        ] as const
      ) {
        await using node = runNode(env, address);
        const line = await node.expect(/^.* engine redis:.* connected$/, 10_000);
        assert.ok(!line.includes(SECRET) && !line.includes(encodeURIComponent(SECRET)), line);
      }
      await using wrong = runNode({ LINECHAT_REDIS_PASSWORD: "nope" }, url);
      const { code, stderr } = await wrong.exit();
      assert.equal(code, 1);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
      assert.match(stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: /);
      assert.ok(!stderr.includes("nope"), stderr);
    } finally {
      await redis.stop();
    }
  },
});
