// chat-server with --engine and --node, as a subprocess: a Redis that is not there is one line
// and exit 1, --data is refused with Redis, and a node on a real redis-server (started by the
// test, ignored saying "skipped: no redis-server" where there is none) serves its own users.

import assert from "node:assert/strict";
import { joinAs, ServerProcess } from "./helpers.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

/** Runs server.ts with `args` until it exits; its exit code and stderr. */
async function refused(...args: string[]): Promise<{ code: number; stderr: string }> {
  await using server = ServerProcess.onLoopback(...args);
  return await server.exit();
}

Deno.test("chat-server --engine redis:// says in one line that Redis is not there, exit 1", async () => {
  const url = `redis://127.0.0.1:${freePort()}`;
  const { code, stderr } = await refused("--engine", url);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`^chat-server: cannot reach Redis at ${url}/0: .+\\n$`));
});

Deno.test("chat-server --engine redis:// refuses --data", async () => {
  const { code, stderr } = await refused("--engine", "redis://127.0.0.1:1", "--data", "x.db");
  assert.equal(code, 1);
  assert.match(stderr, /--data cannot be used with --engine redis/);
});

Deno.test("chat-server refuses a bad --engine or --node", async (t) => {
  for (
    const [args, pattern] of [
      [["--engine", "mysql://x"], /invalid --engine: use memory or redis:\/\/HOST:PORT\[\/DB\]/],
      [["--engine", "redis://127.0.0.1:6379/99"], /invalid Redis database "99"/],
      [["--engine", "redis://h:1/0?x=1"], /takes no \?query/],
      [["--node", "a b"], /invalid --node "a b"/],
      [["--node", ""], /invalid --node ""/],
    ] as const
  ) {
    await t.step(args.join(" "), async () => {
      const { code, stderr } = await refused(...args);
      assert.equal(code, 1);
      assert.match(stderr, pattern);
    });
  }
});

Deno.test({
  name: "chat-server --engine redis:// --node NAME connects, says so and serves its users",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using server = ServerProcess.onLoopback("--engine", `${redis.url}/2`, "--node", "n1");
    // The log is written asynchronously, so "listening on" may come before or after it.
    const lines = await server.collectUntil(/cluster in progress/, 10_000);
    assert(
      lines.some((l) => l.endsWith(`engine ${redis.url}/2 as node n1: connected`)),
      lines.join("\n"),
    );
    const listening = lines.find((l) => l.startsWith("listening on "));
    const port = listening === undefined
      ? await server.port()
      : Number(listening.slice(listening.lastIndexOf(":") + 1));
    await using alice = await joinAs(port, "alice");
    await using bob = await joinAs(port, "bob");
    await alice.send("hello");
    await bob.expect("alice: hello");
  },
});
