// One suite for every engine: the memory engine always, the Redis engine against a throwaway
// redis-server when one is installed (else ignored, saying "skipped: no redis-server"). Two
// nodes share one backend in each case, as two processes would share one Redis.

import assert from "node:assert/strict";
import {
  compareIds,
  type Engine,
  type EngineOptions,
  MAX_RECORD_KEY,
  MAX_RECORD_VALUE,
  type OrderEvent,
  type RoomEvent,
} from "../lib/server/engine/engine.ts";
import { MemoryBackend, MemoryEngine } from "../lib/server/engine/memory.ts";
import { RedisEngine } from "../lib/server/engine/redis.ts";
import { HAVE_REDIS, RedisServer } from "./redis_server.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

/** Makes the engines of nodes `a`, `b`, ... over one backend. */
type Nodes = (options: Partial<EngineOptions>) => Promise<(node: string) => Promise<Engine>>;

const DEFAULTS: EngineOptions = { node: "", nodeTimeoutMs: 10_000, historyLines: 100 };

const memoryNodes: Nodes = (options) => {
  const backend = new MemoryBackend();
  return Promise.resolve((node) =>
    Promise.resolve(new MemoryEngine({ ...DEFAULTS, ...options, node }, backend))
  );
};

function redisNodes(url: string): Nodes {
  return async (options) => {
    // Redis has 16 databases: past them, one is emptied and used again.
    const db = nextDb++ % 16;
    if (nextDb > 16) {
      const { createClient } = await import("@redis/client");
      const client = createClient({ url: `${url}/${db}` });
      await client.connect();
      await client.flushDb();
      await client.close();
    }
    return (node) =>
      RedisEngine.connect({
        ...DEFAULTS,
        ...options,
        node,
        url: `${url}/${db}`,
        shown: `${url}/${db}`,
      });
  };
}
/** Each case its own Redis database, so cases never see each other's keys. */
let nextDb = 0;

function event(from: string, text: string, node: string): RoomEvent {
  return { kind: "message", from, text, ts: 1, node };
}

/** Waits until `check` holds, polling (an expiry in the engine is no event to wait on). */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** The conformance cases, run against one kind of engine. */
async function conformance(t: Deno.TestContext, nodes: Nodes): Promise<void> {
  const run = async (
    name: string,
    options: Partial<EngineOptions>,
    body: (a: Engine, b: Engine, make: (node: string) => Promise<Engine>) => Promise<void>,
  ) => {
    await t.step(name, async () => {
      const make = await nodes(options);
      const made: Engine[] = [];
      const track = async (node: string) => {
        const e = await make(node);
        made.push(e);
        return e;
      };
      try {
        await body(await track("a"), await track("b"), track);
      } finally {
        for (const e of made) await e.close();
      }
    });
  };

  await run("claimName() gives a free name to one node only", {}, async (a, b) => {
    assert.deepEqual(await a.claimName("alice", "Alice"), true);
    assert.deepEqual(await b.claimName("alice", "alice"), false);
    assert.deepEqual(await a.claimName("alice", "ALICE"), true, "claiming again on the holder");
    assert.deepEqual(await a.names(), [{ key: "alice", name: "ALICE", node: "a" }]);
  });

  await run("claimName() raced by two nodes: exactly one wins each name", {}, async (a, b) => {
    const keys = Array.from({ length: 50 }, (_, i) => `n${i}`);
    const results = await Promise.all(
      keys.flatMap((k) => [a.claimName(k, k), b.claimName(k, k)]),
    );
    for (let i = 0; i < keys.length; i++) {
      assert.deepEqual(results[2 * i] !== results[2 * i + 1], true, `one winner for ${keys[i]}`);
    }
    const held = await a.names();
    assert.deepEqual(held.length, keys.length);
    for (let i = 0; i < keys.length; i++) {
      const holder = held.find((h) => h.key === keys[i])!.node;
      assert.deepEqual(holder, results[2 * i] ? "a" : "b");
    }
  });

  await run("releaseName() frees only this node's claim", {}, async (a, b) => {
    await a.claimName("bob", "bob");
    await b.releaseName("bob");
    assert.deepEqual(await b.claimName("bob", "bob"), false, "b cannot release a's name");
    await a.releaseName("bob");
    assert.deepEqual(await b.claimName("bob", "bob"), true);
    await a.releaseName("nobody");
  });

  await run("names() lists every node's names", {}, async (a, b) => {
    await a.claimName("x", "X");
    await b.claimName("y", "Y");
    const held = (await b.names()).sort((p, q) => p.key.localeCompare(q.key));
    assert.deepEqual(held, [{ key: "x", name: "X", node: "a" }, {
      key: "y",
      name: "Y",
      node: "b",
    }]);
  });

  await run("whereIs() finds each name's node, or nobody", {}, async (a, b) => {
    await a.claimName("x", "X");
    await b.claimName("y", "Y");
    assert.deepEqual(await a.whereIs(["y", "nobody", "x"]), [
      { key: "y", name: "Y", node: "b" },
      undefined,
      { key: "x", name: "X", node: "a" },
    ]);
    assert.deepEqual(await a.whereIs([]), []);
  });

  await run("direct() reaches every node's direct listener", {}, async (a, b) => {
    const got: string[] = [];
    const both = Promise.withResolvers<void>();
    for (const e of [a, b]) {
      await e.listenDirect((ev) => {
        got.push(`${e.node} ${ev.from}->${ev.targets.join(",")}: ${ev.text}`);
        if (got.length === 2) both.resolve();
      });
    }
    await a.direct({
      kind: "private",
      from: "al",
      to: ["bo"],
      targets: ["bo"],
      text: "psst",
      ts: 1,
      node: "a",
    });
    await both.promise;
    assert.deepEqual(got.sort(), ["a al->bo: psst", "b al->bo: psst"]);
  });

  await run("presence() follows the room events published before it", {}, async (a, b) => {
    const got: string[] = [];
    const done = Promise.withResolvers<void>();
    const seen = (line: string) => {
      got.push(line);
      if (got.length === 3) done.resolve();
    };
    await b.listen((room, _id, ev) => seen(`${room} ${ev.from}: ${ev.text}`));
    await b.listenPresence((ev) => seen(`${ev.kind} ${ev.name}>${ev.to} ${ev.rooms} ${ev.node}`));
    await a.publish("r", { kind: "message", from: "al", text: "bye", ts: 1, node: "a" });
    await a.presence({ kind: "part", name: "al", rooms: ["#r"], reason: "x", ts: 2, node: "a" });
    await a.presence({
      kind: "rename",
      name: "bo",
      to: "cy",
      rooms: ["#r", "#s"],
      ts: 3,
      node: "a",
    });
    await done.promise;
    assert.deepEqual(got, ["r al: bye", "part al>undefined #r a", "rename bo>cy #r,#s a"]);
  });

  await run("present() keeps what joins, parts, renames and quits leave", {}, async (a, b) => {
    const sorted = async (e: Engine) =>
      (await e.present()).map((p) => `${p.room} ${p.name} ${p.node}`).sort();
    await a.presence({ kind: "join", name: "al", rooms: ["#Lobby"], ts: 1, node: "a" });
    await a.presence({ kind: "join", name: "al", rooms: ["#dev"], ts: 1, node: "a" });
    await b.presence({ kind: "join", name: "bo", rooms: ["#lobby"], ts: 1, node: "b" });
    assert.deepEqual(await sorted(b), ["#Lobby al a", "#dev al a", "#lobby bo b"]);
    await a.presence({
      kind: "rename",
      name: "al",
      to: "Cy",
      rooms: ["#Lobby", "#dev"],
      ts: 2,
      node: "a",
    });
    await a.presence({ kind: "part", name: "cy", rooms: ["#DEV"], ts: 3, node: "a" });
    assert.deepEqual(await sorted(b), ["#Lobby Cy a", "#lobby bo b"]);
    await b.presence({ kind: "quit", name: "bo", rooms: ["#lobby"], ts: 4, node: "b" });
    assert.deepEqual(await sorted(a), ["#Lobby Cy a"]);
  });

  await run("sweep() quits a silent node's users, once", { nodeTimeoutMs: 300 }, async (a, b) => {
    const quits: string[] = [];
    await b.listenPresence((ev) => {
      if (ev.kind === "quit") quits.push(`${ev.name} ${ev.rooms.sort()} ${ev.reason} ${ev.node}`);
    });
    await a.presence({ kind: "join", name: "al", rooms: ["#lobby"], ts: 1, node: "a" });
    await a.presence({ kind: "join", name: "al", rooms: ["#dev"], ts: 1, node: "a" });
    await a.presence({ kind: "join", name: "di", rooms: ["#dev"], ts: 1, node: "a" });
    await b.presence({ kind: "join", name: "bo", rooms: ["#dev"], ts: 1, node: "b" });
    assert.deepEqual(await b.sweep("a", "gone"), 0, "a is alive");
    let swept = 0;
    assert(
      await until(async () => {
        await b.heartbeat();
        swept += await b.sweep("a", "node a went away");
        return swept > 0;
      }, 3000),
      "a is swept after its timeout",
    );
    assert.deepEqual(swept, 2);
    assert.deepEqual(await b.sweep("a", "again"), 0, "once");
    assert.deepEqual((await b.present()).map((p) => p.name), ["bo"]);
    assert(await until(() => Promise.resolve(quits.length === 2), 2000));
    assert.deepEqual(quits.sort(), [
      "al #dev,#lobby node a went away a",
      "di #dev node a went away a",
    ]);
  });

  await run("a node started again quits its earlier users at once", {}, async (a, b, make) => {
    const quits: string[] = [];
    await b.listenPresence((ev) => {
      if (ev.kind === "quit") quits.push(`${ev.name} ${ev.reason}`);
    });
    await a.presence({ kind: "join", name: "al", rooms: ["#lobby"], ts: 1, node: "a" });
    await b.presence({ kind: "join", name: "bo", rooms: ["#lobby"], ts: 1, node: "b" });
    // The first engine of a is left as a killed process leaves it: never closed.
    await make("a");
    assert.deepEqual((await b.present()).map((p) => p.name), ["bo"]);
    assert(await until(() => Promise.resolve(quits.length === 1), 2000));
    assert.deepEqual(quits, ["al node a restarted"]);
  });

  await run("a node without heartbeat loses its names", { nodeTimeoutMs: 300 }, async (a, b) => {
    await a.claimName("carol", "carol");
    assert.deepEqual(await b.claimName("carol", "carol"), false);
    assert(await until(() => b.claimName("carol", "carol"), 3000), "free after the timeout");
    assert.deepEqual((await a.names()).map((h) => h.node), ["b"]);
  });

  await run("heartbeat() keeps a node's names", { nodeTimeoutMs: 400 }, async (a, b) => {
    await a.claimName("dave", "dave");
    const end = Date.now() + 1200;
    while (Date.now() < end) {
      await a.heartbeat();
      assert.deepEqual(await b.claimName("dave", "dave"), false);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  await run("close() gives up the node's names", {}, async (a, b, make) => {
    const c = await make("c");
    await c.claimName("erin", "erin");
    await c.close();
    assert.deepEqual(await b.claimName("erin", "erin"), true);
    assert.deepEqual((await a.names()).map((h) => h.node), ["b"]);
  });

  await run("publish() reaches every node in one order per room", {}, async (a, b) => {
    const seen: Record<string, string[]> = { a: [], b: [] };
    const done = Promise.withResolvers<void>();
    const total = 200;
    for (const e of [a, b]) {
      await e.listen((room, id, ev) => {
        seen[e.node].push(`${room} ${id} ${ev.node}:${ev.text}`);
        if (seen.a.length === total && seen.b.length === total) done.resolve();
      });
    }
    const sends: Promise<string>[] = [];
    for (let i = 0; i < total / 2; i++) {
      const room = i % 2 === 0 ? "#x" : "#y";
      sends.push(a.publish(room, event("al", `${i}`, "a")).then((id) => `${room} ${id}`));
      sends.push(b.publish(room, event("bo", `${i}`, "b")).then((id) => `${room} ${id}`));
    }
    const ids = await Promise.all(sends);
    await done.promise;
    assert.deepEqual(seen.a, seen.b, "both nodes see the same order");
    assert.deepEqual(new Set(ids).size, total, "an id is never given twice in a room");
    for (const room of ["#x", "#y"]) {
      for (const node of ["a", "b"]) {
        const texts = seen.a.filter((s) => s.startsWith(`${room} `) && s.includes(` ${node}:`))
          .map((s) => Number(s.slice(s.lastIndexOf(":") + 1)));
        assert.deepEqual(
          texts,
          [...texts].sort((p, q) => p - q),
          `${node}'s order kept in ${room}`,
        );
      }
    }
  });

  await run("history() replays a room's last events, oldest first", {}, async (a, b) => {
    for (let i = 0; i < 5; i++) await a.publish("#h", event("al", `h${i}`, "a"));
    await b.publish("#other", event("bo", "elsewhere", "b"));
    const texts = async (count: number) => (await b.history("#h", count)).map((e) => e.event.text);
    assert.deepEqual(await texts(3), ["h2", "h3", "h4"]);
    assert.deepEqual(await texts(50), ["h0", "h1", "h2", "h3", "h4"]);
    assert.deepEqual(await texts(0), []);
    assert.deepEqual(await b.history("#empty", 10), []);
    const all = await b.history("#h", 5);
    assert.deepEqual(all[0].event, event("al", "h0", "a"));
    for (let i = 1; i < all.length; i++) {
      assert(compareIds(all[i - 1].id, all[i].id) < 0, "ids in order");
    }
  });

  await run("putRecord() keeps a record and tells every node, this one too", {}, async (a, b) => {
    const got: string[] = [];
    const both = Promise.withResolvers<void>();
    for (const e of [a, b]) {
      await e.listenRecords((c) => {
        got.push(`${e.node} ${c.kind} ${c.key}=${c.value} from ${c.node}`);
        if (got.length === 2) both.resolve();
      });
    }
    await a.putRecord("ban", "name troll", '{"by":"op"}');
    await both.promise;
    assert.deepEqual(got.sort(), [
      'a ban name troll={"by":"op"} from a',
      'b ban name troll={"by":"op"} from a',
    ]);
    await b.putRecord("ban", "name troll", "v2");
    await b.putRecord("mute", "name troll", "m");
    const sorted = (rs: { kind: string; key: string; value: string }[]) =>
      rs.map((r) => `${r.kind} ${r.key}=${r.value}`).sort();
    assert.deepEqual(sorted(await a.records()), ["ban name troll=v2", "mute name troll=m"]);
  });

  await run("removeRecord() removes for every node; `expected` guards it", {}, async (a, b) => {
    const got: string[] = [];
    const told = Promise.withResolvers<void>();
    await b.listenRecords((c) => {
      got.push(`${c.kind} ${c.key} ${c.value ?? "(removed)"} ${c.node}`);
      if (got.length === 3) told.resolve();
    });
    await a.putRecord("account", "alice", "h1");
    assert.deepEqual(await b.removeRecord("account", "alice", "older"), false, "value changed");
    assert.deepEqual(await b.removeRecord("account", "alice", "h1"), true);
    assert.deepEqual(await b.removeRecord("account", "alice"), false, "gone already");
    await a.putRecord("account", "bob", "h2");
    await told.promise;
    assert.deepEqual(got, ["account alice h1 a", "account alice (removed) b", "account bob h2 a"]);
    assert.deepEqual(await a.removeRecord("account", "bob"), true);
    assert.deepEqual(await a.records(), []);
  });

  await run("putRecord() with `expected` replaces only that value", {}, async (a, b) => {
    await a.putRecord("mute", "name x", "v1");
    assert.deepEqual(await b.putRecord("mute", "name x", "v3", "v0"), false);
    assert.deepEqual(await b.putRecord("mute", "name x", "v2", "v1"), true);
    assert.deepEqual(await b.putRecord("mute", "name y", "v1", "v1"), false, "not there");
    assert.deepEqual((await a.records()).map((r) => `${r.key}=${r.value}`), ["name x=v2"]);
  });

  await run("putRecord() refuses a record out of bounds", {}, async (a) => {
    for (
      const [kind, key, value] of [
        ["Ban", "k", "v"],
        ["ban", "", "v"],
        ["ban", "k".repeat(MAX_RECORD_KEY + 1), "v"],
        ["ban", "k", "v".repeat(MAX_RECORD_VALUE + 1)],
      ]
    ) {
      await assert.rejects(a.putRecord(kind, key, value), RangeError);
    }
    assert.deepEqual(await a.records(), []);
  });

  await run(
    "reseedRecords() writes back what is missing, keeps what is there",
    {},
    async (a, b) => {
      const got: string[] = [];
      await b.listenRecords((c) => got.push(`${c.key}=${c.value}`));
      await a.putRecord("ban", "name kept", "new");
      const n = await a.reseedRecords([
        { kind: "ban", key: "name kept", value: "old" },
        { kind: "ban", key: "name back", value: "v" },
        { kind: "BAD", key: "x", value: "v" },
      ]);
      assert.deepEqual(n, 1);
      const all = (await b.records()).map((r) => `${r.key}=${r.value}`).sort();
      assert.deepEqual(all, ["name back=v", "name kept=new"]);
      assert(await until(() => Promise.resolve(got.includes("name back=v")), 2000));
      assert.deepEqual(await a.reseedRecords([]), 0);
    },
  );

  await run("order() reaches every node; a purge forgets history and topic", {}, async (a, b) => {
    const got: OrderEvent[] = [];
    const two = Promise.withResolvers<void>();
    await b.listenOrders((e) => {
      got.push(e);
      if (got.length === 2) two.resolve();
    });
    for (let i = 0; i < 3; i++) await a.publish("#p", event("al", `p${i}`, "a"));
    await a.publish("#keep", event("al", "stays", "a"));
    await a.setTopic("#p", { room: "#P", text: "t", by: "op", ts: 1, node: "a" });
    const kick: OrderEvent = {
      kind: "kick",
      name: "troll",
      reason: "spam",
      by: "op",
      to: "b",
      node: "a",
    };
    await a.order(kick);
    const purge: OrderEvent = { kind: "purge", room: "#p", what: "history", by: "op", node: "a" };
    await a.order(purge);
    await two.promise;
    assert.deepEqual(got, [kick, purge]);
    assert.deepEqual(await b.history("#p", 10), []);
    assert.deepEqual((await b.history("#keep", 10)).length, 1);
    assert.equal((await b.topic("#p"))?.text, "t", "the topic stays");
    await a.order({ kind: "purge", room: "#p", what: "topic", by: "op", node: "a" });
    assert.equal(await b.topic("#p"), undefined);
  });

  await run(
    "setTopic() keeps a topic and tells every node in the room's order",
    {},
    async (a, b) => {
      const got: Record<string, string[]> = { a: [], b: [] };
      const done = Promise.withResolvers<void>();
      const seen = (node: string, line: string) => {
        got[node].push(line);
        if (got.a.length === 4 && got.b.length === 4) done.resolve();
      };
      for (const e of [a, b]) {
        await e.listen((room, _id, ev) => seen(e.node, `${room} ${ev.from}: ${ev.text}`));
        await e.listenTopics((key, t) => seen(e.node, `${key} topic ${t.text} by ${t.by}`));
      }
      await a.publish("#t", event("al", "before", "a"));
      await a.setTopic("#t", { room: "#T", text: "news", by: "al", ts: 5, node: "a" });
      await a.publish("#t", event("al", "after", "a"));
      await b.setTopic("#t", { room: "#T", by: "bo", ts: 6, node: "b" });
      await done.promise;
      assert.deepEqual(got.a, [
        "#t al: before",
        "#t topic news by al",
        "#t al: after",
        "#t topic undefined by bo",
      ]);
      assert.deepEqual(got.b, got.a);
      assert.deepEqual(await a.topic("#t"), undefined, "removed");
      await b.setTopic("#t", { room: "#T", text: "again", by: "bo", ts: 7, node: "b" });
      assert.deepEqual(await a.topic("#t"), {
        room: "#T",
        text: "again",
        by: "bo",
        ts: 7,
        node: "b",
      });
      assert.deepEqual(await a.topic("#none"), undefined);
    },
  );

  await run(
    "restoreTopics() writes only topics the engine lost, telling nobody",
    {},
    async (a, b) => {
      const told: string[] = [];
      await b.listenTopics((key) => told.push(key));
      await a.setTopic("#kept", { room: "#kept", text: "newer", by: "bo", ts: 9, node: "b" });
      await a.restoreTopics([
        ["#kept", { room: "#kept", text: "older", by: "al", ts: 1, node: "a" }],
        ["#lost", { room: "#Lost", text: "back", by: "al", ts: 2, node: "a" }],
      ]);
      assert.deepEqual((await b.topic("#kept"))?.text, "newer");
      assert.deepEqual(await b.topic("#lost"), {
        room: "#Lost",
        text: "back",
        by: "al",
        ts: 2,
        node: "a",
      });
      // The restore told nobody: the next change is the second thing b hears.
      await a.setTopic("#x", { room: "#x", text: "x", by: "al", ts: 3, node: "a" });
      assert(await until(() => Promise.resolve(told.length === 2), 2000));
      assert.deepEqual(told, ["#kept", "#x"]);
    },
  );

  await run(
    "setMotd() keeps the motd and tells every node; restoreMotd() only fills a gap",
    {},
    async (a, b) => {
      assert.deepEqual(await b.motd(), undefined);
      const got: string[] = [];
      const done = Promise.withResolvers<void>();
      await b.listenMotd((m) => {
        got.push(`${m.lines.join("/")} by ${m.by}`);
        done.resolve();
      });
      await b.restoreMotd({ lines: ["first"], by: "server", ts: 1, node: "b" });
      await a.setMotd({ lines: ["hello", "all"], by: "al", ts: 2, node: "a" });
      await done.promise;
      assert.deepEqual(got, ["hello/all by al"]);
      await b.restoreMotd({ lines: ["stale"], by: "server", ts: 3, node: "b" });
      assert.deepEqual(await b.motd(), { lines: ["hello", "all"], by: "al", ts: 2, node: "a" });
    },
  );

  await run("publish(), history() and direct() keep a notice's flag", {}, async (a, b) => {
    const got: string[] = [];
    const done = Promise.withResolvers<void>();
    const seen = (line: string) => {
      got.push(line);
      if (got.length === 2) done.resolve();
    };
    await b.listen((_room, _id, ev) => seen(`room ${ev.text} ${ev.notice}`));
    await b.listenDirect((ev) => seen(`direct ${ev.text} ${ev.notice}`));
    await a.publish("#n", { ...event("al", "fyi", "a"), notice: true });
    await a.direct({
      kind: "private",
      from: "al",
      to: ["bo"],
      targets: ["bo"],
      text: "psst",
      ts: 1,
      node: "a",
      notice: true,
    });
    await done.promise;
    assert.deepEqual(got.sort(), ["direct psst true", "room fyi true"]);
    assert.deepEqual((await b.history("#n", 1))[0].event.notice, true);
  });

  await run(
    "presence() keeps a user's away and operator marks with its rooms",
    {},
    async (a, b) => {
      const got: string[] = [];
      const done = Promise.withResolvers<void>();
      await b.listenPresence((ev) => {
        got.push(`${ev.kind} ${ev.name} ${ev.away} ${ev.operator}`);
        if (got.length === 3) done.resolve();
      });
      const marks = async () =>
        (await b.present()).map((p) => `${p.room} ${p.name} ${p.away} ${p.operator}`).sort();
      await a.presence({ kind: "join", name: "al", rooms: ["#lobby"], ts: 1, node: "a" });
      await a.presence({ kind: "join", name: "al", rooms: ["#dev"], ts: 1, node: "a", away: "x" });
      await a.presence({
        kind: "status",
        name: "al",
        rooms: ["#lobby", "#dev"],
        ts: 2,
        node: "a",
        away: "lunch",
        operator: true,
      });
      await done.promise;
      assert.deepEqual(got, [
        "join al undefined undefined",
        "join al x undefined",
        "status al lunch true",
      ]);
      assert.deepEqual(await marks(), ["#dev al lunch true", "#lobby al lunch true"]);
      await a.presence({
        kind: "rename",
        name: "al",
        to: "cy",
        rooms: ["#dev"],
        ts: 3,
        node: "a",
        operator: true,
      });
      await a.presence({ kind: "status", name: "al", rooms: ["#lobby"], ts: 4, node: "a" });
      assert.deepEqual(await marks(), ["#dev cy undefined true", "#lobby al undefined undefined"]);
    },
  );

  await run("reachable is true while the engine answers", {}, (a) => {
    assert.equal(a.reachable, true);
    return Promise.resolve();
  });

  await run("reclaimNames() keeps this node's and free names, not another's", {}, async (a, b) => {
    await a.claimName("x", "X");
    await b.claimName("y", "Y");
    assert.deepEqual(
      await b.reclaimNames([{ key: "x", name: "x" }, { key: "y", name: "Yy" }, {
        key: "z",
        name: "Z",
      }]),
      ["x"],
    );
    const held = (await a.names()).map((h) => `${h.key} ${h.name} ${h.node}`).sort();
    assert.deepEqual(held, ["x X a", "y Yy b", "z Z b"]);
    assert.deepEqual(await b.reclaimNames([]), []);
  });

  await run("rebuild() replaces this node's rooms and tells every node", {}, async (a, b) => {
    const synced = Promise.withResolvers<string>();
    await b.listenSync((ev) => synced.resolve(`${ev.node} ${JSON.stringify(ev.entries)}`));
    await a.presence({ kind: "join", name: "al", rooms: ["#lobby"], ts: 1, node: "a" });
    await a.presence({ kind: "join", name: "al", rooms: ["#dev"], ts: 1, node: "a" });
    await b.presence({ kind: "join", name: "bo", rooms: ["#dev"], ts: 1, node: "b" });
    await a.rebuild([{ room: "#lobby", name: "al" }, { room: "#new", name: "Cy", away: "lunch" }]);
    const present = (await b.present()).map((p) => `${p.room} ${p.name} ${p.node} ${p.away}`)
      .sort();
    assert.deepEqual(present, ["#dev bo b undefined", "#lobby al a undefined", "#new Cy a lunch"]);
    assert.equal(
      await synced.promise,
      `a [{"room":"#lobby","name":"al"},{"room":"#new","name":"Cy","away":"lunch"}]`,
    );
    await a.rebuild([]);
    assert.deepEqual((await b.present()).map((p) => p.name), ["bo"]);
  });

  await run(
    "prune() forgets old rooms' history, then the oldest past a count",
    {},
    async (a, b) => {
      const at = (room: string, ts: number) => a.publish(room, { ...event("al", room, "a"), ts });
      const first = await at("#old", 1000);
      await at("#mid", 5000);
      await at("#new", 6000);
      await at("#newer", 7000);
      assert.equal(await b.prune(2000, 2), 2, "#old for its age, #mid for the count");
      const kept = async (room: string) => (await b.history(room, 10)).length;
      assert.deepEqual(
        [await kept("#old"), await kept("#mid"), await kept("#new"), await kept("#newer")],
        [0, 0, 1, 1],
      );
      assert.equal(await b.prune(2000, 2), 0);
      // A room spoken in again starts a new history whose ids come after the old ones.
      const again = await at("#old", 8000);
      assert(compareIds(first, again) < 0, `${first} then ${again}`);
      assert.deepEqual((await b.since("#old", first, 10)).map((e) => e.id), [again]);
    },
  );

  await run("since() reads a room's events after an id, oldest first", {}, async (a, b) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await a.publish("#s", event("al", `s${i}`, "a")));
    const texts = (entries: { event: RoomEvent }[]) => entries.map((e) => e.event.text);
    assert.deepEqual(texts(await b.since("#s", undefined, 10)), ["s0", "s1", "s2", "s3", "s4"]);
    assert.deepEqual(texts(await b.since("#s", ids[1], 10)), ["s2", "s3", "s4"]);
    assert.deepEqual(texts(await b.since("#s", ids[1], 2)), ["s2", "s3"]);
    assert.deepEqual(await b.since("#s", ids[4], 10), []);
    assert.deepEqual(await b.since("#none", undefined, 10), []);
    assert.deepEqual((await b.since("#s", ids[0], 1))[0].id, ids[1]);
  });

  await run("history() keeps about historyLines events", { historyLines: 10 }, async (a) => {
    for (let i = 0; i < 300; i++) await a.publish("#big", event("al", `${i}`, "a"));
    const all = await a.history("#big", 1000);
    assert(all.length >= 10 && all.length < 300, `kept ${all.length}`);
    assert.deepEqual(all.at(-1)!.event.text, "299");
  });
}

Deno.test("MemoryEngine passes the engine conformance suite", async (t) => {
  await conformance(t, memoryNodes);
});

Deno.test({
  name: "RedisEngine passes the engine conformance suite (a real redis-server)",
  ignore: !HAVE_REDIS,
  async fn(t) {
    // A database per case: more than the 16 Redis has by default.
    await using redis = await RedisServer.start(undefined, ["--databases", "64"]);
    await conformance(t, redisNodes(redis.url));
  },
});

Deno.test({
  name: "RedisEngine.connect() fails in one line when Redis is not there",
  async fn() {
    const { freePort } = await import("./redis_server.ts");
    const port = freePort();
    const url = `redis://127.0.0.1:${port}`;
    let message = "";
    try {
      await RedisEngine.connect({ ...DEFAULTS, node: "a", url, shown: url });
    } catch (err) {
      message = (err as Error).message;
    }
    assert(message.startsWith(`cannot reach Redis at ${url}: `), message);
    assert(!message.includes("\n"), message);
  },
});

Deno.test({
  name: "RedisEngine.connect() fails in one line when the server never answers",
  async fn() {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })().catch(() => {});
    const url = `redis://127.0.0.1:${listener.addr.port}`;
    let message = "";
    try {
      await RedisEngine.connect({ ...DEFAULTS, node: "a", url, shown: url, connectTimeoutMs: 300 });
    } catch (err) {
      message = (err as Error).message;
    }
    assert.equal(message, `cannot reach Redis at ${url}: no answer within 0.3 s`);
    listener.close();
    await accepting;
    for (const conn of held) conn.close();
  },
});

Deno.test({
  name: "RedisEngine skips and logs a topic or motd in Redis that is not linechat's",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const url = `${redis.url}/0`;
    const logged: string[] = [];
    const engine = await RedisEngine.connect({
      ...DEFAULTS,
      node: "a",
      url,
      shown: url,
      log: (line) => logged.push(line),
    });
    const { createClient } = await import("@redis/client");
    const raw = createClient({ url });
    await raw.connect();
    try {
      const heard: string[] = [];
      await engine.listenTopics((key) => heard.push(`topic ${key}`));
      await engine.listenMotd((m) => heard.push(`motd ${m.lines}`));
      await raw.hSet("linechat:topics", "#bad", "{not json");
      await raw.set("linechat:motd", JSON.stringify({ lines: "not a list" }));
      assert.equal(await engine.topic("#bad"), undefined);
      assert.equal(await engine.motd(), undefined);
      await raw.publish("linechat:topic-changes", "#bad\n[1,2]");
      await raw.publish("linechat:topic-changes", "no newline");
      await raw.publish("linechat:motd-changes", "\u0000");
      // One good change after the bad ones: once it is heard, they were all handled.
      await engine.setMotd({ lines: ["fine"], by: "al", ts: 1, node: "a" });
      assert(await until(() => Promise.resolve(heard.length > 0), 2000));
      assert.deepEqual(heard, ["motd fine"]);
      assert.deepEqual(logged.sort(), [
        "engine: a motd that is not linechat's was skipped",
        "engine: a motd that is not linechat's was skipped",
        "engine: a topic change that is not linechat's was skipped",
        "engine: a topic change that is not linechat's was skipped",
        "engine: a topic that is not linechat's was skipped",
      ]);
    } finally {
      await raw.close();
      await engine.close();
    }
  },
});
