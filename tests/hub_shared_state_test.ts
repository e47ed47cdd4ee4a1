// Topics and the motd kept in a shared engine, over plain data: two memory engines on one
// backend stand for two nodes on one Redis; the hub's rooms and delivery are the real ones,
// with fake peers. What is read back from the engine is checked as a stranger's bytes.

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { MemoryBackend, MemoryEngine } from "../lib/server/engine/memory.ts";
import {
  MAX_MOTD_LINES,
  MAX_SHARED_CHARS,
  parseMotd,
  parseTopic,
} from "../lib/server/engine/room_state.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { SharedState } from "../lib/server/hub/shared_state.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Fake = Client & { peer: JsonPeer<ServerEvent> };

function setup(motd?: string[]) {
  const limits = DEFAULT_LIMITS;
  const backend = new MemoryBackend();
  const options = { nodeTimeoutMs: 10_000, historyLines: 10 };
  const here = new MemoryEngine({ ...options, node: "here" }, backend);
  const there = new MemoryEngine({ ...options, node: "there" }, backend);
  const names = new Directory();
  const rooms = new Rooms(new MemoryStore(10, limits), limits, () => {}, () => {});
  const out = new Delivery(0, names.byKey);
  const log: string[] = [];
  const holder = { motd };
  const shared = new SharedState(here, {
    limits,
    rooms,
    out,
    log: (line) => log.push(line),
    storeFailed: (what) => log.push(`store failed ${what}`),
    motd: holder,
  });
  const join = (name: string, room = rooms.lobby): Fake => {
    const c = new Client(new JsonPeer(), limits, 0) as Fake;
    c.mode = "json";
    c.name = name;
    names.add(c);
    rooms.enter(c, room);
    return c;
  };
  return { backend, here, there, rooms, shared, log, holder, join };
}

const change = (text: string | undefined, by = "bo") => ({
  room: "#Dev",
  ...(text === undefined ? {} : { text }),
  by,
  ts: 5,
  node: "there",
});

Deno.test("parseTopic() and parseMotd() take only linechat's shapes, within bounds", async (t) => {
  const topics: [string, boolean][] = [
    [JSON.stringify(change("news")), true],
    [JSON.stringify(change(undefined)), true],
    ["not json", false],
    ["null", false],
    ["[]", false],
    [JSON.stringify({ ...change("x"), text: 5 }), false],
    [JSON.stringify({ ...change("x"), by: null }), false],
    [JSON.stringify({ ...change("x"), ts: "5" }), false],
    [JSON.stringify(change("x".repeat(MAX_SHARED_CHARS))), false],
  ];
  for (const [text, ok] of topics) {
    await t.step(`parseTopic(${text.slice(0, 40)})`, () => {
      assert.equal(parseTopic(text) !== undefined, ok);
    });
  }
  const motd = (lines: unknown) => JSON.stringify({ lines, by: "al", ts: 1, node: "a" });
  const motds: [string, boolean][] = [
    [motd(["hello", "all"]), true],
    [motd([]), true],
    [motd("hello"), false],
    [motd([1]), false],
    [motd(Array(MAX_MOTD_LINES + 1).fill("x")), false],
    ["{", false],
  ];
  for (const [text, ok] of motds) {
    await t.step(`parseMotd(${text.slice(0, 40)})`, () => {
      assert.equal(parseMotd(text) !== undefined, ok);
    });
  }
  await t.step("parseTopic() keeps no field it does not know", () => {
    assert.deepEqual(parseTopic(JSON.stringify({ ...change("x"), extra: "y" })), change("x"));
  });
});

Deno.test("SharedState applies a topic change from any node to the room's members here", async () => {
  const { there, rooms, log, join } = setup();
  const dev = rooms.open("#dev")!;
  const ann = join("ann", dev);
  await there.setTopic("#dev", change("ship \x1b[2Jfriday"));
  assert.deepEqual(dev.topic, { text: "ship friday", by: "bo" });
  const topic = ann.peer.events.at(-1)!;
  assert.equal(topic.type, "topic");
  assert.deepEqual(
    { ...topic },
    { type: "topic", ts: 5, room: "#dev", topic: "ship friday", by: "bo", changed: true },
  );
  await there.setTopic("#dev", change(undefined));
  assert.equal(dev.topic, undefined);
  assert.equal(ann.peer.events.length, 2);
  // Too long once encoded, or no visible text: skipped and logged, the topic stays.
  await there.setTopic("#dev", change("x".repeat(DEFAULT_LIMITS.maxLineBytes)));
  await there.setTopic("#dev", change("\u200b"));
  assert.equal(dev.topic, undefined);
  assert.equal(ann.peer.events.length, 2);
  assert.deepEqual(log, [
    "engine: a topic from node there was skipped",
    "engine: a topic from node there was skipped",
  ]);
  // A room not made on this node is left alone (read when it is made).
  await there.setTopic("#elsewhere", change("x"));
  assert.equal(rooms.get("#elsewhere"), undefined);
});

Deno.test("SharedState.read() gives a room made here its kept topic, unless a change came first", async () => {
  const { there, rooms, shared, join } = setup();
  await there.setTopic("#dev", change("kept"));
  const dev = rooms.open("#dev")!;
  const ann = join("ann", dev);
  shared.read(dev);
  await Promise.resolve();
  assert.deepEqual(dev.topic, { text: "kept", by: "bo" });
  assert.equal(ann.peer.events.at(-1)?.type, "topic");
  assert.equal((ann.peer.events.at(-1) as { changed: boolean }).changed, false);
  // A read that comes back after a live change is older than it: ignored.
  const ops = rooms.open("#ops")!;
  await there.setTopic("#ops", change("old"));
  shared.read(ops);
  await there.setTopic("#ops", change(undefined));
  await Promise.resolve();
  assert.equal(ops.topic, undefined);
});

Deno.test("SharedState.reseed() writes this node's topics and motd back where the engine lost them", async () => {
  const { backend, here, there, rooms, shared } = setup(["welcome"]);
  await shared.start();
  const dev = rooms.open("#dev")!;
  const ops = rooms.open("#ops")!;
  await there.setTopic("#dev", change("dev topic"));
  await there.setTopic("#ops", change("ops topic"));
  assert.deepEqual(await there.motd(), {
    lines: ["welcome"],
    by: "the server",
    ts: (await there.motd())!.ts,
    node: "here",
  });
  // Redis restarted empty; another node set #ops's topic again before this one reseeds.
  backend.topics.clear();
  backend.motd = undefined;
  await there.setTopic("#ops", change("newer"));
  await shared.reseed();
  assert.equal((await here.topic("#dev"))?.text, "dev topic");
  assert.equal((await here.topic("#ops"))?.text, "newer");
  assert.deepEqual((await there.motd())?.lines, ["welcome"]);
  assert.equal(dev.topic?.text, "dev topic");
  assert.equal(ops.topic?.text, "newer");
});

Deno.test("SharedState.start() shares this node's motd, or takes the cluster's", async () => {
  const first = setup(["from file"]);
  await first.shared.start();
  assert.deepEqual((await first.there.motd())?.lines, ["from file"]);
  const second = setup();
  await second.there.setMotd({ lines: ["theirs \x1b[31m"], by: "al", ts: 1, node: "there" });
  assert.deepEqual(second.holder.motd, ["theirs "], "a change is shown here at once");
  second.holder.motd = undefined;
  await second.shared.start();
  assert.deepEqual(second.holder.motd, ["theirs "], "read at the start");
});

Deno.test("SharedState holds a topic change while the room's history is read, in its place", async () => {
  const { there, rooms, join } = setup();
  const dev = rooms.open("#dev")!;
  const ann = join("ann", dev);
  dev.catchUp = { buffered: [], waiting: [] };
  dev.catchUp.buffered.push({
    id: "1",
    event: { kind: "message", from: "bo", text: "before", ts: 1, node: "there" },
  });
  await there.setTopic("#dev", change("held"));
  assert.equal(dev.topic, undefined);
  assert.equal(ann.peer.events.length, 0);
  assert.deepEqual(dev.catchUp.held?.map((h) => h.at), [1], "after the one message before it");
  dev.catchUp.held![0].run();
  assert.deepEqual(rooms.get("#dev")?.topic, { text: "held", by: "bo" });
  assert.equal(ann.peer.events.at(-1)?.type, "topic");
});

Deno.test("SharedState.setTopic() keeps the topic here at once, before the change comes back", async () => {
  const { here, rooms, shared } = setup();
  const dev = rooms.open("#dev")!;
  // No listener hands the change back here: what the setter's node keeps is its own doing.
  await here.close();
  await shared.setTopic(dev, "mine", "ann", 1);
  assert.deepEqual(dev.topic, { text: "mine", by: "ann" });
});

Deno.test("SharedState.start() keeps a motd too long to share this node's, and says so", async () => {
  const { there, shared, log, holder } = setup(Array(MAX_MOTD_LINES + 1).fill("line"));
  await shared.start();
  assert.equal(await there.motd(), undefined);
  assert.equal(holder.motd?.length, MAX_MOTD_LINES + 1);
  assert.deepEqual(log, [
    `engine: the motd is too long to share (at most ${MAX_MOTD_LINES} lines); it stays this node's`,
  ]);
});
