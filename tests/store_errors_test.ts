// Store errors (issue 10, part 3): whatever a request touches in the store, a failure there
// (the data file busy, the disk full) is a reply to whoever asked and a log line, never an
// exception out of the hub. The hub runs over plain data here, with a store that fails on
// demand the way node:sqlite does.

import assert from "node:assert/strict";
import { Hub, type Peer } from "../lib/server/hub.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { isStoreError, MemoryStore, storeErrorText } from "../lib/server/store.ts";

/** A node:sqlite-shaped "database is locked" error. */
function busy(): Error {
  return Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode: 5 });
}

/** A store in memory whose every method throws while `failing` is set. */
function failingStore(): { store: MemoryStore; fail(on: boolean): void } {
  const store = new MemoryStore(50);
  let failing = false;
  const proto = MemoryStore.prototype as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(MemoryStore.prototype)) {
    const method = proto[name];
    if (name === "constructor" || typeof method !== "function") continue;
    Object.defineProperty(store, name, {
      value: (...args: unknown[]) => {
        if (failing && name !== "close") throw busy();
        return (method as (...a: unknown[]) => unknown).apply(store, args);
      },
    });
  }
  Object.defineProperty(store, "persistent", { value: true });
  return { store, fail: (on) => void (failing = on) };
}

/** A connection as the hub sees it: collects what it is sent, as text lines. */
class TextPeer implements Peer {
  readonly lines: string[] = [];
  constructor(readonly address: string) {}
  write(bytes: Uint8Array): void {
    this.lines.push(...new TextDecoder().decode(bytes).split("\r\n").filter((l) => l !== ""));
  }
  close(): void {}
  /** Lines received since the last call. */
  take(): string[] {
    return this.lines.splice(0);
  }
}

Deno.test("isStoreError() and storeErrorText() know a SQLite busy error", () => {
  assert.ok(isStoreError(busy()));
  assert.ok(isStoreError(new Error("wrapped", { cause: busy() })));
  assert.ok(!isStoreError(new TypeError("a bug")));
  assert.equal(storeErrorText(busy()), "the data file is busy");
});

Deno.test("Hub: a store error in any request is a reply and a log line, never a throw", async (t) => {
  const { store, fail } = failingStore();
  const log: string[] = [];
  const hub = new Hub({
    limits: { ...DEFAULT_LIMITS, ratePerSecond: 0 },
    version: "test",
    store,
    log: (l) => log.push(l),
    opPassword: "op",
  });
  try {
    const op = new TextPeer("127.0.0.1:1000");
    const opClient = hub.connect(op);
    hub.input(opClient, "chief");
    hub.input(opClient, "/op op");
    const user = new TextPeer("127.0.0.1:1001");
    const userClient = hub.connect(user);
    hub.input(userClient, "user");
    op.take();
    user.take();
    fail(true);
    const cases: [string, TextPeer, typeof opClient, RegExp][] = [
      ["hello", user, userClient, /^! the server could not store that \(the data file is busy\)/],
      ["/topic new", user, userClient, /^! the server could not store that/],
      ["/register secret", user, userClient, /^! .*the data file is busy/],
      [
        "/unregister",
        user,
        userClient,
        /^! the server could not do that line: the data file is busy/,
      ],
      ["/join #fresh", user, userClient, /./],
      ["/nick someone", user, userClient, /^! the server could not do that line/],
      ["/ban 10.0.0.1", op, opClient, /^! .*could not be stored/],
      ["/mute user", op, opClient, /^! .*could not be stored/],
      ["/purge #lobby", op, opClient, /^! #lobby could not be purged/],
    ];
    for (const [line, peer, client, reply] of cases) {
      await t.step(line, async () => {
        hub.input(client, line);
        // /register hashes first, then stores: wait for its answer (bounded).
        const deadline = Date.now() + 5000;
        while (!peer.lines.some((l) => reply.test(l)) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
        const got = peer.take();
        assert.ok(got.some((l) => reply.test(l)), `${line}: ${got.join(" | ")}`);
      });
    }
    await t.step("the console: a log line", () => {
      assert.equal(hub.console("/unban 10.0.0.9"), undefined);
      assert.ok(log.some((l) => l.startsWith("console:")), log.slice(-3).join("\n"));
    });
    await t.step("everything logged as a store failure, and the hub still works after", () => {
      assert.ok(log.some((l) => l.includes("store failed")), log.join("\n"));
      fail(false);
      hub.input(userClient, "/leave"); // #fresh was made (without its topic) and joined
      hub.input(userClient, "back to normal");
      assert.ok(op.take().some((l) => l.endsWith("back to normal")));
    });
  } finally {
    hub.shutdown();
  }
});
