// Message routing over plain data: a memory store, a directory and fake peers, no sockets.

import assert from "node:assert/strict";
import { type ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Messages } from "../lib/server/hub/messages.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & { text?: string; from?: string; to?: unknown };

class FakePeer extends JsonPeer<Event> {}

type Fake = Client & { peer: FakePeer };

function setup(opts: { rewrite?: (text: string) => string | false; muted?: boolean } = {}) {
  const limits = { ...DEFAULT_LIMITS, maxLineBytes: 100 };
  const names = new Directory();
  const store = new MemoryStore(limits.historyLines, limits);
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const log: string[] = [];
  const messages = new Messages({
    limits,
    names,
    rooms,
    out: new Delivery(0, names.byKey),
    hidePrivateText: true,
    log: (line) => log.push(line),
    silenced: () => opts.muted ?? false,
    rewrite: (info) => opts.rewrite?.(info.text),
    notStored: () => {},
  });
  const people = ["ann", "ben", "cat"].map((name) => {
    const c = new Client(new FakePeer(), limits, 0) as Fake;
    c.name = name;
    c.mode = "json";
    names.add(c);
    rooms.enter(c, rooms.lobby);
    return c;
  });
  return { messages, people, store, log };
}

const types = (c: Fake) => c.peer.events.map((e) => e.type);

Deno.test("Messages.deliver() routes each kind of message to whom it names", async (t) => {
  const cases: [string, Parameters<Messages["deliver"]>[1], string[][]][] = [
    ["public: the room but the sender", { kind: "public" }, [[], ["message"], ["message"]]],
    ["action: the room but the sender", { kind: "action" }, [[], ["action"], ["action"]]],
    ["private: one, the sender told", { kind: "private", to: "BEN" }, [["sent"], ["private"], []]],
    ["group: each once", { kind: "group", to: ["ben", "cat", "ben"] }, [["sent"], ["group"], [
      "group",
    ]]],
    ["private to nobody: an error", { kind: "private", to: "dan" }, [["error"], [], []]],
    ["private to oneself: an error", { kind: "private", to: "ann" }, [["error"], [], []]],
  ];
  for (const [what, target, got] of cases) {
    await t.step(what, () => {
      const { messages, people } = setup();
      messages.deliver(people[0], target, "hello");
      assert.deepEqual(people.map(types), got);
    });
  }
});

Deno.test("Messages.deliver() stores public messages, keeps private text out of the log", () => {
  const { messages, people, store, log } = setup();
  messages.deliver(people[0], { kind: "public" }, "hi all");
  messages.deliver(people[0], { kind: "private", to: "ben" }, "secret plan");
  assert.equal(store.recent("#lobby", 10).length, 1);
  assert.deepEqual(log, ["message #lobby ann: hi all", "private ann -> ben (text not logged)"]);
  assert.equal(people[1].lastPmFrom, "ann");
});

Deno.test("Messages.deliver() sends nothing when muted, dropped by the hook or too long", async (t) => {
  const cases: [string, Parameters<typeof setup>[0], string][] = [
    ["muted", { muted: true }, "hello"],
    ["dropped by the hook", { rewrite: () => false }, "hello"],
    ["rewritten to nothing", { rewrite: () => "" }, "hello"],
    ["too long once encoded", {}, "\u0001".repeat(60)],
  ];
  for (const [what, opts, text] of cases) {
    await t.step(what, () => {
      const { messages, people } = setup(opts);
      messages.deliver(people[0], { kind: "public" }, text);
      assert.deepEqual(types(people[1]), []);
    });
  }
});

Deno.test("Messages.twoStep() keeps the target for the next line when there is no text", () => {
  const { messages, people } = setup();
  messages.twoStep(people[0], { kind: "private", to: "ben" }, undefined);
  assert.deepEqual(people[0].pending, { kind: "private", to: "ben" });
  assert.equal(people[0].peer.events[0].text, "type your message to ben on the next line");
  messages.twoStep(people[0], { kind: "group", to: ["ben", "cat"] }, "now");
  assert.deepEqual(types(people[1]), ["group"]);
});

Deno.test("Messages.tooLong() measures the text as sent, telling the sender", () => {
  const { messages, people } = setup();
  assert.equal(messages.tooLong(people[0], "a".repeat(100), "topic"), false);
  assert.equal(messages.tooLong(people[0], '"'.repeat(60), "topic"), true);
  assert.match(people[0].peer.events[0].text!, /^topic too long once encoded/);
});
