// Rooms over plain data: a memory store and clients with fake peers, no sockets.

import assert from "node:assert/strict";
import { Client, type Peer } from "../lib/server/hub.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { Outgoing } from "../lib/protocol/events.ts";
import { DEFAULT_LIMITS, type Limits } from "../lib/server/limits.ts";
import { MemoryStore } from "../lib/server/store.ts";

const peer: Peer = { address: "192.0.2.1:5000", write() {}, close() {} };

function named(name: string): Client {
  const c = new Client(peer, DEFAULT_LIMITS, 0);
  c.name = name;
  return c;
}

function setup(limits: Partial<Limits> = {}) {
  const all = { ...DEFAULT_LIMITS, ...limits };
  const store = new MemoryStore(all.historyLines, all);
  const failures: string[] = [];
  let emptied = 0;
  const rooms = new Rooms(store, all, (what) => failures.push(what), () => emptied++);
  return { rooms, store, failures, emptied: () => emptied };
}

const texts = (r: { lines: { event: unknown }[] }) =>
  r.lines.map((o) => (o.event as { text: string }).text);

Deno.test("Rooms.open() finds a room by its name key, makes it with its stored topic", () => {
  const { rooms, store } = setup();
  store.setTopic({ room: "#dev", topic: "builds", by: "ann", ts: 1 });
  const dev = rooms.open("#Dev")!;
  assert.equal(rooms.open("#DEV"), dev);
  assert.equal(rooms.get("#dev"), dev);
  assert.deepEqual(dev.topic, { text: "builds", by: "ann" });
  assert.equal(rooms.lobby.name, "#lobby");
});

Deno.test("Rooms.open() refuses a room past maxRooms", () => {
  const { rooms } = setup({ maxRooms: 2 });
  assert.ok(rooms.open("#a"));
  assert.equal(rooms.open("#b"), undefined);
  assert.ok(rooms.open("#lobby"));
});

Deno.test("Rooms.sorted() puts #lobby first, then by name", () => {
  const { rooms } = setup();
  for (const n of ["#zed", "#abc", "#mid"]) rooms.open(n);
  assert.deepEqual(rooms.sorted().map((r) => r.name), ["#lobby", "#abc", "#mid", "#zed"]);
});

Deno.test("Rooms.leave() forgets an empty room but never #lobby, and notes what was seen", () => {
  const { rooms, store, emptied } = setup();
  const ann = named("ann");
  const dev = rooms.open("#dev")!;
  rooms.enter(ann, dev);
  assert.equal(ann.room, dev);
  rooms.say(dev, "message", "ann", "hi", 50);
  rooms.leave(ann, dev);
  assert.equal(ann.room, undefined);
  assert.equal(ann.seen.get("#dev"), 50);
  assert.equal(rooms.get("#dev"), undefined);
  assert.equal(emptied(), 1);
  assert.deepEqual(store.recent("#dev", 10), []);
  rooms.enter(ann, rooms.lobby);
  rooms.leave(ann, rooms.lobby);
  assert.equal(rooms.get("#lobby"), rooms.lobby);
  assert.equal(emptied(), 1);
});

Deno.test("Rooms.enter(), use() and leave(): several rooms, the active one falls back to the last used", () => {
  const { rooms } = setup();
  const ann = named("ann");
  const dev = rooms.open("#dev")!;
  const ops = rooms.open("#ops")!;
  for (const r of [rooms.lobby, dev, ops]) rooms.enter(ann, r);
  assert.equal(ann.room, ops);
  assert.deepEqual(ann.rooms, [rooms.lobby, dev, ops]);
  rooms.use(ann, rooms.lobby); // spoke there without switching
  assert.equal(ann.room, ops);
  assert.equal(rooms.of(ann, "#DEV"), dev);
  assert.equal(rooms.of(ann, "#nowhere"), undefined);
  rooms.use(ann, dev, true);
  assert.equal(ann.room, dev);
  rooms.leave(ann, dev);
  assert.equal(ann.room, rooms.lobby, "used after #ops");
  assert.ok(!dev.members.has(ann));
  rooms.leave(ann, ops);
  assert.equal(ann.room, rooms.lobby, "parting another room keeps the active one");
  rooms.leave(ann, rooms.lobby);
  assert.equal(ann.room, undefined);
  assert.deepEqual(ann.rooms, []);
});

Deno.test("Rooms.leave() keeps at most maxRooms seen marks per client", () => {
  const { rooms } = setup({ maxRooms: 3 });
  const ann = named("ann");
  for (let i = 0; i < 5; i++) {
    const room = rooms.open(`#r${i}`)!;
    rooms.enter(ann, room);
    rooms.say(room, "message", "ann", "x", 10 + i);
    rooms.leave(ann, room);
  }
  assert.deepEqual([...ann.seen.keys()], ["#r2", "#r3", "#r4"]);
});

Deno.test("Rooms.say() orders messages by ts even when the clock stands still", () => {
  const { rooms, store } = setup();
  const ts = [1, 2, 3].map((n) => rooms.say(rooms.lobby, "message", "ann", `m${n}`, 100));
  assert.deepEqual(ts, [100, 101, 102]);
  assert.deepEqual(store.recent("#lobby", 10).map((m) => m.ts), ts);
});

Deno.test("Rooms.replay() shares the encoded lines and keeps them up to date", () => {
  const { rooms } = setup({ historyLines: 2 });
  const ann = named("ann");
  rooms.say(rooms.lobby, "message", "ben", "one", 1);
  assert.deepEqual(texts(rooms.replay(ann, rooms.lobby, 1e6)), ["one"]);
  const shared = rooms.lobby.replay;
  rooms.say(rooms.lobby, "action", "ben", "two", 2);
  rooms.say(rooms.lobby, "message", "ben", "three", 3);
  assert.equal(rooms.lobby.replay, shared);
  assert.deepEqual(texts(rooms.replay(named("cat"), rooms.lobby, 1e6)), ["two", "three"]);
});

Deno.test("Rooms.replay() picks the lines a newcomer has not seen and that fit", async (t) => {
  const cases: {
    what: string;
    seen?: number;
    ignored?: string[];
    /** In lines. */
    budget: number;
    shown: string[];
    omitted: number;
  }[] = [
    { what: "everything", budget: 99, shown: ["a1", "b2", "a3", "b4"], omitted: 0 },
    { what: "after what it saw", seen: 2, budget: 99, shown: ["a3", "b4"], omitted: 0 },
    { what: "without the ignored", ignored: ["ann"], budget: 99, shown: ["b2", "b4"], omitted: 0 },
    { what: "the newest that fit", budget: 2.5, shown: ["a3", "b4"], omitted: 2 },
    {
      what: "ignored lines cost nothing",
      ignored: ["ann"],
      budget: 2.5,
      shown: ["b2", "b4"],
      omitted: 0,
    },
    { what: "nothing fits", budget: 0, shown: [], omitted: 4 },
  ];
  for (const c of cases) {
    await t.step(c.what, () => {
      const { rooms } = setup();
      ["a1", "b2", "a3", "b4"].forEach((text, i) =>
        rooms.say(rooms.lobby, "message", text[0] === "a" ? "ann" : "ben", text, i + 1)
      );
      const cat = named("cat");
      if (c.seen !== undefined) cat.seen.set("#lobby", c.seen);
      if (c.ignored) cat.ignored = new Set(c.ignored);
      // Every line here encodes to the same size: the budget counts lines.
      const line = new Outgoing({
        type: "message",
        ts: 1,
        from: "ann",
        room: "#lobby",
        text: "a1",
        history: true,
      });
      const replay = rooms.replay(cat, rooms.lobby, c.budget * line.bytes("text").length);
      assert.deepEqual(texts(replay), c.shown);
      assert.equal(replay.omitted, c.omitted);
      assert.equal(cat.seen.has("#lobby"), false);
    });
  }
});

Deno.test("Rooms.setTopic() and purge() change the store and the room together", async (t) => {
  for (const what of ["history", "topic", "all"] as const) {
    await t.step(what, () => {
      const { rooms, store } = setup();
      const lobby = rooms.lobby;
      rooms.setTopic(lobby, "hello", "ann", 1);
      rooms.say(lobby, "message", "ann", "x", 2);
      rooms.replay(named("ben"), lobby, 1e6);
      const { room, hadTopic } = rooms.purge("#lobby", what);
      assert.equal(room, lobby);
      assert.equal(hadTopic, true);
      assert.equal(store.recent("#lobby", 10).length, what === "topic" ? 1 : 0);
      assert.equal(lobby.replay === undefined, what !== "topic");
      assert.equal(lobby.topic === undefined, what !== "history");
      assert.equal(store.topic("#lobby") === undefined, what !== "history");
    });
  }
  await t.step("a topic removed", () => {
    const { rooms, store } = setup();
    rooms.setTopic(rooms.lobby, "hello", "ann", 1);
    rooms.setTopic(rooms.lobby, undefined, "ann", 2);
    assert.equal(rooms.lobby.topic, undefined);
    assert.equal(store.topic("#lobby"), undefined);
  });
});

Deno.test("Rooms.open() logs a store that fails reading a topic and opens the room anyway", () => {
  const { rooms, store, failures } = setup();
  store.topic = () => {
    throw new Error("disk");
  };
  assert.ok(rooms.open("#dev"));
  assert.deepEqual(failures, ["reading the topic of #dev"]);
});

Deno.test("Rooms.prune() drops stored history past its retention; a store failure is logged", () => {
  const { rooms, store, failures } = setup({ retainMs: 1000 });
  const dev = rooms.open("#dev")!;
  rooms.say(dev, "message", "ann", "old", 1);
  rooms.say(dev, "message", "ann", "new", 5000);
  rooms.prune(5500);
  assert.deepEqual(store.recent("#dev", 10).map((m) => m.text), ["new"]);
  store.prune = () => {
    throw new Error("disk");
  };
  rooms.prune(6000);
  assert.deepEqual(failures, ["pruning history"]);
});
