// ClusterStore over memory engines sharing one backend (as nodes share one Redis): records
// loaded before a node serves, every node's changes followed, bad records skipped and logged
// (a hash never), writes through to the engine guarded, and reseed() after Redis lost its data.

import assert from "node:assert/strict";
import { MemoryBackend, MemoryEngine } from "../lib/server/engine/memory.ts";
import { ClusterStore, decode, type SharedChange } from "../lib/server/hub/cluster_store.ts";
import type { StoredAccount, StoredBan, StoredMute } from "../lib/server/store.ts";
import { RedisEngine } from "../lib/server/engine/redis.ts";
import { createClient } from "@redis/client";
import { HAVE_REDIS, RedisServer } from "./redis_server.ts";

const RETENTION = { retainMs: 0, retainMessages: 0 };

/** A node's engine and store over `backend`, with the lines it logged. */
async function node(backend: MemoryBackend, name: string) {
  const engine = new MemoryEngine({ node: name, nodeTimeoutMs: 10_000, historyLines: 10 }, backend);
  const logged: string[] = [];
  const store = await ClusterStore.open(engine, 10, RETENTION, (l) => logged.push(l));
  return { engine, store, logged };
}

const ban: StoredBan = { kind: "name", target: "troll", reason: "spam", by: "mod", ts: 1 };
const mute: StoredMute = { kind: "ip", target: "10.0.0.0/8", by: "mod", ts: 2, until: 9e12 };
const account: StoredAccount = { key: "alice", name: "Alice", hash: "scrypt$1$2$3$s$h", ts: 3 };

Deno.test("ClusterStore.open() loads every shared record before the node serves", async () => {
  const backend = new MemoryBackend();
  const a = await node(backend, "a");
  await a.store.share("ban", "name troll", ban);
  await a.store.share("mute", "ip 10.0.0.0/8", mute);
  await a.store.share("account", "alice", account);
  const b = await node(backend, "b");
  assert.deepEqual(b.store.bans(), [ban]);
  assert.deepEqual(b.store.mutes(), [mute]);
  assert.deepEqual(b.store.account("alice"), account);
  assert.equal(b.store.persistent, true);
  assert.deepEqual(b.logged, []);
});

Deno.test("ClusterStore hands every node's changes to onChange(), or applies them itself", async () => {
  const backend = new MemoryBackend();
  const a = await node(backend, "a");
  const b = await node(backend, "b");
  const seen: SharedChange[] = [];
  b.store.onChange((c) => seen.push(c));
  await a.store.share("ban", "name troll", ban);
  await a.store.share("ban", "name troll", undefined);
  assert.deepEqual(seen, [
    { kind: "ban", key: "name troll", record: ban, node: "a" },
    { kind: "ban", key: "name troll", node: "a" },
  ]);
  // Without a listener (a's), the change is applied to the copy.
  await b.store.share("account", "alice", account);
  assert.deepEqual(a.store.account("alice"), account);
  await b.store.share("account", "alice", undefined);
  assert.equal(a.store.account("alice"), undefined);
});

Deno.test("ClusterStore skips a record that is not well formed and logs it, never its value", async (t) => {
  const backend = new MemoryBackend();
  const a = await node(backend, "a");
  const b = await node(backend, "b");
  const bad: [string, string, string][] = [
    ["ban", "name troll", "not json"],
    ["ban", "name troll", JSON.stringify({ ...ban, target: "other" })],
    ["ban", "ip 1.2.3.999", JSON.stringify({ ...ban, kind: "ip", target: "1.2.3.999" })],
    ["mute", "name x", JSON.stringify({ kind: "name", target: "x", by: "m", ts: "soon" })],
    ["mute", "name x", JSON.stringify({ kind: "name", target: "x", by: "m", ts: 1, address: "y" })],
    ["ban", "name x", JSON.stringify({ ...ban, target: "x", reason: "r".repeat(9000) })],
    ["account", "alice", JSON.stringify({ ...account, key: "bob" })],
    ["account", "alice", JSON.stringify({ ...account, hash: "plain secret" })],
    ["account", "alice", "[1]"],
  ];
  for (const [kind, key, value] of bad) {
    await t.step(`${kind} ${key} ${value.slice(0, 50)}`, async () => {
      b.logged.length = 0;
      await a.engine.putRecord(kind, key, value);
      assert.deepEqual(b.logged, [`engine: a ${kind} record that is not well formed was skipped`]);
    });
  }
  assert.deepEqual(b.store.bans(), []);
  assert.deepEqual(b.store.mutes(), []);
  assert.equal(b.store.account("alice"), undefined);
  const late = await node(backend, "c");
  assert.equal(late.logged.length, 5, late.logged.join("\n")); // the last of each key stays
  assert.equal(late.logged.some((l) => l.includes("secret")), false);
});

Deno.test("decode() takes a removal of a ban or mute only with a kind and a target", () => {
  assert.deepEqual(decode({ kind: "ban", key: "name x", node: "a" }), {
    kind: "ban",
    key: "name x",
    node: "a",
  });
  assert.equal(decode({ kind: "ban", key: "x", node: "a" }), undefined);
  assert.equal(decode({ kind: "topic", key: "#dev", value: "{}", node: "a" }), undefined);
});

Deno.test("ClusterStore writes through what the hub writes, a removal only over the same value", async () => {
  const backend = new MemoryBackend();
  const a = await node(backend, "a");
  const b = await node(backend, "b");
  // A mute moved with a rename, say: written outside local(), it reaches the engine.
  a.store.addMute(mute);
  assert.deepEqual(b.store.mutes(), [mute]);
  // A newer mute is in the engine, its change still on its way to b: b dropping the one it
  // has (run out, say) must not remove the newer.
  const newer = JSON.stringify({ ...mute, reason: "newer" });
  backend.records.set("mute\nip 10.0.0.0/8", { kind: "mute", key: "ip 10.0.0.0/8", value: newer });
  b.store.removeMute("ip", "10.0.0.0/8");
  assert.deepEqual((await a.engine.records()).map((r) => r.value), [newer]);
  // Over the value it has, the removal goes through.
  backend.records.set("mute\nip 10.0.0.0/8", {
    kind: "mute",
    key: "ip 10.0.0.0/8",
    value: JSON.stringify(mute),
  });
  b.store.removeMute("ip", "10.0.0.0/8");
  assert.deepEqual(await a.engine.records(), []);
  // Written inside local(), nothing reaches the engine.
  a.store.local(() => a.store.addBan(ban));
  assert.deepEqual(b.store.bans(), []);
});

Deno.test("ClusterStore.reseed() writes back what the engine lost, keeping what it has", async () => {
  const backend = new MemoryBackend();
  const a = await node(backend, "a");
  await a.store.share("ban", "name troll", ban);
  await a.store.share("account", "alice", account);
  await a.store.share("mute", "ip 10.0.0.0/8", mute);
  // Redis restarted empty; another node wrote a ban of troll meanwhile.
  backend.records.clear();
  const other = { ...ban, reason: "newer" };
  await a.engine.putRecord("ban", "name troll", JSON.stringify(other));
  assert.equal(await a.store.reseed(), 2);
  const b = await node(backend, "b");
  assert.deepEqual(b.store.bans(), [other]);
  assert.deepEqual(b.store.account("alice"), account);
  assert.deepEqual(b.store.mutes(), [mute]);
});

Deno.test({
  name: "ClusterStore over a real Redis skips what another program wrote there, and goes on",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const url = `${redis.url}/3`;
    const raw = createClient({ url });
    await raw.connect();
    try {
      await raw.hSet("linechat:records", "ban\nname troll", "not json");
      await raw.hSet("linechat:records", "no newline", "x");
      await raw.hSet("linechat:records", `ban\n${"k".repeat(600)}`, "{}");
      await raw.hSet("linechat:records", "account\nalice", JSON.stringify(account));
      const logged: string[] = [];
      const log = (l: string) => logged.push(l);
      const options = { node: "a", nodeTimeoutMs: 10_000, historyLines: 10, url, shown: url, log };
      const engine = await RedisEngine.connect(options);
      try {
        const store = await ClusterStore.open(engine, 10, RETENTION, log);
        assert.deepEqual(store.account("alice"), account);
        assert.deepEqual(store.bans(), []);
        assert.deepEqual(logged.sort(), [
          "engine: 2 records out of bounds were skipped",
          "engine: a ban record that is not well formed was skipped",
        ]);
        // Garbage on the channel: logged and skipped; a good change after it still comes.
        logged.length = 0;
        await raw.publish("linechat:record-changes", "{not json");
        await raw.publish("linechat:record-changes", JSON.stringify({ kind: 1 }));
        await raw.publish("linechat:orders", "[]");
        await engine.putRecord("ban", "name troll", JSON.stringify(ban));
        const deadline = Date.now() + 3000;
        while (store.bans().length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(store.bans(), [ban]);
        assert.deepEqual(logged, [
          "engine: a record change that is not linechat's was skipped",
          "engine: a record change that is not linechat's was skipped",
          "engine: an order that is not linechat's was skipped",
        ]);
      } finally {
        await engine.close();
      }
    } finally {
      await raw.close();
    }
  },
});
