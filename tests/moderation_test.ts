import assert from "node:assert/strict";
import { Moderation, parseTarget, type SanctionTarget } from "../lib/server/moderation.ts";
import {
  type ChatStore,
  MemoryStore,
  SqliteStore,
  type StoredBan,
  type StoredMute,
} from "../lib/server/store.ts";

/** A MemoryStore whose deletes fail while `busy`, as a locked SQLite file would. */
class BusyStore extends MemoryStore {
  busy = false;

  override removeBan(kind: StoredBan["kind"], target: string): boolean {
    if (this.busy) throw new Error("database is locked");
    return super.removeBan(kind, target);
  }

  override removeMute(kind: StoredMute["kind"], target: string): boolean {
    if (this.busy) throw new Error("database is locked");
    return super.removeMute(kind, target);
  }
}

function withSqlite(test: (path: string) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    test(`${dir}/chat.db`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("parseTarget() makes addresses canonical, names keys, and says what is wrong", async (t) => {
  const cases: [string, number | undefined, SanctionTarget | string][] = [
    ["0:0:0:0:0:0:0:1", 24, { kind: "ip", target: "::1" }],
    ["::ffff:127.0.0.1", 24, { kind: "ip", target: "127.0.0.1" }],
    ["10.0.0.5/24", 24, { kind: "ip", target: "10.0.0.0/24" }],
    ["2001:DB8::/32", 24, { kind: "ip", target: "2001:db8::/32" }],
    ["Troll", 24, { kind: "name", target: "troll" }],
    [
      "127.000.000.005",
      24,
      'invalid address "127.000.000.005": "000" has a leading zero, which some tools read as octal',
    ],
    [
      "127.0.0.05",
      24,
      'invalid address "127.0.0.05": "05" has a leading zero, which some tools read as octal',
    ],
    [
      "1.2",
      24,
      'invalid address "1.2": an IPv4 address is four numbers from 0 to 255 separated by dots',
    ],
    [
      "10.0.0.0/33",
      24,
      'invalid address "10.0.0.0/33": the prefix length must be a whole number from 0 to 32',
    ],
    ["server", 24, 'invalid name: "server" is reserved'],
    ["x".repeat(25), 24, "invalid name: a name can be at most 24 characters"],
    ["server", undefined, { kind: "name", target: "server" }],
    [
      "127.0.0.05",
      undefined,
      'invalid address "127.0.0.05": "05" has a leading zero, which some tools read as octal',
    ],
  ];
  for (const [text, max, want] of cases) {
    await t.step(`${text} (max ${max})`, () => assert.deepEqual(parseTarget(text, max), want));
  }
});

Deno.test("Moderation.banned() finds an address in a range ban, in every spelling", async (t) => {
  const mod = new Moderation(new MemoryStore(0));
  mod.ban({ kind: "ip", target: "10.0.0.0/24", by: "op", ts: 1 });
  mod.ban({ kind: "ip", target: "::1", by: "op", ts: 2 });
  const cases: [string, string | undefined][] = [
    ["10.0.0.7", "10.0.0.0/24"],
    ["::ffff:10.0.0.7", "10.0.0.0/24"],
    ["[::ffff:10.0.0.255]:5000", "10.0.0.0/24"],
    ["10.0.0.7:5000", "10.0.0.0/24"],
    ["10.0.1.1", undefined],
    ["::1", "::1"],
    ["[::1]:5000", "::1"],
    ["::2", undefined],
    ["not an address", undefined],
  ];
  for (const [address, want] of cases) {
    await t.step(address, () => assert.equal(mod.banned("ip", address, 10)?.target, want));
  }
});

Deno.test("Moderation keeps bans canonical: /unban and /banned see one spelling", () => {
  const store = new MemoryStore(0);
  const mod = new Moderation(store);
  mod.ban({ kind: "ip", target: "0:0:0:0:0:0:0:1", by: "op", ts: 1 });
  assert.deepEqual(store.bans().map((b) => b.target), ["::1"]);
  assert.deepEqual(mod.bans(5).map((b) => b.target), ["::1"]);
  assert.equal(mod.unban("ip", "::1", 5), true);
  assert.equal(mod.unban("ip", "::1", 5), false);
  assert.deepEqual(store.bans(), []);
});

Deno.test("Moderation drops stored address bans that never matched and re-spells the others", () => {
  const store = new MemoryStore(0);
  store.addBan({ kind: "ip", target: "127.0.0.05", by: "op", ts: 1 });
  store.addBan({ kind: "ip", target: "0:0:0:0:0:0:0:1", by: "op", ts: 2 });
  const mod = new Moderation(store);
  assert.deepEqual(store.bans().map((b) => b.target), ["0:0:0:0:0:0:0:1"]);
  assert.deepEqual(mod.bans(5).map((b) => b.target), ["::1"]);
  assert.equal(mod.banned("ip", "::1", 5)?.target, "::1");
  assert.equal(mod.unban("ip", "::1", 5), true);
  assert.deepEqual(store.bans(), []);
});

Deno.test("Moderation forgets expired bans and mutes, even when the store cannot delete them", () => {
  const store = new BusyStore(0);
  const mod = new Moderation(store);
  mod.ban({ kind: "ip", target: "10.0.0.1", until: 100, by: "op", ts: 1 });
  mod.ban({ kind: "name", target: "troll", until: 100, by: "op", ts: 1 });
  mod.mute({ kind: "name", target: "loud", address: "10.0.0.2", until: 100, by: "op", ts: 1 });
  assert.equal(mod.banned("ip", "10.0.0.1", 99)?.target, "10.0.0.1");
  assert.equal(mod.muted("loud", "10.9.9.9:1", 99)?.target, "loud");
  store.busy = true;
  assert.equal(mod.banned("ip", "10.0.0.1", 100), undefined);
  assert.equal(mod.banned("name", "troll", 100), undefined);
  assert.equal(mod.muted(undefined, "10.0.0.2:1", 100), undefined);
  assert.deepEqual(mod.bans(100), []);
  // Still in the store (it was busy): the next start drops them again.
  assert.equal(store.bans().length, 2);
  // An operator's own action does fail loudly, for the hub to report.
  mod.ban({ kind: "name", target: "other", by: "op", ts: 2 });
  assert.throws(() => mod.unban("name", "other", 100), /database is locked/);
  store.busy = false;
  const again = new Moderation(store);
  assert.deepEqual(again.bans(100).map((b) => b.target), ["other"]);
  assert.deepEqual(store.bans().map((b) => b.target), ["other"]);
});

Deno.test("Moderation.muted() covers the name key and the address a name mute keeps", async (t) => {
  const mod = new Moderation(new MemoryStore(0));
  mod.mute({ kind: "name", target: "troll", address: "::ffff:10.0.0.2", by: "op", ts: 1 });
  mod.mute({ kind: "name", target: "ghost", by: "op", ts: 2 });
  mod.mute({ kind: "ip", target: "2001:db8::/32", reason: "spam", by: "op", ts: 3 });
  const cases: [string | undefined, string, string | undefined][] = [
    ["troll", "10.9.9.9:1", "troll"],
    ["troll2", "10.0.0.2:40000", "troll"],
    [undefined, "[::ffff:10.0.0.2]:1", "troll"],
    ["ghost", "10.9.9.9:1", "ghost"],
    ["alice", "10.0.0.3:1", undefined],
    ["alice", "[2001:db8:1::5]:1", "2001:db8::/32"],
    ["alice", "[2001:db9::5]:1", undefined],
    ["alice", "test:1", undefined],
  ];
  for (const [key, address, want] of cases) {
    await t.step(`${key} at ${address}`, () => {
      assert.equal(mod.muted(key, address, 10)?.target, want);
    });
  }
});

Deno.test("Moderation.unmute() lifts by any spelling; renamed() moves a name mute", () => {
  const store = new MemoryStore(0);
  const mod = new Moderation(store);
  mod.mute({ kind: "ip", target: "::ffff:10.0.0.9", by: "op", ts: 1 });
  assert.deepEqual(store.mutes().map((m) => m.target), ["10.0.0.9"]);
  assert.equal(mod.unmute("ip", "10.0.0.9", 5), true);
  assert.equal(mod.unmute("ip", "10.0.0.9", 5), false);
  mod.mute({ kind: "name", target: "bob", by: "op", ts: 2 });
  mod.renamed("bob", "bobby");
  assert.equal(mod.muted("bob", "test:1", 5), undefined);
  assert.equal(mod.muted("bobby", "test:1", 5)?.target, "bobby");
  assert.deepEqual(store.mutes().map((m) => m.target), ["bobby"]);
});

Deno.test("Moderation keeps mutes in a SqliteStore across a restart; expired ones go", () => {
  withSqlite((path) => {
    {
      const store = new SqliteStore(path);
      const mod = new Moderation(store);
      mod.mute({
        kind: "name",
        target: "troll",
        address: "10.0.0.2",
        reason: "noise",
        by: "op",
        ts: 1,
      });
      mod.mute({ kind: "ip", target: "192.0.2.0/24", until: 1000, by: "op", ts: 2 });
      store.close();
    }
    const store = new SqliteStore(path);
    try {
      const mod = new Moderation(store);
      assert.equal(mod.muted("newname", "10.0.0.2:1", 999)?.reason, "noise");
      assert.equal(mod.muted("x", "192.0.2.7:1", 999)?.target, "192.0.2.0/24");
      assert.equal(mod.muted("x", "192.0.2.7:1", 1000), undefined);
      assert.deepEqual(store.mutes().map((m) => m.target), ["troll"]);
    } finally {
      store.close();
    }
  });
});

Deno.test("ChatStore keeps mutes: addMute, mutes(), removeMute", async (t) => {
  const stores: [string, (test: (store: ChatStore) => void) => void][] = [
    ["MemoryStore", (test) => test(new MemoryStore(0))],
    ["SqliteStore", (test) =>
      withSqlite((path) => {
        const store = new SqliteStore(path);
        try {
          test(store);
        } finally {
          store.close();
        }
      })],
  ];
  for (const [name, run] of stores) {
    await t.step(name, () =>
      run((store) => {
        store.addMute({ kind: "ip", target: "10.0.0.0/8", by: "server", ts: 1 });
        store.addMute({
          kind: "name",
          target: "troll",
          address: "10.0.0.2",
          until: 99,
          reason: "spam",
          by: "op",
          ts: 2,
        });
        store.addMute({ kind: "name", target: "troll", reason: "again", by: "op", ts: 3 });
        assert.deepEqual(store.mutes().sort((a, b) => a.ts - b.ts), [
          { kind: "ip", target: "10.0.0.0/8", by: "server", ts: 1 },
          { kind: "name", target: "troll", reason: "again", by: "op", ts: 3 },
        ]);
        assert.equal(store.removeMute("ip", "10.0.0.0/8"), true);
        assert.equal(store.removeMute("ip", "10.0.0.0/8"), false);
        assert.equal(store.mutes().length, 1);
      }));
  }
});
