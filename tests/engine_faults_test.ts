// The Redis engine when Redis goes away and comes back (through a TCP proxy the test cuts),
// and when it comes back empty (a new epoch); ignored, saying "skipped: no redis-server",
// where redis-server is not installed.

import assert from "node:assert/strict";
import { type EngineOptions } from "../lib/server/engine/engine.ts";
import { RedisEngine } from "../lib/server/engine/redis.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";
import { TcpProxy } from "./tcp_proxy.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

const OPTIONS: EngineOptions = { node: "a", nodeTimeoutMs: 10_000, historyLines: 100 };

/** Waits until `check` holds, polling every 20 ms (a socket's state is no event to wait on). */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "RedisEngine: reachable is false while Redis is away; onRecover() says it is back",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using proxy = TcpProxy.start(redis.port);
    const url = `redis://127.0.0.1:${proxy.port}`;
    const engine = await RedisEngine.connect({ ...OPTIONS, url, shown: url });
    try {
      const back = Promise.withResolvers<boolean>();
      engine.onRecover((fresh) => back.resolve(fresh));
      await engine.claimName("al", "al");
      proxy.cut();
      await until(() => !engine.reachable, 5000);
      await assert.rejects(
        engine.publish("#r", { kind: "message", from: "al", text: "x", ts: 1, node: "a" }),
      );
      proxy.restore();
      assert.equal(await back.promise, false, "the same data: no new epoch");
      assert.equal(engine.reachable, true);
      assert.deepEqual(await engine.reclaimNames([{ key: "al", name: "al" }]), []);
      // A name given back while Redis is away is free once it is back, without waiting.
      await engine.claimName("bo", "bo");
      proxy.cut();
      await until(() => !engine.reachable, 5000);
      await assert.rejects(engine.releaseName("bo"));
      proxy.restore();
      await until(() => engine.reachable, 5000);
      assert.deepEqual(await engine.reclaimNames([{ key: "al", name: "al" }]), []);
      assert.deepEqual((await engine.names()).map((h) => h.key), ["al"]);
    } finally {
      await engine.close();
    }
  },
});

Deno.test({
  name: "RedisEngine: onRecover() says fresh when Redis came back empty (a new epoch)",
  ignore: !HAVE_REDIS,
  async fn() {
    const port = freePort();
    let redis = await RedisServer.start(port);
    const url = `redis://127.0.0.1:${port}`;
    const engine = await RedisEngine.connect({ ...OPTIONS, url, shown: url });
    try {
      const back = Promise.withResolvers<boolean>();
      engine.onRecover((fresh) => back.resolve(fresh));
      await redis.stop();
      await until(() => !engine.reachable, 5000);
      redis = await RedisServer.start(port);
      assert.equal(await back.promise, true);
    } finally {
      await engine.close();
      await redis.stop();
    }
  },
});

Deno.test({
  name: "RedisEngine: heartbeat() notices Redis emptied without a lost connection",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const url = redis.url;
    const engine = await RedisEngine.connect({ ...OPTIONS, url, shown: url });
    const other = await RedisEngine.connect({ ...OPTIONS, node: "b", url, shown: url });
    try {
      const fresh: boolean[] = [];
      engine.onRecover((f) => fresh.push(f));
      await engine.heartbeat();
      assert.deepEqual(fresh, []);
      // Another program empties the database.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: redis.port });
      await conn.write(new TextEncoder().encode("FLUSHALL\r\n"));
      const buf = new Uint8Array(16);
      await conn.read(buf);
      conn.close();
      await engine.heartbeat();
      assert.deepEqual(fresh, [true]);
      await other.heartbeat();
      await engine.heartbeat();
      assert.deepEqual(fresh, [true], "the epoch the other node set is the same");
    } finally {
      await engine.close();
      await other.close();
    }
  },
});
