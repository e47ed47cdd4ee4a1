import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import {
  APPLICATION_ID,
  BUSY_TIMEOUT_MS,
  type ChatStore,
  DataFileError,
  MemoryStore,
  type Retention,
  SCHEMA_VERSION,
  SqliteStore,
  type StoredMessage,
  storeErrorText,
} from "../lib/server/store.ts";

/** Each store, made with `keep` messages per room and a retention. */
const stores: [
  string,
  (keep?: number, retention?: Partial<Retention>) => { store: ChatStore; cleanup(): void },
][] = [
  ["MemoryStore", (keep = 50, retention = {}) => ({
    store: new MemoryStore(keep, retention),
    cleanup() {},
  })],
  ["SqliteStore", (keep = 50, retention = {}) => {
    const dir = Deno.makeTempDirSync();
    return {
      store: new SqliteStore(`${dir}/chat.db`, { historyLines: keep, ...retention }),
      cleanup: () => Deno.removeSync(dir, { recursive: true }),
    };
  }],
];

/** Runs `body` as one step per store. */
async function eachStore(
  t: Deno.TestContext,
  body: (store: ChatStore) => void,
  keep?: number,
  retention?: Partial<Retention>,
): Promise<void> {
  for (const [name, make] of stores) {
    await t.step(name, () => {
      const { store, cleanup } = make(keep, retention);
      try {
        body(store);
      } finally {
        store.close();
        cleanup();
      }
    });
  }
}

function message(room: string, text: string, ts: number): StoredMessage {
  return { room, kind: "message", from: "a", text, ts };
}

const texts = (store: ChatStore, room: string) => store.recent(room, 1000).map((m) => m.text);

/** A temporary directory, removed when disposed. */
function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync();
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

/** The file's SHA-256, hex. */
function hash(path: string): string {
  return createHash("sha256").update(Deno.readFileSync(path)).digest("hex");
}

/** Asserts that `f` throws a DataFileError whose reason matches `reason`; returns it. */
function refused(f: () => unknown, reason: RegExp): DataFileError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof DataFileError, String(err));
    assert.match(err.reason, reason);
    return err;
  }
  assert.fail("not refused");
}

/** The tables of linechat before application_id (schema 0), made the way it made them. */
const SCHEMA_0 = `
  PRAGMA journal_mode = WAL;
  CREATE TABLE messages (id INTEGER PRIMARY KEY, room TEXT NOT NULL, kind TEXT NOT NULL,
    sender TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL);
  CREATE INDEX messages_room ON messages (room, id);
  CREATE TABLE topics (room TEXT PRIMARY KEY, topic TEXT NOT NULL, set_by TEXT NOT NULL,
    ts INTEGER NOT NULL);
  CREATE TABLE bans (kind TEXT NOT NULL, target TEXT NOT NULL, until INTEGER, reason TEXT,
    set_by TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (kind, target));
  CREATE TABLE accounts (key TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL,
    ts INTEGER NOT NULL);
`;

/** Runs `sql` on `path` with a connection of its own, then closes it. */
function withDb<T>(path: string, sql: string, read?: (db: DatabaseSync) => T): T | undefined {
  const db = new DatabaseSync(path);
  try {
    db.exec(sql);
    return read?.(db);
  } finally {
    db.close();
  }
}

Deno.test("ChatStore keeps history per room, oldest first, and topics", async (t) => {
  await eachStore(t, (store) => {
    for (let i = 0; i < 120; i++) store.append(message("#lobby", `m${i}`, i));
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
  });
});

Deno.test("ChatStore keeps bans and accounts", async (t) => {
  await eachStore(t, (store) => {
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
  });
});

Deno.test("ChatStore.clearHistory() and removeTopic() forget one room's history and topic", async (t) => {
  await eachStore(t, (store) => {
    store.append(message("#a", "gone", 1));
    store.append(message("#b", "kept", 2));
    store.setTopic({ room: "#a", topic: "gone", by: "op", ts: 1 });
    store.setTopic({ room: "#b", topic: "kept", by: "op", ts: 2 });
    store.clearHistory("#a");
    store.removeTopic("#a");
    store.clearHistory("#none");
    store.removeTopic("#none");
    assert.deepEqual(texts(store, "#a"), []);
    assert.deepEqual(texts(store, "#b"), ["kept"]);
    assert.deepEqual(store.topics().map((x) => x.topic), ["kept"]);
    store.append(message("#a", "new", 3));
    assert.deepEqual(texts(store, "#a"), ["new"]);
  });
});

Deno.test("SqliteStore.clearHistory() and removeTopic() last across reopening", () => {
  using dir = tempDir();
  const first = new SqliteStore(`${dir.path}/chat.db`);
  first.append(message("#a", "gone", 1));
  first.setTopic({ room: "#a", topic: "gone", by: "op", ts: 1 });
  first.clearHistory("#a");
  first.removeTopic("#a");
  first.close();
  const second = new SqliteStore(`${dir.path}/chat.db`);
  assert.deepEqual(texts(second, "#a"), []);
  assert.deepEqual(second.topics(), []);
  second.close();
});

Deno.test("ChatStore.forget() gives up history in memory and keeps it on disk", async (t) => {
  for (const [name, make] of stores) {
    await t.step(name, () => {
      const { store, cleanup } = make();
      try {
        store.append(message("#a", "hello", 1));
        store.forget("#a");
        assert.deepEqual(texts(store, "#a"), store.persistent ? ["hello"] : []);
      } finally {
        store.close();
        cleanup();
      }
    });
  }
});

Deno.test("ChatStore.prune() deletes messages older than retainMs", async (t) => {
  await eachStore(
    t,
    (store) => {
      for (let ts = 0; ts < 10; ts++) {
        store.append(message(ts % 2 ? "#odd" : "#even", `m${ts}`, ts));
      }
      store.prune(1006); // Older than 6 goes.
      assert.deepEqual(texts(store, "#even"), ["m6", "m8"]);
      assert.deepEqual(texts(store, "#odd"), ["m7", "m9"]);
      store.prune(5000);
      assert.deepEqual(texts(store, "#even"), []);
    },
    50,
    { retainMs: 1000, retainMessages: 0 },
  );
  await t.step("retainMs 0 keeps messages forever", async (t) => {
    await eachStore(
      t,
      (store) => {
        store.append(message("#a", "old", 0));
        store.prune(1e12);
        assert.deepEqual(texts(store, "#a"), ["old"]);
      },
      50,
      { retainMs: 0, retainMessages: 0 },
    );
  });
});

Deno.test("ChatStore.prune() keeps the newest `keep` messages of each room", async (t) => {
  await eachStore(
    t,
    (store) => {
      for (let i = 0; i < 5; i++) store.append(message("#a", `a${i}`, i));
      store.append(message("#b", "b0", 9));
      store.prune(10);
      assert.deepEqual(texts(store, "#a"), ["a2", "a3", "a4"]);
      assert.deepEqual(texts(store, "#b"), ["b0"]);
    },
    3,
    { retainMs: 0, retainMessages: 0 },
  );
});

Deno.test("ChatStore.prune() keeps retainMessages in all, deleting the oldest first", async (t) => {
  await eachStore(
    t,
    (store) => {
      store.append(message("#a", "a0", 0));
      store.append(message("#b", "b1", 1));
      store.append(message("#a", "a2", 2));
      store.append(message("#b", "b3", 3));
      store.append(message("#c", "c4", 4));
      store.prune(10);
      assert.deepEqual(texts(store, "#a"), ["a2"]);
      assert.deepEqual(texts(store, "#b"), ["b3"]);
      assert.deepEqual(texts(store, "#c"), ["c4"]);
      store.clearHistory("#c");
      store.append(message("#c", "c5", 5));
      store.prune(10); // Counts what clearHistory removed: three in all, none goes.
      assert.deepEqual([...texts(store, "#a"), ...texts(store, "#b")], ["a2", "b3"]);
    },
    50,
    { retainMs: 0, retainMessages: 3 },
  );
});

Deno.test("SqliteStore.prune() applies the retention to what the file held at opening", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  const first = new SqliteStore(path, { historyLines: 100, retainMs: 0, retainMessages: 0 });
  for (let i = 0; i < 10; i++) first.append(message(i < 8 ? "#big" : "#small", `m${i}`, i));
  first.close();
  const second = new SqliteStore(path, { historyLines: 5, retainMs: 0, retainMessages: 4 });
  second.prune(10);
  assert.deepEqual(texts(second, "#big"), ["m6", "m7"]);
  assert.deepEqual(texts(second, "#small"), ["m8", "m9"]);
  second.close();
});

Deno.test("SqliteStore.prune() does bounded work per call and gets there over calls", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  const rows = 50_000;
  withDb(
    path,
    SCHEMA_0 + `
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
      INSERT INTO messages (room, kind, sender, text, ts) SELECT '#a', 'message', 'a', i, i FROM n;
    `,
  );
  const store = new SqliteStore(path, { historyLines: 1, retainMs: 0, retainMessages: 0 });
  try {
    const start = performance.now();
    store.prune(0);
    const ms = performance.now() - start;
    assert.ok(ms < 500, `one call took ${ms} ms`);
    const left = store.recent("#a", rows).length;
    assert.ok(left > 1 && left < rows, `${left} left after one call`);
    for (let i = 0; i < 2000 && store.recent("#a", 2).length > 1; i++) store.prune(0);
    assert.deepEqual(texts(store, "#a"), [String(rows)]);
  } finally {
    store.close();
  }
});

Deno.test("SqliteStore holds its file: a second store is refused until the first closes", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  const first = new SqliteStore(path);
  first.append(message("#a", "first", 1));
  const start = performance.now();
  const err = refused(() => new SqliteStore(path), /^is in use by another chat-server$/);
  assert.ok(performance.now() - start < BUSY_TIMEOUT_MS + 1000, "waited too long");
  assert.equal(err.message, `${path} is in use by another chat-server`);
  assert.equal(storeErrorText(err), "the data file is busy");
  first.close();
  const second = new SqliteStore(path);
  assert.deepEqual(texts(second, "#a"), ["first"]);
  second.close();
});

Deno.test("SqliteStore gives up within its busy timeout on a file another program locks", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  new SqliteStore(path).close();
  const other = new DatabaseSync(path);
  try {
    other.exec("BEGIN EXCLUSIVE");
    const start = performance.now();
    const err = refused(() => new SqliteStore(path), /^is in use by another chat-server$/);
    const ms = performance.now() - start;
    assert.ok(ms >= BUSY_TIMEOUT_MS - 50 && ms < BUSY_TIMEOUT_MS + 1000, `${ms} ms`);
    assert.equal(storeErrorText(err), "the data file is busy");
  } finally {
    other.close();
  }
});

Deno.test("SqliteStore refuses a file that is not linechat's and leaves it unchanged", async (t) => {
  const cases: [string, (path: string) => void, RegExp][] = [
    ["another program's database", (path) => {
      withDb(
        path,
        "PRAGMA journal_mode = DELETE; CREATE TABLE notes (body); INSERT INTO notes VALUES ('x');",
      );
    }, /^is not a linechat data file$/],
    ["a database with a table of our name but other columns", (path) => {
      withDb(path, "CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT);");
    }, /^is not a linechat data file$/],
    ["our tables under another application_id", (path) => {
      withDb(path, SCHEMA_0 + "PRAGMA journal_mode = DELETE; PRAGMA application_id = 42;");
    }, /^is not a linechat data file$/],
    ["our tables and one more", (path) => {
      withDb(path, SCHEMA_0 + "PRAGMA journal_mode = DELETE; CREATE TABLE extra (x);");
    }, /^is not a linechat data file$/],
    ["a text file", (path) => {
      Deno.writeTextFileSync(path, "hello, this is not a database\n".repeat(10));
    }, /^is not a linechat data file$/],
    [
      "a short file",
      (path) => Deno.writeTextFileSync(path, "hi\n"),
      /^is not a linechat data file$/,
    ],
    ["a newer linechat's file", (path) => {
      new SqliteStore(path).close();
      withDb(path, `PRAGMA user_version = ${SCHEMA_VERSION + 1};`);
    }, /^was written by a newer chat-server \(schema \d+\)$/],
  ];
  for (const [name, make, reason] of cases) {
    await t.step(name, () => {
      using dir = tempDir();
      const path = `${dir.path}/other.db`;
      make(path);
      const before = hash(path);
      refused(() => new SqliteStore(path), reason);
      assert.equal(hash(path), before);
      assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["other.db"]);
    });
  }
});

Deno.test("SqliteStore takes a new or empty file and stamps it as linechat's", async (t) => {
  for (const [name, make] of [["new", () => {}], ["empty", Deno.writeTextFileSync]] as const) {
    await t.step(name, () => {
      using dir = tempDir();
      const path = `${dir.path}/chat.db`;
      make(path, "");
      new SqliteStore(path).close();
      const stamp = withDb(path, "", (db) => [
        db.prepare("PRAGMA application_id").get()!.application_id,
        db.prepare("PRAGMA user_version").get()!.user_version,
      ]);
      assert.deepEqual(stamp, [APPLICATION_ID, SCHEMA_VERSION]);
    });
  }
});

Deno.test("SqliteStore takes an older linechat file, stamps it and keys its names again", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  withDb(
    path,
    SCHEMA_0 + `
      INSERT INTO messages (room, kind, sender, text, ts) VALUES ('#a', 'message', 'B0b', 'old', 1);
      INSERT INTO topics VALUES ('#a', 'old topic', 'B0b', 1);
      INSERT INTO accounts VALUES ('bob', 'Bob', 'h2', 2), ('b0b', 'B0b', 'h1', 1),
        ('carol', 'Carol', 'h3', 3);
      INSERT INTO bans VALUES ('name', 'tr0ll', 100, 'short', 'op', 1),
        ('name', 'troll', NULL, 'forever', 'op', 2), ('name', 'mallory', 50, NULL, 'op', 3),
        ('ip', '10.0.0.0', NULL, NULL, 'op', 4);
    `,
  );
  // A key under which 0 and o compare equal, as a confusable skeleton would.
  const skeleton = (name: string) => name.toLowerCase().replaceAll("0", "o");
  const store = new SqliteStore(path, { nameKey: skeleton });
  assert.deepEqual(texts(store, "#a"), ["old"]);
  assert.equal(store.topics()[0].topic, "old topic");
  // Of names that now share a key, the earliest account and the longest ban stay.
  assert.deepEqual(store.account("bob"), { key: "bob", name: "B0b", hash: "h1", ts: 1 });
  assert.equal(store.account("b0b"), undefined);
  assert.equal(store.account("carol")?.hash, "h3");
  assert.deepEqual(store.bans().sort((a, b) => a.ts - b.ts), [
    { kind: "name", target: "troll", reason: "forever", by: "op", ts: 2 },
    { kind: "name", target: "mallory", until: 50, by: "op", ts: 3 },
    { kind: "ip", target: "10.0.0.0", by: "op", ts: 4 },
  ]);
  store.close();
  const stamp = withDb(path, "", (db) => [
    db.prepare("PRAGMA application_id").get()!.application_id,
    db.prepare("PRAGMA user_version").get()!.user_version,
  ]);
  assert.deepEqual(stamp, [APPLICATION_ID, SCHEMA_VERSION]);
  // Stamped: opening it again keys nothing again.
  const again = new SqliteStore(path, { nameKey: (name) => name.toUpperCase() });
  assert.equal(again.account("bob")?.name, "B0b");
  again.close();
});

Deno.test("SqliteStore keeps everything across reopening the file", () => {
  using dir = tempDir();
  const first = new SqliteStore(`${dir.path}/chat.db`);
  first.append(message("#lobby", "kept", 1));
  first.setTopic({ room: "#lobby", topic: "welcome", by: "a", ts: 2 });
  first.addBan({ kind: "name", target: "troll", by: "op", ts: 3 });
  first.setAccount({ key: "alice", name: "alice", hash: "h", ts: 4 });
  first.close();
  const second = new SqliteStore(`${dir.path}/chat.db`);
  assert.deepEqual(texts(second, "#lobby"), ["kept"]);
  assert.equal(second.topics()[0].topic, "welcome");
  assert.equal(second.bans()[0].target, "troll");
  assert.equal(second.account("alice")?.hash, "h");
  second.close();
});

Deno.test("storeErrorText() names busy, full and read-only errors in words", async (t) => {
  using dir = tempDir();
  const path = `${dir.path}/x.db`;
  withDb(path, "CREATE TABLE t (x);");
  /** The error `f` throws on a connection to `path`. */
  const thrown = (f: (db: DatabaseSync) => void, readOnly = false) => {
    const db = new DatabaseSync(path, { readOnly });
    try {
      f(db);
    } catch (err) {
      return err;
    } finally {
      db.close();
    }
    assert.fail("no error");
  };
  const cases: [string, () => unknown, string][] = [
    ["SQLITE_BUSY", () => {
      const holder = new DatabaseSync(path);
      holder.exec("BEGIN EXCLUSIVE");
      try {
        return thrown((db) => db.exec("PRAGMA busy_timeout = 10; SELECT * FROM t"));
      } finally {
        holder.close();
      }
    }, "the data file is busy"],
    ["SQLITE_FULL", () =>
      thrown((db) =>
        db.exec(`
          PRAGMA max_page_count = 3;
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
          INSERT INTO t SELECT randomblob(1000) FROM n;
        `)
      ), "the disk is full"],
    [
      "SQLITE_READONLY",
      () => thrown((db) => db.exec("INSERT INTO t VALUES (1)"), true),
      "the data file is read-only",
    ],
    [
      "as a cause",
      () =>
        new Error("outer", { cause: thrown((db) => db.exec("INSERT INTO t VALUES (1)"), true) }),
      "the data file is read-only",
    ],
    ["anything else", () => new TypeError("odd"), "odd"],
  ];
  for (const [name, make, text] of cases) {
    await t.step(name, () => assert.equal(storeErrorText(make()), text));
  }
});
