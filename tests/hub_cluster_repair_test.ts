// ClusterRepair over plain data: a Cluster on memory engines (one of them made to say it came
// back), this node's users in a Directory and Rooms. What a node does once Redis is back, in
// order, and the onNewEpoch hook last.

import assert from "node:assert/strict";
import type { Engine } from "../lib/server/engine/engine.ts";
import { MemoryBackend, MemoryEngine } from "../lib/server/engine/memory.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Cluster } from "../lib/server/hub/cluster.ts";
import { ClusterRepair } from "../lib/server/hub/cluster_repair.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

const OPTIONS = { nodeTimeoutMs: 10_000, historyLines: 100 };

/** Node `a`'s engine over `backend`, and a way to say Redis is back (`fresh`: empty). */
function recovering(backend: MemoryBackend): { engine: Engine; back(fresh: boolean): void } {
  const inner = new MemoryEngine({ ...OPTIONS, node: "a" }, backend);
  let listener: ((fresh: boolean, reconnected: boolean) => void) | undefined;
  const engine = new Proxy(inner, {
    get(target, key) {
      if (key === "onRecover") return (l: typeof listener) => listener = l;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Engine;
  return { engine, back: (fresh) => listener!(fresh, true) };
}

/** Node a's side: a cluster, its users alice (#lobby, #dev) and bob (#lobby), and a repair. */
function nodeA(backend: MemoryBackend, historyLines = 100) {
  const { engine, back } = recovering(backend);
  const log: string[] = [];
  const cluster = new Cluster(engine, OPTIONS.nodeTimeoutMs, (l) => log.push(l));
  const names = new Directory();
  const rooms = new Rooms(
    new MemoryStore(100, DEFAULT_LIMITS),
    DEFAULT_LIMITS,
    () => {},
    () => {},
  );
  const settled: string[] = [];
  const delivered: string[] = [];
  const users = ["alice", "bob"].map((name) => {
    const c = new Client(new JsonPeer(), DEFAULT_LIMITS, 0);
    c.name = name;
    names.add(c);
    rooms.enter(c, rooms.lobby);
    return c;
  });
  rooms.enter(users[0], rooms.open("#dev")!);
  const repair = new ClusterRepair({
    cluster,
    names,
    rooms,
    naming: {
      settled: (client, name, why) => {
        settled.push(`${client.name} -> ${name}: ${why}`);
        names.rename(client, name);
      },
      replay: () => {},
    },
    historyLines,
    nodeTimeoutMs: OPTIONS.nodeTimeoutMs,
    deliver: (key, id, event) => delivered.push(`${key} ${id} ${event.text}`),
    readHistory: (room) => log.push(`history ${room.name}`),
    forget: (room) => log.push(`forget ${room.name}`),
    bye: (client, why) => log.push(`bye ${client.name}: ${why}`),
    log: (l) => log.push(l),
  });
  return { cluster, engine, back, log, settled, delivered, rooms, repair };
}

/** Waits (bounded) until `check` holds; the repair runs over promises. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert(check(), "in time");
}

Deno.test("ClusterRepair: back after a new epoch, forgets history, rebuilds, then onNewEpoch", async () => {
  const backend = new MemoryBackend();
  const a = nodeA(backend);
  const b = new MemoryEngine({ ...OPTIONS, node: "b" }, backend);
  try {
    a.rooms.lobby.lastId = "7";
    a.cluster.onNewEpoch(() => a.log.push("new epoch hook"));
    a.back(true);
    await until(() => a.log.includes("new epoch hook"));
    const order = a.log.filter((l) => /forget|registered|new epoch/.test(l));
    assert.match(order[0], /^engine: Redis lost its data \(new epoch\); /);
    assert.deepEqual(order.slice(1), [
      "forget #lobby",
      "forget #dev",
      "engine: registered again: 2 users, 3 in rooms",
      "new epoch hook",
    ]);
    assert.equal(a.rooms.lobby.lastId, undefined, "ids of the old epoch forgotten");
    const present = (await b.present()).map((p) => `${p.room} ${p.name} ${p.node}`).sort();
    assert.deepEqual(present, ["#dev alice a", "#lobby alice a", "#lobby bob a"]);
    assert.deepEqual((await b.names()).map((h) => h.name).sort(), ["alice", "bob"]);
  } finally {
    a.repair.close();
    a.cluster.close();
    await a.engine.close();
    await b.close();
  }
});

Deno.test("ClusterRepair: a name another node took is settled; missed lines are delivered", async () => {
  const backend = new MemoryBackend();
  const a = nodeA(backend);
  const b = new MemoryEngine({ ...OPTIONS, node: "b" }, backend);
  try {
    // While a was away: b took bob, and a line was said in #dev after the last a delivered.
    const event = { kind: "message" as const, from: "carol", ts: 1, node: "b" };
    a.rooms.get("#dev")!.lastId = await b.publish("#dev", { ...event, text: "seen" });
    await b.publish("#dev", { ...event, text: "missed" });
    assert.equal(await b.claimName("bob", "bob"), true);
    a.back(false);
    await until(() => a.log.some((l) => l.startsWith("engine: registered again")));
    assert.deepEqual(a.settled, [
      "bob -> guest-1: the name bob was taken on another node while this one was cut off",
    ]);
    await until(() => a.delivered.length > 0);
    assert.deepEqual(a.delivered, ["#dev 2 missed"]);
    assert.equal(a.log.some((l) => /new epoch/.test(l)), false);
    const held = (await b.names()).map((h) => `${h.name} ${h.node}`).sort();
    assert.deepEqual(held, ["alice a", "bob b", "guest-1 a"]);
  } finally {
    a.repair.close();
    a.cluster.close();
    await a.engine.close();
    await b.close();
  }
});

Deno.test("ClusterRepair: a catch-up reads the stream page by page, to its end", async () => {
  const backend = new MemoryBackend();
  const a = nodeA(backend, 2);
  const b = new MemoryEngine({ ...OPTIONS, node: "b" }, backend);
  try {
    const event = { kind: "message" as const, from: "carol", ts: 1, node: "b" };
    a.rooms.lobby.lastId = await b.publish("#lobby", { ...event, text: "seen" });
    for (let i = 0; i < 5; i++) await b.publish("#lobby", { ...event, text: `m${i}` });
    a.back(false);
    await until(() => a.delivered.length === 5);
    assert.deepEqual(a.delivered.map((d) => d.split(" ")[2]), ["m0", "m1", "m2", "m3", "m4"]);
  } finally {
    a.repair.close();
    a.cluster.close();
    await a.engine.close();
    await b.close();
  }
});

Deno.test("ClusterRepair: a room whose history could not be read reads it instead", async () => {
  const backend = new MemoryBackend();
  const a = nodeA(backend);
  const b = new MemoryEngine({ ...OPTIONS, node: "b" }, backend);
  try {
    const event = { kind: "message" as const, from: "carol", ts: 1, node: "b" };
    await b.publish("#dev", { ...event, text: "old" });
    a.rooms.get("#dev")!.historyUnread = true;
    a.back(false);
    await until(() => a.log.some((l) => l.startsWith("engine: registered again")));
    assert(a.log.includes("history #dev"), a.log.join("\n"));
    assert.deepEqual(a.delivered, [], "not delivered as new lines");
  } finally {
    a.repair.close();
    a.cluster.close();
    await a.engine.close();
    await b.close();
  }
});
