import assert from "node:assert/strict";
import { type ChatStore, MemoryStore, SqliteStore } from "../lib/store.ts";

const stores: [string, () => { store: ChatStore; cleanup(): void }][] = [
  ["MemoryStore", () => ({ store: new MemoryStore(50), cleanup() {} })],
  ["SqliteStore", () => {
    const dir = Deno.makeTempDirSync();
    return {
      store: new SqliteStore(`${dir}/chat.db`),
      cleanup: () => Deno.removeSync(dir, { recursive: true }),
    };
  }],
];

Deno.test("ChatStore keeps history per room, oldest first, and topics", async (t) => {
  for (const [name, make] of stores) {
    await t.step(name, () => {
      const { store, cleanup } = make();
      try {
        for (let i = 0; i < 120; i++) {
          store.append({ room: "#lobby", kind: "message", from: "a", text: `m${i}`, ts: i });
        }
        store.append({ room: "#dev", kind: "action", from: "b", text: "waves", ts: 500 });
        assert.deepEqual(store.recent("#lobby", 3).map((m) => m.text), ["m117", "m118", "m119"]);
        assert.equal(store.recent("#lobby", 50).length, 50);
        assert.deepEqual(store.recent("#dev", 50), [
          { room: "#dev", kind: "action", from: "b", text: "waves", ts: 500 },
        ]);
        assert.deepEqual(store.recent("#none", 50), []);
        assert.deepEqual(store.recent("#lobby", 0), []);
        store.setTopic({ room: "#dev", topic: "old", by: "b", ts: 1 });
        store.setTopic({ room: "#dev", topic: "new", by: "c", ts: 2 });
        assert.deepEqual(store.topics(), [{ room: "#dev", topic: "new", by: "c", ts: 2 }]);
      } finally {
        store.close();
        cleanup();
      }
    });
  }
});

Deno.test("ChatStore keeps bans and accounts", async (t) => {
  for (const [name, make] of stores) {
    await t.step(name, () => {
      const { store, cleanup } = make();
      try {
        store.addBan({ kind: "ip", target: "10.0.0.9", by: "server", ts: 1 });
        store.addBan({ kind: "name", target: "troll", until: 99, reason: "spam", by: "op", ts: 2 });
        assert.deepEqual(store.bans().sort((a, b) => a.ts - b.ts), [
          { kind: "ip", target: "10.0.0.9", by: "server", ts: 1 },
          { kind: "name", target: "troll", until: 99, reason: "spam", by: "op", ts: 2 },
        ]);
        assert.equal(store.removeBan("ip", "10.0.0.9"), true);
        assert.equal(store.removeBan("ip", "10.0.0.9"), false);
        assert.equal(store.bans().length, 1);
        assert.equal(store.account("alice"), undefined);
        store.setAccount({ key: "alice", name: "Alice", hash: "h", ts: 3 });
        assert.deepEqual(store.account("alice"), { key: "alice", name: "Alice", hash: "h", ts: 3 });
        assert.equal(store.removeAccount("alice"), true);
        assert.equal(store.removeAccount("alice"), false);
      } finally {
        store.close();
        cleanup();
      }
    });
  }
});

Deno.test("SqliteStore keeps everything across reopening the file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const first = new SqliteStore(`${dir}/chat.db`);
    first.append({ room: "#lobby", kind: "message", from: "a", text: "kept", ts: 1 });
    first.setTopic({ room: "#lobby", topic: "welcome", by: "a", ts: 2 });
    first.addBan({ kind: "name", target: "troll", by: "op", ts: 3 });
    first.setAccount({ key: "alice", name: "alice", hash: "h", ts: 4 });
    first.close();
    const second = new SqliteStore(`${dir}/chat.db`);
    assert.deepEqual(second.recent("#lobby", 10).map((m) => m.text), ["kept"]);
    assert.equal(second.topics()[0].topic, "welcome");
    assert.equal(second.bans()[0].target, "troll");
    assert.equal(second.account("alice")?.hash, "h");
    second.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
